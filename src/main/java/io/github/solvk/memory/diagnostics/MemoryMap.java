package io.github.solvk.memory.diagnostics;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A snapshot of a device's memory: its heaps and memory types and every block with what lies in it. The root
 * package builds one from its pools and VMA; {@link MemoryMapJson}, {@link MemoryMapHtml} and {@link MemoryMapPng}
 * write it out. See the {@linkplain io.github.solvk.memory.diagnostics package documentation} for the model.
 *
 * @param deviceName the GPU's name ({@code VkPhysicalDeviceProperties.deviceName})
 * @param heaps      the memory heaps, in index order
 * @param types      the memory types, in index order
 * @param blocks     the blocks, in the order they are to be shown
 */
public record MemoryMap(String deviceName, List<HeapInfo> heaps, List<TypeInfo> types, List<BlockInfo> blocks) {

    /**
     * Checks the values and copies the lists.
     *
     * @param deviceName see {@link #deviceName()}
     * @param heaps see {@link #heaps()}
     * @param types see {@link #types()}
     * @param blocks see {@link #blocks()}
     * @throws IllegalArgumentException when a value is {@code null}, heaps or types are not listed by index from 0,
     *                                  a type names a missing heap, two blocks of one pool, memory type and kind share
     *                                  a name, the blocks of one pool that are not dedicated differ in kind, or the
     *                                  {@linkplain BlockInfo#VMA_DEFAULT_POOL VMA default pool} has a
     *                                  {@link BlockKind#POOL_BLOCK}
     */
    public MemoryMap {
        Objects.requireNonNull(deviceName, "deviceName: null (expected: a name)");
        heaps = copy(heaps, "heaps", "HeapInfo");
        types = copy(types, "types", "TypeInfo");
        blocks = copy(blocks, "blocks", "BlockInfo");
        for (int i = 0; i < heaps.size(); i++) {
            if (heaps.get(i).index() != i) {
                throw new IllegalArgumentException("heaps[" + i + "].index: " + heaps.get(i).index()
                        + " (expected: " + i + ")");
            }
        }
        for (int i = 0; i < types.size(); i++) {
            TypeInfo type = types.get(i);
            if (type.index() != i) {
                throw new IllegalArgumentException("types[" + i + "].index: " + type.index() + " (expected: " + i
                        + ")");
            }
            if (type.heapIndex() >= heaps.size()) {
                throw new IllegalArgumentException("types[" + i + "].heapIndex: " + type.heapIndex()
                        + " (expected: < " + heaps.size() + ", the number of heaps)");
            }
        }
        Set<String> keys = new HashSet<>();
        Map<String, BlockKind> poolKinds = new HashMap<>();
        for (BlockInfo block : blocks) {
            if (block.kind() != BlockKind.DEDICATED) {
                BlockKind previous = poolKinds.putIfAbsent(block.pool(), block.kind());
                if (previous != null && previous != block.kind()) {
                    throw new IllegalArgumentException("kind of block '" + block.name() + "' of pool '" + block.pool()
                            + "': " + block.kind() + " (expected: " + previous + ", like the pool's other blocks)");
                }
                if (block.kind() == BlockKind.POOL_BLOCK && block.pool().equals(BlockInfo.VMA_DEFAULT_POOL)) {
                    throw new IllegalArgumentException("kind of block '" + block.name() + "' of pool '"
                            + block.pool() + "': POOL_BLOCK (expected: VMA_BLOCK or DEDICATED in VMA's default pool)");
                }
            }
            String key = block.pool() + '\u0000' + block.memoryTypeIndex() + '\u0000' + block.kind() + '\u0000'
                    + block.name();
            if (!keys.add(key)) {
                throw new IllegalArgumentException("block name: '" + block.name() + "' (expected: unique within pool '"
                        + block.pool() + "', memory type " + block.memoryTypeIndex() + " and kind " + block.kind()
                        + ")");
            }
        }
    }

    /**
     * The heap of a memory type.
     *
     * @param memoryTypeIndex a memory type index
     * @return the heap index, or -1 when the type is not listed
     */
    public int heapOf(int memoryTypeIndex) {
        return memoryTypeIndex < types.size() ? types.get(memoryTypeIndex).heapIndex() : -1;
    }

    /** {@link List#copyOf}, naming the list and the index of a null where it would say only "null". */
    private static <E> List<E> copy(List<E> list, String name, String elementType) {
        Objects.requireNonNull(list, () -> name + ": null (expected: a list)");
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == null) {
                throw new NullPointerException(name + "[" + i + "]: null (expected: a " + elementType + ")");
            }
        }
        return List.copyOf(list);
    }
}
