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
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Shows, per table: rows in SQLite, rows in PostgreSQL, the changelog backlog (changes not yet",
                "in Kafka), the lag (records in Kafka not yet in PostgreSQL, the embed service's included) and a state: snapshot, streaming,",
                "caught up, lag unknown, no target or not captured (see docs/operations.md). Kafka is found through",
                "--bootstrap-servers or the address that 'ferry up' left in --data-dir; without it the lag reads n/a."})
final class StatusCommand implements Callable<Integer> {

    /** Per-table and overall states, as printed and as in the JSON. */
    static final String SNAPSHOT = "snapshot";
    static final String STREAMING = "streaming";
    static final String CAUGHT_UP = "caught up";
    static final String LAG_UNKNOWN = "lag unknown";
    static final String NO_TARGET = "no target";
    static final String NOT_CAPTURED = "not captured";

    @Mixin
    ConnectionOptions connection = new ConnectionOptions();

    @Option(names = "--json", description = "Print one JSON object instead of the table (with --watch: one object per line).")
    boolean json;

    @Option(names = "--watch", arity = "0..1", paramLabel = "SECONDS", fallbackValue = "2",
            description = {"Print the status again every SECONDS (default when given without a value: ${FALLBACK-VALUE})",
                    "until Ctrl-C. On a terminal the screen is cleared before each refresh; otherwise tables follow each other."})
    Integer watch;

    @Option(names = "--count", paramLabel = "N",
            description = "With --watch: stop after N refreshes (without --watch it implies --watch 2).")
    Integer count;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** One table as status sees it; null numbers are unknown (no capture, no target table, Kafka unreachable). */
    record TableStatus(String table, long rowsSqlite, Long rowsPostgres, Long backlog, Long lagRecords, String state) {
    }

    /** Everything one refresh shows. */
    record Snapshot(Instant time, String source, boolean captured, String kafka, String state, List<TableStatus> tables) {
    }

