package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.broker.EmbeddedKafkaBroker;
import dev.ferry.schemas.TopicNames;
import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TableComparison;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Values of 10 MB travel whole: ferry's topics, producers and consumers take records up to 16 MiB (IngestService,
 * WriterService, EmbeddedKafkaBroker). A row over that limit must cost that row only, with the reason.
 */
class LargeValuesTest {

    private static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
    private static final int TEN_MB = 10 * 1024 * 1024;

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    @TempDir
    Path dir;

    private Pipeline pipeline(SqliteTestDatabase db, String source) {
        return new Pipeline(new Pipeline.Options(db.path(), infra.pg().jdbcUrl(), dir.resolve("state"), source, infra.broker().bootstrapServers(), "ferry",
                source, 1, false, Map.of()));
    }

    /** Random bytes: Kafka's lz4 cannot shrink them below the limit's reach. */
    static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** Random text of exactly {@code size} UTF-8 bytes, with 1-, 2-, 3- and 4-byte characters. */
    static String randomText(int size, long seed) {
        String[] alphabet = {"a", "Z", "7", " ", "\n", "\t", "'", "\"", "\\", "é", "ß", "€", "中", "😀"};
        Random r = new Random(seed);
        StringBuilder text = new StringBuilder(size);
        int bytes = 0;
        while (bytes < size) {
            String c = alphabet[r.nextInt(alphabet.length)];
            int n = c.getBytes(StandardCharsets.UTF_8).length;
            if (bytes + n > size) {
                c = "a";
                n = 1;
            }
            text.append(c);
            bytes += n;
        }
        return text.toString();
    }

    @Test
    void tenMegabyteBlobAndTextArriveByteForByteFromTheSnapshotAndFromLiveChanges() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "large.db", "CREATE TABLE docs (id INTEGER PRIMARY KEY, data BLOB, body TEXT)");
        byte[] blob = randomBytes(TEN_MB, 1);
        String text = randomText(TEN_MB, 2);
        write(db, "INSERT INTO docs VALUES (1, ?, NULL)", blob);
        write(db, "INSERT INTO docs VALUES (2, NULL, ?)", text);
        try (Pipeline pipeline = pipeline(db, "large")) {
            pipeline.start().awaitCaughtUp(Duration.ofMinutes(1));
            assertRow("large", 1, blob, null);
            assertRow("large", 2, null, text);

            byte[] streamedBlob = randomBytes(TEN_MB, 3);
            String updatedText = randomText(TEN_MB, 4);
            write(db, "INSERT INTO docs VALUES (3, ?, 'small')", streamedBlob);
            write(db, "UPDATE docs SET body = ? WHERE id = 2", updatedText);
            pipeline.awaitCaughtUp(Duration.ofMinutes(1));

            assertEquals(0, pipeline.writer().deadLetters());
            assertRow("large", 1, blob, null);
            assertRow("large", 2, null, updatedText);
            assertRow("large", 3, streamedBlob, "small");
            TableComparison.assertIdentical(db.path(), infra.pg().jdbcUrl(), "large");
            assertEquals(Integer.toString(MAX_MESSAGE_BYTES), topicMaxMessageBytes(TopicNames.tableTopic("ferry", "large", "docs")),
                    "the table topic takes records up to 16 MiB");
            assertEquals(Integer.toString(MAX_MESSAGE_BYTES), topicMaxMessageBytes(TopicNames.deadLetterTopic("ferry", "large")),
                    "the dead-letter topic takes the same records");
        }
    }

    /**
     * A 20 MB BLOB is over the 16 MiB record limit. Wanted: the row is refused with a reason that names table, key and
     * size (a dead letter), and the rows after it still arrive.
     */
    @Test
    void aRowOverTheRecordLimitIsRefusedWithItsReasonAndTheOthersStillArrive() throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.create(dir, "huge.db", "CREATE TABLE docs (id INTEGER PRIMARY KEY, data BLOB, body TEXT)",
                "INSERT INTO docs VALUES (1, X'01', NULL)");
        try (Pipeline pipeline = pipeline(db, "huge")) {
            pipeline.start().awaitCaughtUp(Duration.ofMinutes(1));
            write(db, "INSERT INTO docs VALUES (2, ?, NULL)", randomBytes(20 * 1000 * 1000, 5));
            db.execute("INSERT INTO docs VALUES (3, X'03', NULL)", "UPDATE docs SET data = X'0101' WHERE id = 1");
            pipeline.awaitCaughtUp(Duration.ofMinutes(1));

            assertRow("huge", 1, new byte[] {1, 1}, null);
            assertRow("huge", 3, new byte[] {3}, null);
            try (Connection c = infra.pg().connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM huge.docs WHERE id = 2")) {
                rs.next();
                assertEquals(0, rs.getLong(1), "the oversized row is not written");
            }
            List<Map<String, String>> letters = deadLetterHeaders("huge");
            assertEquals(1, letters.size(), "one dead letter, for row 2: " + letters);
            String reason = letters.get(0).get("ferry.reason");
            assertEquals("docs", letters.get(0).get("ferry.table"));
            assertTrue(reason != null && reason.contains("20000000") && reason.contains(Integer.toString(MAX_MESSAGE_BYTES)),
                    "the reason gives the size and the limit: " + reason);
        }
    }

    private static void write(SqliteTestDatabase db, String sql, Object value) throws SQLException {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            if (value instanceof byte[] bytes) {
                ps.setBytes(1, bytes);
            } else {
                ps.setString(1, (String) value);
            }
            ps.executeUpdate();
        }
    }

    private static void assertRow(String schema, long id, byte[] data, String body) throws SQLException {
        try (Connection c = infra.pg().connect(); PreparedStatement ps = c.prepareStatement("SELECT data, body FROM " + schema + ".docs WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "row " + id + " is in PostgreSQL");
                if (data == null) {
                    assertNull(rs.getBytes(1), "row " + id + " data");
                } else {
                    assertArrayEquals(data, rs.getBytes(1), "row " + id + ": the BLOB byte for byte");
                }
                assertEquals(body, rs.getString(2), "row " + id + ": the TEXT exactly");
            }
        }
    }

    private static String topicMaxMessageBytes(String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.broker().bootstrapServers()))) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            return admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource)
                    .get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value();
        }
    }

    private static List<Map<String, String>> deadLetterHeaders(String source) {
        List<Map<String, String>> letters = new ArrayList<>();
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.broker().bootstrapServers());
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(2 * MAX_MESSAGE_BYTES));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(TopicNames.deadLetterTopic("ferry", source), 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    Map<String, String> headers = new LinkedHashMap<>();
                    r.headers().forEach(h -> headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8)));
                    letters.add(headers);
                }
            }
        }
        return letters;
    }
}
