package deployer.guard;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandles;
import java.util.Map;
import java.util.Set;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.commons.ClassRemapper;
import org.objectweb.asm.commons.SimpleRemapper;

/**
 * Guards {@code Runtime.exit} and {@code Runtime.halt} against models. A model runs inside the server, so a
 * {@code System.exit(0)} in its {@code score} would end every other model with it.
 *
 * <p><b>Why an agent and not a security manager.</b> Java 17 offers two ways to veto an exit: a
 * {@code SecurityManager} whose {@code checkExit} refuses cell code, or rewriting {@code Runtime.exit}/{@code halt}.
 * The security manager is deprecated for removal (JEP 411): from JDK 18 it needs
 * {@code -Djava.security.manager=allow}, and from JDK 24 it cannot be installed at all (JEP 486); it also puts a
 * permission check on every file and socket call the server makes. The rewrite keeps working on every JDK the
 * instrumentation API exists on, and costs nothing until someone exits. So the server uses the rewrite only.
 *
 * <p><b>How it starts.</b> {@code java -jar deployer.jar} starts this class before {@code main} through the jar
 * manifest's {@code Launcher-Agent-Class} (with {@code Can-Retransform-Classes: true}); tests and other launchers
 * pass {@code -javaagent:} with the small agent jar the build makes. Installing takes four steps, in this order:
 * <ol>
 *   <li>open {@code java.lang} to this class's module, the server's own: nobody else's, not the cells';</li>
 *   <li>define {@link deployer.guard.boot.ExitGate}, renamed {@value #GATE}, in {@code java.lang} through a
 *       lookup on {@code Runtime}, so {@code Runtime} (a bootstrap class) can link against it;</li>
 *   <li>retransform {@code java.lang.Runtime} so {@code exit(int)} and {@code halt(int)} call
 *       {@code check(status)} on it first, and {@code Runtime}'s shutdown hook methods and
 *       {@code File.deleteOnExit} tell it who registered what ({@link RuntimeExitTransformer});</li>
 *   <li>arm the gate, which {@link ExitGuard#active()} reports.</li>
 * </ol>
 * The gate is defined into the JDK's own package rather than put on the bootstrap class path: appending to that
 * path turns off class data sharing for every class but the JDK's (the JVM warns so at start), and with it the
 * application class archive that halves the server's start-up ({@code bin/deployer}).
 *
 * <p>A failure on the way is printed and the server starts unguarded: an agent that throws would stop the JVM from
 * starting at all, which is worse than a missing guard.
 */
public final class ExitGuardAgent {

    /** The gate's name once defined: a class of {@code java.base}, where {@code java.lang.Runtime} sees it. */
    static final String GATE = "java.lang.DeployerExitGate";
    private static final String GATE_SOURCE = "deployer/guard/boot/ExitGate";

    private ExitGuardAgent() {
    }

    /** Entry point for {@code -javaagent:}. */
    public static void premain(String args, Instrumentation instrumentation) {
        install(instrumentation);
    }

    /** Entry point for the jar manifest's {@code Launcher-Agent-Class} (and a dynamic attach). */
    public static void agentmain(String args, Instrumentation instrumentation) {
        install(instrumentation);
    }

    static void install(Instrumentation instrumentation) {
        if (ExitGuard.active()) {
            return;
        }
        try {
            // (1) java.lang opened to the server's module only
            instrumentation.redefineModule(Object.class.getModule(), Set.of(), Map.of(),
                    Map.of("java.lang", Set.of(ExitGuardAgent.class.getModule())), Set.of(), Map.of());
            // (2) the gate, defined beside Runtime
            Class<?> gate = MethodHandles.privateLookupIn(Runtime.class, MethodHandles.lookup())
                    .defineClass(renamedGate());
            // (3) Runtime.exit and halt call it
            RuntimeExitTransformer transformer = new RuntimeExitTransformer(GATE.replace('.', '/'));
            instrumentation.addTransformer(transformer, true);
            try {
                instrumentation.retransformClasses(Runtime.class, java.io.File.class);
            } finally {
                instrumentation.removeTransformer(transformer);
            }
            transformer.verify();
            // (4) armed
            gate.getMethod("arm").invoke(null);
        } catch (Throwable t) {
            System.err.println("deployer: the exit guard could not be installed (" + t + "); a model that calls"
                    + " System.exit or Runtime.halt will stop the server");
        }
    }

    /** The class file of {@link deployer.guard.boot.ExitGate}, every reference to itself renamed {@value #GATE}. */
    private static byte[] renamedGate() throws IOException {
        byte[] gate;
        try (InputStream in = ExitGuardAgent.class.getClassLoader().getResourceAsStream(GATE_SOURCE + ".class")) {
            if (in == null) {
                throw new IOException(GATE_SOURCE + ".class is missing from the class path");
            }
            gate = in.readAllBytes();
        }
        ClassWriter writer = new ClassWriter(0);
        new ClassReader(gate).accept(new ClassRemapper(writer,
                new SimpleRemapper(GATE_SOURCE, GATE.replace('.', '/'))), 0);
        return writer.toByteArray();
    }
}
