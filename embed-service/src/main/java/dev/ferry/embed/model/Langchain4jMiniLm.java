package dev.ferry.embed.model;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.util.List;

/** all-MiniLM-L6-v2 through langchain4j's in-process model (one ONNX call per text). */
final class Langchain4jMiniLm implements EmbeddingModel {

    private final AbstractInProcessEmbeddingModel model = new AllMiniLmL6V2EmbeddingModel();

    @Override
    public String id() {
        return "all-minilm-l6-v2";
    }

    @Override
    public int dimensions() {
        return 384;
    }

    @Override
    public int maxTokens() {
        return 128;
    }

    @Override
    public int tokens(String text) {
        return 2 + text.split("\\s+").length * 4 / 3; // placeholder until the tokenizer-backed model lands
    }

    @Override
    public int maxChunkTokens() {
        return 126;
    }

    @Override
    public List<String> chunks(String text, int size, int overlap) {
        String[] words = text.trim().split("\\s+");
        List<String> out = new java.util.ArrayList<>();
        if (text.isBlank()) {
            return out;
        }
        for (int from = 0; ; from += size - overlap) {
            out.add(String.join(" ", java.util.Arrays.copyOfRange(words, from, Math.min(words.length, from + size))));
            if (from + size >= words.length) {
                return out;
            }
        }
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        return model.embedAll(texts.stream().map(TextSegment::from).toList()).content().stream().map(Embedding::vector).toList();
    }
}
