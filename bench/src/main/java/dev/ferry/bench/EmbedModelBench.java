package dev.ferry.bench;

import dev.ferry.embed.model.EmbeddingException;
import dev.ferry.embed.model.EmbeddingModel;
import dev.ferry.embed.model.EmbeddingModelConfig;
import dev.ferry.embed.model.EmbeddingModels;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Throughput and agreement of the in-process MiniLM: langchain4j's {@code embedAll} (one ONNX run per text, texts in
 * parallel) against ferry's batched inference ({@code dev.ferry.embed.model}), fp32 and quantized, on the same
 * generated texts. Not a test: see docs/benchmarks.md.
 */
public final class EmbedModelBench {

    record Args(int texts, long seed, int batch, int threads, int rounds, List<Integer> sweep) {

        static Args parse(String[] argv) {
            int texts = 2000;
            long seed = 42;
            int batch = 32;
            int threads = 0;
            int rounds = 2;
            List<Integer> sweep = List.of();
            for (int i = 0; i < argv.length; i++) {
                switch (argv[i]) {
                    case "--texts" -> texts = Integer.parseInt(argv[++i]);
                    case "--seed" -> seed = Long.parseLong(argv[++i]);
                    case "--batch" -> batch = Integer.parseInt(argv[++i]);
                    case "--threads" -> threads = Integer.parseInt(argv[++i]);
                    case "--rounds" -> rounds = Integer.parseInt(argv[++i]);
                    case "--sweep" -> sweep = java.util.Arrays.stream(argv[++i].split(",")).map(Integer::parseInt).toList();
                    case "-h", "--help" -> {
                        System.out.println("""
                                usage: EmbedModelBench [options]
                                  --texts N        generated texts of 5-120 words (default 2000)
                                  --seed S         their random seed (default 42)
                                  --batch B        ferry's batch size, model.batch.size (default 32)
                                  --threads T      ferry's ONNX intra-op threads, model.threads (default 0: one per processor)
                                  --rounds R       timed passes per model; the best is reported (default 2)
                                  --sweep B1,B2..  also time ferry fp32 at these batch sizes""");
                        System.exit(0);
                    }
                    default -> throw new IllegalArgumentException("unknown option " + argv[i] + " (try --help)");
                }
            }
            if (texts < 1 || batch < 1 || rounds < 1) {
                throw new IllegalArgumentException("--texts, --batch and --rounds must be positive");
            }
            return new Args(texts, seed, batch, threads, rounds, sweep);
        }
    }

    /** A model as the bench drives it. */
    interface Embedder {
        List<float[]> embed(List<String> texts) throws EmbeddingException;
    }

    record Timing(String name, double seconds, int texts, double jvmCpuSeconds, double otherCpuShare, List<float[]> vectors) {
        double rate() {
            return texts / seconds;
        }
    }

