/**
 * The model-facing contract: what a serving script implements and what the server hands it; imports {@code java.*} only.
 */
package deployer.spi;
