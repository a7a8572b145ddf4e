package dev.ferry.ingest.sqlite;

import static dev.ferry.ingest.sqlite.SqlIdentifiers.literal;
import static dev.ferry.ingest.sqlite.SqlIdentifiers.quote;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Installs and removes ferry's change capture in a SQLite file: the {@code _ferry_changelog} table, a
 * {@code _ferry_state} table, and three {@code AFTER} triggers per table. A trigger runs inside the
 * application's own write, so it only appends (table, op, key, time); the row itself is read later.
 *
 * <p>The key is stored as literals of the key columns joined by commas (see {@link KeyLiteral}): exact for
 * every storage class, BLOB keys and text holding NUL characters included.
 */
public final class ChangeCapture {

    static final String PREFIX = "_ferry_";
    public static final String CHANGELOG = "_ferry_changelog";
    static final String STATE = "_ferry_state";
    private static final String NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
    private static final Logger LOG = LoggerFactory.getLogger(ChangeCapture.class);

    private ChangeCapture() {
    }

    /**
     * What an install found and did.
     *
     * @param captureId      identity of this changelog, made when it was created: offsets of an older changelog
     *                       (one removed by uninstall) must not be applied to it
     * @param newlyCaptured  tables whose triggers were missing or different (new, rebuilt, or first install):
     *                       their rows written before now are only in the table, so they need a snapshot
     */
    public record Installation(String captureId, Set<String> newlyCaptured) {
    }

    /**
     * Creates the changelog if needed and makes the triggers match {@code tables} exactly: missing or outdated
     * triggers are (re)created, ferry's triggers on tables not listed are dropped, correct ones are left alone
     * (so a no-op install does not change the schema). Switches the file to WAL. Idempotent.
     */
    public static Installation install(Connection connection, List<TableInfo> tables) throws SQLException {
        Set<String> newlyCaptured = new LinkedHashSet<>();
        String captureId;
        try (Statement st = connection.createStatement()) {
            String mode = journalMode(st);
            if (!"wal".equalsIgnoreCase(mode)) {
                switchToWal(st);
            }
            captureId = inTransaction(connection, () -> {
                st.execute("CREATE TABLE IF NOT EXISTS " + STATE + " (name TEXT PRIMARY KEY, value TEXT)");
                // Remember the journal mode the application had, so that uninstall can put it back.
                st.execute("INSERT OR IGNORE INTO " + STATE + " VALUES ('journal_mode', " + literal(mode) + ")");
                st.execute("INSERT OR IGNORE INTO " + STATE + " VALUES ('capture_id', " + literal(UUID.randomUUID().toString()) + ")");
                // seq is a rowid alias: consumed rows are deleted, but the newest is always kept so that seq never goes back.
                st.execute("CREATE TABLE IF NOT EXISTS " + CHANGELOG
                        + " (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, op TEXT NOT NULL, key TEXT NOT NULL, ts INTEGER NOT NULL)");
                Map<String, String> existing = new HashMap<>();
                try (ResultSet rs = st.executeQuery("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND name GLOB '_ferry_*'")) {
                    while (rs.next()) {
                        existing.put(rs.getString(1), rs.getString(2));
                    }
                }
                Set<String> wanted = new HashSet<>();
                for (TableInfo table : tables) {
                    Map<String, String> ddl = triggerDdl(table);
                    wanted.addAll(ddl.keySet());
                    if (!ddl.entrySet().stream().allMatch(e -> e.getValue().equals(existing.get(e.getKey())))) {
                        dropTriggers(st, table.name());
                        for (String sql : ddl.values()) {
                            st.execute(sql);
                        }
                        newlyCaptured.add(table.name());
                    }
                }
                for (String stale : existing.keySet()) {
                    if (!wanted.contains(stale)) {
                        st.execute("DROP TRIGGER IF EXISTS " + quote(stale));
                    }
                }
                try (ResultSet rs = st.executeQuery("SELECT value FROM " + STATE + " WHERE name = 'capture_id'")) {
                    rs.next();
                    return rs.getString(1);
                }
            });
        }
        if (!newlyCaptured.isEmpty()) {
            LOG.info("change capture installed on {} table(s): {}", newlyCaptured.size(), newlyCaptured);
        }
        return new Installation(captureId, newlyCaptured);
    }

