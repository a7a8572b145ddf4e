package dev.ferry.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.avro.ChangeEvent;
import dev.ferry.schemas.avro.KeyColumn;
import dev.ferry.schemas.avro.Op;
import dev.ferry.schemas.avro.RowKey;
import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.AppWriter;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TableComparison;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: a real SQLite file written by a live "application" thread, the real ingest task loop, a real
 * KRaft broker, the real PostgreSQL. Every test ends with a row-by-row comparison of source and target.
 */
class ReplicationTest {

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    private Pipeline.Options options(SqliteTestDatabase db, String source, boolean audit) {
        return new Pipeline.Options(db.path(), infra.pg().jdbcUrl(), dir.resolve("state"), source, infra.broker().bootstrapServers(), "ferry",
                source, 1, audit, Map.of());
    }

    static final String[] MIXED_TABLES = {
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL, qty INTEGER, data BLOB)",
        "CREATE TABLE pairs (a TEXT NOT NULL, b INTEGER NOT NULL, val TEXT, PRIMARY KEY (a, b))",
        "CREATE TABLE logs (msg TEXT, level INTEGER)",
        "CREATE TABLE kv (k TEXT PRIMARY KEY, v) WITHOUT ROWID",
    };

    /** One application transaction touching every table: inserts, updates (some of keys) and deletes; returns the rows it changed. */
    static int mixedChange(Connection c, Random r, long step) throws SQLException {
        try (Statement st = c.createStatement()) {
            applyMixedChange(st, r, step);
            // sqlite-jdbc's update count includes the rows our triggers write; SQLite's changes() does not.
            try (ResultSet rs = st.executeQuery("SELECT changes()")) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static void applyMixedChange(Statement st, Random r, long step) throws SQLException {
        int id = r.nextInt(30_000);
        switch (r.nextInt(9)) {
            case 0, 1 -> st.executeUpdate("INSERT OR REPLACE INTO items (id, name, price, qty, data) VALUES (" + id + ", 'item "
                    + step + "', " + (r.nextInt(100_000) / 100.0) + ", " + r.nextInt(50) + ", randomblob(" + r.nextInt(16) + "))");
            case 2 -> st.executeUpdate("UPDATE items SET price = price + 1, name = name || '!' WHERE id = " + id);
            case 3 -> st.executeUpdate("DELETE FROM items WHERE id = " + id);
            case 4 -> st.executeUpdate("INSERT OR REPLACE INTO pairs VALUES ('k" + (id % 500) + "', " + (id % 7) + ", 'v" + step + "')");
            // A key change that may collide: REPLACE silently deletes the row holding the new key.
            case 5 -> st.executeUpdate("UPDATE OR REPLACE pairs SET b = b + 100 WHERE a = 'k" + (id % 500) + "' AND b = " + (id % 7));
            case 6 -> st.executeUpdate("INSERT INTO logs VALUES ('log " + step + "', " + r.nextInt(5) + ")");
            case 7 -> st.executeUpdate("DELETE FROM logs WHERE rowid = (SELECT min(rowid) FROM logs)");
            default -> st.executeUpdate("INSERT OR REPLACE INTO kv VALUES ('key" + (id % 1000) + "', "
                    + (step % 3 == 0 ? "'text " + step + "'" : step % 3 == 1 ? Long.toString(step) : "'" + step + ".5'") + ")");
        }
    }

    static SqliteTestDatabase seededMixed(Path dir, int rows) throws SQLException {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "app.db", MIXED_TABLES);
        Random r = new Random(1);
        db.insert("INSERT INTO items VALUES (?, ?, ?, ?, ?)", IntStream.range(0, rows).mapToObj(i -> new Object[] {
            i, "item " + i, i * 1.25, i % 50, i % 4 == 0 ? null : new byte[] {(byte) i, 0, (byte) 255}}).toList());
        db.insert("INSERT INTO pairs VALUES (?, ?, ?)", IntStream.range(0, rows / 10).mapToObj(i -> new Object[] {
            "k" + i, i % 7, "v" + r.nextInt()}).toList());
        db.insert("INSERT INTO logs VALUES (?, ?)", IntStream.range(0, rows / 10).mapToObj(i -> new Object[] {"log " + i, i % 5}).toList());
        db.insert("INSERT INTO kv VALUES (?, ?)", IntStream.range(0, rows / 20).mapToObj(i -> new Object[] {
            "key" + i, i % 2 == 0 ? (Object) ("t" + i) : (Object) (long) i}).toList());
        return db;
    }

    @Test
    void snapshotLosesNoRowWhileTheAppKeepsWriting() throws Exception {
        SqliteTestDatabase db = seededMixed(dir, 40_000);
        try (AppWriter app = new AppWriter(db.path(), 11, 4_000, 200, (c, r, step) -> mixedChange(c, r, step)).start();
             Pipeline pipeline = new Pipeline(options(db, "snap", false))) {
            pipeline.start();
            app.join(120_000);
            assertTrue(app.steps() >= 4_000, "the application wrote all its transactions");
            pipeline.awaitCaughtUp(Duration.ofMinutes(3));
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "snap");
            assertTrue(TableComparison.compare(db.path(), "items", infra.pg().jdbcUrl(), "snap").sourceRows() > 30_000,
                    "sanity: the comparison read the items table");
        }
    }

    @Test
    void tenThousandStreamedChangesArriveIdentical() throws Exception {
        SqliteTestDatabase db = seededMixed(dir, 1_000);
        try (Pipeline pipeline = new Pipeline(options(db, "stream", false))) {
            pipeline.start();
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            long before = pipeline.progress().changelogHighWater();
            AtomicLong changedRows = new AtomicLong();
            try (AppWriter app = new AppWriter(db.path(), 22, Long.MAX_VALUE, 0,
                    (c, r, step) -> changedRows.addAndGet(mixedChange(c, r, step))).start()) {
                await().atMost(Duration.ofMinutes(3)).until(() -> changedRows.get() >= 10_000);
            }
            Pipeline.Progress done = pipeline.awaitCaughtUp(Duration.ofMinutes(3));
            assertTrue(done.changelogHighWater() - before >= changedRows.get(),
                    "every changed row is in the changelog: " + (done.changelogHighWater() - before) + " entries for " + changedRows + " rows");
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "stream");
            // Once their offsets are stored, consumed entries leave the changelog; the newest stays so that seq never goes back.
            await().atMost(Duration.ofSeconds(30)).until(() -> changelogRows(db) == 1);
        }
    }

    private static long changelogRows(SqliteTestDatabase db) throws SQLException {
        try (Connection c = db.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM _ferry_changelog")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void topicsAreCompactedAndADeleteIsFollowedByATombstone() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "tomb.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)",
                "INSERT INTO t VALUES (1, 'one'), (2, 'two')");
        try (Pipeline pipeline = new Pipeline(options(db, "tomb", false))) {
            pipeline.start();
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            db.execute("DELETE FROM t WHERE id = 2");
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
        }
        String topic = dev.ferry.schemas.TopicNames.tableTopic("ferry", "tomb", "t");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.broker().bootstrapServers()))) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            String policy = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource)
                    .get(TopicConfig.CLEANUP_POLICY_CONFIG).value();
            assertEquals(TopicConfig.CLEANUP_POLICY_COMPACT, policy);
        }
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.broker().bootstrapServers());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        byte[] keyOfTwo = EventCodec.encodeKey(new RowKey(List.of(new KeyColumn("id", 2L))));
        List<ConsumerRecord<byte[], byte[]>> ofTwo = records.stream().filter(r -> java.util.Arrays.equals(r.key(), keyOfTwo)).toList();
        assertEquals(3, ofTwo.size(), "snapshot read, delete event, tombstone");
        assertEquals(Op.r, EventCodec.decodeChange(ofTwo.get(0).value()).getOp());
        ChangeEvent delete = EventCodec.decodeChange(ofTwo.get(1).value());
        assertEquals(Op.d, delete.getOp());
        assertEquals(Map.of("id", 2L), delete.getBefore());
        assertEquals(null, delete.getAfter());
        assertEquals(null, ofTwo.get(2).value(), "a tombstone lets compaction drop the key");
    }

    @Test
    void crashesOfIngestAndWriterMidStreamLoseAndRepeatNothing() throws Exception {
        SqliteTestDatabase db = seededMixed(dir, 5_000);
        try (AppWriter app = new AppWriter(db.path(), 33, 30_000, 300, (c, r, step) -> mixedChange(c, r, step)).start();
             Pipeline pipeline = new Pipeline(options(db, "crash", true))) {
            pipeline.start();
            for (int round = 0; round < 3; round++) {
                Thread.sleep(1_500);
                pipeline.killWriter();
                Thread.sleep(500);
                pipeline.startWriter();
                Thread.sleep(1_500);
                pipeline.killIngest();
                Thread.sleep(500);
                pipeline.startIngest();
            }
            app.close();
            pipeline.awaitCaughtUp(Duration.ofMinutes(3));
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "crash");
            assertAppliedRangesContiguous("ferry-writer-crash");
        }
    }

    /** Every offset of every partition was applied exactly once: the audited ranges tile [0, end) without gap or overlap. */
    private static void assertAppliedRangesContiguous(String group) throws SQLException {
        Map<String, List<long[]>> ranges = new HashMap<>();
        try (Connection c = infra.pg().connect(); PreparedStatement ps = c.prepareStatement("SELECT topic || '-' || kafka_partition, first_offset,"
                + " last_offset FROM _ferry.applied_batches WHERE consumer_group = ? ORDER BY 1, first_offset")) {
            ps.setString(1, group);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ranges.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(new long[] {rs.getLong(2), rs.getLong(3)});
                }
            }
            assertEquals(4, ranges.size(), "one range list per table topic: " + ranges.keySet());
            for (var e : ranges.entrySet()) {
                long expected = 0;
                for (long[] range : e.getValue()) {
                    assertEquals(expected, range[0], e.getKey() + ": the batch after offset " + (expected - 1)
                            + " must start right after it (a gap loses records, an overlap applies them twice)");
                    expected = range[1] + 1;
                }
                try (PreparedStatement next = c.prepareStatement("SELECT next_offset FROM _ferry.offsets WHERE consumer_group = ?"
                        + " AND topic || '-' || kafka_partition = ?")) {
                    next.setString(1, group);
                    next.setString(2, e.getKey());
                    try (ResultSet rs = next.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(expected, rs.getLong(1), e.getKey() + ": stored offset is the end of the last range");
                    }
                }
            }
        }
    }

    @Test
    void oddIdentifiersSurviveTheTrip() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "odd names.db",
                "CREATE TABLE \"select\" (id INTEGER PRIMARY KEY, \"weird \"\"col\"\"\" TEXT, \"Mixed Case\" INTEGER, \"order\" REAL)",
                "CREATE TABLE \"Order Details\" (\"Order ID\" INTEGER, \"Product.ID\" TEXT, \"ü-ñ 😀\" TEXT, PRIMARY KEY (\"Order ID\", \"Product.ID\"))",
                "CREATE TABLE \"no key\" (\"rowid\" TEXT, \"oid\" INTEGER, v TEXT)",
                "INSERT INTO \"select\" VALUES (1, 'it''s \"quoted\"', 7, 1.5), (2, NULL, NULL, NULL)",
                "INSERT INTO \"Order Details\" VALUES (1, 'a.b', 'x'), (1, 'c d', 'y')",
                "INSERT INTO \"no key\" VALUES ('r1', 1, 'first'), ('r2', 2, 'second')");
        try (Pipeline pipeline = new Pipeline(options(db, "odd", false))) {
            pipeline.start();
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            db.execute("UPDATE \"select\" SET \"weird \"\"col\"\"\" = 'tab\there\nnewline\\\\backslash' WHERE id = 2",
                    "INSERT INTO \"select\" VALUES (3, '😀', -1, -0.5)",
                    "UPDATE \"Order Details\" SET \"Product.ID\" = 'moved' WHERE \"Product.ID\" = 'c d'",
                    "DELETE FROM \"no key\" WHERE \"oid\" = 1",
                    "INSERT INTO \"no key\" VALUES ('r3', 3, 'third')");
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "odd");
            try (Connection c = infra.pg().connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT \"weird \"\"col\"\"\" FROM odd.\"select\" WHERE id = 1")) {
                assertTrue(rs.next());
                assertEquals("it's \"quoted\"", rs.getString(1));
            }
        }
    }

    @Test
    void valuesPostgresCannotHoldAreDeadLetteredAndEveryOtherRowArrives() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "bad.db",
                "CREATE TABLE files (id INTEGER PRIMARY KEY, filename TEXT, qty INTEGER)",
                "INSERT INTO files VALUES (1, 'valid.txt', 1)",
                "INSERT INTO files VALUES (2, CAST(X'66696C65966E616D65' AS TEXT), 2)",
                "INSERT INTO files VALUES (3, X'66696C65966E616D65', 3)",
                "INSERT INTO files VALUES (4, 'counted', '12abc')",
                "INSERT INTO files VALUES (5, 'nul' || char(0) || 'inside', 5)",
                "INSERT INTO files VALUES (6, 'also valid ✓', 6)");
        try (Pipeline pipeline = new Pipeline(options(db, "bad", false))) {
            pipeline.start();
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            db.execute("INSERT INTO files VALUES (7, CAST(X'C328' AS TEXT), 7)", "INSERT INTO files VALUES (8, 'streamed', 8)");
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            assertEquals(5, pipeline.writer().deadLetters(), "rows 2, 3, 4, 5 and 7 cannot be written as they are");
            Map<Long, String> arrived = new java.util.TreeMap<>();
            try (Connection c = infra.pg().connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id, filename, qty FROM bad.files")) {
                while (rs.next()) {
                    arrived.put(rs.getLong(1), rs.getString(2) + "|" + rs.getLong(3));
                }
            }
            assertEquals(Map.of(1L, "valid.txt|1", 6L, "also valid ✓|6", 8L, "streamed|8"), arrived,
                    "no value was altered on the way: the bad rows are set aside whole, not repaired");
        }
    }

    @Test
    void rowsWhoseDeclaredKeyIsNullAreAllKeptApart() throws Exception {
        // SQLite lets NULL into a primary key that is not the rowid: one that is not INTEGER PRIMARY KEY (as in pgloader's
        // own test database), and, by a documented quirk, INTEGER PRIMARY KEY DESC written on the column.
        List<String> tables = List.of("autoinc", "descending", "short");
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "legacy.db",
                "CREATE TABLE autoinc (id integer auto_increment primary key, v TEXT)",
                "CREATE TABLE descending (id INTEGER PRIMARY KEY DESC, v TEXT)",
                "CREATE TABLE short (id INT PRIMARY KEY, v TEXT)");
        for (String t : tables) {
            db.execute("INSERT INTO " + t + " (v) VALUES ('a'), ('b'), ('c')", "INSERT INTO " + t + " VALUES (5, 'five')");
        }
        try (Pipeline pipeline = new Pipeline(options(db, "legacy", false))) {
            pipeline.start().awaitCaughtUp(Duration.ofMinutes(2));
            for (String t : tables) {
                db.execute("INSERT INTO " + t + " (v) VALUES ('d')", "UPDATE " + t + " SET v = 'B' WHERE v = 'b'", "DELETE FROM " + t + " WHERE v = 'a'");
            }
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            assertEquals(0, pipeline.writer().deadLetters());
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "legacy");
            for (String t : tables) {
                try (Connection c = infra.pg().connect(); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT count(*) FROM legacy." + t + " WHERE id IS NULL")) {
                    rs.next();
                    assertEquals(3, rs.getLong(1), t + ": b, c and d keep their NULL id, each its own row");
                }
            }
        }
    }

    @Test
    void namesLongerThanPostgresKeepsStayApart() throws Exception {
        String a = "a".repeat(63) + "1";
        String b = "a".repeat(63) + "2";
        String table = "t_" + "é".repeat(40);
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "long.db",
                "CREATE TABLE \"" + table + "\" (id INTEGER PRIMARY KEY, \"" + a + "\" TEXT, \"" + b + "\" TEXT)",
                "INSERT INTO \"" + table + "\" VALUES (1, 'first', 'second')");
        try (Pipeline pipeline = new Pipeline(options(db, "longnames", false))) {
            pipeline.start().awaitCaughtUp(Duration.ofMinutes(2));
            db.execute("UPDATE \"" + table + "\" SET \"" + b + "\" = 'changed' WHERE id = 1");
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "longnames");
            try (Connection c = infra.pg().connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'longnames'"
                         + " AND column_name LIKE 'aaaa%' AND octet_length(column_name) <= 63")) {
                rs.next();
                assertEquals(2, rs.getLong(1), "two distinct PostgreSQL columns, each within 63 bytes");
            }
        }
    }
}
