/** The HTTP side: Jetty, the management API, the gateway to cells, each cell's own port, and the error mapping. */
package deployer.http;
