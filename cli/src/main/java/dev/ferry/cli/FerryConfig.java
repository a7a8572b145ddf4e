package dev.ferry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.ferry.embed.EmbeddingSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * ferry's configuration file (YAML, {@code --config}): the embedding specs and the embed service's tuning. Every key is
 * checked: an unknown or malformed one is an error that names it by its path ({@code embeddings[0].text}).
 * docs/configuration.md#configuration-file describes every key.
 */
public record FerryConfig(List<EmbeddingSpec> embeddings, Embed embed) {

    /** Tuning of the embed service. */
    public record Embed(int batchSize, Duration maxWait, int threads, int cacheEntries) {
        public static final Embed DEFAULTS = new Embed(32, Duration.ofMillis(50), 1, 50_000);
    }

    public static final FerryConfig EMPTY = new FerryConfig(List.of(), Embed.DEFAULTS);

    private static final Set<String> TOP = Set.of("embeddings", "embed");
    private static final Set<String> SPEC = Set.of("table", "text", "column", "model_column", "model", "index", "vectors_from", "chunking");
    private static final Set<String> CHUNKING = Set.of("size", "overlap", "table");
    private static final Set<String> EMBED = Set.of("batch_size", "max_wait_ms", "threads", "cache_entries");

    /** Reads and checks a configuration file. */
    public static FerryConfig load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--config " + file + ": no such file");
        }
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("--config " + file + " is not valid YAML: " + e.getMessage(), e);
        }
        try {
            return parse(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--config " + file + ": " + e.getMessage(), e);
        }
    }

    /** The model a spec names. */
    public dev.ferry.embed.model.EmbeddingModel createModel(String name) {
        return dev.ferry.embed.model.EmbeddingModels.create(name);
    }

    /** The tables whose rows the writer reads with their vectors, from the .embedded topics. */
    public java.util.Set<String> embeddedTables() {
        java.util.Set<String> tables = new java.util.HashSet<>();
        embeddings.forEach(s -> tables.add(s.table()));
        return tables;
    }

    static FerryConfig parse(JsonNode root) {
        if (root == null || root.isMissingNode() || root.isNull()) {
            return EMPTY;
        }
        if (!root.isObject()) {
            throw new IllegalArgumentException("the file must hold a mapping (keys " + TOP + ")");
        }
        checkKeys(root, "", TOP);
        List<EmbeddingSpec> specs = new ArrayList<>();
        JsonNode list = root.path("embeddings");
        if (!list.isMissingNode() && !list.isNull()) {
            if (!list.isArray()) {
                throw new IllegalArgumentException("embeddings must be a list of specs");
            }
            for (int i = 0; i < list.size(); i++) {
                String where = "embeddings[" + i + "]";
                JsonNode s = list.get(i);
                if (!s.isObject()) {
                    throw new IllegalArgumentException(where + " must be a mapping (keys " + SPEC + ")");
                }
                checkKeys(s, where + ".", SPEC);
                String table = text(s, where, "table");
                if (specs.stream().anyMatch(x -> x.table().equals(table))) {
                    throw new IllegalArgumentException(where + ".table '" + table + "' has a spec already; one table takes one spec");
                }
                specs.add(EmbeddingSpec.of(where, table, text(s, where, "text"), text(s, where, "column"),
                        text(s, where, "model_column"), text(s, where, "model"), text(s, where, "index"), text(s, where, "vectors_from"),
                        chunking(s.get("chunking"), where + ".chunking")));
            }
        }
        Embed embed = Embed.DEFAULTS;
        JsonNode e = root.path("embed");
        if (!e.isMissingNode() && !e.isNull()) {
            if (!e.isObject()) {
                throw new IllegalArgumentException("embed must be a mapping (keys " + EMBED + ")");
            }
            checkKeys(e, "embed.", EMBED);
            embed = new Embed(number(e, "embed.batch_size", Embed.DEFAULTS.batchSize(), 1, 4096),
                    Duration.ofMillis(number(e, "embed.max_wait_ms", (int) Embed.DEFAULTS.maxWait().toMillis(), 0, 600_000)),
                    number(e, "embed.threads", Embed.DEFAULTS.threads(), 1, 256),
                    number(e, "embed.cache_entries", Embed.DEFAULTS.cacheEntries(), 0, 100_000_000));
        }
        return new FerryConfig(List.copyOf(specs), embed);
    }

    private static EmbeddingSpec.Chunking chunking(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException(where + " must be a mapping (keys " + CHUNKING + ")");
        }
        checkKeys(node, where + ".", CHUNKING);
        if (node.get("size") == null) {
            throw new IllegalArgumentException(where + ".size is required (tokens per chunk)");
        }
        return new EmbeddingSpec.Chunking(number(node, where + ".size", 0, 1, 100_000), number(node, where + ".overlap", 0, 0, 100_000),
                text(node, where, "table"));
    }

    private static void checkKeys(JsonNode node, String prefix, Set<String> known) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                throw new IllegalArgumentException("unknown key " + prefix + key + " (known: " + String.join(", ", new java.util.TreeSet<>(known)) + ")");
            }
        }
    }

    private static String text(JsonNode spec, String where, String key) {
        JsonNode v = spec.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException(where + "." + key + " must be a string, not " + v);
        }
        return v.asText();
    }

    private static int number(JsonNode node, String path, int fallback, int min, int max) {
        JsonNode v = node.get(path.substring(path.lastIndexOf('.') + 1));
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isIntegralNumber() || v.asLong() < min || v.asLong() > max) {
            throw new IllegalArgumentException(path + " must be an integer from " + min + " to " + max + ", not " + v);
        }
        return v.asInt();
    }
}
