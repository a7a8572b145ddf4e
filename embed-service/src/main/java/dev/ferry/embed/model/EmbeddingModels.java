package dev.ferry.embed.model;

import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.kafka.common.config.ConfigException;

/** Creates the {@link EmbeddingModel} that {@link EmbeddingModelConfig} describes. */
public final class EmbeddingModels {

    private EmbeddingModels() {
    }

    /**
     * The model these options describe (see {@link EmbeddingModelConfig}); an empty map gives MiniLM fp32.
     *
     * @throws ConfigException naming the option at fault
     */
    public static EmbeddingModel create(Map<String, ?> options) {
        return create(new EmbeddingModelConfig(options));
    }

    /**
     * The model this configuration describes. MiniLM loads its ONNX model (about a second) and needs a writable
     * {@code DJL_CACHE_DIR}; the OpenAI key is read from the environment variable named by
     * {@link EmbeddingModelConfig#API_KEY_ENV} now.
     *
     * @throws ConfigException naming the option at fault
     */
    public static EmbeddingModel create(EmbeddingModelConfig config) {
        return create(config, System::getenv);
    }

    static EmbeddingModel create(EmbeddingModelConfig config, UnaryOperator<String> environment) {
        return switch (config.provider()) {
            case EmbeddingModelConfig.MINILM -> new MiniLm(MiniLm.Variant.FP32, config.batchSize(), config.threads());
            case EmbeddingModelConfig.MINILM_Q -> new MiniLm(MiniLm.Variant.QUANTIZED, config.batchSize(), config.threads());
            case EmbeddingModelConfig.OPENAI -> {
                Integer sent = config.dimensionsConfigured() ? config.dimensions() : null;
                String id = "openai:" + config.modelName() + (sent == null ? "" : "@" + sent);
                yield http(id, new OpenAiWire(config.modelName(), sent), apiKey(config, environment), config);
            }
            case EmbeddingModelConfig.OLLAMA -> http("ollama:" + config.modelName(), new OllamaWire(config.modelName()), null, config);
            default -> throw new ConfigException(EmbeddingModelConfig.PROVIDER, config.provider(), "unknown provider");
        };
    }

    private static EmbeddingModel http(String id, HttpEmbeddingModel.Wire wire, String apiKey, EmbeddingModelConfig config) {
        return new HttpEmbeddingModel(id, wire, config.baseUrl(), apiKey, config.dimensions(), config.maxTokens(),
                config.batchSize(), config.connectTimeout(), config.requestTimeout(), config.retryPolicy());
    }

    private static String apiKey(EmbeddingModelConfig config, UnaryOperator<String> environment) {
        String variable = config.apiKeyEnv();
        if (variable == null || variable.isEmpty()) {
            return null;
        }
        String key = environment.apply(variable);
        if (key == null || key.isBlank()) {
            throw new ConfigException(EmbeddingModelConfig.API_KEY_ENV, variable,
                    "the environment variable " + variable + " is not set or empty (set " + EmbeddingModelConfig.API_KEY_ENV
                    + " empty to send no key)");
        }
        return key.trim();
    }
}
