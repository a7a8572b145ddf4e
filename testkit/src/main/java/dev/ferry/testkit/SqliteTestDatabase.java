package dev.ferry.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/** A SQLite file for a test: created empty, or copied from a read-only fixture so ferry can install its triggers. */
public final class SqliteTestDatabase {

    private final Path path;

    private SqliteTestDatabase(Path path) {
        this.path = path;
    }

    public static SqliteTestDatabase create(Path dir, String fileName, String... ddl) throws SQLException {
        SqliteTestDatabase db = new SqliteTestDatabase(dir.resolve(fileName));
        db.execute(ddl);
        return db;
    }

    public static SqliteTestDatabase copyOf(Path fixture, Path dir) throws IOException {
        Path target = dir.resolve(fixture.getFileName().toString());
        Files.copy(fixture, target, StandardCopyOption.REPLACE_EXISTING);
        target.toFile().setWritable(true);
        return new SqliteTestDatabase(target);
    }

    public Path path() {
        return path;
    }

    /** A connection like an application's: WAL-friendly busy timeout so it waits for ferry's short locks. */
    public Connection connect() throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + path.toAbsolutePath());
        try (Statement st = c.createStatement()) {
            st.execute("PRAGMA busy_timeout = 30000");
        }
        return c;
    }

    public void execute(String... sql) throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    /** Inserts rows with one prepared statement in one transaction. */
    public void insert(String sql, Iterable<Object[]> rows) throws SQLException {
        try (Connection c = connect()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (Object[] row : rows) {
                    for (int i = 0; i < row.length; i++) {
                        ps.setObject(i + 1, row[i]);
                    }
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
        }
    }

    public long count(String table) throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement();
             var rs = st.executeQuery("SELECT count(*) FROM \"" + table.replace("\"", "\"\"") + "\"")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
