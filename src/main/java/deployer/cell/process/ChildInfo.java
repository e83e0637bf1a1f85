package deployer.cell.process;

/**
 * What the API and the admin page show of a process cell.
 *
 * @param pid the child JVM's process id
 * @param heapMb its heap ceiling ({@code jvm.heap_mb}); 0 when the JVM's default applies
 * @param rssKb its resident memory in KiB; -1 when unknown
 */
public record ChildInfo(long pid, int heapMb, long rssKb) {

    /** What {@code model} is now, if it is a process cell's model that has started. */
    public static java.util.Optional<ChildInfo> of(Object model) {
        if (model instanceof ProcessModel process && process.pid() > 0) {
            return java.util.Optional.of(new ChildInfo(process.pid(), process.heapMb(), process.rssKb()));
        }
        return java.util.Optional.empty();
    }
}
