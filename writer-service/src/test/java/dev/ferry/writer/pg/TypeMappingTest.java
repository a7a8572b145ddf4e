package dev.ferry.writer.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The declared-type rules, as SQLite's affinity rules read them (section 3.1 of "Datatypes In SQLite"), and per-column overrides. */
class TypeMappingTest {

    private static void assertMaps(Map<String, PgType> expected) {
        Map<String, PgType> actual = new LinkedHashMap<>();
        expected.keySet().forEach(declared -> actual.put(declared, TypeMapping.byDeclaredType(declared)));
        assertEquals(expected, actual);
    }

    @Test
    void integerAffinityBecomesBigintWhateverWidthIsDeclared() {
        Map<String, PgType> expected = new LinkedHashMap<>();
        expected.put("INTEGER", PgType.BIGINT);
        expected.put("INT", PgType.BIGINT);
        expected.put("BIGINT", PgType.BIGINT);
        expected.put("SMALLINT", PgType.BIGINT);
        expected.put("TINYINT", PgType.BIGINT);
        expected.put("MEDIUMINT", PgType.BIGINT);
        expected.put("smallint unsigned", PgType.BIGINT);
        expected.put("short integer", PgType.BIGINT);
        expected.put("UNSIGNED BIG INT", PgType.BIGINT);
        expected.put("INT8", PgType.BIGINT);
        expected.put("INT2", PgType.BIGINT);
        expected.put("integer", PgType.BIGINT);
        assertMaps(expected);
    }

    @Test
    void textAffinityBecomesTextWithoutLength() {
        Map<String, PgType> expected = new LinkedHashMap<>();
        expected.put("VARCHAR(20)", PgType.TEXT);
        expected.put("CHARACTER(20)", PgType.TEXT);
        expected.put("VARYING CHARACTER(255)", PgType.TEXT);
        expected.put("NVARCHAR(100)", PgType.TEXT);
        expected.put("NCHAR(55)", PgType.TEXT);
        expected.put("NATIVE CHARACTER(70)", PgType.TEXT);
        expected.put("TEXT", PgType.TEXT);
        expected.put("CLOB", PgType.TEXT);
        assertMaps(expected);
    }

    @Test
    void blobAffinityBecomesBytea() {
        assertMaps(Map.of("BLOB", PgType.BYTEA, "blob", PgType.BYTEA));
    }

    @Test
    void realAffinityBecomesDoublePrecision() {
        Map<String, PgType> expected = new LinkedHashMap<>();
        expected.put("REAL", PgType.DOUBLE);
        expected.put("DOUBLE", PgType.DOUBLE);
        expected.put("DOUBLE PRECISION", PgType.DOUBLE);
        expected.put("FLOAT", PgType.DOUBLE);
        expected.put("float(53)", PgType.DOUBLE);
        assertMaps(expected);
    }

    @Test
    void declaredNumbersBecomePlainNumeric() {
        Map<String, PgType> expected = new LinkedHashMap<>();
        expected.put("NUMERIC(10,2)", PgType.NUMERIC);
        expected.put("NUMERIC", PgType.NUMERIC);
        expected.put("DECIMAL", PgType.NUMERIC);
        expected.put("decimal(10,5)", PgType.NUMERIC);
        expected.put("NUMBER", PgType.NUMERIC);
        assertMaps(expected);
        assertEquals("numeric", PgType.NUMERIC.sql(), "no precision or scale: numeric(p,s) would round");
    }

    @Test
    void booleansDatesTimesJsonAndUuidsGetTheirOwnTypes() {
        Map<String, PgType> expected = new LinkedHashMap<>();
        expected.put("BOOLEAN", PgType.BOOLEAN);
        expected.put("bool", PgType.BOOLEAN);
        expected.put("DATETIME", PgType.TIMESTAMPTZ);
        expected.put("TIMESTAMP", PgType.TIMESTAMPTZ);
        expected.put("timestamptz", PgType.TIMESTAMPTZ);
        expected.put("TIMESTAMP WITH TIME ZONE", PgType.TIMESTAMPTZ);
        expected.put("DATE", PgType.DATE);
        expected.put("TIME", PgType.TIME);
        expected.put("JSON", PgType.JSONB);
        expected.put("jsonb", PgType.JSONB);
        expected.put("UUID", PgType.UUID);
        assertMaps(expected);
    }

    @Test
    void otherNamesAndNoTypeBecomeText() {
        Map<String, PgType> expected = new LinkedHashMap<>();
        expected.put("STRING", PgType.TEXT);
        expected.put("MONEY", PgType.TEXT);
        expected.put("", PgType.TEXT);
        expected.put("   ", PgType.TEXT);
        assertMaps(expected);
        assertEquals(PgType.TEXT, TypeMapping.byDeclaredType(null), "a column without any declared type");
    }

