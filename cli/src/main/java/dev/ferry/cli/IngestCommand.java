package dev.ferry.cli;

import dev.ferry.ingest.IngestService;
import dev.ferry.ingest.sqlite.ChangeCapture;
import dev.ferry.ingest.sqlite.SqliteFile;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = {"Runs the ingest service alone: captures a live SQLite file into an external Kafka cluster until stopped (Ctrl-C).",
                "Installs change capture in the file, snapshots every table, then streams every change, as `ferry up` does;",
                "run it on the host (or in the pod) that has the application's SQLite file, and `ferry write` anywhere."})
final class IngestCommand implements Callable<Integer> {

    static final int DEFAULT_METRICS_PORT = 9465;

    @Option(names = "--sqlite", required = true, paramLabel = "FILE", description = "SQLite database file of the application.")
    Path sqlite;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = ".ferry",
            description = "Directory for the ingest offsets (ingest-offsets.dat) and bootstrap.servers (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--source-name", paramLabel = "NAME",
            description = "Logical source name used in topic names (default: the SQLite file name without extension).")
    String sourceName;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "1", description = "Partitions per table topic (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--tables", paramLabel = "REGEX", description = "Capture only the tables whose whole name matches this regular expression.")
    String tables;

    @Mixin
    ServiceOptions service = new ServiceOptions(DEFAULT_METRICS_PORT);

    @Override
    public Integer call() throws Exception {
        return runner().runUntilShutdown(this::create);
    }

    /** Checks the options; the runner serves the ingest's endpoints with the SQLite file as readiness check. */
    ServiceRunner runner() throws SQLException {
        UpCommand.Options.partitions(partitions);
        UpCommand.Options.connector(tables);
        UpCommand.Options.sourceName(source());
        SqliteFile.check(sqlite);
        return service.runner("ingest").ready("sqlite", ReadinessChecks.sqlite(sqlite));
    }

    private String source() {
        return sourceName != null ? sourceName : SourceNames.fromFile(sqlite);
    }

    ServiceRunner.Service create(MeterRegistry registry) {
        IngestService ingest = new IngestService(new IngestService.Settings(sqlite, source(), service.bootstrapServers,
                dataDir.resolve("ingest-offsets.dat"), "ferry", partitions, UpCommand.Options.connector(tables)), registry);
        return new ServiceRunner.Service() {
            private Connection file;

            @Override
            public void start() throws Exception {
                Files.createDirectories(dataDir);
                Files.writeString(dataDir.resolve("bootstrap.servers"), service.bootstrapServers);
                ingest.start();
            }

            @Override
            public Throwable failure() {
                return ingest.failure();
            }

            @Override
            public String progress() throws SQLException {
                if (file == null) {
                    file = SqliteFile.open(sqlite);
                }
                long backlog = ChangeCapture.installed(file) ? ChangeCapture.backlog(file, ingest.producedSeq()) : 0;
                return (ingest.snapshotDone() ? "streaming" : "snapshot") + ": " + ingest.recordsSent() + " record(s) sent, changelog backlog "
                        + backlog;
            }

            @Override
            public void close() {
                ingest.close();
                if (file != null) {
                    try {
                        file.close();
                    } catch (SQLException ignored) {
                        // read-only progress connection
                    }
                }
            }
        };
    }
}
