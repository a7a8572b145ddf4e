package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.broker.EmbeddedKafkaBroker;
import dev.ferry.testkit.AppWriter;
import dev.ferry.testkit.PostgresTestDatabase;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TableComparison;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Infrastructure failures while the application writes: the pipeline rides them out and loses nothing. */
class FaultInjectionTest {

    static PostgresTestDatabase pg;

    @TempDir
    Path dir;

    @BeforeAll
    static void createDatabase() {
        pg = PostgresTestDatabase.create();
    }

    @AfterAll
    static void dropDatabase() {
        pg.close();
    }

    @Test
    void postgresKillingTheWritersConnectionsLosesNothing(@TempDir Path brokerDir) throws Exception {
        SqliteTestDatabase db = ReplicationTest.seededMixed(dir, 3_000);
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(brokerDir);
             Pipeline pipeline = new Pipeline(new Pipeline.Options(db.path(), pg.jdbcUrl(), dir.resolve("state"), "pgkill",
                     broker.bootstrapServers(), "ferry", "pgkill", 1, true, Map.of()))) {
            pipeline.start();
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            AppWriter app = new AppWriter(db.path(), 5, 8_000, 1_000, (c, r, s) -> ReplicationTest.mixedChange(c, r, s)).start();
            int killed = 0;
            for (int round = 0; round < 4; round++) {
                Thread.sleep(1_200);
                killed += terminateWriterBackends();
            }
            assertTrue(killed >= 3, "the server really cut the writer's connections (" + killed + ")");
            app.join(120_000);
            pipeline.awaitCaughtUp(Duration.ofMinutes(3));
            TableComparison.assertIdentical(db.path(), pg.jdbcUrl(), "pgkill");
        }
    }

    @Test
    void aBrokerRestartMidStreamLosesNothing(@TempDir Path brokerDir) throws Exception {
        SqliteTestDatabase db = ReplicationTest.seededMixed(dir, 3_000);
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(brokerDir);
        try (AppWriter app = new AppWriter(db.path(), 6, 5_000, 500, (c, r, s) -> ReplicationTest.mixedChange(c, r, s)).start();
             Pipeline pipeline = new Pipeline(new Pipeline.Options(db.path(), pg.jdbcUrl(), dir.resolve("state"), "brokerbounce",
                     broker.bootstrapServers(), "ferry", "brokerbounce", 1, true, Map.of()))) {
            pipeline.start();
            pipeline.awaitCaughtUp(Duration.ofMinutes(2));
            String address = broker.bootstrapServers();
            broker.close();
            Thread.sleep(3_000);
            broker = EmbeddedKafkaBroker.start(brokerDir);
            assertTrue(broker.bootstrapServers().equals(address), "the broker came back on the same address");
            app.join(120_000);
            pipeline.awaitCaughtUp(Duration.ofMinutes(3));
            TableComparison.assertIdentical(db.path(), pg.jdbcUrl(), "brokerbounce");
        } finally {
            broker.close();
        }
    }

    private static int terminateWriterBackends() throws Exception {
        try (Connection c = pg.connect(); PreparedStatement ps = c.prepareStatement("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))"
                + " FROM pg_stat_activity WHERE datname = ? AND application_name = 'ferry-writer' AND pid <> pg_backend_pid()")) {
            ps.setString(1, pg.name());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
