package dev.ferry.embed.model;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * Every option of the embedding model, declared once with its default, validator and documentation. An option set for
 * a provider it does not apply to is refused, as is a missing or inconsistent one, or an unknown {@code model.*} key
 * (a typo); the message names the option. Keys outside {@code model.*} are ignored, so a service can pass its whole
 * configuration.
 */
public final class EmbeddingModelConfig extends AbstractConfig {

    public static final String PROVIDER = "model.provider";
    public static final String NAME = "model.name";
    public static final String BASE_URL = "model.base.url";
    public static final String API_KEY_ENV = "model.api.key.env";
    public static final String DIMENSIONS = "model.dimensions";
    public static final String MAX_TOKENS = "model.max.tokens";
    public static final String BATCH_SIZE = "model.batch.size";
    public static final String THREADS = "model.threads";
    public static final String CONNECT_TIMEOUT_MS = "model.timeout.connect.ms";
    public static final String REQUEST_TIMEOUT_MS = "model.timeout.request.ms";
    public static final String RETRY_ATTEMPTS = "model.retry.attempts";
    public static final String RETRY_BACKOFF_MS = "model.retry.backoff.ms";
    public static final String RETRY_BACKOFF_MAX_MS = "model.retry.backoff.max.ms";

    public static final String MINILM = "minilm";
    public static final String MINILM_Q = "minilm-q";
    public static final String OPENAI = "openai";
    public static final String OLLAMA = "ollama";

    private static final Set<String> LOCAL = Set.of(MINILM, MINILM_Q);
    private static final Set<String> HTTP = Set.of(OPENAI, OLLAMA);

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(PROVIDER, Type.STRING, MINILM, ConfigDef.ValidString.in(MINILM, MINILM_Q, OPENAI, OLLAMA), Importance.HIGH,
                    "Which model embeds: minilm (all-MiniLM-L6-v2 in process, fp32), minilm-q (its quantized variant),"
                    + " openai (an OpenAI-compatible /v1/embeddings server), ollama (an Ollama /api/embed server).")
            .define(NAME, Type.STRING, null, Importance.HIGH,
                    "openai, ollama: the server's model name, e.g. text-embedding-3-small, nomic-embed-text. Required.")
            .define(BASE_URL, Type.STRING, null, Importance.HIGH,
                    "openai, ollama: http or https URL the API paths are appended to. Default https://api.openai.com"
                    + " (openai), http://127.0.0.1:11434 (ollama).")
            .define(API_KEY_ENV, Type.STRING, "OPENAI_API_KEY", Importance.MEDIUM,
                    "openai: name of the environment variable holding the API key, sent as 'Authorization: Bearer'."
                    + " Empty: no Authorization header (local servers).")
            .define(DIMENSIONS, Type.INT, null, nullOr(Range.atLeast(1)), Importance.MEDIUM,
                    "Length of the vectors; every returned vector is checked against it. minilm: 384 only. openai: sent"
                    + " to the server when set, else the model's known default. ollama: required unless the model is"
                    + " known (nomic-embed-text, mxbai-embed-large, all-minilm, snowflake-arctic-embed, bge-m3).")
            .define(MAX_TOKENS, Type.INT, null, nullOr(Range.atLeast(2)), Importance.LOW,
                    "openai, ollama: the model's token window, for token counts and chunk sizes (estimated, see"
                    + " docs/embeddings.md). Default 8191 (openai), 2048 (ollama). MiniLM's window is fixed at 128.")
            .define(BATCH_SIZE, Type.INT, null, nullOr(Range.between(1, 2048)), Importance.MEDIUM,
                    "Texts per ONNX run (minilm, minilm-q) or per HTTP request (openai, ollama). Default 32 (minilm),"
                    + " 1 (minilm-q: its vectors depend on the batch, see docs/embeddings.md), 64 (openai, ollama).")
            .define(THREADS, Type.INT, 0, Range.between(0, 256), Importance.LOW,
                    "minilm, minilm-q: ONNX Runtime intra-op threads per run; 0 means one per available processor.")
            .define(CONNECT_TIMEOUT_MS, Type.LONG, 10_000L, Range.between(1, 3_600_000), Importance.LOW,
                    "openai, ollama: connection timeout.")
            .define(REQUEST_TIMEOUT_MS, Type.LONG, 120_000L, Range.between(1, 3_600_000), Importance.LOW,
                    "openai, ollama: time allowed for one request's response.")
            .define(RETRY_ATTEMPTS, Type.INT, 5, Range.between(1, 100), Importance.LOW,
                    "openai, ollama: attempts per request, the first included; retried on connection failures,"
                    + " timeouts, 429 and 5xx.")
            .define(RETRY_BACKOFF_MS, Type.LONG, 500L, Range.between(0, 3_600_000), Importance.LOW,
                    "openai, ollama: wait before the first retry; doubled for each later one. A Retry-After header in"
                    + " seconds is honoured instead.")
            .define(RETRY_BACKOFF_MAX_MS, Type.LONG, 30_000L, Range.between(0, 3_600_000), Importance.LOW,
                    "openai, ollama: the longest wait between attempts, Retry-After aside.");

    /** The providers each provider-specific option applies to; setting it for another provider is an error. */
    private static final Map<String, Set<String>> APPLIES_TO = Map.of(
            NAME, HTTP,
            BASE_URL, HTTP,
            API_KEY_ENV, Set.of(OPENAI),
            MAX_TOKENS, HTTP,
            THREADS, LOCAL,
            CONNECT_TIMEOUT_MS, HTTP,
            REQUEST_TIMEOUT_MS, HTTP,
            RETRY_ATTEMPTS, HTTP,
            RETRY_BACKOFF_MS, HTTP,
            RETRY_BACKOFF_MAX_MS, HTTP);

