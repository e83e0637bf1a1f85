package deployer.cli;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every client command shares: its output streams (picocli's, so a test can capture them), the environment,
 * and the one place where a {@link CliFailure} — or anything unexpected — becomes one line on stderr and an exit
 * status, never a stack trace.
 */
abstract class ClientCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    /** The process environment; read in one place so the rule for finding the server stays in {@link Target}. */
    Map<String, String> env = System.getenv();

    /** Does the command's work; returns the exit status, or throws {@link CliFailure}. */
    abstract int run() throws Exception;

    @Override
    public final Integer call() {
        try {
            return run();
        } catch (CliFailure e) {
            fail(e.getMessage());
            return e.exitCode();
        } catch (Exception e) {
            fail("unexpected error: " + e);
            return CliFailure.FAILED;
        } finally {
            out().flush();
            err().flush();
        }
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    void fail(String message) {
        err().println("deployer: " + message);
    }
}
