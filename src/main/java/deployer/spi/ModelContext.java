package deployer.spi;

import java.lang.System.Logger;
import java.nio.file.Path;
import java.util.Map;

/** What the server tells a {@link Model} about the cell it runs in, at {@link Model#load}. */
public interface ModelContext {

    /**
     * @return the model's name as in the manifest, e.g. {@code iris}
     */
    String name();

    /**
     * @return the version number the server gave this upload: 1, 2, 3 … per model
     */
    int version();

    /**
     * @return the folder holding this version's unpacked package ({@code deploy.json}, {@code model/…}, …); read
     *     artefacts relative to it, never relative to the working directory
     */
    Path directory();

    /**
     * @return the manifest's {@code properties}, unmodifiable; empty when the manifest has none
     */
    Map<String, String> properties();

    /**
     * @return a logger named after the cell ({@code deployer.cell.iris.v1}); its lines go to the server's log
     */
    Logger logger();
}
