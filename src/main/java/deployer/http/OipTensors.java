package deployer.http;

import deployer.Json;
import deployer.pack.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the Open Inference Protocol needs to know about a model beyond its manifest: the header that tells a model a
 * request carries the protocol's tensors, and the graph's real inputs and outputs for the metadata of a no-code
 * model (written by the runtime when it loads the graph).
 */
final class OipTensors {

    private static final Logger log = LoggerFactory.getLogger(OipTensors.class);

    /** Set on a request made of an {@code infer}'s tensors; the ONNX runtime reads it (its {@code PROTOCOL_HEADER}). */
    static final String PROTOCOL_HEADER = "x-deployer-protocol";
    /** Where the ONNX runtime leaves the graph's signature, inside the package folder. */
    static final String SIGNATURE = ".deployer/signature.json";
    /** Triton's platform name for a model run by ONNX Runtime. */
    static final String ONNX_PLATFORM = "onnxruntime_onnx";

    private OipTensors() {
    }

    /**
     * Fills the metadata's {@code platform}, {@code inputs} and {@code outputs} from the graph when the model is a
     * no-code runtime's and its cell has loaded once; the manifest's own {@code inputs}/{@code outputs} win.
     */
    static void describe(Map<String, Object> metadata, Manifest manifest, Path folder) {
        if (manifest.runtime() == null) {
            return;
        }
        metadata.put("platform", ONNX_PLATFORM);
        Path file = folder.resolve(SIGNATURE);
        if (!Files.isRegularFile(file)) {
            return;
        }
        try {
            if (Json.parse(Files.readAllBytes(file)) instanceof Map<?, ?> signature) {
                if (manifest.inputs().isEmpty() && signature.get("inputs") instanceof List<?> inputs) {
                    metadata.put("inputs", inputs);
                }
                if (manifest.outputs().isEmpty() && signature.get("outputs") instanceof List<?> outputs) {
                    metadata.put("outputs", outputs);
                }
            }
        } catch (IOException e) {
            log.debug("{} - the graph's signature is unreadable: {}", manifest.name(), e.toString());
        }
    }
}
