package io.github.solvk.memory.diagnostics;

/**
 * A guard margin no longer holds its pattern: something wrote outside a buffer's bounds. Thrown by
 * {@link GuardMargins#check}.
 */
public final class CorruptionException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The buffer whose margin is corrupted. */
    private final String bufferName;
    /** Where the first corrupted byte is. */
    private final long offset;
    /** The pattern byte, 0 to 255. */
    private final int expected;
    /** The byte found, 0 to 255. */
    private final int actual;

    /**
     * Describes a corrupted byte.
     *
     * @param bufferName the buffer whose margin it is
     * @param offset     where the byte is, in the caller's frame (for example the offset in the memory block)
     * @param expected   the pattern byte, 0 to 255
     * @param actual     the byte found, 0 to 255
     */
    public CorruptionException(String bufferName, long offset, int expected, int actual) {
        super(String.format("guard margin of buffer '%s' corrupted at offset %d: 0x%02x (expected: 0x%02x, the "
                + "pattern 0x%08x); a write went past the bounds of '%s' or of its neighbour", bufferName, offset,
                actual & 0xFF, expected & 0xFF, GuardMargins.PATTERN, bufferName));
        this.bufferName = bufferName;
        this.offset = offset;
        this.expected = expected & 0xFF;
        this.actual = actual & 0xFF;
    }

    /**
     * The buffer whose margin is corrupted.
     *
     * @return its name
     */
    public String bufferName() {
        return bufferName;
    }

    /**
     * Where the first corrupted byte is.
     *
     * @return its offset, in the frame the caller gave
     */
    public long offset() {
        return offset;
    }

    /**
     * The byte the pattern has there.
     *
     * @return 0 to 255
     */
    public int expected() {
        return expected;
    }

    /**
     * The byte found there.
     *
     * @return 0 to 255
     */
    public int actual() {
        return actual;
    }
}
