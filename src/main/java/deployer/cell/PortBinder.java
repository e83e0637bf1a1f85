package deployer.cell;

import java.io.IOException;

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
}
