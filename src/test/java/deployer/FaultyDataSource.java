package deployer;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.Set;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The real H2 pool with faults switched on and off by the test: while {@link #diskFull} is set, every statement
 * fails as H2 does on a full disk, and {@link #closeDatabase} closes the database under the pool the way H2 does
 * after such an error. {@link #syntaxError} makes the next statement fail as a bug in our SQL would. Not a mock of
 * the store: the store's own SQL runs against the real database whenever no fault is set.
 */
final class FaultyDataSource implements DataSource {

    private static final Set<String> RUNS = Set.of("execute", "executeQuery", "executeUpdate", "executeBatch",
            "executeLargeUpdate", "commit");

    private final DataSource real;
    volatile boolean diskFull;
    volatile boolean syntaxError;

    FaultyDataSource(DataSource real) {
        this.real = real;
    }

    /** What H2 does to itself after a disk error: the database closes, and every pooled connection with it. */
    void closeDatabase() throws SQLException {
        try (Connection c = real.getConnection(); Statement s = c.createStatement()) {
            s.execute("SHUTDOWN IMMEDIATELY");
        } catch (SQLException expected) {
            // the connection went with the database
        }
    }

    @Override
    public Connection getConnection() throws SQLException {
        fault();
        return wrap(real.getConnection());
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        fault();
        return wrap(real.getConnection(username, password));
    }

    private void fault() throws SQLException {
        if (diskFull) {
            throw new SQLException("IO Exception: \"java.io.IOException: No space left on device\" [90028-232]",
                    "90028", 90028);
        }
        if (syntaxError) {
            throw new java.sql.SQLSyntaxErrorException("Syntax error in SQL statement \"SELECT name FROM modles\""
                    + " [42102-232]", "42S02", 42102);
        }
    }

    /** Every statement made by the connection checks the faults before it runs. */
    private Connection wrap(Connection connection) {
        return (Connection) proxy(connection, Connection.class);
    }

    private Object proxy(Object target, Class<?> type) {
        InvocationHandler handler = (p, method, args) -> {
            if (RUNS.contains(method.getName())) {
                fault();
            }
            try {
                Object result = method.invoke(target, args);
                if (result instanceof Statement statement && !(result instanceof Proxy)) {
                    Class<?> kind = result instanceof java.sql.CallableStatement ? java.sql.CallableStatement.class
                            : result instanceof java.sql.PreparedStatement ? java.sql.PreparedStatement.class
                            : Statement.class;
                    return proxy(statement, kind);
                }
                return result;
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {type}, handler);
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return real.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        real.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        real.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return real.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return real.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        return iface.isInstance(this) ? iface.cast(this) : real.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || real.isWrapperFor(iface);
    }
}
