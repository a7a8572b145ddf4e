package dev.ferry.embed.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The OpenAI-compatible and Ollama providers against a local server speaking their wire formats. */
class HttpEmbeddingModelTest {

    static final List<String> TEXTS = List.of("How do I reset my password?", "Steps to change your account password",
            "The weather in Paris is sunny", "日本語 😀", "fünf");

    FakeEmbeddingServer server;

    @BeforeEach
    void start() throws Exception {
        server = new FakeEmbeddingServer(8);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    EmbeddingModel openAi(Map<String, Object> extra) {
        Map<String, Object> options = new HashMap<>(Map.of(
                EmbeddingModelConfig.PROVIDER, "openai",
                EmbeddingModelConfig.NAME, "text-embedding-3-small",
                EmbeddingModelConfig.BASE_URL, server.baseUrl() + "/",
                EmbeddingModelConfig.DIMENSIONS, "8",
                EmbeddingModelConfig.API_KEY_ENV, "FERRY_TEST_KEY",
                EmbeddingModelConfig.RETRY_BACKOFF_MS, "10"));
        options.putAll(extra);
        return EmbeddingModels.create(new EmbeddingModelConfig(options),
                name -> name.equals("FERRY_TEST_KEY") ? "sk-test-123" : null);
    }

    EmbeddingModel ollama(Map<String, Object> extra) {
        Map<String, Object> options = new HashMap<>(Map.of(
                EmbeddingModelConfig.PROVIDER, "ollama",
                EmbeddingModelConfig.NAME, "nomic-embed-text",
                EmbeddingModelConfig.BASE_URL, server.baseUrl(),
                EmbeddingModelConfig.DIMENSIONS, "8",
                EmbeddingModelConfig.RETRY_BACKOFF_MS, "10"));
        options.putAll(extra);
        return EmbeddingModels.create(options);
    }

    @Test
    void openAiSendsModelInputAndKeyAndOrdersVectorsByIndex() throws Exception {
        try (EmbeddingModel model = openAi(Map.of())) {
            assertEquals("openai:text-embedding-3-small@8", model.id());
            assertEquals(8, model.dimensions());
            List<float[]> vectors = model.embed(TEXTS);
            for (int i = 0; i < TEXTS.size(); i++) {
                assertArrayEquals(FakeEmbeddingServer.vector(TEXTS.get(i), 8), vectors.get(i), TEXTS.get(i));
            }
        }
        assertEquals(1, server.received.size());
        FakeEmbeddingServer.Received request = server.received.get(0);
        assertEquals("/v1/embeddings", request.path());
        assertEquals("Bearer sk-test-123", request.header("Authorization"));
        assertEquals("application/json", request.header("Content-Type"));
        assertEquals("text-embedding-3-small", request.body().get("model").asText());
        assertEquals(TEXTS, texts(request.body()));
        assertEquals(8, request.body().get("dimensions").asInt());
        assertEquals(3, request.body().size(), "model, input, dimensions only: " + request.body());
    }

    @Test
    void openAiWithoutDimensionsUsesTheModelsKnownLengthAndSendsNone() throws Exception {
        Map<String, Object> options = new HashMap<>(Map.of(EmbeddingModelConfig.PROVIDER, "openai",
                EmbeddingModelConfig.NAME, "text-embedding-3-small", EmbeddingModelConfig.BASE_URL, server.baseUrl(),
                EmbeddingModelConfig.API_KEY_ENV, ""));
        server.close();
        server = new FakeEmbeddingServer(1536);
        options.put(EmbeddingModelConfig.BASE_URL, server.baseUrl());
        try (EmbeddingModel model = EmbeddingModels.create(options)) {
            assertEquals("openai:text-embedding-3-small", model.id());
            assertEquals(1536, model.embed(List.of("one")).get(0).length);
        }
        FakeEmbeddingServer.Received request = server.received.get(0);
        assertFalse(request.body().has("dimensions"));
        assertNull(request.header("Authorization"), "empty model.api.key.env: no key");
    }

    @Test
    void textsGoInRequestsOfBatchSizeAndComeBackInOrder() throws Exception {
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            many.add("text number " + i);
        }
        try (EmbeddingModel model = openAi(Map.of(EmbeddingModelConfig.BATCH_SIZE, "4"))) {
            List<float[]> vectors = model.embed(many);
            for (int i = 0; i < many.size(); i++) {
                assertArrayEquals(FakeEmbeddingServer.vector(many.get(i), 8), vectors.get(i));
            }
        }
        assertEquals(List.of(4, 4, 3), server.received.stream().map(r -> r.body().get("input").size()).toList());
        assertEquals(many.subList(8, 11), texts(server.received.get(2).body()));
    }

