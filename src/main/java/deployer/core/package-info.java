/**
 * The kernel every floor may use: settings, the typed error, JSON, file trees, crash points, the batched log
 * appender and the bind-address check. It imports no other deployer package.
 */
package deployer.core;
