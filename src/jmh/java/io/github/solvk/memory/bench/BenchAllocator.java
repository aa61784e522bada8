package io.github.solvk.memory.bench;

/**
 * The face every contender shows to the benchmarks: allocate, free, reset and a few read-outs.
 *
 * <p>In one JMH fork only one implementation is ever loaded into the hot loop, so the JIT sees a monomorphic call site
 * and inlines it; the benchmarks pay no dispatch that a real caller would not.
 */
interface BenchAllocator extends AutoCloseable {

    /**
     * @param size      bytes, {@code > 0}
     * @param alignment a power of two
     * @return a non-zero handle, or 0 when the region is full
     */
    long allocate(long size, long alignment);

    /** @param handle a live handle from {@link #allocate} */
    void free(long handle);

    /** Frees everything at once. */
    void reset();

    /**
     * Not for the hot path (VMA needs a second native call for it).
     *
     * @param handle a live handle
     * @return its offset in the region
     */
    long offset(long handle);

    /** @return the largest free range in bytes (not for the hot path) */
    long largestFreeRange();

    /** @return free bytes as the allocator counts them (not for the hot path) */
    long freeBytes();

    /** Frees native state; idempotent. */
    @Override
    void close();
}
