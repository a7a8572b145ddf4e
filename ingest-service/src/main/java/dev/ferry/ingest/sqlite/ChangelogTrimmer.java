package dev.ferry.ingest.sqlite;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes consumed changelog rows on its own thread and connection. Trimming needs SQLite's single write lock,
 * which a busy application holds most of the time; done on the capture thread it stalled capture for up to a
 * second at a time (measured in docs/benchmarks.md). Requests collapse: only the newest seq is trimmed.
 */
public final class ChangelogTrimmer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChangelogTrimmer.class);

    private final Path path;
    private final Connection connection;
    private final AtomicLong pending = new AtomicLong(-1);
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ferry-changelog-trim");
        t.setDaemon(true);
        return t;
    });
    private volatile long trimmed = -1;

    public ChangelogTrimmer(Path path) throws SQLException {
        this.path = path;
        this.connection = SqliteFile.openForWrites(path);
    }

    /** Asks for every changelog row before {@code seq} to go; returns at once. */
    public void request(long seq) {
        if (seq > trimmed && pending.getAndAccumulate(seq, Math::max) == -1) {
            thread.execute(this::trim);
        }
    }

    private void trim() {
        long seq = pending.getAndSet(-1);
        try {
            ChangeCapture.markCommitted(connection, seq);
            trimmed = seq;
        } catch (SQLException e) {
            // Not fatal: the rows are deleted at the next request.
            LOG.warn("cannot trim the changelog of {} up to seq {}: {}", path, seq, e.getMessage());
        }
    }

    @Override
    public void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("changelog trimming of {} did not finish within 30 s", path);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            connection.close();
        } catch (SQLException e) {
            LOG.debug("closing the trim connection failed: {}", e.getMessage());
        }
    }
}
