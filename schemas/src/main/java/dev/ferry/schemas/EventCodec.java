package dev.ferry.schemas;

import dev.ferry.schemas.avro.ChangeEvent;
import dev.ferry.schemas.avro.RowKey;
import dev.ferry.schemas.avro.TableSchema;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
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

    private static final byte[] KEY_HEADER = header(RowKey.getClassSchema());
    private static final byte[] CHANGE_HEADER = header(ChangeEvent.getClassSchema());
    private static final byte[] SCHEMA_HEADER = header(TableSchema.getClassSchema());
    /**
     * Earlier versions of the table schema event (resources dev/ferry/schemas/history). Changes are additive, so an
     * event written by an older ferry, e.g. stored in _ferry.tables or still in a topic, reads into the current class.
     */
    private static final List<byte[]> OLD_SCHEMA_HEADERS = new java.util.ArrayList<>();

    static {
        for (String resource : List.of("history/TableSchema-v1.avsc", "history/TableSchema-v2.avsc",
                "history/TableSchema-v3.avsc")) {
            try (var in = EventCodec.class.getResourceAsStream(resource)) {
                org.apache.avro.Schema old = new org.apache.avro.Schema.Parser().parse(in);
                SCHEMA_DECODER.addSchema(old);
                OLD_SCHEMA_HEADERS.add(header(old));
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException("cannot load the earlier event schema " + resource + ": " + e.getMessage(), e);
            }
        }
    }

    /*
     * Keys and change events, one per row, go through buffered encoders and decoders reused per thread. Avro's
     * BinaryMessageEncoder/Decoder write and read them one byte at a time through synchronized streams, which took
     * a third of the ingest's and the writer's CPU in snapshot profiles. The bytes are the same single-object encoding.
     */
    private static final DatumWriter<RowKey> KEY_WRITER = RowKeyWriter.FINGERPRINT == SchemaNormalization.parsingFingerprint64(
            RowKey.getClassSchema()) ? new RowKeyWriter() : new SpecificDatumWriter<>(RowKey.getClassSchema(), DATA);
    private static final SpecificDatumReader<RowKey> KEY_READER = new SpecificDatumReader<>(RowKey.getClassSchema(), RowKey.getClassSchema(), DATA);
    private static final DatumWriter<ChangeEvent> CHANGE_WRITER = ChangeEventWriter.FINGERPRINT == SchemaNormalization.parsingFingerprint64(
            ChangeEvent.getClassSchema()) ? new ChangeEventWriter() : new SpecificDatumWriter<>(ChangeEvent.getClassSchema(), DATA);
    private static final boolean HAND_WRITTEN = ChangeEventWriter.FINGERPRINT == SchemaNormalization.parsingFingerprint64(ChangeEvent.getClassSchema());
    private static final DatumReader<ChangeEvent> AVRO_CHANGE_READER =
            new SpecificDatumReader<>(ChangeEvent.getClassSchema(), ChangeEvent.getClassSchema(), DATA);
    private static final ThreadLocal<Codec> FAST = ThreadLocal.withInitial(Codec::new);
    /**
     * The codec of the thread that used one last: a thread that decodes record after record finds its own here, without
     * a ThreadLocal look-up (a busy thread has many ThreadLocals, and the look-up showed in the writer's profile).
     */
    private static volatile Codec lastCodec;

    private static Codec codec() {
        Codec c = lastCodec;
        if (c != null && c.owner == Thread.currentThread()) {
            return c;
        }
        c = FAST.get();
        lastCodec = c;
        return c;
    }

    /** One thread's reusable encoder, output buffer and decoder. */
    private static final class Codec {
        private final Thread owner = Thread.currentThread();
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        private final DatumReader<ChangeEvent> changeReader = HAND_WRITTEN ? new ChangeEventReader() : AVRO_CHANGE_READER;
        private BinaryEncoder encoder;
        private BinaryDecoder decoder;

        <T> byte[] encode(byte[] header, DatumWriter<T> writer, T datum) {
            out.reset();
            out.write(header, 0, header.length);
            encoder = EncoderFactory.get().binaryEncoder(out, encoder);
            try {
                writer.write(datum, encoder);
                encoder.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot encode " + datum.getClass().getSimpleName(), e);
            }
            return out.toByteArray();
        }

        /** The datum, or null when the payload does not start with {@code header} (the caller's decoder says why). */
        <T> T decode(byte[] header, DatumReader<T> reader, byte[] bytes) {
            if (!startsWith(bytes, header)) {
                return null;
            }
            decoder = DecoderFactory.get().binaryDecoder(bytes, header.length, bytes.length - header.length, decoder);
            try {
                return reader.read(null, decoder);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot decode a ferry event of " + bytes.length + " bytes", e);
            }
        }
    }

    /**
     * Writes a change event as Avro's generic writer does for this exact schema version, without resolving the union of
     * every image value by reflection (a quarter of the ingest's encoding time). Used only while the schema's
     * fingerprint is the one below; a changed schema goes through Avro's writer until this is updated. EventCodecTest
     * checks the bytes against Avro's.
     */
    static final class ChangeEventWriter implements DatumWriter<ChangeEvent> {

        static final long FINGERPRINT = 0x2e54aea5d55c37e1L;

        @Override
        public void setSchema(org.apache.avro.Schema schema) {
        }

        @Override
        public void write(ChangeEvent event, Encoder out) throws IOException {
            writeImage(event.getBefore(), out);
            writeImage(event.getAfter(), out);
            out.writeEnum(event.getOp().ordinal());
            dev.ferry.schemas.avro.Source source = event.getSource();
            out.writeString(source.getName().toString());
            out.writeString(source.getTable().toString());
            out.writeLong(source.getSeq());
            out.writeBoolean(source.getSnapshot());
            out.writeLong(source.getTsMs());
            out.writeLong(event.getTsMs());
        }

        /** ["null", map of ["null", "long", "double", "string", "bytes"]]. */
        private static void writeImage(Map<String, Object> image, Encoder out) throws IOException {
            if (image == null) {
                out.writeIndex(0);
                return;
            }
            out.writeIndex(1);
            out.writeMapStart();
            out.setItemCount(image.size());
            if (image instanceof RowImage row) {
                for (int i = 0; i < row.size(); i++) {
                    out.startItem();
                    out.writeString(row.nameAt(i));
                    writeValue(row.nameAt(i), row.valueAt(i), out);
                }
                out.writeMapEnd();
                return;
            }
            for (Map.Entry<String, Object> e : image.entrySet()) {
                out.startItem();
                out.writeString(e.getKey());
                writeValue(e.getKey(), e.getValue(), out);
            }
            out.writeMapEnd();
        }

        /** ["null", "long", "double", "string", "bytes"]: a value in its SQLite storage class. */
        static void writeValue(String column, Object v, Encoder out) throws IOException {
            if (v == null) {
                out.writeIndex(0);
            } else if (v instanceof Long l) {
                out.writeIndex(1);
                out.writeLong(l);
            } else if (v instanceof Double d) {
                out.writeIndex(2);
                out.writeDouble(d);
            } else if (v instanceof CharSequence t) {
                out.writeIndex(3);
                out.writeString(t.toString());
            } else if (v instanceof ByteBuffer b) {
                out.writeIndex(4);
                out.writeBytes(b.duplicate());
            } else {
                throw new org.apache.avro.AvroRuntimeException("column \"" + column + "\" holds a "
                        + v.getClass().getName() + ", not one of SQLite's storage classes (null, Long, Double, String, ByteBuffer)");
            }
        }
    }

    /**
     * Writes a row key as Avro's specific writer does for this exact schema version (an array of name and value), without
     * its reflection over the record and the union; a key is written for every row. Used only while the schema's
     * fingerprint is the one below; EventCodecTest checks the bytes against Avro's.
     */
    static final class RowKeyWriter implements DatumWriter<RowKey> {

        static final long FINGERPRINT = 0x3cb91d8980cddd2cL;

        @Override
        public void setSchema(org.apache.avro.Schema schema) {
        }

        @Override
        public void write(RowKey key, Encoder out) throws IOException {
            List<dev.ferry.schemas.avro.KeyColumn> columns = key.getColumns();
            out.writeArrayStart();
            out.setItemCount(columns.size());
            for (dev.ferry.schemas.avro.KeyColumn c : columns) {
                out.startItem();
                out.writeString(c.getName());
                ChangeEventWriter.writeValue(c.getName(), c.getValue(), out);
            }
            out.writeArrayEnd();
        }
    }

    /**
     * Reads a change event as Avro's specific reader does for the schema of {@link ChangeEventWriter#FINGERPRINT}, without
     * its per-field lambdas and union resolution (a fifth of the writer's CPU in a snapshot): the same values come out
     * (String, Long, Double, ByteBuffer), in a {@link RowImage} (a {@code HashMap} for a row of more than
     * {@value RowImage#MAX_SCANNED_COLUMNS} columns). Column names are decoded once per thread and shared by every row that names them.
     * One per thread; used only while the schema's fingerprint is that one. EventCodecTest compares it with Avro's reader.
     */
    static final class ChangeEventReader implements DatumReader<ChangeEvent> {

        private static final dev.ferry.schemas.avro.Op[] OPS = dev.ferry.schemas.avro.Op.values();
        /** Distinct column names kept; a source with more (or hostile payloads) clears the cache between rows. */
        private static final int MAX_NAMES = 4096;

        private final java.util.HashMap<org.apache.avro.util.Utf8, String> names = new java.util.HashMap<>();
        private final org.apache.avro.util.Utf8 scratch = new org.apache.avro.util.Utf8();
        /**
         * The name read last at each position of an image, and its bytes: rows of one table name their columns in the
         * same order, so a name is recognised by comparing bytes, without hashing them for the map (a tenth of the
         * writer's CPU in a snapshot profile).
         */
        private final String[] lastNames = new String[RowImage.MAX_SCANNED_COLUMNS];
        private final byte[][] lastNameBytes = new byte[RowImage.MAX_SCANNED_COLUMNS][];

        @Override
        public void setSchema(org.apache.avro.Schema schema) {
        }

        @Override
        public ChangeEvent read(ChangeEvent reuse, Decoder in) throws IOException {
            Map<String, Object> before = readImage(in);
            Map<String, Object> after = readImage(in);
            dev.ferry.schemas.avro.Op op = OPS[readIndex(in.readEnum(), OPS.length)];
            dev.ferry.schemas.avro.Source source = new dev.ferry.schemas.avro.Source(in.readString(), in.readString(), in.readLong(),
                    in.readBoolean(), in.readLong());
            return new ChangeEvent(before, after, op, source, in.readLong());
        }

        private Map<String, Object> readImage(Decoder in) throws IOException {
            if (readIndex(in.readIndex(), 2) == 0) {
                return null;
            }
            if (names.size() > MAX_NAMES) {
                names.clear();
            }
            long n = in.readMapStart();
            RowImage small = n <= RowImage.MAX_SCANNED_COLUMNS ? new RowImage((int) n) : null;
            Map<String, Object> image = small != null ? small : new java.util.HashMap<>((int) Math.min(n * 4 / 3 + 1, 1 << 16));
            int position = 0;
            while (n > 0) {
                for (long i = 0; i < n; i++) {
                    String column = columnName(in, position++);
                    Object value = readValue(in);
                    if (small != null) {
                        small.putShared(column, value);
                    } else {
                        image.put(column, value);
                    }
                }
                n = in.mapNext();
            }
            return image;
        }

        private static Object readValue(Decoder in) throws IOException {
            return switch (readIndex(in.readIndex(), 5)) {
                case 0 -> null;
                case 1 -> in.readLong();
                case 2 -> in.readDouble();
                case 3 -> in.readString();
                default -> in.readBytes(null);
            };
        }

        private String columnName(Decoder in, int position) throws IOException {
            org.apache.avro.util.Utf8 bytes = in.readString(scratch);
            boolean positioned = position < RowImage.MAX_SCANNED_COLUMNS;
            if (positioned) {
                byte[] last = lastNameBytes[position];
                if (last != null && java.util.Arrays.equals(last, 0, last.length, bytes.getBytes(), 0, bytes.getByteLength())) {
                    return lastNames[position];
                }
            }
            String name = names.get(bytes);
            if (name == null) {
                name = bytes.toString();
                names.put(new org.apache.avro.util.Utf8(name), name);
            }
            if (positioned) {
                lastNames[position] = name;
                lastNameBytes[position] = java.util.Arrays.copyOf(bytes.getBytes(), bytes.getByteLength());
            }
            return name;
        }

        private static int readIndex(int index, int branches) {
            if (index < 0 || index >= branches) {
                throw new org.apache.avro.AvroRuntimeException("index " + index + " out of range (" + branches + " branches or symbols)");
            }
            return index;
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

    /**
     * Makes Avro trust ferry's generated classes, which this class's initializer does: call it before building an event
     * with its builders when nothing was encoded or decoded yet (they fill list fields from defaults, which Avro builds
     * only for trusted classes).
     */
    public static void trustEventClasses() {
        // The static initializer has run once this method is called.
    }

    public static byte[] encodeKey(RowKey key) {
        return codec().encode(KEY_HEADER, KEY_WRITER, key);
    }

    public static RowKey decodeKey(byte[] bytes) {
        RowKey key = codec().decode(KEY_HEADER, KEY_READER, bytes);
        return key != null ? key : decode(KEY_DECODER, bytes);
    }

    public static byte[] encodeChange(ChangeEvent event) {
        return codec().encode(CHANGE_HEADER, CHANGE_WRITER, event);
    }

    public static ChangeEvent decodeChange(byte[] bytes) {
        Codec codec = codec();
        ChangeEvent event = codec.decode(CHANGE_HEADER, codec.changeReader, bytes);
        return event != null ? event : decode(CHANGE_DECODER, bytes);
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
