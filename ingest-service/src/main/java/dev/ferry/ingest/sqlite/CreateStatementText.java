package dev.ferry.ingest.sqlite;

import dev.ferry.schemas.SqliteTokens;
import dev.ferry.schemas.SqliteTokens.Token;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What SQLite keeps only in the text of {@code CREATE TABLE} and {@code CREATE INDEX} (its PRAGMAs do not report
 * it): column collations, CHECK expressions, the expressions of an index and the WHERE of a partial index.
 */
final class CreateStatementText {

    /** Of a CREATE TABLE: collation per column name (ASCII lower-cased), and every CHECK expression as written. */
    record TableText(Map<String, String> collations, List<String> checks) {

        String collationOf(String column) {
            return collations.get(SqliteTokens.foldName(column));
        }
    }

    /** Of a CREATE INDEX: each indexed item as written (without ASC/DESC and COLLATE), and the WHERE expression or null. */
    record IndexText(List<String> items, String where) {
    }

    private CreateStatementText() {
    }

    static TableText table(String sql) {
        Map<String, String> collations = new LinkedHashMap<>();
        List<String> checks = new ArrayList<>();
        if (sql == null) {
            return new TableText(collations, checks);
        }
        List<Token> tokens = SqliteTokens.tokenize(sql);
        int open = indexOf(tokens, 0, "(");
        int close = open < 0 ? -1 : SqliteTokens.closing(tokens, open);
        if (close < 0) {
            return new TableText(collations, checks);
        }
        for (List<Token> part : SqliteTokens.splitTopLevel(tokens, open + 1, close)) {
            if (part.isEmpty()) {
                continue;
            }
            Token first = part.get(0);
            boolean constraint = first.is("CONSTRAINT") || first.is("PRIMARY") || first.is("UNIQUE") || first.is("CHECK")
                    || first.is("FOREIGN");
            int i = constraint ? 0 : 1;
            while (i < part.size()) {
                Token t = part.get(i);
                if (t.isOperator("(")) {
                    i = SqliteTokens.closing(part, i) + 1;
                    if (i == 0) {
                        break;
                    }
                } else if (t.is("CHECK") && i + 1 < part.size() && part.get(i + 1).isOperator("(")) {
                    int end = SqliteTokens.closing(part, i + 1);
                    if (end < 0) {
                        break;
                    }
                    checks.add(SqliteTokens.text(sql, part, i + 2, end));
                    i = end + 1;
                } else if (!constraint && t.is("COLLATE") && i + 1 < part.size()) {
                    collations.put(SqliteTokens.foldName(first.name()), part.get(i + 1).name());
                    i += 2;
                } else {
                    i++;
                }
            }
        }
        return new TableText(collations, checks);
    }

    static IndexText index(String sql) {
        if (sql == null) {
            return new IndexText(List.of(), null);
        }
        List<Token> tokens = SqliteTokens.tokenize(sql);
        int on = -1;
        for (int i = 0; i < tokens.size(); i++) {
            if (tokens.get(i).is("ON")) {
                on = i;
                break;
            }
        }
        int open = on < 0 ? -1 : indexOf(tokens, on, "(");
        int close = open < 0 ? -1 : SqliteTokens.closing(tokens, open);
        if (close < 0) {
            return new IndexText(List.of(), null);
        }
        List<String> items = new ArrayList<>();
        for (List<Token> part : SqliteTokens.splitTopLevel(tokens, open + 1, close)) {
            int end = part.size();
            if (end > 0 && (part.get(end - 1).is("ASC") || part.get(end - 1).is("DESC"))) {
                end--;
            }
            if (end > 1 && part.get(end - 2).is("COLLATE")) {
                end -= 2;
            }
            items.add(SqliteTokens.text(sql, part, 0, end));
        }
        String where = close + 1 < tokens.size() && tokens.get(close + 1).is("WHERE")
                ? SqliteTokens.text(sql, tokens, close + 2, tokens.size() - (tokens.get(tokens.size() - 1).isOperator(";") ? 1 : 0))
                : null;
        return new IndexText(items, where);
    }

    private static int indexOf(List<Token> tokens, int from, String operator) {
        for (int i = from; i < tokens.size(); i++) {
            if (tokens.get(i).isOperator(operator)) {
                return i;
            }
        }
        return -1;
    }
}
