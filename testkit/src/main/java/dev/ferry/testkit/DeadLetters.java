package dev.ferry.testkit;

import dev.ferry.schemas.DeadLetterHeaders;
import dev.ferry.schemas.EventCodec;
import dev.ferry.schemas.TopicNames;
import dev.ferry.schemas.avro.ChangeEvent;
import dev.ferry.schemas.avro.KeyColumn;
import dev.ferry.schemas.avro.Op;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/** The records of a source's dead-letter topic, with the headers ferry gives them (docs/type-mapping.md, DeadLetterHeaders). */
public final class DeadLetters {

    /**
     * One dead letter.
     *
     * @param key        the row's key values in SQLite's storage classes (Long, Double, String, byte[] or null), key order
     * @param event      the change event refused, null for a tombstone or a payload that is not a change event
     * @param topic      the table topic the record came from, with its partition and offset (null / -1 when not given)
     */
    public record Letter(String table, List<Object> key, ChangeEvent event, String column, String reason, String topic, int partition,
                         long offset) {

        /** The event's op, null without an event. */
        public Op op() {
            return event == null ? null : event.getOp();
        }
    }

    private DeadLetters() {
    }

    /** Every dead letter of {@code source}; waits up to 30 s until the topic holds {@code expected} of them (the writer's count). */
    public static List<Letter> read(String bootstrapServers, String topicPrefix, String source, long expected) {
        String topic = TopicNames.deadLetterTopic(topicPrefix, source);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<Letter> letters;
        do {
            letters = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : TopicRecords.readAll(bootstrapServers, topic)) {
                letters.add(letter(r));
            }
        } while (letters.size() < expected && System.nanoTime() < deadline);
        if (letters.size() != expected) {
            throw new AssertionError("dead letters in " + topic + ": " + letters.size() + ", the writer counted " + expected);
        }
        return letters;
    }

    private static Letter letter(ConsumerRecord<byte[], byte[]> r) {
        List<Object> key = new ArrayList<>();
        for (KeyColumn k : EventCodec.decodeKey(r.key()).getColumns()) {
            key.add(value(k.getValue()));
        }
        ChangeEvent event = r.value() != null && EventCodec.kindOf(r.value()) == EventCodec.Kind.CHANGE ? EventCodec.decodeChange(r.value()) : null;
        String partition = header(r, DeadLetterHeaders.PARTITION);
        String offset = header(r, DeadLetterHeaders.OFFSET);
        return new Letter(header(r, DeadLetterHeaders.TABLE), key, event, header(r, DeadLetterHeaders.COLUMN), header(r, DeadLetterHeaders.REASON),
                header(r, DeadLetterHeaders.TOPIC), partition == null ? -1 : Integer.parseInt(partition), offset == null ? -1 : Long.parseLong(offset));
    }

    /** An Avro union value as the storage-class value: CharSequence to String, ByteBuffer to byte[]. */
    public static Object value(Object avro) {
        if (avro instanceof CharSequence s) {
            return s.toString();
        }
        if (avro instanceof ByteBuffer b) {
            byte[] bytes = new byte[b.remaining()];
            b.duplicate().get(bytes);
            return bytes;
        }
        return avro;
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
