/** The composition root: reads the settings, wires the parts and runs the server. */
package deployer;
