package io.github.solvk.memory;

import java.util.List;

/**
 * A manager's memory at one moment: per heap (with the budget from {@code VK_EXT_memory_budget} where the device has
 * it, else VMA's estimate), per memory type, and per pool. Made by {@link MemoryManager#memoryStatistics()}.
 *
 * @param heaps       one entry per heap
 * @param memoryTypes one entry per memory type
 * @param pools       one entry per open pool, in creation order
 * @param liveBuffers buffers made by the manager itself ({@code allocateBuffer}) and not closed
 * @param deviceMemoryAllocations {@code vkAllocateMemory} calls so far
 */
public record MemoryStatistics(List<Heap> heaps, List<MemoryType> memoryTypes, List<Pool> pools, int liveBuffers,
                               long deviceMemoryAllocations) {

    /**
     * One heap.
     *
     * @param index           the heap index
     * @param sizeBytes       the heap's size
     * @param deviceLocal     whether it is device-local
     * @param budgetBytes     how much this process may use before allocations fail or slow down
     * @param usageBytes      how much this process uses
     * @param blocks          {@code VkDeviceMemory} blocks VMA holds there (pool blocks included)
     * @param allocations     VMA allocations there (a pool block counts as one)
     * @param blockBytes      bytes in those blocks
     * @param allocationBytes bytes taken by allocations
     */
    public record Heap(int index, long sizeBytes, boolean deviceLocal, long budgetBytes, long usageBytes,
                       long blocks, long allocations, long blockBytes, long allocationBytes) {
    }

    /**
     * One memory type.
     *
     * @param index           the memory type index
     * @param heapIndex       its heap
     * @param propertyFlags   its {@code VkMemoryPropertyFlags}
     * @param blocks          blocks VMA holds in it
     * @param allocations     VMA allocations in it
     * @param blockBytes      bytes in those blocks
     * @param allocationBytes bytes taken by allocations
     */
    public record MemoryType(int index, int heapIndex, int propertyFlags, long blocks, long allocations,
                             long blockBytes, long allocationBytes) {
    }

    /**
     * One pool.
     *
     * @param name             its name
     * @param kind             NON_LINEAR, FREE_AT_ONCE, STACK, RING_BUFFER or FIXED_SIZE
     * @param memoryTypeIndex  its memory type
     * @param blocks           blocks held
     * @param liveBuffers      buffers handed out and not closed
     * @param committedBytes   bytes in its blocks
     * @param usedBytes        bytes taken by live buffers and their padding
     * @param freeBytes        bytes free
     * @param freeRanges       the number of free ranges
     * @param largestFreeRange the largest free range; for a fixed-size pool one slot (the slot size plus its guard
     *                         margin) while a slot is free, else 0, as
     *                         {@link io.github.solvk.memory.pool.BlockMemoryPool.Statistics} says
     */
    public record Pool(String name, String kind, int memoryTypeIndex, int blocks, int liveBuffers,
                       long committedBytes, long usedBytes, long freeBytes, int freeRanges, long largestFreeRange) {
    }

    /** @return bytes held in device memory blocks, over all heaps */
    public long committedBytes() {
        return heaps.stream().mapToLong(Heap::blockBytes).sum();
    }
}
