package dev.ferry.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class TopicNamesTest {

    /** What Kafka accepts as a topic name (kafka.common.internals.Topic). */
    private static final Pattern KAFKA_LEGAL = Pattern.compile("[A-Za-z0-9._-]+");
    private static final int KAFKA_MAX_LENGTH = 249;

    private static final List<String> HOSTILE_TABLE_NAMES = List.of(
            "a b", "a_b", "a.b", "a-b", "a__b", "a  b",
            "Order Details", "Order_Details", "order details", "Order.Details",
            "it's", "it\"s", "\"quoted\"", "select", "weird \"col\"",
            "_x", "x", "t_x", "__", "_", "_ferry_changelog",
            "caf\u00e9", "cafe", "caf_", "\u4e2d\u6587", "\u65e5\u672c", "\uD83D\uDE80", "\uD83D\uDE81",
            "tab\there", "new\nline", "nul\u0000byte", "slash/name", "back\\slash", "..", ".", "-", "-leading-dash",
            "", " ", "  ",
            "a".repeat(300), "a".repeat(299) + "b", "a".repeat(81), "a".repeat(80), "a".repeat(300) + " ", "\u00e9".repeat(300));

    @Test
    void legalNamesAreKeptAsTheyAre() {
        assertEquals("ferry.app.orders", TopicNames.tableTopic("ferry", "app", "orders"));
        assertEquals("ferry.shop-1.Order_Details-2", TopicNames.tableTopic("ferry", "shop-1", "Order_Details-2"));
        assertEquals("ferry.app." + "a".repeat(80), TopicNames.tableTopic("ferry", "app", "a".repeat(80)));
        assertEquals("ferry.app._dlq", TopicNames.deadLetterTopic("ferry", "app"));
    }

    @Test
    void everyTableNameBecomesALegalKafkaTopicOfAtMost249Characters() {
        for (String table : HOSTILE_TABLE_NAMES) {
            for (String source : List.of("app", "my app \uD83D\uDE80", "s".repeat(300))) {
                String topic = TopicNames.tableTopic("ferry", source, table);
                assertTrue(KAFKA_LEGAL.matcher(topic).matches(), "illegal topic " + topic + " for table [" + table + "]");
                assertTrue(topic.length() <= KAFKA_MAX_LENGTH, topic.length() + " characters for table [" + table + "]");
                assertFalse(topic.equals(".") || topic.equals(".."), topic);
                assertEquals(2, topic.chars().filter(c -> c == '.').count(), "dots only separate prefix, source and table: " + topic);
            }
        }
    }

    @Test
    void twoDifferentTableNamesNeverShareATopic() {
        Map<String, String> tableByTopic = new HashMap<>();
        for (String table : HOSTILE_TABLE_NAMES) {
            String topic = TopicNames.tableTopic("ferry", "app", table);
            String previous = tableByTopic.put(topic, table);
            assertTrue(previous == null, "tables [" + previous + "] and [" + table + "] share topic " + topic);
        }
        assertFalse(TopicNames.tableTopic("ferry", "app", "a b").equals(TopicNames.tableTopic("ferry", "app", "a_b")));
        assertFalse(TopicNames.tableTopic("ferry", "app", "Order Details").equals(TopicNames.tableTopic("ferry", "app", "Order_Details")));
    }

    @Test
    void noTwoTopicsOfASourceClashOnceDotsReadAsUnderscores() {
        // Kafka refuses to create a topic whose name, with '.' read as '_', equals an existing topic's
        // (kafka.common.internals.Topic.hasCollision): every topic of one source must stay apart that way too.
        java.util.Set<String> tables = new java.util.LinkedHashSet<>(HOSTILE_TABLE_NAMES);
        tables.addAll(List.of("x", "x_embedded", "x.embedded", "x_embedded_", "X_embedded", "x_embedded_embedded", "embedded",
                "_embedded", "x-embedded", "dlq", "_dlq", "t_dlq", "x_dlq"));
        Map<String, String> topicByUnified = new HashMap<>();
        for (String table : tables) {
            List<String> topics = List.of(TopicNames.tableTopic("ferry", "app", table), TopicNames.embeddedTopic("ferry", "app", table));
            for (String topic : topics) {
                String previous = topicByUnified.put(topic.replace('.', '_'), topic);
                assertTrue(previous == null, "topics " + previous + " and " + topic + " clash in Kafka");
            }
        }
        String dlq = TopicNames.deadLetterTopic("ferry", "app");
        assertTrue(!topicByUnified.containsKey(dlq.replace('.', '_')), dlq + " clashes with " + topicByUnified.get(dlq.replace('.', '_')));
        assertEquals("ferry.app.x_embedded_" + String.format("%08x", crc("x_embedded")), TopicNames.tableTopic("ferry", "app", "x_embedded"));
    }

    private static long crc(String name) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return crc.getValue();
    }

    @Test
    void twoDifferentSourcesNeverShareATopic() {
        assertFalse(TopicNames.tableTopic("ferry", "my app", "t").equals(TopicNames.tableTopic("ferry", "my_app", "t")));
        assertFalse(TopicNames.deadLetterTopic("ferry", "my app").equals(TopicNames.deadLetterTopic("ferry", "my_app")));
    }

    @Test
    void namesAreStableAcrossCalls() {
        for (String table : HOSTILE_TABLE_NAMES) {
            assertEquals(TopicNames.tableTopic("ferry", "app", table), TopicNames.tableTopic("ferry", "app", new String(table)));
        }
    }

    @Test
    void tableTopicPatternMatchesEveryTableTopicOfItsSourceAndNothingDerived() {
        Pattern pattern = TopicNames.tableTopicPattern("ferry", "my app");
        for (String table : HOSTILE_TABLE_NAMES) {
            String topic = TopicNames.tableTopic("ferry", "my app", table);
            assertTrue(pattern.matcher(topic).matches(), "pattern misses the topic " + topic + " of table [" + table + "]");
        }
        assertFalse(pattern.matcher(TopicNames.deadLetterTopic("ferry", "my app")).matches(), "the dead-letter topic is not a table topic");
        assertFalse(pattern.matcher(TopicNames.tableTopic("ferry", "my app", "orders") + ".embedded").matches(), "embedded topics are derived");
        assertFalse(pattern.matcher(TopicNames.tableTopic("ferry", "other", "orders")).matches(), "another source");
        assertFalse(pattern.matcher(TopicNames.tableTopic("ferry", "my_app", "orders")).matches(), "a source whose name only looks alike");
        assertFalse(pattern.matcher(TopicNames.tableTopic("other", "my app", "orders")).matches(), "another prefix");
    }
}
