/** Serving cells: a model version loaded in its own class loader, started, pinged, swapped and stopped. */
package deployer.cell;
