package dev.ferry.cli;

import dev.ferry.ingest.sqlite.SqliteFile;
import dev.ferry.observability.HealthCheck;
import dev.ferry.writer.pg.PgDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/** What a ferry process needs to reach to do its work, as {@code /health/ready} checks (docs/metrics.md). */
final class ReadinessChecks {

    private static final int TIMEOUT_SECONDS = 5;

    private ReadinessChecks() {
    }

    /** A broker of the cluster answers a metadata request within 5 s. */
    static HealthCheck kafka(Admin admin) {
        return () -> {
            var nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(TIMEOUT_SECONDS * 1000))
                    .nodes().get(TIMEOUT_SECONDS + 1, TimeUnit.SECONDS);
            if (nodes.isEmpty()) {
                throw new IllegalStateException("the cluster reports no broker");
            }
        };
    }

    /** A new connection opens and is valid within 5 s. */
    static HealthCheck postgres(String jdbcUrl) {
        return () -> {
            try (Connection c = PgDatabase.connect(jdbcUrl)) {
                if (!c.isValid(TIMEOUT_SECONDS)) {
                    throw new IllegalStateException("the connection is not valid");
                }
            }
        };
    }

    /** The file is a SQLite database that can be opened and read (its schema version). */
    static HealthCheck sqlite(Path file) {
        return () -> {
            try (Connection c = SqliteFile.open(file); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("PRAGMA schema_version")) {
                rs.next();
            }
        };
    }
}
