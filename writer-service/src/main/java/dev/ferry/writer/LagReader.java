package dev.ferry.writer;

import dev.ferry.schemas.KafkaTopics;
import dev.ferry.schemas.TopicNames;
import dev.ferry.writer.pg.MetadataStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartition;

/**
 * The writer's lag, exactly: for each partition of a source's table topics, the log end offset in Kafka
 * minus the next offset the writer stored in PostgreSQL (the offsets it applied, not the copy in Kafka).
 */
public final class LagReader {

    private LagReader() {
    }

    /** Records not yet applied, per partition, sorted by topic and partition. */
    public static Map<TopicPartition, Long> lag(Admin admin, Connection pg, String topicPrefix, String source, String group)
            throws SQLException, InterruptedException {
        Pattern tables = TopicNames.tableTopicPattern(topicPrefix, source);
        try {
            Set<String> all = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            // A table with an embedding spec is read by the writer from its .embedded topic, not from the table topic.
            Set<String> topics = all.stream().filter(t -> tables.matcher(t).matches()
                            ? !all.contains(t + TopicNames.EMBEDDED_SUFFIX)
                            : t.endsWith(TopicNames.EMBEDDED_SUFFIX)
                                    && tables.matcher(t.substring(0, t.length() - TopicNames.EMBEDDED_SUFFIX.length())).matches())
                    .collect(Collectors.toSet());
            return lag(admin, pg, topics, group);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read offsets from Kafka: " + e.getMessage(), e);
        }
    }

    private static Map<TopicPartition, Long> lag(Admin admin, Connection pg, Set<String> topics, String group)
            throws SQLException, InterruptedException {
        try {
            Map<TopicPartition, Long> ends = KafkaTopics.endOffsets(admin, topics);
            Map<TopicPartition, Long> applied = MetadataStore.offsets(pg, group);
            Map<TopicPartition, Long> lag = new TreeMap<>((a, b) -> a.topic().equals(b.topic())
                    ? Integer.compare(a.partition(), b.partition()) : a.topic().compareTo(b.topic()));
            ends.forEach((tp, end) -> lag.put(tp, Math.max(0, end - applied.getOrDefault(tp, 0L))));
            return lag;
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read offsets from Kafka: " + e.getMessage(), e);
        }
    }
}