    @Override
    public Integer call() throws Exception {
        if (watch != null && watch < 1) {
            throw new IllegalArgumentException("--watch must be at least 1 second, not " + watch);
        }
        if (count != null && count < 1) {
            throw new IllegalArgumentException("--count must be at least 1, not " + count);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (watch == null && count == null) {
            print(out, read());
            return 0;
        }
        int seconds = watch == null ? 2 : watch;
        boolean terminal = System.console() != null && !json;
        try {
            for (int refresh = 1; count == null || refresh <= count; refresh++) {
                if (Thread.currentThread().isInterrupted()) {
                    break;
                }
                Snapshot snapshot;
                try {
                    snapshot = read();
                } catch (SQLException | RuntimeException e) {
                    // A watch outlives a database restart: say what failed and try again at the next refresh.
                    spec.commandLine().getErr().println("ferry: cannot read the status: " + ErrorMessages.describe(e));
                    snapshot = null;
                }
                if (snapshot != null) {
                    if (terminal) {
                        out.print("\033[H\033[2J");
                    }
                    if (!json) {
                        out.printf("%s  %s  every %d s%s%n", snapshot.time().truncatedTo(ChronoUnit.SECONDS), snapshot.source(),
                                seconds, count == null ? ", Ctrl-C to stop" : ", refresh " + refresh + "/" + count);
                    }
                    print(out, snapshot);
                    if (!json && !terminal) {
                        out.println();
                    }
                }
                out.flush();
                if (count != null && refresh == count) {
                    break;
                }
                Thread.sleep(seconds * 1000L);
            }
        } catch (InterruptedException e) {
            // Stopped from another thread (or Ctrl-C's shutdown): a normal end of the watch.
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private void print(PrintWriter out, Snapshot s) {
        if (json) {
            out.println(toJson(s));
            out.flush();
            return;
        }
        out.printf("%-32s %12s %12s %10s %10s  %s%n", "table", "sqlite rows", "pg rows", "backlog", "lag", "state");
        for (TableStatus t : s.tables()) {
            out.printf("%-32s %12d %12s %10s %10s  %s%n", t.table(), t.rowsSqlite(), t.rowsPostgres() == null ? "-" : t.rowsPostgres(),
                    t.backlog() == null ? "n/a" : t.backlog(), t.lagRecords() == null ? "n/a" : t.lagRecords(), t.state());
        }
        if (!s.captured()) {
            out.println("change capture is not installed in " + connection.sqlite + " (run ferry up)");
        } else {
            out.println("state: " + s.state());
        }
        out.flush();
    }

    /** Reads both databases and Kafka once. */
    Snapshot read() throws Exception {
        String source = connection.source();
        try (Connection sqlite = SqliteFile.open(connection.sqlite); Connection pg = PgDatabase.connect(connection.postgres)) {
            Instant now = Instant.now();
            List<TableInfo> tables = SchemaReader.readTables(sqlite, null);
            String bootstrap = bootstrapServers();
            Map<TopicPartition, Long> lag = bootstrap == null ? null : readLag(pg, source, bootstrap);
            boolean captured = ChangeCapture.installed(sqlite);
            Map<String, Long> backlog = captured ? ChangeCapture.backlogByTable(sqlite) : Map.of();
            Set<String> triggered = captured ? capturedTables(sqlite) : Set.of();
            boolean streamed = captured && streamStarted(sqlite);
            List<TableStatus> rows = new ArrayList<>();
            for (TableInfo table : tables) {
                String topic = TopicNames.tableTopic("ferry", source, table.name());
                Long lagRecords = lag == null ? null : lag.entrySet().stream()
                        .filter(e -> e.getKey().topic().equals(topic) || e.getKey().topic().equals(topic + TopicNames.EMBEDDED_SUFFIX))
                        .mapToLong(Map.Entry::getValue).sum();
                Long target = targetCount(pg, table.name());
                Long tableBacklog = captured ? backlog.getOrDefault(table.name(), 0L) : null;
                String state;
                if (!triggered.contains(table.name())) {
                    state = NOT_CAPTURED;
                } else if (target == null) {
                    state = NO_TARGET;
                } else if (!streamed) {
                    state = SNAPSHOT;
                } else if (tableBacklog > 0 || (lagRecords != null && lagRecords > 0)) {
                    state = STREAMING;
                } else {
                    state = lagRecords == null ? LAG_UNKNOWN : CAUGHT_UP;
                }
                rows.add(new TableStatus(table.name(), count(sqlite, SqlIdentifiers.quote(table.name())), target, tableBacklog,
                        lagRecords, state));
            }
            return new Snapshot(now, source, captured, lag == null ? null : bootstrap, overall(captured, streamed, rows), rows);
        }
    }

    /**
     * The state of the whole source: not captured (no change capture in the file), snapshot (the first snapshot
     * is not done), streaming (a captured table has a backlog, a lag, or no target table yet), lag unknown (Kafka
     * cannot be reached, nothing else waits), caught up.
     */
    private static String overall(boolean captured, boolean streamed, List<TableStatus> rows) {
        if (!captured) {
            return NOT_CAPTURED;
        }
        if (!streamed) {
            return SNAPSHOT;
        }
        List<String> states = rows.stream().map(TableStatus::state).filter(s -> !s.equals(NOT_CAPTURED)).toList();
        if (states.contains(STREAMING) || states.contains(NO_TARGET) || states.contains(SNAPSHOT)) {
            return STREAMING;
        }
        return states.contains(LAG_UNKNOWN) ? LAG_UNKNOWN : CAUGHT_UP;
    }

    /** Tables that carry ferry's triggers (those 'ferry up' captures). */
    static Set<String> capturedTables(Connection sqlite) throws SQLException {
        Set<String> names = new HashSet<>();
        try (Statement st = sqlite.createStatement();
             ResultSet rs = st.executeQuery("SELECT DISTINCT tbl_name FROM sqlite_schema WHERE type = 'trigger' AND name GLOB '_ferry_*'")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    /** True once the ingest stored a stream position (committed_seq): the first snapshot is entirely in Kafka. */
    private static boolean streamStarted(Connection sqlite) throws SQLException {
        try (Statement st = sqlite.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM _ferry_state WHERE name = 'committed_seq'")) {
            return rs.next() && rs.getLong(1) > 0;
        } catch (SQLException e) {
            return false;
        }
    }

    private String bootstrapServers() throws java.io.IOException {
        String bootstrap = connection.bootstrapServers;
        if (bootstrap == null && Files.exists(connection.dataDir.resolve("bootstrap.servers"))) {
            bootstrap = Files.readString(connection.dataDir.resolve("bootstrap.servers")).trim();
        }
        return bootstrap;
    }

    private Map<TopicPartition, Long> readLag(Connection pg, String source, String bootstrap) throws Exception {
        Map<String, Object> conf = new HashMap<>();
        conf.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        conf.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        conf.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 8000);
        try (Admin admin = Admin.create(conf)) {
            Map<TopicPartition, Long> lag = new HashMap<>(LagReader.lag(admin, pg, "ferry", source, "ferry-writer-" + source));
            // A table with an embedding spec waits first in the embed service (its table topic), then in the writer (.embedded).
            java.util.regex.Pattern embedded = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote("ferry.")
                    + ".*" + java.util.regex.Pattern.quote(TopicNames.EMBEDDED_SUFFIX));
            List<String> inputs = lag.keySet().stream().map(TopicPartition::topic).filter(t -> embedded.matcher(t).matches())
                    .map(t -> t.substring(0, t.length() - TopicNames.EMBEDDED_SUFFIX.length())).distinct().toList();
            if (!inputs.isEmpty()) {
                lag.putAll(dev.ferry.embed.EmbedService.lagByPartition(admin, java.util.regex.Pattern.compile(String.join("|",
                        inputs.stream().map(java.util.regex.Pattern::quote).toList())), "ferry-embed-" + source));
            }
            return lag;
        } catch (SQLException e) {
            if (!"42P01".equals(e.getSQLState()) && !"3F000".equals(e.getSQLState())) {
                throw e;
            }
            // No _ferry.offsets: the writer never ran against this database, so there is no lag to speak of yet.
            rollback(pg);
            return null;
        } catch (RuntimeException e) {
            spec.commandLine().getErr().println("ferry: Kafka at " + bootstrap + " is not reachable (" + ErrorMessages.describe(e) + "): lag unknown");
            return null;
        }
    }

    /** Rows of the target table; null when it does not exist (or cannot be read). */
    private Long targetCount(Connection pg, String table) {
        try {
            return count(pg, PgIdentifiers.qualified(connection.targetSchema, table));
        } catch (SQLException e) {
            rollback(pg);
            return null;
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

    /** The status as one JSON object (docs/operations.md). */
    static String toJson(Snapshot s) {
        StringBuilder b = new StringBuilder(256);
        b.append("{\"time\":").append(quote(s.time().toString()))
                .append(",\"source\":").append(quote(s.source()))
                .append(",\"state\":").append(quote(s.state()))
                .append(",\"captured\":").append(s.captured())
                .append(",\"kafka\":").append(s.kafka() == null ? "null" : quote(s.kafka()))
                .append(",\"tables\":[");
        for (int i = 0; i < s.tables().size(); i++) {
            TableStatus t = s.tables().get(i);
            b.append(i == 0 ? "" : ",")
                    .append("{\"table\":").append(quote(t.table()))
                    .append(",\"rows_sqlite\":").append(t.rowsSqlite())
                    .append(",\"rows_postgres\":").append(t.rowsPostgres())
                    .append(",\"backlog\":").append(t.backlog())
                    .append(",\"lag_records\":").append(t.lagRecords())
                    .append(",\"state\":").append(quote(t.state()))
                    .append('}');
        }
        return b.append("]}").toString();
    }

    /** A JSON string literal (RFC 8259): quote, backslash and control characters escaped. */
    static String quote(String text) {
        StringBuilder b = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
