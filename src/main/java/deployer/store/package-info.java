/** Plain JDBC over a pooled H2 database: models, deployments and the audit log, with schema migrations. */
package deployer.store;
