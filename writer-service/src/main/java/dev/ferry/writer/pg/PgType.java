package dev.ferry.writer.pg;

import java.sql.Types;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * PostgreSQL column types ferry writes: the name used in DDL, other names PostgreSQL knows it by (accepted in type
 * overrides), and the JDBC type used to bind a NULL of that type.
 */
public enum PgType {
    BIGINT("bigint", Types.BIGINT, "int8"),
    DOUBLE("double precision", Types.DOUBLE, "float8"),
    NUMERIC("numeric", Types.NUMERIC, "decimal"),
    TEXT("text", Types.VARCHAR),
    BYTEA("bytea", Types.BINARY),
    BOOLEAN("boolean", Types.BOOLEAN, "bool"),
    DATE("date", Types.DATE),
    TIMESTAMPTZ("timestamptz", Types.TIMESTAMP_WITH_TIMEZONE, "timestamp with time zone"),
    TIME("time", Types.TIME, "time without time zone"),
    JSONB("jsonb", Types.OTHER),
    UUID("uuid", Types.OTHER),
    /**
     * pgvector's {@code vector(n)}: only for the columns the embed service adds (the DDL names the dimension), never a
     * type a SQLite column maps to or is overridden to.
     */
    VECTOR("vector", Types.OTHER);

    private final String sql;
    private final int jdbcType;
    private final List<String> aliases;

    PgType(String sql, int jdbcType, String... aliases) {
        this.sql = sql;
        this.jdbcType = jdbcType;
        this.aliases = List.of(aliases);
    }

    public String sql() {
        return sql;
    }

    int jdbcType() {
        return jdbcType;
    }

    /** The type a name stands for: its DDL name or an alias, in any case, with any run of spaces between words. */
    public static Optional<PgType> byName(String name) {
        String normalized = name.trim().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
        for (PgType type : values()) {
            if (type == VECTOR) {
                continue;
            }
            if (type.sql.equals(normalized) || type.aliases.contains(normalized)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }

    /** The DDL name of each type, for messages. */
    public static List<String> names() {
        return Arrays.stream(values()).filter(t -> t != VECTOR).map(PgType::sql).toList();
    }
}
