package io.github.solvk.memory;

import io.github.solvk.memory.pool.MemoryTypeFilter;
import io.github.solvk.memory.suballocator.Suballocator;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import java.util.Objects;

/**
 * A named pool of memory that hands out buffers of one usage and one memory type: SOL's {@code IMemoryPool}.
 * Created by name on the {@link MemoryManager} ({@code createNonLinearMemoryPool}, {@code createFreeAtOnceMemoryPool},
 * {@code createStackMemoryPool}, {@code createRingBufferMemoryPool}, {@code createFixedSizeMemoryPool}).
 *
 * <p>Every buffer is a sub-range {@code (buffer(), offset(), size())} of one of the pool's block buffers: allocating
 * and freeing make no Vulkan call. The pool's kind sets the order in which buffers must be freed (see
 * {@link io.github.solvk.memory.pool.BlockMemoryPool}); breaking it makes the next allocation throw
 * {@link IllegalStateException} until the order is right again.
 *
 * <p>Three ways to allocate: {@link #allocateBuffer(long)}, {@link #allocateBuffer(AllocationInfo)} with a usage that
 * is a subset of the pool's and an alignment, and the generic {@link IBufferAllocator#allocateBuffer(
 * IBufferAllocator.AllocationInfo, OnAllocationFailure)}, which throws {@link IllegalArgumentException} when the
 * request does not match the pool (usage not a subset, another memory usage, flags, concurrent sharing). Its
 * {@link AllocationFlags#WITHIN_BUDGET} makes a new block for the request only within the heap's budget: a block that
 * would pass it is not made, and the request fails with {@link MemoryAllocationException.Reason#OUT_OF_DEVICE_MEMORY}.
 * A request larger than the block size fails with {@link MemoryAllocationException.Reason#BLOCK_SIZE_EXCEEDED}.
 */
public interface IMemoryPool extends IBufferAllocator, AutoCloseable {

    /** @return the pool's name, unique within its manager */
    String name();

    /** @return how the pool was made */
    CreateInfo createInfo();

    /**
     * Allocates a buffer of the pool's usage, throwing when there is no room.
     *
     * @param size bytes
     * @return the buffer
     */
    IBuffer allocateBuffer(long size);

    /**
     * Allocates a buffer, throwing when there is no room.
     *
     * @param info size, usage (a subset of the pool's, 0 for the pool's) and alignment
     * @return the buffer
     */
    IBuffer allocateBuffer(AllocationInfo info);

    /**
     * Allocates a buffer, blocking until other threads free enough space; only pools with {@link Capability#WAIT}
     * (the ring buffer pool).
     *
     * @param info size, usage and alignment
     * @return the buffer
     * @throws UnsupportedOperationException when the pool cannot wait
     */
    IBuffer allocateBufferWithWait(AllocationInfo info);

    /**
     * As {@link #allocateBufferWithWait(AllocationInfo)}, giving up after a timeout.
     *
     * @param info          size, usage and alignment
     * @param timeoutMillis how long to wait, {@code > 0}
     * @return the buffer
     * @throws IllegalArgumentException      when {@code timeoutMillis <= 0}
     * @throws MemoryAllocationException     {@code OUT_OF_POOL_MEMORY} when the time ran out or the thread was
     *                                       interrupted
     * @throws UnsupportedOperationException when the pool cannot wait
     */
    IBuffer allocateBufferWithWait(AllocationInfo info, long timeoutMillis);

    /**
     * @return the number of buffers placed and not yet given back, as the pool counts them: a figure of a moment while
     *         other threads allocate or close buffers (a buffer being handed out or given back may be counted or not);
     *         0 once the pool is closed
     */
    int liveBufferCount();

    /** @return the pool's blocks, live buffers and free space now */
    io.github.solvk.memory.pool.BlockMemoryPool.Statistics statistics();

    /** @return the memory type of the pool's blocks */
    int memoryTypeIndex();

    /**
     * Checks the guard margins of every open buffer of a pool made with {@link CreateInfo#GUARD_MARGINS}.
     *
     * @throws io.github.solvk.memory.diagnostics.CorruptionException naming the first buffer that wrote past its end
     * @throws IllegalStateException when the pool has no guard margins
     */
    void checkCorruption();

    /** @return whether the pool is closed */
    boolean isClosed();

    /**
     * Destroys the pool: frees its blocks and unregisters it from its manager. Buffers still open are closed (and
     * logged). Calling it again does nothing.
     *
     * @throws IllegalStateException when called from a {@code DeviceMemoryListener} (which runs inside a call, maybe
     *                               this pool's own allocation); nothing changes
     */
    @Override
    void close();

