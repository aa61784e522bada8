package io.github.solvk.memory.pool;

/**
 * Whether a {@link BlockPoolAllocator} may make new device memory for a request; vulkano's
 * {@code MemoryAllocatePreference}.
 */
public enum AllocatePreference {
    /**
     * The allocator decides: it suballocates a block, makes a new block when none has room, and gives the request
     * memory of its own (dedicated) when it is larger than half a block or the driver prefers or requires that.
     */
    UNKNOWN,
    /**
     * Only suballocate blocks that exist: no new block, no dedicated memory. Fails with
     * {@link PoolException.Kind#OUT_OF_POOL_MEMORY} when no block has room, and with
     * {@link PoolException.Kind#DEDICATED_ALLOCATION_REQUIRED} when the driver requires dedicated memory.
     */
    NEVER_ALLOCATE,
    /**
     * Always give the request memory of its own (dedicated), however many memory objects are live; when that memory
     * cannot be made the next memory type is tried, never a block, and then the request fails with
     * {@link PoolException.Kind#OUT_OF_DEVICE_MEMORY}.
     */
    ALWAYS_ALLOCATE
}
