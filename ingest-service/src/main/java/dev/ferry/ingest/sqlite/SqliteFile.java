package dev.ferry.ingest.sqlite;

import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import org.sqlite.SQLiteConfig;

/** Opens SQLite files the way ferry needs them: checked first, with a busy timeout so the app's writes and ours wait for each other. */
public final class SqliteFile {

    private static final int BUSY_TIMEOUT_MS = 30_000;
    private static final java.util.Set<String> BUILT_IN_COLLATIONS = java.util.Set.of("BINARY", "NOCASE", "RTRIM");

    private SqliteFile() {
    }

    /**
     * Throws with a message a user can act on when {@code path} is missing, unreadable or not a SQLite database.
     * <p>
     * The file is never opened by Java itself, only through SQLite: POSIX releases every lock a process holds on a file
     * when the process closes <em>any</em> descriptor of that file. A header read here, with ferry's connections open,
     * dropped their locks; an application closing its last connection then believed itself alone, checkpointed and
     * deleted the WAL under ferry's feet, and ferry's later writes (the triggers of a renamed table) went to the deleted
     * WAL, unseen by the application (seen with the sqlite3 shell, `SQLITE_IOERR_SHORT_READ` in ferry's progress reads;
     * {@code SqliteFileTest}). SQLite keeps its descriptors open while any of its connections uses the file.
     */
    public static void check(Path path) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        try (Connection c = connect(path, config)) {
            // connect read the schema: the file is a database SQLite can read.
        } catch (UnusableFile e) {
            throw e;
        } catch (SQLException e) {
            throw new SQLException("cannot read SQLite file " + path + ": " + e.getMessage(), e);
        }
    }

    /** A file that is missing, unreadable or not a database: the message says which, for the user. */
    private static final class UnusableFile extends SQLException {
        UnusableFile(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static Connection open(Path path) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        return connect(path, config);
    }

    /**
     * A connection for ferry's own writes. Its transactions begin IMMEDIATE: a deferred one that reads first and
     * writes later fails at once with SQLITE_BUSY in WAL mode when the application committed in between, without
     * waiting for the busy timeout.
     */
    public static Connection openForWrites(Path path) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        return connect(path, config);
    }

    /**
     * A connection to a file that exists, read (and its collations given stand-ins) at once: a file that is not a
     * database fails here, with a message a user can act on, as does a missing or unreadable one (SQLite would create
     * a missing file).
     */
    private static Connection connect(Path path, SQLiteConfig config) throws SQLException {
        if (!Files.exists(path)) {
            throw new UnusableFile("SQLite file " + path + " does not exist", null);
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new UnusableFile("SQLite file " + path + " is not a readable file", null);
        }
        Connection connection = config.createConnection("jdbc:sqlite:" + path.toAbsolutePath());
        try {
            return withStandInCollations(connection, path);
        } catch (SQLException e) {
            if (e.getMessage() != null && (e.getMessage().contains("SQLITE_NOTADB") || e.getMessage().contains("not a database"))) {
                throw new UnusableFile(path + " is not a SQLite database (its header is not 'SQLite format 3')", e);
            }
            throw e;
        }
    }

    /** SQLite's own collations; any other name in a schema is one the application registers on its connections. */
    public static boolean builtInCollation(String name) {
        return name == null || BUILT_IN_COLLATIONS.contains(name.toUpperCase(java.util.Locale.ROOT));
    }

    /**
     * Registers a stand-in on {@code connection} for each collation the schema names that SQLite does not know: one the
     * application defines on its own connections (Android's {@code LOCALIZED} and {@code UNICODE}, an app's own). Without
     * it, SQLite refuses every statement whose plan touches such a column or index ("no such collation sequence"), and
     * ferry could read nothing of the file. The stand-in compares as BINARY does: a table read in key order comes out in
     * some fixed order (any is fine for a snapshot), and a row looked up by such a key column is compared with
     * {@code COLLATE BINARY} ({@link TableInfo#keyCondition}), by a scan, never through the application's index, whose
     * order the stand-in does not know. ferry writes nothing that uses these collations.
     */
    static Connection withStandInCollations(Connection connection, Path path) throws SQLException {
        try {
            java.util.Set<String> named = new java.util.TreeSet<>();
            try (var st = connection.createStatement(); var rs = st.executeQuery("SELECT sql FROM sqlite_schema WHERE sql LIKE '%collate%'")) {
                while (rs.next()) {
                    java.util.regex.Matcher m = COLLATE_NAME.matcher(rs.getString(1));
                    while (m.find()) {
                        named.add(unquote(m));
                    }
                }
            }
            for (String name : named) {
                // Not pragma_collation_list: it also lists the names the schema refers to, with no function behind them.
                if (!usable(connection, name)) {
                    // A new instance per registration: sqlite-jdbc keeps per-connection state in it.
                    org.sqlite.Collation.create(connection, name, new BinaryStandIn());
                    if (WARNED.add(path.toAbsolutePath() + "\u0000" + name)) {
                        org.slf4j.LoggerFactory.getLogger(SqliteFile.class).warn("collation {} of {} is the application's own, not SQLite's:"
                                + " ferry reads with a stand-in that compares as BINARY, and looks rows up by a key of that collation with"
                                + " a scan of the table", name, path);
                    }
                }
            }
            return connection;
        } catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    private static boolean usable(Connection connection, String collation) throws SQLException {
        try (var st = connection.createStatement();
             var rs = st.executeQuery("SELECT 'a' < 'b' COLLATE \"" + collation.replace("\"", "\"\"") + "\"")) {
            return true;
        } catch (SQLException e) {
            if (e.getMessage() != null && e.getMessage().contains("no such collation sequence")) {
                return false;
            }
            throw e;
        }
    }

    private static final java.util.regex.Pattern COLLATE_NAME = java.util.regex.Pattern.compile(
            "(?i)\\bCOLLATE\\s+(?:\"((?:[^\"]|\"\")+)\"|'((?:[^']|'')+)'|\\[([^\\]]+)\\]|`([^`]+)`|([\\p{L}_][\\p{L}\\p{N}_$]*))");

    private static String unquote(java.util.regex.Matcher m) {
        if (m.group(1) != null) {
            return m.group(1).replace("\"\"", "\"");
        }
        if (m.group(2) != null) {
            return m.group(2).replace("''", "'");
        }
        return m.group(3) != null ? m.group(3) : m.group(4) != null ? m.group(4) : m.group(5);
    }

    /** Files and collations already warned about in this process: every connection registers the stand-ins again. */
    private static final java.util.Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Compares as SQLite's BINARY does for the same text: equal only when equal, one fixed order otherwise. */
    private static final class BinaryStandIn extends org.sqlite.Collation {
        @Override
        protected int xCompare(String a, String b) {
            return a.compareTo(b);
        }
    }

    /** The database's text encoding (PRAGMA encoding: UTF-8, UTF-16le or UTF-16be), in which hex() shows text. */
    public static Charset textEncoding(Connection connection) throws SQLException {
        try (var st = connection.createStatement(); var rs = st.executeQuery("PRAGMA encoding")) {
            rs.next();
            return Charset.forName(rs.getString(1).toUpperCase(java.util.Locale.ROOT));
        }
    }
}
