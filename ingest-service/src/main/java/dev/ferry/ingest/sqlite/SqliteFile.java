package dev.ferry.ingest.sqlite;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import org.sqlite.SQLiteConfig;

/** Opens SQLite files the way ferry needs them: checked first, with a busy timeout so the app's writes and ours wait for each other. */
public final class SqliteFile {

    private static final byte[] MAGIC = "SQLite format 3\u0000".getBytes(StandardCharsets.US_ASCII);
    private static final int BUSY_TIMEOUT_MS = 30_000;

    private SqliteFile() {
    }

    /** Throws with a message a user can act on when {@code path} is missing, unreadable or not a SQLite database. */
    public static void check(Path path) throws SQLException {
        if (!Files.exists(path)) {
            throw new SQLException("SQLite file " + path + " does not exist");
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new SQLException("SQLite file " + path + " is not a readable file");
        }
        byte[] header = new byte[MAGIC.length];
        try (InputStream in = Files.newInputStream(path)) {
            int read = in.readNBytes(header, 0, header.length);
            if (read > 0 && (read < header.length || !Arrays.equals(header, MAGIC))) {
                throw new SQLException(path + " is not a SQLite database (its header is not 'SQLite format 3')");
            }
        } catch (IOException e) {
            throw new SQLException("cannot read SQLite file " + path + ": " + e.getMessage(), e);
        }
    }

    public static Connection open(Path path) throws SQLException {
        check(path);
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        return config.createConnection("jdbc:sqlite:" + path.toAbsolutePath());
    }

    /**
     * A connection for ferry's own writes. Its transactions begin IMMEDIATE: a deferred one that reads first and
     * writes later fails at once with SQLITE_BUSY in WAL mode when the application committed in between, without
     * waiting for the busy timeout.
     */
    public static Connection openForWrites(Path path) throws SQLException {
        check(path);
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        return config.createConnection("jdbc:sqlite:" + path.toAbsolutePath());
    }

    /** The database's text encoding (PRAGMA encoding: UTF-8, UTF-16le or UTF-16be), in which hex() shows text. */
    public static Charset textEncoding(Connection connection) throws SQLException {
        try (var st = connection.createStatement(); var rs = st.executeQuery("PRAGMA encoding")) {
            rs.next();
            return Charset.forName(rs.getString(1).toUpperCase(java.util.Locale.ROOT));
        }
    }
}
