package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.broker.EmbeddedKafkaBroker;
import dev.ferry.schemas.KafkaTopics;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A topic {@link KafkaTopics#ensure} created takes records at once. The controller names a leader before that broker
 * serves the partition; a produce request in between is refused (NOT_LEADER_OR_FOLLOWER), which a producer logs as a
 * warning and retries, and which an idempotent producer with several requests in flight can turn into an endless
 * out-of-order retry. Here a producer that does not retry must find every partition served.
 */
class NewTopicsTest {

    @TempDir
    Path dir;

    @Test
    void everyPartitionOfNewTopicsTakesARecordWithoutARetry() throws Exception {
        int topicCount = 40;
        int partitions = 3;
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                     ProducerConfig.RETRIES_CONFIG, 0,
                     ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                     ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            // The producer's connection and first metadata, before the new topics.
            KafkaTopics.ensure(admin, "warm-up", 1, Map.of());
            producer.partitionsFor("warm-up");
            List<String> topics = new ArrayList<>();
            for (int i = 0; i < topicCount; i++) {
                topics.add("new-topic-" + i);
            }
            KafkaTopics.ensure(admin, topics, partitions, Map.of());
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (String topic : topics) {
                for (int p = 0; p < partitions; p++) {
                    sent.add(producer.send(new ProducerRecord<>(topic, p, null, ("row of " + topic + "-" + p).getBytes())));
                }
            }
            int refused = 0;
            java.util.Set<String> reasons = new java.util.TreeSet<>();
            for (Future<RecordMetadata> f : sent) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    refused++;
                    reasons.add(e.getCause().getClass().getSimpleName());
                }
            }
            assertEquals(0, refused, refused + " of " + sent.size() + " first records refused: " + reasons);
        }
    }
}
