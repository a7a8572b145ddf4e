package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.embed.EmbeddingSpec;
import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.TableComparison;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import io.micrometer.core.instrument.Counter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The knowledgebase's document_chunks through the embed service into pgvector, with the real model: every row's
 * stored vector is the model's output for its text, computed here independently (langchain4j's own all-MiniLM-L6-v2).
 */
class EmbeddingPipelineTest {

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    /** The reference: the model as langchain4j ships it, not ferry's code. */
    static AllMiniLmL6V2EmbeddingModel reference;

    @TempDir
    Path dir;

    @BeforeAll
    static void loadReference() {
        reference = new AllMiniLmL6V2EmbeddingModel();
    }

    @AfterAll
    static void dropReference() {
        reference = null;
    }

    static final FerryConfig CHUNKS = new FerryConfig(List.of(EmbeddingSpec.of("embeddings[0]", "document_chunks", "text", "embedding_vector",
            null, "minilm", "hnsw", null)), FerryConfig.Embed.DEFAULTS);

    private Pipeline pipeline(Path sqlite, String schema) {
        Pipeline.Options options = new Pipeline.Options(sqlite, infra.pg().jdbcUrl(), dir.resolve("state"), schema,
                infra.broker().bootstrapServers(), "ferry", schema, 2, false, Map.of());
        return new Pipeline(options).withConfig(CHUNKS);
    }

    static float[] expected(String text) {
        return reference.embed(text).content().vector();
    }

    /** Every row: a vector equal to the model's output for its text (within 1e-5), or NULL for NULL and blank text. */
    static int assertVectors(Connection pg, String schema) throws SQLException {
        int checked = 0;
        try (Statement st = pg.createStatement(); ResultSet rs = st.executeQuery("SELECT id, text, embedding_vector::text,"
                + " embedding_vector_model FROM " + schema + ".document_chunks ORDER BY id")) {
            while (rs.next()) {
                String text = rs.getString(2);
                String vector = rs.getString(3);
                if (text == null || text.isBlank()) {
                    assertNull(vector, "row " + rs.getLong(1) + " has no text, so no vector");
                    assertNull(rs.getString(4));
                    continue;
                }
                assertNotNull(vector, "row " + rs.getLong(1) + " has no vector");
                assertEquals("all-minilm-l6-v2", rs.getString(4));
                assertClose(expected(text), parse(vector), "row " + rs.getLong(1));
                checked++;
            }
        }
        return checked;
    }

