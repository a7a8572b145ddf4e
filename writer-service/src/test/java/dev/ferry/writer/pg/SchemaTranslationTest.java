package dev.ferry.writer.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Translation of defaults and expressions: what is carried, what is reported. */
class SchemaTranslationTest {

    private static final Map<String, String> COLUMNS = Map.of("status", "\"status\"", "qty", "\"qty\"");

    private static SqliteExpressions.Translation expression(String sqlite) {
        return SqliteExpressions.translate(sqlite, name -> COLUMNS.get(name.toLowerCase()));
    }

    @Test
    void simpleExpressionsAreTranslatedTokenByToken() {
        assertEquals("\"status\" = 'published' AND \"qty\" IS NOT NULL", expression("Status == 'published' and qty is not null").sql());
        assertEquals("\"status\" IN ('a', 'b')", expression("status IN ('a','b')").sql());
        assertEquals("length(\"status\") > 0", expression("length(status) > 0").sql());
    }

    @Test
    void quotedNamesAndStringsAreCarriedExactlyWhateverTheyHold() {
        SqliteExpressions.Translation t = SqliteExpressions.translate("[fn( arg )] IS NOT NULL AND \"fn( arg )\" <> '( x )' AND (qty > 0)",
                name -> name.equals("fn( arg )") ? PgIdentifiers.quote(name) : COLUMNS.get(name));
        assertEquals("\"fn( arg )\" IS NOT NULL AND \"fn( arg )\" <> '( x )' AND (\"qty\" > 0)", t.sql());
    }

    @Test
    void expressionsThatMeanSomethingElseInPostgresqlAreRefusedWithTheReason() {
        assertTrue(expression("status LIKE 'a%'").problem().contains("LIKE"));
        assertTrue(expression("status IS 'x'").problem().contains("IS"));
        assertTrue(expression("strftime('%s', qty) > 0").problem().contains("strftime"));
        assertTrue(expression("rowid > 5").problem().contains("not a column"));
    }

    @Test
    void literalDefaultsAreConvertedAsValuesOfTheColumn() {
        assertEquals("42", ColumnDefaults.translate("'42'", PgType.BIGINT, "c").inline());
        assertEquals("-1", ColumnDefaults.translate("-1", PgType.BIGINT, "c").inline());
        assertEquals("'it''s'", ColumnDefaults.translate("'it''s'", PgType.TEXT, "c").inline());
        assertEquals("true", ColumnDefaults.translate("1", PgType.BOOLEAN, "c").inline());
        assertEquals("false", ColumnDefaults.translate("FALSE", PgType.BOOLEAN, "c").inline());
        assertEquals("'\\x00ff'::bytea", ColumnDefaults.translate("X'00FF'", PgType.BYTEA, "c").inline());
        assertEquals("'2024-01-31 12:00:00+00'::timestamptz", ColumnDefaults.translate("'2024-01-31 12:00:00'", PgType.TIMESTAMPTZ, "c").inline());
        assertEquals("'4714-11-24 12:00:00+00 BC'::timestamptz", ColumnDefaults.translate("0", PgType.TIMESTAMPTZ, "c").inline(),
                "Julian day 0, in PostgreSQL's own form");
        assertEquals(ColumnDefaults.Default.NONE, ColumnDefaults.translate("NULL", PgType.TEXT, "c"));
    }

    @Test
    void timeKeywordsKeepSqlitesMeaning() {
        assertEquals("CURRENT_TIMESTAMP", ColumnDefaults.translate("CURRENT_TIMESTAMP", PgType.TIMESTAMPTZ, "c").inline());
        assertEquals("CURRENT_TIMESTAMP", ColumnDefaults.translate("(datetime('now'))", PgType.TIMESTAMPTZ, "c").inline());
        assertEquals("to_char((CURRENT_TIMESTAMP AT TIME ZONE 'UTC'), 'YYYY-MM-DD HH24:MI:SS')",
                ColumnDefaults.translate("CURRENT_TIMESTAMP", PgType.TEXT, "c").inline());
        assertEquals("(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')::date", ColumnDefaults.translate("CURRENT_DATE", PgType.DATE, "c").inline());
        assertTrue(ColumnDefaults.translate("CURRENT_TIMESTAMP", PgType.BIGINT, "c").note().contains("not carried"));
    }

    @Test
    void defaultsPgloaderCopiesLiterallyAreReportedNotCopied() {
        ColumnDefaults.Default strftime = ColumnDefaults.translate("(strftime('%s','now'))", PgType.BIGINT, "c");
        assertNull(strftime.inline());
        assertTrue(strftime.note().contains("not carried"), strftime.note());
        ColumnDefaults.Default local = ColumnDefaults.translate("(datetime('now','localtime'))", PgType.TIMESTAMPTZ, "c");
        assertNull(local.inline());
        ColumnDefaults.Default nullText = ColumnDefaults.translate("'null'", PgType.TIMESTAMPTZ, "c");
        assertNull(nullText.inline());
        assertTrue(nullText.note().contains("not NULL"), nullText.note());
        ColumnDefaults.Default nullInText = ColumnDefaults.translate("'NULL'", PgType.TEXT, "c");
        assertEquals("'NULL'", nullInText.inline());
        assertTrue(nullInText.note().contains("carried as that text"));
        ColumnDefaults.Default bad = ColumnDefaults.translate("'soon'", PgType.DATE, "c");
        assertNull(bad.inline());
        assertTrue(bad.note().startsWith("DEFAULT 'soon' not carried"), bad.note());
    }

    @Test
    void aConstantExpressionIsSetApartFromCreateTable() {
        ColumnDefaults.Default d = ColumnDefaults.translate("(10 * 2)", PgType.BIGINT, "c");
        assertNull(d.inline());
        assertEquals("10 * 2", d.expression());
    }
}
