package dev.ferry.embed.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Token-window chunking with MiniLM's real tokenizer and with the HTTP models' estimate. */
class ChunkingTest {

    static MiniLm model;

    @BeforeAll
    static void load() {
        model = new MiniLm(MiniLm.Variant.FP32, 32, 1);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static final String MIXED = String.join(" ", MiniLmTest.generated(12, 300))
            + " Emoji 😀🎉 between words, 日本語のテキスト, naïve café, unbelievably-hyphenated-compoundwords.";

    @Test
    void chunksCoverEveryTokenInOrderWithExactOverlap() {
        for (int[] sizeOverlap : new int[][] {{50, 10}, {126, 0}, {7, 6}, {2, 0}, {30, 29}}) {
            int size = sizeOverlap[0];
            int overlap = sizeOverlap[1];
            List<String> chunks = model.chunks(MIXED, size, overlap);
            int[] spans = model.spans(MIXED);
            int tokens = spans.length / 2;
            int from = 0;
            int previousEnd = -1;
            int previousStart = -1;
            int shortened = 0;
            for (String chunk : chunks) {
                int at = MIXED.indexOf(chunk, from);
                assertTrue(at >= 0, "chunk is a substring, in order: " + chunk);
                int first = tokenStartingAt(spans, at);
                int last = tokenEndingAt(spans, at + chunk.length());
                assertTrue(last - first + 1 <= size, "window of at most " + size + " tokens");
                assertTrue(model.tokens(chunk) - 2 <= size, "chunk alone has at most " + size + " tokens: " + chunk);
                if (previousEnd < 0) {
                    assertEquals(0, first, "the first chunk starts at the first token");
                } else {
                    assertTrue(first > previousStart, "progress");
                    // A window shortened because its text alone tokenizes longer (cut inside a word) still overlaps
                    // the next by `overlap`, unless it shrank to `overlap` tokens or fewer.
                    int previousLength = previousEnd - previousStart + 1;
                    assertEquals(Math.min(overlap, previousLength - 1), previousEnd - first + 1, "overlap with the previous chunk");
                    shortened += previousLength < size ? 1 : 0;
                }
                previousStart = first;
                previousEnd = last;
                from = at + 1;
                assertTrue(chunk.codePoints().noneMatch(c -> Character.isSurrogate((char) c)), "no half emoji");
            }
            assertEquals(tokens - 1, previousEnd, "the last chunk ends at the last token");
            assertTrue(shortened <= chunks.size() / 10, shortened + " of " + chunks.size() + " windows shortened");
        }
    }

    @Test
    void shortTextIsOneChunkAndEmptyTextNone() {
        assertEquals(List.of("Steps to change your account password"),
                model.chunks("  Steps to change your account password \n", 50, 10));
        assertEquals(List.of(), model.chunks("", 50, 10));
        assertEquals(List.of(), model.chunks(" \u0000 ", 50, 10));
    }

    @Test
    void invalidSizeOrOverlapIsRefusedNamingIt() {
        IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class, () -> model.chunks("a b", 127, 0));
        assertEquals("chunk size 127 is out of range: all-minilm-l6-v2 takes chunks of 1 to 126 tokens", tooBig.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> model.chunks("a b", 0, 0)).getMessage()
                .startsWith("chunk size 0"));
        assertEquals("chunk overlap 10 must be at least 0 and less than the chunk size 10",
                assertThrows(IllegalArgumentException.class, () -> model.chunks("a b", 10, 10)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> model.chunks("a b", 10, -1)).getMessage()
                .startsWith("chunk overlap -1"));
    }

    @Test
    void estimateCountsWordPiecesOfFourCharactersAndPunctuation() {
        WordPieceEstimate estimate = new WordPieceEstimate();
        // How do I rese·t my pass·word ?
        assertEquals(9, estimate.count("How do I reset my password?"));
        assertEquals(0, estimate.count(" \t\n"));
        assertEquals(2, estimate.count("😀 日本語"), "an emoji; three letters in one piece");
        List<String> chunks = TokenWindows.chunks("alpha beta gamma delta", 3, 1, estimate);
        // alph·a beta gamm·a delt·a: 7 pieces, windows [0,3) [2,5) [4,7)
        assertEquals(List.of("alpha beta", "beta gamma", "a delta"), chunks);
    }

    private static int tokenStartingAt(int[] spans, int offset) {
        for (int t = 0; t < spans.length / 2; t++) {
            if (spans[2 * t] == offset) {
                return t;
            }
        }
        throw new AssertionError("no token starts at " + offset);
    }

    private static int tokenEndingAt(int[] spans, int offset) {
        for (int t = spans.length / 2 - 1; t >= 0; t--) {
            if (spans[2 * t + 1] == offset) {
                return t;
            }
        }
        throw new AssertionError("no token ends at " + offset);
    }
}
