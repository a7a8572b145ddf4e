package dev.ferry.embed.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model behind an HTTP API ({@link OpenAiWire}, {@link OllamaWire}): texts go in requests of up to {@code batchSize},
 * one after the other, each under the {@link RetryPolicy}. Every vector is checked to have the configured length.
 * Token counts and chunks use {@link WordPieceEstimate}, since the server's tokenizer is not at hand.
 */
final class HttpEmbeddingModel implements EmbeddingModel {

    private static final Logger LOG = LoggerFactory.getLogger(HttpEmbeddingModel.class);
    static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_ERROR_CHARS = 500;

    /** One API's request and response bodies. */
    interface Wire {

        String path();

        /** The request body for these texts. */
        JsonNode request(List<String> texts);

        /**
         * The vectors of a 2xx response body, in the order of the request's texts.
         *
         * @throws MalformedResponseException when the body is not what the API documents
         */
        List<float[]> vectors(JsonNode response, int texts);

        /** The server's own message in an error body, or null when the body has none. */
        String errorMessage(JsonNode body);
    }

    static final class MalformedResponseException extends RuntimeException {
        MalformedResponseException(String message) {
            super(message);
        }
    }

    private final String id;
    private final Wire wire;
    private final URI endpoint;
    private final String authorization;
    private final int dimensions;
    private final int maxTokens;
    private final int batchSize;
    private final Duration requestTimeout;
    private final RetryPolicy retry;
    private final HttpClient client;
    private final WordPieceEstimate estimate = new WordPieceEstimate();

    HttpEmbeddingModel(String id, Wire wire, URI baseUrl, String apiKey, int dimensions, int maxTokens, int batchSize,
                       Duration connectTimeout, Duration requestTimeout, RetryPolicy retry) {
        this.id = id;
        this.wire = wire;
        this.endpoint = URI.create(baseUrl + wire.path());
        this.authorization = apiKey == null ? null : "Bearer " + apiKey;
        this.dimensions = dimensions;
        this.maxTokens = maxTokens;
        this.batchSize = batchSize;
        this.requestTimeout = requestTimeout;
        this.retry = retry;
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                .build();
        LOG.info("{} at {}: {} dimensions, batch size {}", id, endpoint, dimensions, batchSize);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int dimensions() {
        return dimensions;
    }

    @Override
    public int maxTokens() {
        return maxTokens;
    }

    @Override
    public int maxChunkTokens() {
        return maxTokens;
    }

    @Override
    public int tokens(String text) {
        return estimate.count(TextInput.withoutLoneSurrogates(Objects.requireNonNull(text, "text")));
    }

    @Override
    public List<String> chunks(String text, int size, int overlap) {
        TokenWindows.check(size, overlap, maxChunkTokens(), id);
        return TokenWindows.chunks(TextInput.withoutLoneSurrogates(Objects.requireNonNull(text, "text")), size, overlap, estimate);
    }

    @Override
    public List<float[]> embed(List<String> texts) throws EmbeddingException {
        List<String> checked = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            String text = TextInput.requireText(texts.get(i), i);
            if (text.isBlank()) {
                throw new IllegalArgumentException("text " + i + " is empty or whitespace only; " + id + " is not asked");
            }
            checked.add(text);
        }
        List<float[]> vectors = new ArrayList<>(texts.size());
        for (int from = 0; from < checked.size(); from += batchSize) {
            List<String> batch = checked.subList(from, Math.min(from + batchSize, checked.size()));
            JsonNode response = post(wire.request(batch), from, batch.size());
            List<float[]> batchVectors;
            try {
                batchVectors = wire.vectors(response, batch.size());
            } catch (MalformedResponseException e) {
                throw new EmbeddingException(id + " answered texts " + from + ".." + (from + batch.size() - 1)
                        + " with an unexpected body: " + e.getMessage(), false, e);
            }
            for (int i = 0; i < batchVectors.size(); i++) {
                if (batchVectors.get(i).length != dimensions) {
                    throw new EmbeddingException(id + " returned a vector of " + batchVectors.get(i).length
                            + " dimensions for text " + (from + i) + ", expected " + dimensions + " ("
                            + EmbeddingModelConfig.DIMENSIONS + ")", false);
                }
            }
            vectors.addAll(batchVectors);
        }
        return vectors;
    }

    private JsonNode post(JsonNode body, int from, int count) throws EmbeddingException {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the request body for " + id, e);
        }
        HttpRequest.Builder builder = HttpRequest.newBuilder(endpoint)
                .timeout(requestTimeout)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
        if (authorization != null) {
            builder.header("Authorization", authorization);
        }
        HttpRequest request = builder.build();
        String texts = "texts " + from + ".." + (from + count - 1);
        for (int attempt = 1; ; attempt++) {
            String failure;
            Exception cause = null;
            OptionalLong retryAfter = OptionalLong.empty();
            try {
                HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                int status = response.statusCode();
                if (status / 100 == 2) {
                    return parse(response.body(), texts);
                }
                failure = "HTTP " + status + ": " + serverMessage(response.body());
                if (!RetryPolicy.retryable(status)) {
                    throw new EmbeddingException(id + " refused " + texts + ": " + failure, false);
                }
                retryAfter = RetryPolicy.retryAfterSeconds(response.headers().firstValue("Retry-After").orElse(null));
            } catch (IOException e) {
                failure = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
                cause = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EmbeddingException(id + ": interrupted while embedding " + texts, true, e);
            }
            if (attempt >= retry.attempts()) {
                throw new EmbeddingException(id + " failed on " + texts + " after " + attempt + " attempts; last: "
                        + failure, true, cause);
            }
            Duration delay = retry.delay(attempt, retryAfter);
            LOG.warn("{}: attempt {} of {} on {} failed ({}); retrying in {} ms", id, attempt, retry.attempts(), texts,
                    failure, delay.toMillis());
            try {
                Thread.sleep(delay.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EmbeddingException(id + ": interrupted while waiting to retry " + texts, true, e);
            }
        }
    }

    private JsonNode parse(byte[] body, String texts) throws EmbeddingException {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new EmbeddingException(id + " answered " + texts + " with a body that is not JSON: "
                    + excerpt(body), false, e);
        }
    }

    private String serverMessage(byte[] body) {
        try {
            String message = wire.errorMessage(JSON.readTree(body));
            if (message != null) {
                return message;
            }
        } catch (IOException e) {
            LOG.debug("{}: error body is not JSON ({})", id, e.getMessage());
        }
        return excerpt(body);
    }

    private static String excerpt(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8);
        return text.length() <= MAX_ERROR_CHARS ? text : text.substring(0, MAX_ERROR_CHARS) + "…";
    }

    @Override
    public void close() {
        // java.net.http.HttpClient has no close() before Java 21; its threads end with its last reference.
    }

    static float[] floats(JsonNode array, String where) {
        if (array == null || !array.isArray()) {
            throw new MalformedResponseException(where + " is not an array");
        }
        float[] vector = new float[array.size()];
        for (int i = 0; i < vector.length; i++) {
            JsonNode value = array.get(i);
            if (!value.isNumber()) {
                throw new MalformedResponseException(where + "[" + i + "] is not a number: " + value);
            }
            vector[i] = value.floatValue();
        }
        return vector;
    }
}
