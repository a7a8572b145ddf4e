package dev.ferry.bench;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/** Verifies the copy: aggregate fingerprints of the whole table on both sides, and a row-by-row sample. */
final class Checks {

    private static final String TABLE = SourceGenerator.TABLE;
    private static final String COLUMNS = "id, name, score, qty, note, payload, txn, written_at_ms";

    private Checks() {
    }

    /** Exact integer aggregates (count, sums of the integer columns and of text/blob lengths, a mixed checksum) and a float sum. */
    record Fingerprint(long rows, List<String> exact, double scoreSum) {
        boolean matches(Fingerprint other) {
            double tolerance = 1e-9 * Math.max(1.0, Math.abs(scoreSum));
            return rows == other.rows && exact.equals(other.exact) && Math.abs(scoreSum - other.scoreSum) <= tolerance;
        }

        @Override
        public String toString() {
            return "rows=" + rows + " sum(id,qty,txn,written_at_ms,len(name),count(note),len(payload),mix)=" + exact
                    + " sum(score)=" + scoreSum;
        }
    }

    static Fingerprint fingerprint(Connection c) throws SQLException {
        String sql = "SELECT count(*), sum(id), sum(qty), sum(txn), sum(written_at_ms), sum(length(name)), count(note),"
                + " sum(length(payload)), sum((id * 31 + qty) % 1000003), sum(score) FROM " + TABLE;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            List<String> exact = new ArrayList<>();
            for (int i = 2; i <= 9; i++) {
                Object v = rs.getObject(i);
                exact.add(v == null ? "null" : new BigDecimal(v.toString()).toPlainString());
            }
            return new Fingerprint(rs.getLong(1), exact, rs.getDouble(10));
        }
    }

    /** Up to {@code size} random keys present in SQLite. */
    static List<Long> sampleKeys(Connection sqlite, int size) throws SQLException {
        List<Long> keys = new ArrayList<>();
        try (PreparedStatement ps = sqlite.prepareStatement("SELECT id FROM " + TABLE + " ORDER BY random() LIMIT ?")) {
            ps.setInt(1, size);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(rs.getLong(1));
                }
            }
        }
        return keys;
    }

    /** Row-by-row comparison of the sampled keys, values reduced to canonical text; returns the differences. */
    static List<String> compareSample(Connection sqlite, Connection pg, List<Long> keys) throws SQLException {
        List<String> differences = new ArrayList<>();
        try (PreparedStatement s = sqlite.prepareStatement("SELECT " + COLUMNS + " FROM " + TABLE + " WHERE id = ?");
             PreparedStatement p = pg.prepareStatement("SELECT " + COLUMNS + " FROM public." + TABLE + " WHERE id = ?")) {
            for (long key : keys) {
                List<String> a = row(s, key);
                List<String> b = row(p, key);
                if (!Objects.equals(a, b)) {
                    differences.add("id " + key + ": SQLite " + a + " vs PostgreSQL " + b);
                }
            }
        }
        return differences;
    }

    private static List<String> row(PreparedStatement ps, long key) throws SQLException {
        ps.setLong(1, key);
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return null;
            }
            List<String> row = new ArrayList<>();
            for (int i = 1; i <= 8; i++) {
                row.add(canonical(rs.getObject(i)));
            }
            return row;
        }
    }

    private static String canonical(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof byte[] b) {
            return "x'" + HexFormat.of().formatHex(b) + "'";
        }
        if (v instanceof Double d) {
            return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
        }
        if (v instanceof Float f) {
            return canonical(f.doubleValue());
        }
        if (v instanceof Number n) {
            return Long.toString(n.longValue());
        }
        return v.toString();
    }
}
