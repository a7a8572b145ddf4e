package dev.ferry.embed.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class EmbeddingModelConfigTest {

    @Test
    void defaultsAreMiniLmFp32WithBatchesOf32() {
        EmbeddingModelConfig config = new EmbeddingModelConfig(Map.of());
        assertEquals("minilm", config.provider());
        assertEquals(32, config.batchSize());
        assertEquals(384, config.dimensions());
        assertEquals(1, new EmbeddingModelConfig(Map.of(EmbeddingModelConfig.PROVIDER, "minilm-q")).batchSize());
    }

    @Test
    void httpDefaultsComeFromTheProviderAndTheKnownModels() {
        EmbeddingModelConfig openAi = new EmbeddingModelConfig(Map.of(EmbeddingModelConfig.PROVIDER, "openai",
                EmbeddingModelConfig.NAME, "text-embedding-3-large"));
        assertEquals("https://api.openai.com", openAi.baseUrl().toString());
        assertEquals(3072, openAi.dimensions());
        assertEquals(8191, openAi.maxTokens());
        assertEquals(64, openAi.batchSize());
        EmbeddingModelConfig ollama = new EmbeddingModelConfig(Map.of(EmbeddingModelConfig.PROVIDER, "ollama",
                EmbeddingModelConfig.NAME, "nomic-embed-text"));
        assertEquals("http://127.0.0.1:11434", ollama.baseUrl().toString());
        assertEquals(768, ollama.dimensions());
        assertEquals(new RetryPolicy(5, java.time.Duration.ofMillis(500), java.time.Duration.ofSeconds(30)), ollama.retryPolicy());
    }

    @Test
    void badOptionsAreRefusedNamingTheOption() {
        assertMessage("Invalid value bert for configuration model.provider: String must be one of: minilm, minilm-q,"
                + " openai, ollama", Map.of(EmbeddingModelConfig.PROVIDER, "bert"));
        assertMessage("Invalid value null for configuration model.name: required for model.provider=ollama",
                Map.of(EmbeddingModelConfig.PROVIDER, "ollama"));
        assertMessage("Invalid value null for configuration model.dimensions: required for model.provider=ollama with"
                + " model.name=my-embedder: its vector length is not known to ferry",
                Map.of(EmbeddingModelConfig.PROVIDER, "ollama", EmbeddingModelConfig.NAME, "my-embedder"));
        assertMessage("Invalid value 512 for configuration model.dimensions: minilm makes vectors of 384",
                Map.of(EmbeddingModelConfig.DIMENSIONS, "512"));
        assertMessage("Invalid value 4 for configuration model.threads: applies to minilm, minilm-q, not to"
                + " model.provider=openai", Map.of(EmbeddingModelConfig.PROVIDER, "openai",
                        EmbeddingModelConfig.NAME, "text-embedding-3-small", EmbeddingModelConfig.THREADS, "4"));
        assertMessage("Invalid value http://x for configuration model.base.url: applies to ollama, openai, not to"
                + " model.provider=minilm", Map.of(EmbeddingModelConfig.BASE_URL, "http://x"));
        assertMessage("Invalid value ftp://host for configuration model.base.url: not an http or https URL with a host",
                Map.of(EmbeddingModelConfig.PROVIDER, "ollama", EmbeddingModelConfig.NAME, "all-minilm",
                        EmbeddingModelConfig.BASE_URL, "ftp://host"));
        assertTrue(assertThrows(ConfigException.class, () -> new EmbeddingModelConfig(Map.of("model.batchsize", "8")))
                .getMessage().startsWith("Invalid value 8 for configuration model.batchsize: unknown option; the model"
                        + " options are model.api.key.env, model.base.url, model.batch.size,"));
        assertEquals("ollama", new EmbeddingModelConfig(Map.of(EmbeddingModelConfig.PROVIDER, "ollama",
                EmbeddingModelConfig.NAME, "all-minilm", "writer.batch.size", "8")).provider(), "other keys are ignored");
        assertMessage("Invalid value 0 for configuration model.batch.size: Value must be at least 1",
                Map.of(EmbeddingModelConfig.BATCH_SIZE, "0"));
        assertMessage("Invalid value 100 for configuration model.retry.backoff.max.ms: less than"
                + " model.retry.backoff.ms=200", Map.of(EmbeddingModelConfig.PROVIDER, "ollama",
                        EmbeddingModelConfig.NAME, "all-minilm", EmbeddingModelConfig.RETRY_BACKOFF_MS, "200",
                        EmbeddingModelConfig.RETRY_BACKOFF_MAX_MS, "100"));
    }

    @Test
    void aMissingApiKeyNamesTheVariableAndTheOption() {
        EmbeddingModelConfig config = new EmbeddingModelConfig(Map.of(EmbeddingModelConfig.PROVIDER, "openai",
                EmbeddingModelConfig.NAME, "text-embedding-3-small", EmbeddingModelConfig.API_KEY_ENV, "MY_KEY"));
        ConfigException e = assertThrows(ConfigException.class, () -> EmbeddingModels.create(config, name -> null));
        assertEquals("Invalid value MY_KEY for configuration model.api.key.env: the environment variable MY_KEY is not"
                + " set or empty (set model.api.key.env empty to send no key)", e.getMessage());
    }

    @Test
    void everyOptionIsDocumented() throws Exception {
        String docs = Files.readString(Path.of("..", "docs", "embeddings.md"), StandardCharsets.UTF_8);
        for (String option : EmbeddingModelConfig.names()) {
            assertTrue(docs.contains("`" + option + "`"), option + " is in docs/embeddings.md");
        }
    }

    private static void assertMessage(String expected, Map<String, ?> options) {
        assertEquals(expected, assertThrows(ConfigException.class, () -> new EmbeddingModelConfig(options)).getMessage());
    }
}
