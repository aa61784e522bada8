package io.github.solvk.memory.bench;

/**
 * Everything a benchmark can be run against. The {@code @Param} strings of the benchmarks are these names.
 */
enum Contender {
    /** Ours: {@code TlsfSuballocator} through {@code Suballocators.create(TLSF, ...)}. */
    TLSF,
    /** Ours: {@code BuddySuballocator}. */
    BUDDY,
    /** Ours: {@code StackSuballocator} (LIFO frees). */
    STACK,
    /** Ours: {@code RingSuballocator} (FIFO frees). */
    RING,
    /** Ours: {@code FixedSizeSuballocator} through {@code Suballocators.fixedSize}. */
    POOL,
    /** VMA virtual block, default algorithm (TLSF), default strategy. */
    VMA_TLSF,
    /** VMA virtual block, TLSF, {@code STRATEGY_MIN_TIME} per allocation. */
    VMA_MIN_TIME,
    /** VMA virtual block, TLSF, {@code STRATEGY_MIN_MEMORY} per allocation. */
    VMA_MIN_MEMORY,
    /** VMA virtual block, linear algorithm. */
    VMA_LINEAR,
    /** Floor: a plain Java bump pointer ({@link JavaBump}). */
    JAVA_BUMP,
    /** Floor: a plain Java LIFO slot pool ({@link JavaPool}). */
    JAVA_POOL;

    /**
     * @param regionSize bytes; the region starts at offset 0
     * @param slotSize   the slot size for the fixed-size pools; ignored by the others
     * @return a fresh, empty allocator
     */
    BenchAllocator create(long regionSize, long slotSize) {
        switch (this) {
            case VMA_TLSF:
                return new VmaVirtualBlock(regionSize, VmaVirtualBlock.Algorithm.TLSF);
            case VMA_MIN_TIME:
                return new VmaVirtualBlock(regionSize, VmaVirtualBlock.Algorithm.MIN_TIME);
            case VMA_MIN_MEMORY:
                return new VmaVirtualBlock(regionSize, VmaVirtualBlock.Algorithm.MIN_MEMORY);
            case VMA_LINEAR:
                return new VmaVirtualBlock(regionSize, VmaVirtualBlock.Algorithm.LINEAR);
            case JAVA_BUMP:
                return new JavaBump(regionSize);
            case JAVA_POOL:
                return new JavaPool(regionSize, slotSize);
            default:
                return SuballocatorContender.create(this, regionSize, slotSize);
        }
    }

    /** @return whether this is one of VMA's */
    boolean isVma() {
        return name().startsWith("VMA_");
    }
}
