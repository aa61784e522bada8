package io.github.solvk.memory.pool;

import static io.github.solvk.memory.suballocator.Suballocator.NULL_HANDLE;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import io.github.solvk.memory.internal.Failures;
import io.github.solvk.memory.suballocator.AllocationType;
import io.github.solvk.memory.suballocator.RingSuballocator;
import io.github.solvk.memory.suballocator.Suballocator;
import io.github.solvk.memory.suballocator.SuballocatorKind;
import io.github.solvk.memory.suballocator.Suballocators;
import io.github.solvk.memory.vulkan.MemoryProperties;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanException;
import io.github.solvk.memory.vulkan.VulkanMemory;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * The mechanics of SOL's named memory pools: blocks of one memory type, each with one block-wide {@code VkBuffer} of
 * the pool's usage and a suballocator, handing out sub-ranges {@code (VkBuffer, offset, size)} with no Vulkan call.
 *
 * <p>The {@link Kind} sets the suballocator and the order in which buffers must be freed, exactly as SOL's pools:
 * <pre>
 *  NON_LINEAR    TLSF or buddy per block; free in any order; gaps are filled before a new block is made
 *  FREE_AT_ONCE  placed one after another; after the first free, every allocation throws until all are freed,
 *                then the pool starts again from the first block
 *  STACK         LIFO across all blocks; freeing a buffer that is not the newest is recorded, and allocations
 *                throw until the newer buffers are freed too ("fix" the order), which frees the whole run
 *  RING_BUFFER   exactly one block, FIFO; an out-of-order free leaves no usable space, so allocations throw until
 *                the older buffers are freed; the only kind with WAIT: block until another thread frees space
 *  FIXED_SIZE    equal slots of one size per block, each at the sub-ranges' alignment; free in any order; a
 *                block holds (blockSize - slot) / stride + 1 slots, where slot is the slot size plus the guard
 *                margin and stride that rounded up to the alignment: the last slot needs no whole stride
 * </pre>
 * {@code minBlocks} blocks are made at creation, never more than {@code maxBlocks}; a request larger than the block
 * size fails with {@link PoolException.Kind#BLOCK_SIZE_EXCEEDED}, one that not even an empty block takes (a buddy's
 * power-of-two nodes, an alignment beyond the block) with
 * {@link PoolException.Kind#SUBALLOCATOR_BLOCK_SIZE_EXCEEDED} and no device memory made, one that finds no room with
 * {@link PoolException.Kind#OUT_OF_POOL_MEMORY}. Empty blocks beyond {@code minBlocks} are freed, keeping one spare.
 *
 * <p>Every sub-range starts at a multiple of the device's descriptor offset alignment for the pool's usage (uniform,
 * storage, texel) and of the buffer's memory alignment, so any buffer from the pool can be bound as a descriptor.
 *
 * <p>Thread-safe: one lock per pool.
 */
public final class BlockMemoryPool implements AutoCloseable {

    /** The kinds of SOL pool. */
    public enum Kind {
        /** Free in any order (TLSF, or buddy). */
        NON_LINEAR,
        /** Free everything before allocating again. */
        FREE_AT_ONCE,
        /** Free in LIFO order. */
        STACK,
        /** Free in FIFO order; one block; can wait. */
        RING_BUFFER,
        /** Equal slots. */
        FIXED_SIZE
    }

    /**
     * How to make a pool.
     *
     * @param name               the pool's name, for messages and statistics
     * @param kind               which SOL pool
     * @param bufferUsage        {@code VkBufferUsageFlags} of the block buffers; every allocation's usage is a subset
     * @param filter             chooses the memory type
     * @param blockSize          bytes per block
     * @param minBlocks          blocks made at creation
     * @param maxBlocks          the most blocks the pool may hold (1 for a ring buffer)
     * @param nonLinearAlgorithm TLSF or BUDDY for {@link Kind#NON_LINEAR}; ignored otherwise
     * @param slotSize           the slot size of a {@link Kind#FIXED_SIZE} pool; ignored otherwise
     * @param guardMargin        bytes left after every buffer for corruption checks (0 for none); needs
     *                           host-visible memory
     */
    public record Config(String name, Kind kind, int bufferUsage, MemoryTypeFilter filter, long blockSize,
                         int minBlocks, int maxBlocks, SuballocatorKind nonLinearAlgorithm, long slotSize,
                         long guardMargin) {

        /**
         * Checks what needs no device.
         *
         * @throws IllegalArgumentException naming the bad value
         */
        public Config {
            Objects.requireNonNull(name, "name: null (expected: a name)");
            Objects.requireNonNull(kind, "kind: null (expected: a BlockMemoryPool.Kind)");
            Objects.requireNonNull(filter, "filter: null (expected: a MemoryTypeFilter)");
            if (bufferUsage == 0) {
                throw new IllegalArgumentException("bufferUsage: 0 (expected: the pool's VkBufferUsageFlags)");
            }
            if (blockSize <= 0 || blockSize > Suballocator.MAX_REGION_END) {
                throw new IllegalArgumentException("blockSize: " + blockSize + " (expected: 1.."
                        + Suballocator.MAX_REGION_END + ")");
            }
            if (minBlocks < 0 || maxBlocks < 1 || minBlocks > maxBlocks) {
                throw new IllegalArgumentException("minBlocks: " + minBlocks + ", maxBlocks: " + maxBlocks
                        + " (expected: 0 <= minBlocks <= maxBlocks, maxBlocks >= 1)");
            }
            if (kind == Kind.RING_BUFFER && maxBlocks != 1) {
                throw new IllegalArgumentException("maxBlocks: " + maxBlocks + " for a ring buffer pool (expected: 1,"
                        + " a ring buffer has exactly one block)");
            }
            if (kind == Kind.NON_LINEAR && nonLinearAlgorithm != SuballocatorKind.TLSF
                    && nonLinearAlgorithm != SuballocatorKind.BUDDY) {
                throw new IllegalArgumentException("nonLinearAlgorithm: " + nonLinearAlgorithm
                        + " (expected: TLSF or BUDDY)");
            }
            if (guardMargin < 0 || guardMargin > blockSize / 2) {
                throw new IllegalArgumentException("guardMargin: " + guardMargin + " (expected: 0.." + blockSize / 2
                        + ")");
            }
            if (kind == Kind.FIXED_SIZE && (slotSize <= 0 || slotSize > blockSize)) {
                throw new IllegalArgumentException("slotSize: " + slotSize + " (expected: 1.." + blockSize
                        + ", the block size)");
            }
            if (kind == Kind.FIXED_SIZE && slotSize > blockSize - guardMargin) {
                throw new IllegalArgumentException("slotSize: " + slotSize + " with guard margin " + guardMargin
                        + " (expected: slot and margin within the block size " + blockSize + ")");
            }
        }
    }

    /**
     * One block: memory, its block-wide buffer and its suballocator. It is the {@link PooledBuffer.Releaser} of the
     * buffers placed in it, so a buffer carries no release action of its own.
     */
    private static final class Block implements PooledBuffer.Releaser {
        final BlockMemoryPool owner;
        final String name;
        final VulkanMemory memory;
        final VulkanBuffer buffer;
        final Suballocator suballocator;

        Block(BlockMemoryPool owner, String name, VulkanMemory memory, VulkanBuffer buffer,
              Suballocator suballocator) {
            this.owner = owner;
            this.name = name;
            this.memory = memory;
            this.buffer = buffer;
            this.suballocator = suballocator;
        }

        @Override
        public void release(PooledBuffer buffer) {
            owner.release((Placed) buffer);
        }

        void close() {
            try {
                buffer.close();
            } finally {
                memory.close();
            }
        }
    }

    /**
     * A buffer of this pool: its block, what the caller attached to it, and its place in the pool's list of live
     * buffers (guarded by the pool's lock, which placing and freeing take anyway), so that the pool can name its
     * buffers and release those still open when it closes, with no map and no object beside the buffer.
     */
    static final class Placed extends PooledBuffer {
        final VulkanBuffer margin;
        final BlockMemoryPool pool;
        final long handle;
        final Block block;
        final Object attachment;
        /** Whether it is in the list of live buffers; its neighbours there. */
        boolean listed;
        Placed prev;
        Placed next;
        /** A stack pool's buffer released while newer ones are live. */
        boolean freed;

        Placed(VulkanBuffer view, VulkanBuffer margin, BlockMemoryPool pool, long handle, Block block,
               Object attachment) {
            super(view, block);
            this.margin = margin;
            this.pool = pool;
            this.handle = handle;
            this.block = block;
            this.attachment = attachment;
        }
    }

    private final VulkanMemoryAllocator allocator;
    private final Config config;
    private final int memoryTypeIndex;
    private final long baseAlignment;
    private final long granularity;
    private final List<Block> blocks = new ArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition freed = lock.newCondition();
    /** A stack pool's live buffers, in allocation order. */
    private final ArrayDeque<Placed> stack = new ArrayDeque<>();
    /** The oldest and newest live buffers. */
    private Placed liveHead;
    private Placed liveTail;
    /** Blocks made so far, for their names; changed only in the constructor and under {@link #lock}. */
    private long blocksMade;
    private final BlockListener blockListener;
    /**
     * A suballocator of a block's kind and size that holds nothing between calls (guarded by {@link #lock}, made on
     * first use): it answers whether an empty block would take a request before a block of device memory is made for
     * it ({@link #emptyBlockHolds}).
     */
    private Suballocator emptyProbe;
    private int live;
    private int pendingStackFrees;
    private boolean draining;
    private boolean closed;

    /**
     * Chooses the memory type and makes {@code minBlocks} blocks.
     *
     * @param allocator the VMA allocator the blocks come from
     * @param config    what to make
     * @throws PoolException            NO_COMPATIBLE_MEMORY_TYPE, or OUT_OF_DEVICE_MEMORY when the first blocks
     *                                  cannot be made (nothing is left allocated)
     */
    public BlockMemoryPool(VulkanMemoryAllocator allocator, Config config) {
        this(allocator, config, null);
    }

    /**
     * As {@link #BlockMemoryPool(VulkanMemoryAllocator, Config)}, with a listener that hears of every block from
     * the first (the {@code minBlocks} blocks made here included).
     *
     * @param allocator the VMA allocator the blocks come from
     * @param config    what to make
     * @param listener  hears of blocks made and freed, or {@code null}
     */
    public BlockMemoryPool(VulkanMemoryAllocator allocator, Config config, BlockListener listener) {
        this.blockListener = listener;
        this.allocator = Objects.requireNonNull(allocator, "allocator: null (expected: an open VulkanMemoryAllocator)");
        this.config = Objects.requireNonNull(config, "config: null (expected: a BlockMemoryPool.Config)");
        VulkanMemory.Requirements requirements;
        try {
            requirements = VulkanMemory.bufferRequirements(allocator, config.blockSize(), config.bufferUsage());
        } catch (VulkanException e) {
            // The driver refuses a VkBuffer of the block's size (larger than it can ever back): no block could
            // ever be made, so the pool is not.
            throw blockFailure(e, "cannot make a block buffer of " + config.blockSize() + " bytes");
        }
        MemoryProperties props = allocator.memoryProperties();
        int chosen = MemoryTypeSelector.findMemoryTypeIndex(props, requirements.memoryTypeBits(), config.filter());
        int hostFlags = chosen < 0 ? 0
                : props.propertyFlags(chosen) & (MemoryProperties.HOST_VISIBLE | MemoryProperties.HOST_COHERENT);
        if (config.guardMargin() > 0 && hostFlags == MemoryProperties.HOST_VISIBLE) {
            // Margins are filled and checked through the mapping with no flush or invalidate, whose whole atoms could
            // reach into the neighbouring buffers' bytes: on coherent memory only, as VMA's corruption detection.
            // Every device has a HOST_VISIBLE | HOST_COHERENT type (the Vulkan spec requires one).
            MemoryTypeFilter f = config.filter();
            int coherent = MemoryTypeSelector.findMemoryTypeIndex(props, requirements.memoryTypeBits(),
                    MemoryTypeFilter.ofFlags(f.requiredFlags() | MemoryProperties.HOST_COHERENT,
                            f.preferredFlags() & ~MemoryProperties.HOST_COHERENT,
                            f.notPreferredFlags() & ~MemoryProperties.HOST_COHERENT));
            if (coherent < 0) {
                throw new IllegalArgumentException("guard margins in pool '" + config.name() + "': memory type "
                        + chosen + " is " + MemoryProperties.describeFlags(props.propertyFlags(chosen))
                        + " and no HOST_COHERENT type fits " + f + " (expected: HOST_VISIBLE and HOST_COHERENT, where"
                        + " the margins can be filled and checked without flushing the neighbours' bytes)");
            }
            chosen = coherent;
        }
        this.memoryTypeIndex = chosen;
        if (memoryTypeIndex < 0) {
            throw new PoolException(PoolException.Kind.NO_COMPATIBLE_MEMORY_TYPE, null, "pool '" + config.name()
                    + "': no memory type fits " + config.filter() + " with memoryTypeBits 0x"
                    + Integer.toHexString(requirements.memoryTypeBits()), null);
        }
        if (config.guardMargin() > 0 && (props.propertyFlags(memoryTypeIndex) & MemoryProperties.HOST_VISIBLE) == 0) {
            throw new IllegalArgumentException("guard margins in pool '" + config.name() + "': memory type "
                    + memoryTypeIndex + " is " + MemoryProperties.describeFlags(props.propertyFlags(memoryTypeIndex))
                    + " (expected: HOST_VISIBLE, where the margins can be filled and checked)");
        }
        this.baseAlignment = Math.max(requirements.alignment(), descriptorAlignment(allocator, config.bufferUsage()));
        this.granularity = props.bufferImageGranularity();
        if (config.kind() == Kind.FIXED_SIZE) {
            // Config could not check the slots against the device's alignment for the usage, which sets the slots'
            // stride: the suballocator a block gets, made here, counts them by its rule (the last slot needs only the
            // slot size and guard margin, not a whole stride) and refuses a block with none, or too many.
            try {
                emptyProbe = newSuballocator(config.blockSize());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("fixed-size pool '" + config.name() + "': slotSize "
                        + config.slotSize() + (config.guardMargin() > 0 ? " with guard margin "
                        + config.guardMargin() : "") + " at the alignment " + baseAlignment + " of usage 0x"
                        + Integer.toHexString(config.bufferUsage()) + " on this device, in blocks of "
                        + config.blockSize() + " bytes: " + e.getMessage(), e);
            }
        }
        try {
            for (int i = 0; i < config.minBlocks(); i++) {
                blocks.add(newBlock(false));
            }
        } catch (RuntimeException | Error e) {
            // An Error too: a DeviceMemoryListener's from allocated() comes out of a block's vmaAllocateMemory (which
            // freed that block before throwing it), and must not keep the blocks made before it allocated.
            Throwable again = closeAllBlocks();
            if (again != null) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    /**
     * The alignment a sub-range needs to be bound as a descriptor of every kind the usage allows.
     *
     * @param allocator the allocator, for the device limits
     * @param usage     {@code VkBufferUsageFlags}
     * @return a power of two
     */
    static long descriptorAlignment(VulkanMemoryAllocator allocator, int usage) {
        VulkanMemoryAllocator.BufferLimits limits = allocator.bufferLimits();
        long alignment = 1;
        if ((usage & 0x10) != 0) { // VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT
            alignment = Math.max(alignment, limits.minUniformBufferOffsetAlignment());
        }
        if ((usage & 0x20) != 0) { // VK_BUFFER_USAGE_STORAGE_BUFFER_BIT
            alignment = Math.max(alignment, limits.minStorageBufferOffsetAlignment());
        }
        if ((usage & 0xC) != 0) { // UNIFORM_TEXEL_BUFFER_BIT | STORAGE_TEXEL_BUFFER_BIT
            alignment = Math.max(alignment, limits.minTexelBufferOffsetAlignment());
        }
        return alignment;
    }

    /** Hears of the pool's blocks being made and freed (for JFR events). */
    public interface BlockListener {
        /**
         * @param blockName       the block's name, as VMA records it
         * @param memoryTypeIndex its memory type
         * @param size            bytes
         */
        void blockAllocated(String blockName, int memoryTypeIndex, long size);

        /**
         * @param blockName       the block's name
         * @param memoryTypeIndex its memory type
         * @param size            bytes
         */
        void blockFreed(String blockName, int memoryTypeIndex, long size);
    }

    /**
     * Frees a block. The listener hears of it even when closing it throws: the memory is freed even when destroying
     * the block buffer throws, and a {@code DeviceMemoryListener}'s {@link Error} comes out of VMA's free once the
     * memory is freed.
     */
    private void closeBlock(Block block) {
        try {
            block.close();
        } finally {
            if (blockListener != null) {
                blockListener.blockFreed(block.name, memoryTypeIndex, block.memory.size());
            }
        }
    }

    /**
     * Frees every block and empties the list. Goes on past a block whose close throws (a {@code DeviceMemoryListener}
     * that throws an {@link Error}, which VMA lets through once the memory is freed), so that no other block stays
     * allocated.
     *
     * @return the first failure, the others suppressed on it, or {@code null}
     */
    private Throwable closeAllBlocks() {
        Throwable failure = null;
        for (Block b : blocks) {
            try {
                closeBlock(b);
            } catch (RuntimeException | Error e) {
                failure = Failures.add(failure, e);
            }
        }
        blocks.clear();
        return failure;
    }

    /**
     * Makes a block.
     *
     * @param withinBudget whether VMA refuses it, with {@code VK_ERROR_OUT_OF_DEVICE_MEMORY}, when the heap's usage
     *                     plus the block would pass the heap's budget
     * @throws PoolException OUT_OF_DEVICE_MEMORY (the heap is full, or the budget refused it) or OUT_OF_POOL_MEMORY
     *                       ({@link #blockFailure}); nothing is left allocated
     */
    private Block newBlock(boolean withinBudget) {
        VulkanMemory memory;
        String blockName = config.name() + " block " + blocksMade++;
        try {
            memory = VulkanMemory.allocate(allocator, config.blockSize(), baseAlignment, memoryTypeIndex, true,
                    withinBudget, blockName);
        } catch (VulkanException e) {
            throw blockFailure(e, "cannot allocate a block of " + config.blockSize() + " bytes in memory type "
                    + memoryTypeIndex + (withinBudget ? " within the heap's budget" : ""));
        }
        VulkanBuffer buffer = null;
        try {
            try {
                buffer = memory.createBlockBuffer(config.bufferUsage());
            } catch (VulkanException e) {
                throw blockFailure(e, "cannot make the buffer of a block of " + config.blockSize() + " bytes");
            }
            Suballocator suballocator = newSuballocator(memory.size());
            Block block = new Block(this, blockName, memory, buffer, suballocator);
            if (blockListener != null) {
                blockListener.blockAllocated(blockName, memoryTypeIndex, memory.size());
            }
            return block;
        } catch (RuntimeException | Error e) {
            // An Error too (the block listener's): the block must not stay allocated. What cleaning up throws (a
            // DeviceMemoryListener's Error comes out of VMA's free once the memory is freed) rides on the first.
            Throwable failure = buffer == null ? e : Failures.attempt(e, buffer::close);
            throw Failures.propagate(Failures.attempt(failure, memory::close));
        }
    }

    /** @return the suballocator of a block of {@code regionSize} bytes, as the pool's kind has it */
    private Suballocator newSuballocator(long regionSize) {
        switch (config.kind()) {
            case NON_LINEAR:
                return Suballocators.create(config.nonLinearAlgorithm(), 0, regionSize, granularity);
            case FREE_AT_ONCE:
            case STACK:
                return Suballocators.create(SuballocatorKind.STACK, 0, regionSize, granularity);
            case RING_BUFFER:
                return Suballocators.create(SuballocatorKind.RING, 0, regionSize, granularity);
            case FIXED_SIZE:
            default:
                // A slot holds the buffer and its guard margin; the slots start at the device's alignment, so they
                // lie that rounded up apart, and the last one needs only its own bytes inside the block.
                return Suballocators.fixedSize(0, regionSize, config.slotSize() + config.guardMargin(),
                        baseAlignment);
        }
    }

    /**
     * A Vulkan failure while making a block, as the pool's error: out of memory (device or host) is
     * {@code OUT_OF_DEVICE_MEMORY}, anything else {@code OUT_OF_POOL_MEMORY}; the Vulkan exception is the cause.
     */
    private PoolException blockFailure(VulkanException e, String what) {
        PoolException.Kind kind = "VK_ERROR_OUT_OF_DEVICE_MEMORY".equals(e.resultName())
                || "VK_ERROR_OUT_OF_HOST_MEMORY".equals(e.resultName())
                ? PoolException.Kind.OUT_OF_DEVICE_MEMORY : PoolException.Kind.OUT_OF_POOL_MEMORY;
        return new PoolException(kind, e.resultName(), "pool '" + config.name() + "': " + what + ": "
                + e.getMessage(), e);
    }

    /**
     * Places a buffer.
     *
     * @param size         bytes, {@code > 0}
     * @param usage        a subset of the pool's usage (0 for the pool's own)
     * @param alignment    0 or a power of two; the pool's descriptor alignment applies anyway
     * @param waitNanos    for a ring buffer pool: how long to wait for space (0: do not wait, negative: forever)
     * @return the buffer
     * @throws IllegalArgumentException for a bad size, usage or alignment
     * @throws IllegalStateException    when the pool's order of frees forbids allocating now (and no wait was asked)
     * @throws PoolException            BLOCK_SIZE_EXCEEDED, OUT_OF_POOL_MEMORY (also when a wait timed out),
     *                                  OUT_OF_DEVICE_MEMORY
     */
    public PooledBuffer allocate(long size, int usage, long alignment, long waitNanos) {
        return allocate(size, usage, alignment, waitNanos, null);
    }

    /**
     * Places a buffer, with an object of the caller's kept beside it while it is live: {@link #attachment},
     * {@link #liveBuffers()} and {@link #snapshot()} give it back, and error messages that name the buffer use its
     * {@code toString()}.
     *
     * @param attachment any object, or {@code null}
     * @return the buffer
     * @see #allocate(long, int, long, long)
     */
    public PooledBuffer allocate(long size, int usage, long alignment, long waitNanos, Object attachment) {
        return allocate(size, usage, alignment, waitNanos, attachment, false);
    }

    /**
     * As {@link #allocate(long, int, long, long, Object)}, optionally making a new block only within the heap's
     * budget: when the existing blocks have no room and the pool may grow, the new block is made only while the
     * heap's usage plus the block stays within the heap's budget (VMA's {@code WITHIN_BUDGET} check,
     * {@link VulkanMemoryAllocator#budgets()}); a block that would pass it is not made, and the request fails as
     * a block the device cannot make does, {@link PoolException.Kind#OUT_OF_DEVICE_MEMORY} with nothing made (a
     * ring buffer pool asked to wait does not wait for it: no free makes the budget grow). Blocks that exist serve
     * it regardless, and the {@code minBlocks} blocks made at creation are made without the check.
     *
     * @param withinBudget whether a new block for this request is made only within the heap's budget
     * @return the buffer
     * @throws PoolException OUT_OF_DEVICE_MEMORY also when the budget refused the new block
     * @see #allocate(long, int, long, long, Object)
     */
    public PooledBuffer allocate(long size, int usage, long alignment, long waitNanos, Object attachment,
                                 boolean withinBudget) {
        checkRequest(size, usage, alignment);
        if (waitNanos != 0 && config.kind() != Kind.RING_BUFFER) {
            throw new UnsupportedOperationException("pool '" + config.name() + "' of kind " + config.kind()
                    + " cannot wait (expected: a RING_BUFFER pool)");
        }
        if (config.kind() == Kind.FIXED_SIZE) {
            // Checked before any block is made, so that a request no slot can hold changes nothing.
            if (alignment > baseAlignment) {
                throw new IllegalArgumentException("alignment: " + alignment + " (expected: <= the slot alignment "
                        + baseAlignment + " of fixed-size pool '" + config.name() + "')");
            }
            if (size > config.slotSize()) {
                throw new PoolException(PoolException.Kind.BLOCK_SIZE_EXCEEDED, null, "fixed-size pool '"
                        + config.name() + "': size " + size + " (expected: <= the slot size " + config.slotSize()
                        + ")", null);
            }
        }
        if (alignment > config.blockSize()) {
            // An empty block would place it at offset 0, which any alignment divides: each such buffer would take a
            // block of its own, made for it, while the blocks' free room went unused. Refused as a request no block
            // can hold, before anything is made (a size passed as the alignment, say). The caller's alignment only:
            // the device's own (baseAlignment) applies to every request, and a pool of blocks smaller than it still
            // holds one buffer per block.
            throw noEmptyBlockHolds(size, alignment);
        }
        long effectiveAlignment = Math.max(alignment, baseAlignment);
        lock.lock();
        try {
            checkOpen();
            if (size > config.blockSize() - config.guardMargin()) {
                throw new PoolException(PoolException.Kind.BLOCK_SIZE_EXCEEDED, null, "pool '" + config.name()
                        + "': size " + size + " (expected: <= the block size " + config.blockSize()
                        + (config.guardMargin() > 0 ? " less the guard margin " + config.guardMargin() : "") + ")",
                        null);
            }
            long deadline = waitNanos > 0 ? System.nanoTime() + waitNanos : 0;
            while (true) {
                PooledBuffer placed;
                try {
                    placed = tryPlace(size, effectiveAlignment, attachment, withinBudget);
                } catch (IllegalStateException orderViolation) {
                    if (waitNanos == 0) {
                        throw orderViolation;
                    }
                    placed = null;
                }
                if (placed != null) {
                    return placed;
                }
                if (waitNanos == 0) {
                    throw new PoolException(PoolException.Kind.OUT_OF_POOL_MEMORY, null, "pool '" + config.name()
                            + "': no room for " + size + " bytes in " + blocks.size() + " of at most "
                            + config.maxBlocks() + " block(s) of " + config.blockSize() + " bytes, " + live
                            + " buffer(s) live", null);
                }
                try {
                    if (waitNanos < 0) {
                        freed.await();
                    } else {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            throw new PoolException(PoolException.Kind.OUT_OF_POOL_MEMORY, null, "pool '"
                                    + config.name() + "': waited " + TimeUnit.NANOSECONDS.toMillis(waitNanos)
                                    + " ms and no room for " + size + " bytes was freed", null);
                        }
                        // Whatever awaitNanos returns (signalled, spurious, or timed out while a free ran), the
                        // loop tries once more before it looks at the clock: a free signalled before the deadline
                        // is never lost because the lock came back after it.
                        freed.awaitNanos(left);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PoolException(PoolException.Kind.OUT_OF_POOL_MEMORY, null, "pool '" + config.name()
                            + "': interrupted while waiting for " + size + " bytes", e);
                }
                checkOpen();
            }
        } finally {
            lock.unlock();
        }
    }

    private void checkRequest(long size, int usage, long alignment) {
        if (size <= 0) {
            throw new IllegalArgumentException("size: " + size + " (expected: > 0)");
        }
        if (alignment < 0 || (alignment & (alignment - 1)) != 0) {
            throw new IllegalArgumentException("alignment: " + alignment + " (expected: 0 or a power of two)");
        }
        if ((usage & ~config.bufferUsage()) != 0) {
            throw new IllegalArgumentException("bufferUsage: 0x" + Integer.toHexString(usage) + " (expected: a subset"
                    + " of pool '" + config.name() + "' usage 0x" + Integer.toHexString(config.bufferUsage()) + ")");
        }
    }

    /** @return the placed buffer, or null when there is no room (and no new block may be made) */
    private PooledBuffer tryPlace(long size, long alignment, Object attachment, boolean withinBudget) {
        switch (config.kind()) {
            case FREE_AT_ONCE:
                if (draining) {
                    throw new IllegalStateException("free-at-once pool '" + config.name() + "': " + live
                            + " buffer(s) still live after a free (expected: free every buffer before allocating"
                            + " again)");
                }
                return placeInOrder(size, alignment, lastUsedBlock(), attachment, withinBudget);
            case STACK:
                if (pendingStackFrees > 0) {
                    throw new IllegalStateException("stack pool '" + config.name() + "': " + pendingStackFrees
                            + " buffer(s) were freed before newer ones (expected: LIFO order; free the "
                            + stackLiveAboveOldestPending() + " newer buffer(s) to allocate again)");
                }
                return placeInOrder(size, alignment, stack.isEmpty() ? 0 : blocks.indexOf(stack.peekLast().block),
                        attachment, withinBudget);
            case RING_BUFFER:
                try {
                    return placeAnywhere(size, alignment, attachment, withinBudget);
                } catch (IllegalStateException e) {
                    // Only an allocation that fails pays for the message; a successful one takes no extra step.
                    throw ringOutOfOrder(e);
                }
            case NON_LINEAR:
            case FIXED_SIZE:
            default:
                return placeAnywhere(size, alignment, attachment, withinBudget);
        }
    }

    /**
     * The ring's refusal after an out-of-order free, in the pool's words: the first buffer freed out of order (its
     * offset; it is closed, so nothing else of it is known) and the oldest buffer still open, which must be freed
     * first. Another {@link IllegalStateException} of the suballocator is returned as it is.
     */
    private IllegalStateException ringOutOfOrder(IllegalStateException e) {
        RingSuballocator ring = blocks.isEmpty() || !(blocks.get(0).suballocator instanceof RingSuballocator r)
                ? null : r;
        Placed oldest = liveHead;
        if (ring == null || ring.outOfOrderCount() == 0 || oldest == null) {
            return e;
        }
        return new IllegalStateException("ring buffer pool '" + config.name() + "': " + ring.outOfOrderCount()
                + " buffer(s) were freed before older ones, the first at offset " + ring.firstOutOfOrderOffset()
                + ", while the oldest buffer " + describe(oldest) + " at offset " + ring.offset(oldest.handle())
                + " is still open (expected: FIFO order; free the oldest and every other buffer older than the freed"
                + " ones to allocate again)", e);
    }

    /**
     * A live buffer as messages name it: by its attachment where it has one, else by its size. An attachment whose
     * {@code toString} throws is named by its class, so that the message (and the exception it explains) still comes.
     */
    private static String describe(Placed placed) {
        String bySize = "of " + placed.buffer().size() + " bytes";
        if (placed.attachment == null) {
            return bySize;
        }
        try {
            return placed.attachment.toString();
        } catch (RuntimeException e) {
            return bySize + " (attachment " + placed.attachment.getClass().getName() + ": toString threw " + e + ")";
        }
    }

    private int lastUsedBlock() {
        for (int i = blocks.size() - 1; i >= 0; i--) {
            if (blocks.get(i).suballocator.liveCount() > 0) {
                return i;
            }
        }
        return 0;
    }

    private int stackLiveAboveOldestPending() {
        int count = 0;
        boolean seenPending = false;
        for (Placed e : stack) {
            seenPending |= e.freed;
            if (seenPending && !e.freed) {
                count++;
            }
        }
        return count;
    }

    /** Linear kinds: the current block, then later ones, then a new one. */
    private PooledBuffer placeInOrder(long size, long alignment, int from, Object attachment,
                                      boolean withinBudget) {
        for (int i = Math.max(0, from); i < blocks.size(); i++) {
            PooledBuffer placed = placeIn(blocks.get(i), size, alignment, attachment);
            if (placed != null) {
                return placed;
            }
        }
        return placeInNewBlock(size, alignment, attachment, withinBudget);
    }

    /** Non-linear kinds and the ring: fill gaps in existing blocks before making a new one. */
    private PooledBuffer placeAnywhere(long size, long alignment, Object attachment, boolean withinBudget) {
        for (Block block : blocks) {
            PooledBuffer placed = placeIn(block, size, alignment, attachment);
            if (placed != null) {
                return placed;
            }
        }
        return placeInNewBlock(size, alignment, attachment, withinBudget);
    }

    /**
     * Places a request that the existing blocks have no room for in a new block, when one may be made. A request that
     * not even an empty block would take (a buddy's power-of-two nodes, an alignment beyond the block) is refused
     * first, with no device memory made to find that out, and whether or not the pool may grow: no amount of freeing
     * will make room, so the caller hears that, not {@code OUT_OF_POOL_MEMORY}.
     *
     * @param withinBudget whether the new block is made only within the heap's budget
     * @return the placed buffer, or {@code null} when the pool holds {@code maxBlocks} blocks already
     * @throws PoolException SUBALLOCATOR_BLOCK_SIZE_EXCEEDED, or OUT_OF_DEVICE_MEMORY when the block cannot be made
     *                       (with {@code withinBudget}, also when it would pass the heap's budget)
     */
    private PooledBuffer placeInNewBlock(long size, long alignment, Object attachment, boolean withinBudget) {
        if (!emptyBlockHolds(size, alignment)) {
            throw noEmptyBlockHolds(size, alignment);
        }
        if (blocks.size() >= config.maxBlocks()) {
            return null;
        }
        Block block = newBlock(withinBudget);
        PooledBuffer placed;
        try {
            placed = placeIn(block, size, alignment, attachment);
        } catch (RuntimeException | Error e) {
            // Not listed yet: nothing else would ever free the block.
            throw Failures.propagate(Failures.attempt(e, () -> closeBlock(block)));
        }
        if (placed == null) {
            // The probe took it, so a block of the size asked for does too; this guards a block that VMA made
            // smaller than asked, which then is not kept.
            closeBlock(block);
            throw noEmptyBlockHolds(size, alignment);
        }
        blocks.add(block);
        return placed;
    }

    /**
     * Whether an empty block would take the request: asks {@link #emptyProbe}, a suballocator of the same kind and
     * size, and empties it again. Suballocators place alike from the same state, so its answer is the block's. Pure
     * Java; only requests that find no room in the existing blocks ask it.
     */
    private boolean emptyBlockHolds(long size, long alignment) {
        Suballocator probe = emptyProbe;
        if (probe == null) {
            probe = newSuballocator(config.blockSize());
            emptyProbe = probe;
        }
        if (tryAllocateIn(probe, size, alignment) == NULL_HANDLE) {
            return false;
        }
        // reset, not free: a ring or a stack would otherwise start its next placement where this one ended.
        probe.reset();
        return true;
    }

    private PoolException noEmptyBlockHolds(long size, long alignment) {
        String kind = config.kind() == Kind.NON_LINEAR ? config.nonLinearAlgorithm().toString()
                : config.kind().toString();
        return new PoolException(PoolException.Kind.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED, null, "pool '"
                + config.name() + "': size " + size + " at alignment " + alignment + " (expected: a request"
                + " that an empty " + kind + " block of " + config.blockSize() + " bytes can hold"
                + (config.guardMargin() > 0 ? " with its guard margin " + config.guardMargin() : "") + ")",
                null);
    }

    private PooledBuffer placeIn(Block block, long size, long alignment, Object attachment) {
        if (config.kind() == Kind.FIXED_SIZE && size > config.slotSize()) {
            throw new PoolException(PoolException.Kind.BLOCK_SIZE_EXCEEDED, null, "fixed-size pool '"
                    + config.name() + "': size " + size + " (expected: <= the slot size " + config.slotSize() + ")",
                    null);
        }
        long margin = config.guardMargin();
        long handle = tryAllocateIn(block.suballocator, size, alignment);
        if (handle == NULL_HANDLE) {
            return null;
        }
        long offset = block.suballocator.offset(handle);
        VulkanBuffer view = VulkanBuffer.subRange(block.buffer, block.memory, offset, size);
        VulkanBuffer marginView = margin == 0 ? null
                : VulkanBuffer.subRange(block.buffer, block.memory, offset + size, margin);
        Placed placed = new Placed(view, marginView, this, handle, block, attachment);
        placed.listed = true;
        placed.prev = liveTail;
        if (liveTail == null) {
            liveHead = placed;
        } else {
            liveTail.next = placed;
        }
        liveTail = placed;
        live++;
        if (config.kind() == Kind.STACK) {
            stack.addLast(placed);
        }
        return placed;
    }

    /** @return the handle of a request's range (its guard margin, a fixed-size pool's slot) placed in a block */
    private long tryAllocateIn(Suballocator suballocator, long size, long alignment) {
        long margin = config.guardMargin();
        return config.kind() == Kind.FIXED_SIZE
                ? suballocator.tryAllocate(config.slotSize() + margin, alignment, AllocationType.LINEAR)
                : suballocator.tryAllocate(size + margin, alignment, AllocationType.LINEAR);
    }

    private void release(Placed entry) {
        lock.lock();
        try {
            if (closed || !entry.listed) {
                return;
            }
            unlink(entry);
            live--;
            switch (config.kind()) {
                case FREE_AT_ONCE:
                    // The block's stack records a free out of its order (its bytes count as free, it is no live
                    // range in statistics and memory maps); the pool refuses allocations until all are freed.
                    entry.block.suballocator.free(entry.handle());
                    draining = live > 0;
                    if (live == 0) {
                        for (Block b : blocks) {
                            b.suballocator.reset();
                        }
                        trimEmptyBlocks();
                    }
                    break;
                case STACK:
                    entry.freed = true;
                    // Freed in its block at once: a block's stack records a free out of its LIFO order and pops it
                    // with the newer ones, so a closed buffer is never a live range in statistics or memory maps.
                    // The pool's own stack keeps the order across blocks.
                    entry.block.suballocator.free(entry.handle());
                    pendingStackFrees++;
                    // Pop the run of freed entries at the top.
                    while (!stack.isEmpty() && stack.peekLast().freed) {
                        stack.removeLast();
                        pendingStackFrees--;
                    }
                    trimEmptyBlocks();
                    break;
                default:
                    entry.block.suballocator.free(entry.handle());
                    trimEmptyBlocks();
                    break;
            }
            freed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void unlink(Placed p) {
        if (p.prev == null) {
            liveHead = p.next;
        } else {
            p.prev.next = p.next;
        }
        if (p.next == null) {
            liveTail = p.prev;
        } else {
            p.next.prev = p.prev;
        }
        p.prev = null;
        p.next = null;
        p.listed = false;
    }

    /**
     * Frees empty blocks beyond {@code minBlocks}, keeping one empty block as a spare. Goes on past a block whose free
     * throws (a {@code DeviceMemoryListener}'s {@link Error}, which VMA lets through once the memory is freed; the
     * block is out of the list by then) to the other empty blocks, so that none stays allocated until the next trim,
     * and throws the first failure at the end, the others suppressed on it.
     */
    private void trimEmptyBlocks() {
        boolean spareKept = false;
        Throwable failure = null;
        for (int i = blocks.size() - 1; i >= 0 && blocks.size() > config.minBlocks(); i--) {
            Block block = blocks.get(i);
            if (block.suballocator.liveCount() == 0 && !(config.kind() == Kind.RING_BUFFER)) {
                if (!spareKept) {
                    spareKept = true;
                    continue;
                }
                if (config.kind() == Kind.STACK && stackUses(block)) {
                    continue;
                }
                blocks.remove(i);
                try {
                    closeBlock(block);
                } catch (RuntimeException | Error e) {
                    failure = Failures.add(failure, e);
                }
            }
        }
        Failures.throwIfAny(failure);
    }

    private boolean stackUses(Block block) {
        for (Placed e : stack) {
            if (e.block == block) {
                return true;
            }
        }
        return false;
    }

    /** @return the pool's configuration */
    public Config config() {
        return config;
    }

    /** @return the memory type of the pool's blocks */
    public int memoryTypeIndex() {
        return memoryTypeIndex;
    }

    /** @return the property flags of that memory type */
    public int memoryPropertyFlags() {
        return allocator.memoryProperties().propertyFlags(memoryTypeIndex);
    }

    /** @return the alignment every sub-range has at least */
    public long baseAlignment() {
        return baseAlignment;
    }

    /** @return the buffers placed and not yet released, oldest first (none once closed) */
    public List<PooledBuffer> liveBuffers() {
        lock.lock();
        try {
            List<PooledBuffer> result = new ArrayList<>(live);
            for (Placed e = liveHead; e != null; e = e.next) {
                result.add(e);
            }
            return result;
        } finally {
            lock.unlock();
        }
    }

    /**
     * @param placed a buffer of this pool
     * @return what it was placed with ({@link #allocate(long, int, long, long, Object)}), or {@code null}
     * @throws IllegalArgumentException when {@code placed} is not this pool's
     */
    public Object attachment(PooledBuffer placed) {
        if (placed.pool() != this || !(placed instanceof Placed p)) {
            throw new IllegalArgumentException("placed: " + placed.buffer() + " (expected: a buffer of pool '"
                    + config.name() + "')");
        }
        return p.attachment;
    }

    /** @return buffers placed and not yet released (0 once closed) */
    public int liveCount() {
        lock.lock();
        try {
            return live;
        } finally {
            lock.unlock();
        }
    }

    /** @return the number of blocks */
    public int blockCount() {
        lock.lock();
        try {
            return blocks.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Statistics of the pool now.
     *
     * @param blocks          blocks held
     * @param liveBuffers     buffers placed and not released
     * @param committedBytes  bytes in blocks
     * @param freeBytes       bytes free in the blocks (as the suballocators count them; a buffer freed out of its
     *                        pool's order counts as free, though no allocation can use it before the order is
     *                        fixed)
     * @param freeRanges      the number of free ranges in all blocks
     * @param largestFreeRange the largest free range of any block, in bytes of the block (a buffer placed there also
     *                        takes its alignment padding and guard margin). For a {@link Kind#FIXED_SIZE} pool it is
     *                        one slot while any slot is free, else 0: the slot size plus the guard margin, what a
     *                        buffer and its margin take (the slots lie that rounded up to their alignment apart, but
     *                        a block's last slot may have no more), even where free slots touch and count as one free
     *                        range, since no buffer takes more than one slot
     */
    public record Statistics(int blocks, int liveBuffers, long committedBytes, long freeBytes, int freeRanges,
                             long largestFreeRange) {

        /** @return bytes of the blocks not free: live buffers and their alignment padding */
        public long usedBytes() {
            return committedBytes - freeBytes;
        }
    }

    /**
     * One range of a block, for pictures and dumps.
     *
     * @param offset     where it starts in the block
     * @param size       bytes (a live buffer's range includes its guard margin)
     * @param free       whether it is free (else a live buffer)
     * @param attachment what the live buffer was placed with ({@link #allocate(long, int, long, long, Object)}), or
     *                   {@code null}
     */
    public record Range(long offset, long size, boolean free, Object attachment) {
    }

    /**
     * One block as it is now.
     *
     * @param index           the block's position in the pool
     * @param name            the block's name, as VMA records it
     * @param buffer          the block-wide {@code VkBuffer}
     * @param size            bytes
     * @param memoryTypeIndex its memory type
     * @param ranges          its live and free ranges in offset order
     */
    public record BlockSnapshot(int index, String name, long buffer, long size, int memoryTypeIndex,
                                List<Range> ranges) {
    }

    /** @return every block with its live and free ranges */
    public List<BlockSnapshot> snapshot() {
        lock.lock();
        try {
            List<BlockSnapshot> result = new ArrayList<>();
            Map<Block, Map<Long, Object>> attachments = new HashMap<>();
            for (Placed e = liveHead; e != null; e = e.next) {
                if (e.attachment != null) {
                    attachments.computeIfAbsent(e.block, b -> new HashMap<>()).put(e.handle(), e.attachment);
                }
            }
            for (int i = 0; i < blocks.size(); i++) {
                Block b = blocks.get(i);
                Map<Long, Object> byHandle = attachments.getOrDefault(b, Map.of());
                List<Range> ranges = new ArrayList<>();
                b.suballocator.visit(new Suballocator.Visitor() {
                    @Override
                    public void allocation(long handle, long offset, long size, AllocationType type) {
                        ranges.add(new Range(offset, size, false, byHandle.get(handle)));
                    }

                    @Override
                    public void free(long offset, long size) {
                        ranges.add(new Range(offset, size, true, null));
                    }
                });
                result.add(new BlockSnapshot(i, b.name, b.buffer.buffer(), b.memory.size(), memoryTypeIndex,
                        List.copyOf(ranges)));
            }
            return result;
        } finally {
            lock.unlock();
        }
    }

    /** @return the pool's statistics */
    public Statistics statistics() {
        lock.lock();
        try {
            long committed = 0;
            long free = 0;
            long largest = 0;
            int[] freeRanges = new int[1];
            Suballocator.Visitor counter = new Suballocator.Visitor() {
                @Override
                public void allocation(long handle, long offset, long size, AllocationType type) {
                }

                @Override
                public void free(long offset, long size) {
                    freeRanges[0]++;
                }
            };
            for (Block b : blocks) {
                committed += b.memory.size();
                free += b.suballocator.freeBytes();
                largest = Math.max(largest, b.suballocator.largestFreeRange());
                b.suballocator.visit(counter);
            }
            return new Statistics(blocks.size(), live, committed, free, freeRanges[0], largest);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Checks every block's suballocator invariants.
     *
     * @throws IllegalStateException naming the first broken invariant
     */
    public void checkInvariants() {
        lock.lock();
        try {
            for (Block b : blocks) {
                b.suballocator.checkInvariants();
            }
        } finally {
            lock.unlock();
        }
    }

    /** @return whether {@link #close()} has run */
    public boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("pool '" + config.name() + "' is closed (expected: an open pool)");
        }
    }

    /**
     * Frees every block; buffers still placed are released first (their views read as closed, and releasing them
     * again does nothing). Waiting threads wake up and fail. Calling it again does nothing.
     *
     * <p>Goes on past a block whose freeing throws (a {@code DeviceMemoryListener}'s {@link Error}, which comes out of
     * VMA's free once the memory is freed), so that every block is freed and the pool is closed; then throws the first
     * failure, the others suppressed on it.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (Placed e = liveHead; e != null; ) {
                Placed next = e.next;
                e.prev = null;
                e.next = null;
                e.listed = false;
                // Closes its views; its release finds the pool closed and frees nothing (the lock is reentrant).
                e.release();
                e = next;
            }
            liveHead = null;
            liveTail = null;
            live = 0;
            Throwable failure = closeAllBlocks();
            stack.clear();
            freed.signalAll();
            Failures.throwIfAny(failure);
        } finally {
            lock.unlock();
        }
    }
}
