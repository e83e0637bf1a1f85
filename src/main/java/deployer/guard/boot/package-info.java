/**
 * The exit gate: the one class the exit guard defines in the bootstrap loader (renamed into {@code java.lang}), so
 * {@code java.lang.Runtime} can call it.
 */
package deployer.guard.boot;
