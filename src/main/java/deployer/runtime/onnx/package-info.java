/**
 * The {@code "runtime": "onnx"} model: serves an ONNX graph with no script. Its classes are defined by each cell's
 * own class loader, over the ONNX Runtime jar that cell sees, so they may use the JDK, {@code deployer.spi} and
 * {@code ai.onnxruntime} only — never another class of the server.
 */
package deployer.runtime.onnx;