    /** Removes every trace of ferry: triggers, changelog, state; restores the journal mode the file had. */
    public static void uninstall(Connection connection) throws SQLException {
        String originalMode = null;
        try (Statement st = connection.createStatement()) {
            if (exists(st, STATE)) {
                try (ResultSet rs = st.executeQuery("SELECT value FROM " + STATE + " WHERE name = 'journal_mode'")) {
                    originalMode = rs.next() ? rs.getString(1) : null;
                }
            }
            inTransaction(connection, () -> {
                List<String> triggers = new ArrayList<>();
                try (ResultSet rs = st.executeQuery("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name GLOB '_ferry_*'")) {
                    while (rs.next()) {
                        triggers.add(rs.getString(1));
                    }
                }
                for (String trigger : triggers) {
                    st.execute("DROP TRIGGER IF EXISTS " + quote(trigger));
                }
                st.execute("DROP TABLE IF EXISTS " + CHANGELOG);
                st.execute("DROP TABLE IF EXISTS " + STATE);
                return null;
            });
            if (originalMode != null && !"wal".equalsIgnoreCase(originalMode)) {
                st.execute("PRAGMA journal_mode=" + originalMode);
            }
        }
        LOG.info("change capture removed");
    }

    public static boolean installed(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement()) {
            return exists(st, CHANGELOG);
        }
    }

    /** Records that every changelog row up to {@code seq} reached Kafka, and deletes those rows but the newest. */
    public static void markCommitted(Connection connection, long seq) throws SQLException {
        inTransaction(connection, () -> {
            try (var del = connection.prepareStatement("DELETE FROM " + CHANGELOG + " WHERE seq < ?");
                 var state = connection.prepareStatement("INSERT OR REPLACE INTO " + STATE + " VALUES ('committed_seq', ?)")) {
                del.setLong(1, seq);
                del.executeUpdate();
                state.setString(1, Long.toString(seq));
                state.executeUpdate();
            }
            return null;
        });
    }

    @FunctionalInterface
    private interface SqlWork<T> {
        T run() throws SQLException;
    }

    /** Runs {@code work} in one transaction: committed when it returns, rolled back when it throws. */
    private static <T> T inTransaction(Connection connection, SqlWork<T> work) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try {
            T result = work.run();
            connection.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }

    /**
     * Asks ferry to read rows again: one changelog entry per key, as if the application had updated them. They go
     * through the changelog, so they keep their place among the application's own changes.
     */
    public static int requestReread(Connection connection, String table, List<List<Object>> keys) throws SQLException {
        java.nio.charset.Charset encoding = SqliteFile.textEncoding(connection);
        List<List<Object>> resolved = textKeysAsText(connection, table, keys, encoding);
        return inTransaction(connection, () -> {
            try (var ps = connection.prepareStatement("INSERT INTO " + CHANGELOG + " (tbl, op, key, ts) VALUES (?, 'u', ?, "
                    + NOW_MS + ")")) {
                for (List<Object> key : resolved) {
                    ps.setString(1, table);
                    ps.setString(2, KeyLiteral.format(key, encoding));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return keys.size();
        });
    }

    /**
     * A TEXT key whose bytes are not valid in the database's encoding travels as its bytes, as a BLOB key does (RowReader),
     * so a key read back from Kafka cannot tell the two apart. SQLite can: a key whose row is not found with its bytes as a
     * BLOB but is found with them as TEXT becomes {@link KeyLiteral.InvalidText}, which the changelog reader looks up as
     * text. Otherwise the entry would find no row, and the row would be taken for deleted.
     */
    private static List<List<Object>> textKeysAsText(Connection connection, String table, List<List<Object>> keys,
                                                     java.nio.charset.Charset encoding) throws SQLException {
        TableInfo info = null;
        List<List<Object>> resolved = new ArrayList<>(keys.size());
        for (List<Object> key : keys) {
            List<Object> asText = new ArrayList<>(key.size());
            boolean invalidText = false;
            for (Object value : key) {
                byte[] bytes = value instanceof byte[] b ? b : value instanceof java.nio.ByteBuffer buffer ? KeyLiteral.bytes(buffer) : null;
                Object text = bytes == null ? null : KeyLiteral.text(bytes, encoding);
                invalidText |= text instanceof KeyLiteral.InvalidText;
                asText.add(text instanceof KeyLiteral.InvalidText ? text : value);
            }
            if (invalidText) {
                if (info == null) {
                    info = SchemaReader.readTables(connection, java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(table)))
                            .stream().findFirst().orElse(null);
                }
                if (info != null && info.keyExpressions("").size() == key.size() && !rowExists(connection, info, key)
                        && rowExists(connection, info, asText)) {
                    resolved.add(asText);
                    continue;
                }
            }
            resolved.add(key);
        }
        return resolved;
    }

    private static boolean rowExists(Connection connection, TableInfo table, List<Object> key) throws SQLException {
        try (var ps = connection.prepareStatement("SELECT 1 FROM " + quote(table.name()) + " WHERE " + table.keyCondition(key) + " LIMIT 1")) {
            for (int i = 0; i < key.size(); i++) {
                ps.setObject(i + 1, TableInfo.keyParameter(key.get(i)));
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Changelog rows not yet known to be in Kafka: after the committed seq, and after {@code producedSeq} when the caller knows it. */
    public static long backlog(Connection connection, long producedSeq) throws SQLException {
        try (var ps = connection.prepareStatement("SELECT count(*) FROM " + CHANGELOG + " WHERE seq > max(?, coalesce("
                + "(SELECT CAST(value AS INTEGER) FROM " + STATE + " WHERE name = 'committed_seq'), 0))")) {
            ps.setLong(1, producedSeq);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Changelog rows not yet known to be in Kafka, per table. */
    public static Map<String, Long> backlogByTable(Connection connection) throws SQLException {
        Map<String, Long> backlog = new HashMap<>();
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT tbl, count(*) FROM " + CHANGELOG + " WHERE seq > coalesce("
                     + "(SELECT CAST(value AS INTEGER) FROM " + STATE + " WHERE name = 'committed_seq'), 0) GROUP BY tbl")) {
            while (rs.next()) {
                backlog.put(rs.getString(1), rs.getLong(2));
            }
        }
        return backlog;
    }

    public static long highWaterMark(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("SELECT coalesce(max(seq), 0) FROM " + CHANGELOG)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Trigger name → CREATE TRIGGER statement, for the three triggers of a table. */
    static Map<String, String> triggerDdl(TableInfo table) {
        String tbl = literal(table.name());
        String on = " ON " + quote(table.name()) + " BEGIN ";
        String newKey = keyText(table.keyExpressions("NEW."));
        String oldKey = keyText(table.keyExpressions("OLD."));
        String insert = "INSERT INTO " + CHANGELOG + " (tbl, op, key, ts) ";
        Map<String, String> ddl = new LinkedHashMap<>();
        ddl.put(triggerName(table.name(), "ai"), "CREATE TRIGGER " + quote(triggerName(table.name(), "ai")) + " AFTER INSERT" + on
                + insert + "VALUES (" + tbl + ", 'c', " + newKey + ", " + NOW_MS + "); END");
        // A key change is a delete of the old key and an upsert of the new one.
        ddl.put(triggerName(table.name(), "au"), "CREATE TRIGGER " + quote(triggerName(table.name(), "au")) + " AFTER UPDATE" + on
                + insert + "SELECT " + tbl + ", 'd', " + oldKey + ", " + NOW_MS + " WHERE " + oldKey + " IS NOT " + newKey + "; "
                + insert + "VALUES (" + tbl + ", 'u', " + newKey + ", " + NOW_MS + "); END");
        ddl.put(triggerName(table.name(), "ad"), "CREATE TRIGGER " + quote(triggerName(table.name(), "ad")) + " AFTER DELETE" + on
                + insert + "VALUES (" + tbl + ", 'd', " + oldKey + ", " + NOW_MS + "); END");
        return ddl;
    }

    static String triggerName(String table, String kind) {
        return PREFIX + table + "_" + kind;
    }

    private static void dropTriggers(Statement st, String table) throws SQLException {
        for (String kind : List.of("ai", "au", "ad")) {
            st.execute("DROP TRIGGER IF EXISTS " + quote(triggerName(table, kind)));
        }
    }

    /** quote() stops at a NUL inside text, so text goes as T'hex' of its bytes; every other class as quote() writes it. */
    private static String keyText(List<String> expressions) {
        return String.join(" || ',' || ", expressions.stream()
                .map(e -> "CASE typeof(" + e + ") WHEN 'text' THEN 'T''' || hex(" + e + ") || '''' ELSE quote(" + e + ") END").toList());
    }

    /**
     * Leaving a rollback journal for WAL needs the file to itself for a moment. While the application writes
     * continuously SQLite can answer SQLITE_BUSY at once instead of waiting out the busy timeout, so try again
     * for as long as that timeout would have waited.
     */
    private static void switchToWal(Statement st) throws SQLException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (ResultSet rs = st.executeQuery("PRAGMA journal_mode=WAL")) {
                rs.next();
                if ("wal".equalsIgnoreCase(rs.getString(1))) {
                    return;
                }
                throw new SQLException("cannot switch the SQLite file to WAL mode (still " + rs.getString(1)
                        + "): ferry needs WAL so that the application can keep writing during the snapshot");
            } catch (SQLException e) {
                boolean busy = e.getMessage() != null && (e.getMessage().contains("SQLITE_BUSY") || e.getMessage().contains("locked"));
                if (!busy || System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private static String journalMode(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("PRAGMA journal_mode")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static boolean exists(Statement st, String table) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = " + literal(table))) {
            return rs.next();
        }
    }
}
