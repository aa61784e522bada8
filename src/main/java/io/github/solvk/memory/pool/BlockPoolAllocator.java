package io.github.solvk.memory.pool;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

import io.github.solvk.memory.internal.Failures;
import io.github.solvk.memory.suballocator.SuballocatorFactory;
import io.github.solvk.memory.suballocator.SuballocatorKind;
import io.github.solvk.memory.vulkan.MemoryProperties;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanException;
import io.github.solvk.memory.vulkan.VulkanMemory;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * A general-purpose buffer allocator with one pool of {@code VkDeviceMemory} blocks per memory type, the blocks made
 * by VMA and shared out by a pure-Java {@link io.github.solvk.memory.suballocator.Suballocator} (vulkano's
 * {@code GenericMemoryAllocator}, on VMA memory).
 *
 * <p><b>When to use it.</b> For buffers of any size, lifetime and memory usage, when no pool with stronger rules
 * (a ring, a stack, a free-at-once pool) fits the pattern. Against {@code vmaCreateBuffer} it trades VMA's
 * allocation algorithms for ours and, in {@link BufferMode#SUB_RANGE} mode, makes no Vulkan call per allocation.
 *
 * <p><b>Algorithm.</b> A request ({@link BlockRequest}) is measured once per usage and power-of-two size class with a
 * throw-away {@code VkBuffer} ({@code vkGetBufferMemoryRequirements2}: memory type bits, alignment, whether the driver
 * prefers or requires dedicated memory). {@link MemoryTypeSelector#candidates} orders the acceptable memory types; for
 * each in turn:
 * <ol>
 *   <li>it gets <em>dedicated</em> memory (its own {@code VkDeviceMemory} and {@code VkBuffer}) when the driver
 *       requires it, when it is larger than a block or aligned beyond the block size, or when the preference is
 *       {@link AllocatePreference#ALWAYS_ALLOCATE} (as vulkano's {@code AlwaysAllocate}: no block is tried, even
 *       when that memory cannot be made); and, as long as at most 3/4 of {@code maxMemoryAllocationCount} memory
 *       objects of this allocator are live, when it is larger than half the block size or the driver prefers
 *       dedicated memory (such preferred memory that cannot be made falls back to the blocks that exist). Dedicated
 *       memory that the heap has no room for (and, when only preferred, that no existing block takes instead) is
 *       tried once more after the memory type gives back what no buffer uses: the calling thread's cached ranges of
 *       it, releases waiting in its arenas, and its empty blocks, kept ones included;</li>
 *   <li>else the first block of the calling thread's arena (see <b>Threads</b>), in the order they came to it, whose
 *       suballocator has room takes it;</li>
 *   <li>else an empty block that another arena keeps moves to this one, or a new block is made: an arena's first
 *       three are 1/8, 1/4 and 1/2 of the block size, the later ones full size, each doubled (up to the block size)
 *       while an empty block of that size would not hold the request or the suballocator factory refuses the size
 *       ({@code IllegalArgumentException}), which is found out before any memory is made (a request that no block
 *       would hold, such as one a buddy's roots cannot place, or one for which the factory refuses the block size,
 *       is refused with {@link PoolException.Kind#SUBALLOCATOR_BLOCK_SIZE_EXCEEDED} and makes no memory). When VMA
 *       answers {@code VK_ERROR_OUT_OF_DEVICE_MEMORY}, 1/2, 1/4 and 1/8 of that size are tried, never below what
 *       the request needs (a size the factory refuses ends them, suppressed on the out-of-memory failure), and then
 *       the other arenas' blocks. When none takes it, the memory type gives back what no
 *       buffer uses, as for dedicated memory above (the empty block kept could not take the request, but its memory
 *       may be what the new block lacks), and the request is tried once more when that gave anything back;</li>
 *   <li>when all of that ran out of device memory, the next candidate memory type is tried; after the last,
 *       {@link PoolException.Kind#OUT_OF_DEVICE_MEMORY}.</li>
 * </ol>
 * A release gives the range back (small ranges first wait in the cache of the thread that handed them out: see
 * <b>Thread caches</b>);
 * a block left empty is kept while it is the only empty block of its memory type ({@link Config#maxEmptyBlocks()}),
 * else freed at once, so a pool that shrinks returns its memory to VMA.
 *
 * <p>Worked example, block size 256 MiB on a 16 GiB heap, {@code DEVICE_ONLY} requests: a 1 MiB buffer makes a 32 MiB
 * block (1/8); 40 more fill it and make a 64 MiB block; a 200 MiB buffer (over half a block) gets dedicated memory.
 * If VMA refuses the third block, 128 MiB, it tries 64, 32 and 16 MiB before the next memory type.
 *
 * <p><b>Buffers.</b> {@link BufferMode#SUB_RANGE}: every block has one {@code VkBuffer} over its whole range, made
 * with {@link Config#subRangeUsage()}, and an allocation is a {@link VulkanBuffer#subRange}: no Vulkan call.
 * {@link BufferMode#OWN_BUFFER}: every allocation gets a {@code VkBuffer} of its own, bound at its offset (three
 * Vulkan calls, made outside the pool's lock, unless the buffer is recycled: see below). Dedicated memory always holds
 * a buffer of its own.
 *
 * <p><b>Threads.</b> Thread-safe. Each memory type's blocks are split into {@link Config#arenas()} arenas (by default
 * one per processor, at most four), each with its own lock and blocks; every thread has a home arena (threads are
 * numbered as they first allocate, thread {@code n} in arena {@code n mod arenas}), so two threads allocating at once
 * rarely touch the same lock or suballocator. A request holds its arena's lock while it suballocates or makes a block,
 * not while it makes a {@code VkBuffer} or dedicated memory. A release never waits: when the arena's lock is taken, or
 * the releasing thread's home is another arena, the range waits on a lock-free stack until the arena is next locked.
 * The price is memory: each arena a thread uses holds blocks of its own (its first is 1/8 of the block size), and
 * ranges released by other threads are reused only once the arena's threads come back. At most
 * {@link Config#maxEmptyBlocks()} empty blocks are kept over all arenas. {@link #close()} must not race with
 * {@link #allocate}.
 *
 * <p><b>Thread caches.</b> Each thread's budget per memory type is {@link Config#threadCacheBytes()}, cut to an
 * eighth of the memory type's block size where it is more. A released range of at most 1/16 of the budget (and at most
 * {@value Config#MAX_CACHED_RANGE} bytes) goes back to the cache of the thread that handed it out, while it has room
 * ({@code ThreadRangeCache}: one bin per size class, at most the budget per memory type): at once when that thread
 * releases it, in batches of up to 32 when another thread does (a releasing thread's batches hold at most its own
 * budget: one that would hold more goes early). That thread's next request of the same size class and alignment takes
 * it with no lock and no suballocator call. Such ranges are placed at their size class (four per power of two: at most
 * a quarter is padding). A cached range stays placed in its block: it counts as used memory
 * ({@link TypeStatistics#cachedRanges()}) and keeps its block from being freed until it goes back: before the thread's
 * request would grow the pool, when its bin sits unused through a sweep (every 4096 requests), on
 * {@link #flushThreadCache()} and {@link #checkInvariants()}, after its thread ended (at the next {@link #statistics()}
 * or out-of-memory), and with {@link #close()}. A batch whose thread ended, or whose thread's cache would go over its
 * budget, stays with the releasing thread's cache. A range that goes back to a block of another arena than the
 * releasing thread's waits on that arena's stack; that arena's thread takes it into its own cache at its next miss.
 *
 * <p><b>Recycled buffers.</b> With {@link Config#recycleBuffers()} (the default), a cached range of a
 * {@link BufferMode#OWN_BUFFER} buffer keeps its {@code VkBuffer}: the next request that takes the range with the same
 * size and usage gets that {@code VkBuffer} again, with no Vulkan call. Another size or usage, or a sub-range, destroys
 * it; so does the range's going back to its block, and {@link #close()}. Such a buffer's view does not destroy the
 * {@code VkBuffer} itself ({@link VulkanBuffer#ownsBuffer()} is false). {@link TypeStatistics#keptBuffers()} counts
 * them.
 *
 * <p><b>Complexity.</b> A request whose class was measured before: O(candidates &times; blocks) suballocator calls in
 * the worst case, O(1) when the first block has room. A release: O(1) plus O(blocks) when a block is freed.
 *
 * <p><b>Invariants</b> ({@link #checkInvariants()} asserts them): every suballocator's own; each pool counts its empty
 * blocks right and keeps at most {@link Config#maxEmptyBlocks()}; every placed range is listed once in its block (held
 * by an open buffer, or kept in a thread's cache); dedicated memory holds exactly one.
 *
 * <p><b>Reference.</b> vulkano's {@code GenericMemoryAllocator} and {@code MemoryAllocatePreference} (block sizes by
 * heap, dedicated above half a block, the 3/4 rule, the 1/2..1/8 retries); no code of theirs is used.
 */
public final class BlockPoolAllocator implements AutoCloseable {

    /** Block sizes are multiples of this, so a block-wide buffer never needs more memory than its block has. */
    static final long BLOCK_GRANULE = 64 * 1024;

    // Vulkan's values, spelled out so that this layer needs nothing from LWJGL (as MemoryProperties does).
    /** {@code VK_ERROR_OUT_OF_DEVICE_MEMORY}. */
    static final int VK_ERROR_OUT_OF_DEVICE_MEMORY = -2;
    /** {@code VK_ERROR_OUT_OF_HOST_MEMORY}. */
    static final int VK_ERROR_OUT_OF_HOST_MEMORY = -1;
    /** A thread whose last request is recorded ({@link ThreadRangeCache#plan}) records another once in so many. */
    private static final int PLAN_EVERY = 16;
    /** Entries of the thread caches' fast lookup ({@code fastCaches}); a power of two. */
    private static final int FAST_CACHES = 64;
    private static final int VK_BUFFER_USAGE_TRANSFER_SRC_BIT = 0x1;
    private static final int VK_BUFFER_USAGE_TRANSFER_DST_BIT = 0x2;
    private static final int VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT = 0x4;
    private static final int VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT = 0x8;
    private static final int VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT = 0x10;
    private static final int VK_BUFFER_USAGE_STORAGE_BUFFER_BIT = 0x20;
    private static final int VK_BUFFER_USAGE_INDEX_BUFFER_BIT = 0x40;
    private static final int VK_BUFFER_USAGE_VERTEX_BUFFER_BIT = 0x80;
    private static final int VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT = 0x100;

    private static final System.Logger LOG = System.getLogger(BlockPoolAllocator.class.getName());

    /** How a pooled buffer is made. */
    public enum BufferMode {
        /** A sub-range of one block-wide {@code VkBuffer}: no Vulkan call per allocation. */
        SUB_RANGE,
        /** A {@code VkBuffer} of its own, bound at the allocation's offset in the block. */
        OWN_BUFFER
    }

    /**
     * How the allocator is set up.
     *
     * @param blockSizes          block size in bytes by heap index; heaps not listed get the default:
     *                            {@value #LARGE_HEAP_BLOCK_SIZE} bytes on heaps of at least 1 GiB, 1/8 of the heap
     *                            below; every size at least {@value #MIN_BLOCK_SIZE}
     * @param suballocatorFactory makes each block's suballocator (TLSF by default); a block size it refuses with
     *                            {@code IllegalArgumentException} is not made: a larger block is tried instead, up
     *                            to the block size (see <b>Algorithm</b> in the class documentation)
     * @param bufferMode          the mode of requests that name none
     * @param subRangeUsage       the usage of block-wide buffers: requests in {@link BufferMode#SUB_RANGE} mode must
     *                            ask for a subset; not 0, and only bits of {@link VulkanBuffer#KNOWN_USAGE_FLAGS}
     * @param maxEmptyBlocks      the empty blocks each memory type keeps, {@code >= 0}
     * @param arenas              the arenas each memory type's blocks are split into, 1..{@value #MAX_ARENAS}: threads
     *                            are spread over them so that they rarely wait for each other's lock, each arena
     *                            that a thread uses holding at least one block of its own; 1 gives one lock and one
     *                            list of blocks per memory type
     * @param threadCacheBytes    the bytes of released ranges each thread keeps per memory type for its next requests
     *                            of the same size class (see <b>Thread caches</b> in the class documentation),
     *                            {@code >= 0}. A memory type whose block size is less than eight times this keeps an
     *                            eighth of its block size instead: a larger value is cut to that, per memory type,
     *                            and not refused, since the block size follows the heap (known only on the device)
     *                            and differs from one memory type to another, while one value serves them all (the
     *                            default, 4 MiB, is cut on heaps under 256 MiB). Ranges up to 1/16 of the budget,
     *                            rounded down to a power of two and at most {@value #MAX_CACHED_RANGE} bytes, are
     *                            kept; 0 keeps none, so every release goes straight back to its block. Only TLSF and
     *                            buddy suballocators are cached. The ranges other threads send back to a thread, and
     *                            those it holds for other threads, are bounded by the same amount each
     * @param recycleBuffers      whether a range that a thread's cache keeps also keeps the {@code VkBuffer} of its
     *                            own that it held ({@link BufferMode#OWN_BUFFER}), so that the next request of the
     *                            same size and usage that takes the range gets that {@code VkBuffer} again, with no
     *                            Vulkan call (see <b>Recycled buffers</b> in the class documentation); true by
     *                            default, and only ranges that may be cached are recycled
     */
    public record Config(Map<Integer, Long> blockSizes, SuballocatorFactory suballocatorFactory,
                         BufferMode bufferMode, int subRangeUsage, int maxEmptyBlocks, int arenas,
                         long threadCacheBytes, boolean recycleBuffers) {

        /** The block size on heaps of at least {@link #LARGE_HEAP_THRESHOLD} bytes: 256 MiB. */
        public static final long LARGE_HEAP_BLOCK_SIZE = 256L << 20;
        /** Heaps of at least this size (1 GiB) get {@link #LARGE_HEAP_BLOCK_SIZE}; smaller ones 1/8 of the heap. */
        public static final long LARGE_HEAP_THRESHOLD = 1L << 30;
        /** The most arenas per memory type. */
        public static final int MAX_ARENAS = 64;
        /** The most arenas {@link #defaults()} gives: one per processor, up to this many. */
        public static final int DEFAULT_MAX_ARENAS = 4;
        /**
         * The default {@link #threadCacheBytes()}: 4 MiB per thread and memory type, in ranges of up to 64 KiB. With
         * 1 MiB, a thread that keeps a few hundred buffers of 256 B-64 KiB live missed its cache on a quarter of its
         * requests, and two such threads ran 1.29x one thread's throughput, against 1.56-2.22x with 4 MiB (W8 in
         * docs/benchmarks.md).
         */
        public static final long DEFAULT_THREAD_CACHE_BYTES = 4L << 20;
        /**
         * The largest range a thread's cache keeps, whatever its budget: 64 KiB. Cached ranges are placed at a size
         * class (up to a quarter of padding), which larger buffers are better off without.
         */
        public static final long MAX_CACHED_RANGE = 64L << 10;
        /** The smallest block size: 64 KiB. */
        public static final long MIN_BLOCK_SIZE = BLOCK_GRANULE;
        /** The default block-wide buffer usage: transfer, uniform, storage, texel, index, vertex and indirect. */
        public static final int DEFAULT_SUB_RANGE_USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT
                | VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT
                | VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT
                | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT
                | VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT;

        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException naming the first bad value
         * @throws NullPointerException     for a null map, factory or mode
         */
        public Config {
            Objects.requireNonNull(blockSizes, "blockSizes: null (expected: "
                    + "a map of heap index to block size, empty for the defaults)");
            for (Map.Entry<Integer, Long> e : blockSizes.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new NullPointerException("blockSizes entry " + e.getKey() + " -> " + e.getValue()
                            + " (expected: a heap index and a size, neither null)");
                }
            }
            blockSizes = Map.copyOf(blockSizes);
            for (Map.Entry<Integer, Long> e : blockSizes.entrySet()) {
                if (e.getKey() < 0 || e.getKey() >= MemoryProperties.MAX_MEMORY_HEAPS) {
                    throw new IllegalArgumentException("blockSizes heap index: " + e.getKey() + " (expected: 0.."
                            + (MemoryProperties.MAX_MEMORY_HEAPS - 1) + ")");
                }
                long size = e.getValue();
                if (size < MIN_BLOCK_SIZE || size > (1L << 40)) {
                    throw new IllegalArgumentException("blockSizes[" + e.getKey() + "]: " + size + " (expected: "
                            + MIN_BLOCK_SIZE + ".." + (1L << 40) + " bytes)");
                }
            }
            Objects.requireNonNull(suballocatorFactory, "suballocatorFactory: null (expected: a SuballocatorFactory)");
            Objects.requireNonNull(bufferMode, "bufferMode: null (expected: a BufferMode)");
            if (subRangeUsage == 0) {
                throw new IllegalArgumentException("subRangeUsage: 0 (expected: at least one VkBufferUsageFlagBits"
                        + " bit)");
            }
            VulkanBuffer.checkKnownUsage("subRangeUsage", subRangeUsage);
            if (maxEmptyBlocks < 0) {
                throw new IllegalArgumentException("maxEmptyBlocks: " + maxEmptyBlocks + " (expected: >= 0)");
            }
            if (arenas < 1 || arenas > MAX_ARENAS) {
                throw new IllegalArgumentException("arenas: " + arenas + " (expected: 1.." + MAX_ARENAS + ")");
            }
            if (threadCacheBytes < 0) {
                throw new IllegalArgumentException("threadCacheBytes: " + threadCacheBytes + " (expected: >= 0)");
            }
        }

        /**
         * @return the default arena count: the processors available to the JVM, at most
         *         {@value #DEFAULT_MAX_ARENAS}
         */
        public static int defaultArenas() {
            return Math.max(1, Math.min(DEFAULT_MAX_ARENAS, Runtime.getRuntime().availableProcessors()));
        }

        /**
         * @return default block sizes, TLSF, {@link BufferMode#SUB_RANGE}, the default usage, one empty block,
         *         {@link #defaultArenas()} arenas, {@value #DEFAULT_THREAD_CACHE_BYTES} bytes of thread cache, buffers
         *         recycled
         */
        public static Config defaults() {
            return builder().build();
        }

        /** @return a builder that starts from {@link #defaults()} */
        public static Builder builder() {
            return new Builder();
        }

        /**
         * The block size of a heap.
         *
         * @param heapIndex the heap
         * @param heapSize  its size in bytes
         * @return the configured size, else 256 MiB for heaps of at least 1 GiB, else 1/8 of the heap rounded down to
         *         64 KiB (at least 64 KiB)
         */
        public long blockSizeFor(int heapIndex, long heapSize) {
            Long configured = blockSizes.get(heapIndex);
            if (configured != null) {
                return configured;
            }
            if (heapSize >= LARGE_HEAP_THRESHOLD) {
                return LARGE_HEAP_BLOCK_SIZE;
            }
            return Math.max(MIN_BLOCK_SIZE, (heapSize / 8) & -BLOCK_GRANULE);
        }

        /** Builds a {@link Config}. Not thread-safe. */
        public static final class Builder {
            private final Map<Integer, Long> blockSizes = new HashMap<>();
            private SuballocatorFactory factory = SuballocatorFactory.of(SuballocatorKind.TLSF);
            private BufferMode bufferMode = BufferMode.SUB_RANGE;
            private int subRangeUsage = DEFAULT_SUB_RANGE_USAGE;
            private int maxEmptyBlocks = 1;
            private int arenas = defaultArenas();
            private long threadCacheBytes = DEFAULT_THREAD_CACHE_BYTES;
            private boolean recycleBuffers = true;

            private Builder() {
            }

            /**
             * @param heapIndex the heap
             * @param bytes     the block size for it, {@code >=} {@value Config#MIN_BLOCK_SIZE}
             * @return this
             */
            public Builder blockSize(int heapIndex, long bytes) {
                blockSizes.put(heapIndex, bytes);
                return this;
            }

            /**
             * @param suballocatorFactory makes each block's suballocator
             * @return this
             */
            public Builder suballocatorFactory(SuballocatorFactory suballocatorFactory) {
                this.factory = suballocatorFactory;
                return this;
            }

            /**
             * @param mode the mode of requests that name none
             * @return this
             */
            public Builder bufferMode(BufferMode mode) {
                this.bufferMode = mode;
                return this;
            }

            /**
             * @param usage the {@code VkBufferUsageFlags} of block-wide buffers: not 0, only bits of
             *              {@link VulkanBuffer#KNOWN_USAGE_FLAGS} (checked by {@link #build()})
             * @return this
             */
            public Builder subRangeUsage(int usage) {
                this.subRangeUsage = usage;
                return this;
            }

            /**
             * @param count the empty blocks each memory type keeps
             * @return this
             */
            public Builder maxEmptyBlocks(int count) {
                this.maxEmptyBlocks = count;
                return this;
            }

            /**
             * @param count the arenas each memory type's blocks are split into, 1..{@value Config#MAX_ARENAS}
             * @return this
             */
            public Builder arenas(int count) {
                this.arenas = count;
                return this;
            }

            /**
             * @param bytes the bytes of released ranges each thread keeps per memory type, {@code >= 0}, cut to an
             *              eighth of the memory type's block size where it is more (see
             *              {@link Config#threadCacheBytes()}); 0 turns the thread caches off; the ranges sent back to
             *              a thread and those it holds for other threads are bounded by the same amount each
             * @return this
             */
            public Builder threadCacheBytes(long bytes) {
                this.threadCacheBytes = bytes;
                return this;
            }

            /**
             * @param recycle whether cached ranges keep their {@code VkBuffer}s for the next request of the same size
             *                and usage; false destroys each buffer of its own when it is released
             * @return this
             */
            public Builder recycleBuffers(boolean recycle) {
                this.recycleBuffers = recycle;
                return this;
            }

            /**
             * @return the config
             * @throws IllegalArgumentException naming the first bad value
             */
            public Config build() {
                return new Config(blockSizes, factory, bufferMode, subRangeUsage, maxEmptyBlocks, arenas,
                        threadCacheBytes, recycleBuffers);
            }
        }
    }

    /**
     * One memory type's figures at one moment.
     *
     * @param memoryTypeIndex  the memory type
     * @param blockSize        its pool's full block size
     * @param blockCount       suballocated blocks
     * @param dedicatedCount   dedicated memory objects
     * @param emptyBlockCount  suballocated blocks with no live range
     * @param allocationCount  live buffers (ranges in blocks plus dedicated memory)
     * @param committedBytes   bytes of device memory held: blocks plus dedicated memory
     * @param usedBytes        committed bytes not free in a block (alignment padding counts as used)
     * @param freeBytes        free bytes in blocks
     * @param largestFreeRange the largest free range of any block
     * @param blocksReturned   blocks freed so far because they were empty and another empty one was kept, or
     *                         dedicated memory needed their room
     * @param cachedRanges     released ranges that threads' caches keep for reuse ({@link Config#threadCacheBytes()}):
     *                         placed in their blocks, counted in {@code usedBytes}, not in {@code allocationCount}
     * @param cachedBytes      the bytes of those ranges
     * @param keptBuffers      {@code VkBuffer}s of their own that ranges keep for reuse
     *                         ({@link Config#recycleBuffers()}): those of open buffers that will be kept, and those of
     *                         cached ranges
     * @param cacheHits        requests a thread's cache answered, over all threads since the allocator was made
     * @param cacheMisses      requests small enough for the caches that a thread's cache could not answer (they went
     *                         to the blocks, under an arena's lock); a thread's first request of a memory type is not
     *                         counted
     * @param cacheOverflows   releases a thread's cache could not keep (its size class's bin or its bytes were full),
     *                         which went back to their blocks
     */
    public record TypeStatistics(int memoryTypeIndex, long blockSize, int blockCount, int dedicatedCount,
                                 int emptyBlockCount, long allocationCount, long committedBytes, long usedBytes,
                                 long freeBytes, long largestFreeRange, long blocksReturned, long cachedRanges,
                                 long cachedBytes, long keptBuffers, long cacheHits, long cacheMisses,
                                 long cacheOverflows) {

        /** @return the share of cacheable requests that a thread's cache answered, or 0 before any was made */
        public double cacheHitRate() {
            long requests = cacheHits + cacheMisses;
            return requests == 0 ? 0 : (double) cacheHits / requests;
        }
    }

    private final VulkanMemoryAllocator vma;
    private final Config config;
    private final MemoryProperties properties;
    private final TypeBlockPool[] pools;
    private final int blockBufferTypeBits;
    /** Measured requirements by usage, then by {@code ceil(log2(size))}; only classes where size = alignUp(size). */
    private final Map<Integer, UsageRequirements> requirements = new ConcurrentHashMap<>();
    /** The usage of the last request's requirements: most requests repeat it, and then no map is read. */
    private volatile UsageRequirements lastUsage;
    /** Throw-away buffers made to read the driver's requirements (for tests). */
    private final AtomicLong requirementsMeasured = new AtomicLong();
    private final AtomicInteger deviceMemoryCount = new AtomicInteger();
    private final AtomicLong committedBytes = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The cache counts of threads that ended (hits, misses, overflows per memory type). */
    private final AtomicLongArray retiredCacheCounts;
    private volatile CandidateList lastCandidates;
    private volatile long maxMemoryAllocationCount;
    private volatile int liveBuffersAtClose = -1;
    /**
     * Each thread's cache of released ranges (and its number, for its home arenas); made on its first call. The cache
     * refers back to this allocator only through the ranges it keeps, which {@link #close()} drops, so the entry does
     * not keep a closed allocator reachable from the thread.
     */
    private final ThreadLocal<ThreadRangeCache> threadCaches = new ThreadLocal<>();
    /**
     * The same caches by thread id modulo {@value #FAST_CACHES}, so that a request or release finds its thread's cache
     * with one array read instead of {@link ThreadLocal}'s hash lookup. An entry is written once by the thread that
     * owns the cache (or by a later thread when that one has ended): a thread whose entry is taken by another live
     * thread uses the {@link ThreadLocal}, so two threads never take an entry from each other over and over.
     */
    private final ThreadRangeCache[] fastCaches = new ThreadRangeCache[FAST_CACHES];
    /** Whether threads cache released ranges at all (a budget, and suballocators that free in any order). */
    private final boolean cachesRanges;
    /** Every thread's cache, for statistics and to take back the ranges of threads that ended. */
    private final Set<ThreadRangeCache> allThreadCaches = ConcurrentHashMap.newKeySet();

    /**
     * Creates an allocator; it makes no memory until the first request.
     *
     * @param vma    the VMA allocator that makes the blocks (borrowed: close this allocator first)
     * @param config how to set it up
     * @throws IllegalArgumentException when {@code subRangeUsage} asks for device addresses that {@code vma} was not
     *                                  made for, or no memory type can hold a block-wide buffer of that usage
     */
    public BlockPoolAllocator(VulkanMemoryAllocator vma, Config config) {
        this.vma = Objects.requireNonNull(vma, "vma: null (expected: an open VulkanMemoryAllocator)");
        this.config = Objects.requireNonNull(config, "config: null (expected: a BlockPoolAllocator.Config)");
        vma.checkDeviceAddressUsage("subRangeUsage", config.subRangeUsage());
        this.properties = vma.memoryProperties();
        this.maxMemoryAllocationCount = vma.maxMemoryAllocationCount();
        this.blockBufferTypeBits = VulkanMemory.bufferRequirements(vma, BLOCK_GRANULE, config.subRangeUsage())
                .memoryTypeBits();
        this.pools = new TypeBlockPool[properties.types().size()];
        this.retiredCacheCounts = new AtomicLongArray(pools.length * ThreadRangeCache.COUNTS);
        long threadCacheBytes = freesInAnyOrder(config.suballocatorFactory()) ? config.threadCacheBytes() : 0;
        this.cachesRanges = threadCacheBytes > 0;
        long[] heapLimits = vma.settings().heapSizeLimits();
        for (int i = 0; i < pools.length; i++) {
            int heap = properties.type(i).heapIndex();
            long heapSize = properties.heaps().get(heap).size();
            if (heapLimits != null && heap < heapLimits.length
                    && Long.compareUnsigned(heapLimits[heap], heapSize) < 0) {
                // VMA limits the heap (VK_WHOLE_SIZE, unsigned all ones, is no limit): it reports the heap at its
                // limit and sizes its own blocks from that, and so do the pools.
                heapSize = heapLimits[heap];
            }
            long blockSize = roundToGranule(config.blockSizeFor(heap, heapSize));
            pools[i] = new TypeBlockPool(this, i, blockSize, config.maxEmptyBlocks(), config.arenas(),
                    threadCacheBytes);
        }
    }

    /**
     * Places a buffer; see the class documentation for how.
     *
     * @param request what to place
     * @return the buffer; {@link PooledBuffer#release()} or {@link #free} gives it back
     * @throws IllegalArgumentException when the usage is not a subset of {@link Config#subRangeUsage()} in
     *                                  {@link BufferMode#SUB_RANGE} mode, or asks for
     *                                  {@code SHADER_DEVICE_ADDRESS} while the VMA allocator was made without
     *                                  buffer device address
     * @throws IllegalStateException    when the allocator is closed
     * @throws PoolException            {@link PoolException.Kind#NO_COMPATIBLE_MEMORY_TYPE} when no memory type fits
     *                                  the request; {@link PoolException.Kind#OUT_OF_DEVICE_MEMORY} when every
     *                                  candidate's heap is full (also when giving back what no buffer uses failed
     *                                  on the way: that failure is suppressed on it);
     *                                  {@link PoolException.Kind#SUBALLOCATOR_BLOCK_SIZE_EXCEEDED} when not even an
     *                                  empty block would hold it, or the suballocator factory refuses the block
     *                                  size (its exception the cause; no memory is made to find that out);
     *                                  {@link PoolException.Kind#OUT_OF_POOL_MEMORY},
     *                                  {@link PoolException.Kind#BLOCK_SIZE_EXCEEDED} or
     *                                  {@link PoolException.Kind#DEDICATED_ALLOCATION_REQUIRED} for
     *                                  {@link AllocatePreference#NEVER_ALLOCATE} requests that no block can take
     * @throws VulkanException          when a Vulkan call fails other than for want of device memory
     * @throws Error                    a {@code DeviceMemoryListener}'s, from destroying a block that giving back what
     *                                  no buffer uses emptied after the heap was full (VMA lets it through once the
     *                                  memory is freed): the request ends with it, once everything else went back,
     *                                  the out-of-memory failure suppressed on it
     */
    public PooledBuffer allocate(BlockRequest request) {
        Objects.requireNonNull(request, "request: null (expected: a BlockRequest)");
        checkOpen();
        try {
            return place(request);
        } catch (PoolException e) {
            // Out of device memory: take back the ranges of threads that ended and ask the others for theirs. A
            // NEVER_ALLOCATE request that found no room: only the ended threads' ranges, so that a caller who tries
            // such requests often does not empty every thread's cache each time. A size the driver refuses outright,
            // or a request whose giving back failed already: no thread is asked.
            boolean retry = !e.permanent() && (e.kind() == PoolException.Kind.OUT_OF_DEVICE_MEMORY
                    ? reclaimAfter(e, true)
                    : e.kind() == PoolException.Kind.OUT_OF_POOL_MEMORY
                    && request.preference() == AllocatePreference.NEVER_ALLOCATE && reclaimAfter(e, false));
            if (!retry) {
                throw e;
            }
        } catch (VulkanException e) {
            if (e.result() != VK_ERROR_OUT_OF_DEVICE_MEMORY || !reclaimAfter(e, true)) {
                throw e;
            }
        }
        // Threads that ended kept ranges in their caches, which went back just now (blocks they emptied were freed):
        // once more.
        return place(request);
    }

    /**
     * {@link #reclaimThreadCaches} for a request that failed: when giving back fails in turn, the request ends there,
     * no retry, and neither failure is lost. A {@link RuntimeException} (a suballocator whose free throws): the
     * request's failure is thrown, with that failure suppressed on it, so that the caller still sees why the request
     * failed. An {@link Error} (a {@code DeviceMemoryListener}'s, from destroying a block the ranges emptied, which VMA
     * lets through once the memory is freed): the request ends with it, as after any failure of giving back that was
     * such an {@code Error} (block-pool.md, "Out of memory"), the request's failure suppressed on it.
     *
     * @param failure   the request's failure
     * @param askOthers whether to ask the other threads for their ranges too (see {@link #reclaimThreadCaches})
     * @return whether a thread that ended had ranges cached
     */
    private boolean reclaimAfter(RuntimeException failure, boolean askOthers) {
        try {
            return reclaimThreadCaches(askOthers);
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
            throw failure;
        } catch (Error e) {
            e.addSuppressed(failure);
            throw e;
        }
    }

    /** {@link #allocate} once. */
    private PooledBuffer place(BlockRequest request) {
        ThreadRangeCache cache = cachesRanges ? threadCache() : null;
        if (cache != null && cache.flushRequested) {
            // Another thread ran out of memory: this thread's ranges go back at its next request of any size (a
            // request its cache may answer would do the same in poll; a larger one or dedicated memory never polls).
            cache.flushAll(pools);
        }
        // The same request object as one of this thread's last ones that could take a cached range: the work below
        // would come to the first memory type's suballocate with the arguments recorded, so do its two steps at once
        // (the first, small one inlines; the second only runs on a miss). Out of memory there goes on to the other
        // types, as below.
        VulkanException firstTypeFailure = null;
        ThreadRangeCache.Plan plan = cache != null ? cache.planFor(request) : null;
        if (plan != null) {
            TypeBlockPool first = pools[plan.type()];
            long size = request.size();
            int usage = request.usage();
            // From the plan object, which a flush that another thread's out-of-memory requested (run inside
            // fromThreadCache) may make the cache forget, but not change.
            long rangeSize = plan.rangeSize();
            long alignment = plan.alignment();
            BufferMode mode = plan.mode();
            boolean verified = plan.verified();
            try {
                PooledBuffer cached = first.fromThreadCache(cache, size, rangeSize, alignment, usage, mode, verified);
                return cached != null ? cached
                        : first.suballocateMissed(size, rangeSize, alignment, usage, mode,
                                TypeBlockPool.Growth.of(request), verified);
            } catch (VulkanException e) {
                if (e.result() != VK_ERROR_OUT_OF_DEVICE_MEMORY) {
                    throw e;
                }
                firstTypeFailure = e;
            }
        }
        BufferMode mode = request.bufferMode() != null ? request.bufferMode() : config.bufferMode();
        int usage = request.usage();
        if (mode == BufferMode.SUB_RANGE && (usage & ~config.subRangeUsage()) != 0) {
            throw new IllegalArgumentException("usage: 0x" + Integer.toHexString(usage) + " (expected: a subset of "
                    + "the block buffers' usage 0x" + Integer.toHexString(config.subRangeUsage()) + " in SUB_RANGE "
                    + "mode; use OWN_BUFFER or widen Config.subRangeUsage)");
        }
        // Before anything is made: a buffer of its own or dedicated memory with this usage needs device addresses.
        vma.checkDeviceAddressUsage("usage", usage);
        long size = request.size();
        UsageRequirements byUsage = usageRequirements(usage);
        VulkanMemory.Requirements r;
        try {
            r = requirements(byUsage, size);
        } catch (VulkanException e) {
            throw tooLargeForTheDriver(request, e);
        }
        long alignment = Math.max(Math.max(1, r.alignment()), request.alignment());
        // Dedicated memory and own buffers need the driver's size; a sub-range needs only its own bytes.
        // A cached class has size 0: its size is the request's rounded up to the alignment (see requirements()).
        long ownSize = Math.max(alignUp(size, Math.max(1, r.alignment())), r.size());
        long rangeSize = mode == BufferMode.SUB_RANGE ? size : ownSize;
        // A buffer of its own skips the driver's query when one of this size and usage passed it in as many bytes.
        boolean verified = mode == BufferMode.OWN_BUFFER && byUsage.isVerified(size, rangeSize);
        int typeBits = r.memoryTypeBits() & (mode == BufferMode.SUB_RANGE ? blockBufferTypeBits : -1);
        int[] candidates = candidates(typeBits, request.filter());
        if (candidates.length == 0) {
            throw new PoolException(PoolException.Kind.NO_COMPATIBLE_MEMORY_TYPE, null, "no memory type fits "
                    + request.filter() + " for usage 0x" + Integer.toHexString(usage) + " (memoryTypeBits 0x"
                    + Integer.toHexString(typeBits) + "; the device's types: " + describeTypes() + ")", null);
        }
        AllocatePreference preference = request.preference();
        if (preference == AllocatePreference.NEVER_ALLOCATE) {
            return allocateNever(request, r, candidates, size, rangeSize, alignment, usage, mode, verified);
        }
        // Read once per request: one racing with others may see a slightly stale count, which only moves the point
        // where dedicated memory stops being preferred by a few objects. maxMemoryAllocationCount < 2^32, so the
        // products cannot overflow.
        boolean crowded = deviceMemoryCount.get() * 4L > maxMemoryAllocationCount * 3;
        VulkanException lastFailure = firstTypeFailure;
        for (int type : candidates) {
            if (firstTypeFailure != null && type == candidates[0]) {
                continue;
            }
            TypeBlockPool pool = pools[type];
            long blockSize = pool.blockSize();
            // Dedicated memory that must be (the driver requires it, no block can hold it, the caller asked for it:
            // vulkano's AlwaysAllocate) or that is only preferred, while the device is not crowded with objects. An
            // alignment beyond the block size counts as no block holding it: only a block's offset 0 is that aligned,
            // so each such buffer would take a block of its own; memory of its own is that, at its own size.
            boolean mustBeDedicated = r.requiresDedicated() || rangeSize > blockSize || alignment > blockSize
                    || preference == AllocatePreference.ALWAYS_ALLOCATE;
            boolean dedicated = mustBeDedicated || !crowded && (r.prefersDedicated() || rangeSize > blockSize / 2);
            try {
                if (dedicated) {
                    try {
                        return pool.allocateDedicated(ownSize, size, alignment, usage, request.withinBudget(),
                                request.name());
                    } catch (VulkanException e) {
                        if (e.result() != VK_ERROR_OUT_OF_DEVICE_MEMORY) {
                            throw e;
                        }
                        lastFailure = e;
                    }
                    if (!mustBeDedicated) {
                        // Memory of its own was only preferred: a block that exists may still have room.
                        PooledBuffer placed = pool.suballocate(size, rangeSize, alignment, usage, mode,
                                TypeBlockPool.Growth.NONE, verified);
                        if (placed != null) {
                            return placed;
                        }
                    }
                    // The heap has no room, and no block could take the request: what the memory type holds and no
                    // buffer uses (this thread's cached ranges, waiting releases, empty blocks) goes back to VMA, and
                    // if that freed a block, the memory is tried once more (its failure is caught below).
                    boolean freed;
                    try {
                        freed = pool.releaseUnused(cache);
                    } catch (RuntimeException | Error failure) {
                        // releaseUnused gave back all it could past the failure. The request ends: as
                        // OUT_OF_DEVICE_MEMORY with it suppressed, or with the Error (a DeviceMemoryListener's, from
                        // destroying a block), the out-of-memory failure suppressed on it rather than lost.
                        throw Failures.propagate(pool.endAfterFailedGiveBack(lastFailure, failure, ownSize));
                    }
                    if (freed) {
                        return pool.allocateDedicated(ownSize, size, alignment, usage, request.withinBudget(),
                                request.name());
                    }
                    continue;
                }
                if (cache != null && type == candidates[0]) {
                    planIfCacheable(cache, request, pool, r, rangeSize, alignment, mode, verified);
                }
                return pool.suballocate(size, rangeSize, alignment, usage, mode, TypeBlockPool.Growth.of(request),
                        verified);
            } catch (VulkanException e) {
                if (e.result() != VK_ERROR_OUT_OF_DEVICE_MEMORY) {
                    throw e;
                }
                lastFailure = e;
            }
        }
        throw new PoolException(PoolException.Kind.OUT_OF_DEVICE_MEMORY, lastFailure.resultName(), "no memory for "
                + size + " bytes (usage 0x" + Integer.toHexString(usage) + ") in memory types "
                + Arrays.toString(candidates) + ": every block size down to what the request needs failed; last: "
                + lastFailure.getMessage(), lastFailure);
    }

    /**
     * The failure of a request whose throw-away {@code VkBuffer} the driver refused for want of memory (a size beyond
     * what it can ever back, 4 GiB on lavapipe): no block can hold it ({@code BLOCK_SIZE_EXCEEDED} under
     * {@code NEVER_ALLOCATE}) and no memory can be made for it ({@code OUT_OF_DEVICE_MEMORY}); other results stay
     * Vulkan errors.
     */
    private static RuntimeException tooLargeForTheDriver(BlockRequest request, VulkanException e) {
        if (e.result() != VK_ERROR_OUT_OF_DEVICE_MEMORY && e.result() != VK_ERROR_OUT_OF_HOST_MEMORY) {
            return e;
        }
        boolean never = request.preference() == AllocatePreference.NEVER_ALLOCATE;
        return new PoolException(never ? PoolException.Kind.BLOCK_SIZE_EXCEEDED
                : PoolException.Kind.OUT_OF_DEVICE_MEMORY, e.resultName(), "the driver refuses a VkBuffer of "
                + request.size() + " bytes (usage 0x" + Integer.toHexString(request.usage()) + "): " + e.getMessage()
                + (never ? " (expected: a size that existing blocks can hold, for NEVER_ALLOCATE)" : ""), e, true);
    }

    /**
     * Records a request in the calling thread's cache ({@link ThreadRangeCache#plan}) when every later {@link #place}
     * of the same request object would come to the same first memory type's suballocate, with the same arguments,
     * whatever the pool's state:
     * no dedicated memory that could be preferred (the driver's preference, {@code ALWAYS_ALLOCATE}, more than half
     * a block; only the count of device memory objects changes, and it only turns such a preference off), a range that
     * is cached, and a driver's check that is done already or not needed. Up to {@value ThreadRangeCache#PLANS} are
     * recorded; once they are, a new one replaces the oldest once in {@value #PLAN_EVERY} calls.
     */
    private static void planIfCacheable(ThreadRangeCache cache, BlockRequest request, TypeBlockPool pool,
                                        VulkanMemory.Requirements r, long rangeSize, long alignment, BufferMode mode,
                                        boolean verified) {
        if (pool.cacheMaxRange() == 0 || rangeSize > pool.cacheMaxRange() || r.requiresDedicated()
                || r.prefersDedicated() || request.preference() != AllocatePreference.UNKNOWN
                || rangeSize > pool.blockSize() / 2 || (mode == BufferMode.OWN_BUFFER && !verified)) {
            return;
        }
        if (cache.plansFull() && (++cache.planSkips & (PLAN_EVERY - 1)) != 0) {
            // A thread that makes a new request object for each call would store references into its (old) cache
            // every time, each behind the collector's write barrier: it records one in PLAN_EVERY instead. A thread
            // that asks again and again with one of at most four objects has them recorded within that many calls
            // (one that takes turns between more keeps replacing them).
            return;
        }
        cache.plan(request, pool.memoryTypeIndex(), rangeSize, alignment, mode, verified);
    }

    private PooledBuffer allocateNever(BlockRequest request, VulkanMemory.Requirements r, int[] candidates, long size,
                                       long rangeSize, long alignment, int usage, BufferMode mode,
                                       boolean verified) {
        if (r.requiresDedicated()) {
            throw new PoolException(PoolException.Kind.DEDICATED_ALLOCATION_REQUIRED, null, "the driver requires "
                    + "dedicated memory for " + size + " bytes of usage 0x" + Integer.toHexString(usage)
                    + " (expected: a preference other than NEVER_ALLOCATE)", null);
        }
        boolean fitsSomeBlock = false;
        for (int type : candidates) {
            TypeBlockPool pool = pools[type];
            if (rangeSize > pool.blockSize()) {
                continue;
            }
            fitsSomeBlock = true;
            PooledBuffer placed = pool.suballocate(size, rangeSize, alignment, usage, mode, TypeBlockPool.Growth.NONE,
                    verified);
            if (placed != null) {
                return placed;
            }
        }
        if (!fitsSomeBlock) {
            throw new PoolException(PoolException.Kind.BLOCK_SIZE_EXCEEDED, null, rangeSize + " bytes exceed the "
                    + "block size of every candidate memory type " + Arrays.toString(candidates)
                    + " (expected: at most " + pools[candidates[0]].blockSize() + " for NEVER_ALLOCATE)", null);
        }
        throw new PoolException(PoolException.Kind.OUT_OF_POOL_MEMORY, null, "no block of memory types "
                + Arrays.toString(candidates) + " has room for " + rangeSize + " bytes at alignment " + alignment
                + (request.name() != null ? " (" + request.name() + ")" : "")
                + ", and NEVER_ALLOCATE makes no new block", null);
    }

    /**
     * Gives a buffer back: {@link PooledBuffer#release()} with checks.
     *
     * @param buffer a buffer this allocator placed
     * @throws IllegalArgumentException when another allocator or pool placed it
     * @throws IllegalStateException    when it was released already
     */
    public void free(PooledBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer: null (expected: a PooledBuffer of this allocator)");
        if (!owns(buffer)) {
            throw new IllegalArgumentException("buffer: " + buffer.buffer() + " placed by " + buffer.pool()
                    + " (expected: a buffer of this BlockPoolAllocator)");
        }
        if (buffer.isReleased()) {
            throw new IllegalStateException("buffer of " + buffer.buffer().size() + " bytes was released already "
                    + "(expected: a live buffer)");
        }
        buffer.release();
    }

    /**
     * Whether a buffer was placed by this allocator (its {@link PooledBuffer#pool()} is an internal block object, so
     * compare through this method).
     *
     * @param buffer a pooled buffer
     * @return true when this allocator placed it
     */
    public boolean owns(PooledBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer: null (expected: a PooledBuffer)");
        return buffer.pool() instanceof PoolBlock block && block.pool.owner() == this;
    }

    /**
     * The driver's requirements, measured once per usage and power-of-two size class where that is exact.
     *
     * @return the requirements; a cached class's has size 0, meaning "the size rounded up to the alignment"
     */
    private VulkanMemory.Requirements requirements(UsageRequirements byClass, long size) {
        int usage = byClass.usage;
        // size >= 1, so the class is 0..63: ceil(log2(size)).
        int sizeClass = 64 - Long.numberOfLeadingZeros(size - 1);
        VulkanMemory.Requirements known = byClass.bySizeClass.get(sizeClass);
        if (known != null) {
            return known;
        }
        VulkanMemory.Requirements measured = VulkanMemory.bufferRequirements(vma, size, usage);
        requirementsMeasured.incrementAndGet();
        // Cache the class only where the driver's size is the size rounded up to its alignment, as most drivers do,
        // or the size itself (lavapipe): the class's other sizes are then given the rounded-up size, which is never
        // less than the driver's. A driver that asks for more could have a guess bind a buffer over its neighbour's
        // bytes, so it is measured each time.
        if (measured.alignment() > 0 && (measured.size() == alignUp(size, measured.alignment())
                || measured.size() == size)) {
            byClass.bySizeClass.compareAndSet(sizeClass, null, new VulkanMemory.Requirements(0, measured.alignment(),
                    measured.memoryTypeBits(), measured.prefersDedicated(), measured.requiresDedicated()));
        }
        return measured;
    }

    /** @return how many throw-away buffers were made to read the driver's requirements (for tests) */
    long requirementsMeasured() {
        return requirementsMeasured.get();
    }

    /** @return the cached requirements of a usage; the last one asked for is kept, since most requests repeat it */
    private UsageRequirements usageRequirements(int usage) {
        UsageRequirements byUsage = lastUsage;
        if (byUsage == null || byUsage.usage != usage) {
            byUsage = requirements.computeIfAbsent(usage, UsageRequirements::new);
            lastUsage = byUsage;
        }
        return byUsage;
    }

    /**
     * Records that a buffer of this size and usage was made with the driver's requirements checked against the range
     * the allocator placed for it, so later ones skip the check.
     */
    void markVerified(int usage, long size, long reservedBytes) {
        usageRequirements(usage).markVerified(size, reservedBytes);
    }

    /**
     * One usage's cached requirements, by power-of-two size class; read without a lock, each class set once. Also the
     * sizes whose buffers of their own passed the driver's check ({@link #isVerified}): a direct-mapped table, a
     * later size replacing an earlier one in its entry.
     */
    private static final class UsageRequirements {
        private static final int VERIFIED_ENTRIES = 1024;
        final int usage;
        final AtomicReferenceArray<VulkanMemory.Requirements> bySizeClass = new AtomicReferenceArray<>(64);
        private final AtomicReferenceArray<VerifiedSize> verifiedSizes = new AtomicReferenceArray<>(VERIFIED_ENTRIES);

        UsageRequirements(int usage) {
            this.usage = usage;
        }

        private static int entry(long size) {
            long h = size * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 54);
        }

        boolean isVerified(long size, long reservedBytes) {
            VerifiedSize v = verifiedSizes.get(entry(size));
            return v != null && v.size == size && v.reservedBytes == reservedBytes;
        }

        void markVerified(long size, long reservedBytes) {
            int entry = entry(size);
            VerifiedSize v = verifiedSizes.get(entry);
            if (v == null || v.size != size || v.reservedBytes != reservedBytes) {
                verifiedSizes.set(entry, new VerifiedSize(size, reservedBytes));
            }
        }
    }

    /** A buffer size whose driver requirements fit {@code reservedBytes} at the usage's alignment. */
    private record VerifiedSize(long size, long reservedBytes) {
    }

    /** The candidate memory types, best first; the last answer is kept, since most requests repeat it. */
    private int[] candidates(int typeBits, MemoryTypeFilter filter) {
        CandidateList last = lastCandidates;
        if (last != null && last.typeBits() == typeBits && last.filter().equals(filter)) {
            return last.types();
        }
        int[] types = (typeBits & properties.allTypeBits()) == 0 ? new int[0]
                : MemoryTypeSelector.candidates(properties, typeBits, filter);
        lastCandidates = new CandidateList(filter, typeBits, types);
        return types;
    }

    /** A remembered answer of {@link MemoryTypeSelector#candidates}; the array is never written. */
    private record CandidateList(MemoryTypeFilter filter, int typeBits, int[] types) {
    }

    /** Makes a block or dedicated memory and counts it. */
    VulkanMemory allocateMemory(long size, long alignment, int memoryTypeIndex, boolean withinBudget, String name) {
        VulkanMemory memory = VulkanMemory.allocate(vma, size, alignment, memoryTypeIndex, true, withinBudget, name);
        deviceMemoryCount.incrementAndGet();
        committedBytes.addAndGet(memory.size());
        return memory;
    }

    /** Dedicated memory made for one buffer, counted as {@link #allocateMemory} counts. */
    VulkanMemory.DedicatedBuffer allocateDedicatedBuffer(long size, int usage, int memoryTypeIndex,
                                                         boolean withinBudget, String name) {
        VulkanMemory.DedicatedBuffer made = VulkanMemory.allocateDedicatedBuffer(vma, size, usage, memoryTypeIndex,
                withinBudget, name);
        deviceMemoryCount.incrementAndGet();
        committedBytes.addAndGet(made.memory().size());
        return made;
    }

    /**
     * Frees memory made by {@link #allocateMemory}. Counted out even when closing it throws (a
     * {@code DeviceMemoryListener}'s {@code Error}, which comes out of {@code vmaFreeMemory} once VMA freed it): it is
     * closed then, and no later call frees or counts it again.
     */
    void freeMemory(VulkanMemory memory) {
        try {
            memory.close();
        } finally {
            deviceMemoryCount.decrementAndGet();
            committedBytes.addAndGet(-memory.size());
        }
    }

    /** Destroys a block's block-wide buffer and frees its memory; does nothing for {@code null}. */
    void destroy(PoolBlock block) {
        if (block == null) {
            return;
        }
        try {
            if (block.blockBuffer != null) {
                block.blockBuffer.close();
            }
        } finally {
            freeMemory(block.memory);
        }
    }

    Config config() {
        return config;
    }

    long bufferImageGranularity() {
        return properties.bufferImageGranularity();
    }

    /** For tests: pretends the device allows only {@code count} memory objects. */
    void overrideMaxMemoryAllocationCount(long count) {
        this.maxMemoryAllocationCount = count;
    }

    /** For tests: the sizes of a memory type's suballocated blocks, arena by arena, in the order they were made. */
    long[] blockSizes(int memoryTypeIndex) {
        return pool(memoryTypeIndex).blockSizes();
    }

    /** For tests: the calling thread's home arena in a memory type's pool. */
    int homeArena(int memoryTypeIndex) {
        return pool(memoryTypeIndex).homeArena().index;
    }

    /** For tests: how many releases wait for an arena's lock. */
    int pendingReleases(int memoryTypeIndex, int arena) {
        return pool(memoryTypeIndex).pendingReleases(arena);
    }

    /** For tests: the sizes of one arena's blocks of a memory type, in the order they came to it. */
    long[] blockSizes(int memoryTypeIndex, int arena) {
        return pool(memoryTypeIndex).blockSizes(arena);
    }

    /**
     * @param memoryTypeIndex a memory type
     * @return its pool's full block size in bytes
     */
    public long blockSize(int memoryTypeIndex) {
        return pool(memoryTypeIndex).blockSize();
    }

    /**
     * A memory type's figures. Ranges that threads that have ended kept in their caches go back to their blocks first;
     * the ranges live threads keep are reported as {@link TypeStatistics#cachedRanges()} (call
     * {@link #flushThreadCache()} first to see the calling thread's back in their blocks).
     *
     * @param memoryTypeIndex a memory type
     * @return its figures now
     */
    public TypeStatistics statistics(int memoryTypeIndex) {
        TypeBlockPool pool = pool(memoryTypeIndex);
        reclaimThreadCaches(false);
        return pool.statistics();
    }

    /**
     * Every memory type's figures, as {@link #statistics(int)} gives them; each type is read under its own locks.
     *
     * @return the figures by memory type index
     */
    public List<TypeStatistics> statistics() {
        reclaimThreadCaches(false);
        List<TypeStatistics> all = new ArrayList<>(pools.length);
        for (TypeBlockPool pool : pools) {
            all.add(pool.statistics());
        }
        return List.copyOf(all);
    }

    /** @return bytes of device memory this allocator holds: blocks plus dedicated memory */
    public long committedBytes() {
        return committedBytes.get();
    }

    /** @return the live {@code VkDeviceMemory} objects this allocator made: blocks plus dedicated memory */
    public int deviceMemoryCount() {
        return deviceMemoryCount.get();
    }

    /** @return the configuration */
    public Config configuration() {
        return config;
    }

    /** @return the VMA allocator that makes the blocks */
    public VulkanMemoryAllocator vma() {
        return vma;
    }

    /**
     * Checks every pool's invariants (see the class documentation); O(blocks + live buffers). Call it while no
     * request is in flight.
     *
     * @throws IllegalStateException naming the first broken invariant
     */
    public void checkInvariants() {
        // Cached ranges are placed and listed like open buffers: the calling thread's and ended threads' go back
        // first, so that the check sees what the blocks would hold without caches.
        flushThreadCache();
        reclaimThreadCaches(false);
        for (TypeBlockPool pool : pools) {
            pool.checkInvariants();
        }
    }

    /**
     * Gives the calling thread's cached ranges back to their blocks (see <b>Thread caches</b> in the class
     * documentation), so that blocks they kept from being empty can be freed. Call it from a thread that goes idle
     * for long; a thread that ends has its ranges taken back at the next statistics, invariant check or
     * out-of-memory.
     */
    public void flushThreadCache() {
        // A thread that never called keeps nothing: no cache is made for it here.
        ThreadRangeCache cache = existingThreadCache();
        if (cache != null) {
            cache.flushAll(pools);
        }
    }

    /**
     * Gives the device memory that no buffer uses now back to VMA, for a moment when the application knows it needs
     * less (a level unloaded, a scene torn down): every empty block is freed, the ones the pools keep for the next
     * request included, after the ranges that hold blocks without a buffer in them went back: the calling thread's
     * cached ranges (as {@link #flushThreadCache}), those of threads that ended, the releases waiting for an arena's
     * lock, and the ranges that other threads released and sent home to a thread that is still alive (which waits in
     * that thread's inbox until its next call, and a loader thread that stopped calling would hold for good). Other
     * threads that are still alive are asked to give their own cached ranges back at their next request or release:
     * a block that only those hold is freed then, as blocks are that a free leaves empty beyond the one kept, not by
     * this call. Live buffers, and blocks holding one, are untouched;
     * the pools make blocks again as requests need them (at the full block size: the smaller first blocks of
     * {@link Config} come once per arena).
     *
     * <p>Goes on past a failure (a suballocator whose free throws, or a {@code DeviceMemoryListener} whose
     * {@link Error} comes out of destroying a block once VMA freed its memory), from taking back the ended threads'
     * ranges or from one memory type, to every memory type after it, as {@link #close()} does, so that everything
     * else goes back; then throws the first failure, the others suppressed on it.
     *
     * @return the bytes by which {@link #committedBytes()} fell during the call, 0 when it did not fall (other threads
     *         that make or free memory meanwhile move the figure too)
     * @throws IllegalStateException when the allocator is closed
     * @throws RuntimeException      the first failure on the way, once everything else went back
     * @throws Error                 the first failure, when it was an {@link Error}
     */
    public long releaseUnusedMemory() {
        checkOpen();
        long before = committedBytes.get();
        Throwable failure = null;
        try {
            reclaimThreadCaches(true);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        ThreadRangeCache cache = existingThreadCache();
        for (TypeBlockPool pool : pools) {
            try {
                pool.releaseUnused(cache);
            } catch (RuntimeException | Error e) {
                failure = Failures.add(failure, e);
            }
        }
        Failures.throwIfAny(failure);
        return Math.max(0, before - committedBytes.get());
    }

    /**
     * Gives the calling thread's cached ranges back when another thread's out-of-memory asked for them: for releases
     * that do not go through the cache (larger ranges, dedicated memory), which would not see the request otherwise.
     */
    void honourFlushRequest() {
        if (!closed.get()) {
            ThreadRangeCache cache = existingThreadCache();
            if (cache != null && cache.flushRequested) {
                cache.flushAll(pools);
            }
        }
    }

    /**
     * @return the calling thread's cache, or {@code null} when ranges are not cached or the thread has none yet (a
     *         thread that has none keeps nothing to give back: none is made for it here)
     */
    private ThreadRangeCache existingThreadCache() {
        if (!cachesRanges) {
            return null;
        }
        Thread thread = Thread.currentThread();
        ThreadRangeCache cache = fastCaches[fastCacheIndex(thread)];
        return cache != null && cache.thread == thread ? cache : threadCaches.get();
    }

    /** @return the calling thread's cache, made on its first call */
    ThreadRangeCache threadCache() {
        Thread thread = Thread.currentThread();
        // A cache's thread is a final field: an entry another thread wrote is seen with it, or not at all.
        ThreadRangeCache cache = fastCaches[fastCacheIndex(thread)];
        return cache != null && cache.thread == thread ? cache : slowThreadCache(thread);
    }

    private static int fastCacheIndex(Thread thread) {
        @SuppressWarnings("deprecation") // threadId() is Java 19; getId() is the same number
        long id = thread.getId();
        return (int) id & (FAST_CACHES - 1);
    }

    /** The calling thread's cache from the {@link ThreadLocal}; takes the fast entry when it is free. */
    private ThreadRangeCache slowThreadCache(Thread thread) {
        ThreadRangeCache cache = threadCaches.get();
        if (cache == null) {
            cache = newThreadCache();
        }
        int index = fastCacheIndex(thread);
        ThreadRangeCache holder = fastCaches[index];
        // A closed allocator lists no cache (close() cleared them all), so that it keeps no thread reachable.
        if ((holder == null || !holder.thread.isAlive()) && !closed.get()) {
            fastCaches[index] = cache;
        }
        return cache;
    }

    private ThreadRangeCache newThreadCache() {
        ThreadRangeCache cache = new ThreadRangeCache(pools.length, Thread.currentThread(),
                TypeBlockPool.threadNumber());
        threadCaches.set(cache);
        if (!closed.get()) {
            allThreadCaches.add(cache);
            // Threads that come and go leave caches behind: a new thread takes back the ranges of those that ended,
            // so neither their ranges nor their caches pile up.
            reclaimThreadCaches(false);
        }
        return cache;
    }

    /**
     * Whether the factory's suballocators take ranges of any size back in any order (TLSF, buddy), so that threads may
     * cache released ranges placed at size classes; a stack's or ring's order would break, and a fixed-size
     * suballocator takes one size only. Asks one suballocator of the smallest block size, and of twice that while the
     * factory refuses the size ({@code IllegalArgumentException}, as for a block size it refuses: see
     * {@link #allocate}), up to {@value #KIND_PROBE_LIMIT} bytes; a factory that refuses them all, or throws anything
     * else, gets no thread caches.
     */
    private static boolean freesInAnyOrder(SuballocatorFactory factory) {
        for (long size = BLOCK_GRANULE; size <= KIND_PROBE_LIMIT; size <<= 1) {
            try {
                SuballocatorKind kind = factory.create(0, size, 1).kind();
                return kind == SuballocatorKind.TLSF || kind == SuballocatorKind.BUDDY;
            } catch (IllegalArgumentException e) {
                // Too small for this factory, perhaps: the blocks it takes are larger.
            } catch (RuntimeException e) {
                return false;
            }
        }
        return false;
    }

    /** The largest region {@link #freesInAnyOrder} asks a suballocator factory for: 1 GiB. */
    private static final long KIND_PROBE_LIMIT = 1L << 30;

    /** @return the pools by memory type */
    TypeBlockPool[] pools() {
        return pools;
    }

    /**
     * Takes back the cached ranges of threads that have ended. Goes on past a cache whose ranges fail to go back
     * ({@link ThreadRangeCache#retire} gives back all it can past a suballocator's exception), or whose giving back
     * gets an {@link Error} (a {@code DeviceMemoryListener}'s, from destroying a block the ranges emptied, which VMA
     * lets through once the memory is freed), to the other caches and the other threads' flush requests, and throws
     * the first failure at the end, the others suppressed on it.
     *
     * @param askOthers whether to ask every other thread to give its own back at its next call (the pool ran out of
     *                  device memory, or the application asked for unused memory back), and give back now the ranges
     *                  other threads sent home to them ({@link ThreadRangeCache#giveBackInbox}): a thread that does
     *                  not call again would keep those, and their blocks, until it ends
     * @return whether a thread that ended had ranges cached, or (with {@code askOthers}) a live thread's inbox had
     * @throws RuntimeException the first failure on the way, once every other ended thread's ranges went back
     * @throws Error            the first failure, when it was an {@link Error}
     */
    boolean reclaimThreadCaches(boolean askOthers) {
        boolean reclaimed = false;
        Throwable failure = null;
        for (ThreadRangeCache cache : allThreadCaches) {
            // isAlive() == false: everything the thread did happened before this read (JLS 17.4.4).
            if (!cache.thread.isAlive()) {
                if (allThreadCaches.remove(cache)) {
                    forgetFastCache(cache);
                    retireCounts(cache);
                    for (int t = 0; t < pools.length; t++) {
                        reclaimed |= cache.cachedRanges(t) > 0;
                    }
                    try {
                        cache.retire(pools);
                    } catch (RuntimeException | Error e) {
                        failure = Failures.add(failure, e);
                    }
                }
            } else if (askOthers && cache.thread != Thread.currentThread()) {
                // Its bins at its next call; what others sent home to it now, as that thread may not call again.
                cache.flushRequested = true;
                try {
                    reclaimed |= cache.giveBackInbox(pools);
                } catch (RuntimeException | Error e) {
                    failure = Failures.add(failure, e);
                }
            }
        }
        Failures.throwIfAny(failure);
        return reclaimed;
    }

    /** Keeps an ended thread's cache counts in the statistics after its cache is dropped. */
    private void retireCounts(ThreadRangeCache cache) {
        for (int t = 0; t < pools.length; t++) {
            long[] c = cache.counts(t);
            for (int i = 0; i < c.length; i++) {
                retiredCacheCounts.addAndGet(t * ThreadRangeCache.COUNTS + i, c[i]);
            }
        }
    }

    /** @return the thread caches listed in the fast lookup now (for tests) */
    int fastCacheCount() {
        int n = 0;
        for (ThreadRangeCache cache : fastCaches) {
            n += cache != null ? 1 : 0;
        }
        return n;
    }

    /** Clears a cache's fast entry, if it still holds it, so that an ended thread's cache is not kept reachable. */
    private void forgetFastCache(ThreadRangeCache cache) {
        int index = fastCacheIndex(cache.thread);
        if (fastCaches[index] == cache) {
            fastCaches[index] = null;
        }
    }

    /**
     * @return the hits, misses and overflows of all threads' caches for a memory type, ended threads' included (read
     *         racily: figures of a moment)
     */
    long[] cacheCounts(int memoryTypeIndex) {
        long[] sum = new long[ThreadRangeCache.COUNTS];
        for (int i = 0; i < sum.length; i++) {
            sum[i] = retiredCacheCounts.get(memoryTypeIndex * ThreadRangeCache.COUNTS + i);
        }
        for (ThreadRangeCache cache : allThreadCaches) {
            long[] c = cache.counts(memoryTypeIndex);
            for (int i = 0; i < sum.length; i++) {
                sum[i] += c[i];
            }
        }
        return sum;
    }

    /** @return the ranges all threads' caches keep for a memory type (read racily: figures of a moment) */
    long cachedRanges(int memoryTypeIndex) {
        long sum = 0;
        for (ThreadRangeCache cache : allThreadCaches) {
            sum += cache.cachedRanges(memoryTypeIndex);
        }
        return sum;
    }

    /** @return the bytes of those ranges */
    long cachedBytes(int memoryTypeIndex) {
        long sum = 0;
        for (ThreadRangeCache cache : allThreadCaches) {
            sum += cache.cachedBytes(memoryTypeIndex);
        }
        return sum;
    }

    /** @return whether {@link #close()} has run */
    public boolean isClosed() {
        return closed.get();
    }

    /** @return the buffers that were still live when {@link #close()} ran, or -1 before it ran */
    public int liveBuffersAtClose() {
        return liveBuffersAtClose;
    }

    /**
     * Frees every block and dedicated memory; the first call only. Buffers still live are released first (their
     * {@code VkBuffer}s destroyed, their views closed, so using them throws), counted in {@link #liveBuffersAtClose()}
     * and reported as a warning. Must not race with {@link #allocate}.
     *
     * <p>Goes on past a failure (a suballocator that throws while the releases waiting for an arena's lock are
     * finished, say, or a {@code DeviceMemoryListener} whose {@link Error} comes out of destroying a block once VMA
     * freed its memory), so that every block it can free is freed; then throws the first failure, the others added to
     * it as suppressed. The allocator is closed either way.
     *
     * @throws IllegalStateException when called from one of the VMA allocator's {@code DeviceMemoryListener}s, which
     *                               run inside a call (maybe one of this allocator's, whose memory would be freed
     *                               under it); nothing changes
     * @throws RuntimeException      the first failure, when something failed on the way
     * @throws Error                 the first failure, when it was an {@link Error}
     */
    @Override
    public void close() {
        if (!closed.get() && vma.isInsideDeviceMemoryListener()) {
            throw new IllegalStateException("BlockPoolAllocator.close() called from a DeviceMemoryListener (expected: "
                    + "close() once the call that runs the listener has returned)");
        }
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        // RuntimeExceptions and Errors: a DeviceMemoryListener's Error comes out of destroying a block once VMA freed
        // its memory, and must not keep the blocks after it allocated.
        List<Throwable> failures = new ArrayList<>();
        List<PooledBuffer> live = new ArrayList<>();
        List<PoolBlock> blocks = new ArrayList<>();
        int liveCount = 0;
        for (TypeBlockPool pool : pools) {
            liveCount += pool.close(live, blocks, failures);
        }
        for (PooledBuffer buffer : live) {
            try {
                buffer.release();
            } catch (RuntimeException | Error e) {
                failures.add(e);
            }
        }
        for (PoolBlock block : blocks) {
            try {
                // Ranges kept in threads' caches may hold VkBuffers of their own (Config.recycleBuffers).
                block.destroyKeptBuffers();
            } catch (RuntimeException | Error e) {
                failures.add(e);
            }
            try {
                destroy(block);
            } catch (RuntimeException | Error e) {
                failures.add(e);
            }
        }
        // Ranges still in threads' caches went with their blocks: the caches forget them, so that no thread-local
        // entry keeps this allocator reachable.
        for (ThreadRangeCache cache : allThreadCaches) {
            cache.clear();
        }
        allThreadCaches.clear();
        Arrays.fill(fastCaches, null);
        liveBuffersAtClose = liveCount;
        if (liveCount > 0) {
            LOG.log(Level.WARNING, "BlockPoolAllocator closed with {0} live buffers (expected: 0; they are closed "
                    + "now)", liveCount);
        }
        Throwable failure = null;
        for (Throwable e : failures) {
            failure = Failures.add(failure, e);
        }
        Failures.throwIfAny(failure);
    }

    private TypeBlockPool pool(int memoryTypeIndex) {
        if (memoryTypeIndex < 0 || memoryTypeIndex >= pools.length) {
            throw new IllegalArgumentException("memoryTypeIndex: " + memoryTypeIndex + " (expected: 0.."
                    + (pools.length - 1) + ")");
        }
        return pools[memoryTypeIndex];
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("BlockPoolAllocator is closed (expected: an open allocator)");
        }
    }

    private String describeTypes() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < properties.types().size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(i).append(' ')
                    .append(MemoryProperties.describeFlags(properties.propertyFlags(i)));
        }
        return sb.toString();
    }

    static long roundToGranule(long bytes) {
        return alignUp(bytes, BLOCK_GRANULE);
    }

    /** @return {@code value} rounded up to a multiple of the power of two {@code alignment}; no overflow below 2^62 */
    static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    @Override
    public String toString() {
        return "BlockPoolAllocator[" + pools.length + " memory types, " + deviceMemoryCount.get()
                + " memory objects, " + committedBytes.get() + " bytes committed" + (closed.get() ? ", closed" : "")
                + "]";
    }
}
