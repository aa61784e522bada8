package io.github.solvk.memory.suballocator;

/**
 * What kind of resource a suballocation holds, for the buffer-image granularity rule.
 *
 * <p>Linear resources (buffers, linear-tiling images) and non-linear ones (optimal-tiling images) must not share a
 * "page" of {@code bufferImageGranularity} bytes; see the package documentation for the picture.
 */
public enum AllocationType {
    /** Unknown: treated as conflicting with both linear and non-linear neighbours. */
    UNKNOWN,
    /** A buffer or a linear-tiling image. */
    LINEAR,
    /** An optimal-tiling image. */
    NON_LINEAR;

    /**
     * @param other the type of a neighbour
     * @return whether this and {@code other} must not share a granularity page
     */
    public boolean conflictsWith(AllocationType other) {
        return this == UNKNOWN || other == UNKNOWN || this != other;
    }
}
