package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.broker.EmbeddedKafkaBroker;
import dev.ferry.schemas.KafkaTopics;
import dev.ferry.schemas.TopicNames;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kafka refuses a topic whose name equals another's once '.' reads as '_': ferry says why and what to change. */
class TopicClashTest {

    @TempDir
    Path dir;

    @Test
    void twoSourcesWhoseNamesCombineAlikeGetAClearError() throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            String first = TopicNames.tableTopic("ferry", "a", "b_c");
            String second = TopicNames.tableTopic("ferry", "a_b", "c");
            KafkaTopics.ensure(admin, first, 1, Map.of());
            KafkaTopics.ensure(admin, first, 1, Map.of()); // an existing topic is left as it is
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> KafkaTopics.ensure(admin, second, 1, Map.of()));
            assertTrue(e.getMessage().contains("cannot create topic " + second) && e.getMessage().contains("--source-name"), e.getMessage());
        }
    }
}
