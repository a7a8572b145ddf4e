package dev.ferry.writer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The writer against a real broker and the real PostgreSQL, fed with hand-made events. */
class WriterServiceTest {

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

    private static final List<Column> COLUMNS = List.of(new Column("id", "INTEGER", false, null, 1, null, null),
            new Column("qty", "INTEGER", false, null, 0, null, null), new Column("note", "TEXT", true, null, 0, null, null));

    private static String topic(String source) throws Exception {
        String topic = TopicNames.tableTopic("ferry", source, "stock");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.broker().bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        return topic;
    }

    private static void sendSchema(String topic, String source) throws Exception {
        TableSchema schema = new TableSchema(source, "stock", 1L, false, false, COLUMNS, 0L, List.of(), List.of(), List.of(), false, List.of());
        producer.send(new ProducerRecord<>(topic, 0, EventCodec.encodeKey(new RowKey(List.of())), EventCodec.encodeSchema(schema))).get();
    }

    private static void send(String topic, String source, Op op, long id, Object qty, String note) throws Exception {
        send(topic, source, op, id, qty, note, false);
    }

    private static void send(String topic, String source, Op op, long id, Object qty, String note, boolean snapshot) throws Exception {
        byte[] key = EventCodec.encodeKey(new RowKey(List.of(new KeyColumn("id", id))));
        Map<String, Object> after = null;
        if (op != Op.d) {
            after = new LinkedHashMap<>();
            after.put("id", id);
            after.put("qty", qty);
            after.put("note", note);
        }
        ChangeEvent event = new ChangeEvent(null, after, op, new Source(source, "stock", 1L, snapshot, 0L), 0L);
        producer.send(new ProducerRecord<>(topic, 0, key, EventCodec.encodeChange(event))).get();
        if (op == Op.d) {
            producer.send(new ProducerRecord<>(topic, 0, key, null)).get();
        }
    }

