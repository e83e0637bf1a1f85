package deployer;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import java.util.Set;

/**
 * The house rules of ARCHITECTURE.md, held on the compiled main classes: the packages are floors and every arrow
 * points down, the SPI sees the JDK alone, no package cycle, one place sets system properties, and no main code
 * sleeps as a clock. {@code jdeps -verbose:package -filter:none target/classes} shows the same graph; this keeps it.
 */
@AnalyzeClasses(packages = "deployer", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    /**
     * Top to bottom. {@code deployer} is the composition root and nothing else; {@code core} is the kernel every
     * floor may use; {@code spi} is the models' contract. {@code guard} ships alone as a {@code -javaagent} jar and
     * {@code runtime.onnx} is loaded inside a cell's class loader, so both see nothing of the server.
     */
    @ArchTest
    static final ArchRule floors = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("root").definedBy("deployer")
            .layer("cli").definedBy("deployer.cli..")
            .layer("http").definedBy("deployer.http..")
            .layer("export").definedBy("deployer.export..")
            .layer("traffic").definedBy("deployer.traffic..")
            .layer("metrics").definedBy("deployer.metrics..")
            .layer("cell").definedBy("deployer.cell..")
            .layer("runtime").definedBy("deployer.runtime")
            .layer("runtime.onnx").definedBy("deployer.runtime.onnx..")
            .layer("pack").definedBy("deployer.pack..")
            .layer("store").definedBy("deployer.store..")
            .layer("guard").definedBy("deployer.guard..")
            .layer("spi").definedBy("deployer.spi..")
            .layer("core").definedBy("deployer.core..")
            .whereLayer("root").mayNotBeAccessedByAnyLayer()
            .whereLayer("cli").mayOnlyAccessLayers("export", "cell", "pack", "spi", "core")
            .whereLayer("http").mayOnlyAccessLayers("traffic", "metrics", "cell", "pack", "store", "spi", "core")
            .whereLayer("export").mayOnlyAccessLayers("pack", "core")
            .whereLayer("traffic").mayOnlyAccessLayers("cell", "store", "core")
            .whereLayer("metrics").mayOnlyAccessLayers("cell", "store", "core")
            .whereLayer("cell").mayOnlyAccessLayers("runtime", "pack", "store", "guard", "spi", "core")
            .whereLayer("runtime").mayOnlyAccessLayers("pack", "spi", "core")
            .whereLayer("runtime.onnx").mayOnlyAccessLayers("spi")
            .whereLayer("pack").mayOnlyAccessLayers("spi", "core")
            .whereLayer("store").mayOnlyAccessLayers("core")
            .whereLayer("guard").mayNotAccessAnyLayer()
            .whereLayer("spi").mayNotAccessAnyLayer()
            .whereLayer("core").mayNotAccessAnyLayer();

    /** DESIGN 1.4: what a model compiles against is the JDK and the SPI itself. */
    @ArchTest
    static final ArchRule spiImportsJavaOnly = classes().that().resideInAPackage("deployer.spi..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "deployer.spi..");

    @ArchTest
    static final ArchRule noPackageCycles = slices().matching("deployer.(**)").should().beFreeOfCycles();

    /** System properties are the process's, so the composition root's entry point is the one place to set them. */
    @ArchTest
    static final ArchRule systemPropertiesOnlyInMain = noClasses().that().doNotHaveFullyQualifiedName("deployer.Main")
            .should().callMethodWhere(call(System.class, Set.of("setProperty", "setProperties", "clearProperty")));

    /**
     * Waiting is a condition with a deadline or a scheduled task, never a sleep. The exceptions are client commands
     * polling the server between two requests on the command's one thread, which has nothing else to do:
     * {@code deployer deploy} waiting for READY and {@code deployer logs -f} following.
     */
    @ArchTest
    static final ArchRule noSleepInMainCode = noClasses()
            .that().doNotHaveFullyQualifiedName("deployer.cli.DeployCommand")
            .and().doNotHaveFullyQualifiedName("deployer.cli.LogsCommand")
            .should().callMethodWhere(call(Thread.class, Set.of("sleep")));

    private static DescribedPredicate<JavaMethodCall> call(Class<?> owner, Set<String> names) {
        return DescribedPredicate.describe(owner.getSimpleName() + "." + names, (JavaMethodCall c) -> {
            JavaClass target = c.getTargetOwner();
            return target.isEquivalentTo(owner) && names.contains(c.getName());
        });
    }
}
