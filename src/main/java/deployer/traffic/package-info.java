/** Traffic between a model's versions: weighted splits, pins, shadow scoring and the sampled payload records. */
package deployer.traffic;
