package dev.ferry.ingest.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ingest's offsets file: what ferry stored before, with the Debezium embedded engine, is read as it was. */
class TaskOffsetsTest {

    @TempDir
    Path dir;

    private static final Map<String, Object> PARTITION = Map.of("source", "m1");

    /**
     * {@code debezium-3.6.1-engine.dat} is the {@code ingest-offsets.dat} that ferry wrote with the Debezium 3.6.1
     * embedded engine after a snapshot of a one-table file (source {@code m1}): an upgraded ferry must resume from it,
     * not snapshot again.
     */
    @Test
    void anOffsetsFileOfTheDebeziumEngineIsReadAsItWasStored() throws Exception {
        Path file = dir.resolve("ingest-offsets.dat");
        try (InputStream in = getClass().getResourceAsStream("/offsets/debezium-3.6.1-engine.dat")) {
            Files.copy(in, file);
        }
        try (TaskOffsets offsets = new TaskOffsets(file, "ferry-ingest-m1")) {
            SourceOffset offset = SourceOffset.fromMap(offsets.reader().offset(PARTITION));
            assertTrue(offset.streaming());
            assertEquals(0L, offset.seq());
            assertEquals("84dc1f4a-085e-4978-8af6-1a483210ecde", offset.captureId());
            assertEquals(6L, offset.schemaVersion());
            assertEquals(Map.of("bench_mixed", "8858870a"), offset.shapes());
            assertNull(offsets.reader().offset(Map.of("source", "another")), "another source's partition has no offset");
        }
        try (TaskOffsets otherName = new TaskOffsets(file, "ferry-ingest-other")) {
            assertNull(otherName.reader().offset(PARTITION), "the namespace is the connector's name");
        }
    }

    @Test
    void anOffsetIsStoredOnlyByAFlushAndSurvivesAReopen() throws Exception {
        Path file = dir.resolve("offsets.dat");
        Map<String, Object> first = new SourceOffset(SourceOffset.STREAM, 41, "cap", 3, Map.of("t", "d1"), java.util.Set.of()).toMap();
        Map<String, Object> second = new SourceOffset(SourceOffset.STREAM, 42, "cap", 3, Map.of("t", "d1"), java.util.Set.of()).toMap();
        try (TaskOffsets offsets = new TaskOffsets(file, "ferry-ingest-m1")) {
            assertFalse(offsets.flush(1000), "nothing noted, nothing to store");
            offsets.record(PARTITION, first);
            assertTrue(offsets.flush(1000));
            offsets.record(PARTITION, second);
        }
        try (TaskOffsets reopened = new TaskOffsets(file, "ferry-ingest-m1")) {
            assertEquals(41L, SourceOffset.fromMap(reopened.reader().offset(PARTITION)).seq(),
                    "the offset noted after the last flush was never stored, as after a crash");
            reopened.record(PARTITION, second);
            assertTrue(reopened.flush(1000));
        }
        try (TaskOffsets reopened = new TaskOffsets(file, "ferry-ingest-m1")) {
            assertEquals(42L, SourceOffset.fromMap(reopened.reader().offset(PARTITION)).seq());
        }
    }
}
