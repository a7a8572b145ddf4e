package dev.ferry.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.ingest.IngestService;
import dev.ferry.ingest.sqlite.ChangeCapture;
import dev.ferry.ingest.sqlite.SqliteFile;
import dev.ferry.schemas.TopicNames;
import dev.ferry.testkit.AppWriter;
import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TableComparison;
import dev.ferry.writer.LagReader;
import dev.ferry.writer.WriterService;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writers scaled out through their consumer group: several writer instances share a source's partitions, one stops
 * mid-stream, another joins, and every partition that moves resumes from the offset stored in PostgreSQL.
 */
class ScaleOutTest {

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    private static final String SOURCE = "scale";
    private static final String GROUP = "ferry-writer-" + SOURCE;
    private static final int PARTITIONS = 4;

    /** A writer instance on its own thread, as one `ferry write` process. */
    private static final class Instance implements AutoCloseable {
        final WriterService writer;
        final Thread thread;

        Instance(String name) throws Exception {
            writer = new WriterService(new WriterService.Settings(infra.broker().bootstrapServers(), infra.pg().jdbcUrl(), SOURCE, "ferry",
                    SOURCE, GROUP, true, 500, Map.of()));
            thread = new Thread(writer, name);
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            writer.stop();
            thread.join(30_000);
            writer.close();
            if (writer.failure() != null) {
                throw new AssertionError(thread.getName() + " failed", writer.failure());
            }
        }
    }

    @Test
    void twoWritersShareThePartitionsAndTheSurvivorTakesOverMidStreamFromTheOffsetsStoredInPostgres() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "scale.db",
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT, qty INTEGER)",
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
        db.insert("INSERT INTO orders VALUES (?, ?, ?)", IntStream.range(0, 8_000).mapToObj(i -> new Object[] {i, "item " + i, i % 9}).toList());
        db.insert("INSERT INTO notes VALUES (?, ?)", IntStream.range(0, 500).mapToObj(i -> new Object[] {i, "note " + i}).toList());
        String kafka = infra.broker().bootstrapServers();
        List<String> topics = List.of(TopicNames.tableTopic("ferry", SOURCE, "notes"), TopicNames.tableTopic("ferry", SOURCE, "orders"));

        try (IngestService ingest = new IngestService(new IngestService.Settings(db.path(), SOURCE, kafka, dir.resolve("ingest-offsets.dat"),
                "ferry", PARTITIONS, Map.of()));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka))) {
            ingest.start();
            await().atMost(Duration.ofMinutes(1)).until(ingest::snapshotDone);

            // Kafka's committed offsets of the group say "everything is done": a writer that trusted them would skip the
            // snapshot. Writers position themselves from _ferry.offsets only (none yet: from the beginning).
            commitGroupOffsetsAtTheEnd(topics);

            AppWriter app = new AppWriter(db.path(), 11, 6_000, 1_000, (c, random, step) -> {
                int id = random.nextInt(10_000);
                int kind = random.nextInt(10);
                String sql = kind < 5 ? "INSERT OR REPLACE INTO orders VALUES (?, 'changed', ?)"
                        : kind < 8 ? "UPDATE orders SET qty = qty + ? WHERE id = ?" : "DELETE FROM orders WHERE id = ? OR id = ?";
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setInt(1, kind < 5 ? id : random.nextInt(100));
                    ps.setInt(2, kind < 5 ? random.nextInt(100) : id);
                    ps.executeUpdate();
                }
                if (step % 7 == 0) {
                    try (PreparedStatement ps = c.prepareStatement("INSERT OR REPLACE INTO notes VALUES (?, ?)")) {
                        ps.setInt(1, random.nextInt(800));
                        ps.setString(2, "edited at step " + step);
                        ps.executeUpdate();
                    }
                }
            });
            Instance first = new Instance("writer-1");
            Instance second = new Instance("writer-2");
            app.start();
            try {
                await().atMost(Duration.ofMinutes(2)).until(() -> first.writer.rowsApplied() > 0 && second.writer.rowsApplied() > 0
                        && app.steps() > 1_000);
                long secondBefore = second.writer.rowsApplied();
                first.close();
                // Mid-stream: the survivor owns every partition now, from where the stopped writer committed them.
                await().atMost(Duration.ofMinutes(1)).until(() -> second.writer.rowsApplied() > secondBefore + 500);
                try (Instance third = new Instance("writer-3")) {
                    // A member joins: partitions move from the survivor to it while the application keeps writing.
                    await().atMost(Duration.ofMinutes(1)).until(() -> third.writer.rowsApplied() > 0);
                    app.join(180_000);
                    awaitCaughtUp(db.path(), ingest, admin);
                    TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), SOURCE);
                }
                assertTrue(second.writer.rowsApplied() > secondBefore, "the survivor kept applying after the other writer stopped");
            } finally {
                app.close();
                second.close();
            }
        }
        assertEachOffsetAppliedExactlyOnce(PARTITIONS * 2);
    }

    private static void commitGroupOffsetsAtTheEnd(List<String> topics) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.broker().bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            topics.forEach(t -> IntStream.range(0, PARTITIONS).forEach(p -> partitions.add(new TopicPartition(t, p))));
            Map<TopicPartition, OffsetAndMetadata> end = new HashMap<>();
            consumer.endOffsets(partitions).forEach((tp, offset) -> end.put(tp, new OffsetAndMetadata(offset)));
            assertTrue(end.values().stream().allMatch(o -> o.offset() > 0), "the snapshot is in every partition: " + end);
            consumer.commitSync(end);
        }
    }

    /** Every change made in SQLite so far is in Kafka, and the group has applied every record of every partition. */
    private static void awaitCaughtUp(Path sqlite, IngestService ingest, Admin admin) throws Exception {
        try (Connection file = SqliteFile.open(sqlite); Connection pg = infra.pg().connect()) {
            long highWater = ChangeCapture.highWaterMark(file);
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200)).until(() -> ingest.producedSeq() >= highWater
                    && LagReader.lag(admin, pg, "ferry", SOURCE, GROUP).values().stream().mapToLong(Long::longValue).sum() == 0);
        }
    }

    /** The audited ranges of all writers together tile each partition from 0 to its stored offset: no gap, no overlap. */
    private static void assertEachOffsetAppliedExactlyOnce(int partitions) throws Exception {
        Map<String, List<long[]>> ranges = new HashMap<>();
        try (Connection c = infra.pg().connect(); PreparedStatement ps = c.prepareStatement("SELECT topic || '-' || kafka_partition, first_offset,"
                + " last_offset FROM _ferry.applied_batches WHERE consumer_group = ? ORDER BY 1, first_offset")) {
            ps.setString(1, GROUP);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ranges.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(new long[] {rs.getLong(2), rs.getLong(3)});
                }
            }
            assertEquals(partitions, ranges.size(), "every partition of every table topic was applied: " + ranges.keySet());
            for (var e : ranges.entrySet()) {
                long expected = 0;
                for (long[] range : e.getValue()) {
                    assertEquals(expected, range[0], e.getKey() + ": the batch after offset " + (expected - 1)
                            + " must start right after it (a gap loses records, an overlap applies them twice)");
                    expected = range[1] + 1;
                }
                try (PreparedStatement next = c.prepareStatement("SELECT next_offset FROM _ferry.offsets WHERE consumer_group = ?"
                        + " AND topic || '-' || kafka_partition = ?")) {
                    next.setString(1, GROUP);
                    next.setString(2, e.getKey());
                    try (ResultSet rs = next.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(expected, rs.getLong(1), e.getKey() + ": the stored offset is the end of the last range");
                    }
                }
            }
        }
    }
}
