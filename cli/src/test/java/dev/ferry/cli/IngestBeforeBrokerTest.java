package dev.ferry.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.broker.EmbeddedKafkaBroker;
import dev.ferry.ingest.IngestService;
import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.TopicNames;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TopicRecords;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ferry up} starts the ingest while its broker starts: the first batch waits for the broker, or fails with it. */
class IngestBeforeBrokerTest {

    @TempDir
    Path dir;

    private SqliteTestDatabase notes(int rows) throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "notes.db", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
        List<Object[]> values = new ArrayList<>();
        for (int i = 1; i <= rows; i++) {
            values.add(new Object[] {i, "note " + i});
        }
        db.insert("INSERT INTO notes VALUES (?, ?)", values);
        return db;
    }

    @Test
    void anIngestStartedBeforeItsBrokerIsReadyDeliversEveryRowOnce() throws Exception {
        SqliteTestDatabase db = notes(5_000);
        EmbeddedKafkaBroker.Starting starting = EmbeddedKafkaBroker.startInBackground(dir.resolve("kafka"));
        try (IngestService ingest = new IngestService(new IngestService.Settings(db.path(), "early", starting.bootstrapServers(),
                dir.resolve("offsets.dat"), "ferry", 1, Map.of()))) {
            ingest.start(starting.started());
            try (EmbeddedKafkaBroker broker = starting.await()) {
                await().atMost(Duration.ofMinutes(1)).until(ingest::snapshotDone);
                List<ConsumerRecord<byte[], byte[]>> records = TopicRecords.readAll(broker.bootstrapServers(),
                        TopicNames.tableTopic("ferry", "early", "notes"));
                TreeSet<Long> ids = new TreeSet<>();
                int rows = 0;
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    if (EventCodec.kindOf(r.value()) == EventCodec.Kind.CHANGE) {
                        ids.add((Long) EventCodec.decodeChange(r.value()).getAfter().get("id"));
                        rows++;
                    }
                }
                assertEquals(5_000, rows, "one record per row");
                assertEquals(5_000, ids.size());
                assertEquals(1L, ids.first());
                assertEquals(5_000L, ids.last());
            }
        }
    }

    @Test
    void anIngestWhoseBrokerFailsStopsWithTheReasonAndClosesPromptly() throws Exception {
        SqliteTestDatabase db = notes(10);
        CompletableFuture<Void> broker = new CompletableFuture<>();
        IngestService ingest = new IngestService(new IngestService.Settings(db.path(), "doomed", "127.0.0.1:1", dir.resolve("offsets.dat"),
                "ferry", 1, Map.of()));
        ingest.start(broker);
        broker.completeExceptionally(new IllegalStateException("no disk for the broker"));
        await().atMost(Duration.ofSeconds(30)).until(() -> ingest.failure() != null);
        assertTrue(String.valueOf(ingest.failure().getMessage()).contains("Kafka did not start: no disk for the broker"),
                String.valueOf(ingest.failure()));
        long started = System.nanoTime();
        ingest.close();
        assertTrue(System.nanoTime() - started < Duration.ofSeconds(15).toNanos(), "close() took "
                + (System.nanoTime() - started) / 1_000_000 + " ms");
        assertEquals(0, ingest.recordsSent());
    }
}
