package deployer.cell;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;

/**
 * The class loader of one cell: the package's compiled scripts and jars, over a parent that shows only the JDK and
 * the SPI ({@link SpiOnlyLoader}). Parent first: a package that bundles its own copy of {@code deployer.spi} still
 * gets the server's, so its {@code Model} is the type the server calls.
 *
 * <p>A no-code runtime's classes ({@code deployer.runtime.onnx.*}, see {@link deployer.runtime.Runtimes}) are
 * defined by this loader from the server's class files, so they link against the libraries this cell sees.
 */
final class CellClassLoader extends URLClassLoader {

    static {
        ClassLoader.registerAsParallelCapable();
    }

    private final String cell;
    private final String ownPackage;
    private final ClassLoader server;

    CellClassLoader(String cell, URL[] urls, ClassLoader parent) {
        this(cell, urls, parent, null, null);
    }

    /**
     * @param ownPackage a package prefix ({@code deployer.runtime.onnx.}) whose classes this loader defines from
     *     {@code server}'s class files; null for none
     */
    CellClassLoader(String cell, URL[] urls, ClassLoader parent, String ownPackage, ClassLoader server) {
        super("cell-" + cell, urls, parent);
        this.cell = cell;
        this.ownPackage = ownPackage;
        this.server = server;
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        // (1) The parent (JDK and SPI) was asked first, by loadClass, and did not have it.
        // (2) A runtime's class: its bytes from the server's jar, defined here, so that it resolves ai.onnxruntime
        //     (and everything else) through this cell's class path and is unloaded with this cell.
        if (ownPackage != null && name.startsWith(ownPackage)) {
            try (InputStream in = server.getResourceAsStream(name.replace('.', '/') + ".class")) {
                if (in == null) {
                    throw new ClassNotFoundException(name);
                }
                byte[] bytes = in.readAllBytes();
                return defineClass(name, bytes, 0, bytes.length);
            } catch (IOException e) {
                throw new ClassNotFoundException(name, e);
            }
        }
        // (3) Everything else from the package's scripts and jars.
        return super.findClass(name);
    }

    @Override
    public String toString() {
        return "CellClassLoader[" + cell + "]";
    }
}
