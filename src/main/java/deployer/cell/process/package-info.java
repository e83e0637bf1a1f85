/** Cells of {@code "isolation": "process"} models: a child JVM per cell, launched, proxied to and watched by the server. */
package deployer.cell.process;
