package deployer.cell;

import java.io.IOException;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/** Puts a model's slot on a port of its own; the HTTP layer implements it. */
public interface PortBinder {

    /**
     * Starts answering the slot's {@code /predict} and {@code /health} on {@code port} ({@code 0}: any free port).
     *
     * @return the port bound
     * @throws IOException when the port cannot be bound (taken by another program, say)
     */
    int bind(ModelSlot slot, int port) throws IOException;

    /** Stops answering on the slot's port. Does nothing when it is not bound. */
    void unbind(ModelSlot slot);

    /** When the ports serve TLS: the client context the health pings use (it trusts the server's own certificate). */
    default Optional<SSLContext> pingTls() {
        return Optional.empty();
    }
}
