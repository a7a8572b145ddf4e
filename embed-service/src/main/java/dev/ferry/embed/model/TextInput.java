package dev.ferry.embed.model;

/** What every model does to a text before tokenizing or sending it. */
final class TextInput {

    private TextInput() {
    }

    /**
     * The text with each lone UTF-16 surrogate replaced by U+FFFD, so that it has the same length and is valid Unicode:
     * DJL's tokenizer would otherwise shift the offsets of every later token, and a JSON encoder would refuse it.
     */
    static String withoutLoneSurrogates(String text) {
        int n = text.length();
        char[] fixed = null;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                if (fixed == null) {
                    fixed = text.toCharArray();
                }
                fixed[i] = '\uFFFD';
            }
        }
        return fixed == null ? text : new String(fixed);
    }

    static String requireText(String text, int index) {
        if (text == null) {
            throw new IllegalArgumentException("text " + index + " is null");
        }
        return withoutLoneSurrogates(text);
    }
}
