package deployer.cell;

import java.net.URL;
import java.net.URLClassLoader;

/**
 * The class loader of one cell: the package's compiled scripts and jars, over a parent that shows only the JDK and
 * the SPI ({@link SpiOnlyLoader}). Parent first: a package that bundles its own copy of {@code deployer.spi} still
 * gets the server's, so its {@code Model} is the type the server calls.
 */
final class CellClassLoader extends URLClassLoader {

    static {
        ClassLoader.registerAsParallelCapable();
    }

    private final String cell;

    CellClassLoader(String cell, URL[] urls, ClassLoader parent) {
        super("cell-" + cell, urls, parent);
        this.cell = cell;
    }

    @Override
    public String toString() {
        return "CellClassLoader[" + cell + "]";
    }
}
