package io.github.solvk.memory.diagnostics;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Fills and checks guard margins: bytes left unused around a buffer and filled with a known pattern, so that a write
 * past the buffer's end (or before its start) shows as a changed pattern. VMA offers this as
 * {@code VMA_DEBUG_MARGIN} with {@code VMA_DEBUG_DETECT_CORRUPTION}, but lwjgl-vma is built without them; the pools do
 * it in Java on host-visible memory.
 * <pre>
 *   | margin          | buffer A                 | margin          | buffer B ...
 *   |DE AD C0 DE DE AD|..........................|DE AD C0 DE DE AD|
 *                                     A overruns: |DE AD 00 00 DE AD|   firstCorruptByte = 2
 * </pre>
 * The pattern is {@link #PATTERN} as bytes in that order (big-endian), starting afresh at each margin's first byte.
 * Every method works on the bytes from the buffer's position to its limit and leaves position and limit as they
 * were, so the caller may pass a slice of a mapped block.
 */
public final class GuardMargins {

    /** The pattern, laid down as the bytes {@code DE AD C0 DE}, repeated. */
    public static final int PATTERN = 0xDEADC0DE;

    /** The pattern repeated; a multiple of 4 bytes long, so consecutive chunks keep the phase. */
    private static final ByteBuffer PATTERN_BLOCK;

    static {
        ByteBuffer block = ByteBuffer.allocate(4096);
        while (block.hasRemaining()) {
            block.putInt(PATTERN); // a heap buffer is big-endian: DE AD C0 DE
        }
        PATTERN_BLOCK = block.flip().asReadOnlyBuffer();
    }

    private GuardMargins() {
    }

    /**
     * Fills a margin with the pattern.
     *
     * @param margin the margin's bytes, from position to limit
     * @throws java.nio.ReadOnlyBufferException when the buffer is read-only
     */
    public static void fill(ByteBuffer margin) {
        requireMargin(margin);
        ByteBuffer out = margin.duplicate();
        while (out.hasRemaining()) {
            out.put(PATTERN_BLOCK.slice(0, Math.min(out.remaining(), PATTERN_BLOCK.capacity())));
        }
    }

    /**
     * Finds the first byte of a margin that differs from the pattern.
     *
     * @param margin the margin's bytes, from position to limit
     * @return the index of the first changed byte, counted from the buffer's position, or -1 when the margin is
     *         intact
     */
    public static int firstCorruptByte(ByteBuffer margin) {
        requireMargin(margin);
        ByteBuffer in = margin.duplicate();
        int start = in.position();
        while (in.hasRemaining()) {
            int n = Math.min(in.remaining(), PATTERN_BLOCK.capacity());
            int at = in.slice(in.position(), n).mismatch(PATTERN_BLOCK.slice(0, n));
            if (at >= 0) {
                return in.position() - start + at;
            }
            in.position(in.position() + n);
        }
        return -1;
    }

    /**
     * Checks a margin and names the buffer when it is corrupted.
     *
     * @param margin       the margin's bytes, from position to limit
     * @param bufferName   the buffer the margin guards, for the message
     * @param marginOffset where the margin starts, in the frame the report should use (such as the block offset)
     * @throws CorruptionException when a byte differs from the pattern; it gives the first such byte
     */
    public static void check(ByteBuffer margin, String bufferName, long marginOffset) {
        Objects.requireNonNull(bufferName, "bufferName: null (expected: a name)");
        int at = firstCorruptByte(margin);
        if (at >= 0) {
            throw new CorruptionException(bufferName, marginOffset + at, expectedByte(at),
                    margin.get(margin.position() + at));
        }
    }

    /**
     * The pattern byte at an index of a margin.
     *
     * @param index a byte index counted from the margin's start; not negative
     * @return the byte, 0 to 255
     */
    public static int expectedByte(long index) {
        return (PATTERN >>> (8 * (3 - (int) (index & 3)))) & 0xFF;
    }

    private static void requireMargin(ByteBuffer margin) {
        Objects.requireNonNull(margin, "margin: null (expected: the margin's bytes, from position to limit)");
    }
}
