package dev.ferry.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.schemas.SqliteTokens.Kind;
import dev.ferry.schemas.SqliteTokens.Token;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqliteTokensTest {

    @Test
    void quotesCommentsAndOperatorsAreTokensAsSqliteReadsThem() {
        List<Token> tokens = SqliteTokens.tokenize("\"a \"\"b\"\"\" [c d] `e` 'it''s, (x)' -- comment, (\n x'00ff' 1.5e3 /* , */ <= || ==");
        assertEquals(List.of(Kind.QUOTED_NAME, Kind.QUOTED_NAME, Kind.QUOTED_NAME, Kind.STRING, Kind.BLOB, Kind.NUMBER,
                Kind.OPERATOR, Kind.OPERATOR, Kind.OPERATOR), tokens.stream().map(Token::kind).toList());
        assertEquals(List.of("a \"b\"", "c d", "e"), tokens.subList(0, 3).stream().map(Token::name).toList());
        assertEquals("it's, (x)", tokens.get(3).stringValue());
        assertEquals(List.of("<=", "||", "=="), tokens.subList(6, 9).stream().map(Token::text).toList());
    }

    @Test
    void splittingIgnoresCommasInParenthesesStringsAndComments() {
        String sql = "a TEXT DEFAULT 'x, y', b NUMERIC(10, 2) /* , */, CHECK (a IN ('p', 'q'))";
        List<Token> tokens = SqliteTokens.tokenize(sql);
        List<List<Token>> parts = SqliteTokens.splitTopLevel(tokens, 0, tokens.size());
        assertEquals(3, parts.size());
        assertEquals("b NUMERIC(10, 2)", SqliteTokens.text(sql, parts.get(1), 0, parts.get(1).size()));
    }

    @Test
    void anUnclosedQuoteIsRefusedWithItsPlace() {
        assertThrows(IllegalArgumentException.class, () -> SqliteTokens.tokenize("CHECK (a = 'open"));
    }
}
