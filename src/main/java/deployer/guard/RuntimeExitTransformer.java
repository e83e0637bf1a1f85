package deployer.guard;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Rewrites {@code java.lang.Runtime} and {@code java.io.File} so that each guarded method begins with a call to
 * the gate, passing its argument (or {@code this}):
 * <ul>
 *   <li>{@code Runtime.exit(int)} and {@code halt(int)}: {@code ExitGate.check(status)}, which refuses a model's;</li>
 *   <li>{@code Runtime.addShutdownHook(Thread)} and {@code removeShutdownHook(Thread)}: {@code hookAdded} and
 *       {@code hookRemoved}, which keep a cell's hooks so that they run when the cell closes;</li>
 *   <li>{@code File.deleteOnExit()}: {@code deleteOnExit(file)}, which keeps a cell's files likewise.</li>
 * </ul>
 * The call goes before the first instruction and leaves the stack empty, so the method's stack map frames stay
 * valid as they are; only the maximum stack size is computed again.
 */
final class RuntimeExitTransformer implements ClassFileTransformer {

    /** One guarded method: where the gate's method is, and which local (argument 1, or {@code this}) it gets. */
    private record Guard(String gateMethod, String gateDescriptor, int loadOpcode, int local) {
    }

    private static final Map<String, Map<String, Guard>> GUARDED = Map.of(
            "java/lang/Runtime", Map.of(
                    "exit(I)V", new Guard("check", "(I)V", Opcodes.ILOAD, 1),
                    "halt(I)V", new Guard("check", "(I)V", Opcodes.ILOAD, 1),
                    "addShutdownHook(Ljava/lang/Thread;)V",
                    new Guard("hookAdded", "(Ljava/lang/Thread;)V", Opcodes.ALOAD, 1),
                    "removeShutdownHook(Ljava/lang/Thread;)Z",
                    new Guard("hookRemoved", "(Ljava/lang/Thread;)V", Opcodes.ALOAD, 1)),
            "java/io/File", Map.of(
                    "deleteOnExit()V", new Guard("deleteOnExit", "(Ljava/io/File;)V", Opcodes.ALOAD, 0)));

    private final String gate;
    private final Set<String> rewritten = ConcurrentHashMap.newKeySet();
    private volatile Throwable failure;

    RuntimeExitTransformer(String gateInternalName) {
        this.gate = gateInternalName;
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain,
                            byte[] bytes) {
        Map<String, Guard> guards = GUARDED.get(className);
        if (guards == null) {
            return null;
        }
        try {
            ClassReader reader = new ClassReader(bytes);
            ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
            reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
                @Override
                public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                                 String[] exceptions) {
                    MethodVisitor method = super.visitMethod(access, name, descriptor, signature, exceptions);
                    Guard guard = guards.get(name + descriptor);
                    if (guard == null) {
                        return method;
                    }
                    rewritten.add(className + "." + name + descriptor);
                    return new MethodVisitor(Opcodes.ASM9, method) {
                        @Override
                        public void visitCode() {
                            super.visitCode();
                            super.visitVarInsn(guard.loadOpcode(), guard.local());
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, gate, guard.gateMethod(),
                                    guard.gateDescriptor(), false);
                        }
                    };
                }
            }, 0);
            return writer.toByteArray();
        } catch (RuntimeException | LinkageError e) {
            // The JVM swallows what a transformer throws; keep it for verify() to report.
            failure = e;
            rewritten.clear();
            return null;
        }
    }

    /** Throws unless every guarded method was rewritten (a class file newer than this ASM reads, say). */
    void verify() {
        Set<String> all = GUARDED.entrySet().stream()
                .flatMap(c -> c.getValue().keySet().stream().map(m -> c.getKey() + "." + m))
                .collect(Collectors.toSet());
        if (!rewritten.containsAll(all)) {
            all.removeAll(rewritten);
            throw new IllegalStateException("not rewritten: " + all
                    + (failure == null ? " (not found)" : ": " + failure), failure);
        }
    }
}
