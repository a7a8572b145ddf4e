package dev.ferry.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * A fresh database on the local PostgreSQL server (127.0.0.1:5432, user postgres unless
 * {@code FERRY_TEST_PG_URL} points elsewhere), with pgvector, dropped on close.
 */
public final class PostgresTestDatabase implements AutoCloseable {

    private static final String SERVER = System.getenv().getOrDefault("FERRY_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/");
    private static final String USER = System.getenv().getOrDefault("FERRY_TEST_PG_USER", "postgres");

    private final String name;

    private PostgresTestDatabase(String name) {
        this.name = name;
    }

    public static PostgresTestDatabase create() {
        String name = "ferry_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
        try (Connection admin = DriverManager.getConnection(SERVER + "postgres?user=" + USER); Statement st = admin.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database on " + SERVER + " (is PostgreSQL running? run deploy/local/setup.sh): "
                    + e.getMessage(), e);
        }
        PostgresTestDatabase db = new PostgresTestDatabase(name);
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE EXTENSION IF NOT EXISTS vector");
        } catch (SQLException e) {
            db.close();
            throw new IllegalStateException("pgvector is not installed on the test server: run deploy/local/setup.sh (" + e.getMessage() + ")", e);
        }
        return db;
    }

    public String name() {
        return name;
    }

    public String jdbcUrl() {
        return SERVER + name + "?user=" + USER;
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl());
    }

    @Override
    public void close() {
        try (Connection admin = DriverManager.getConnection(SERVER + "postgres?user=" + USER); Statement st = admin.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot drop test database " + name + ": " + e.getMessage(), e);
        }
    }
}
