package dev.ferry.cli;

import dev.ferry.writer.WriterService;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "write", mixinStandardHelpOptions = true,
        description = {"Runs the writer service alone: applies a source's table topics from an external Kafka cluster to PostgreSQL"
                + " until stopped (Ctrl-C).",
                "Several `ferry write` processes of one source share its partitions (consumer group ferry-writer-<source>);",
                "each partition resumes from the offset stored in PostgreSQL (_ferry.offsets), whichever process had it before."})
final class WriteCommand implements Callable<Integer> {

    static final int DEFAULT_METRICS_PORT = 9466;

    @Option(names = "--source-name", required = true, paramLabel = "NAME",
            description = "Logical source name of the topics to read: the ingest's --source-name (by default its SQLite file name without extension).")
    String sourceName;

    @Option(names = "--postgres", paramLabel = "JDBC_URL", defaultValue = ConnectionOptions.DEFAULT_POSTGRES,
            description = "Target PostgreSQL database (default: ${DEFAULT-VALUE}).")
    String postgres;

    @Option(names = "--target-schema", paramLabel = "SCHEMA", defaultValue = "public",
            description = "PostgreSQL schema that receives the tables (default: ${DEFAULT-VALUE}).")
    String targetSchema;

    @Option(names = "--type-override", paramLabel = "TABLE.COLUMN=TYPE",
            description = {"PostgreSQL type for one column instead of the one its declared type maps to; repeatable.",
                    "As for `ferry up` (see docs/type-mapping.md); give every writer of a source the same overrides."})
    List<String> typeOverrides = new ArrayList<>();

    @Option(names = "--config", paramLabel = "FILE",
            description = {"ferry's configuration file (YAML): the tables with an embedding spec are read from their .embedded topics",
                    "(written by `ferry embed`) instead of their table topics. Give every writer and embed process the same file."})
    java.nio.file.Path configFile;

    @Mixin
    ServiceOptions service = new ServiceOptions(DEFAULT_METRICS_PORT);

    @Override
    public Integer call() throws Exception {
        return runner().runUntilShutdown(this::create);
    }

    /** Checks the options; the runner serves the writer's endpoints with PostgreSQL as readiness check. */
    ServiceRunner runner() {
        UpCommand.Options.sourceName(sourceName);
        UpCommand.Options.typeOverrides(typeOverrides);
        if (configFile != null) {
            FerryConfig.load(configFile);
        }
        return service.runner("writer").ready("postgres", ReadinessChecks.postgres(postgres));
    }

    ServiceRunner.Service create(MeterRegistry registry) throws Exception {
        Map<String, String> overrides = UpCommand.Options.typeOverrides(typeOverrides);
        FerryConfig config = configFile == null ? FerryConfig.EMPTY : FerryConfig.load(configFile);
        WriterService writer = new WriterService(new WriterService.Settings(service.bootstrapServers, postgres, sourceName, "ferry",
                targetSchema, "ferry-writer-" + sourceName, false, 5000, overrides, config.embeddedTables()), registry);
        return ServiceRunner.onThread("ferry-writer", writer, writer::stop, writer::close, writer::failure,
                () -> writer.rowsApplied() + " row(s) applied, " + writer.deadLetters() + " dead letter(s)");
    }
}