    /** Vector lengths of well-known models, used when {@link #DIMENSIONS} is not set. */
    private static final Map<String, Map<String, Integer>> KNOWN_DIMENSIONS = Map.of(
            OPENAI, Map.of("text-embedding-3-small", 1536, "text-embedding-3-large", 3072, "text-embedding-ada-002", 1536),
            OLLAMA, Map.of("nomic-embed-text", 768, "mxbai-embed-large", 1024, "all-minilm", 384,
                    "snowflake-arctic-embed", 1024, "bge-m3", 1024));

    public EmbeddingModelConfig(Map<?, ?> props) {
        super(CONFIG_DEF, props, false);
        for (Object key : props.keySet()) {
            if (key instanceof String name && name.startsWith("model.") && !CONFIG_DEF.names().contains(name)) {
                throw new ConfigException(name, props.get(name), "unknown option; the model options are "
                        + String.join(", ", CONFIG_DEF.names().stream().sorted().toList()));
            }
        }
        String provider = provider();
        for (Map.Entry<String, Set<String>> option : APPLIES_TO.entrySet()) {
            if (originals().get(option.getKey()) != null && !option.getValue().contains(provider)) {
                throw new ConfigException(option.getKey(), originals().get(option.getKey()),
                        "applies to " + String.join(", ", option.getValue().stream().sorted().toList())
                        + ", not to " + PROVIDER + "=" + provider);
            }
        }
        if (LOCAL.contains(provider)) {
            Integer dimensions = getInt(DIMENSIONS);
            if (dimensions != null && dimensions != MiniLm.DIMENSIONS) {
                throw new ConfigException(DIMENSIONS, dimensions, provider + " makes vectors of " + MiniLm.DIMENSIONS);
            }
        } else {
            String name = getString(NAME);
            if (name == null || name.isBlank()) {
                throw new ConfigException(NAME, name, "required for " + PROVIDER + "=" + provider);
            }
            baseUrl();
            dimensions();
            if (getLong(RETRY_BACKOFF_MAX_MS) < getLong(RETRY_BACKOFF_MS)) {
                throw new ConfigException(RETRY_BACKOFF_MAX_MS, getLong(RETRY_BACKOFF_MAX_MS),
                        "less than " + RETRY_BACKOFF_MS + "=" + getLong(RETRY_BACKOFF_MS));
            }
        }
    }

    public String provider() {
        return getString(PROVIDER);
    }

    String modelName() {
        return getString(NAME);
    }

    /** The base URL without a trailing slash. */
    URI baseUrl() {
        String value = getString(BASE_URL);
        if (value == null) {
            value = OPENAI.equals(provider()) ? "https://api.openai.com" : "http://127.0.0.1:11434";
        }
        try {
            URI uri = new URI(value.endsWith("/") ? value.substring(0, value.length() - 1) : value);
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new ConfigException(BASE_URL, value, "not an http or https URL with a host");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new ConfigException(BASE_URL, value, "not a URL: " + e.getMessage());
        }
    }

    String apiKeyEnv() {
        return getString(API_KEY_ENV);
    }

    /** Configured dimensions, else the model's known length; for MiniLM always 384. */
    int dimensions() {
        Integer configured = getInt(DIMENSIONS);
        if (configured != null) {
            return configured;
        }
        if (LOCAL.contains(provider())) {
            return MiniLm.DIMENSIONS;
        }
        Integer known = KNOWN_DIMENSIONS.get(provider()).get(modelName());
        if (known == null) {
            throw new ConfigException(DIMENSIONS, null, "required for " + PROVIDER + "=" + provider() + " with " + NAME + "="
                    + modelName() + ": its vector length is not known to ferry");
        }
        return known;
    }

    boolean dimensionsConfigured() {
        return getInt(DIMENSIONS) != null;
    }

    int maxTokens() {
        Integer configured = getInt(MAX_TOKENS);
        if (configured != null) {
            return configured;
        }
        return switch (provider()) {
            case OPENAI -> 8191;
            case OLLAMA -> 2048;
            default -> MiniLm.WINDOW;
        };
    }

    int batchSize() {
        Integer configured = getInt(BATCH_SIZE);
        if (configured != null) {
            return configured;
        }
        return switch (provider()) {
            case MINILM -> 32;
            case MINILM_Q -> 1;
            default -> 64;
        };
    }

    /** ONNX intra-op threads: the configured number, or one per available processor. */
    int threads() {
        int configured = getInt(THREADS);
        return configured > 0 ? configured : Runtime.getRuntime().availableProcessors();
    }

    Duration connectTimeout() {
        return Duration.ofMillis(getLong(CONNECT_TIMEOUT_MS));
    }

    Duration requestTimeout() {
        return Duration.ofMillis(getLong(REQUEST_TIMEOUT_MS));
    }

    RetryPolicy retryPolicy() {
        return new RetryPolicy(getInt(RETRY_ATTEMPTS), Duration.ofMillis(getLong(RETRY_BACKOFF_MS)),
                Duration.ofMillis(getLong(RETRY_BACKOFF_MAX_MS)));
    }

    /** Option names, for documentation checks. */
    static List<String> names() {
        return List.copyOf(CONFIG_DEF.names());
    }

    private static ConfigDef.Validator nullOr(ConfigDef.Validator validator) {
        return ConfigDef.LambdaValidator.with((name, value) -> {
            if (value != null) {
                validator.ensureValid(name, value);
            }
        }, validator::toString);
    }
}
