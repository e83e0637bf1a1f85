package deployer;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.LoggerFactory;
import deployer.core.LineBatchAppender;

/**
 * The server's logging, set up in code: found by logback through {@code META-INF/services}, it replaces a
 * {@code logback.xml} whose parsing cost a quarter of a second of every start (the XML parser and logback's
 * configuration model, ~600 classes). {@code -Dlogback.configurationFile=FILE} still wins: with it set, this steps
 * aside and logback reads the file as usual.
 *
 * <p>What it sets up: server lines on standard output; the access log (logger {@code deployer.access}, one line per
 * scoring request) written in batches by a thread of its own ({@link LineBatchAppender}), never blocking a request and
 * dropping lines when too many wait, its level from
 * {@code DEPLOYER_ACCESS_LOG} ({@code OFF} turns it off); Jetty and HikariCP at WARN.
 */
public final class LogSetup extends ContextAwareBase implements Configurator {

    static final String SERVER_PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n";
    static final String ACCESS_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSX} access %msg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(console(context, "OUT", SERVER_PATTERN));

        LineBatchAppender lines = new LineBatchAppender();
        lines.setContext(context);
        lines.setName("ACCESS");
        lines.setEncoder(encoder(context, ACCESS_PATTERN));
        lines.start();
        Logger access = context.getLogger("deployer.access");
        access.setLevel(Level.toLevel(System.getenv("DEPLOYER_ACCESS_LOG"), Level.INFO));
        access.setAdditive(false);
        access.addAppender(lines);

        for (String quiet : new String[] {"org.eclipse.jetty", "com.zaxxer.hikari"}) {
            context.getLogger(quiet).setLevel(Level.WARN);
        }
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** Stops logging: appenders write what they still hold (the access log's queued lines) and close. */
    static void stop() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }

    private static ConsoleAppender<ILoggingEvent> console(LoggerContext context, String name, String pattern) {
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName(name);
        appender.setEncoder(encoder(context, pattern));
        appender.start();
        return appender;
    }

    private static PatternLayoutEncoder encoder(LoggerContext context, String pattern) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(pattern);
        encoder.start();
        return encoder;
    }
}
