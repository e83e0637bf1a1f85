/** Receiving a package: streaming the upload, unpacking it safely, validating deploy.json, compiling its scripts. */
package deployer.pack;
