package io.github.solvk.memory.suballocator;

/**
 * The one place that packs and unpacks the {@code long} handles of the node-based suballocators
 * ({@link TlsfSuballocator}, {@link BuddySuballocator}), and checks the arguments every suballocator shares.
 *
 * <pre>
 *  63            48 47            32 31                             0
 * +----------------+----------------+--------------------------------+
 * |  instance tag  |   generation   |           node index           |
 * +----------------+----------------+--------------------------------+
 * </pre>
 *
 * <ul>
 *   <li>node index: where the allocation's record lives in the suballocator's node arrays;</li>
 *   <li>generation: bumped every time a node becomes an allocation, never 0, so a handle of an earlier use of the
 *       same node is stale, and no handle is {@link Suballocator#NULL_HANDLE}; only a handle kept through 65&nbsp;535
 *       later allocations in the same node could be mistaken for live;</li>
 *   <li>instance tag: drawn from {@link InstanceTags}, the counter that all five algorithms share, when the instance
 *       is made; it is in {@code [1, 2^15 - 1]}, so bit 63 stays clear and the tag reads the same as in
 *       {@link IndexedHandles}: a handle given to another instance, of any algorithm, is recognised as foreign
 *       (the tags of 32&nbsp;767 consecutive instances differ).</li>
 * </ul>
 */
final class SuballocatorHandles {

    static final int INDEX_BITS = 32;
    static final int GENERATION_BITS = 16;
    static final int TAG_BITS = 16;

    static final int INDEX_SHIFT = 0;
    static final int GENERATION_SHIFT = INDEX_SHIFT + INDEX_BITS;
    static final int TAG_SHIFT = GENERATION_SHIFT + GENERATION_BITS;

    static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
    static final int GENERATION_MASK = (1 << GENERATION_BITS) - 1;
    static final int TAG_MASK = (1 << TAG_BITS) - 1;

    /** The types by ordinal, so that decoding one allocates nothing ({@code values()} copies the array). */
    static final AllocationType[] TYPES = AllocationType.values();

    private SuballocatorHandles() {
    }

    /** @return a tag for a new suballocator instance, from the source that every algorithm shares */
    static int nextTag() {
        return InstanceTags.next();
    }

    static long encode(int tag, int generation, int index) {
        return ((long) tag << TAG_SHIFT) | ((long) generation << GENERATION_SHIFT) | ((long) index << INDEX_SHIFT);
    }

    static int index(long handle) {
        return (int) ((handle >>> INDEX_SHIFT) & INDEX_MASK);
    }

    static int generation(long handle) {
        return (int) (handle >>> GENERATION_SHIFT) & GENERATION_MASK;
    }

    static int tag(long handle) {
        return (int) (handle >>> TAG_SHIFT) & TAG_MASK;
    }

    /** @return the generation after {@code generation}, skipping 0 so that no handle is {@code NULL_HANDLE} */
    static int nextGeneration(int generation) {
        int next = (generation + 1) & GENERATION_MASK;
        return next == 0 ? 1 : next;
    }

    /**
     * Checks a region and a granularity as every suballocator's constructor takes them.
     *
     * @throws IllegalArgumentException naming the first bad value
     */
    static void checkRegion(long regionOffset, long regionSize, long bufferImageGranularity) {
        if (regionOffset < 0 || regionOffset > Suballocator.MAX_REGION_END) {
            throw new IllegalArgumentException("regionOffset: " + regionOffset + " (expected: 0 to 2^62)");
        }
        if (regionSize <= 0 || regionSize > Suballocator.MAX_REGION_END) {
            throw new IllegalArgumentException("regionSize: " + regionSize + " (expected: 1 to 2^62)");
        }
        // Compared as a difference: the sum of two values up to 2^62 can reach 2^63, which overflows a long.
        if (regionSize > Suballocator.MAX_REGION_END - regionOffset) {
            throw new IllegalArgumentException("regionOffset + regionSize: " + regionOffset + " + " + regionSize
                    + " = " + Long.toUnsignedString(regionOffset + regionSize) + " (expected: <= 2^62 = "
                    + Suballocator.MAX_REGION_END + ")");
        }
        if (bufferImageGranularity <= 0 || Long.bitCount(bufferImageGranularity) != 1) {
            throw new IllegalArgumentException("bufferImageGranularity: " + bufferImageGranularity
                    + " (expected: a power of two)");
        }
    }

    /**
     * Checks the arguments of {@link Suballocator#tryAllocate}.
     *
     * @throws IllegalArgumentException naming the first bad value
     */
    static void checkRequest(long size, long alignment, AllocationType type) {
        IllegalArgumentException bad = badRequest(size, alignment, type);
        if (bad != null) {
            throw bad;
        }
    }

    /**
     * @return the exception naming the first bad argument of {@link Suballocator#tryAllocate}, or null when all are
     *     good: {@code size} in {@code [1, 2^62]}, {@code alignment} a power of two, {@code type} not null
     */
    static IllegalArgumentException badRequest(long size, long alignment, AllocationType type) {
        if (size <= 0 || size > Suballocator.MAX_REGION_END) {
            return new IllegalArgumentException("size: " + size + " (expected: in [1, 2^62])");
        }
        // A power of two in a long that is positive is at most 2^62.
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
            return new IllegalArgumentException("alignment: " + alignment + " (expected: a power of two)");
        }
        if (type == null) {
            return new IllegalArgumentException("type: null (expected: an AllocationType)");
        }
        return null;
    }

    /**
     * @param type       the type of a new allocation
     * @param liveByType the number of live allocations per type, by ordinal
     * @return whether a live allocation has a type that conflicts with {@code type}
     */
    static boolean conflictsWithLive(AllocationType type, int[] liveByType) {
        int linear = liveByType[AllocationType.LINEAR.ordinal()];
        int nonLinear = liveByType[AllocationType.NON_LINEAR.ordinal()];
        int unknown = liveByType[AllocationType.UNKNOWN.ordinal()];
        switch (type) {
            case LINEAR:
                return nonLinear + unknown > 0;
            case NON_LINEAR:
                return linear + unknown > 0;
            default:
                return linear + nonLinear + unknown > 0;
        }
    }

    /**
     * @param call  the refused call: {@code tryAllocate}, {@code free} or {@code reset}
     * @param owner the suballocator's class name
     * @return the exception for a call that would change a suballocator while its {@link Suballocator#visit} runs,
     *     which would make the walk report ranges that no longer exist
     */
    static IllegalStateException changeDuringVisit(String call, String owner) {
        return new IllegalStateException(call + "() on this " + owner + " while its visit() runs (expected: no "
                + "tryAllocate, free or reset from a visitor; collect the handles and change them after visit "
                + "returns)");
    }

    /** @return the exception for a handle that is not a live allocation of the instance with {@code tag} */
    static IllegalArgumentException badHandle(long handle, int tag, String owner) {
        if (handle == Suballocator.NULL_HANDLE) {
            return new IllegalArgumentException("handle: 0 (expected: a live handle of this " + owner
                    + ", not NULL_HANDLE)");
        }
        String hex = "0x" + Long.toHexString(handle);
        if (tag(handle) != tag) {
            return new IllegalArgumentException("handle: " + hex + " (expected: a live handle of this " + owner
                    + " with tag " + tag + "; it has tag " + tag(handle) + ", so another suballocator made it)");
        }
        return new IllegalArgumentException("handle: " + hex + " (expected: a live handle of this " + owner
                + "; it was already freed, or reset() made it stale)");
    }
}
