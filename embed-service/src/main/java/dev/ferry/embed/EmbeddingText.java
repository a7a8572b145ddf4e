package dev.ferry.embed;

/** The text as the model gets it. */
final class EmbeddingText {

    private EmbeddingText() {
    }

    /**
     * NUL characters become spaces and unpaired UTF-16 surrogates become U+FFFD: neither has a meaning a model could
     * use, and a tokenizer behind a native boundary (UTF-8) cannot take a lone surrogate. The row itself is written as
     * it is; only the embedded text is cleaned.
     */
    static String clean(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            char replacement = 0;
            if (c == '\0') {
                replacement = ' ';
            } else if (Character.isHighSurrogate(c)) {
                if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    if (out != null) {
                        out.append(c).append(text.charAt(i + 1));
                    }
                    i++;
                    continue;
                }
                replacement = '\uFFFD';
            } else if (Character.isLowSurrogate(c)) {
                replacement = '\uFFFD';
            }
            if (replacement != 0 && out == null) {
                out = new StringBuilder(text.length()).append(text, 0, i);
            }
            if (out != null) {
                out.append(replacement != 0 ? replacement : c);
            }
        }
        return out == null ? text : out.toString();
    }
}
