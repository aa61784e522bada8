package io.github.solvk.memory;

/**
 * How the host (CPU) will touch an allocation's memory through a mapping, as far as memory type selection cares.
 *
 * <p>It matters to the {@code AUTO*} {@link MemoryUsage}s, which derive the host-side memory property flags from it;
 * {@link MemoryUsage#UPLOAD} and {@link MemoryUsage#DOWNLOAD} imply it, and {@link MemoryUsage#DEVICE_ONLY} and
 * {@link MemoryUsage#GPU_LAZILY_ALLOCATED} forbid it. The meaning matches VMA's
 * {@code VMA_ALLOCATION_CREATE_HOST_ACCESS_SEQUENTIAL_WRITE_BIT} and {@code ..._RANDOM_BIT} allocation flags.
 * The selection rule is explained in {@link io.github.solvk.memory.pool}.
 */
public enum HostAccess {
    /** The memory is never mapped: no host-side property flag is required. */
    NONE,
    /**
     * The host only writes, front to back, and never reads (a {@code memcpy} into a staging or uniform buffer).
     * Requires {@code HOST_VISIBLE}; avoids {@code HOST_CACHED}, because uncached write-combined memory is the
     * fast path for streaming writes and a cache would only be polluted.
     */
    SEQUENTIAL_WRITE,
    /**
     * The host reads, or reads and writes in any order (read-back of results, CPU-side data structures).
     * Requires {@code HOST_VISIBLE}; prefers {@code HOST_CACHED}, because reading uncached memory is an order of
     * magnitude slower. Cached memory is preferred rather than required since some devices (Raspberry Pi, PowerVR)
     * have none.
     */
    RANDOM
}
