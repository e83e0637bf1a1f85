/** The exit gate: the one class the exit guard puts on the bootstrap class path, so java.lang.Runtime can call it. */
package deployer.guard.boot;
