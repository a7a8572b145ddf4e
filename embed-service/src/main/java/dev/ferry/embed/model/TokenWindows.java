package dev.ferry.embed.model;

import java.util.ArrayList;
import java.util.List;

/** Token-window chunking, the same for every model; only the tokenizer differs. */
final class TokenWindows {

    /** A model's tokenizer as chunking needs it. */
    interface Tokenizer {

        /**
         * The UTF-16 offsets of the text's own tokens (special tokens left out), as {@code [start0, end0, start1,
         * end1, ...]}, in order; {@code end} is exclusive.
         */
        int[] spans(String text);
    }

    private TokenWindows() {
    }

    static void check(int size, int overlap, int maxSize, String modelId) {
        if (size < 1 || size > maxSize) {
            throw new IllegalArgumentException("chunk size " + size + " is out of range: " + modelId
                    + " takes chunks of 1 to " + maxSize + " tokens");
        }
        if (overlap < 0 || overlap >= size) {
            throw new IllegalArgumentException("chunk overlap " + overlap + " must be at least 0 and less than the chunk"
                    + " size " + size);
        }
    }

    /**
     * Windows of {@code size} tokens of the whole text's tokenization, each starting {@code size - overlap} tokens
     * after the previous one. A window's substring can tokenize differently when cut inside a word (a "##" piece
     * becomes a word start); such a window is shortened by a token until its substring is within {@code size}, and
     * the next one still starts {@code overlap} tokens before its end, so the overlap stays exact (unless a window
     * shrank to {@code overlap} tokens or fewer: the next then starts one token after it, to make progress).
     */
    static List<String> chunks(String text, int size, int overlap, Tokenizer tokenizer) {
        int[] spans = tokenizer.spans(text);
        int n = spans.length / 2;
        List<String> chunks = new ArrayList<>();
        int start = 0;
        while (start < n) {
            int end = Math.min(start + size, n);
            String chunk = text.substring(spans[2 * start], spans[2 * end - 1]);
            while (end - start > 1 && tokenizer.spans(chunk).length / 2 > size) {
                end--;
                chunk = text.substring(spans[2 * start], spans[2 * end - 1]);
            }
            chunks.add(chunk);
            if (end == n) {
                break;
            }
            start = Math.max(end - overlap, start + 1);
        }
        return chunks;
    }
}
