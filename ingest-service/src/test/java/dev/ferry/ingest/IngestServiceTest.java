package dev.ferry.ingest;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service's life without Kafka: what a caller that gives up early (a bad option, a failed start) sees. */
class IngestServiceTest {

    @TempDir
    Path dir;

    @Test
    void aServiceClosedBeforeItStartedStopsAtOnce() {
        IngestService ingest = new IngestService(new IngestService.Settings(dir.resolve("app.db"), "app", "127.0.0.1:1",
                dir.resolve("offsets.dat"), "ferry", 1, Map.of()));
        // There is no task loop to wait for: closing must not sit out the loop's stop timeout.
        assertTimeoutPreemptively(Duration.ofSeconds(5), ingest::close);
        assertNull(ingest.failure());
    }
}
