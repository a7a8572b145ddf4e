package dev.ferry.writer.pg;

import java.sql.Types;

/** PostgreSQL column types ferry writes, with the JDBC type used to bind a NULL of that type. */
public enum PgType {
    BIGINT("bigint", Types.BIGINT),
    DOUBLE("double precision", Types.DOUBLE),
    NUMERIC("numeric", Types.NUMERIC),
    TEXT("text", Types.VARCHAR),
    BYTEA("bytea", Types.BINARY);

    private final String sql;
    private final int jdbcType;

    PgType(String sql, int jdbcType) {
        this.sql = sql;
        this.jdbcType = jdbcType;
    }

    public String sql() {
        return sql;
    }

    int jdbcType() {
        return jdbcType;
    }
}