    public static void main(String[] argv) {
        int status = 0;
        try {
            new EmbedModelBench().run(Args.parse(argv));
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            status = 2;
        } catch (Exception e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    private void run(Args args) throws Exception {
        List<String> texts = texts(args.texts(), args.seed());
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf("EmbedModelBench: %d texts (seed %d, %d-%d words, %.0f chars on average), ferry batch %d,"
                        + " ferry threads %s%n", texts.size(), args.seed(), 5, 120,
                texts.stream().mapToInt(String::length).average().orElse(0), args.batch(),
                args.threads() == 0 ? cores + " (one per processor)" : args.threads());
        System.out.printf("machine: %d cores (availableProcessors), %s, %.0f GB RAM; JVM %s; %s%n", cores,
                BenchEnv.cpuModel(), BenchEnv.memTotalGb(), System.getProperty("java.vm.version"), BenchEnv.gitState());

        Map<String, Object> ferryOptions = Map.of(EmbeddingModelConfig.BATCH_SIZE, args.batch(),
                EmbeddingModelConfig.THREADS, args.threads());
        Map<String, Object> quantizedOptions = new HashMap<>(ferryOptions);
        quantizedOptions.put(EmbeddingModelConfig.PROVIDER, EmbeddingModelConfig.MINILM_Q);
        Map<String, Object> quantizedSingle = new HashMap<>(quantizedOptions);
        quantizedSingle.put(EmbeddingModelConfig.BATCH_SIZE, 1);
        List<EmbeddingModel> opened = new ArrayList<>();
        Map<String, Embedder> models = new LinkedHashMap<>();
        try {
            models.put(L4J, langchain4j(new AllMiniLmL6V2EmbeddingModel()));
            models.put(FERRY, open(opened, ferryOptions));
            models.put(L4J_Q, langchain4j(new AllMiniLmL6V2QuantizedEmbeddingModel()));
            models.put(FERRY_Q, open(opened, quantizedOptions));
            models.put(FERRY_Q1, open(opened, quantizedSingle));
            for (int batch : args.sweep()) {
                models.put("ferry batched fp32, batch " + batch, open(opened, Map.of(EmbeddingModelConfig.BATCH_SIZE, batch,
                        EmbeddingModelConfig.THREADS, args.threads())));
            }
            Map<String, Timing> best = time(models, args.rounds(), texts);
            report(args, texts, best);
        } finally {
            opened.forEach(EmbeddingModel::close);
        }
    }

    private static final String L4J = "langchain4j embedAll fp32";
    private static final String FERRY = "ferry batched fp32";
    private static final String L4J_Q = "langchain4j embedAll quantized";
    private static final String FERRY_Q = "ferry batched quantized";
    private static final String FERRY_Q1 = "ferry quantized, batch 1";

    private static Embedder open(List<EmbeddingModel> opened, Map<String, Object> options) {
        EmbeddingModel model = EmbeddingModels.create(options);
        opened.add(model);
        return model::embed;
    }

    private static void report(Args args, List<String> texts, Map<String, Timing> best) {
        Timing l4j = best.get(L4J);
        Timing ferry = best.get(FERRY);
        Timing l4jQ = best.get(L4J_Q);
        Timing ferryQ = best.get(FERRY_Q);
        Timing ferryQ1 = best.get(FERRY_Q1);
        System.out.println();
        System.out.println("| model | vectors/s (best round) | vectors per CPU-second of this JVM | other processes' CPU |");
        System.out.println("| --- | ---: | ---: | ---: |");
        best.values().forEach(EmbedModelBench::row);
        System.out.println();
        System.out.printf("- ferry batched fp32 / langchain4j embedAll fp32: %.2f×%n", ferry.rate() / l4j.rate());
        System.out.printf("- the same per CPU-second of this JVM: %.2f×%n",
                (ferry.texts() / ferry.jvmCpuSeconds()) / (l4j.texts() / l4j.jvmCpuSeconds()));
        System.out.printf("- ferry batched quantized / langchain4j embedAll quantized: %.2f×%n", ferryQ.rate() / l4jQ.rate());
        System.out.printf("- max |difference| fp32, ferry batched vs langchain4j: %.2e (largest over all %d×384 components)%n",
                maxAbsDifference(ferry.vectors(), l4j.vectors()), texts.size());
        agreement("langchain4j quantized vs langchain4j fp32", l4jQ.vectors(), l4j.vectors());
        agreement("ferry quantized batch " + args.batch() + " vs ferry fp32", ferryQ.vectors(), ferry.vectors());
        agreement("ferry quantized batch 1 vs ferry fp32", ferryQ1.vectors(), ferry.vectors());
        agreement("ferry quantized batch " + args.batch() + " vs batch 1 (same model)", ferryQ.vectors(), ferryQ1.vectors());
        System.out.printf("- ferry quantized batch 1 vs langchain4j quantized: max |difference| %.2e%n",
                maxAbsDifference(ferryQ1.vectors(), l4jQ.vectors()));
    }

    private static Embedder langchain4j(dev.langchain4j.model.embedding.EmbeddingModel model) {
        return texts -> model.embedAll(texts.stream().map(TextSegment::from).toList()).content().stream()
                .map(Embedding::vector).toList();
    }

    /**
     * A warm-up of each model on the first 100 texts, then {@code rounds} timed passes over all texts, the models taking
     * turns in each round so that a change in the machine's load hits them alike; each model's fastest pass counts.
     */
    private static Map<String, Timing> time(Map<String, Embedder> models, int rounds, List<String> texts)
            throws EmbeddingException {
        for (Embedder embedder : models.values()) {
            embedder.embed(texts.subList(0, Math.min(100, texts.size())));
        }
        Map<String, Timing> best = new LinkedHashMap<>();
        for (int r = 0; r < rounds; r++) {
            for (Map.Entry<String, Embedder> model : models.entrySet()) {
                String name = model.getKey();
                CpuMeter cpu = CpuMeter.start();
                long t0 = System.nanoTime();
                List<float[]> vectors = model.getValue().embed(texts);
                double seconds = BenchEnv.seconds(t0);
                CpuMeter.Reading reading = cpu.read();
                double other = reading.otherSeconds() / reading.wallSeconds() / Runtime.getRuntime().availableProcessors();
                Timing t = new Timing(name, seconds, texts.size(), reading.jvmSeconds(), other, vectors);
                System.out.printf("  %-36s round %d: %5.1f s, %6.1f vectors/s, JVM CPU %5.1f s (other processes used %.0f%% of"
                        + " the machine)%n", name, r + 1, seconds, t.rate(), reading.jvmSeconds(), 100 * other);
                if (!best.containsKey(name) || t.seconds() < best.get(name).seconds()) {
                    best.put(name, t);
                }
            }
        }
        return best;
    }

    private static void row(Timing t) {
        System.out.printf("| %s | %.1f | %.1f | %.0f%% |%n", t.name(), t.rate(), t.texts() / t.jvmCpuSeconds(),
                100 * t.otherCpuShare());
    }

    private static void agreement(String what, List<float[]> a, List<float[]> b) {
        double sum = 0;
        double min = 1;
        for (int i = 0; i < a.size(); i++) {
            double c = cosine(a.get(i), b.get(i));
            sum += c;
            min = Math.min(min, c);
        }
        System.out.printf("- cosine %s: mean %.5f, min %.5f%n", what, sum / a.size(), min);
    }

    private static double maxAbsDifference(List<float[]> a, List<float[]> b) {
        double max = 0;
        for (int i = 0; i < a.size(); i++) {
            for (int d = 0; d < a.get(i).length; d++) {
                max = Math.max(max, Math.abs(a.get(i)[d] - b.get(i)[d]));
            }
        }
        return max;
    }

    private static double cosine(float[] a, float[] b) {
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

    private static final String[] WORDS = ("the of and to in is was for on that with as by at from his her they this"
            + " which be are or had an not but were have all their one has been would there more when who will its"
            + " password account reset login email customer order invoice payment refund shipping delivery address"
            + " database table column index query migration replication snapshot kafka postgres sqlite vector"
            + " embedding search similarity model token window batch latency throughput sunny weather Paris Berlin"
            + " Tokyo river mountain forest coffee garden music history science football recipe chocolate"
            + " café naïve Straße Größe über año niño façade résumé déjà-vu smörgåsbord"
            + " 2024 42 3.14 100% $19.99 #1 user@example.com https://example.com/a?b=c").split(" ");
    private static final String[] FOREIGN = {
        "Der schnelle braune Fuchs springt über den faulen Hund.", "El veloz murciélago hindú comía feliz cardillo y kiwi.",
        "日本語のテキストも埋め込めますか。", "Съешь же ещё этих мягких французских булок.", "مرحبا بالعالم، كيف حالك؟",
        "Great job team 🎉🚀 see you tomorrow 😀", "Η γρήγορη καφέ αλεπού πηδά πάνω από τον τεμπέλη σκύλο."};

    /** {@code count} texts of 5 to 120 words: sentences of common and domain words, some with a foreign sentence. */
    static List<String> texts(int count, long seed) {
        Random random = new Random(seed);
        List<String> texts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int words = 5 + random.nextInt(116);
            StringBuilder sb = new StringBuilder();
            boolean capital = true;
            for (int w = 0; w < words; w++) {
                String word = WORDS[random.nextInt(WORDS.length)];
                if (sb.length() > 0) {
                    sb.append(' ');
                }
                sb.append(capital ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word);
                capital = false;
                int r = random.nextInt(20);
                if (r == 0) {
                    sb.append(',');
                } else if (r == 1 && w < words - 1) {
                    sb.append('.');
                    capital = true;
                }
            }
            sb.append(random.nextInt(4) == 0 ? '?' : '.');
            if (random.nextInt(8) == 0) {
                sb.append(' ').append(FOREIGN[random.nextInt(FOREIGN.length)]);
            }
            texts.add(sb.toString());
        }
        return texts;
    }
}
