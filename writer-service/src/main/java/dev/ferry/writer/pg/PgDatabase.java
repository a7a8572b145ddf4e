package dev.ferry.writer.pg;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/** Opens PostgreSQL connections with a message that says which database could not be reached, and why. */
public final class PgDatabase {

    private PgDatabase() {
    }

    public static Connection connect(String jdbcUrl) throws SQLException {
        return connect(jdbcUrl, "ferry");
    }

    /** {@code applicationName} shows in pg_stat_activity, so an operator can tell ferry's sessions apart. */
    public static Connection connect(String jdbcUrl, String applicationName) throws SQLException {
        if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new SQLException("not a PostgreSQL JDBC URL: '" + jdbcUrl + "' (expected jdbc:postgresql://host:port/database)");
        }
        Properties props = new Properties();
        props.setProperty("connectTimeout", "10");
        props.setProperty("ApplicationName", applicationName);
        try {
            return DriverManager.getConnection(jdbcUrl, props);
        } catch (SQLException e) {
            throw new SQLException("cannot connect to PostgreSQL at " + jdbcUrl + ": " + e.getMessage(), e.getSQLState(), e);
        }
    }

    /** True when {@code qualifiedName} (quoted, as {@link PgIdentifiers#qualified} writes it) names a table, index or other relation. */
    public static boolean relationExists(Connection connection, String qualifiedName) throws SQLException {
        try (var ps = connection.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, qualifiedName);
            try (var rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /** True when the table {@code qualifiedTable} has a constraint of exactly this name. */
    public static boolean constraintExists(Connection connection, String qualifiedTable, String name) throws SQLException {
        try (var ps = connection.prepareStatement("SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(?) AND conname = ?")) {
            ps.setString(1, qualifiedTable);
            ps.setString(2, name);
            try (var rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** True for errors after which the connection is gone (SQLSTATE class 08, admin shutdown, closed connection). */
    public static boolean isConnectionLost(SQLException e, Connection connection) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null
                    && (s.getSQLState().startsWith("08") || s.getSQLState().startsWith("57P"))) {
                return true;
            }
        }
        // Not isValid(): a round trip that times out on a busy machine would turn a refused row into an endless
        // reconnect-and-retry of the same batch. A lost server shows in the SQLSTATE or closes the connection.
        try {
            return connection == null || connection.isClosed();
        } catch (SQLException ignored) {
            return true;
        }
    }
}
