package io.github.solvk.memory.vulkan;

import java.util.List;
import java.util.Objects;

/**
 * A plain-Java description of a device's memory heaps and types plus the limits that memory placement needs.
 *
 * <p>It mirrors {@code VkPhysicalDeviceMemoryProperties} and a few {@code VkPhysicalDeviceLimits}, but holds no
 * native state, so memory type selection can be tested against recorded layouts of real GPUs as well as the device
 * at hand. {@link VulkanContext} reads one from the device; tests build them from the layouts file.
 *
 * @param heaps                  the memory heaps, indexed as the device indexes them
 * @param types                  the memory types, indexed as the device indexes them
 * @param bufferImageGranularity {@code VkPhysicalDeviceLimits::bufferImageGranularity} in bytes
 * @param nonCoherentAtomSize    {@code VkPhysicalDeviceLimits::nonCoherentAtomSize} in bytes
 */
public record MemoryProperties(List<Heap> heaps, List<Type> types, long bufferImageGranularity,
                               long nonCoherentAtomSize) {

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
    /** {@code VK_MEMORY_HEAP_DEVICE_LOCAL_BIT}. */
    public static final int HEAP_DEVICE_LOCAL = 0x1;
    /** Vulkan's {@code VK_MAX_MEMORY_TYPES}. */
    public static final int MAX_MEMORY_TYPES = 32;
    /** Vulkan's {@code VK_MAX_MEMORY_HEAPS}. */
    public static final int MAX_MEMORY_HEAPS = 16;

    /**
     * One memory heap.
     *
     * @param size  the heap's size in bytes
     * @param flags {@code VkMemoryHeapFlags}
     */
    public record Heap(long size, int flags) {
        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException if {@code size} is not positive
         */
        public Heap {
            if (size <= 0) {
                throw new IllegalArgumentException("heap size: " + size + " (expected: > 0)");
            }
        }

        /** @return whether {@code VK_MEMORY_HEAP_DEVICE_LOCAL_BIT} is set */
        public boolean deviceLocal() {
            return (flags & HEAP_DEVICE_LOCAL) != 0;
        }
    }

    /**
     * One memory type.
     *
     * @param heapIndex     the index of the heap it draws from
     * @param propertyFlags {@code VkMemoryPropertyFlags}
     */
    public record Type(int heapIndex, int propertyFlags) {
        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException if {@code heapIndex} is negative
         */
        public Type {
            if (heapIndex < 0) {
                throw new IllegalArgumentException("heapIndex: " + heapIndex + " (expected: >= 0)");
            }
        }

        /**
         * @param flags property flags
         * @return whether every one of {@code flags} is set on this type
         */
        public boolean has(int flags) {
            return (propertyFlags & flags) == flags;
        }
    }

    /**
     * Checks that the description is consistent.
     *
     * @throws IllegalArgumentException if there are no heaps or types, too many, a type names a missing heap, or a
     *                                  limit is not a positive power of two
     */
    public MemoryProperties {
        heaps = List.copyOf(Objects.requireNonNull(heaps, "heaps: null (expected: a list)"));
        types = List.copyOf(Objects.requireNonNull(types, "types: null (expected: a list)"));
        if (heaps.isEmpty() || heaps.size() > MAX_MEMORY_HEAPS) {
            throw new IllegalArgumentException("heap count: " + heaps.size() + " (expected: 1.." + MAX_MEMORY_HEAPS
                    + ")");
        }
        if (types.isEmpty() || types.size() > MAX_MEMORY_TYPES) {
            throw new IllegalArgumentException("type count: " + types.size() + " (expected: 1.." + MAX_MEMORY_TYPES
                    + ")");
        }
        for (int i = 0; i < types.size(); i++) {
            if (types.get(i).heapIndex() >= heaps.size()) {
                throw new IllegalArgumentException("memory type " + i + " heapIndex: " + types.get(i).heapIndex()
                        + " (expected: < heap count " + heaps.size() + ")");
            }
        }
        requirePowerOfTwo("bufferImageGranularity", bufferImageGranularity);
        requirePowerOfTwo("nonCoherentAtomSize", nonCoherentAtomSize);
    }

    private static void requirePowerOfTwo(String name, long value) {
        if (value <= 0 || (value & (value - 1)) != 0) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: a power of two)");
        }
    }

    /**
     * @param typeIndex a memory type index
     * @return that type's property flags
     * @throws IllegalArgumentException if there is no such type
     */
    public int propertyFlags(int typeIndex) {
        return type(typeIndex).propertyFlags();
    }

    /**
     * @param typeIndex a memory type index
     * @return that type
     * @throws IllegalArgumentException if there is no such type
     */
    public Type type(int typeIndex) {
        if (typeIndex < 0 || typeIndex >= types.size()) {
            throw new IllegalArgumentException("memory type index: " + typeIndex + " (expected: 0.."
                    + (types.size() - 1) + ")");
        }
        return types.get(typeIndex);
    }

    /**
     * @param typeIndex a memory type index
     * @return the heap that type draws from
     * @throws IllegalArgumentException if there is no such type
     */
    public Heap heapOfType(int typeIndex) {
        return heaps.get(type(typeIndex).heapIndex());
    }

    /** @return a bit mask with one bit set for every memory type, as {@code memoryTypeBits} would allow all */
    public int allTypeBits() {
        return types.size() == 32 ? -1 : (1 << types.size()) - 1;
    }

    /**
     * Names the set bits of a {@code VkMemoryPropertyFlags} value, for messages and tables.
     *
     * @param flags property flags
     * @return for example {@code DEVICE_LOCAL|HOST_VISIBLE}, or {@code NONE}
     */
    public static String describeFlags(int flags) {
        if (flags == 0) {
            return "NONE";
        }
        String[] names = {"DEVICE_LOCAL", "HOST_VISIBLE", "HOST_COHERENT", "HOST_CACHED", "LAZILY_ALLOCATED",
            "PROTECTED", "DEVICE_COHERENT_AMD", "DEVICE_UNCACHED_AMD", "RDMA_CAPABLE_NV"};
        StringBuilder sb = new StringBuilder();
        for (int bit = 0; bit < 32; bit++) {
            if ((flags & (1 << bit)) != 0) {
                if (sb.length() > 0) {
                    sb.append('|');
                }
                sb.append(bit < names.length ? names[bit] : "0x" + Integer.toHexString(1 << bit));
            }
        }
        return sb.toString();
    }
}
