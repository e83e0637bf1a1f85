package deployer;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** What the server logged while a test ran, at WARN and above, or with a stack trace. */
final class LogLines implements AutoCloseable {

    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    // The access log does not pass its lines up to the root.
    private final Logger access = (Logger) LoggerFactory.getLogger("deployer.access");
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();

    LogLines() {
        lines.start();
        root.addAppender(lines);
        access.addAppender(lines);
    }

    /** Lines at WARN or ERROR, or carrying a throwable, as "LEVEL logger: message". */
    List<String> loud() {
        synchronized (lines) {
            return lines.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)
                            || e.getThrowableProxy() != null)
                    .map(e -> e.getLevel() + " " + e.getLoggerName() + ": " + e.getFormattedMessage()
                            + (e.getThrowableProxy() == null ? "" : " [" + e.getThrowableProxy().getClassName() + "]"))
                    .toList();
        }
    }

    /** Formatted messages of one logger. */
    List<String> of(String logger) {
        synchronized (lines) {
            return lines.list.stream().filter(e -> e.getLoggerName().equals(logger))
                    .map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    @Override
    public void close() {
        root.detachAppender(lines);
        access.detachAppender(lines);
    }
}
