package deployer.guard;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Rewrites {@code java.lang.Runtime} so that {@code exit(int)} and {@code halt(int)} begin with
 * {@code ExitGate.check(status)}. The call goes before the first instruction and leaves the stack empty, so the
 * method's stack map frames stay valid as they are; only the maximum stack size is computed again.
 */
final class RuntimeExitTransformer implements ClassFileTransformer {

    private static final String RUNTIME = "java/lang/Runtime";
    private static final Set<String> GUARDED = Set.of("exit", "halt");

    private final String gate;
    private final Set<String> rewritten = ConcurrentHashMap.newKeySet();
    private volatile Throwable failure;

    RuntimeExitTransformer(String gateInternalName) {
        this.gate = gateInternalName;
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain,
                            byte[] bytes) {
        if (!RUNTIME.equals(className)) {
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
                    if (!GUARDED.contains(name) || !"(I)V".equals(descriptor)) {
                        return method;
                    }
                    rewritten.add(name);
                    return new MethodVisitor(Opcodes.ASM9, method) {
                        @Override
                        public void visitCode() {
                            super.visitCode();
                            super.visitVarInsn(Opcodes.ILOAD, 1);
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, gate, "check", "(I)V", false);
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

    /** Throws unless both methods were rewritten (a class file newer than this ASM reads, say). */
    void verify() {
        if (!rewritten.containsAll(GUARDED)) {
            throw new IllegalStateException("java.lang.Runtime was not rewritten"
                    + (failure == null ? " (exit or halt not found)" : ": " + failure), failure);
        }
    }
}
