package deployer.guard;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

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
 *   <li>write {@link deployer.guard.boot.ExitGate}, alone, into a small jar and append it to the bootstrap class
 *       path, so {@code java.lang.Runtime} (a bootstrap class) can link against it;</li>
 *   <li>let {@code java.base} read the bootstrap loader's unnamed module, where the gate now lives;</li>
 *   <li>retransform {@code java.lang.Runtime} so {@code exit(int)} and {@code halt(int)} call
 *       {@code ExitGate.check(status)} first ({@link RuntimeExitTransformer});</li>
 *   <li>arm the gate, which {@link ExitGuard#active()} reports.</li>
 * </ol>
 * A failure on the way is printed and the server starts unguarded: an agent that throws would stop the JVM from
 * starting at all, which is worse than a missing guard.
 */
public final class ExitGuardAgent {

    static final String GATE = "deployer.guard.boot.ExitGate";
    private static final String GATE_FILE = GATE.replace('.', '/') + ".class";

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
            // (1) the gate on the bootstrap class path
            instrumentation.appendToBootstrapClassLoaderSearch(new JarFile(gateJar().toFile()));
            Class<?> gate = Class.forName(GATE, true, null);
            // (2) java.base may now read it
            instrumentation.redefineModule(Object.class.getModule(), Set.of(gate.getModule()), Map.of(), Map.of(),
                    Set.of(), Map.of());
            // (3) Runtime.exit and halt call it
            RuntimeExitTransformer transformer = new RuntimeExitTransformer(GATE.replace('.', '/'));
            instrumentation.addTransformer(transformer, true);
            try {
                instrumentation.retransformClasses(Runtime.class);
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

    /**
     * The gate class alone in a jar under the temporary folder, named by its content's hash: written once per build
     * and shared by every server started from it, so no file accumulates however often the server is killed.
     */
    private static Path gateJar() throws IOException, NoSuchAlgorithmException {
        byte[] gate;
        try (InputStream in = ExitGuardAgent.class.getClassLoader().getResourceAsStream(GATE_FILE)) {
            if (in == null) {
                throw new IOException(GATE_FILE + " is missing from the class path");
            }
            gate = in.readAllBytes();
        }
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(gate)).substring(0, 16);
        Path jar = Path.of(System.getProperty("java.io.tmpdir")).resolve("deployer-exit-gate-" + hash + ".jar");
        if (Files.isRegularFile(jar)) {
            return jar;
        }
        Path temp = Files.createTempFile(jar.getParent(), "deployer-exit-gate-", ".tmp");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(temp))) {
            out.putNextEntry(new JarEntry(GATE_FILE));
            out.write(gate);
            out.closeEntry();
        }
        try {
            return Files.move(temp, jar, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // Another server wrote the same jar at the same moment: its copy is as good as ours.
            Files.deleteIfExists(temp);
            if (Files.isRegularFile(jar)) {
                return jar;
            }
            throw e;
        }
    }
}
