package dev.ferry.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by the commands that talk to the source, the target and Kafka. */
final class ConnectionOptions {

    static final String DEFAULT_POSTGRES = "jdbc:postgresql://127.0.0.1:5432/ferry?user=postgres";

    @Option(names = "--sqlite", required = true, paramLabel = "FILE", description = "SQLite database file of the application.")
    Path sqlite;

    @Option(names = "--postgres", paramLabel = "JDBC_URL", defaultValue = DEFAULT_POSTGRES,
            description = "Target PostgreSQL database (default: ${DEFAULT-VALUE}).")
    String postgres;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = ".ferry",
            description = "Directory for ferry's state: the embedded broker's log and the ingest offsets (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--source-name", paramLabel = "NAME",
            description = "Logical source name used in topic names (default: the SQLite file name without extension).")
    String sourceName;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT",
            description = "An external Kafka cluster; without it ferry runs its own single-node broker in --data-dir.")
    String bootstrapServers;

    @Option(names = "--target-schema", paramLabel = "SCHEMA", defaultValue = "public",
            description = "PostgreSQL schema that receives the tables (default: ${DEFAULT-VALUE}).")
    String targetSchema;

    String source() {
        return sourceName != null ? sourceName : SourceNames.fromFile(sqlite);
    }
}
