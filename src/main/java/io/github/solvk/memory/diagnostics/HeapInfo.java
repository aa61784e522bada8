package io.github.solvk.memory.diagnostics;

/**
 * One Vulkan memory heap and its budget.
 *
 * @param index       the heap index
 * @param size        {@code VkMemoryHeap.size} in bytes
 * @param flags       {@code VkMemoryHeapFlags}
 * @param budgetBytes how much the process may use ({@code VmaBudget.budget}), or 0 when unknown
 * @param usageBytes  how much the process uses ({@code VmaBudget.usage}), or 0 when unknown
 */
public record HeapInfo(int index, long size, int flags, long budgetBytes, long usageBytes) {

    /** {@code VK_MEMORY_HEAP_DEVICE_LOCAL_BIT}. */
    public static final int DEVICE_LOCAL = 0x1;
    /** {@code VK_MEMORY_HEAP_MULTI_INSTANCE_BIT}. */
    public static final int MULTI_INSTANCE = 0x2;

    /**
     * Checks the values.
     *
     * @param index see {@link #index()}
     * @param size see {@link #size()}
     * @param flags see {@link #flags()}
     * @param budgetBytes see {@link #budgetBytes()}
     * @param usageBytes see {@link #usageBytes()}
     * @throws IllegalArgumentException when the index is outside 0 to 15 or a size is negative
     */
    public HeapInfo {
        if (index < 0 || index >= 16) {
            throw new IllegalArgumentException("heap index: " + index + " (expected: 0 to 15)");
        }
        if (size < 0 || budgetBytes < 0 || usageBytes < 0) {
            throw new IllegalArgumentException("heap " + index + " size/budget/usage: " + size + "/" + budgetBytes
                    + "/" + usageBytes + " (expected: >= 0)");
        }
    }
}
