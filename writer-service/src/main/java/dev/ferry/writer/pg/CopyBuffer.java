package dev.ferry.writer.pg;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * The bytes of a COPY chunk. {@link ByteArrayOutputStream}'s methods are synchronized, and {@link CopyText} writes a
 * row a byte at a time (bytea hex, separators): unsynchronized, that was the writer's largest single cost.
 * One thread only.
 */
final class CopyBuffer extends ByteArrayOutputStream {

    CopyBuffer(int size) {
        super(size);
    }

    @Override
    public void write(int b) {
        if (count == buf.length) {
            grow(1);
        }
        buf[count++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
        if (count + len > buf.length) {
            grow(len);
        }
        System.arraycopy(b, off, buf, count, len);
        count += len;
    }

    @Override
    public void writeBytes(byte[] b) {
        write(b, 0, b.length);
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public void reset() {
        count = 0;
    }

    /** Makes room for {@code n} bytes and counts them as written: the caller fills {@code array()} from the returned index. */
    int reserve(int n) {
        if (count + n > buf.length) {
            grow(n);
        }
        int at = count;
        count += n;
        return at;
    }

    /** The buffer itself, valid up to {@link #size()}; no copy. */
    byte[] array() {
        return buf;
    }

    private void grow(int more) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + more));
    }
}
