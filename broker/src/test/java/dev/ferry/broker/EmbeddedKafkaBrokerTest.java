package dev.ferry.broker;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddedKafkaBrokerTest {

    private static final int LARGE_BYTES = 16 * 1024 * 1024;

    @TempDir
    Path dataDir;

    @Test
    void producesAndConsumesOnCompactedTopic() throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dataDir)) {
            assertTrue(broker.bootstrapServers().matches("127\\.0\\.0\\.1:\\d+"), broker.bootstrapServers());
            assertEquals(dataDir.toAbsolutePath(), broker.dataDir());
            createCompactedTopic(broker, "rows");

            Map<String, String> sent = new LinkedHashMap<>();
            for (int i = 0; i < 100; i++) {
                sent.put("key-" + i, "value-" + i);
            }
            produce(broker, "rows", sent, new StringSerializer(), Map.of());

            List<ConsumerRecord<String, String>> received =
                    consume(broker, "rows", sent.size(), new StringDeserializer(), Map.of());
            Map<String, String> receivedMap = new LinkedHashMap<>();
            received.forEach(r -> receivedMap.put(r.key(), r.value()));
            assertEquals(List.copyOf(sent.entrySet()), List.copyOf(receivedMap.entrySet()));
        }
    }

    @Test
    void keepsTopicsDataAndAddressAcrossRestart() throws Exception {
        Map<String, String> sent = Map.of("a", "1", "b", "2", "c", "3");
        String firstAddress;
        EmbeddedKafkaBroker first = EmbeddedKafkaBroker.start(dataDir);
        try {
            firstAddress = first.bootstrapServers();
            createCompactedTopic(first, "survivor");
            produce(first, "survivor", sent, new StringSerializer(), Map.of());
        } finally {
            first.close();
        }
        first.close(); // idempotent

        try (EmbeddedKafkaBroker second = EmbeddedKafkaBroker.start(dataDir)) {
            assertEquals(firstAddress, second.bootstrapServers());
            List<ConsumerRecord<String, String>> received =
                    consume(second, "survivor", sent.size(), new StringDeserializer(), Map.of());
            Map<String, String> receivedMap = new LinkedHashMap<>();
            received.forEach(r -> receivedMap.put(r.key(), r.value()));
            assertEquals(sent, receivedMap);
        }
    }

    @Test
    void fallsBackToFreshPortWhenPreviousPortIsTaken() throws Exception {
        String firstAddress;
        try (EmbeddedKafkaBroker first = EmbeddedKafkaBroker.start(dataDir)) {
            firstAddress = first.bootstrapServers();
            createCompactedTopic(first, "moved");
        }
        int oldPort = Integer.parseInt(firstAddress.substring(firstAddress.indexOf(':') + 1));
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress("127.0.0.1", oldPort));
            try (EmbeddedKafkaBroker second = EmbeddedKafkaBroker.start(dataDir)) {
                assertNotEquals(firstAddress, second.bootstrapServers());
                produce(second, "moved", Map.of("k", "v"), new StringSerializer(), Map.of());
                List<ConsumerRecord<String, String>> received =
                        consume(second, "moved", 1, new StringDeserializer(), Map.of());
                assertEquals("v", received.get(0).value());
            }
        }
    }

    @Test
    void carriesFiveMebibyteRecord() throws Exception {
        byte[] value = new byte[5 * 1024 * 1024];
        new Random(42).nextBytes(value); // incompressible, so the full size really crosses the wire
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dataDir)) {
            createCompactedTopic(broker, "blobs");
            produce(broker, "blobs", Map.of("big".getBytes(), value), new ByteArraySerializer(),
                    Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, LARGE_BYTES));

            List<ConsumerRecord<byte[], byte[]>> received = consume(broker, "blobs", 1, new ByteArrayDeserializer(),
                    Map.of(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, LARGE_BYTES,
                            ConsumerConfig.FETCH_MAX_BYTES_CONFIG, LARGE_BYTES));
            assertEquals(1, received.size());
            assertArrayEquals("big".getBytes(), received.get(0).key());
            assertArrayEquals(value, received.get(0).value());
        }
    }

    @Test
    void runsTwoBrokersSideBySide(@TempDir Path otherDir) throws Exception {
        try (EmbeddedKafkaBroker a = EmbeddedKafkaBroker.start(dataDir);
             EmbeddedKafkaBroker b = EmbeddedKafkaBroker.start(otherDir)) {
            assertNotEquals(a.bootstrapServers(), b.bootstrapServers());
            createCompactedTopic(a, "t");
            createCompactedTopic(b, "t");
            produce(a, "t", Map.of("k", "from-a"), new StringSerializer(), Map.of());
            produce(b, "t", Map.of("k", "from-b"), new StringSerializer(), Map.of());
            assertEquals("from-a", consume(a, "t", 1, new StringDeserializer(), Map.of()).get(0).value());
            assertEquals("from-b", consume(b, "t", 1, new StringDeserializer(), Map.of()).get(0).value());
        }
    }

    @Test
    void rejectsOverrideOfManagedSetting() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EmbeddedKafkaBroker.start(dataDir, 0, Map.of("listeners", "PLAINTEXT://0.0.0.0:9092")));
        assertTrue(e.getMessage().contains("listeners"), e.getMessage());
        assertTrue(isEmpty(dataDir), "nothing should be formatted for a rejected start");
    }

    @Test
    void failsClearlyWhenRequestedPortIsTaken() throws Exception {
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress("127.0.0.1", 0));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> EmbeddedKafkaBroker.start(dataDir, squatter.getLocalPort(), Map.of()));
            assertTrue(e.getMessage().contains("127.0.0.1:" + squatter.getLocalPort()), e.getMessage());
        }
    }

    private static boolean isEmpty(Path dir) {
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void createCompactedTopic(EmbeddedKafkaBroker broker, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            NewTopic newTopic = new NewTopic(topic, 1, (short) 1)
                    .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
            // The create response carries the applied config; a describeConfigs right after creation
            // can race the broker's metadata update and fail with UnknownTopicOrPartition.
            String policy = admin.createTopics(List.of(newTopic)).config(topic).get()
                    .get(TopicConfig.CLEANUP_POLICY_CONFIG).value();
            assertEquals(TopicConfig.CLEANUP_POLICY_COMPACT, policy);
        }
    }

    private static <T> void produce(EmbeddedKafkaBroker broker, String topic, Map<T, T> records,
                                    Serializer<T> serializer, Map<String, Object> extraConfig) throws Exception {
        Map<String, Object> config = new LinkedHashMap<>(extraConfig);
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<T, T> producer = new KafkaProducer<>(config, serializer, serializer)) {
            for (Map.Entry<T, T> record : records.entrySet()) {
                producer.send(new ProducerRecord<>(topic, record.getKey(), record.getValue())).get();
            }
        }
    }

    private static <T> List<ConsumerRecord<T, T>> consume(EmbeddedKafkaBroker broker, String topic, int expected,
                                                         Deserializer<T> deserializer,
                                                         Map<String, Object> extraConfig) {
        Map<String, Object> config = new LinkedHashMap<>(extraConfig);
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<T, T>> received = new ArrayList<>();
        try (KafkaConsumer<T, T> consumer = new KafkaConsumer<>(config, deserializer, deserializer)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (received.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(received::add);
            }
        }
        assertEquals(expected, received.size(), "records consumed from " + topic);
        return received;
    }
}
