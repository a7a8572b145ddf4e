package dev.ferry.cli;

import dev.ferry.embed.EmbedService;
import dev.ferry.embed.EmbeddingSpec;
import dev.ferry.embed.model.EmbeddingModel;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Runs the embed service alone: reads the topics of the tables that have an embedding spec from an external",
                "Kafka cluster, adds each row's vector, and writes <topic>.embedded, which the writers read, until stopped (Ctrl-C).",
                "Several `ferry embed` processes of one source share the partitions (consumer group ferry-embed-<source>).",
                "Give the writers (`ferry write --config`) the same configuration file."})
final class EmbedCommand implements Callable<Integer> {

    static final int DEFAULT_METRICS_PORT = 9467;

    @Option(names = "--source-name", required = true, paramLabel = "NAME",
            description = "Logical source name of the topics to read: the ingest's --source-name.")
    String sourceName;

    @Option(names = "--config", required = true, paramLabel = "FILE",
            description = "ferry's configuration file (YAML) with the embedding specs (docs/configuration.md#configuration-file).")
    Path configFile;

    @Option(names = "--postgres", paramLabel = "JDBC_URL", defaultValue = ConnectionOptions.DEFAULT_POSTGRES,
            description = {"Target PostgreSQL database, checked at start: an existing vector column must have the model's dimension",
                    "and hold no other model's vectors (default: ${DEFAULT-VALUE})."})
    String postgres;

    @Option(names = "--target-schema", paramLabel = "SCHEMA", defaultValue = "public",
            description = "PostgreSQL schema that receives the tables (default: ${DEFAULT-VALUE}).")
    String targetSchema;

    @Option(names = "--reembed",
            description = {"Embed every row of the tables with an embedding spec again, from the beginning of their topics",
                    "(after changing a spec's model or column; see docs/operations.md#re-embedding). Once per start."})
    boolean reembed;

    @Mixin
    ServiceOptions service = new ServiceOptions(DEFAULT_METRICS_PORT);

    @Override
    public Integer call() throws Exception {
        return runner().runUntilShutdown(this::create);
    }

    ServiceRunner runner() {
        UpCommand.Options.sourceName(sourceName);
        if (FerryConfig.load(configFile).embeddings().isEmpty()) {
            throw new IllegalArgumentException("--config " + configFile + " has no embedding spec: there is nothing to embed");
        }
        return service.runner("embed").ready("postgres", ReadinessChecks.postgres(postgres));
    }

    ServiceRunner.Service create(MeterRegistry registry) throws Exception {
        FerryConfig config = FerryConfig.load(configFile);
        Map<String, EmbeddingModel> models = new LinkedHashMap<>();
        for (EmbeddingSpec spec : config.embeddings()) {
            if (!models.containsKey(spec.model())) {
                models.put(spec.model(), config.createModel(spec.model()));
            }
        }
        FerryConfig.Embed e = config.embed();
        EmbedService embed = new EmbedService(new EmbedService.Settings(service.bootstrapServers, postgres, sourceName, "ferry", targetSchema,
                "ferry-embed-" + sourceName, config.embeddings(), e.batchSize(), e.maxWait(), e.threads(), e.cacheEntries()), models, registry);
        if (reembed) {
            embed.reembed();
        }
        return ServiceRunner.onThread("ferry-embed", embed, embed::stop, () -> {
            embed.close();
            models.values().forEach(EmbeddingModel::close);
        }, embed::failure, () -> embed.recordsOut() + " record(s) written, " + embed.modelTexts() + " text(s) embedded by the model");
    }
}
