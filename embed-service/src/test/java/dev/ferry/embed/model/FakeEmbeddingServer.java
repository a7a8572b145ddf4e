package dev.ferry.embed.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A local server on 127.0.0.1 that speaks the OpenAI and Ollama embedding wire formats: it parses each request, keeps
 * it, and answers with deterministic vectors ({@link #vector}), or with the scripted failure queued next.
 */
final class FakeEmbeddingServer implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    record Received(String path, Map<String, List<String>> headers, JsonNode body, long atNanos) {
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    /** A scripted answer: status, extra header, body. */
    record Scripted(int status, String retryAfter, String body) {
    }

    private final HttpServer server;
    private final int dimensions;
    final List<Received> received = new CopyOnWriteArrayList<>();
    final ConcurrentLinkedDeque<Scripted> script = new ConcurrentLinkedDeque<>();
    /** Index of a text whose vector is one dimension short, or -1. */
    volatile int shortVectorAt = -1;

    FakeEmbeddingServer(int dimensions) throws IOException {
        this.dimensions = dimensions;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/embeddings", exchange -> handle(exchange, true));
        server.createContext("/api/embed", exchange -> handle(exchange, false));
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The vector this server gives a text: depends only on the text and the dimensions. */
    static float[] vector(String text, int dimensions) {
        float[] v = new float[dimensions];
        long seed = text.hashCode();
        for (int i = 0; i < dimensions; i++) {
            seed = seed * 6364136223846793005L + 1442695040888963407L;
            v[i] = (seed >>> 40) / (float) (1 << 24) - 0.5f;
        }
        return v;
    }

    private void handle(HttpExchange exchange, boolean openAi) throws IOException {
        try (exchange) {
            JsonNode body = JSON.readTree(exchange.getRequestBody());
            received.add(new Received(exchange.getRequestURI().getPath(), Map.copyOf(exchange.getRequestHeaders()), body,
                    System.nanoTime()));
            Scripted next = script.pollFirst();
            if (next != null) {
                if (next.retryAfter() != null) {
                    exchange.getResponseHeaders().add("Retry-After", next.retryAfter());
                }
                send(exchange, next.status(), next.body());
                return;
            }
            List<String> input = new ArrayList<>();
            body.get("input").forEach(t -> input.add(t.asText()));
            int dims = body.has("dimensions") ? body.get("dimensions").asInt() : dimensions;
            send(exchange, 200, JSON.writeValueAsString(openAi ? openAi(body, input, dims) : ollama(body, input, dims)));
        }
    }

    private ObjectNode openAi(JsonNode request, List<String> input, int dims) {
        ObjectNode response = JSON.createObjectNode().put("object", "list");
        ArrayNode data = response.putArray("data");
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < input.size(); i++) {
            order.add(i);
        }
        Collections.reverse(order); // the API does not promise the input order: the client must sort by index
        for (int i : order) {
            ObjectNode item = data.addObject().put("object", "embedding").put("index", i);
            ArrayNode embedding = item.putArray("embedding");
            for (float f : vectorFor(input.get(i), i, dims)) {
                embedding.add(f);
            }
        }
        response.put("model", request.get("model").asText());
        response.putObject("usage").put("prompt_tokens", 3 * input.size()).put("total_tokens", 3 * input.size());
        return response;
    }

    private ObjectNode ollama(JsonNode request, List<String> input, int dims) {
        ObjectNode response = JSON.createObjectNode().put("model", request.get("model").asText());
        ArrayNode embeddings = response.putArray("embeddings");
        for (int i = 0; i < input.size(); i++) {
            ArrayNode embedding = embeddings.addArray();
            for (float f : vectorFor(input.get(i), i, dims)) {
                embedding.add(f);
            }
        }
        return response.put("total_duration", 1000).put("prompt_eval_count", 3 * input.size());
    }

    private float[] vectorFor(String text, int index, int dims) {
        return vector(text, index == shortVectorAt ? dims - 1 : dims);
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
