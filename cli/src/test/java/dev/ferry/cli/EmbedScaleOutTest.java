package dev.ferry.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.embed.EmbedService;
import dev.ferry.embed.EmbeddingSpec;
import dev.ferry.embed.model.EmbeddingModel;
import dev.ferry.embed.model.EmbeddingModels;
import dev.ferry.ingest.IngestService;
import dev.ferry.ingest.sqlite.ChangeCapture;
import dev.ferry.ingest.sqlite.SqliteFile;
import dev.ferry.schemas.TopicNames;
import dev.ferry.testkit.AppWriter;
import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.TableComparison;
import dev.ferry.writer.LagReader;
import dev.ferry.writer.WriterService;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Embed services scaled out through their consumer group ({@code ferry-embed-<source>}): two instances share the
 * partitions of document_chunks while the application keeps writing, one stops mid-stream, the other takes its
 * partitions over from the committed offsets, and every row still ends up with the model's vector of its current text.
 */
class EmbedScaleOutTest {

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    private static final String SOURCE = "kbscale";
    private static final String GROUP = "ferry-embed-" + SOURCE;
    private static final int PARTITIONS = 4;
    private static final int USERS = 20;
    private static final int STEPS = 600;
    private static final int HOLD_AT = 450;
    private static final List<EmbeddingSpec> SPECS = List.of(EmbeddingSpec.of("embeddings[0]", "document_chunks", "text", "embedding_vector",
            null, "minilm", "hnsw", null));

    /** An embed instance on its own thread with its own model, as one `ferry embed` process. */
    private static final class Instance implements AutoCloseable {
        final EmbeddingModel model = EmbeddingModels.create(java.util.Map.of());
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        final EmbedService embed;
        final Thread thread;
        private boolean closed;

        Instance(String name) throws Exception {
            this(name, SOURCE, 16, Duration.ofMillis(50));
        }

        Instance(String name, String source, int batchSize, Duration maxWait) throws Exception {
            embed = new EmbedService(new EmbedService.Settings(infra.broker().bootstrapServers(), infra.pg().jdbcUrl(), source, "ferry",
                    source, "ferry-embed-" + source, SPECS, batchSize, maxWait, 1, 50_000), Map.of("minilm", model), registry);
            thread = new Thread(embed, name);
            thread.start();
        }

        /** Records its consumer has fetched (Kafka's client metric, without the per-topic tag). */
        double recordsFetched() {
            return registry.find("kafka.consumer.fetch.manager.records.consumed.total").functionCounters().stream()
                    .filter(c -> c.getId().getTag("topic") == null).mapToDouble(FunctionCounter::count).sum();
        }

        @Override
        public void close() throws InterruptedException {
            if (closed) {
                return;
            }
            closed = true;
            embed.stop();
            thread.join(60_000);
            embed.close();
            model.close();
            if (embed.failure() != null) {
                throw new AssertionError(thread.getName() + " failed", embed.failure());
            }
        }
    }

