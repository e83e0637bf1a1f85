package deployer.cell;

import java.io.IOException;
import java.net.URL;
import java.util.Collections;
import java.util.Enumeration;

/**
 * The parent of every cell's class loader: it shows the JDK and {@code deployer.spi} and nothing else, so a model
 * cannot see Jetty, Jackson, H2 or the server's own classes, and may carry its own version of any of them.
 */
final class SpiOnlyLoader extends ClassLoader {

    private static final String SPI_PACKAGE = "deployer.spi.";

    private final ClassLoader server;

    SpiOnlyLoader(ClassLoader server) {
        super("deployer-spi", ClassLoader.getPlatformClassLoader());
        this.server = server;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        // (1) The SPI comes from the server's own loader, so a cell's Model is the very type the server calls.
        if (name.startsWith(SPI_PACKAGE)) {
            return server.loadClass(name);
        }
        // (2) Everything else the JDK has, through the platform loader; anything past that is not found here.
        return super.loadClass(name, resolve);
    }

    @Override
    public URL getResource(String name) {
        // Resources of the server (logback.xml, META-INF/services of Jetty …) must not leak into cells either.
        return getPlatformClassLoader().getResource(name);
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
        Enumeration<URL> platform = getPlatformClassLoader().getResources(name);
        return platform == null ? Collections.emptyEnumeration() : platform;
    }
}
