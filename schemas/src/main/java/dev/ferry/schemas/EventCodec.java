package dev.ferry.schemas;

import dev.ferry.schemas.avro.ChangeEvent;
import dev.ferry.schemas.avro.RowKey;
import dev.ferry.schemas.avro.TableSchema;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro single-object encoding of ferry's events: two marker bytes, the 8-byte schema fingerprint,
 * then the binary datum. The fingerprint tells a reader which of ferry's schemas a payload uses,
 * so change events and schema events can share a topic without headers.
 */
public final class EventCodec {

    static {
        // Avro refuses to instantiate generated classes it was not told to trust; trust exactly ferry's own.
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(),
                ClassSecurityValidator.builder().add(RowKey.class).add(dev.ferry.schemas.avro.KeyColumn.class)
                        .add(ChangeEvent.class).add(dev.ferry.schemas.avro.Source.class).add(dev.ferry.schemas.avro.Op.class)
                        .add(TableSchema.class).add(dev.ferry.schemas.avro.Column.class).add(dev.ferry.schemas.avro.Index.class)
                        .add(dev.ferry.schemas.avro.IndexColumn.class).add(dev.ferry.schemas.avro.ForeignKey.class)
                        .add(dev.ferry.schemas.avro.EmbeddingColumn.class).build()));
    }

    private static final SpecificData DATA = SpecificData.get();
    private static final BinaryMessageEncoder<RowKey> KEY_ENCODER = new BinaryMessageEncoder<>(DATA, RowKey.getClassSchema());
    private static final BinaryMessageDecoder<RowKey> KEY_DECODER = new BinaryMessageDecoder<>(DATA, RowKey.getClassSchema());
    private static final BinaryMessageEncoder<ChangeEvent> CHANGE_ENCODER = new BinaryMessageEncoder<>(DATA, ChangeEvent.getClassSchema());
    private static final BinaryMessageDecoder<ChangeEvent> CHANGE_DECODER = new BinaryMessageDecoder<>(DATA, ChangeEvent.getClassSchema());
    private static final BinaryMessageEncoder<TableSchema> SCHEMA_ENCODER = new BinaryMessageEncoder<>(DATA, TableSchema.getClassSchema());
    private static final BinaryMessageDecoder<TableSchema> SCHEMA_DECODER = new BinaryMessageDecoder<>(DATA, TableSchema.getClassSchema());

    private static final byte[] CHANGE_HEADER = header(ChangeEvent.getClassSchema());
    private static final byte[] SCHEMA_HEADER = header(TableSchema.getClassSchema());
    /**
     * Earlier versions of the table schema event (resources dev/ferry/schemas/history). Changes are additive, so an
     * event written by an older ferry, e.g. stored in _ferry.tables or still in a topic, reads into the current class.
     */
    private static final List<byte[]> OLD_SCHEMA_HEADERS = new java.util.ArrayList<>();

    static {
        for (String resource : List.of("history/TableSchema-v1.avsc", "history/TableSchema-v2.avsc")) {
            try (var in = EventCodec.class.getResourceAsStream(resource)) {
                org.apache.avro.Schema old = new org.apache.avro.Schema.Parser().parse(in);
                SCHEMA_DECODER.addSchema(old);
                OLD_SCHEMA_HEADERS.add(header(old));
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException("cannot load the earlier event schema " + resource + ": " + e.getMessage(), e);
            }
        }
    }

    private EventCodec() {
    }

    /**
     * Record header of a delete that removes a range of rows: every row whose key starts with the record key's columns
     * but the last, and whose last key column is at least the record key's last value. The embed service sends it for
     * the chunks a text no longer has (docs/events.md).
     */
    public static final String RANGE_DELETE_HEADER = "ferry.delete.range";

    /** What a topic payload holds. */
    public enum Kind { CHANGE, SCHEMA, UNKNOWN }

    public static byte[] encodeKey(RowKey key) {
        return encode(KEY_ENCODER, key);
    }

    public static RowKey decodeKey(byte[] bytes) {
        return decode(KEY_DECODER, bytes);
    }

    public static byte[] encodeChange(ChangeEvent event) {
        return encode(CHANGE_ENCODER, event);
    }

    public static ChangeEvent decodeChange(byte[] bytes) {
        return decode(CHANGE_DECODER, bytes);
    }

    public static byte[] encodeSchema(TableSchema schema) {
        return encode(SCHEMA_ENCODER, schema);
    }

    public static TableSchema decodeSchema(byte[] bytes) {
        return decode(SCHEMA_DECODER, bytes);
    }

    /** Tells a change event from a schema event by the fingerprint in the single-object header. */
    public static Kind kindOf(byte[] payload) {
        if (startsWith(payload, CHANGE_HEADER)) {
            return Kind.CHANGE;
        }
        if (startsWith(payload, SCHEMA_HEADER) || OLD_SCHEMA_HEADERS.stream().anyMatch(h -> startsWith(payload, h))) {
            return Kind.SCHEMA;
        }
        return Kind.UNKNOWN;
    }

    private static <T> byte[] encode(BinaryMessageEncoder<T> encoder, T datum) {
        try {
            ByteBuffer buffer = encoder.encode(datum);
            byte[] out = new byte[buffer.remaining()];
            buffer.get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + datum.getClass().getSimpleName(), e);
        }
    }

    private static <T> T decode(BinaryMessageDecoder<T> decoder, byte[] bytes) {
        try {
            return decoder.decode(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot decode a ferry event of " + bytes.length + " bytes", e);
        }
    }

    /** The single-object header: marker C3 01, then the schema's 64-bit Rabin fingerprint, little-endian. */
    private static byte[] header(org.apache.avro.Schema schema) {
        long fingerprint = SchemaNormalization.parsingFingerprint64(schema);
        return ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) 0xC3).put((byte) 0x01).putLong(fingerprint).array();
    }

    private static boolean startsWith(byte[] payload, byte[] prefix) {
        if (payload == null || payload.length < prefix.length) {
            return false;
        }
        return Arrays.equals(payload, 0, prefix.length, prefix, 0, prefix.length);
    }
}
