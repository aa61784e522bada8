package io.github.solvk.memory.diagnostics;

/**
 * One Vulkan memory type.
 *
 * @param index         the memory type index
 * @param heapIndex     the heap it allocates from
 * @param propertyFlags {@code VkMemoryPropertyFlags}
 */
public record TypeInfo(int index, int heapIndex, int propertyFlags) {

    /** {@code VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT}. */
    public static final int DEVICE_LOCAL = 0x1;
    /** {@code VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT}. */
    public static final int HOST_VISIBLE = 0x2;
    /** {@code VK_MEMORY_PROPERTY_HOST_COHERENT_BIT}. */
    public static final int HOST_COHERENT = 0x4;
    /** {@code VK_MEMORY_PROPERTY_HOST_CACHED_BIT}. */
    public static final int HOST_CACHED = 0x8;
    /** {@code VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT}. */
    public static final int LAZILY_ALLOCATED = 0x10;
    /** {@code VK_MEMORY_PROPERTY_PROTECTED_BIT}. */
    public static final int PROTECTED = 0x20;
    /** {@code VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD}. */
    public static final int DEVICE_COHERENT_AMD = 0x40;
    /** {@code VK_MEMORY_PROPERTY_DEVICE_UNCACHED_BIT_AMD}. */
    public static final int DEVICE_UNCACHED_AMD = 0x80;

    /**
     * Checks the values.
     *
     * @param index see {@link #index()}
     * @param heapIndex see {@link #heapIndex()}
     * @param propertyFlags see {@link #propertyFlags()}
     * @throws IllegalArgumentException when the index is outside 0 to 31 or the heap index outside 0 to 15
     */
    public TypeInfo {
        if (index < 0 || index >= 32) {
            throw new IllegalArgumentException("memory type index: " + index + " (expected: 0 to 31)");
        }
        if (heapIndex < 0 || heapIndex >= 16) {
            throw new IllegalArgumentException("heap index of memory type " + index + ": " + heapIndex
                    + " (expected: 0 to 15)");
        }
    }
}