    @Test
    void a429IsRetriedAfterTheServersRetryAfter() throws Exception {
        server.script.add(new FakeEmbeddingServer.Scripted(429, "1",
                "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\"}}"));
        try (EmbeddingModel model = openAi(Map.of())) {
            List<float[]> vectors = model.embed(TEXTS.subList(0, 2));
            assertArrayEquals(FakeEmbeddingServer.vector(TEXTS.get(1), 8), vectors.get(1));
        }
        assertEquals(2, server.received.size());
        long waitedMs = (server.received.get(1).atNanos() - server.received.get(0).atNanos()) / 1_000_000;
        assertTrue(waitedMs >= 1000, "Retry-After: 1 honoured, waited " + waitedMs + " ms");
        assertEquals(server.received.get(0).body(), server.received.get(1).body());
    }

    @Test
    void serverErrorsAreRetriedWithBackoffUntilTheAttemptsRunOut() {
        for (int i = 0; i < 3; i++) {
            server.script.add(new FakeEmbeddingServer.Scripted(503, null, "{\"error\":{\"message\":\"overloaded\"}}"));
        }
        try (EmbeddingModel model = openAi(Map.of(EmbeddingModelConfig.RETRY_ATTEMPTS, "3"))) {
            EmbeddingException e = assertThrows(EmbeddingException.class, () -> model.embed(TEXTS));
            assertTrue(e.transientFailure());
            assertEquals("openai:text-embedding-3-small@8 failed on texts 0..4 after 3 attempts; last: HTTP 503: overloaded",
                    e.getMessage());
        }
        assertEquals(3, server.received.size());
        long first = server.received.get(1).atNanos() - server.received.get(0).atNanos();
        long second = server.received.get(2).atNanos() - server.received.get(1).atNanos();
        assertTrue(first >= 10_000_000 && second >= 20_000_000, "10 ms then 20 ms: " + first + ", " + second);
    }

    @Test
    void a500ThenSuccessReturnsTheVectors() throws Exception {
        server.script.add(new FakeEmbeddingServer.Scripted(500, null, "not json at all"));
        try (EmbeddingModel model = ollama(Map.of())) {
            assertArrayEquals(FakeEmbeddingServer.vector("fünf", 8), model.embed(List.of("fünf")).get(0));
        }
        assertEquals(2, server.received.size());
    }

    @Test
    void aClientErrorIsNotRetriedAndCarriesTheServersMessage() {
        server.script.add(new FakeEmbeddingServer.Scripted(400, null,
                "{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens\",\"type\":\"invalid_request_error\"}}"));
        try (EmbeddingModel model = openAi(Map.of())) {
            EmbeddingException e = assertThrows(EmbeddingException.class, () -> model.embed(TEXTS));
            assertFalse(e.transientFailure());
            assertEquals("openai:text-embedding-3-small@8 refused texts 0..4: HTTP 400: This model's maximum context"
                    + " length is 8192 tokens (invalid_request_error)", e.getMessage());
        }
        assertEquals(1, server.received.size());
    }

