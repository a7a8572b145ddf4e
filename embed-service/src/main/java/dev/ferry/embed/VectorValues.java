package dev.ferry.embed;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/** Vectors in the form events carry them (float32 little-endian bytes), and vectors a source column already holds. */
final class VectorValues {

    private static final ObjectMapper JSON = new ObjectMapper();

    private VectorValues() {
    }

    static ByteBuffer toBytes(float[] vector) {
        ByteBuffer bytes = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(vector);
        return bytes;
    }

    static float[] fromBytes(ByteBuffer bytes) {
        FloatBuffer floats = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] vector = new float[floats.remaining()];
        floats.get(vector);
        return vector;
    }

    /**
     * A vector held by a source column: a JSON array of numbers (TEXT), or float32 little-endian values (BLOB).
     *
     * @throws IllegalArgumentException naming what is wrong: not a vector, wrong dimension, a component not finite
     */
    static float[] carried(Object value, int dimensions) {
        float[] vector;
        if (value instanceof ByteBuffer b) {
            if (b.remaining() % 4 != 0) {
                throw new IllegalArgumentException("BLOB of " + b.remaining() + " bytes is not float32 values");
            }
            vector = fromBytes(b);
        } else if (value instanceof String s) {
            vector = parseJsonArray(s);
        } else {
            throw new IllegalArgumentException((value instanceof Long ? "INTEGER" : "REAL") + " value is not a vector");
        }
        if (vector.length != dimensions) {
            throw new IllegalArgumentException("vector has " + vector.length + " dimensions, the model " + dimensions);
        }
        for (int i = 0; i < vector.length; i++) {
            if (!Float.isFinite(vector[i])) {
                throw new IllegalArgumentException("vector component " + i + " is " + vector[i]);
            }
        }
        return vector;
    }

    private static float[] parseJsonArray(String text) {
        try (JsonParser p = JSON.createParser(text)) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw new IllegalArgumentException("text is not a JSON array");
            }
            float[] values = new float[64];
            int n = 0;
            for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
                if (t == null) {
                    throw new IllegalArgumentException("JSON array is not closed");
                }
                if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
                    throw new IllegalArgumentException("JSON array element " + n + " is not a number");
                }
                if (n == values.length) {
                    values = java.util.Arrays.copyOf(values, n * 2);
                }
                values[n++] = p.getFloatValue();
            }
            if (p.nextToken() != null) {
                throw new IllegalArgumentException("text after the JSON array");
            }
            return java.util.Arrays.copyOf(values, n);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new IllegalArgumentException("malformed JSON: " + e.getMessage());
        }
    }
}
