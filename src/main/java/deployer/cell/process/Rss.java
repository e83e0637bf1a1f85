package deployer.cell.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of a process, from Linux's {@code /proc/<pid>/status}; -1 elsewhere. */
public final class Rss {

    private Rss() {
    }

    /** {@code VmRSS} of {@code pid} in KiB, or -1 when the process is gone or this is not Linux. */
    public static long ofPid(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
