package io.github.solvk.memory.pool;

import io.github.solvk.memory.vulkan.MemoryProperties;
import java.util.Arrays;
import java.util.Objects;

/**
 * Chooses the memory type for an allocation from a device's memory properties, the resource's
 * {@code memoryTypeBits} and a {@link MemoryTypeFilter}.
 *
 * <p>Use {@link #findMemoryTypeIndex} for one answer and {@link #candidates} when the caller must be able to fall back
 * (a block pool whose preferred heap is full tries the next candidate, then fails with "no compatible memory type"
 * only when every candidate failed). Neither throws when nothing fits: that is the caller's decision.
 *
 * <p>The rule, explained with a diagram in the {@linkplain io.github.solvk.memory.pool package documentation}: a type
 * is acceptable if {@code memoryTypeBits} allows it and the filter {@linkplain MemoryTypeFilter#accepts accepts} its
 * flags (all required flags, no excluded opt-in flag); among acceptable types the lowest
 * {@linkplain MemoryTypeFilter#cost cost} wins, and the lowest index breaks ties, because Vulkan lists memory types
 * of equal flags fastest first. Worked example, the NVIDIA H200 with {@code UPLOAD} (required {@code HOST_VISIBLE},
 * preferred {@code DEVICE_LOCAL}, not preferred {@code HOST_CACHED}):
 * <pre>
 *  type  flags                                   acceptable  cost
 *   0    NONE                                    no (not HOST_VISIBLE)
 *   1    DEVICE_LOCAL                            no (not HOST_VISIBLE)
 *   2    HOST_VISIBLE|HOST_COHERENT              yes         1 (lacks DEVICE_LOCAL)
 *   3    HOST_VISIBLE|HOST_COHERENT|HOST_CACHED  yes         2 (lacks DEVICE_LOCAL, has HOST_CACHED)
 *   4    DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT yes         0            &larr; chosen; candidates 4, 2, 3
 * </pre>
 *
 * <p>Complexity: O(n) for {@link #findMemoryTypeIndex} and O(n log n) for {@link #candidates} with n &le; 32 memory
 * types; neither depends on anything else. The reference is VMA's {@code vmaFindMemoryTypeIndex} cost (preferred bits
 * missing plus not-preferred bits present) and vulkano's {@code MemoryTypeFilter}; no code of theirs is used.
 */
public final class MemoryTypeSelector {

    /** The sort key packs {@code cost << INDEX_BITS | index}; 5 bits hold every index below 32. */
    private static final int INDEX_BITS = 5;
    private static final int INDEX_MASK = (1 << INDEX_BITS) - 1;

    private MemoryTypeSelector() {
    }

    /**
     * Finds the best memory type.
     *
     * @param props          the device's memory properties
     * @param memoryTypeBits {@code VkMemoryRequirements::memoryTypeBits}: bit i set allows type i; bits at or above the
     *                       type count are ignored, so {@code -1} allows every type
     * @param filter         what the allocation requires and prefers
     * @return the index of the acceptable type of lowest cost (lowest index among equals), or -1 if no type is
     *         acceptable
     * @throws NullPointerException     if {@code props} or {@code filter} is null
     * @throws IllegalArgumentException if {@code memoryTypeBits} allows none of the device's types
     */
    public static int findMemoryTypeIndex(MemoryProperties props, int memoryTypeBits, MemoryTypeFilter filter) {
        int allowed = allowedBits(props, memoryTypeBits, filter);
        int best = -1;
        int bestCost = Integer.MAX_VALUE;
        for (int i = 0; i < props.types().size(); i++) {
            int flags = props.types().get(i).propertyFlags();
            if ((allowed & (1 << i)) == 0 || !filter.accepts(flags)) {
                continue;
            }
            int cost = filter.cost(flags);
            // Strictly lower only: an equal cost keeps the earlier, faster type.
            if (cost < bestCost) {
                best = i;
                bestCost = cost;
                if (cost == 0) {
                    break;
                }
            }
        }
        return best;
    }

    /**
     * Lists every acceptable memory type, best first: ascending cost, ascending index among equal costs. The first
     * element, if any, is what {@link #findMemoryTypeIndex} returns for the same arguments.
     *
     * @param props          the device's memory properties
     * @param memoryTypeBits {@code VkMemoryRequirements::memoryTypeBits}, as for {@link #findMemoryTypeIndex}
     * @param filter         what the allocation requires and prefers
     * @return a new array of type indices, empty if no type is acceptable
     * @throws NullPointerException     if {@code props} or {@code filter} is null
     * @throws IllegalArgumentException if {@code memoryTypeBits} allows none of the device's types
     */
    public static int[] candidates(MemoryProperties props, int memoryTypeBits, MemoryTypeFilter filter) {
        int allowed = allowedBits(props, memoryTypeBits, filter);
        int[] keys = new int[props.types().size()];
        int count = 0;
        for (int i = 0; i < keys.length; i++) {
            int flags = props.types().get(i).propertyFlags();
            if ((allowed & (1 << i)) != 0 && filter.accepts(flags)) {
                // Cannot overflow: the cost is at most 9, so the key stays below 10 << 5.
                keys[count++] = filter.cost(flags) << INDEX_BITS | i;
            }
        }
        Arrays.sort(keys, 0, count);
        int[] result = new int[count];
        for (int k = 0; k < count; k++) {
            result[k] = keys[k] & INDEX_MASK;
        }
        return result;
    }

    private static int allowedBits(MemoryProperties props, int memoryTypeBits, MemoryTypeFilter filter) {
        Objects.requireNonNull(props, "props: null (expected: the device's MemoryProperties)");
        Objects.requireNonNull(filter, "filter: null (expected: a MemoryTypeFilter)");
        int allowed = memoryTypeBits & props.allTypeBits();
        if (allowed == 0) {
            throw new IllegalArgumentException("memoryTypeBits: 0x" + Integer.toHexString(memoryTypeBits)
                    + " (expected: at least one bit of 0x" + Integer.toHexString(props.allTypeBits()) + ", one per"
                    + " memory type of this device)");
        }
        return allowed;
    }
}
