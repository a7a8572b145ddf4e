package dev.ferry.writer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.observability.FerryMetrics;
import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.TopicNames;
import dev.ferry.schemas.avro.ChangeEvent;
import dev.ferry.schemas.avro.Column;
import dev.ferry.schemas.avro.KeyColumn;
import dev.ferry.schemas.avro.Op;
import dev.ferry.schemas.avro.RowKey;
import dev.ferry.schemas.avro.Source;
import dev.ferry.schemas.avro.TableSchema;
import dev.ferry.testkit.KafkaAndPostgres;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The writer's meters, read while a real broker and the real PostgreSQL move hand-made events with chosen commit times. */
class WriterMetricsTest {

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();
    static KafkaProducer<byte[], byte[]> producer;

    @BeforeAll
    static void start() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.broker().bootstrapServers());
        producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    @AfterAll
    static void stop() {
        producer.close();
    }

    private static final List<Column> COLUMNS = List.of(new Column("id", "INTEGER", false, null, 1, null, null), new Column("qty", "INTEGER", false, null, 0, null, null));

    private static String topicWithSchema(String source, String table) throws Exception {
        String topic = TopicNames.tableTopic("ferry", source, table);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.broker().bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        TableSchema schema = new TableSchema(source, table, 1L, false, false, COLUMNS, 0L, List.of(), List.of(), List.of(), false, List.of());
        producer.send(new ProducerRecord<>(topic, 0, EventCodec.encodeKey(new RowKey(List.of())), EventCodec.encodeSchema(schema))).get();
        return topic;
    }

    /** A change committed in SQLite at {@code commitMs}: the event's source.ts_ms and the Kafka timestamp, as the ingest sends it. */
    private static void send(String topic, String source, String table, Op op, long id, Object qty, boolean snapshot, long commitMs)
            throws Exception {
        Map<String, Object> after = new LinkedHashMap<>();
        after.put("id", id);
        after.put("qty", qty);
        ChangeEvent event = new ChangeEvent(null, after, op, new Source(source, table, 1L, snapshot, commitMs), commitMs);
        producer.send(new ProducerRecord<>(topic, 0, commitMs, EventCodec.encodeKey(new RowKey(List.of(new KeyColumn("id", id)))),
                EventCodec.encodeChange(event))).get();
    }

    private static Thread run(WriterService writer) {
        Thread t = new Thread(writer, "writer-under-test");
        t.start();
        return t;
    }

    private static double lagSeconds(MeterRegistry registry, String table) {
        Gauge g = registry.find("ferry.replication.lag.seconds").tag("table", table).gauge();
        return g == null ? Double.NaN : g.value();
    }

    private static double lagRecords(MeterRegistry registry, String topic) {
        Gauge g = registry.find("ferry.writer.lag.records").tag("topic", topic).tag("partition", "0").gauge();
        return g == null ? Double.NaN : g.value();
    }

    private static double count(MeterRegistry registry, String name, String table, String tag, String value) {
        Counter c = registry.find(name).tag("table", table).tag(tag, value).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void lagSecondsIsTheAgeOfTheOldestUnappliedChangeAndFallsToZeroOnceItIsApplied() throws Exception {
        String source = "lagm";
        String topic = topicWithSchema(source, "lag_stock");
        try (FerryMetrics metrics = new FerryMetrics();
             WriterService writer = new WriterService(WriterService.Settings.defaults(infra.broker().bootstrapServers(), infra.pg().jdbcUrl(), source),
                     metrics.registry());
             Connection blocker = infra.pg().connect()) {
            MeterRegistry registry = metrics.registry();
            Thread t = run(writer);
            await().atMost(Duration.ofSeconds(60)).until(() -> lagRecords(registry, topic) == 0);
            assertEquals(0.0, lagSeconds(registry, "lag_stock"), "an idle table has no lag");

            // PostgreSQL holds the writer on the table, so the changes wait while their age grows.
            blocker.setAutoCommit(false);
            try (Statement st = blocker.createStatement()) {
                st.execute("LOCK TABLE public.lag_stock IN ACCESS EXCLUSIVE MODE");
            }
            long committed = System.currentTimeMillis() - 120_000;
            for (long id = 1; id <= 3; id++) {
                send(topic, source, "lag_stock", Op.c, id, id, false, committed + id * 1000);
            }
            // The writer measures its lag at each poll: the poll that brought the first change, then it waits on the lock.
            await().atMost(Duration.ofSeconds(30)).until(() -> lagRecords(registry, topic) >= 1);
            double waiting = lagSeconds(registry, "lag_stock");
            double ageOfOldest = (System.currentTimeMillis() - (committed + 1000)) / 1000.0;
            assertTrue(waiting >= 119 && waiting <= ageOfOldest + 1, "lag is the age of the oldest waiting change (~"
                    + ageOfOldest + " s), not of the newest: " + waiting);
            Thread.sleep(1500);
            assertTrue(lagSeconds(registry, "lag_stock") >= waiting + 1, "while nothing is applied, lag grows with the clock");
            assertEquals(0.0, count(registry, "ferry.writer.rows", "lag_stock", "op", "upsert"), "nothing is counted before the commit");

            blocker.rollback();
            await().atMost(Duration.ofSeconds(30)).until(() -> lagSeconds(registry, "lag_stock") == 0.0);
            assertEquals(0.0, lagRecords(registry, topic));
            assertEquals(3.0, count(registry, "ferry.writer.rows", "lag_stock", "op", "upsert"));
            Timer e2e = registry.find("ferry.e2e.latency").tag("source", source).timer();
            assertEquals(3, e2e.count(), "one end-to-end latency per applied streaming change");
            assertTrue(e2e.max(TimeUnit.SECONDS) >= 119, "the latency runs from the SQLite commit: " + e2e.max(TimeUnit.SECONDS));
            assertTrue(registry.find("ferry.writer.batch").tag("source", source).timer().count() >= 1);
            writer.stop();
            t.join();
        }
    }

    @Test
    void snapshotReadsAreRowsButNotLatencyAndRefusedValuesAreDeadLettersByReason() throws Exception {
        String source = "countm";
        String topic = topicWithSchema(source, "count_stock");
        long now = System.currentTimeMillis();
        send(topic, source, "count_stock", Op.r, 1, 1L, true, now);
        send(topic, source, "count_stock", Op.r, 2, 2L, true, now);
        send(topic, source, "count_stock", Op.u, 2, "12abc", false, now);
        send(topic, source, "count_stock", Op.c, 3, 3L, false, now);
        try (FerryMetrics metrics = new FerryMetrics();
             WriterService writer = new WriterService(WriterService.Settings.defaults(infra.broker().bootstrapServers(), infra.pg().jdbcUrl(), source),
                     metrics.registry())) {
            MeterRegistry registry = metrics.registry();
            Thread t = run(writer);
            await().atMost(Duration.ofSeconds(60)).until(() -> lagRecords(registry, topic) == 0);
            // Key 2's snapshot image is in the same poll as its refused update: the last event per key is the one applied.
            assertEquals(1.0, count(registry, "ferry.writer.dead.letters", "count_stock", "reason", "value"));
            assertEquals(writer.rowsApplied(), count(registry, "ferry.writer.rows", "count_stock", "op", "upsert"));
            Timer e2e = registry.find("ferry.e2e.latency").tag("source", source).timer();
            assertEquals(1, e2e.count(), "only the streamed insert of key 3 is an end-to-end latency; snapshot reads are not");
            writer.stop();
            t.join();
        }
    }
}