    @Test
    void theFirstMatchingRuleWinsInSqliteAffinityOrder() {
        Map<String, PgType> expected = new LinkedHashMap<>();
        // "INT" is checked before everything else, as in SQLite.
        expected.put("CHARINT", PgType.BIGINT);
        expected.put("FLOATING POINT", PgType.BIGINT);
        expected.put("INTERVAL", PgType.BIGINT);
        expected.put("BOOLEAN INTEGER", PgType.BIGINT);
        // Text before BLOB, BLOB before REAL.
        expected.put("TEXTBLOB", PgType.TEXT);
        expected.put("BLOBREAL", PgType.BYTEA);
        // Affinity first: these hold TEXT or REAL affinity in SQLite, whatever else their name says.
        expected.put("JSON TEXT", PgType.TEXT);
        expected.put("DATE CHAR(10)", PgType.TEXT);
        expected.put("REAL DATE", PgType.DOUBLE);
        // Among the NUMERIC-affinity names: DATETIME and TIMESTAMP before DATE and TIME, dates before NUMERIC.
        expected.put("DATETIME", PgType.TIMESTAMPTZ);
        expected.put("DATE NUMERIC", PgType.DATE);
        assertMaps(expected);
    }

    @Test
    void declaredTypesMatchTheRulesIgnoringAsciiCaseOnly() {
        // SQLite's affinity rules compare ASCII letters without case and nothing else: "ınt" (dotless i) and "ﬂoat"
        // (the fl ligature) contain neither INT nor FLOA to SQLite, though Java's toUpperCase makes them INT and FLOAT.
        assertEquals(PgType.BIGINT, TypeMapping.byDeclaredType("iNt"));
        assertEquals(PgType.DOUBLE, TypeMapping.byDeclaredType("fLoAt"));
        assertEquals(PgType.TEXT, TypeMapping.byDeclaredType("\u0131nt"));
        assertEquals(PgType.TEXT, TypeMapping.byDeclaredType("\uFB02oat"));
        assertEquals(PgType.BIGINT, TypeMapping.byDeclaredType("\u0131nt integer"), "the ASCII INT of the second word still counts");
    }

    @Test
    void theSqlOfEachTargetType() {
        Map<PgType, String> expected = new LinkedHashMap<>();
        expected.put(PgType.BIGINT, "bigint");
        expected.put(PgType.DOUBLE, "double precision");
        expected.put(PgType.NUMERIC, "numeric");
        expected.put(PgType.TEXT, "text");
        expected.put(PgType.BYTEA, "bytea");
        expected.put(PgType.BOOLEAN, "boolean");
        expected.put(PgType.DATE, "date");
        expected.put(PgType.TIMESTAMPTZ, "timestamptz");
        expected.put(PgType.TIME, "time");
        expected.put(PgType.JSONB, "jsonb");
        expected.put(PgType.UUID, "uuid");
        // vector(n) columns come only from the embed service; the DDL adds the dimension.
        expected.put(PgType.VECTOR, "vector");
        Map<PgType, String> actual = new LinkedHashMap<>();
        for (PgType type : PgType.values()) {
            actual.put(type, type.sql());
        }
        assertEquals(expected, actual);
    }

    // --- the documentation is the code

    /** The rules table of docs/type-mapping.md, rendered from {@link TypeMapping#RULES}. */
    static String rulesTable() {
        StringBuilder md = new StringBuilder("| # | declared type contains | PostgreSQL type | why | examples |\n| --- | --- | --- | --- | --- |\n");
        int n = 1;
        for (TypeMapping.Rule rule : TypeMapping.RULES) {
            md.append("| ").append(n++).append(" | `").append(rule.contains()).append("` | `").append(rule.type().sql()).append("` | ")
                    .append(rule.why()).append(" | ").append(rule.examples()).append(" |\n");
        }
        return md.toString();
    }

    @Test
    void theDocumentedRulesAreTheRulesInTheCode() throws IOException {
        String doc = Files.readString(Path.of("..", "docs", "type-mapping.md"));
        assertTrue(doc.contains(rulesTable()), "docs/type-mapping.md must hold this rules table exactly:\n" + rulesTable());
    }

    @Test
    void eachRuleCatchesItsOwnExamples() {
        for (TypeMapping.Rule rule : TypeMapping.RULES) {
            for (String example : rule.examples().split(", ")) {
                String declared = example.replace("`", "");
                assertEquals(rule.type(), TypeMapping.byDeclaredType(declared), "rule " + rule.contains() + ", example " + declared);
            }
        }
    }

    // --- per-column overrides

