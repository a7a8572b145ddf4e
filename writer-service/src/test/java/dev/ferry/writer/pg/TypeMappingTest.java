package dev.ferry.writer.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The declared-type rules, as SQLite's affinity rules read them (section 3.1 of "Datatypes In SQLite"). */
class TypeMappingTest {

    private static void assertMaps(Map<String, PgType> expected) {
        Map<String, PgType> actual = new LinkedHashMap<>();
        expected.keySet().forEach(declared -> actual.put(declared, TypeMapping.map(declared)));
        assertEquals(expected, actual);
    }

    @Test
    void integerAffinityBecomesBigint() {
        Map<String, PgType> expected = new LinkedHashMap<>();
        expected.put("INTEGER", PgType.BIGINT);
        expected.put("INT", PgType.BIGINT);
        expected.put("BIGINT", PgType.BIGINT);
        expected.put("smallint unsigned", PgType.BIGINT);
        expected.put("TINYINT", PgType.BIGINT);
        expected.put("UNSIGNED BIG INT", PgType.BIGINT);
        expected.put("INT8", PgType.BIGINT);
        expected.put("integer", PgType.BIGINT);
        expected.put("BOOLEAN", PgType.BIGINT);
        expected.put("bool", PgType.BIGINT);
        assertMaps(expected);
    }

    @Test
    void textAffinityAndDatesBecomeText() {
        Map<String, PgType> expected = new LinkedHashMap<>();
        expected.put("VARCHAR(20)", PgType.TEXT);
        expected.put("CHARACTER(20)", PgType.TEXT);
        expected.put("VARYING CHARACTER(255)", PgType.TEXT);
        expected.put("NVARCHAR(100)", PgType.TEXT);
        expected.put("NCHAR(55)", PgType.TEXT);
        expected.put("TEXT", PgType.TEXT);
        expected.put("CLOB", PgType.TEXT);
        expected.put("DATETIME", PgType.TEXT);
        expected.put("DATE", PgType.TEXT);
        expected.put("TIMESTAMP", PgType.TEXT);
        expected.put("time", PgType.TEXT);
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
    void declaredNumbersBecomeNumeric() {
        Map<String, PgType> expected = new LinkedHashMap<>();
        expected.put("NUMERIC(10,2)", PgType.NUMERIC);
        expected.put("NUMERIC", PgType.NUMERIC);
        expected.put("DECIMAL", PgType.NUMERIC);
        expected.put("decimal(10,5)", PgType.NUMERIC);
        expected.put("NUMBER", PgType.NUMERIC);
        assertMaps(expected);
    }

    @Test
    void otherNamesAndNoTypeBecomeText() {
        Map<String, PgType> expected = new LinkedHashMap<>();
        expected.put("JSON", PgType.TEXT);
        expected.put("JSONB", PgType.TEXT);
        expected.put("UUID", PgType.TEXT);
        expected.put("STRING", PgType.TEXT);
        expected.put("", PgType.TEXT);
        expected.put("   ", PgType.TEXT);
        assertMaps(expected);
        assertEquals(PgType.TEXT, TypeMapping.map(null), "a column without any declared type");
    }

    @Test
    void theFirstMatchingRuleWinsInSqliteAffinityOrder() {
        Map<String, PgType> expected = new LinkedHashMap<>();
        // "INT" is checked before everything else, as in SQLite.
        expected.put("CHARINT", PgType.BIGINT);
        expected.put("FLOATING POINT", PgType.BIGINT);
        expected.put("INTERVAL", PgType.BIGINT);
        // Text before BLOB, BLOB before REAL.
        expected.put("TEXTBLOB", PgType.TEXT);
        expected.put("BLOBREAL", PgType.BYTEA);
        // Dates before the NUMERIC names.
        expected.put("DATE NUMERIC", PgType.TEXT);
        assertMaps(expected);
    }

    @Test
    void theSqlOfEachTargetType() {
        assertEquals("bigint", PgType.BIGINT.sql());
        assertEquals("double precision", PgType.DOUBLE.sql());
        assertEquals("numeric", PgType.NUMERIC.sql());
        assertEquals("text", PgType.TEXT.sql());
        assertEquals("bytea", PgType.BYTEA.sql());
    }
}
