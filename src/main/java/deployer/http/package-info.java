/**
 * The HTTP side: Jetty, the management API, the gateway to cells, each cell's own port, the error mapping,
 * and the browser admin page with its login sessions.
 */
package deployer.http;
