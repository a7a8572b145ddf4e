package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.TopicNames;
import dev.ferry.schemas.avro.Op;
import dev.ferry.testkit.AppWriter;
import dev.ferry.testkit.DeadLetters;
import dev.ferry.testkit.HostileDatabase;
import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TableComparison;
import dev.ferry.testkit.TopicRecords;
import io.micrometer.core.instrument.Counter;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Databases we do not have, generated from a seed ({@link HostileDatabase}): hostile table, column and index names, every
 * kind of key, many declared types and every storage class in every column, while an application writes hard (inserts,
 * updates, key updates, deletes, REPLACE) during the snapshot and after it. Once the pipeline has caught up, every table is
 * compared row by row ({@link TableComparison}, the documented type mapping); each difference must be a row whose last
 * event is in the dead-letter topic, naming its table and a column with a documented reason. The table topics are the
 * ledger: rows read (keys whose last event is a row) = rows in SQLite = rows written (equal in PostgreSQL) + rows
 * dead-lettered; the snapshot rows the ingest reports are those on the topic. Every SQLite index and CHECK exists in
 * PostgreSQL. {@code -Dferry.hostile.seeds=4,5,6} runs other seeds; each prints what it wrote and refused, table by table.
 */
class HostileDatabaseTest {

    private static final String PREFIX = "ferry";
    private static final int TABLES = 9;
    private static final int ROWS_PER_TABLE = 800;
    /** How long the application keeps writing once the snapshot is done. */
    private static final long WRITES_AFTER_SNAPSHOT_MS = 4_000;

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    /** Seeds 1, 2 and 3, or those of {@code -Dferry.hostile.seeds=4,5,6}: a seed gives the same database and application writes. */
    static LongStream seeds() {
        return Arrays.stream(System.getProperty("ferry.hostile.seeds", "1,2,3").split(",")).mapToLong(s -> Long.parseLong(s.trim()));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void hostileNamesAndEveryStorageClassWrittenDuringTheSnapshotArriveOrAreDocumentedDeadLetters(long seed, @TempDir Path dir) throws Exception {
        HostileDatabase hostile = HostileDatabase.generate(seed, TABLES);
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "hostile \"" + seed + "\".db", hostile.ddl(seed).toArray(String[]::new));
        try (Connection c = db.connect()) {
            hostile.fill(c, seed, ROWS_PER_TABLE);
        }
        String source = "hostile_" + seed;
        String schema = "hostile \"" + seed + "\" schéma";
        Pipeline.Options options = new Pipeline.Options(db.path(), infra.pg().jdbcUrl(), dir.resolve("state"), source,
                infra.broker().bootstrapServers(), PREFIX, schema, 1, false, Map.of());
        try (AppWriter app = new AppWriter(db.path(), seed, Long.MAX_VALUE, 100, hostile::step).start();
             Pipeline pipeline = new Pipeline(options)) {
            long started = System.nanoTime();
            pipeline.start();
            long atStart = app.steps();
            while (pipeline.ingest() == null || !pipeline.ingest().snapshotDone()) {
                pipeline.checkHealthy();
                assertTrue(System.nanoTime() - started < Duration.ofMinutes(2).toNanos(), "the snapshot did not end within 2 minutes");
                Thread.sleep(20);
            }
            long atSnapshotDone = app.steps();
            app.join(WRITES_AFTER_SNAPSHOT_MS);
            assertTrue(atSnapshotDone - atStart > 0, "the application wrote during the snapshot: " + atStart + " then " + atSnapshotDone
                    + " transaction(s)");
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            System.out.printf("seed %d: %d application transaction(s), %d during the snapshot, caught up after %d ms%n", seed, app.steps(),
                    atSnapshotDone - atStart, (System.nanoTime() - started) / 1_000_000);

            List<DeadLetters.Letter> letters = DeadLetters.read(infra.broker().bootstrapServers(), PREFIX, source,
                    pipeline.writer().deadLetters());
            List<String> problems = new ArrayList<>();
            StringBuilder report = new StringBuilder("seed " + seed + ":\n");
            long[] totals = new long[2];
            for (HostileDatabase.Table table : hostile.tables()) {
                checkTable(db, schema, source, table, letters, pipeline, problems, report, totals);
            }
            assertTrue(totals[0] > 0 && totals[1] > 0, "the test writes rows and has some refused: " + totals[0] + " written, "
                    + totals[1] + " dead-lettered");
            for (DeadLetters.Letter l : letters) {
                String why = documentedRefusal(schema, hostile, l);
                if (why != null) {
                    problems.add("dead letter without a documented reason (" + why + "): " + describe(l));
                }
            }
            problems.forEach(p -> report.append("  problem: ").append(p.replace("\n", "\\n")).append('\n'));
            System.out.print(report);
            assertEquals(List.of(), problems.subList(0, Math.min(40, problems.size())), problems.size() + " problem(s), the first 40 above");
        }
    }

