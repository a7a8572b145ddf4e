package dev.ferry.embed.model;

import java.util.List;

/** A text embedding model: one vector of {@link #dimensions()} floats per text. Safe to call from several threads. */
public interface EmbeddingModel extends AutoCloseable {

    /** Identity of the model, recorded beside each vector it produced. */
    String id();

    int dimensions();

    /** The model's window in tokens; longer texts are truncated. */
    int maxTokens();

    /** How many tokens the model sees for {@code text} before truncation. */
    int tokens(String text);

    /** The largest chunk size {@link #chunks} accepts. */
    int maxChunkTokens();

    /** Windows of at most {@code size} tokens overlapping by {@code overlap}, in order; none for a text without tokens. */
    List<String> chunks(String text, int size, int overlap);

    /** One vector per text, in the order of {@code texts}. */
    List<float[]> embed(List<String> texts);

    @Override
    default void close() {
    }
}
