package dev.ferry.cli;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Random;

/**
 * Generates the reference knowledgebase/RAG database: users, chat sessions and messages, usage logs,
 * Notion syncs and document chunks, with varied text (several languages, short and long, empty, emoji).
 * Also plays the live application that keeps writing to it.
 */
public final class SampleDatabase {

    static final List<String> DDL = List.of(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, created_at DATETIME DEFAULT CURRENT_TIMESTAMP)",
            "CREATE TABLE chat_sessions (id TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), title TEXT,"
                    + " created_at DATETIME DEFAULT CURRENT_TIMESTAMP)",
            "CREATE TABLE chat_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES chat_sessions(id),"
                    + " role TEXT NOT NULL, content TEXT, tokens INTEGER, created_at DATETIME DEFAULT CURRENT_TIMESTAMP)",
            "CREATE TABLE usage_logs (user_id INTEGER NOT NULL, day TEXT NOT NULL, requests INTEGER NOT NULL DEFAULT 0, cost REAL,"
                    + " PRIMARY KEY (user_id, day))",
            "CREATE TABLE notion_syncs (user_id INTEGER, page_id TEXT, status TEXT, synced_at DATETIME, error BLOB)",
            "CREATE TABLE document_chunks (id INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, user_id INTEGER NOT NULL REFERENCES users(id),"
                    + " text TEXT, metadata JSON, source_type TEXT, source_id TEXT, source_url TEXT, chunk_index INTEGER,"
                    + " created_at DATETIME DEFAULT CURRENT_TIMESTAMP, updated_at DATETIME DEFAULT CURRENT_TIMESTAMP)",
            "CREATE INDEX idx_chunks_user_source ON document_chunks(user_id, source_type)",
            "CREATE INDEX idx_chunks_user_created ON document_chunks(user_id, created_at)",
            "CREATE INDEX idx_chunks_source ON document_chunks(source_id)");

    private static final String[] SENTENCES = {
        "PostgreSQL stores the vectors next to the rows they describe.",
        "The quarterly report shows revenue growing in every region.",
        "Pour configurer le connecteur, ouvrez les paramètres du projet.",
        "Die Synchronisierung mit Notion läuft jede Stunde automatisch.",
        "El modelo de embeddings convierte el texto en un vector de 384 dimensiones.",
        "会议记录已经同步到知识库中。",
        "ユーザーはチャットで質問し、関連する文書が検索されます。",
        "Backups run nightly 🌙 and are kept for thirty days ✅.",
        "Kafka keeps every change so a table can be replayed later.",
        "To reset your password, open the account page and choose 'forgot password'.",
    };
    private static final String[] SOURCES = {"notion", "pdf", "web", "slack"};

    private SampleDatabase() {
    }

    /** Creates {@code path} with {@code users} users and about {@code chunks} document chunks. */
    public static void create(Path path, int users, int chunks, long seed) throws SQLException {
        Random random = new Random(seed);
        try (Connection c = open(path)) {
            try (Statement st = c.createStatement()) {
                for (String ddl : DDL) {
                    st.execute(ddl);
                }
            }
            c.setAutoCommit(false);
            try (PreparedStatement u = c.prepareStatement("INSERT INTO users (id, email, name) VALUES (?, ?, ?)")) {
                for (int i = 1; i <= users; i++) {
                    u.setInt(1, i);
                    u.setString(2, "user" + i + "@example.com");
                    u.setString(3, i % 7 == 0 ? null : "User " + i);
                    u.addBatch();
                }
                u.executeBatch();
            }
            for (int i = 0; i < chunks; i++) {
                insertChunk(c, random, i, users);
            }
            for (int i = 0; i < users; i++) {
                try (PreparedStatement s = c.prepareStatement("INSERT INTO chat_sessions (id, user_id, title) VALUES (?, ?, ?)")) {
                    s.setString(1, "s-" + i);
                    s.setInt(2, i + 1);
                    s.setString(3, SENTENCES[random.nextInt(SENTENCES.length)]);
                    s.executeUpdate();
                }
            }
            c.commit();
        }
    }

    /** One transaction of the live application: chunks added, edited and removed, a chat turn, usage counted. */
    public static void applicationStep(Connection c, Random random, long step, int users) throws SQLException {
        int chunkNo = 1_000_000 + (int) step;
        insertChunk(c, random, chunkNo, users);
        try (PreparedStatement ps = c.prepareStatement("UPDATE document_chunks SET metadata = json_set(coalesce(metadata, '{}'), '$.views', ?),"
                + " updated_at = CURRENT_TIMESTAMP WHERE id = (SELECT id FROM document_chunks ORDER BY random() LIMIT 1)")) {
            ps.setLong(1, step);
            ps.executeUpdate();
        }
        if (step % 5 == 0) {
            try (Statement st = c.createStatement()) {
                st.executeUpdate("DELETE FROM document_chunks WHERE id = (SELECT id FROM document_chunks ORDER BY random() LIMIT 1)");
            }
        }
        String session = "s-" + random.nextInt(users);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chat_messages (session_id, role, content, tokens) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, session);
            ps.setString(2, step % 2 == 0 ? "user" : "assistant");
            ps.setString(3, SENTENCES[random.nextInt(SENTENCES.length)]);
            ps.setInt(4, 5 + random.nextInt(200));
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO usage_logs (user_id, day, requests, cost) VALUES (?, date('now'), 1, ?)"
                + " ON CONFLICT (user_id, day) DO UPDATE SET requests = requests + 1, cost = cost + excluded.cost")) {
            ps.setInt(1, 1 + random.nextInt(users));
            ps.setDouble(2, random.nextInt(1000) / 10000.0);
            ps.executeUpdate();
        }
    }

    private static void insertChunk(Connection c, Random random, int i, int users) throws SQLException {
        StringBuilder text = new StringBuilder();
        int sentences = i % 50 == 0 ? 0 : 1 + random.nextInt(i % 10 == 0 ? 40 : 4);
        for (int s = 0; s < sentences; s++) {
            text.append(s == 0 ? "" : " ").append(SENTENCES[random.nextInt(SENTENCES.length)]);
        }
        String source = SOURCES[random.nextInt(SOURCES.length)];
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO document_chunks (chunk_id, user_id, text, metadata, source_type,"
                + " source_id, source_url, chunk_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, "chunk-" + i);
            ps.setInt(2, 1 + random.nextInt(users));
            ps.setString(3, text.toString());
            ps.setString(4, "{\"lang\":\"" + (i % 3 == 0 ? "en" : "mixed") + "\",\"page\":" + (i % 17) + "}");
            ps.setString(5, source);
            ps.setString(6, source + "-" + (i / 8));
            ps.setString(7, i % 4 == 0 ? null : "https://docs.example.com/" + source + "/" + (i / 8));
            ps.setInt(8, i % 8);
            ps.executeUpdate();
        }
    }

    static Connection open(Path path) throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + path.toAbsolutePath());
        try (Statement st = c.createStatement()) {
            st.execute("PRAGMA busy_timeout = 30000");
        }
        return c;
    }
}