    /**
     * One table: indexes and checks created; the ledger of its topic; and every difference TableComparison finds is a row
     * whose last event was dead-lettered.
     */
    private static void checkTable(SqliteTestDatabase db, String schema, String source, HostileDatabase.Table table, List<DeadLetters.Letter> letters,
                                   Pipeline pipeline, List<String> problems, StringBuilder report, long[] totals) throws SQLException {
        String name = table.name();
        String topic = TopicNames.tableTopic(PREFIX, source, name);
        Set<String> lettered = new HashSet<>();
        for (DeadLetters.Letter l : letters) {
            if (topic.equals(l.topic())) {
                lettered.add(l.partition() + "@" + l.offset());
                if (!name.equals(l.table())) {
                    problems.add(name + ": a dead letter from its topic names table \"" + l.table() + "\": " + describe(l));
                }
            }
        }
        // The last row event per key; a tombstone follows its delete and is not applied.
        Map<String, ConsumerRecord<byte[], byte[]>> last = new LinkedHashMap<>();
        long snapshotRecords = 0;
        try (TableComparison.KeyText keys = TableComparison.keyText(db.path(), name, infra.pg().jdbcUrl(), schema)) {
            Map<ByteBuffer, String> keyTexts = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : TopicRecords.readAll(infra.broker().bootstrapServers(), topic)) {
                if (r.value() == null || EventCodec.kindOf(r.value()) != EventCodec.Kind.CHANGE) {
                    continue;
                }
                String key = keyTexts.get(ByteBuffer.wrap(r.key()));
                if (key == null) {
                    List<Object> values = new ArrayList<>();
                    EventCodec.decodeKey(r.key()).getColumns().forEach(k -> values.add(DeadLetters.value(k.getValue())));
                    key = keys.of(values);
                    keyTexts.put(ByteBuffer.wrap(r.key()), key);
                }
                last.remove(key);
                last.put(key, r);
                snapshotRecords += EventCodec.decodeChange(r.value()).getSource().getSnapshot() ? 1 : 0;
            }
        }
        // What ferry reports it read in the snapshot is what the topic holds.
        Counter snapshotRead = pipeline.meterRegistry().find("ferry.ingest.records").tag("table", name).tag("op", "r").counter();
        if (snapshotRead == null || (long) snapshotRead.count() != snapshotRecords) {
            problems.add(name + ": the ingest reports " + (snapshotRead == null ? "no" : (long) snapshotRead.count()) + " snapshot row(s),"
                    + " the topic holds " + snapshotRecords);
        }
        long read = 0;
        long deadLettered = 0;
        Set<String> refusedLast = new HashSet<>();
        for (var e : last.entrySet()) {
            boolean row = EventCodec.decodeChange(e.getValue().value()).getOp() != Op.d;
            boolean refused = lettered.contains(e.getValue().partition() + "@" + e.getValue().offset());
            read += row ? 1 : 0;
            deadLettered += row && refused ? 1 : 0;
            if (refused) {
                refusedLast.add(e.getKey());
            }
        }
        TableComparison.Result result = TableComparison.compare(db.path(), name, infra.pg().jdbcUrl(), schema);
        report.append(String.format("  %-40s %-20s %5d in the snapshot; %5d read, %5d written, %4d dead-lettered; %d difference(s)%n",
                "\"" + name + "\"", table.keyKind(), snapshotRecords, read, read - deadLettered, deadLettered, result.differences().size()));
        totals[0] += read - deadLettered;
        totals[1] += deadLettered;
        if (read != result.sourceRows()) {
            problems.add(name + ": " + result.sourceRows() + " row(s) in SQLite but " + read + " key(s) whose last event is a row");
        }
        for (String key : result.differingKeys()) {
            if (!refusedLast.contains(key)) {
                problems.add(name + ": key " + key + " differs and its last event " + (last.containsKey(key) ? "was not dead-lettered"
                        : "does not exist") + ": " + result.differences().stream().filter(d -> d.contains("key " + key + " ")).toList());
            }
        }
        Map<String, Integer> reasons = new TreeMap<>();
        for (DeadLetters.Letter l : letters) {
            if (topic.equals(l.topic()) && l.reason() != null) {
                String reason = l.reason().replaceAll("(?s) \\(column .*", "");
                reasons.merge("\"" + l.column() + "\" " + pgType(schema, name, l.column()) + ": "
                        + (reason.length() > 90 ? reason.substring(0, 90) : reason), 1, Integer::sum);
            }
        }
        reasons.forEach((reason, n) -> report.append(String.format("      %5d %s%n", n, reason.replace("\n", "\\n"))));
        checkIndexesAndChecks(schema, table, problems);
    }

    /** Every SQLite index is a PostgreSQL index of the same name (shortened past 63 bytes), every CHECK a constraint. */
    private static void checkIndexesAndChecks(String schema, HostileDatabase.Table table, List<String> problems) throws SQLException {
        String qualified = quote(schema) + "." + quote(TableComparison.pgName(table.name()));
        try (Connection c = infra.pg().connect()) {
            Set<String> indexes = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                    + " WHERE i.indrelid = to_regclass(?)")) {
                ps.setString(1, qualified);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        indexes.add(rs.getString(1));
                    }
                }
            }
            for (String index : table.indexes().stream().map(HostileDatabase.Index::name).toList()) {
                if (!indexes.contains(TableComparison.pgName(index))) {
                    problems.add(table.name() + ": index \"" + index + "\" is not in PostgreSQL, which has " + indexes);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_constraint WHERE conrelid = to_regclass(?) AND contype = 'c'")) {
                ps.setString(1, qualified);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) != table.checks()) {
                        problems.add(table.name() + ": " + table.checks() + " CHECK constraint(s) in SQLite, " + rs.getInt(1) + " in PostgreSQL");
                    }
                }
            }
        }
    }

    private static final Pattern VALUE_REFUSED = Pattern.compile("(?s).*\\(column \"(.*)\", value .*\\)");

    /**
     * Null when the dead letter is a value refusal as docs/type-mapping.md describes it: it names its table and a column of
     * it, in the header and in the reason, and the column's value is of a storage class that the column's PostgreSQL type
     * may refuse (a bigint never refuses an INTEGER, a text column only NUL or bytes that are not UTF-8, ...). Else why not.
     */
    private static String documentedRefusal(String schema, HostileDatabase hostile, DeadLetters.Letter l) throws SQLException {
        HostileDatabase.Table table = hostile.tables().stream().filter(t -> t.name().equals(l.table())).findFirst().orElse(null);
        if (table == null) {
            return "no such table";
        }
        if (l.column() == null || table.columns().stream().noneMatch(c -> c.name().equals(l.column()))) {
            return "the column header names no column of the table";
        }
        Matcher m = VALUE_REFUSED.matcher(l.reason() == null ? "" : l.reason());
        if (!m.matches() || !m.group(1).equals(l.column())) {
            return "the reason does not name the column and the value";
        }
        if (l.event() == null) {
            return "no change event";
        }
        Object value;
        if (l.op() == Op.d) {
            int at = table.keys().stream().map(HostileDatabase.Column::name).toList().indexOf(l.column());
            if (at < 0) {
                return "a delete refused for a column that is not in the key";
            }
            value = l.key().get(at);
        } else {
            value = DeadLetters.value(l.event().getAfter().get(l.column()));
        }
        String pgType = pgType(schema, table.name(), l.column());
        return refusable(pgType, value) ? null : "a " + pgType + " column does not refuse " + describe(value);
    }

    /** Whether docs/type-mapping.md lets a {@code pgType} column refuse this value (true where the rules are many). */
    static boolean refusable(String pgType, Object value) {
        if (value == null) {
            return false;
        }
        return switch (pgType) {
            case "bigint" -> !(value instanceof Long);
            case "double precision" -> value instanceof Long l ? new BigDecimal((double) l).compareTo(BigDecimal.valueOf(l)) != 0
                    : !(value instanceof Double);
            case "numeric" -> value instanceof String || value instanceof byte[];
            case "text" -> value instanceof String s ? s.indexOf('\0') >= 0 : value instanceof byte[] b && !utf8WithoutNul(b);
            case "bytea" -> false;
            case "boolean" -> !(value instanceof Long l && (l == 0 || l == 1)) && !(value instanceof Double d && (d == 0 || d == 1));
            default -> true;
        };
    }

    private static boolean utf8WithoutNul(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).chars().noneMatch(ch -> ch == 0);
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    private static final Map<String, String> PG_TYPES = new HashMap<>();

    private static String pgType(String schema, String table, String column) throws SQLException {
        String id = schema + '\0' + table + '\0' + column;
        String known = PG_TYPES.get(id);
        if (known != null) {
            return known;
        }
        try (Connection c = infra.pg().connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? AND column_name = ?")) {
            ps.setString(1, schema);
            ps.setString(2, TableComparison.pgName(table));
            ps.setString(3, TableComparison.pgName(column));
            try (ResultSet rs = ps.executeQuery()) {
                String type = rs.next() ? rs.getString(1) : "?";
                PG_TYPES.put(id, type);
                return type;
            }
        }
    }

    private static String describe(DeadLetters.Letter l) {
        return "table \"" + l.table() + "\" key " + l.key().stream().map(HostileDatabaseTest::describe).toList() + " " + l.op() + " column \""
                + l.column() + "\": " + (l.reason() == null ? null : l.reason().length() > 300 ? l.reason().substring(0, 300) + "..." : l.reason());
    }

    private static String describe(Object value) {
        if (value instanceof byte[] b) {
            return "BLOB of " + b.length + " bytes";
        }
        String s = value instanceof String text ? "'" + text + "'" : String.valueOf(value);
        return (value == null ? "" : value.getClass().getSimpleName() + " ") + (s.length() > 80 ? s.substring(0, 77) + "..." : s);
    }

    private static String quote(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }
}
