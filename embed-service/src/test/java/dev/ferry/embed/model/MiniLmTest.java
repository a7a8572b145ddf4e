package dev.ferry.embed.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The in-process MiniLM against langchain4j's own embedding of the same model, with the real model files. */
class MiniLmTest {

    /** Up to 128 tokens each: several scripts, emoji, one word, a long-ish paragraph. */
    static final List<String> TEXTS = List.of(
            "How do I reset my password?",
            "Steps to change your account password",
            "The weather in Paris is sunny",
            "word",
            "Ça coûte combien, ce café crème ? Très cher, à mon avis.",
            "Der schnelle braune Fuchs springt über den faulen Hund; Größe und Straße.",
            "日本語のテキストも埋め込めますか？東京は晴れです。",
            "Съешь же ещё этих мягких французских булок, да выпей чаю.",
            "مرحبا بالعالم، كيف حالك اليوم؟",
            "Great job team 🎉🚀 see you tomorrow 😀👍🏽",
            "x",
            "SELECT * FROM users WHERE id = 42; -- 3.14159 e=mc^2 user@example.com https://ferry.dev/a?b=c",
            "In the middle of the journey of our life I found myself within a dark wood, for the straightforward"
                    + " pathway had been lost. Ah me! how hard a thing it is to say what was this forest savage, rough,"
                    + " and stern, which in the very thought renews the fear. So bitter is it, death is little more;"
                    + " but of the good to treat, which there I found, speak will I of the other things I saw there.");

    static MiniLm model;
    static AllMiniLmL6V2EmbeddingModel reference;

    @BeforeAll
    static void load() {
        model = new MiniLm(MiniLm.Variant.FP32, 32, 2);
        reference = new AllMiniLmL6V2EmbeddingModel();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void batchedVectorsEqualLangchain4jsWithin1e5() throws Exception {
        for (String text : TEXTS) {
            assertTrue(model.tokens(text) <= MiniLm.WINDOW, text);
        }
        List<float[]> ours = model.embed(TEXTS);
        List<Embedding> theirs = reference.embedAll(TEXTS.stream().map(TextSegment::from).toList()).content();
        for (int i = 0; i < TEXTS.size(); i++) {
            assertEquals(384, ours.get(i).length);
            assertClose(theirs.get(i).vector(), ours.get(i), 1e-5, TEXTS.get(i));
            assertClose(reference.embed(TEXTS.get(i)).content().vector(), ours.get(i), 1e-5, TEXTS.get(i));
            assertEquals(1.0, norm(ours.get(i)), 1e-5);
        }
    }

    @Test
    void resultsComeInInputOrderWhateverTheLengthSort() throws Exception {
        List<String> shuffled = new ArrayList<>(TEXTS);
        Collections.shuffle(shuffled, new Random(7));
        List<float[]> vectors = model.embed(shuffled);
        List<float[]> original = model.embed(TEXTS);
        for (int i = 0; i < shuffled.size(); i++) {
            assertClose(original.get(TEXTS.indexOf(shuffled.get(i))), vectors.get(i), 0, shuffled.get(i));
        }
    }

    @Test
    void batchOfOneAndBatchOf32GiveEqualFp32Vectors() throws Exception {
        List<String> texts = generated(64, 3);
        try (MiniLm single = new MiniLm(MiniLm.Variant.FP32, 1, 2)) {
            List<float[]> one = single.embed(texts);
            List<float[]> many = model.embed(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertClose(one.get(i), many.get(i), 1e-6, texts.get(i));
            }
        }
    }

    @Test
    void tokensCountSpecialTokensAndShowTruncation() throws Exception {
        assertEquals(4, model.tokens("hello world"), "[CLS] hello world [SEP]");
        assertEquals(2, model.tokens(""));
        String huge = generated(1, 20_000).get(0);
        assertTrue(huge.length() >= 20_000);
        int tokens = model.tokens(huge);
        assertTrue(tokens > 3000, "a 20,000-char text has thousands of tokens: " + tokens);
        // Only the first 126 tokens are embedded: the vector is that of the first 126-token chunk.
        String head = model.chunks(huge, MiniLm.WINDOW - 2, 0).get(0);
        assertEquals(MiniLm.WINDOW, model.tokens(head));
        assertClose(model.embed(List.of(head)).get(0), model.embed(List.of(huge)).get(0), 1e-6, "truncated text");
        assertClose(reference.embed(huge).content().vector(), model.embed(List.of(huge)).get(0), 1e-5, "langchain4j");
    }

    @Test
    void textsWithoutTokensAreRefusedNamingTheirIndex() {
        for (String empty : List.of("", "   \n\t", "\u0000", "\uD800")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.embed(List.of("fine", empty)));
            assertTrue(e.getMessage().startsWith("text 1 has no token"), e.getMessage());
        }
        IllegalArgumentException nul = assertThrows(IllegalArgumentException.class,
                () -> model.embed(Collections.singletonList(null)));
        assertEquals("text 0 is null", nul.getMessage());
        assertEquals(List.of(), model.chunks("", 10, 0));
    }

