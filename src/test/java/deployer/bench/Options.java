package deployer.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How big and how long: the full benchmark, or {@code --quick} (the same rows, small and short, run by a test).
 *
 * @param jar the deployer jar that child servers run; empty runs them from this JVM's class path
 */
record Options(boolean quick, Optional<Path> jar, Path work, int connections, long warmupMs, long measureMs,
               int rounds, int loadSwaps, long packageBytes, int models, int churnSwaps, int startups,
               long deadlineMs, java.util.Set<Integer> only) {

    static final int CONNECTIONS = 64;

    static Options full(Optional<Path> jar, Path work) {
        return new Options(false, jar, work, CONNECTIONS, 5_000, 5_000, 3, 20, 1L << 30, 100, 200, 3, 25 * 60_000,
                java.util.Set.of());
    }

    static Options quick(Optional<Path> jar, Path work) {
        return new Options(true, jar, work, CONNECTIONS, 1_000, 1_500, 1, 5, 64L << 20, 10, 20, 1, 3 * 60_000,
                java.util.Set.of());
    }

    /** Whether to run {@code row} ({@code --only 1,4} runs rows 1 and 4; all rows without it). */
    boolean runs(int row) {
        return only.isEmpty() || only.contains(row);
    }

    Options only(java.util.Set<Integer> rows) {
        return new Options(quick, jar, work, connections, warmupMs, measureMs, rounds, loadSwaps, packageBytes, models,
                churnSwaps, startups, deadlineMs, rows);
    }

    /** {@code [--quick] [--jar target/deployer.jar] [--work DIR] [--only 1,4]} */
    static Options parse(String[] args) throws java.io.IOException {
        boolean quick = false;
        Optional<Path> jar = Optional.empty();
        Path work = null;
        java.util.Set<Integer> only = java.util.Set.of();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--jar" -> jar = Optional.of(Path.of(args[++i]).toAbsolutePath());
                case "--work" -> work = Path.of(args[++i]).toAbsolutePath();
                case "--only" -> only = java.util.Arrays.stream(args[++i].split(",")).map(String::trim)
                        .map(Integer::valueOf).collect(java.util.stream.Collectors.toSet());
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (use [--quick] [--jar target/deployer.jar] [--work DIR] [--only 1,4])");
            }
        }
        if (work == null) {
            work = Files.createTempDirectory("deployer-bench");
        }
        return (quick ? quick(jar, work) : full(jar, work)).only(only);
    }
}
