package deployer.cell;

import deployer.spi.ModelContext;
import java.lang.System.Logger;
import java.nio.file.Path;
import java.util.Map;

/** What a model learns about its cell at {@code load}. */
record CellContext(String name, int version, Path directory, Map<String, String> properties, Logger logger)
        implements ModelContext {

    static CellContext of(String name, int version, Path directory, Map<String, String> properties) {
        return new CellContext(name, version, directory, Map.copyOf(properties),
                System.getLogger("deployer.cell." + name + ".v" + version));
    }

    /** The same, with the logger that names the model and keeps its lines ({@link ModelLogs}). */
    static CellContext of(String name, int version, Path directory, Map<String, String> properties, Logger logger) {
        return new CellContext(name, version, directory, Map.copyOf(properties), logger);
    }
}
