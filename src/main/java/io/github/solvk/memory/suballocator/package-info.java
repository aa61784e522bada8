/**
 * Pure-Java suballocators: algorithms that place allocations inside one region {@code [offset, offset + size)} of an
 * abstract address space, in practice one {@code VkDeviceMemory} block of a pool. They import nothing from LWJGL,
 * work on {@code long} offsets up to 2^62, hand out {@code long} handles, keep their state in primitive arrays and make
 * no garbage on allocation or free. {@link io.github.solvk.memory.suballocator.Suballocator} is the contract;
 * {@link io.github.solvk.memory.suballocator.Suballocators} makes one per
 * {@link io.github.solvk.memory.suballocator.SuballocatorKind}: {@link
 * io.github.solvk.memory.suballocator.TlsfSuballocator} (the default, any order of frees) and {@link
 * io.github.solvk.memory.suballocator.BuddySuballocator} (powers of two), plus stack, ring and fixed-size pool for
 * allocations whose order or size is known in advance. The three ideas below are shared by all of them.
 *
 * <h2>Alignment</h2>
 * A resource must start at an offset that is a multiple of its alignment (from {@code VkMemoryRequirements}, always a
 * power of two). Alignment is absolute: counted from offset 0 of the memory, not from the region's start, because the
 * driver checks the offset within the {@code VkDeviceMemory}. The bytes skipped to get there are <em>padding</em>;
 * they belong to no one else, so they count as taken until the allocation is freed:
 * <pre>
 *   offset  0        100 128            328
 *           |  A (100) |pad|   B (200)    |     free ...
 *           +----------+---+--------------+-----------------
 *                        B asked for alignment 64: 100 is rounded up to 128, 28 bytes of padding
 * </pre>
 *
 * <h2>Buffer-image granularity</h2>
 * Vulkan divides memory into pages of {@code bufferImageGranularity} bytes ({@code VkPhysicalDeviceLimits}; 1024 on
 * many NVIDIA GPUs, 1 on most AMD ones, 64 on lavapipe). A <em>linear</em> resource (a buffer, a linear-tiling image)
 * and a <em>non-linear</em> one (an optimal-tiling image) must not share a page, or the driver may alias them
 * (Vulkan specification, "Resource Memory Association"). Resources of the same kind may share pages freely. The
 * suballocators get the granularity at construction and the kind as an
 * {@link io.github.solvk.memory.suballocator.AllocationType} per allocation;
 * {@link io.github.solvk.memory.suballocator.AllocationType#UNKNOWN} is kept apart from everything. When a neighbour
 * conflicts, the allocation moves to the next page boundary, or to a place without such a neighbour:
 * <pre>
 *   granularity 1024
 *   page      |0                        |1024                     |2048
 *             +---------+---------------+------------------+------+-----
 *   fine      | buffer  | buffer        | buffer           |      |       same kind: may share a page
 *             +---------+---------------+------------------+------+-----
 *   conflict  | buffer  |.. padding ....| optimal image    |      |       the image starts on the next page
 *             +---------+---------------+------------------+------+-----
 * </pre>
 * Two allocations conflict when their types do
 * ({@link io.github.solvk.memory.suballocator.AllocationType#conflictsWith}) and a byte of one and a byte of the other
 * lie in the same page. Only neighbours in offset order need checking: an allocation between two that share a page
 * lies in that page too, and a chain of neighbours none of which conflict all have one type (never {@code UNKNOWN}),
 * so its two ends do not conflict either.
 *
 * <h2>Fragmentation</h2>
 * <em>Internal</em> fragmentation is memory inside allocations that was not asked for: padding, sizes rounded up (the
 * buddy rounds to a power of two, a pool to its slot size). <em>External</em> fragmentation is free memory split into
 * ranges too small for the request at hand: here 4 KiB are free but no 3 KiB request fits:
 * <pre>
 *   +------+------+------+------+------+------+------+------+
 *   | used | 1 KiB| used | 1 KiB| used | 1 KiB| used | 1 KiB|     free 4 KiB, largest free range 1 KiB
 *   +------+------+------+------+------+------+------+------+
 * </pre>
 * {@link io.github.solvk.memory.suballocator.Suballocator#freeBytes()} against
 * {@link io.github.solvk.memory.suballocator.Suballocator#largestFreeRange()} measures it. Algorithms that free in any
 * order merge neighbouring free ranges at once and choose a good fit to limit it; stack and ring avoid it by
 * construction (freeing in order leaves no holes), a fixed-size pool has none because every slot fits every request.
 * A region that fragments badly is best given back when empty and made afresh; the pools above do that.
 */
package io.github.solvk.memory.suballocator;
