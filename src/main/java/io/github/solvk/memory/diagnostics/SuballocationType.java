package io.github.solvk.memory.diagnostics;

/**
 * What occupies a range of a block, with the names VMA's JSON dump uses for its {@code "Type"} field.
 *
 * <p>VMA also writes {@code IMAGE_UNKNOWN} (an image of unknown tiling); {@link #fromVmaName} reads it as
 * {@link #UNKNOWN}.
 */
public enum SuballocationType {
    /** Free space between allocations. */
    FREE,
    /** A buffer (linear). */
    BUFFER,
    /** An image with {@code VK_IMAGE_TILING_OPTIMAL} (non-linear). */
    IMAGE_OPTIMAL,
    /** An image with {@code VK_IMAGE_TILING_LINEAR}. */
    IMAGE_LINEAR,
    /** Memory whose use is not known, such as a raw {@code vmaAllocateMemory} allocation. */
    UNKNOWN;

    /**
     * Reads a VMA type name.
     *
     * @param vmaName a {@code "Type"} value of VMA's JSON dump
     * @return the matching type; {@link #UNKNOWN} for {@code IMAGE_UNKNOWN}
     * @throws IllegalArgumentException when the name is none of VMA's
     */
    public static SuballocationType fromVmaName(String vmaName) {
        if ("IMAGE_UNKNOWN".equals(vmaName)) {
            return UNKNOWN;
        }
        for (SuballocationType type : values()) {
            if (type.name().equals(vmaName)) {
                return type;
            }
        }
        throw new IllegalArgumentException("suballocation type: " + vmaName
                + " (expected: FREE, UNKNOWN, BUFFER, IMAGE_UNKNOWN, IMAGE_LINEAR or IMAGE_OPTIMAL)");
    }
}
