package deployer.cli;

import picocli.CommandLine.ExitCode;

/**
 * A failure a command reports as one line on stderr, with the exit status it ends in: {@link #FAILED} when the
 * server answered with an error or a deployment failed, {@link #USAGE} when the command could not be carried out as
 * given (bad arguments, no server to reach).
 */
final class CliFailure extends RuntimeException {

    /** A deploy ended FAILED, or the server answered with an error. */
    static final int FAILED = 1;
    /** Bad arguments, or no server at the address (picocli's own usage status). */
    static final int USAGE = ExitCode.USAGE;

    private final int exitCode;

    private CliFailure(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    static CliFailure usage(String message) {
        return new CliFailure(USAGE, message, null);
    }

    static CliFailure connection(String message, Throwable cause) {
        return new CliFailure(USAGE, message, cause);
    }

    static CliFailure failed(String message) {
        return new CliFailure(FAILED, message, null);
    }

    int exitCode() {
        return exitCode;
    }
}
