package dev.ferry.embed.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Ollama's {@code POST /api/embed} with {@code {"model", "input": [texts], "truncate": true}} (the server cuts texts at
 * the model's context instead of failing); the answer's {@code embeddings} are in the order of the texts; errors are
 * {@code {"error": "..."}}.
 */
record OllamaWire(String model) implements HttpEmbeddingModel.Wire {

    @Override
    public String path() {
        return "/api/embed";
    }

    @Override
    public JsonNode request(List<String> texts) {
        ObjectNode body = HttpEmbeddingModel.JSON.createObjectNode().put("model", model);
        ArrayNode input = body.putArray("input");
        texts.forEach(input::add);
        body.put("truncate", true);
        return body;
    }

    @Override
    public List<float[]> vectors(JsonNode response, int texts) {
        JsonNode embeddings = response.get("embeddings");
        if (embeddings == null || !embeddings.isArray()) {
            throw new HttpEmbeddingModel.MalformedResponseException("no \"embeddings\" array");
        }
        if (embeddings.size() != texts) {
            throw new HttpEmbeddingModel.MalformedResponseException(embeddings.size() + " embeddings for " + texts + " texts");
        }
        List<float[]> vectors = new ArrayList<>(texts);
        for (int i = 0; i < texts; i++) {
            vectors.add(HttpEmbeddingModel.floats(embeddings.get(i), "embeddings[" + i + "]"));
        }
        return vectors;
    }

    @Override
    public String errorMessage(JsonNode body) {
        JsonNode error = body.get("error");
        return error != null && error.isTextual() ? error.asText() : null;
    }
}
