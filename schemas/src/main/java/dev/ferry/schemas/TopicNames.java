package dev.ferry.schemas;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * Kafka topic names of ferry: {@code <prefix>.<source>.<table>}. Kafka accepts only
 * {@code [a-zA-Z0-9._-]} and at most 249 characters, while SQLite accepts any table name, so a name
 * that needs changing is sanitised and given a short hash of the original: two tables never share a topic.
 */
public final class TopicNames {

    private static final Pattern LEGAL = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Pattern ILLEGAL_CHAR = Pattern.compile("[^A-Za-z0-9_-]");
    private static final int MAX_PART = 80;

    /** Largest record ferry's clients, topics and embedded broker accept: a row image and its envelope must fit. */
    public static final int MAX_RECORD_BYTES = 16 * 1024 * 1024;

    /** Topic configuration of a dead-letter topic: one partition, kept forever, records as large as any table topic's. */
    public static final java.util.Map<String, String> DEAD_LETTER_TOPIC_CONFIG = java.util.Map.of(
            "retention.ms", "-1", "max.message.bytes", Integer.toString(MAX_RECORD_BYTES));

    private TopicNames() {
    }

    public static String tableTopic(String prefix, String source, String table) {
        return prefix + "." + part(source) + "." + part(table);
    }

    /** Topic of records the writer could not apply. */
    public static String deadLetterTopic(String prefix, String source) {
        return prefix + "." + part(source) + "._dlq";
    }

    /** Matches the table topics of one source, and nothing derived from them (dead letters, embedded). */
    public static Pattern tableTopicPattern(String prefix, String source) {
        return Pattern.compile(Pattern.quote(prefix + "." + part(source) + ".") + "[A-Za-z0-9-][A-Za-z0-9_-]*");
    }

    /** Topic of a table's rows with their vectors, written by the embed service and read by the writer. */
    public static String embeddedTopic(String prefix, String source, String table) {
        return tableTopic(prefix, source, table) + EMBEDDED_SUFFIX;
    }

    /** Suffix of the embed service's output topics. */
    public static final String EMBEDDED_SUFFIX = ".embedded";

    /**
     * The topics the writer reads: every table topic of the source, except those of {@code embeddedTables}, which
     * it reads from their {@link #embeddedTopic} instead (rows and vectors together).
     */
    public static Pattern writerTopicPattern(String prefix, String source, java.util.Collection<String> embeddedTables) {
        if (embeddedTables.isEmpty()) {
            return tableTopicPattern(prefix, source);
        }
        String base = Pattern.quote(prefix + "." + part(source) + ".");
        String names = String.join("|", embeddedTables.stream().map(t -> Pattern.quote(part(t))).sorted().toList());
        return Pattern.compile(base + "(?!(?:" + names + ")$)[A-Za-z0-9-][A-Za-z0-9_-]*|" + base + "(?:" + names + ")"
                + Pattern.quote(EMBEDDED_SUFFIX));
    }

    /**
     * A name part without dots (dots separate the parts), unchanged when it is already legal. Kafka also refuses a topic
     * whose name equals an existing one's once dots are read as underscores (their metric names would clash), so a
     * name ending in {@code _embedded} is hashed too: table {@code x_embedded}'s topic would clash with table
     * {@code x}'s {@link #embeddedTopic}.
     */
    static String part(String name) {
        if (LEGAL.matcher(name).matches() && name.length() <= MAX_PART && !name.startsWith("_")
                && !name.endsWith(EMBEDDED_SUFFIX.replace('.', '_'))) {
            return name;
        }
        String cleaned = ILLEGAL_CHAR.matcher(name).replaceAll("_");
        // SQLite allows an empty table name; the part must still start as tableTopicPattern expects.
        if (cleaned.isEmpty() || cleaned.startsWith("_")) {
            cleaned = "t" + cleaned;
        }
        if (cleaned.length() > MAX_PART) {
            cleaned = cleaned.substring(0, MAX_PART);
        }
        CRC32 crc = new CRC32();
        crc.update(name.getBytes(StandardCharsets.UTF_8));
        return cleaned + "_" + String.format("%08x", crc.getValue());
    }
}
