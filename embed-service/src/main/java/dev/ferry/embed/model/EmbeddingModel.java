package dev.ferry.embed.model;

import java.util.List;

/**
 * A text embedding model: in process (MiniLM through ONNX Runtime) or behind HTTP (OpenAI-compatible, Ollama).
 * Create one with {@link EmbeddingModels#create}. Every method may be called from several threads at once.
 *
 * <p>Texts: a lone UTF-16 surrogate is replaced by U+FFFD before the model sees the text (MiniLM's tokenizer then
 * drops it, as it drops NUL and other control characters). A text with no token at all (empty, whitespace only,
 * control characters only) cannot be embedded: {@link #embed} rejects it, {@link #chunks} gives no chunk for it.
 */
public interface EmbeddingModel extends AutoCloseable {

    /**
     * Stable identity of the vectors this model makes, to record beside each vector: {@code all-minilm-l6-v2},
     * {@code all-minilm-l6-v2-q}, {@code openai:<model>} ({@code openai:<model>@<dimensions>} when dimensions are sent
     * to the server), {@code ollama:<model>}.
     */
    String id();

    /** Length of every vector {@link #embed} returns. */
    int dimensions();

    /**
     * The model's token window: a text of more {@link #tokens} than this is truncated, only its first tokens are
     * embedded. 128 for MiniLM as shipped (special tokens included); a configured figure for HTTP models.
     */
    int maxTokens();

    /**
     * The largest chunk size {@link #chunks} accepts: {@link #maxTokens()} less the tokens the model adds to every
     * text ({@code [CLS]} and {@code [SEP]} for MiniLM, so 126).
     */
    int maxChunkTokens();

    /**
     * How many tokens the model would see for this text before truncation, its special tokens included: the text is
     * truncated exactly when this exceeds {@link #maxTokens()}. Exact for MiniLM; an approximation for HTTP models
     * (see docs/embeddings.md).
     */
    int tokens(String text);

    /**
     * Cuts a text into windows of at most {@code size} tokens (not counting special tokens) that overlap by
     * {@code overlap} tokens. Each chunk is the substring of {@code text} from its first token's first character to
     * its last token's last character, so it may start or end inside a word. The chunks cover every token of the
     * text, in order. A text with no token gives an empty list; a text of at most {@code size} tokens gives one chunk.
     *
     * <p>A chunk cut inside a word can tokenize to more tokens alone than in the whole text; such a window is
     * shortened until its text is within {@code size} tokens, and the next still overlaps it by {@code overlap} (by
     * fewer only if it shrank to {@code overlap} tokens or less). A window of one word piece cannot shrink: with
     * {@code size} 1 a chunk can be 2 or 3 tokens.
     *
     * @throws IllegalArgumentException when {@code size} is below 1 or above {@link #maxChunkTokens()}, or
     *     {@code overlap} is negative or not below {@code size}; the message names the argument
     */
    List<String> chunks(String text, int size, int overlap);

    /**
     * One vector of {@link #dimensions()} floats per text, in the order of {@code texts}. Texts longer than the window
     * are truncated (see {@link #tokens}). MiniLM's vectors are L2-normalised; an HTTP model's are as its server
     * returns them (OpenAI's and Ollama's are normalised).
     *
     * @throws IllegalArgumentException when a text is null or has no token; the message gives its index
     * @throws EmbeddingException when the model or the server fails; {@link EmbeddingException#transientFailure()}
     *     tells whether trying again later may succeed
     */
    List<float[]> embed(List<String> texts) throws EmbeddingException;

    /** Releases the model (ONNX session, tokenizer, HTTP client). */
    @Override
    void close();
}
