package dev.ferry.embed.model;

import java.util.Arrays;

/**
 * Token estimate for models whose tokenizer ferry does not have (HTTP providers): every run of letters or digits
 * counts one token per 4 characters begun, every other non-space character one token. Real BPE tokenizers average
 * about 4 characters per token on English text and keep common words whole, so this tends to over-count, which keeps
 * chunks within the window; on other scripts it can be off either way.
 */
final class WordPieceEstimate implements TokenWindows.Tokenizer {

    static final int PIECE = 4;

    @Override
    public int[] spans(String text) {
        int[] spans = new int[16];
        int n = 0;
        int i = 0;
        int length = text.length();
        while (i < length) {
            int cp = text.codePointAt(i);
            if (Character.isWhitespace(cp) || Character.isISOControl(cp) || Character.isSpaceChar(cp)) {
                i += Character.charCount(cp);
                continue;
            }
            int start = i;
            int end = i + Character.charCount(cp);
            if (Character.isLetterOrDigit(cp)) {
                int pieces = 1;
                while (end < length && Character.isLetterOrDigit(text.codePointAt(end)) && pieces < PIECE) {
                    end += Character.charCount(text.codePointAt(end));
                    pieces++;
                }
            }
            if (n + 2 > spans.length) {
                spans = Arrays.copyOf(spans, spans.length * 2);
            }
            spans[n++] = start;
            spans[n++] = end;
            i = end;
        }
        return Arrays.copyOf(spans, n);
    }

    int count(String text) {
        return spans(text).length / 2;
    }
}
