package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.schemas.avro.Op;
import dev.ferry.testkit.DeadLetters;
import dev.ferry.testkit.KafkaAndPostgres;
import dev.ferry.testkit.SqliteTestDatabase;
import dev.ferry.testkit.TableComparison;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every SQLite database of {@code ../shared/fixtures} (real files written by other programs, see its README) replicated
 * end to end: snapshot, then a few live changes made by one generic rule, then a row-by-row comparison with
 * {@link TableComparison}. No difference may go unexplained: a row PostgreSQL does not have is a dead letter with the
 * reason docs/type-mapping.md gives, and the few differences that are not dead letters are listed below with the reason.
 */
class RealDatabasesTest {

    private static final byte[] SQLITE_HEADER = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

    /** A dead letter this fixture must produce: table, key as TableComparison prints it, part of the reason. */
    record ExpectedLetter(String table, String key, String reason) {
    }

    /** A difference TableComparison reports that is not a dead letter: which ones ({@code matches}), and why they are right. */
    record ExpectedDifference(String table, String why, Predicate<String> matches) {
    }

    record Expected(List<ExpectedLetter> letters, List<ExpectedDifference> differences) {
    }

    private static final Expected NOTHING = new Expected(List.of(), List.of());

    /**
     * What docs/type-mapping.md ("Typical refusals", "Compared with pgloader") says each fixture holds that PostgreSQL
     * refuses or that the comparison cannot show as equal. Fixtures not listed arrive whole and identical.
     */
    static final Map<String, Expected> EXPECTED = Map.of(
            "pgloader/type-mismatch.db", new Expected(List.of(
                    new ExpectedLetter("products", "[2]", "TEXT value is not an integer (column \"qty\", value 'lots-of-it')")), List.of()),
            // SQLite holds the TEXT value as bytes that are not UTF-8 (0x96); ingest sends such text as its raw bytes.
            "pgloader/bad-utf8.db", new Expected(List.of(
                    new ExpectedLetter("files", "[2]", "BLOB value is not valid UTF-8 text (column \"filename\", value BLOB of 13 bytes)")), List.of()),
            "pgloader/sqlite.db", new Expected(List.of(
                    // intege has no primary key: its rows are keyed by rowid. Declared type "intege" contains INT: bigint.
                    new ExpectedLetter("intege", "[2]", "TEXT value is not an integer (column \"id\", value 'toto')"),
                    new ExpectedLetter("intege", "[3]", "REAL value 12.3 is not a 64-bit integer (column \"id\"")), List.of()));
    // No expected differences: TableComparison reduces TEXT in a bytea column to its bytes (storage.sqlite's base64 files)
    // and numbers years before 1 AD as SQLite does (sqlite.db's stamps, Julian days 0 and 2024).

    @RegisterExtension
    static final KafkaAndPostgres infra = new KafkaAndPostgres();

