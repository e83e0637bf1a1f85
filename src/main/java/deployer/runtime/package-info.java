/** The no-code runtimes (DESIGN 1.9) as the server sees them: which class serves a package, and the jars it needs. */
package deployer.runtime;
