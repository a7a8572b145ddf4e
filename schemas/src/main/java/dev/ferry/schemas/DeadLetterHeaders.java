package dev.ferry.schemas;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Headers of a record on the dead-letter topic ({@link TopicNames#deadLetterTopic}): why it is there and where it came
 * from. {@code ferry dlq} reads them; docs/type-mapping.md lists them.
 */
public final class DeadLetterHeaders {

    public static final String REASON = "ferry.reason";
    public static final String TOPIC = "ferry.topic";
    public static final String PARTITION = "ferry.partition";
    public static final String OFFSET = "ferry.offset";
    public static final String TABLE = "ferry.table";
    public static final String COLUMN = "ferry.column";

    private DeadLetterHeaders() {
    }

    /** The headers of one dead letter; {@code partition}, {@code offset}, {@code table} and {@code column} may be null. */
    public static Headers of(String reason, String topic, Integer partition, Long offset, String table, String column) {
        Headers headers = new RecordHeaders();
        add(headers, REASON, reason);
        add(headers, TOPIC, topic);
        add(headers, PARTITION, partition == null ? null : partition.toString());
        add(headers, OFFSET, offset == null ? null : offset.toString());
        add(headers, TABLE, table);
        add(headers, COLUMN, column);
        return headers;
    }

    private static void add(Headers headers, String name, String value) {
        if (value != null) {
            headers.add(name, value.getBytes(StandardCharsets.UTF_8));
        }
    }
}
