package io.github.solvk.memory.diagnostics;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One block of device memory and what lies in it, for a {@link MemoryMap}.
 *
 * <p>The suballocations tile the block: they are sorted by offset, do not overlap and lie inside the block. The
 * constructor fills every gap (and the tail) with a {@link SuballocationType#FREE} range, so a caller may list only
 * the allocations; {@link #suballocations()} always covers {@code [0, size)} exactly. Padding a caller does not count
 * into an allocation's size therefore shows as free.
 *
 * <p>A {@link BlockKind#DEDICATED} block holds exactly one allocation, at offset 0 and as large as the block.
 *
 * @param pool            the pool's name; {@link #VMA_DEFAULT_POOL} for VMA's default pools
 * @param name            the block's name, unique within its pool and memory type (VMA uses its block id)
 * @param memoryTypeIndex the Vulkan memory type of the block
 * @param size            the block's size in bytes; positive
 * @param kind            where the block comes from
 * @param suballocations  the ranges of the block in offset order, free ranges included
 */
public record BlockInfo(String pool, String name, int memoryTypeIndex, long size, BlockKind kind,
        List<Suballocation> suballocations) {

    /** The pool name of blocks and dedicated allocations of VMA's default pools. */
    public static final String VMA_DEFAULT_POOL = "VMA default";

    /**
     * Checks the values, fills gaps with free ranges and copies the list.
     *
     * @param pool see {@link #pool()}
     * @param name see {@link #name()}
     * @param memoryTypeIndex see {@link #memoryTypeIndex()}
     * @param size see {@link #size()}
     * @param kind see {@link #kind()}
     * @param suballocations see {@link #suballocations()}
     * @throws IllegalArgumentException when a value is {@code null} or out of range, a suballocation lies outside
     *                                  the block, overlaps the previous one or comes before it, or a dedicated block
     *                                  does not hold exactly one allocation covering it
     */
    public BlockInfo {
        requireNonNull(pool, "pool");
        requireNonNull(name, "name");
        requireNonNull(kind, "kind");
        requireNonNull(suballocations, "suballocations");
        if (memoryTypeIndex < 0 || memoryTypeIndex >= 32) {
            throw new IllegalArgumentException("memoryTypeIndex: " + memoryTypeIndex + " (expected: 0 to 31)");
        }
        if (size <= 0) {
            throw new IllegalArgumentException("size of block '" + name + "': " + size + " (expected: > 0)");
        }
        List<Suballocation> tiled = new ArrayList<>(suballocations.size() + 1);
        long end = 0;
        for (int i = 0; i < suballocations.size(); i++) {
            Suballocation s = suballocations.get(i);
            if (s == null) {
                throw new IllegalArgumentException("suballocations[" + i + "] of block '" + name
                        + "': null (expected: a Suballocation)");
            }
            if (s.offset() < end) {
                throw new IllegalArgumentException("suballocations[" + i + "] of block '" + name + "': offset "
                        + s.offset() + " (expected: >= " + end + ", the end of the previous one; sorted, no overlap)");
            }
            if (s.end() > size) {
                throw new IllegalArgumentException("suballocations[" + i + "] of block '" + name + "': end "
                        + s.end() + " (expected: <= " + size + ", the block size)");
            }
            if (s.offset() > end) {
                tiled.add(Suballocation.free(end, s.offset() - end));
            }
            tiled.add(s);
            end = s.end();
        }
        if (end < size) {
            tiled.add(Suballocation.free(end, size - end));
        }
        if (kind == BlockKind.DEDICATED && (tiled.size() != 1 || tiled.get(0).isFree())) {
            throw new IllegalArgumentException("suballocations of dedicated block '" + name + "': " + suballocations
                    + " (expected: exactly one allocation at offset 0 of size " + size + ")");
        }
        suballocations = List.copyOf(tiled);
    }

    /**
     * A dedicated allocation: a block that holds one resource.
     *
     * @param pool            the pool's name, or {@link #VMA_DEFAULT_POOL}
     * @param name            the block's name
     * @param memoryTypeIndex the Vulkan memory type
     * @param size            the size in bytes
     * @param type            the resource's type; not {@link SuballocationType#FREE}
     * @param usage           the resource's usage flags, or 0
     * @param resourceName    the resource's name, or {@code null}
     * @param allocationSite  where it was allocated, or {@code null}
     * @return a {@link BlockKind#DEDICATED} block
     */
    public static BlockInfo dedicated(String pool, String name, int memoryTypeIndex, long size,
            SuballocationType type, int usage, String resourceName, String allocationSite) {
        return new BlockInfo(pool, name, memoryTypeIndex, size, BlockKind.DEDICATED,
                List.of(new Suballocation(0, size, type, usage, resourceName, allocationSite)));
    }

    /**
     * Bytes taken by allocations.
     *
     * @return the sum of the sizes of all suballocations that are not free
     */
    public long usedBytes() {
        long used = 0;
        for (Suballocation s : suballocations) {
            if (!s.isFree()) {
                used += s.size();
            }
        }
        return used;
    }

    /**
     * The number of allocations.
     *
     * @return how many suballocations are not free
     */
    public int allocationCount() {
        int count = 0;
        for (Suballocation s : suballocations) {
            if (!s.isFree()) {
                count++;
            }
        }
        return count;
    }

    private static void requireNonNull(Object value, String what) {
        Objects.requireNonNull(value, () -> what + ": null (expected: a value)");
    }
}
