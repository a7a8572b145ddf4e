package dev.ferry.embed.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.List;

/**
 * OpenAI's embeddings API, as other servers copy it: {@code POST /v1/embeddings} with
 * {@code {"model", "input": [texts], "dimensions"?}}; the answer's {@code data[].index} says which text each
 * {@code data[].embedding} belongs to; errors are {@code {"error": {"message", "type"}}}.
 */
record OpenAiWire(String model, Integer dimensions) implements HttpEmbeddingModel.Wire {

    @Override
    public String path() {
        return "/v1/embeddings";
    }

    @Override
    public JsonNode request(List<String> texts) {
        ObjectNode body = HttpEmbeddingModel.JSON.createObjectNode().put("model", model);
        ArrayNode input = body.putArray("input");
        texts.forEach(input::add);
        if (dimensions != null) {
            body.put("dimensions", dimensions);
        }
        return body;
    }

    @Override
    public List<float[]> vectors(JsonNode response, int texts) {
        JsonNode data = response.get("data");
        if (data == null || !data.isArray()) {
            throw new HttpEmbeddingModel.MalformedResponseException("no \"data\" array");
        }
        if (data.size() != texts) {
            throw new HttpEmbeddingModel.MalformedResponseException(data.size() + " embeddings for " + texts + " texts");
        }
        float[][] vectors = new float[texts][];
        for (int i = 0; i < texts; i++) {
            JsonNode index = data.get(i).get("index");
            if (index == null || !index.canConvertToInt() || index.asInt() < 0 || index.asInt() >= texts
                    || vectors[index.asInt()] != null) {
                throw new HttpEmbeddingModel.MalformedResponseException("data[" + i + "].index is " + index
                        + ": not a distinct index below " + texts);
            }
            vectors[index.asInt()] = HttpEmbeddingModel.floats(data.get(i).get("embedding"), "data[" + i + "].embedding");
        }
        return Arrays.asList(vectors);
    }

    @Override
    public String errorMessage(JsonNode body) {
        JsonNode error = body.get("error");
        if (error == null || !error.isObject() || !error.path("message").isTextual()) {
            return null;
        }
        String type = error.path("type").asText("");
        return error.get("message").asText() + (type.isEmpty() ? "" : " (" + type + ")");
    }
}