    @Test
    void anOverrideWinsOverTheRulesForItsColumnOnly() {
        TypeMapping types = TypeMapping.withOverrides(Map.of("events.payload", "jsonb", "events.created", "bigint"));
        assertEquals(PgType.JSONB, types.typeOf("events", "payload", "TEXT"));
        assertEquals(PgType.BIGINT, types.typeOf("events", "created", "DATETIME"));
        assertEquals(PgType.TEXT, types.typeOf("events", "other", "TEXT"));
        assertEquals(PgType.TEXT, types.typeOf("other", "payload", "TEXT"));
        assertEquals(PgType.TIMESTAMPTZ, TypeMapping.DEFAULT.typeOf("events", "created", "DATETIME"));
    }

    @Test
    void overrideNamesMatchAsSqliteMatchesThemIgnoringAsciiCase() {
        TypeMapping types = TypeMapping.withOverrides(Map.of("Events.PayLoad", "JSONB"));
        assertEquals(PgType.JSONB, types.typeOf("events", "payload", "TEXT"));
        assertEquals(PgType.JSONB, types.typeOf("EVENTS", "PAYLOAD", "TEXT"));
        // SQLite folds ASCII letters only: É and é are different names.
        TypeMapping accented = TypeMapping.withOverrides(Map.of("t.É", "uuid"));
        assertEquals(PgType.TEXT, accented.typeOf("t", "é", "TEXT"));
        assertEquals(PgType.UUID, accented.typeOf("T", "É", "TEXT"));
    }

    @Test
    void namesWithDotsOrQuotesAreWrittenInDoubleQuotes() {
        TypeMapping types = TypeMapping.withOverrides(Map.of(
                "\"users.v2\".\"e.mail\"", "text",
                "\"users.v2\".flag", "boolean",
                "plain.\"say \"\"hi\"\"\"", "jsonb",
                "Order Details.unit price", "numeric"));
        assertEquals(PgType.TEXT, types.typeOf("users.v2", "e.mail", "INTEGER"));
        assertEquals(PgType.BOOLEAN, types.typeOf("users.v2", "flag", "INTEGER"));
        assertEquals(PgType.JSONB, types.typeOf("plain", "say \"hi\"", "TEXT"));
        assertEquals(PgType.NUMERIC, types.typeOf("Order Details", "unit price", "REAL"));
    }

    @Test
    void typeNamesMayBeAnyNamePostgresqlGivesTheType() {
        Map<String, PgType> expected = new LinkedHashMap<>();
        expected.put("int8", PgType.BIGINT);
        expected.put("Double  Precision", PgType.DOUBLE);
        expected.put("float8", PgType.DOUBLE);
        expected.put("decimal", PgType.NUMERIC);
        expected.put("bool", PgType.BOOLEAN);
        expected.put("timestamp with time zone", PgType.TIMESTAMPTZ);
        expected.put(" uuid ", PgType.UUID);
        for (var e : expected.entrySet()) {
            assertEquals(e.getValue(), TypeMapping.withOverrides(Map.of("t.c", e.getKey())).typeOf("t", "c", ""), e.getKey());
        }
    }

    @Test
    void aBadOverrideIsRefusedWithAMessageNamingIt() {
        record Case(String key, String type, String says) {
        }
        for (Case c : List.of(
                new Case("t.c", "varchar(20)", "'varchar(20)' is not a type ferry writes"),
                new Case("t.c", "timestamp", "'timestamp' is not a type ferry writes"),
                new Case("t.c", "", "'' is not a type ferry writes"),
                new Case("nocolumn", "text", "has no column"),
                new Case("a.b.c", "text", "has more than one dot"),
                new Case(".c", "text", "has an empty name"),
                new Case("t.", "text", "has an empty name"),
                new Case("\"t.c", "text", "a quoted name is not closed"),
                new Case("\"t\"x.c", "text", "text after a quoted name"),
                new Case("t\"x.c", "text", "a double quote inside an unquoted name"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TypeMapping.withOverrides(Map.of(c.key(), c.type())), c.toString());
            assertTrue(e.getMessage().contains("'" + c.key() + "'"), "names the key: " + e.getMessage());
            assertTrue(e.getMessage().contains(c.says()), c.says() + ": " + e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TypeMapping.withOverrides(Map.of("t.c", "varchar")));
        assertTrue(e.getMessage().contains("bigint, double precision, numeric, text, bytea, boolean, date, timestamptz, time, jsonb, uuid"),
                "lists the types to choose from: " + e.getMessage());
    }

    @Test
    void twoOverridesOfOneColumnAreRefused() {
        Map<String, String> twice = new LinkedHashMap<>();
        twice.put("T.c", "text");
        twice.put("t.C", "jsonb");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TypeMapping.withOverrides(twice));
        assertTrue(e.getMessage().contains("name the same column"), e.getMessage());
    }

    @Test
    void overridesOfColumnsATableLacksAreReported() {
        TypeMapping types = TypeMapping.withOverrides(Map.of("t.a", "text", "t.gone", "text", "u.x", "text"));
        assertEquals(List.of("t.gone"), types.unmatched("T", List.of("A", "b")));
        assertEquals(List.of(), types.unmatched("v", List.of("a")));
    }
}