    /**
     * A request to a pool: SOL's {@code IMemoryPool::AllocationInfo}.
     *
     * @param size        bytes, {@code > 0}
     * @param bufferUsage a subset of the pool's usage; 0 for the pool's own
     * @param alignment   0 or a power of two
     * @param name        shown in statistics, dumps, pictures and errors; may be {@code null}
     */
    record AllocationInfo(long size, int bufferUsage, long alignment, String name) {
        /**
         * @throws IllegalArgumentException for a bad size or alignment
         */
        public AllocationInfo {
            if (size <= 0) {
                throw new IllegalArgumentException("size: " + size + " (expected: > 0)");
            }
            if (alignment < 0 || (alignment & (alignment - 1)) != 0) {
                throw new IllegalArgumentException("alignment: " + alignment + " (expected: 0 or a power of two)");
            }
        }

        /**
         * A request without a name.
         *
         * @param size        bytes, {@code > 0}
         * @param bufferUsage a subset of the pool's usage; 0 for the pool's own
         * @param alignment   0 or a power of two
         */
        public AllocationInfo(long size, int bufferUsage, long alignment) {
            this(size, bufferUsage, alignment, null);
        }

        /**
         * @param size bytes
         * @return a request of the pool's usage and alignment
         */
        public static AllocationInfo of(long size) {
            return new AllocationInfo(size, 0, 0, null);
        }

        /**
         * @param size bytes
         * @param name the buffer's name
         * @return a named request of the pool's usage and alignment
         */
        public static AllocationInfo of(long size, String name) {
            return new AllocationInfo(size, 0, 0, name);
        }
    }

