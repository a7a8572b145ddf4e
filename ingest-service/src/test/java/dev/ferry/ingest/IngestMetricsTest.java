package dev.ferry.ingest;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.ingest.connect.RecordLabels;
import dev.ferry.ingest.connect.SourceOffset;
import dev.ferry.ingest.connect.SqliteSourceConfig;
import dev.ferry.ingest.connect.SqliteSourceTask;
import dev.ferry.ingest.connect.TaskOffsets;
import dev.ferry.ingest.sqlite.ChangeCapture;
import dev.ferry.ingest.sqlite.SchemaReader;
import dev.ferry.ingest.sqlite.SqliteFile;
import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.avro.ChangeEvent;
import dev.ferry.schemas.avro.Column;
import dev.ferry.schemas.avro.KeyColumn;
import dev.ferry.schemas.avro.Op;
import dev.ferry.schemas.avro.RowKey;
import dev.ferry.schemas.avro.Source;
import dev.ferry.schemas.avro.TableSchema;
import dev.ferry.testkit.SqliteTestDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the ingest's meters read, fed with the records the connector produces, as Kafka acknowledged them. */
class IngestMetricsTest {

    @TempDir
    Path dir;

    private static final Map<String, Object> SNAPSHOT = Map.of("phase", "snapshot");
    private static final Map<String, Object> STREAM = Map.of("phase", "stream", "seq", 0L);

    private static SourceRecord schema(String table, Map<String, Object> offset) {
        TableSchema schema = new TableSchema("s", table, 1L, false, false, List.of(new Column("id", "INTEGER", false, null, 1, null, null)), 0L, List.of(), List.of(), List.of(), false, List.of());
        return record(table, RecordLabels.SCHEMA, EventCodec.encodeKey(new RowKey(List.of())), EventCodec.encodeSchema(schema), offset);
    }

    private static SourceRecord change(String table, Op op, long id, boolean snapshot, Map<String, Object> offset) {
        ChangeEvent event = new ChangeEvent(null, op == Op.d ? null : Map.<String, Object>of("id", id), op,
                new Source("s", table, 0L, snapshot, 0L), 0L);
        return record(table, op.name(), EventCodec.encodeKey(new RowKey(List.of(new KeyColumn("id", id)))), EventCodec.encodeChange(event), offset);
    }

    /** A record labelled as the connector labels it ({@link RecordLabels}); the metrics read only the labels. */
    private static SourceRecord record(String table, String op, byte[] key, byte[] value, Map<String, Object> offset) {
        return new SourceRecord(Map.of("source", "s"), offset, "ferry.s." + table, null, Schema.BYTES_SCHEMA, key,
                Schema.OPTIONAL_BYTES_SCHEMA, value, null, RecordLabels.of(table, op));
    }

    private static double gauge(MeterRegistry registry, String name, String table) {
        return registry.find(name).tag("table", table).gauge().value();
    }

    private static double records(MeterRegistry registry, String table, String op) {
        return registry.find("ferry.ingest.records").tag("table", table).tag("op", op).counter().count();
    }

