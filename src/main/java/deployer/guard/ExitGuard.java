package deployer.guard;

/** Tells whether the exit guard ({@link ExitGuardAgent}) is active in this JVM. */
public final class ExitGuard {

    private ExitGuard() {
    }

    /**
     * Whether {@code System.exit} and {@code Runtime.halt} called from a model's code are refused. Looks the gate up
     * in the bootstrap loader only, where the agent defines it.
     */
    public static boolean active() {
        try {
            Class<?> gate = Class.forName(ExitGuardAgent.GATE, false, null);
            return (boolean) gate.getMethod("armed").invoke(null);
        } catch (ClassNotFoundException e) {
            return false;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the exit gate is defined but cannot be asked", e);
        }
    }
}
