/** The client commands of the {@code deployer} command line: templates, packing, and the management API. */
package deployer.cli;