    @Test
    void snapshotProgressFollowsTheTablesOneAfterTheOtherUntilTheStreamOffset() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "snap.db", "CREATE TABLE a (id INTEGER PRIMARY KEY)",
                "CREATE TABLE b (id INTEGER PRIMARY KEY)", "CREATE TABLE empty (id INTEGER PRIMARY KEY)",
                "INSERT INTO a VALUES (1), (2), (3)", "INSERT INTO b VALUES (1), (2)");
        MeterRegistry registry = new SimpleMeterRegistry();
        try (IngestMetrics metrics = new IngestMetrics(registry, "s", db.path(), () -> -1)) {
            metrics.acknowledged(List.of(schema("a", SNAPSHOT), schema("b", SNAPSHOT), schema("empty", SNAPSHOT),
                    change("a", Op.r, 1, true, SNAPSHOT), change("a", Op.r, 2, true, SNAPSHOT)));
            assertEquals(2, gauge(registry, "ferry.snapshot.rows", "a"));
            assertEquals(0, gauge(registry, "ferry.snapshot.done", "a"));
            assertEquals(0, gauge(registry, "ferry.snapshot.rows", "b"), "b waits for its turn");
            await().atMost(Duration.ofSeconds(10)).until(() -> gauge(registry, "ferry.snapshot.rows.expected", "a") == 3);

            metrics.acknowledged(List.of(change("a", Op.r, 3, true, SNAPSHOT), change("b", Op.r, 1, true, SNAPSHOT)));
            assertEquals(1, gauge(registry, "ferry.snapshot.done", "a"), "b's read starting means a's is done");
            assertEquals(0, gauge(registry, "ferry.snapshot.done", "b"));

            // The snapshot's last record carries the stream offset: every table is done, the empty one too.
            metrics.acknowledged(List.of(change("b", Op.r, 2, true, STREAM)));
            for (String table : List.of("a", "b", "empty")) {
                assertEquals(1, gauge(registry, "ferry.snapshot.done", table), table);
            }
            assertEquals(2, gauge(registry, "ferry.snapshot.rows.expected", "b"), "once done, the rows the read produced");
            assertEquals(0, gauge(registry, "ferry.snapshot.rows.expected", "empty"));

            metrics.acknowledged(List.of(change("b", Op.u, 1, false, STREAM), change("b", Op.d, 2, false, STREAM),
                    record("b", RecordLabels.TOMBSTONE, EventCodec.encodeKey(new RowKey(List.of(new KeyColumn("id", 2L)))), null, STREAM),
                    record("b", "c", new byte[] {1, 2, 3}, new byte[] {4, 5, 6}, STREAM)));
            assertEquals(3, records(registry, "a", "r"));
            assertEquals(2, records(registry, "b", "r"));
            assertEquals(1, records(registry, "b", "u"));
            assertEquals(1, records(registry, "b", "d"));
            assertEquals(1, records(registry, "b", "tombstone"));
            assertEquals(1, records(registry, "b", "c"), "counted by its labels: the value is not decoded");
            assertEquals(0, records(registry, "empty", "c"), "every op of a table is there from its schema event on");
            assertEquals(1, records(registry, "empty", "schema"));
        }
    }

    /** Every record the task emits is counted under its table and kind, the snapshot's last one (with the stream offset) too. */
    @Test
    void theTasksOwnSnapshotRecordsAreCountedByTableAndOp() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "task.db", "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT)",
                "INSERT INTO a VALUES (1, 'x'), (2, 'y'), (3, NULL)");
        Map<String, String> props = Map.of(SqliteSourceConfig.SQLITE_PATH, db.path().toString(), SqliteSourceConfig.SOURCE_NAME, "s");
        MeterRegistry registry = new SimpleMeterRegistry();
        SqliteSourceTask task = new SqliteSourceTask();
        try (TaskOffsets offsets = new TaskOffsets(dir.resolve("offsets.dat"), "ferry-ingest-s");
             IngestMetrics metrics = new IngestMetrics(registry, "s", db.path(), () -> -1)) {
            task.initialize(offsets.taskContext(props));
            task.start(props);
            List<SourceRecord> batch = task.poll();
            assertTrue(SourceOffset.isStream(batch.get(batch.size() - 1).sourceOffset()), "one batch holds the whole snapshot");
            metrics.acknowledged(batch);
            assertEquals(1, gauge(registry, "ferry.snapshot.done", "a"));
        } finally {
            task.stop();
        }
        assertEquals(3, records(registry, "a", "r"));
        assertEquals(2, records(registry, "a", "schema"), "the schema before the rows and the one that ends the snapshot");
        assertNull(registry.find("ferry.ingest.records").tag("op", "unknown").counter(), "no record without its labels");
    }

    @Test
    void backlogCountsTheChangelogEntriesAfterTheProducedSeq() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "backlog.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
        try (Connection c = SqliteFile.openForWrites(db.path())) {
            ChangeCapture.install(c, SchemaReader.readTables(c, Pattern.compile(".*")));
        }
        db.execute("INSERT INTO t VALUES (1, 'a')", "INSERT INTO t VALUES (2, 'b')", "UPDATE t SET v = 'c' WHERE id = 1");
        AtomicLong produced = new AtomicLong(-1);
        MeterRegistry registry = new SimpleMeterRegistry();
        try (IngestMetrics metrics = new IngestMetrics(registry, "s", db.path(), produced::get)) {
            var backlog = registry.find("ferry.ingest.changelog.backlog").tag("source", "s").gauge();
            assertEquals(3, backlog.value(), "nothing produced yet: every entry waits");
            produced.set(2);
            assertEquals(1, backlog.value());
            produced.set(3);
            assertEquals(0, backlog.value());
        }
        assertEquals(null, registry.find("ferry.ingest.changelog.backlog").gauge(), "a stopped service's gauges are gone");
    }
}
