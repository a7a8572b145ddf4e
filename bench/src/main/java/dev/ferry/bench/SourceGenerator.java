package dev.ferry.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;

/**
 * Writes the benchmark's SQLite file: one table of mixed columns, filled in one transaction with a seeded
 * random source, so two runs with the same seed and size replicate the same bytes.
 */
final class SourceGenerator {

    static final String TABLE = "bench_rows";

    /**
     * The table: the six mixed columns of the benchmark, plus {@code txn} and {@code written_at_ms}, which the
     * streaming phase's application sets on every row it touches (0 and the generation time for snapshot rows).
     */
    static final String DDL = "CREATE TABLE " + TABLE + " ("
            + "id INTEGER PRIMARY KEY, "
            + "name TEXT NOT NULL, "
            + "score REAL NOT NULL, "
            + "qty INTEGER NOT NULL, "
            + "note TEXT, "
            + "payload BLOB, "
            + "txn INTEGER NOT NULL, "
            + "written_at_ms INTEGER NOT NULL)";

    static final String INSERT = "INSERT INTO " + TABLE
            + " (id, name, score, qty, note, payload, txn, written_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

    private static final String[] WORDS = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
            "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
            "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "ferry", "kafka", "sqlite", "postgres"};

    private SourceGenerator() {
    }

    static void generate(Path file, long rows, long seed) throws SQLException {
        Random random = new Random(seed);
        long now = System.currentTimeMillis();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath())) {
            try (Statement st = c.createStatement()) {
                // The generation is not measured; make it quick. ferry switches the file to WAL itself.
                st.execute("PRAGMA synchronous = OFF");
                st.execute("PRAGMA journal_mode = MEMORY");
                st.execute(DDL);
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(INSERT)) {
                for (long id = 1; id <= rows; id++) {
                    bindRow(ps, random, id, 0, now);
                    ps.addBatch();
                    if (id % 10_000 == 0) {
                        ps.executeBatch();
                    }
                }
                ps.executeBatch();
            }
            c.commit();
            try (Statement st = c.createStatement()) {
                st.execute("PRAGMA journal_mode = DELETE");
            }
        }
    }

    /** The table of the ferry-vs-pgloader snapshot benchmark: mixed types, including a date and a decimal. */
    static final String MIXED_TABLE = "bench_mixed";

    static final String MIXED_DDL = "CREATE TABLE " + MIXED_TABLE + " ("
            + "id INTEGER PRIMARY KEY, "
            + "name TEXT NOT NULL, "
            + "score REAL NOT NULL, "
            + "qty INTEGER NOT NULL, "
            + "note TEXT, "
            + "payload BLOB, "
            + "created_at DATETIME NOT NULL, "
            + "amount NUMERIC NOT NULL)";

    /**
     * Writes {@link #MIXED_TABLE}: the six columns of {@link #DDL} (same distributions), then {@code created_at} as
     * SQLite's own text format ({@code YYYY-MM-DD HH:MM:SS}, UTC, 2000–2029, as {@code CURRENT_TIMESTAMP} writes it) and
     * {@code amount} bound as a decimal text with two decimals (0.00–99,999.99); NUMERIC affinity stores it as a REAL, or
     * as an INTEGER when the cents are zero, as an application's prices end up.
     */
    static void generateMixed(Path file, long rows, long seed) throws SQLException {
        Random random = new Random(seed);
        java.time.format.DateTimeFormatter f = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
        long from = java.time.LocalDate.of(2000, 1, 1).toEpochSecond(java.time.LocalTime.MIDNIGHT, java.time.ZoneOffset.UTC);
        long span = java.time.LocalDate.of(2030, 1, 1).toEpochSecond(java.time.LocalTime.MIDNIGHT, java.time.ZoneOffset.UTC) - from;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath())) {
            try (Statement st = c.createStatement()) {
                st.execute("PRAGMA synchronous = OFF");
                st.execute("PRAGMA journal_mode = MEMORY");
                st.execute(MIXED_DDL);
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + MIXED_TABLE
                    + " (id, name, score, qty, note, payload, created_at, amount) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (long id = 1; id <= rows; id++) {
                    ps.setLong(1, id);
                    ps.setString(2, name(random));
                    ps.setDouble(3, random.nextDouble() * 1000.0);
                    ps.setLong(4, random.nextInt(1_000_000));
                    if (random.nextInt(10) < 3) {
                        ps.setNull(5, java.sql.Types.VARCHAR);
                    } else {
                        ps.setString(5, "note " + Long.toString(random.nextLong() & Long.MAX_VALUE, 36));
                    }
                    byte[] payload = new byte[16 + random.nextInt(17)];
                    random.nextBytes(payload);
                    ps.setBytes(6, payload);
                    long epoch = from + (long) (random.nextDouble() * span);
                    ps.setString(7, f.format(java.time.LocalDateTime.ofEpochSecond(epoch, 0, java.time.ZoneOffset.UTC)));
                    long cents = random.nextInt(10_000_000);
                    ps.setString(8, (cents / 100) + "." + String.format("%02d", cents % 100));
                    ps.addBatch();
                    if (id % 10_000 == 0) {
                        ps.executeBatch();
                    }
                }
                ps.executeBatch();
            }
            c.commit();
            try (Statement st = c.createStatement()) {
                st.execute("PRAGMA journal_mode = DELETE");
            }
        }
    }

    /** Binds all eight columns of a fresh row image. */
    static void bindRow(PreparedStatement ps, Random random, long id, long txn, long writtenAtMs) throws SQLException {
        ps.setLong(1, id);
        ps.setString(2, name(random));
        ps.setDouble(3, random.nextDouble() * 1000.0);
        ps.setLong(4, random.nextInt(1_000_000));
        if (random.nextInt(10) < 3) {
            ps.setNull(5, java.sql.Types.VARCHAR);
        } else {
            ps.setString(5, "note " + Long.toString(random.nextLong() & Long.MAX_VALUE, 36));
        }
        byte[] payload = new byte[16 + random.nextInt(17)];
        random.nextBytes(payload);
        ps.setBytes(6, payload);
        ps.setLong(7, txn);
        ps.setLong(8, writtenAtMs);
    }

    /** About 40 characters of words and a number. */
    static String name(Random random) {
        StringBuilder sb = new StringBuilder(48);
        while (sb.length() < 32) {
            sb.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
        }
        sb.append(String.format("%07d", random.nextInt(10_000_000)));
        return sb.toString();
    }
}