    static float[] parse(String pgvector) {
        String[] parts = pgvector.substring(1, pgvector.length() - 1).split(",");
        float[] v = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            v[i] = Float.parseFloat(parts[i]);
        }
        return v;
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": dimension");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5, what + ": component " + i);
        }
    }

    private static double modelVectors(Pipeline p) {
        return p.meterRegistry().find("ferry.embed.vectors").counters().stream().mapToDouble(Counter::count).sum();
    }

    @Test
    void snapshotThenLiveChangesKeepEveryChunkWithItsModelVector() throws Exception {
        Path sqlite = dir.resolve("kb.db");
        SampleDatabase.create(sqlite, 20, 300, 11);
        String schema = "emb_live";
        try (Pipeline p = pipeline(sqlite, schema); Connection app = SampleDatabase.open(sqlite);
             Connection pg = java.sql.DriverManager.getConnection(infra.pg().jdbcUrl())) {
            p.start();
            p.awaitCaughtUp(Duration.ofMinutes(3));
            assertTrue(assertVectors(pg, schema) > 250);
            assertEquals("vector(384)", columnType(pg, schema, "embedding_vector"));
            FerryCommandTest.Run status = FerryCommandTest.ferry("status", "--sqlite", sqlite.toString(), "--postgres", infra.pg().jdbcUrl(),
                    "--source-name", schema, "--target-schema", schema, "--bootstrap-servers", infra.broker().bootstrapServers(), "--json");
            assertTrue(status.out().contains("{\"table\":\"document_chunks\",\"rows_sqlite\":300,\"rows_postgres\":300,\"backlog\":0,"
                    + "\"lag_records\":0,\"state\":\"caught up\"}"), status.out() + status.err());
            List<String> indexes = indexes(pg, schema);
            assertTrue(indexes.stream().anyMatch(i -> i.contains("USING hnsw (embedding_vector vector_cosine_ops)")), indexes.toString());
            assertTrue(indexes.stream().anyMatch(i -> i.contains("(user_id, source_type)")), indexes.toString());
            assertTrue(indexes.stream().anyMatch(i -> i.contains("(user_id, created_at)")), indexes.toString());
            assertTrue(indexes.stream().anyMatch(i -> i.contains("(source_id)")), indexes.toString());

            // Only metadata changes: the model is not called again, the vector stays.
            String before = vectorOf(pg, schema, 7);
            double calls = modelVectors(p);
            try (Statement st = app.createStatement()) {
                st.executeUpdate("UPDATE document_chunks SET metadata = json_set(metadata, '$.views', 99), updated_at = '2030-01-01 00:00:00'"
                        + " WHERE id IN (7, 8, 9)");
            }
            p.awaitCaughtUp(Duration.ofMinutes(2));
            assertEquals(calls, modelVectors(p), "an update that leaves the text alone must not call the model");
            assertEquals(before, vectorOf(pg, schema, 7));
            assertEquals("2030-01-01 00:00:00", scalar(pg, "SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM "
                    + schema + ".document_chunks WHERE id = 7"));

            // The text changes: a new vector, of the new text.
            try (Statement st = app.createStatement()) {
                st.executeUpdate("UPDATE document_chunks SET text = 'Invoices are archived in the finance folder every month.' WHERE id = 7");
                st.executeUpdate("DELETE FROM document_chunks WHERE id = 8");
            }
            p.awaitCaughtUp(Duration.ofMinutes(2));
            assertEquals(calls + 1, modelVectors(p), "one new text, one model call");
            assertClose(expected("Invoices are archived in the finance folder every month."), parse(vectorOf(pg, schema, 7)), "row 7");
            assertEquals("0", scalar(pg, "SELECT count(*) FROM " + schema + ".document_chunks WHERE id = 8"));
            // With the embed service stopped (its cache goes with it), a change waits on the table topic: status counts it as lag.
            p.stopEmbed();
            try (Statement st = app.createStatement()) {
                st.executeUpdate("UPDATE document_chunks SET text = 'Waiting for its vector.' WHERE id = 10");
            }
            java.util.regex.Pattern waiting = java.util.regex.Pattern.compile(
                    "\\{\"table\":\"document_chunks\",[^}]*\"backlog\":0,\"lag_records\":([1-9][0-9]*),\"state\":\"streaming\"}");
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            do {
                Thread.sleep(200);
                status = FerryCommandTest.ferry("status", "--sqlite", sqlite.toString(), "--postgres", infra.pg().jdbcUrl(),
                        "--source-name", schema, "--target-schema", schema, "--bootstrap-servers", infra.broker().bootstrapServers(), "--json");
            } while (!waiting.matcher(status.out()).find() && System.nanoTime() < deadline);
            assertTrue(waiting.matcher(status.out()).find(), status.out() + status.err());
            p.startEmbed();
            p.awaitCaughtUp(Duration.ofMinutes(2));
            assertVectors(pg, schema);
            for (String table : TableComparison.userTables(sqlite)) {
                TableComparison.Result r = TableComparison.compare(sqlite, table, infra.pg().jdbcUrl(), schema);
                assertTrue(r.identical(), r.toString());
            }
        }
    }

    @Test
    void chunkingKeepsOneRowPerChunkWithItsVectorAndDropsChunksATextNoLongerHas() throws Exception {
        Path sqlite = dir.resolve("kb.db");
        SampleDatabase.create(sqlite, 5, 60, 15);
        String schema = "emb_chunks";
        FerryConfig config = new FerryConfig(List.of(EmbeddingSpec.of("embeddings[0]", "document_chunks", "text", "embedding_vector", null,
                "minilm", "hnsw", null, new EmbeddingSpec.Chunking(24, 6, "chunk_pieces"))), FerryConfig.Embed.DEFAULTS);
        Pipeline.Options options = new Pipeline.Options(sqlite, infra.pg().jdbcUrl(), dir.resolve("state"), schema,
                infra.broker().bootstrapServers(), "ferry", schema, 2, false, Map.of());
        String longText = "Ferry copies every change of the application into PostgreSQL while the old store keeps running. ".repeat(12);
        try (Pipeline p = new Pipeline(options).withConfig(config); Connection app = SampleDatabase.open(sqlite);
             Connection pg = java.sql.DriverManager.getConnection(infra.pg().jdbcUrl())) {
            try (PreparedStatement ps = app.prepareStatement("UPDATE document_chunks SET text = ? WHERE id = 3")) {
                ps.setString(1, longText);
                ps.executeUpdate();
            }
            p.start();
            p.awaitCaughtUp(Duration.ofMinutes(3));
            int pieces = assertChunks(pg, schema, app);
            assertTrue(pieces > 60, "chunks: " + pieces);
            int before = Integer.parseInt(scalar(pg, "SELECT count(*) FROM " + schema + ".chunk_pieces WHERE id = 3"));
            assertTrue(before >= 6, "a 1,300-character text makes several 24-token chunks: " + before);
            assertEquals("vector(384)", scalar(pg, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '" + schema
                    + ".chunk_pieces'::regclass AND attname = 'embedding_vector'"));

            try (Statement st = app.createStatement()) {
                st.executeUpdate("UPDATE document_chunks SET text = 'Now a short text.' WHERE id = 3");
                st.executeUpdate("DELETE FROM document_chunks WHERE id = 4");
            }
            p.awaitCaughtUp(Duration.ofMinutes(2));
            assertEquals("1", scalar(pg, "SELECT count(*) FROM " + schema + ".chunk_pieces WHERE id = 3"), "surplus chunks deleted");
            assertEquals("0", scalar(pg, "SELECT count(*) FROM " + schema + ".chunk_pieces WHERE id = 4"), "a deleted parent loses its chunks");
            assertChunks(pg, schema, app);
            TableComparison.Result r = TableComparison.compare(sqlite, "document_chunks", infra.pg().jdbcUrl(), schema);
            assertTrue(r.identical(), r.toString());
        }
    }

    /**
     * Every chunk: a piece of its parent's current text, in order (each starts after the previous one starts), the first
     * at the text's start and the last at its end, with the model's vector of the piece; parents without text have none.
     */
    private static int assertChunks(Connection pg, String schema, Connection app) throws SQLException {
        Map<Long, String> texts = new java.util.TreeMap<>();
        try (Statement st = app.createStatement(); ResultSet rs = st.executeQuery("SELECT id, text FROM document_chunks")) {
            while (rs.next()) {
                texts.put(rs.getLong(1), rs.getString(2));
            }
        }
        Map<Long, List<String>> chunks = new java.util.TreeMap<>();
        int n = 0;
        try (Statement st = pg.createStatement(); ResultSet rs = st.executeQuery("SELECT id, chunk_index, chunk_text, embedding_vector::text,"
                + " embedding_vector_model FROM " + schema + ".chunk_pieces ORDER BY id, chunk_index")) {
            while (rs.next()) {
                List<String> list = chunks.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>());
                assertEquals(list.size(), rs.getInt(2), "chunk indexes of " + rs.getLong(1) + " run from 0 without a gap");
                list.add(rs.getString(3));
                assertEquals("all-minilm-l6-v2", rs.getString(5));
                assertClose(expected(rs.getString(3)), parse(rs.getString(4)), "chunk " + rs.getLong(1) + "/" + rs.getInt(2));
                n++;
            }
        }
        for (var e : texts.entrySet()) {
            String text = e.getValue() == null ? "" : e.getValue().strip();
            List<String> pieces = chunks.getOrDefault(e.getKey(), List.of());
            if (text.isEmpty()) {
                assertTrue(pieces.isEmpty(), "row " + e.getKey() + " has no text, so no chunk");
                continue;
            }
            assertFalse(pieces.isEmpty(), "row " + e.getKey() + " has no chunk");
            assertTrue(text.startsWith(pieces.get(0)), "first chunk of " + e.getKey());
            assertTrue(text.endsWith(pieces.get(pieces.size() - 1)), "last chunk of " + e.getKey());
            int at = -1;
            for (String piece : pieces) {
                int found = text.indexOf(piece, at + 1);
                assertTrue(found > at, "chunk '" + piece + "' of row " + e.getKey() + " follows the previous one");
                at = found;
            }
        }
        assertTrue(chunks.keySet().stream().allMatch(texts::containsKey), "no chunk of a deleted row");
        return n;
    }

    @Test
    void reembedFillsANewVectorColumnForEveryRowAndKeepsTheOldOne() throws Exception {
        Path sqlite = dir.resolve("kb.db");
        SampleDatabase.create(sqlite, 5, 80, 16);
        String schema = "emb_reembed";
        Pipeline.Options options = new Pipeline.Options(sqlite, infra.pg().jdbcUrl(), dir.resolve("state"), schema,
                infra.broker().bootstrapServers(), "ferry", schema, 1, false, Map.of());
        try (Pipeline p = new Pipeline(options).withConfig(CHUNKS)) {
            p.start();
            p.awaitCaughtUp(Duration.ofMinutes(3));
        }
        FerryConfig v2 = new FerryConfig(List.of(EmbeddingSpec.of("embeddings[0]", "document_chunks", "text", "embedding_v2", null, "minilm",
                "hnsw", null)), FerryConfig.Embed.DEFAULTS);
        try (Pipeline p = new Pipeline(options).withConfig(v2).withReembed(true);
             Connection pg = java.sql.DriverManager.getConnection(infra.pg().jdbcUrl())) {
            p.start();
            String withText = "SELECT count(*) FROM " + schema + ".document_chunks WHERE text <> ''";
            long expected = Long.parseLong(scalar(pg, withText));
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (System.nanoTime() < deadline) {
                try {
                    if (Long.parseLong(scalar(pg, withText + " AND embedding_v2 IS NOT NULL")) == expected) {
                        break;
                    }
                } catch (SQLException e) {
                    // embedding_v2 does not exist until the writer applies the first schema event of the re-embed
                }
                Thread.sleep(200);
            }
            p.awaitCaughtUp(Duration.ofMinutes(1));
            assertEquals(Long.toString(expected), scalar(pg, withText + " AND embedding_v2 IS NOT NULL"), "every row re-embedded");
            assertEquals(Long.toString(expected), scalar(pg, withText + " AND embedding_vector IS NOT NULL"), "the old column kept");
            try (Statement st = pg.createStatement(); ResultSet rs = st.executeQuery("SELECT text, embedding_v2::text FROM " + schema
                    + ".document_chunks WHERE embedding_v2 IS NOT NULL ORDER BY id LIMIT 20")) {
                while (rs.next()) {
                    assertClose(expected(rs.getString(1)), parse(rs.getString(2)), rs.getString(1));
                }
            }
        }
    }

    @Test
    void vectorsAlreadyInTheSourceAreCarriedOverAndBadOnesAreDeadLettersWithTheReason() throws Exception {
        Path sqlite = dir.resolve("notes.db");
        float[] good = expected("carried vector");
        String goodJson = java.util.Arrays.toString(good).replace(" ", "");
        try (Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + sqlite); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, emb TEXT)");
            st.execute("INSERT INTO notes VALUES (1, 'a note whose vector came from the old vector store', '" + goodJson + "')");
            st.execute("INSERT INTO notes VALUES (2, 'three numbers are not a 384-dimension vector', '[0.1,0.2,0.3]')");
            st.execute("INSERT INTO notes VALUES (3, 'an array that does not end', '[0.1,0.2')");
            st.execute("INSERT INTO notes VALUES (4, 'No vector yet: the model embeds this text.', NULL)");
        }
        String schema = "emb_carry";
        FerryConfig config = new FerryConfig(List.of(EmbeddingSpec.of("embeddings[0]", "notes", "body", "vec", null, "minilm", "hnsw", "emb")),
                FerryConfig.Embed.DEFAULTS);
        Pipeline.Options options = new Pipeline.Options(sqlite, infra.pg().jdbcUrl(), dir.resolve("state"), schema,
                infra.broker().bootstrapServers(), "ferry", schema, 1, false, Map.of());
        try (Pipeline p = new Pipeline(options).withConfig(config); Connection pg = java.sql.DriverManager.getConnection(infra.pg().jdbcUrl())) {
            p.start();
            p.awaitCaughtUp(Duration.ofMinutes(2));
            assertClose(good, parse(scalar(pg, "SELECT vec::text FROM " + schema + ".notes WHERE id = 1")), "carried");
            assertNull(scalar(pg, "SELECT vec::text FROM " + schema + ".notes WHERE id = 2"));
            assertNull(scalar(pg, "SELECT vec::text FROM " + schema + ".notes WHERE id = 3"));
            assertClose(expected("No vector yet: the model embeds this text."), parse(scalar(pg, "SELECT vec::text FROM " + schema
                    + ".notes WHERE id = 4")), "embedded");
            assertEquals(1.0, counter(p, "ferry.embed.carried.vectors"));
            assertEquals(1.0, counter(p, "ferry.embed.vectors"), "only the row without a vector went to the model");
            assertEquals("4", scalar(pg, "SELECT count(*) FROM " + schema + ".notes"), "every row arrives, with or without its vector");
            List<String> reasons = deadLetterReasons(schema);
            assertEquals(2, reasons.size(), reasons.toString());
            assertTrue(reasons.stream().anyMatch(r -> r.contains("vector has 3 dimensions, the model 384")), reasons.toString());
            assertTrue(reasons.stream().anyMatch(r -> r.contains("malformed JSON") || r.contains("not closed")), reasons.toString());
        }
    }

    @Test
    void aTargetColumnOfAnotherDimensionOrAnotherModelsVectorsStopsTheStartWithAClearMessage() throws Exception {
        Path sqlite = dir.resolve("kb.db");
        SampleDatabase.create(sqlite, 2, 3, 17);
        String schema = "emb_refuse";
        try (Connection pg = java.sql.DriverManager.getConnection(infra.pg().jdbcUrl()); Statement st = pg.createStatement()) {
            st.execute("CREATE SCHEMA " + schema);
            st.execute("CREATE TABLE " + schema + ".document_chunks (id bigint PRIMARY KEY, embedding_vector vector(768))");
        }
        Pipeline.Options options = new Pipeline.Options(sqlite, infra.pg().jdbcUrl(), dir.resolve("state"), schema,
                infra.broker().bootstrapServers(), "ferry", schema, 1, false, Map.of());
        try (Pipeline p = new Pipeline(options).withConfig(CHUNKS)) {
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, p::start);
            assertTrue(e.getMessage().contains("\"embedding_vector\" is vector(768), but model all-minilm-l6-v2 gives vector(384)"), e.getMessage());
        }
        try (Connection pg = java.sql.DriverManager.getConnection(infra.pg().jdbcUrl()); Statement st = pg.createStatement()) {
            st.execute("ALTER TABLE " + schema + ".document_chunks DROP COLUMN embedding_vector");
            st.execute("ALTER TABLE " + schema + ".document_chunks ADD COLUMN embedding_vector vector(384), ADD COLUMN embedding_vector_model text");
            st.execute("INSERT INTO " + schema + ".document_chunks VALUES (1, array_fill(0.1, ARRAY[384])::vector, 'openai:text-embedding-3-small@384')");
        }
        try (Pipeline p = new Pipeline(options).withConfig(CHUNKS)) {
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, p::start);
            assertTrue(e.getMessage().contains("holds vectors of model openai:text-embedding-3-small@384"), e.getMessage());
        }
    }

    @Test
    void embedServiceStoppedMidStreamLosesNoRowAndLeavesNoRowWithoutItsVector() throws Exception {
        Path sqlite = dir.resolve("kb.db");
        SampleDatabase.create(sqlite, 10, 100, 12);
        String schema = "emb_restart";
        try (Pipeline p = pipeline(sqlite, schema); Connection app = SampleDatabase.open(sqlite);
             Connection pg = java.sql.DriverManager.getConnection(infra.pg().jdbcUrl())) {
            p.start();
            app.setAutoCommit(false);
            Random random = new Random(5);
            long step = 0;
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 40; i++) {
                    SampleDatabase.applicationStep(app, random, step++, 10);
                    try (Statement st = app.createStatement()) {
                        st.executeUpdate("UPDATE document_chunks SET text = 'Edited ' || id || ' in round " + round + " step " + step
                                + "' WHERE id = (SELECT id FROM document_chunks ORDER BY random() LIMIT 1)");
                    }
                    app.commit();
                    Thread.sleep(10);
                }
                // A stop in the middle of the stream: whatever it read and had not committed is read again.
                p.stopEmbed();
                for (int i = 0; i < 20; i++) {
                    SampleDatabase.applicationStep(app, random, step++, 10);
                    app.commit();
                }
                p.startEmbed();
            }
            p.awaitCaughtUp(Duration.ofMinutes(3));
            assertTrue(assertVectors(pg, schema) > 100);
            for (String table : TableComparison.userTables(sqlite)) {
                TableComparison.Result r = TableComparison.compare(sqlite, table, infra.pg().jdbcUrl(), schema);
                assertTrue(r.identical(), r.toString());
            }
        }
    }

    @Test
    void oddTextsEachHaveTheirDocumentedOutcome() throws Exception {
        Path sqlite = dir.resolve("kb.db");
        SampleDatabase.create(sqlite, 3, 5, 13);
        String schema = "emb_odd";
        String longText = "Replication keeps both stores in step. ".repeat(520).substring(0, 20_000);
        Map<Integer, String> rows = new LinkedHashMap<>();
        try (Pipeline p = pipeline(sqlite, schema); Connection app = SampleDatabase.open(sqlite);
             Connection pg = java.sql.DriverManager.getConnection(infra.pg().jdbcUrl())) {
            p.start();
            p.awaitCaughtUp(Duration.ofMinutes(2));
            try (Statement st = app.createStatement()) {
                st.executeUpdate("INSERT INTO document_chunks (id, chunk_id, user_id, text) VALUES (101, 'empty', 1, '')");
                st.executeUpdate("INSERT INTO document_chunks (id, chunk_id, user_id, text) VALUES (102, 'null', 1, NULL)");
                st.executeUpdate("INSERT INTO document_chunks (id, chunk_id, user_id, text) VALUES (103, 'spaces', 1, '   ')");
                try (PreparedStatement ps = app.prepareStatement("INSERT INTO document_chunks (id, chunk_id, user_id, text) VALUES (104, 'long', 1, ?)")) {
                    ps.setString(1, longText);
                    ps.executeUpdate();
                }
                st.executeUpdate("INSERT INTO document_chunks (id, chunk_id, user_id, text) VALUES (105, 'emoji', 1, 'Backups 🌙✅ 会议记录')");
                // NUL inside the text: PostgreSQL text cannot hold it, so the writer sets the row aside (a dead letter).
                st.executeUpdate("INSERT INTO document_chunks (id, chunk_id, user_id, text) VALUES (106, 'nul', 1, 'before' || char(0) || 'after')");
                // A UTF-16 surrogate encoded in UTF-8 (CESU-8): not valid UTF-8, so not text; the row is set aside with its raw bytes.
                st.executeUpdate("INSERT INTO document_chunks (id, chunk_id, user_id, text) VALUES (107, 'surrogate', 1, CAST(X'41EDA080' AS TEXT))");
            }
            double truncatedBefore = counter(p, "ferry.embed.truncated.texts");
            p.awaitCaughtUp(Duration.ofMinutes(2));
            assertNull(vectorOf(pg, schema, 101), "empty text: no vector");
            assertNull(vectorOf(pg, schema, 102), "NULL text: no vector");
            assertNull(vectorOf(pg, schema, 103), "blank text: no vector");
            assertClose(expected(longText), parse(vectorOf(pg, schema, 104)), "20,000 characters, cut to the model's window");
            assertEquals(truncatedBefore + 1, counter(p, "ferry.embed.truncated.texts"), "the long text is counted as truncated");
            assertClose(expected("Backups 🌙✅ 会议记录"), parse(vectorOf(pg, schema, 105)), "emoji and CJK");
            assertEquals("0", scalar(pg, "SELECT count(*) FROM " + schema + ".document_chunks WHERE id IN (106, 107)"));
            List<String> reasons = deadLetterReasons(schema);
            assertTrue(reasons.stream().anyMatch(r -> r.contains("NUL")), reasons.toString());
            assertTrue(reasons.stream().anyMatch(r -> r.contains("not UTF-8 text")), reasons.toString());
        }
    }

    @Test
    void similarityQueriesFindTheClosestChunksAndAFilteredQueryStillReturnsK() throws Exception {
        Path sqlite = dir.resolve("kb.db");
        // 100 users over 1,000 chunks: each owns about 1%.
        SampleDatabase.create(sqlite, 100, 1000, 14);
        String schema = "emb_search";
        try (Pipeline p = pipeline(sqlite, schema); Connection pg = java.sql.DriverManager.getConnection(infra.pg().jdbcUrl())) {
            p.start();
            p.awaitCaughtUp(Duration.ofMinutes(5));
            float[] q = expected("How can I change my password?");
            String literal = java.util.Arrays.toString(q).replace(" ", "");
            List<Double> found = new ArrayList<>();
            try (PreparedStatement ps = pg.prepareStatement("SELECT text, embedding_vector <=> ?::vector FROM " + schema
                    + ".document_chunks ORDER BY embedding_vector <=> ?::vector LIMIT 5")) {
                ps.setString(1, literal);
                ps.setString(2, literal);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        assertTrue(rs.getString(1).contains("reset your password"), rs.getString(1));
                        found.add(rs.getDouble(2));
                    }
                }
            }
            // The same five distances as an exact search over every stored vector.
            List<Double> exact = new ArrayList<>();
            try (Statement st = pg.createStatement(); ResultSet rs = st.executeQuery("SELECT embedding_vector::text FROM " + schema
                    + ".document_chunks WHERE embedding_vector IS NOT NULL")) {
                while (rs.next()) {
                    exact.add(1 - cosine(q, parse(rs.getString(1))));
                }
            }
            exact.sort(null);
            assertEquals(5, found.size());
            for (int i = 0; i < 5; i++) {
                assertEquals(exact.get(i), found.get(i), 1e-4, "rank " + (i + 1));
            }

            long user = Long.parseLong(scalar(pg, "SELECT user_id FROM " + schema + ".document_chunks WHERE embedding_vector IS NOT NULL"
                    + " GROUP BY user_id HAVING count(*) BETWEEN 6 AND 15 ORDER BY user_id LIMIT 1"));
            // "user_id + 0": the planner cannot use the (user_id, ...) b-trees, so it walks the HNSW index and filters, as it
            // does on a table large enough for the vector index to be the cheaper plan.
            String filtered = "SELECT id FROM " + schema + ".document_chunks WHERE user_id + 0 = " + user
                    + " ORDER BY embedding_vector <=> '" + literal + "' LIMIT 5";
            // A new session has the database default ferry set with the index: iterative scans.
            try (Connection fresh = java.sql.DriverManager.getConnection(infra.pg().jdbcUrl()); Statement st = fresh.createStatement()) {
                st.execute("SET enable_seqscan = off");
                assertEquals("strict_order", scalar(fresh, "SHOW hnsw.iterative_scan"));
                assertTrue(explain(fresh, filtered).contains("embedding_vector_hnsw"), explain(fresh, filtered));
                assertEquals(5, rows(fresh, filtered), "k rows for a user who owns 1% of the chunks");
                st.execute("SET hnsw.iterative_scan = off");
                assertTrue(rows(fresh, filtered) < 5, "without iterative scans the index stops after ef_search candidates");
            }
        }
    }

    /** The ferry.reason header of every record on the source's dead-letter topic. */
    private static List<String> deadLetterReasons(String source) {
        java.util.Properties c = new java.util.Properties();
        c.put("bootstrap.servers", infra.broker().bootstrapServers());
        c.put("group.id", "test-dlq-" + System.nanoTime());
        c.put("auto.offset.reset", "earliest");
        List<String> reasons = new ArrayList<>();
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(c,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            var tp = new org.apache.kafka.common.TopicPartition(dev.ferry.schemas.TopicNames.deadLetterTopic("ferry", source), 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                for (var r : consumer.poll(Duration.ofMillis(500))) {
                    reasons.add(new String(r.headers().lastHeader("ferry.reason").value(), java.nio.charset.StandardCharsets.UTF_8));
                }
            }
        }
        return reasons;
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    private static double counter(Pipeline p, String name) {
        return p.meterRegistry().find(name).counters().stream().mapToDouble(Counter::count).sum();
    }

    private static int rows(Connection c, String sql) throws SQLException {
        int n = 0;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                n++;
            }
        }
        return n;
    }

    private static String explain(Connection c, String sql) throws SQLException {
        StringBuilder plan = new StringBuilder();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("EXPLAIN " + sql)) {
            while (rs.next()) {
                plan.append(rs.getString(1)).append('\n');
            }
        }
        return plan.toString();
    }

    private static String vectorOf(Connection pg, String schema, long id) throws SQLException {
        return scalar(pg, "SELECT embedding_vector::text FROM " + schema + ".document_chunks WHERE id = " + id);
    }

    private static String columnType(Connection pg, String schema, String column) throws SQLException {
        return scalar(pg, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '" + schema
                + ".document_chunks'::regclass AND attname = '" + column + "'");
    }

    private static List<String> indexes(Connection pg, String schema) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = pg.createStatement(); ResultSet rs = st.executeQuery("SELECT indexdef FROM pg_indexes WHERE schemaname = '"
                + schema + "' AND tablename = 'document_chunks'")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static String scalar(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
