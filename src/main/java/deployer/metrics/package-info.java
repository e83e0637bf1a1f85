/** Metrics in Prometheus format and the per-model request statistics the admin page draws. */
package deployer.metrics;