    /**
     * How to make a pool: SOL's {@code IMemoryPool::CreateInfo}.
     *
     * @param createFlags          {@link #BUDDY_ALGORITHM} for a non-linear pool on the buddy algorithm,
     *                             {@link #GUARD_MARGINS} for corruption checks; else 0
     * @param bufferUsage          {@code VkBufferUsageFlags} of every buffer the pool hands out
     * @param memoryUsage          what the memory is for
     * @param requiredMemoryFlags  {@code VkMemoryPropertyFlags} the memory type must have
     * @param preferredMemoryFlags {@code VkMemoryPropertyFlags} the memory type should have
     * @param allocationFlags      {@link AllocationFlags}; only the host access bits matter to a pool
     * @param blockSize            bytes per block
     * @param minBlocks            blocks made at creation
     * @param maxBlocks            the most blocks the pool may hold
     */
    record CreateInfo(int createFlags, int bufferUsage, MemoryUsage memoryUsage, int requiredMemoryFlags,
                      int preferredMemoryFlags, int allocationFlags, long blockSize, int minBlocks, int maxBlocks) {

        /** {@link #createFlags()} bit: a non-linear pool uses the buddy algorithm instead of TLSF. */
        public static final int BUDDY_ALGORITHM = 0x1;
        /**
         * {@link #createFlags()} bit: leave {@link #GUARD_MARGIN_BYTES} after every buffer, filled with a known
         * pattern that is checked when the buffer is closed and by {@link IMemoryPool#checkCorruption()}; a write
         * past a buffer's end is reported with the buffer's name. Only on host-visible memory.
         */
        public static final int GUARD_MARGINS = 0x2;
        /** The size of a guard margin. */
        public static final long GUARD_MARGIN_BYTES = 64;

        /**
         * Checks everything that needs no device, so that {@link #of}, the {@code with} methods and this constructor
         * refuse a bad value where it is given: unknown create flags, a usage of 0 or with bits outside
         * {@link VulkanBuffer#KNOWN_USAGE_FLAGS}, unknown or contradictory {@link AllocationFlags}, memory property
         * flags that are not {@code VkMemoryPropertyFlagBits} or that no memory type may have together, host access
         * that the memory usage forbids ({@code DEVICE_ONLY} or {@code GPU_LAZILY_ALLOCATED} with a
         * {@code HOST_ACCESS_*} flag or a host-side memory flag, {@code UPLOAD} with {@code HOST_ACCESS_RANDOM},
         * {@code DOWNLOAD} with {@code HOST_ACCESS_SEQUENTIAL_WRITE}), a block size that is not positive or above
         * {@link Suballocator#MAX_REGION_END}, {@link #GUARD_MARGINS} with a block smaller than two margins, and block
         * counts out of order.
         *
         * <p>What needs the device or the pool's kind is checked when the manager creates the pool: that a memory
         * type fits, guard margins on host-visible memory, a fixed-size slot at the device's alignment, and
         * {@link #BUDDY_ALGORITHM} on a kind other than non-linear.
         *
         * @throws IllegalArgumentException naming the bad value and what was expected
         */
        public CreateInfo {
            Objects.requireNonNull(memoryUsage, "memoryUsage: null (expected: a MemoryUsage)");
            if ((createFlags & ~(BUDDY_ALGORITHM | GUARD_MARGINS)) != 0) {
                throw new IllegalArgumentException("createFlags: 0x" + Integer.toHexString(createFlags)
                        + " (expected: BUDDY_ALGORITHM and GUARD_MARGINS bits only)");
            }
            if (bufferUsage == 0) {
                throw new IllegalArgumentException("bufferUsage: 0 (expected: at least one VkBufferUsageFlagBits)");
            }
            VulkanBuffer.checkKnownUsage("bufferUsage", bufferUsage);
            AllocationFlags.check(allocationFlags);
            // The memory flags and the usage/host access rules need no device either. The manager builds the pool's
            // filter with this same call; since the info was checked here, it no longer throws there.
            MemoryTypeFilter.of(memoryUsage, AllocationFlags.hostAccess(HostAccess.NONE, allocationFlags),
                    requiredMemoryFlags, preferredMemoryFlags);
            if (blockSize <= 0 || blockSize > Suballocator.MAX_REGION_END) {
                throw new IllegalArgumentException("blockSize: " + blockSize + " (expected: 1.."
                        + Suballocator.MAX_REGION_END + ")");
            }
            if ((createFlags & GUARD_MARGINS) != 0 && blockSize < 2 * GUARD_MARGIN_BYTES) {
                throw new IllegalArgumentException("blockSize: " + blockSize + " with GUARD_MARGINS (expected: >= "
                        + 2 * GUARD_MARGIN_BYTES + ", room for a buffer and its " + GUARD_MARGIN_BYTES
                        + "-byte margin)");
            }
            if (minBlocks < 0 || maxBlocks < 1 || minBlocks > maxBlocks) {
                throw new IllegalArgumentException("minBlocks: " + minBlocks + ", maxBlocks: " + maxBlocks
                        + " (expected: 0 <= minBlocks <= maxBlocks, maxBlocks >= 1)");
            }
        }

        /**
         * The memory types the pool's blocks fit, best first: its memory usage, host access ({@code HOST_ACCESS_*}
         * flags, and whether they allow a transfer instead), memory flags and buffer usage.
         *
         * @param integratedGpu whether the device is an integrated GPU ({@link MemoryTypeFilter})
         */
        MemoryTypeFilter memoryTypeFilter(boolean integratedGpu) {
            return MemoryTypeFilter.of(memoryUsage, AllocationFlags.hostAccess(HostAccess.NONE, allocationFlags),
                    AllocationFlags.allowsTransferInstead(allocationFlags), integratedGpu, requiredMemoryFlags,
                    preferredMemoryFlags, bufferUsage);
        }

        /**
         * @param bufferUsage the pool's {@code VkBufferUsageFlags}
         * @param memoryUsage what the memory is for
         * @param blockSize   bytes per block
         * @return a request for one block made at creation and at most 16
         */
        public static CreateInfo of(int bufferUsage, MemoryUsage memoryUsage, long blockSize) {
            return new CreateInfo(0, bufferUsage, memoryUsage, 0, 0, 0, blockSize, 1, 16);
        }

        /**
         * @param min blocks made at creation
         * @param max the most blocks
         * @return a copy with those block counts
         */
        public CreateInfo withBlocks(int min, int max) {
            return new CreateInfo(createFlags, bufferUsage, memoryUsage, requiredMemoryFlags, preferredMemoryFlags,
                    allocationFlags, blockSize, min, max);
        }

        /**
         * @param flags create flags
         * @return a copy with those flags
         */
        public CreateInfo withCreateFlags(int flags) {
            return new CreateInfo(flags, bufferUsage, memoryUsage, requiredMemoryFlags, preferredMemoryFlags,
                    allocationFlags, blockSize, minBlocks, maxBlocks);
        }

        /**
         * @param required required memory property flags
         * @param preferred preferred memory property flags
         * @return a copy with those flags
         */
        public CreateInfo withMemoryFlags(int required, int preferred) {
            return new CreateInfo(createFlags, bufferUsage, memoryUsage, required, preferred, allocationFlags,
                    blockSize, minBlocks, maxBlocks);
        }
    }
}