    @Test
    void twoEmbedServicesShareThePartitionsAndTheSurvivorTakesOverMidStreamLeavingEveryChunkWithItsVector() throws Exception {
        Path sqlite = dir.resolve("kb.db");
        SampleDatabase.create(sqlite, USERS, 300, 21);
        String kafka = infra.broker().bootstrapServers();
        String input = TopicNames.tableTopic("ferry", SOURCE, "document_chunks");
        WriterService writer = new WriterService(new WriterService.Settings(kafka, infra.pg().jdbcUrl(), SOURCE, "ferry", SOURCE,
                "ferry-writer-" + SOURCE, false, 5000, Map.of(), Set.of("document_chunks")));
        Thread writerThread = new Thread(writer, "writer");
        // The application waits before step HOLD_AT until the first instance is stopped, so that it is still writing then
        // however slowly the model runs on a busy machine (it wrote all its steps first on a loaded CI machine).
        java.util.concurrent.CountDownLatch firstStopped = new java.util.concurrent.CountDownLatch(1);
        AppWriter app = new AppWriter(sqlite, 23, STEPS, 20_000, (c, random, step) -> {
            if (step == HOLD_AT) {
                try {
                    firstStopped.await(3, java.util.concurrent.TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            // Inserts, metadata updates, deletes, chat rows (SampleDatabase), and on every other step a new text for a chunk.
            SampleDatabase.applicationStep(c, random, step, USERS);
            if (step % 2 == 0) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE document_chunks SET text = ? WHERE id = (SELECT id FROM"
                        + " document_chunks ORDER BY random() LIMIT 1)")) {
                    ps.setString(1, "Revision " + step + ": the " + (step % 3 == 0 ? "billing" : "onboarding") + " guide moved to the wiki.");
                    ps.executeUpdate();
                }
            }
        });
        try (IngestService ingest = new IngestService(new IngestService.Settings(sqlite, SOURCE, kafka, dir.resolve("ingest-offsets.dat"),
                "ferry", PARTITIONS, Map.of()));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka))) {
            writerThread.start();
            ingest.start();
            Instance first = new Instance("embed-1");
            Instance second = new Instance("embed-2");
            try {
                app.start();
                await().atMost(Duration.ofMinutes(3)).until(() -> first.embed.recordsOut() > 0 && second.embed.recordsOut() > 0
                        && app.steps() > 150);
                // Each instance owns half of the partitions.
                await().atMost(Duration.ofMinutes(1)).until(() -> ownedPartitionCounts(admin).equals(Map.of(2, 2L)));
                long secondBefore = second.embed.recordsOut();
                first.close();
                assertTrue(app.steps() < STEPS, "the application is still writing when the first instance stops");
                firstStopped.countDown();
                // Mid-stream: the survivor owns every partition now and resumes each from the offset the other committed.
                await().atMost(Duration.ofMinutes(2)).until(() -> ownedPartitionCounts(admin).equals(Map.of(PARTITIONS, 1L))
                        && second.embed.recordsOut() > secondBefore + 50);
                app.join(180_000);
                awaitCaughtUp(sqlite, ingest, admin);
                assertNull(second.embed.failure());
                assertNull(writer.failure());
                assertTrue(second.embed.recordsOut() > secondBefore, "the survivor kept embedding after the other instance stopped");
            } finally {
                firstStopped.countDown();
                app.close();
                first.close();
                second.close();
            }
            try (Connection pg = infra.pg().connect()) {
                assertTrue(assertEveryTextHasItsModelVector(pg, SOURCE) > 250);
                assertEquals(STEPS, count(pg, "SELECT count(*) FROM " + SOURCE + ".chat_messages"), "every application step arrived");
            }
            TableComparison.assertIdentical(sqlite, infra.pg().jdbcUrl(), SOURCE);
        } finally {
            writer.stop();
            writerThread.join(30_000);
            writer.close();
        }
        assertNull(writer.failure());
    }

    @Test
    void anInstanceThatLosesItsPartitionsOrStopsWithABatchReadButNotEmbeddedWritesNothingAndTheNextOwnerEmbedsIt() throws Exception {
        String source = "kbstop";
        Path sqlite = dir.resolve("stop.db");
        SampleDatabase.create(sqlite, USERS, 120, 31);
        String kafka = infra.broker().bootstrapServers();
        WriterService writer = new WriterService(new WriterService.Settings(kafka, infra.pg().jdbcUrl(), source, "ferry", source,
                "ferry-writer-" + source, false, 5000, Map.of(), Set.of("document_chunks")));
        Thread writerThread = new Thread(writer, "writer");
        try (IngestService ingest = new IngestService(new IngestService.Settings(sqlite, source, kafka, dir.resolve("stop-offsets.dat"),
                "ferry", PARTITIONS, Map.of()));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka))) {
            writerThread.start();
            ingest.start();
            await().atMost(Duration.ofMinutes(1)).until(ingest::snapshotDone);
            // Batches that wait up to a minute to fill: the snapshot's records are read and held, not yet embedded.
            Instance slow = new Instance("embed-slow", source, 1024, Duration.ofMinutes(1));
            long records = EmbedService.lag(admin, "ferry", source, Set.of("document_chunks"), "ferry-embed-" + source);
            assertTrue(records > 120, "the snapshot's chunks and schema events: " + records);
            await().atMost(Duration.ofMinutes(1)).until(() -> slow.recordsFetched() >= records);

            // Dropped from the group while it holds them (as after a session timeout): its partitions are lost, not
            // revoked, another member may own them already, so what it holds must not be written.
            String group = "ferry-embed-" + source;
            String member = admin.describeConsumerGroups(List.of(group)).all().get().get(group).members().iterator().next().consumerId();
            admin.removeMembersFromConsumerGroup(group, new RemoveMembersFromConsumerGroupOptions()).all().get();
            await().atMost(Duration.ofMinutes(1)).until(() -> {
                ConsumerGroupDescription g = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                return g.members().size() == 1 && !g.members().iterator().next().consumerId().equals(member)
                        && g.members().iterator().next().assignment().topicPartitions().size() == PARTITIONS;
            });
            assertNull(slow.embed.failure(), "losing its partitions is no failure: it joins again");
            assertEquals(0, slow.embed.recordsOut(), "nothing it held of the lost partitions was written");

            slow.close();
            assertEquals(0, slow.embed.modelTexts(), "stopped before its batch was due");
            assertTrue(EmbedService.lag(admin, "ferry", source, Set.of("document_chunks"), "ferry-embed-" + source) >= 120,
                    "what it held is not committed: the next owner reads it again");
            try (Instance next = new Instance("embed-next", source, 16, Duration.ofMillis(50)); Connection pg = infra.pg().connect()) {
                await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(250)).until(() ->
                        EmbedService.lag(admin, "ferry", source, Set.of("document_chunks"), "ferry-embed-" + source) == 0
                        && LagReader.lag(admin, pg, "ferry", source, "ferry-writer-" + source).values().stream().mapToLong(Long::longValue).sum() == 0);
                assertTrue(next.embed.recordsOut() >= records, "the next owner wrote every record the stopped one held: "
                        + next.embed.recordsOut() + " of " + records);
                assertTrue(assertEveryTextHasItsModelVector(pg, source) > 100);
            }
            TableComparison.assertIdentical(sqlite, infra.pg().jdbcUrl(), source);
        } finally {
            writer.stop();
            writerThread.join(30_000);
            writer.close();
        }
        assertNull(writer.failure());
    }

    /** Members of the embed group by the number of partitions they own: {2=2} means two members with 2 partitions each. */
    private static Map<Integer, Long> ownedPartitionCounts(Admin admin) throws Exception {
        ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP);
        return group.members().stream().collect(Collectors.groupingBy(m -> m.assignment().topicPartitions().size(), Collectors.counting()));
    }

    /**
     * Every change made in SQLite is in Kafka, through the embed group (committed only once written) and applied by the
     * writer; read in that order, so that nothing the embed service writes after the writer's lag was read goes unseen.
     */
    private static void awaitCaughtUp(Path sqlite, IngestService ingest, Admin admin) throws Exception {
        try (Connection file = SqliteFile.open(sqlite); Connection pg = infra.pg().connect()) {
            long highWater = ChangeCapture.highWaterMark(file);
            await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(250)).until(() -> ingest.producedSeq() >= highWater
                    && EmbedService.lag(admin, "ferry", SOURCE, Set.of("document_chunks"), GROUP) == 0
                    && LagReader.lag(admin, pg, "ferry", SOURCE, "ferry-writer-" + SOURCE).values().stream().mapToLong(Long::longValue).sum() == 0);
        }
    }

    /**
     * Every row with non-blank text has langchain4j's all-MiniLM-L6-v2 vector of that text (within 1e-5), computed here
     * independently of ferry's model code; a row without text has none. Returns the rows checked.
     */
    private static int assertEveryTextHasItsModelVector(Connection pg, String schema) throws Exception {
        AllMiniLmL6V2EmbeddingModel reference = new AllMiniLmL6V2EmbeddingModel();
        int checked = 0;
        try (Statement st = pg.createStatement(); ResultSet rs = st.executeQuery("SELECT id, text, embedding_vector::text, embedding_vector_model"
                + " FROM " + schema + ".document_chunks ORDER BY id")) {
            while (rs.next()) {
                String text = rs.getString(2);
                if (text == null || text.isBlank()) {
                    assertNull(rs.getString(3), "row " + rs.getLong(1) + " has no text, so no vector");
                    continue;
                }
                assertNotNull(rs.getString(3), "row " + rs.getLong(1) + " has no vector");
                assertEquals("all-minilm-l6-v2", rs.getString(4));
                EmbeddingPipelineTest.assertClose(reference.embed(text).content().vector(), EmbeddingPipelineTest.parse(rs.getString(3)),
                        "row " + rs.getLong(1));
                checked++;
            }
        }
        return checked;
    }

    private static long count(Connection pg, String sql) throws Exception {
        try (Statement st = pg.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
