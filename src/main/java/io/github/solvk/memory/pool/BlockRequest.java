package io.github.solvk.memory.pool;

import java.util.Objects;

import io.github.solvk.memory.vulkan.VulkanBuffer;

/**
 * A buffer request to a {@link BlockPoolAllocator}.
 *
 * @param size       bytes, {@code > 0}
 * @param usage      {@code VkBufferUsageFlags}, not 0; in {@link BlockPoolAllocator.BufferMode#SUB_RANGE} mode a
 *                   subset of the allocator's {@link BlockPoolAllocator.Config#subRangeUsage()}
 * @param filter     which memory property flags the memory type requires and prefers
 * @param preference whether the allocator may make new device memory for it
 * @param alignment  the least alignment of the buffer's offset in its memory on top of the driver's, a power of two,
 *                   or 0 for the driver's alone (pass {@code minStorageBufferOffsetAlignment} and the like here when
 *                   the buffer's offset is bound to descriptors)
 * @param name       recorded with dedicated memory in VMA, or {@code null}
 * @param bufferMode   how the buffer is made, or {@code null} for the allocator's {@link BlockPoolAllocator.Config}
 * @param withinBudget whether new device memory for it (a block, dedicated memory) is made only while the heap's usage
 *                     plus its size stays within the heap's budget (VMA's {@code WITHIN_BUDGET}); a block that would
 *                     pass it is tried at 1/2, 1/4 and 1/8 of its size, as for want of memory, and when none fits the
 *                     request fails as out of device memory. Blocks and cached ranges that exist serve it regardless
 */
public record BlockRequest(long size, int usage, MemoryTypeFilter filter, AllocatePreference preference,
                           long alignment, String name, BlockPoolAllocator.BufferMode bufferMode,
                           boolean withinBudget) {

    /**
     * Checks the values that need no allocator to check.
     *
     * @throws IllegalArgumentException naming the first bad value
     * @throws NullPointerException     for a null filter or preference
     */
    public BlockRequest {
        if (size <= 0) {
            throw new IllegalArgumentException("size: " + size + " (expected: > 0)");
        }
        if (usage == 0) {
            throw new IllegalArgumentException("usage: 0 (expected: at least one VkBufferUsageFlagBits bit)");
        }
        VulkanBuffer.checkKnownUsage("usage", usage);
        Objects.requireNonNull(filter, "filter: null (expected: a MemoryTypeFilter)");
        Objects.requireNonNull(preference, "preference: null (expected: an AllocatePreference)");
        if (alignment < 0 || (alignment & (alignment - 1)) != 0) {
            throw new IllegalArgumentException("alignment: " + alignment + " (expected: 0 or a power of two)");
        }
    }

    /**
     * A request with no budget check.
     *
     * @param size       bytes, {@code > 0}
     * @param usage      {@code VkBufferUsageFlags}, not 0
     * @param filter     which memory property flags the memory type requires and prefers
     * @param preference whether the allocator may make new device memory for it
     * @param alignment  a power of two, or 0 for the driver's
     * @param name       recorded with dedicated memory in VMA, or {@code null}
     * @param bufferMode how the buffer is made, or {@code null} for the allocator's default
     */
    public BlockRequest(long size, int usage, MemoryTypeFilter filter, AllocatePreference preference, long alignment,
                        String name, BlockPoolAllocator.BufferMode bufferMode) {
        this(size, usage, filter, preference, alignment, name, bufferMode, false);
    }

    /**
     * A request in the allocator's buffer mode.
     *
     * @param size       bytes, {@code > 0}
     * @param usage      {@code VkBufferUsageFlags}, not 0
     * @param filter     which memory property flags the memory type requires and prefers
     * @param preference whether the allocator may make new device memory for it
     * @param alignment  a power of two, or 0 for the driver's
     * @param name       recorded with dedicated memory in VMA, or {@code null}
     */
    public BlockRequest(long size, int usage, MemoryTypeFilter filter, AllocatePreference preference, long alignment,
                        String name) {
        this(size, usage, filter, preference, alignment, name, null, false);
    }

    /**
     * A request with the allocator's defaults: {@link AllocatePreference#UNKNOWN}, the driver's alignment, no name,
     * the allocator's buffer mode.
     *
     * @param size   bytes, {@code > 0}
     * @param usage  {@code VkBufferUsageFlags}, not 0
     * @param filter which memory property flags the memory type requires and prefers
     * @return the request
     */
    public static BlockRequest of(long size, int usage, MemoryTypeFilter filter) {
        return new BlockRequest(size, usage, filter, AllocatePreference.UNKNOWN, 0, null, null, false);
    }

    /**
     * @param preference whether the allocator may make new device memory
     * @return a copy with that preference
     */
    public BlockRequest withPreference(AllocatePreference preference) {
        return new BlockRequest(size, usage, filter, preference, alignment, name, bufferMode, withinBudget);
    }

    /**
     * @param mode how the buffer is made, or {@code null} for the allocator's default
     * @return a copy with that buffer mode
     */
    public BlockRequest withBufferMode(BlockPoolAllocator.BufferMode mode) {
        return new BlockRequest(size, usage, filter, preference, alignment, name, mode, withinBudget);
    }

    /**
     * @param withinBudget whether new device memory for it is made only within the heap's budget
     * @return a copy with that budget check
     */
    public BlockRequest withBudgetCheck(boolean withinBudget) {
        return new BlockRequest(size, usage, filter, preference, alignment, name, bufferMode, withinBudget);
    }

    /**
     * @param bytes a power of two, or 0 for the driver's alignment
     * @return a copy with that alignment
     */
    public BlockRequest withAlignment(long bytes) {
        return new BlockRequest(size, usage, filter, preference, bytes, name, bufferMode, withinBudget);
    }
}