    /**
     * {@code shared/fixtures} beside the repository root (the ancestor of the working directory that holds the parent
     * pom); {@code -Dferry.fixtures=DIR} points elsewhere.
     */
    static Path fixturesDir() {
        String configured = System.getProperty("ferry.fixtures");
        if (configured != null) {
            return Path.of(configured).toAbsolutePath();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("pom.xml")) && Files.isDirectory(dir.resolve("cli"))
                    && Files.isDirectory(dir.resolve("testkit"))) {
                return dir.resolveSibling("shared").resolve("fixtures");
            }
        }
        return Path.of("").toAbsolutePath().resolve("../../shared/fixtures").normalize();
    }

    /** Every SQLite file under the fixtures folder, by its path relative to it. */
    static Stream<String> fixtures() throws IOException {
        Path root = fixturesDir();
        assertTrue(Files.isDirectory(root), "the fixture databases are missing: expected the folder " + root
                + " (the repository's sibling shared/fixtures, see its README; CI has it), or set -Dferry.fixtures=DIR");
        List<String> found;
        try (Stream<Path> files = Files.walk(root)) {
            found = files.filter(Files::isRegularFile).filter(RealDatabasesTest::isSqlite)
                    .map(p -> root.relativize(p).toString().replace('\\', '/')).sorted().toList();
        }
        assertTrue(found.size() >= 13, "expected the 13 fixture databases of the README under " + root + ", found " + found);
        assertTrue(found.containsAll(EXPECTED.keySet()), "expectations for fixtures that are gone: " + EXPECTED.keySet() + " vs " + found);
        return found.stream();
    }

    private static boolean isSqlite(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return Arrays.equals(in.readNBytes(SQLITE_HEADER.length), SQLITE_HEADER);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static String sourceName(String fixture) {
        return "real_" + fixture.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void snapshotAndLiveChangesArriveAndEveryDifferenceIsADocumentedDeadLetter(String fixture, @TempDir Path dir) throws Exception {
        SqliteTestDatabase db = SqliteTestDatabase.copyOf(fixturesDir().resolve(fixture), dir);
        String source = sourceName(fixture);
        Expected expected = EXPECTED.getOrDefault(fixture, NOTHING);
        try (Pipeline pipeline = new Pipeline(new Pipeline.Options(db.path(), infra.pg().jdbcUrl(), dir.resolve("state"), source,
                infra.broker().bootstrapServers(), "ferry", source, 1, false, Map.of()))) {
            pipeline.start().awaitCaughtUp(Duration.ofMinutes(1));
            List<String> tables = TableComparison.userTables(db.path());

            List<Letter> snapshotLetters = deadLetters(source, pipeline.writer().deadLetters());
            StringBuilder report = new StringBuilder(fixture + ":\n");
            for (String table : tables) {
                TableComparison.Result r = TableComparison.compare(db.path(), table, infra.pg().jdbcUrl(), source);
                long lettered = snapshotLetters.stream().filter(l -> l.table().equals(table) && l.op() == Op.r).map(Letter::key).distinct().count();
                report.append(String.format("  %s: %d read, %d written, %d dead-lettered%n", table, db.count(table), r.targetRows(), lettered));
                assertEquals(db.count(table), r.targetRows() + lettered, fixture + " " + table + ": rows read = rows written + rows dead-lettered");
            }

            List<String> changes = changeEveryTableWithAKey(db, tables);
            pipeline.awaitCaughtUp(Duration.ofMinutes(1));
            List<Letter> letters = deadLetters(source, pipeline.writer().deadLetters());
            changes.forEach(c -> report.append("  live: ").append(c).append('\n'));
            letters.forEach(l -> report.append("  dead letter: ").append(l).append('\n'));

            Map<String, List<String>> differences = new TreeMap<>();
            for (String table : tables) {
                differences.put(table, TableComparison.compare(db.path(), table, infra.pg().jdbcUrl(), source).differences());
            }
            differences.forEach((t, d) -> d.forEach(x -> report.append("  difference: ").append(t).append(": ").append(x).append('\n')));
            System.out.println(report);

            assertLetters(fixture, expected.letters(), letters);
            assertEveryDifferenceExplained(fixture, expected.differences(), letters, differences);
        }
    }

    /** The dead letters are the expected ones, no more and no fewer, each with its documented reason. */
    private static void assertLetters(String fixture, List<ExpectedLetter> expected, List<Letter> letters) {
        Set<String> wanted = new TreeSet<>();
        expected.forEach(e -> wanted.add(e.table() + " " + e.key()));
        Set<String> actual = new TreeSet<>();
        letters.forEach(l -> actual.add(l.table() + " " + l.key()));
        assertEquals(wanted, actual, fixture + ": the rows dead-lettered (table key); all letters: " + letters);
        for (ExpectedLetter e : expected) {
            for (Letter l : letters) {
                if (l.table().equals(e.table()) && l.key().equals(e.key())) {
                    assertTrue(l.reason() != null && l.reason().contains(e.reason()),
                            fixture + " " + e.table() + " " + e.key() + ": reason '" + l.reason() + "' must say " + e.reason());
                }
            }
        }
    }

    /**
     * Each difference is a row PostgreSQL refused (missing, or still holding its value before a refused change), or
     * one listed as expected; each dead-lettered row shows as a difference; each expected difference occurs.
     */
    private static void assertEveryDifferenceExplained(String fixture, List<ExpectedDifference> expected, List<Letter> letters,
                                                       Map<String, List<String>> differences) {
        List<String> unexplained = new ArrayList<>();
        Set<String> letteredWithDifference = new LinkedHashSet<>();
        Set<ExpectedDifference> seen = new LinkedHashSet<>();
        for (var e : differences.entrySet()) {
            String table = e.getKey();
            for (String difference : e.getValue()) {
                Letter letter = letters.stream().filter(l -> l.table().equals(table) && (difference.startsWith("missing in PostgreSQL: key " + l.key() + " ")
                        || difference.startsWith("key " + l.key() + " column "))).findFirst().orElse(null);
                if (letter != null) {
                    letteredWithDifference.add(table + " " + letter.key());
                    continue;
                }
                ExpectedDifference known = expected.stream().filter(x -> x.table().equals(table) && x.matches().test(difference))
                        .findFirst().orElse(null);
                if (known != null) {
                    seen.add(known);
                } else {
                    unexplained.add(table + ": " + difference);
                }
            }
        }
        assertEquals(List.of(), unexplained, fixture + ": differences that are neither a dead letter nor documented");
        Set<String> lettered = letters.stream().map(l -> l.table() + " " + l.key()).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(lettered, new TreeSet<>(letteredWithDifference), fixture + ": every dead-lettered row is missing or stale in PostgreSQL");
        assertEquals(new LinkedHashSet<>(expected), seen, fixture + ": the documented differences all occur");
    }

    /**
     * The live changes, one generic rule for every table with a primary key and rows: the first row's first non-key column
     * takes another value of the same storage class from the same column (the last such row's), a copy of the first row is
     * inserted under a new key when the key is one INTEGER column, and the last original row is deleted. All in SQL, so
     * values keep their exact bytes and storage class. Returns what was done, table by table.
     */
    private static List<String> changeEveryTableWithAKey(SqliteTestDatabase db, List<String> tables) throws SQLException {
        List<String> done = new ArrayList<>();
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            for (String table : tables) {
                Shape shape = shape(c, table);
                long rows = db.count(table);
                if (shape.keys().isEmpty() || rows == 0) {
                    done.add(table + ": unchanged (" + (rows == 0 ? "no rows" : "no primary key") + ")");
                    continue;
                }
                String t = quote(table);
                String first = shape.locator() + " IN (SELECT " + shape.order("") + " FROM " + t + " ORDER BY " + shape.order("") + " LIMIT 1)";
                List<String> did = new ArrayList<>();
                String column = shape.columns().stream().filter(col -> !shape.keys().contains(col)).findFirst().orElse(null);
                if (column != null) {
                    String col = quote(column);
                    did.add(attempt(st, "update " + column, "UPDATE " + t + " SET " + col + " = coalesce((SELECT o." + col + " FROM " + t
                            + " AS o WHERE typeof(o." + col + ") = typeof(" + t + "." + col + ") AND o." + col + " IS NOT " + t + "." + col
                            + " ORDER BY " + shape.order("o.") + " DESC LIMIT 1), " + col + ") WHERE " + first));
                }
                String newKey = null;
                if (shape.keys().size() == 1 && shape.integerKey()) {
                    String key = quote(shape.keys().get(0));
                    try (ResultSet rs = st.executeQuery("SELECT coalesce(max(" + key + "), 0) + 1 FROM " + t)) {
                        rs.next();
                        newKey = Long.toString(rs.getLong(1));
                    }
                    String others = shape.columns().stream().filter(col -> !col.equals(shape.keys().get(0))).map(RealDatabasesTest::quote)
                            .collect(Collectors.joining(", "));
                    did.add(attempt(st, "insert copy as " + newKey, "INSERT INTO " + t + " (" + key + (others.isEmpty() ? "" : ", " + others)
                            + ") SELECT " + newKey + (others.isEmpty() ? "" : ", " + others) + " FROM " + t + " WHERE " + first));
                }
                String original = newKey == null ? "" : " WHERE " + quote(shape.keys().get(0)) + " IS NOT " + newKey;
                did.add(attempt(st, "delete last", "DELETE FROM " + t + " WHERE " + shape.locator() + " IN (SELECT " + shape.order("")
                        + " FROM " + t + original + " ORDER BY " + shape.order("") + " DESC LIMIT 1)"));
                done.add(table + ": " + String.join(", ", did));
            }
        }
        return done;
    }

    private static String attempt(Statement st, String what, String sql) {
        try {
            st.executeUpdate(sql);
            // sqlite-jdbc's update count includes the rows ferry's triggers write; SQLite's changes() does not.
            try (ResultSet rs = st.executeQuery("SELECT changes()")) {
                rs.next();
                return what + " (" + rs.getInt(1) + " row(s))";
            }
        } catch (SQLException e) {
            // SQLite's own constraints (UNIQUE, NOT NULL, ...) may refuse the generic change: then the data did not change.
            return what + " refused by SQLite: " + e.getMessage();
        }
    }

    /** A table's columns, its declared key, and how to name one of its rows (the rowid, or the key of a WITHOUT ROWID table). */
    record Shape(List<String> columns, List<String> keys, boolean integerKey, String locator, List<String> locatorColumns) {
        String order(String prefix) {
            return locatorColumns.stream().map(col -> prefix + col).collect(Collectors.joining(", "));
        }
    }

    private static Shape shape(Connection c, String table) throws SQLException {
        List<String> columns = new ArrayList<>();
        TreeMap<Integer, String> keys = new TreeMap<>();
        Map<String, String> types = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                    types.put(rs.getString(1), rs.getString(2));
                    if (rs.getInt(3) > 0) {
                        keys.put(rs.getInt(3), rs.getString(1));
                    }
                }
            }
        }
        boolean withoutRowid;
        try (PreparedStatement ps = c.prepareStatement("SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                withoutRowid = rs.getInt(1) == 1;
            }
        }
        List<String> keyList = List.copyOf(keys.values());
        boolean integerKey = keyList.size() == 1 && types.get(keyList.get(0)).toUpperCase(Locale.ROOT).contains("INT");
        if (withoutRowid) {
            List<String> quoted = keyList.stream().map(RealDatabasesTest::quote).toList();
            return new Shape(columns, keyList, integerKey, "(" + String.join(", ", quoted) + ")", quoted);
        }
        String rowid = Stream.of("rowid", "_rowid_", "oid").filter(a -> columns.stream().noneMatch(a::equalsIgnoreCase)).findFirst().orElseThrow();
        return new Shape(columns, keyList, integerKey, rowid, List.of(rowid));
    }

    /** One dead letter: the SQLite table, the row's key as TableComparison prints it, the event, the column and the reason. */
    record Letter(String table, String key, Op op, String column, String reason) {
    }

    /** Every dead letter of the source so far; waits until the topic holds as many as the writer counted. */
    private static List<Letter> deadLetters(String source, long count) {
        return DeadLetters.read(infra.broker().bootstrapServers(), "ferry", source, count).stream()
                .map(l -> new Letter(l.table(), key(l.key()), l.op(), l.column(), l.reason())).toList();
    }

    /** A key as TableComparison prints it: the list of the key columns' canonical texts. */
    static String key(List<Object> values) {
        return values.stream().map(RealDatabasesTest::canonical).toList().toString();
    }

    private static String canonical(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof byte[] bytes) {
            return "x'" + HexFormat.of().formatHex(bytes) + "'";
        }
        if (value instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) {
                return d.toString();
            }
            return d == 0 ? "0" : BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
        }
        return value.toString();
    }

    private static String quote(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }
}
