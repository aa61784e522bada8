package io.github.solvk.memory.suballocator;

/**
 * Places allocations inside one region {@code [regionOffset, regionOffset + regionSize)} of an abstract address
 * space, typically one {@code VkDeviceMemory} block.
 *
 * <p>A live allocation is a {@code long} handle; {@link #NULL_HANDLE} (0) means none. Handles carry a generation, so
 * a stale handle (already freed) or a foreign one (made by another suballocator) is detected and rejected.
 *
 * <p>Errors: expected exhaustion is not an error, {@link #tryAllocate} returns {@link #NULL_HANDLE}. Caller bugs
 * (size &lt;= 0, alignment not a power of two, overflow, a stale, foreign or double-freed handle, an order the
 * algorithm forbids) throw {@link IllegalArgumentException} or {@link IllegalStateException} naming the value and the
 * expectation, and change nothing.
 *
 * <p>Implementations are not thread-safe; the pools that own them lock. Allocation and free create no garbage.
 */
public interface Suballocator {

    /** The handle that stands for no allocation. */
    long NULL_HANDLE = 0L;

    /** The largest region size and offset supported: every sum of two such values fits in a {@code long}. */
    long MAX_REGION_END = 1L << 62;

    /**
     * Allocates {@code size} bytes at an offset that is a multiple of {@code alignment} (absolute, that is counted
     * from 0, not from the region's start), keeping the buffer-image granularity with neighbours of a conflicting
     * {@link AllocationType}.
     *
     * @param size      bytes, {@code > 0}
     * @param alignment a power of two, {@code >= 1}
     * @param type      what the allocation holds
     * @return a handle, or {@link #NULL_HANDLE} when the region has no room for it
     * @throws IllegalArgumentException for a bad size or alignment
     * @throws IllegalStateException    when the algorithm's ordering rules forbid allocating now
     */
    long tryAllocate(long size, long alignment, AllocationType type);

    /**
     * Frees a live allocation.
     *
     * @param handle a handle returned by this suballocator's {@link #tryAllocate} and not freed since
     * @throws IllegalArgumentException for a null, stale, foreign or already freed handle
     * @throws IllegalStateException    for an order of frees the algorithm forbids
     */
    void free(long handle);

    /** Frees every live allocation at once; every outstanding handle becomes stale. */
    void reset();

    /**
     * @param handle a live handle
     * @return its absolute offset
     * @throws IllegalArgumentException for a null, stale or foreign handle
     */
    long offset(long handle);

    /**
     * @param handle a live handle
     * @return the size that was asked for when it was allocated
     * @throws IllegalArgumentException for a null, stale or foreign handle
     */
    long size(long handle);

    /**
     * @param handle a live handle
     * @return the type it was allocated with
     * @throws IllegalArgumentException for a null, stale or foreign handle
     */
    AllocationType type(long handle);

    /** @return the region's first byte */
    long regionOffset();

    /** @return the region's size in bytes */
    long regionSize();

    /** @return bytes not taken by any live allocation (alignment padding of live allocations counts as taken) */
    long freeBytes();

    /** @return the size of the largest free range, an upper bound for one allocation of alignment 1 */
    long largestFreeRange();

    /** @return the number of live allocations */
    int liveCount();

    /** @return which algorithm this is */
    SuballocatorKind kind();

    /**
     * Walks the region in offset order, reporting every live allocation and every free range.
     *
     * <p>The reported ranges do not overlap and lie inside the region; the free ranges are exactly what
     * {@link #freeBytes()} counts (their sum equals it). Bytes in neither (alignment padding and small slack that an
     * allocation holds, or parts of the region the algorithm cannot use) are taken: they lie in the gaps between the
     * reported ranges, and {@code regionSize() - freeBytes() - (sum of live sizes)} is their total.
     *
     * <p>The visitor may read ({@link #offset}, {@link #size}, {@link #type}, the statistics, another visit) but not
     * change this suballocator: while the walk runs, {@link #tryAllocate}, {@link #free} and {@link #reset} throw
     * {@link IllegalStateException} and change nothing. Collect the handles, and change them after visit returns.
     *
     * @param visitor receives the calls
     */
    void visit(Visitor visitor);

    /**
     * Checks the internal invariants that the class documentation lists.
     *
     * @throws IllegalStateException naming the first broken invariant
     */
    void checkInvariants();

    /** Receives the ranges of a region in offset order. */
    interface Visitor {
        /**
         * A live allocation.
         *
         * @param handle its handle
         * @param offset its absolute offset
         * @param size   the size asked for
         * @param type   its type
         */
        void allocation(long handle, long offset, long size, AllocationType type);

        /**
         * A free range: bytes that {@link Suballocator#freeBytes()} counts. Neighbouring free ranges may be reported
         * separately where the algorithm keeps them apart (a buddy's free nodes).
         *
         * @param offset absolute offset
         * @param size   bytes
         */
        void free(long offset, long size);
    }
}
