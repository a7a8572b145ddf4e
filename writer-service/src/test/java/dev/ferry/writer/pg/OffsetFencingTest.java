package dev.ferry.writer.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.ferry.testkit.PostgresTestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two writers of one group applying the same records (a partition reassigned while the old owner still applies a
 * poll): the stored offset moves only from the value a writer read, so exactly one of them commits.
 */
class OffsetFencingTest {

    static PostgresTestDatabase pg;
    static final TopicPartition TP = new TopicPartition("ferry.app.orders", 2);
    static final TopicPartition OTHER = new TopicPartition("ferry.app.notes", 0);

    @BeforeAll
    static void create() throws Exception {
        pg = PostgresTestDatabase.create();
        try (Connection c = pg.connect()) {
            MetadataStore.create(c);
        }
    }

    @AfterAll
    static void drop() {
        pg.close();
    }

    private static long stored(TopicPartition tp) throws Exception {
        try (Connection c = pg.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT next_offset FROM _ferry.offsets WHERE consumer_group = 'g' AND topic = '" + tp.topic()
                     + "' AND kafka_partition = " + tp.partition())) {
            return rs.next() ? rs.getLong(1) : MetadataStore.NONE;
        }
    }

    @Test
    void ofTwoWritersAdvancingTheSameOffsetTheSecondWaitsForTheFirstAndIsRefused() throws Exception {
        try (Connection first = pg.connect(); Connection second = pg.connect()) {
            first.setAutoCommit(false);
            second.setAutoCommit(false);
            assertEquals(Set.of(), MetadataStore.advanceOffsets(first, "g", Map.of(), Map.of(TP, 10L, OTHER, 3L), null));
            // The second writer read "no offset" too; its insert waits for the first's transaction.
            CompletableFuture<Set<TopicPartition>> late = CompletableFuture.supplyAsync(() -> {
                try {
                    return MetadataStore.advanceOffsets(second, "g", Map.of(), Map.of(TP, 12L), null);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(300);
            assertFalse(late.isDone(), "the second writer waits on the first's offset row");
            first.commit();
            assertEquals(Set.of(TP), late.get(10, TimeUnit.SECONDS), "the first committed: the second must roll back");
            second.rollback();
            assertEquals(10, stored(TP));

            // Same from a stored offset: a writer that read 10 while another already moved it to 20 is refused.
            assertEquals(Set.of(), MetadataStore.advanceOffsets(first, "g", Map.of(TP, 10L), Map.of(TP, 20L), null));
            first.commit();
            assertEquals(Set.of(TP), MetadataStore.advanceOffsets(second, "g", Map.of(TP, 10L), Map.of(TP, 25L), null));
            second.rollback();
            assertEquals(Set.of(), MetadataStore.advanceOffsets(second, "g", Map.of(TP, 20L, OTHER, 3L), Map.of(TP, 25L, OTHER, 4L), null));
            second.commit();
            assertEquals(25, stored(TP));
            assertEquals(4, stored(OTHER));
        }
    }
}