    @Test
    void nulCharactersAndLoneSurrogatesAreDroppedLikeOtherControlCharacters() throws Exception {
        List<float[]> vectors = model.embed(List.of("a\u0000b", "ab", "pass\uD800word", "pass\uFFFDword", "password",
                "smile \uDE00 please", "smile please"));
        assertClose(vectors.get(1), vectors.get(0), 0, "NUL");
        assertClose(vectors.get(3), vectors.get(2), 0, "lone surrogate as U+FFFD");
        assertClose(vectors.get(4), vectors.get(2), 0, "U+FFFD dropped");
        assertClose(vectors.get(6), vectors.get(5), 0, "lone low surrogate");
        assertEquals(model.tokens("password"), model.tokens("pass\uD800word"));
    }

    @Test
    void similarQuestionsAreCloserThanUnrelatedOnes() throws Exception {
        List<float[]> v = model.embed(List.of("How do I reset my password?", "Steps to change your account password",
                "The weather in Paris is sunny"));
        double related = cosine(v.get(0), v.get(1));
        double unrelated = cosine(v.get(0), v.get(2));
        assertTrue(related > unrelated + 0.2, related + " vs " + unrelated);
    }

    @Test
    void concurrentCallersGetTheSameVectors() throws Exception {
        List<String> texts = generated(40, 5);
        List<float[]> expected = model.embed(texts);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<float[]>>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> model.embed(texts)));
            }
            for (Future<List<float[]>> result : results) {
                List<float[]> got = result.get();
                for (int i = 0; i < texts.size(); i++) {
                    assertClose(expected.get(i), got.get(i), 0, texts.get(i));
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void quantizedWithBatchOfOneEqualsLangchain4jsQuantized() throws Exception {
        AllMiniLmL6V2QuantizedEmbeddingModel quantizedReference = new AllMiniLmL6V2QuantizedEmbeddingModel();
        try (EmbeddingModel quantized = EmbeddingModels.create(Map.of(EmbeddingModelConfig.PROVIDER, "minilm-q"))) {
            assertEquals("all-minilm-l6-v2-q", quantized.id());
            List<float[]> ours = quantized.embed(TEXTS);
            List<float[]> fp32 = model.embed(TEXTS);
            for (int i = 0; i < TEXTS.size(); i++) {
                assertClose(quantizedReference.embed(TEXTS.get(i)).content().vector(), ours.get(i), 1e-5, TEXTS.get(i));
                assertTrue(cosine(fp32.get(i), ours.get(i)) > 0.9, TEXTS.get(i));
            }
        }
    }

    /** Deterministic English-ish texts of 5 to {@code maxWords} words. */
    static List<String> generated(int count, int minChars) {
        String[] words = ("the a of to and in is it you that he was for on are with as his they be at one have this"
                + " from or had by hot word but what some we can out other were all there when up use your how said"
                + " an each she which do their time if will way about many then them write would like so these her"
                + " long make thing see him two has look more day could go come did number sound no most people my"
                + " password reset account database migration vector embedding kafka postgres sqlite café naïve")
                .split(" ");
        Random random = new Random(count * 31L + minChars);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            StringBuilder text = new StringBuilder();
            int target = Math.max(minChars, 0);
            int wordCount = 5 + random.nextInt(60);
            for (int w = 0; w < wordCount || text.length() < target; w++) {
                if (text.length() > 0) {
                    text.append(random.nextInt(12) == 0 ? ", " : " ");
                }
                text.append(words[random.nextInt(words.length)]);
            }
            texts.add(text.append('.').toString());
        }
        return texts;
    }

    static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what);
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(max <= tolerance, what + ": largest difference " + max + " over " + tolerance);
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    static double norm(float[] v) {
        double sum = 0;
        for (float x : v) {
            sum += x * x;
        }
        return Math.sqrt(sum);
    }
}
