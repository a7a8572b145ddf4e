package dev.ferry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.ferry.embed.EmbeddingSpec;
import dev.ferry.embed.model.EmbeddingModel;
import dev.ferry.embed.model.EmbeddingModelConfig;
import dev.ferry.embed.model.EmbeddingModels;
import java.util.LinkedHashMap;
import java.util.Map;
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
public record FerryConfig(List<EmbeddingSpec> embeddings, Embed embed, Map<String, Map<String, Object>> models) {

    public FerryConfig {
        models = models == null ? Map.of() : Map.copyOf(models);
    }

    public FerryConfig(List<EmbeddingSpec> embeddings, Embed embed) {
        this(embeddings, embed, Map.of());
    }

    /** Tuning of the embed service. */
    public record Embed(int batchSize, Duration maxWait, int threads, int cacheEntries) {
        public static final Embed DEFAULTS = new Embed(32, Duration.ofMillis(50), 1, 50_000);
    }

    public static final FerryConfig EMPTY = new FerryConfig(List.of(), Embed.DEFAULTS, Map.of());

    private static final Set<String> TOP = Set.of("embeddings", "embed", "models");
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

    /**
     * The model a spec names: an entry of {@code models}, or a provider used with its defaults ({@code minilm},
     * {@code minilm-q}).
     */
    public EmbeddingModel createModel(String name) {
        return EmbeddingModels.create(modelOptions(name));
    }

    private Map<String, Object> modelOptions(String name) {
        Map<String, Object> options = models.get(name);
        return options != null ? options : Map.of(EmbeddingModelConfig.PROVIDER, name);
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
        Map<String, Map<String, Object>> models = new LinkedHashMap<>();
        JsonNode m = root.path("models");
        if (!m.isMissingNode() && !m.isNull()) {
            if (!m.isObject()) {
                throw new IllegalArgumentException("models must be a mapping of model names to their options");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> model = it.next();
                models.put(model.getKey(), modelOptions("models." + model.getKey(), model.getValue()));
            }
        }
        for (int i = 0; i < specs.size(); i++) {
            String model = specs.get(i).model();
            if (!models.containsKey(model) && !LOCAL_MODELS.contains(model)) {
                throw new IllegalArgumentException("embeddings[" + i + "].model '" + model + "' is neither under models: nor one of "
                        + LOCAL_MODELS);
            }
        }
        return new FerryConfig(List.copyOf(specs), embed, models);
    }

    /** Providers that need no options: usable by name in a spec without a models: entry. */
    private static final Set<String> LOCAL_MODELS = Set.of(EmbeddingModelConfig.MINILM, EmbeddingModelConfig.MINILM_Q);

    /**
     * A model's options, {@code provider: openai} written for {@code model.provider=openai}: keys in snake case become
     * the model's dotted option names ({@code base_url} is {@code model.base.url}). Checked now, so that a typo fails at start.
     */
    private static Map<String, Object> modelOptions(String where, JsonNode node) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(where + " must be a mapping of options (provider, name, base_url, ...)");
        }
        Map<String, Object> options = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isValueNode()) {
                throw new IllegalArgumentException(where + "." + e.getKey() + " must be a single value");
            }
            options.put("model." + e.getKey().replace('_', '.'), e.getValue().asText());
        }
        try {
            new EmbeddingModelConfig(options);
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage().replace("model.", ""), e);
        }
        return options;
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
