package dev.ferry.cli;

import dev.ferry.ingest.sqlite.ChangeCapture;
import dev.ferry.ingest.sqlite.SchemaReader;
import dev.ferry.ingest.sqlite.SqlIdentifiers;
import dev.ferry.ingest.sqlite.SqliteFile;
import dev.ferry.ingest.sqlite.TableInfo;
import dev.ferry.schemas.TopicNames;
import dev.ferry.writer.LagReader;
import dev.ferry.writer.pg.PgDatabase;
import dev.ferry.writer.pg.PgIdentifiers;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Shows, per table: rows in SQLite, rows in PostgreSQL, the changelog backlog (changes not yet",
                "in Kafka) and the writer's lag (records in Kafka not yet in PostgreSQL). Kafka is found through",
                "--bootstrap-servers or the address that 'ferry up' left in --data-dir; without it the lag reads n/a."})
final class StatusCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection = new ConnectionOptions();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        String source = connection.source();
        try (Connection sqlite = SqliteFile.open(connection.sqlite); Connection pg = PgDatabase.connect(connection.postgres)) {
            List<TableInfo> tables = SchemaReader.readTables(sqlite, null);
            Map<TopicPartition, Long> lag = readLag(pg, source);
            boolean captured = ChangeCapture.installed(sqlite);
            Map<String, Long> backlog = captured ? ChangeCapture.backlogByTable(sqlite) : Map.of();
            out.printf("%-32s %12s %12s %10s %10s%n", "table", "sqlite rows", "pg rows", "backlog", "lag");
            for (TableInfo table : tables) {
                String topic = TopicNames.tableTopic("ferry", source, table.name());
                String lagText = lag == null ? "n/a" : Long.toString(lag.entrySet().stream()
                        .filter(e -> e.getKey().topic().equals(topic)).mapToLong(Map.Entry::getValue).sum());
                out.printf("%-32s %12d %12s %10s %10s%n", table.name(), count(sqlite, SqlIdentifiers.quote(table.name())),
                        targetCount(pg, table.name()), captured ? backlog.getOrDefault(table.name(), 0L) : "n/a", lagText);
            }
            if (!captured) {
                out.println("change capture is not installed in " + connection.sqlite + " (run ferry up)");
            }
        }
        return 0;
    }

    private Map<TopicPartition, Long> readLag(Connection pg, String source) throws Exception {
        String bootstrap = connection.bootstrapServers;
        if (bootstrap == null && Files.exists(connection.dataDir.resolve("bootstrap.servers"))) {
            bootstrap = Files.readString(connection.dataDir.resolve("bootstrap.servers")).trim();
        }
        if (bootstrap == null) {
            return null;
        }
        Map<String, Object> conf = new HashMap<>();
        conf.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        conf.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        conf.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 8000);
        try (Admin admin = Admin.create(conf)) {
            return LagReader.lag(admin, pg, "ferry", source, "ferry-writer-" + source);
        } catch (RuntimeException e) {
            spec.commandLine().getErr().println("ferry: Kafka at " + bootstrap + " is not reachable (" + ErrorMessages.describe(e) + "): lag unknown");
            return null;
        }
    }

    private String targetCount(Connection pg, String table) {
        try {
            return Long.toString(count(pg, PgIdentifiers.qualified(connection.targetSchema, table)));
        } catch (SQLException e) {
            rollback(pg);
            return "-";
        }
    }

    private static long count(Connection c, String qualifiedTable) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + qualifiedTable)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void rollback(Connection c) {
        try {
            if (!c.getAutoCommit()) {
                c.rollback();
            }
        } catch (SQLException ignored) {
            // only clears the failed statement's transaction
        }
    }
}
