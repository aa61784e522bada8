package io.github.solvk.memory.diagnostics;

/**
 * One pool's occupancy, for {@link PoolStatisticsEvent}.
 *
 * @param pool             the pool's name
 * @param blocks           the number of blocks it holds
 * @param liveBuffers      the number of live buffers in it
 * @param committedBytes   the sum of its block sizes
 * @param freeBytes        free bytes in its blocks
 * @param largestFreeBytes the largest free range in any of its blocks
 */
public record PoolStats(String pool, int blocks, long liveBuffers, long committedBytes, long freeBytes,
        long largestFreeBytes) {
}
