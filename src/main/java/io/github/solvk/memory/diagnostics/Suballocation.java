package io.github.solvk.memory.diagnostics;

/**
 * One range of a block: an allocation or a free range.
 *
 * @param offset         the first byte, relative to the start of the block; not negative
 * @param size           the length in bytes; positive
 * @param type           what occupies the range; {@link SuballocationType#FREE} for free space
 * @param usage          {@code VkBufferUsageFlags} of a buffer, {@code VkImageUsageFlags} of an image, or 0
 * @param name           the user's name for the resource, or {@code null}
 * @param allocationSite the stack trace of the allocating call as text, or {@code null} when not recorded
 */
public record Suballocation(long offset, long size, SuballocationType type, int usage, String name,
        String allocationSite) {

    /**
     * Checks the values.
     *
     * @param offset see {@link #offset()}
     * @param size see {@link #size()}
     * @param type see {@link #type()}
     * @param usage see {@link #usage()}
     * @param name see {@link #name()}
     * @param allocationSite see {@link #allocationSite()}
     * @throws IllegalArgumentException when {@code offset} is negative, {@code size} is not positive, the end
     *                                  overflows a {@code long} or {@code type} is {@code null}
     */
    public Suballocation {
        if (offset < 0) {
            throw new IllegalArgumentException("offset: " + offset + " (expected: >= 0)");
        }
        if (size <= 0) {
            throw new IllegalArgumentException("size: " + size + " (expected: > 0)");
        }
        if (size > Long.MAX_VALUE - offset) {
            throw new IllegalArgumentException("offset + size: " + offset + " + " + size
                    + " (expected: <= " + Long.MAX_VALUE + ")");
        }
        if (type == null) {
            throw new IllegalArgumentException("type: null (expected: a SuballocationType)");
        }
    }

    /**
     * A free range.
     *
     * @param offset the first byte, relative to the start of the block
     * @param size   the length in bytes
     * @return a {@link SuballocationType#FREE} suballocation without usage, name or site
     */
    public static Suballocation free(long offset, long size) {
        return new Suballocation(offset, size, SuballocationType.FREE, 0, null, null);
    }

    /**
     * A buffer.
     *
     * @param offset         the first byte, relative to the start of the block
     * @param size           the length in bytes
     * @param usage          its {@code VkBufferUsageFlags}
     * @param name           the user's name, or {@code null}
     * @param allocationSite where it was allocated, or {@code null}
     * @return a {@link SuballocationType#BUFFER} suballocation
     */
    public static Suballocation buffer(long offset, long size, int usage, String name, String allocationSite) {
        return new Suballocation(offset, size, SuballocationType.BUFFER, usage, name, allocationSite);
    }

    /**
     * The first byte after the range.
     *
     * @return {@code offset + size}
     */
    public long end() {
        return offset + size;
    }

    /**
     * Whether the range is free.
     *
     * @return {@code type() == FREE}
     */
    public boolean isFree() {
        return type == SuballocationType.FREE;
    }
}