    @Test
    void aVectorOfTheWrongLengthIsAnErrorNamingTheText() {
        server.shortVectorAt = 3;
        try (EmbeddingModel model = ollama(Map.of())) {
            EmbeddingException e = assertThrows(EmbeddingException.class, () -> model.embed(TEXTS));
            assertFalse(e.transientFailure());
            assertEquals("ollama:nomic-embed-text returned a vector of 7 dimensions for text 3, expected 8 (model.dimensions)",
                    e.getMessage());
        }
    }

    @Test
    void ollamaSendsModelInputAndTruncateAndKeepsTheOrder() throws Exception {
        try (EmbeddingModel model = ollama(Map.of())) {
            assertEquals("ollama:nomic-embed-text", model.id());
            List<float[]> vectors = model.embed(TEXTS);
            for (int i = 0; i < TEXTS.size(); i++) {
                assertArrayEquals(FakeEmbeddingServer.vector(TEXTS.get(i), 8), vectors.get(i));
            }
        }
        FakeEmbeddingServer.Received request = server.received.get(0);
        assertEquals("/api/embed", request.path());
        assertEquals("nomic-embed-text", request.body().get("model").asText());
        assertEquals(TEXTS, texts(request.body()));
        assertTrue(request.body().get("truncate").asBoolean());
        assertNull(request.header("Authorization"));
    }

    @Test
    void ollamasErrorBodyIsReported() {
        server.script.add(new FakeEmbeddingServer.Scripted(404, null,
                "{\"error\":\"model \\\"nomic-embed-text\\\" not found, try pulling it first\"}"));
        try (EmbeddingModel model = ollama(Map.of())) {
            EmbeddingException e = assertThrows(EmbeddingException.class, () -> model.embed(TEXTS));
            assertEquals("ollama:nomic-embed-text refused texts 0..4: HTTP 404: model \"nomic-embed-text\" not found,"
                    + " try pulling it first", e.getMessage());
        }
    }

    @Test
    void anUnreachableServerIsRetriedThenReportedAsTransient() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        try (EmbeddingModel model = ollama(Map.of(EmbeddingModelConfig.BASE_URL, "http://127.0.0.1:" + closedPort,
                EmbeddingModelConfig.RETRY_ATTEMPTS, "2"))) {
            EmbeddingException e = assertThrows(EmbeddingException.class, () -> model.embed(TEXTS));
            assertTrue(e.transientFailure());
            assertTrue(e.getMessage().startsWith("ollama:nomic-embed-text failed on texts 0..4 after 2 attempts; last:"
                    + " ConnectException"), e.getMessage());
        }
    }

    @Test
    void blankTextsAreRefusedBeforeAnyRequestAndLoneSurrogatesAreSentAsReplacementCharacters() throws Exception {
        try (EmbeddingModel model = ollama(Map.of())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.embed(List.of("fine", " \n")));
            assertEquals("text 1 is empty or whitespace only; ollama:nomic-embed-text is not asked", e.getMessage());
            assertEquals(0, server.received.size());
            model.embed(List.of("nul\u0000inside", "half \uD83D emoji"));
        }
        assertEquals(List.of("nul\u0000inside", "half \uFFFD emoji"), texts(server.received.get(0).body()));
    }

    @Test
    void tokenCountsAndChunksUseTheEstimateAndTheConfiguredWindow() {
        try (EmbeddingModel model = ollama(Map.of(EmbeddingModelConfig.MAX_TOKENS, "20"))) {
            assertEquals(20, model.maxTokens());
            assertEquals(20, model.maxChunkTokens());
            assertEquals(9, model.tokens("How do I reset my password?"));
            assertEquals(List.of("How do I reset my", "reset my password?"), model.chunks("How do I reset my password?", 6, 3));
            assertThrows(IllegalArgumentException.class, () -> model.chunks("x", 21, 0));
        }
    }

    private static List<String> texts(JsonNode body) {
        List<String> texts = new ArrayList<>();
        body.get("input").forEach(t -> texts.add(t.asText()));
        return texts;
    }
}