    private static Map<Long, List<Object>> rows(String schema) throws Exception {
        Map<Long, List<Object>> rows = new TreeMap<>();
        try (Connection c = infra.pg().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, qty, note FROM \"" + schema + "\".stock")) {
            while (rs.next()) {
                List<Object> row = new ArrayList<>();
                row.add(rs.getObject(2));
                row.add(rs.getObject(3));
                rows.put(rs.getLong(1), row);
            }
        }
        return rows;
    }

    private static WriterService.Settings settings(String source) {
        return new WriterService.Settings(infra.broker().bootstrapServers(), infra.pg().jdbcUrl(), source, "ferry", source, "ferry-writer-" + source, true, 5000,
                Map.of());
    }

    private static Thread run(WriterService writer) {
        Thread t = new Thread(writer, "writer-under-test");
        t.start();
        return t;
    }

    private static long lag(String source) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.broker().bootstrapServers()));
             Connection c = infra.pg().connect()) {
            return LagReader.lag(admin, c, "ferry", source, "ferry-writer-" + source).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    @Test
    void aBatchHoldingOneKeyManyTimesEndsInItsLastEvent() throws Exception {
        String source = "lastwins";
        String topic = topic(source);
        sendSchema(topic, source);
        send(topic, source, Op.c, 1, 1L, "first");
        send(topic, source, Op.u, 1, 2L, "second");
        send(topic, source, Op.u, 1, 3L, "third");
        send(topic, source, Op.c, 2, 5L, "doomed");
        send(topic, source, Op.d, 2, null, null);
        send(topic, source, Op.d, 3, null, null);
        send(topic, source, Op.c, 3, 7L, "reborn");
        try (WriterService writer = new WriterService(settings(source))) {
            Thread t = run(writer);
            await().atMost(Duration.ofSeconds(60)).until(() -> lag(source) == 0);
            writer.stop();
            t.join();
        }
        assertEquals(Map.of(1L, List.of(3L, "third"), 3L, List.of(7L, "reborn")), rows(source));
    }

    @Test
    void aValueThatCannotBeWrittenIsADeadLetterAndTheOthersAreApplied() throws Exception {
        String source = "dlq";
        String topic = topic(source);
        sendSchema(topic, source);
        send(topic, source, Op.c, 1, 10L, "ok");
        send(topic, source, Op.c, 2, "12abc", "text in an integer column");
        send(topic, source, Op.c, 3, 30L, null);
        send(topic, source, Op.c, 4, 1.5, "a real that is not an integer");
        send(topic, source, Op.c, 5, 50L, "fine");
        try (WriterService writer = new WriterService(settings(source))) {
            Thread t = run(writer);
            await().atMost(Duration.ofSeconds(60)).until(() -> lag(source) == 0);
            assertEquals(3, writer.deadLetters());
            writer.stop();
            t.join();
        }
        assertEquals(Map.of(1L, List.of(10L, "ok"), 5L, List.of(50L, "fine")), rows(source));

        Map<String, Map<String, String>> letters = new HashMap<>();
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.broker().bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "dlq-reader");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(TopicNames.deadLetterTopic("ferry", source)));
            long deadline = System.currentTimeMillis() + 30_000;
            while (letters.size() < 3 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    Map<String, String> headers = new HashMap<>();
                    r.headers().forEach(h -> headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8)));
                    ChangeEvent original = EventCodec.decodeChange(r.value());
                    letters.put(original.getAfter().get("id").toString(), headers);
                }
            }
        }
        assertEquals(3, letters.size(), "each refused row is in the dead-letter topic with its original bytes: " + letters.keySet());
        assertEquals("qty", letters.get("2").get("ferry.column"));
        assertTrue(letters.get("2").get("ferry.reason").contains("not an integer"), letters.get("2").toString());
        assertTrue(letters.get("2").get("ferry.reason").contains("'12abc'"), letters.get("2").toString());
        assertTrue(letters.get("3").get("ferry.reason").contains("PostgreSQL refused the row"), letters.get("3").toString());
        assertEquals("stock", letters.get("4").get("ferry.table"));
        assertEquals(topic, letters.get("4").get("ferry.topic"));
    }

    @Test
    void aRestartedWriterResumesFromTheOffsetsStoredInPostgres() throws Exception {
        String source = "resume";
        String topic = topic(source);
        sendSchema(topic, source);
        for (long i = 1; i <= 50; i++) {
            send(topic, source, Op.c, i, i, "v1");
        }
        try (WriterService writer = new WriterService(settings(source))) {
            Thread t = run(writer);
            await().atMost(Duration.ofSeconds(60)).until(() -> lag(source) == 0);
            assertEquals(50, writer.rowsApplied());
            writer.stop();
            t.join();
        }
        for (long i = 1; i <= 50; i += 2) {
            send(topic, source, Op.u, i, i * 100, "v2");
        }
        try (WriterService writer = new WriterService(settings(source))) {
            Thread t = run(writer);
            await().atMost(Duration.ofSeconds(60)).until(() -> lag(source) == 0);
            assertEquals(25, writer.rowsApplied(), "only the records after the stored offset are applied again");
            writer.stop();
            t.join();
        }
        Map<Long, List<Object>> rows = rows(source);
        assertEquals(50, rows.size());
        for (long i = 1; i <= 50; i++) {
            assertEquals(i % 2 == 1 ? List.of(i * 100, "v2") : List.of(i, "v1"), rows.get(i), "row " + i);
        }
    }

    @Test
    void aMalformedTypeOverrideStopsTheWriterAtStartAndNamesIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new WriterService(settings("badoverride").withTypeOverrides(Map.of("stock.note", "varchar(20)"))));
        assertTrue(e.getMessage().contains("'stock.note'") && e.getMessage().contains("'varchar(20)'"), e.getMessage());
        IllegalArgumentException key = assertThrows(IllegalArgumentException.class,
                () -> new WriterService(settings("badoverride").withTypeOverrides(Map.of("a.b.c", "text"))));
        assertTrue(key.getMessage().contains("'a.b.c'") && key.getMessage().contains("quote a name"), key.getMessage());
    }

    @Test
    void anOverriddenColumnGetsItsTypeAndItsValuesAreConvertedForIt() throws Exception {
        String source = "override";
        String topic = topic(source);
        sendSchema(topic, source);
        send(topic, source, Op.c, 1, 10L, "{\"tags\":[\"a\",\"b\"]}");
        send(topic, source, Op.c, 2, "123456789012345678901234567890", "[]");
        send(topic, source, Op.c, 3, 30L, "not json");
        WriterService.Settings overridden = settings(source).withTypeOverrides(Map.of("stock.note", "jsonb", "STOCK.\"QTY\"", "numeric"));
        try (WriterService writer = new WriterService(overridden)) {
            Thread t = run(writer);
            await().atMost(Duration.ofSeconds(60)).until(() -> lag(source) == 0);
            assertEquals(1, writer.deadLetters(), "'not json' cannot be jsonb");
            writer.stop();
            t.join();
        }
        Map<String, String> types = new TreeMap<>();
        Map<Long, String> rows = new TreeMap<>();
        try (Connection c = infra.pg().connect(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT column_name, data_type FROM information_schema.columns"
                    + " WHERE table_schema = '" + source + "' AND table_name = 'stock'")) {
                while (rs.next()) {
                    types.put(rs.getString(1), rs.getString(2));
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT id, qty::text || ' ' || note::text FROM override.stock")) {
                while (rs.next()) {
                    rows.put(rs.getLong(1), rs.getString(2));
                }
            }
        }
        assertEquals(Map.of("id", "bigint", "qty", "numeric", "note", "jsonb"), types);
        assertEquals(Map.of(1L, "10 {\"tags\": [\"a\", \"b\"]}", 2L, "123456789012345678901234567890 []"), rows,
                "an integer beyond 64 bits fits numeric; jsonb keeps the JSON value, in its own spacing");
    }

    @Test
    void aSnapshotReadAgainIntoAFreshTableEndsInTheLastValues() throws Exception {
        String source = "resnap";
        String topic = topic(source);
        sendSchema(topic, source);
        for (long i = 1; i <= 300; i++) {
            send(topic, source, Op.r, i, i, "first read", true);
        }
        try (WriterService writer = new WriterService(settings(source))) {
            Thread t = run(writer);
            await().atMost(Duration.ofSeconds(60)).until(() -> lag(source) == 0);
            // The ingest started its snapshot again (e.g. after a crash): the same keys come as snapshot rows once more.
            for (long i = 1; i <= 300; i++) {
                send(topic, source, Op.r, i, i * 10, "second read", true);
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> lag(source) == 0);
            assertEquals(0, writer.deadLetters());
            writer.stop();
            t.join();
        }
        Map<Long, List<Object>> rows = rows(source);
        assertEquals(300, rows.size());
        for (long i = 1; i <= 300; i++) {
            assertEquals(List.of(i * 10, "second read"), rows.get(i), "row " + i);
        }
    }
}
