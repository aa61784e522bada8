package io.github.solvk.memory.pool;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

import io.github.solvk.memory.suballocator.AllocationType;
import io.github.solvk.memory.suballocator.Suballocator;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanException;
import io.github.solvk.memory.vulkan.VulkanMemory;

/**
 * The blocks of one memory type in a {@link BlockPoolAllocator}, with their own lock: requests for different memory
 * types never wait for each other.
 *
 * <p>What runs under the lock: suballocation, the empty-block bookkeeping, and making a new block (a Vulkan call, but
 * a rare one; holding the lock keeps two threads from both growing the pool). What runs outside it: making and
 * destroying a per-allocation {@code VkBuffer} ({@link BlockPoolAllocator.BufferMode#OWN_BUFFER}), dedicated memory,
 * and freeing a block that was taken out of the list.
 */
final class TypeBlockPool {

    private final BlockPoolAllocator owner;
    private final int memoryTypeIndex;
    private final long blockSize;
    private final int maxEmptyBlocks;
    private final ReentrantLock lock = new ReentrantLock();
    /** Suballocated blocks, in the order they were made; allocations try them in this order. */
    private final List<PoolBlock> blocks = new ArrayList<>();
    private final Set<PoolBlock> dedicated = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Blocks of {@link #blocks} with no live range; at most {@link #maxEmptyBlocks}. */
    private int emptyBlocks;
    private long blocksMade;
    private long blocksReturned;
    private boolean closed;

    TypeBlockPool(BlockPoolAllocator owner, int memoryTypeIndex, long blockSize, int maxEmptyBlocks) {
        this.owner = owner;
        this.memoryTypeIndex = memoryTypeIndex;
        this.blockSize = blockSize;
        this.maxEmptyBlocks = maxEmptyBlocks;
    }

    BlockPoolAllocator owner() {
        return owner;
    }

    int memoryTypeIndex() {
        return memoryTypeIndex;
    }

    long blockSize() {
        return blockSize;
    }

    /**
     * Places a buffer in a block: an existing one with room (first fit, in the order the blocks were made), else a new
     * one when {@code mayGrow}.
     *
     * @param size      the buffer's size
     * @param rangeSize the bytes to reserve: {@code size} for a sub-range, the driver's size for a buffer of its own
     * @param alignment a power of two
     * @param usage     the buffer's usage
     * @param mode      how the buffer is made
     * @param mayGrow   whether a new block may be made
     * @return the buffer, or {@code null} when no block had room and {@code mayGrow} is false
     * @throws VulkanException when every size of new block failed with {@code VK_ERROR_OUT_OF_DEVICE_MEMORY} (the last
     *                         failure), or another Vulkan call failed; nothing is left allocated
     */
    PooledBuffer suballocate(long size, long rangeSize, long alignment, int usage, BlockPoolAllocator.BufferMode mode,
                             boolean mayGrow) {
        PoolBlock block = null;
        long handle = Suballocator.NULL_HANDLE;
        long offset;
        PoolException refused = null;
        PoolBlock unused = null;
        lock.lock();
        try {
            checkOpen();
            for (int i = 0, n = blocks.size(); i < n; i++) {
                PoolBlock b = blocks.get(i);
                boolean wasEmpty = b.isEmpty();
                handle = b.suballocator.tryAllocate(rangeSize, alignment, AllocationType.LINEAR);
                if (handle != Suballocator.NULL_HANDLE) {
                    block = b;
                    if (wasEmpty) {
                        emptyBlocks--;
                    }
                    break;
                }
            }
            if (block == null) {
                if (!mayGrow) {
                    return null;
                }
                block = newBlock(rangeSize);
                handle = block.suballocator.tryAllocate(rangeSize, alignment, AllocationType.LINEAR);
                if (handle == Suballocator.NULL_HANDLE) {
                    // Only a suballocator with rules of its own (a buddy's node sizes) can refuse its first range.
                    unused = afterFree(block);
                    refused = new PoolException(PoolException.Kind.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED, null,
                            "a new block of " + block.memory.size() + " bytes in memory type " + memoryTypeIndex
                                    + " has no room for " + rangeSize + " bytes at alignment " + alignment + " in its "
                                    + block.suballocator.kind() + " suballocator (expected: room in an empty block)",
                            null);
                }
            }
            if (refused == null && mode == BlockPoolAllocator.BufferMode.SUB_RANGE) {
                return subRange(block, handle, size);
            }
            offset = refused == null ? block.suballocator.offset(handle) : -1;
        } finally {
            lock.unlock();
        }
        if (refused != null) {
            owner.destroy(unused);
            throw refused;
        }
        return ownBuffer(block, handle, offset, size, usage);
    }

    /** Hands out a sub-range of the block-wide buffer; the lock is held. */
    private PooledBuffer subRange(PoolBlock block, long handle, long size) {
        long offset = block.suballocator.offset(handle);
        try {
            if (block.blockBuffer == null) {
                block.blockBuffer = block.memory.createBlockBuffer(owner.config().subRangeUsage());
            }
        } catch (RuntimeException e) {
            PoolBlock unused = freeRange(block, handle);
            owner.destroy(unused);
            throw e;
        }
        PooledBuffer buffer = new PooledBuffer(VulkanBuffer.subRange(block.blockBuffer, block.memory, offset, size),
                block, handle, block);
        block.link(buffer);
        return buffer;
    }

    /** Makes a {@code VkBuffer} bound at the reserved range, outside the lock. */
    private PooledBuffer ownBuffer(PoolBlock block, long handle, long offset, long size, int usage) {
        VulkanBuffer view;
        try {
            view = block.memory.createBuffer(offset, size, usage);
        } catch (RuntimeException e) {
            PoolBlock unused;
            lock.lock();
            try {
                unused = closed ? null : freeRange(block, handle);
            } finally {
                lock.unlock();
            }
            owner.destroy(unused);
            throw e;
        }
        PooledBuffer buffer = new PooledBuffer(view, block, handle, block);
        lock.lock();
        try {
            if (closed) {
                // close() ran while the VkBuffer was being made: the block is freed; undo and report.
                view.close();
                throw new IllegalStateException("block pool of memory type " + memoryTypeIndex + " was closed during"
                        + " the allocation (expected: no allocation racing close())");
            }
            block.link(buffer);
        } finally {
            lock.unlock();
        }
        return buffer;
    }

    /**
     * Makes and lists a new block for at least {@code needed} bytes; the lock is held. The size is the next step of
     * 1/8, 1/4, 1/2, 1 of the block size (doubled until {@code needed} fits); when that fails for want of device
     * memory, 1/2, 1/4 and 1/8 of it are tried, never below {@code needed}.
     */
    private PoolBlock newBlock(long needed) {
        long floor = BlockPoolAllocator.roundToGranule(needed);
        // blocksMade < 3 gives the shift 3, 2, 1; afterwards 0. The block size is at most 2^62, so no step overflows.
        long size = blockSize >>> Math.max(0, 3 - (int) Math.min(blocksMade, 3));
        size = BlockPoolAllocator.roundToGranule(size);
        while (size < floor) {
            size <<= 1;
        }
        size = Math.min(size, Math.max(blockSize, floor));
        VulkanException last = null;
        long previous = -1;
        for (int retry = 0; retry <= 3; retry++) {
            long attempt = Math.max(floor, BlockPoolAllocator.roundToGranule(size >>> retry));
            if (attempt == previous) {
                break;
            }
            previous = attempt;
            VulkanMemory memory;
            try {
                memory = owner.allocateMemory(attempt, 1, memoryTypeIndex, "solvk block pool: memory type "
                        + memoryTypeIndex + ", block of " + attempt + " bytes");
            } catch (VulkanException e) {
                if (e.result() != BlockPoolAllocator.VK_ERROR_OUT_OF_DEVICE_MEMORY) {
                    throw e;
                }
                last = e;
                continue;
            }
            Suballocator suballocator;
            try {
                suballocator = owner.config().suballocatorFactory().create(0, memory.size(),
                        owner.bufferImageGranularity());
            } catch (RuntimeException e) {
                owner.freeMemory(memory);
                throw e;
            }
            PoolBlock block = new PoolBlock(this, memory, suballocator);
            blocks.add(block);
            blocksMade++;
            return block;
        }
        throw last;
    }

    /**
     * Gives memory of its own to one buffer, outside the lock.
     *
     * @param memorySize the driver's size for the buffer
     * @param size       the buffer's size
     * @param alignment  a power of two
     * @param usage      the buffer's usage
     * @param name       recorded by VMA, or {@code null}
     * @return the buffer
     * @throws VulkanException when the memory or the buffer cannot be made; nothing is left allocated
     */
    PooledBuffer allocateDedicated(long memorySize, long size, long alignment, int usage, String name) {
        lock.lock();
        try {
            checkOpen();
        } finally {
            lock.unlock();
        }
        // Memory made for this buffer: the driver is told which buffer it is for (VkMemoryDedicatedAllocateInfo);
        // VMA takes the size and alignment from the buffer's own requirements, which memorySize and alignment are.
        VulkanMemory.DedicatedBuffer made = owner.allocateDedicatedBuffer(size, usage, memoryTypeIndex,
                name != null ? name : "solvk block pool: dedicated, memory type " + memoryTypeIndex);
        VulkanMemory memory = made.memory();
        PoolBlock block = new PoolBlock(this, memory, null);
        VulkanBuffer view = made.buffer();
        PooledBuffer buffer = new PooledBuffer(view, block, Suballocator.NULL_HANDLE, block);
        boolean raced;
        lock.lock();
        try {
            raced = closed;
            if (!raced) {
                dedicated.add(block);
                block.link(buffer);
            }
        } finally {
            lock.unlock();
        }
        if (raced) {
            // close() ran while the memory was being made: it never saw this block, so free it here.
            view.close();
            owner.freeMemory(memory);
            throw new IllegalStateException("block pool of memory type " + memoryTypeIndex + " was closed during"
                    + " the allocation (expected: no allocation racing close())");
        }
        return buffer;
    }

    /** Gives a released buffer's range back; its view is closed already. Frees memory that is no longer kept. */
    void release(PoolBlock block, PooledBuffer buffer) {
        PoolBlock unused = null;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            if (block.isDedicated()) {
                block.unlink(buffer);
                dedicated.remove(block);
                unused = block;
            } else {
                block.unlink(buffer);
                unused = freeRange(block, buffer.handle());
            }
        } finally {
            lock.unlock();
        }
        owner.destroy(unused);
    }

    /**
     * Frees a range; the lock is held.
     *
     * @return the block when it became empty and is not kept (taken out of the list: the caller frees it), else null
     */
    private PoolBlock freeRange(PoolBlock block, long handle) {
        block.suballocator.free(handle);
        return block.isEmpty() ? afterFree(block) : null;
    }

    /** Keeps an empty block, or takes it out when {@code maxEmptyBlocks} are kept already; the lock is held. */
    private PoolBlock afterFree(PoolBlock emptied) {
        if (emptyBlocks < maxEmptyBlocks) {
            emptyBlocks++;
            return null;
        }
        blocks.remove(emptied);
        blocksReturned++;
        return emptied;
    }

    /** @return this memory type's figures */
    BlockPoolAllocator.TypeStatistics statistics() {
        lock.lock();
        try {
            long committed = 0;
            long free = 0;
            long largest = 0;
            long allocations = dedicated.size();
            for (PoolBlock b : blocks) {
                committed += b.memory.size();
                free += b.suballocator.freeBytes();
                largest = Math.max(largest, b.suballocator.largestFreeRange());
                allocations += b.suballocator.liveCount();
            }
            long dedicatedBytes = 0;
            for (PoolBlock b : dedicated) {
                dedicatedBytes += b.memory.size();
            }
            committed += dedicatedBytes;
            return new BlockPoolAllocator.TypeStatistics(memoryTypeIndex, blockSize, blocks.size(), dedicated.size(),
                    emptyBlocks, allocations, committed, committed - free, free, largest, blocksReturned);
        } finally {
            lock.unlock();
        }
    }

    /** @return the sizes of the suballocated blocks, in the order they were made */
    long[] blockSizes() {
        lock.lock();
        try {
            return blocks.stream().mapToLong(b -> b.memory.size()).toArray();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Checks the suballocators' invariants and this pool's own bookkeeping.
     *
     * @throws IllegalStateException naming the first broken invariant
     */
    void checkInvariants() {
        lock.lock();
        try {
            int empty = 0;
            for (PoolBlock b : blocks) {
                b.suballocator.checkInvariants();
                if (b.isEmpty()) {
                    empty++;
                }
                if (b.liveBufferCount() != b.suballocator.liveCount()) {
                    throw new IllegalStateException("memory type " + memoryTypeIndex + ", " + b + ": "
                            + b.liveBufferCount() + " live buffers (expected: the suballocator's "
                            + b.suballocator.liveCount()
                            + ", with no allocation in flight)");
                }
            }
            if (empty != emptyBlocks || empty > maxEmptyBlocks) {
                throw new IllegalStateException("memory type " + memoryTypeIndex + ": " + empty + " empty blocks, "
                        + emptyBlocks + " counted (expected: equal and at most " + maxEmptyBlocks + ")");
            }
            for (PoolBlock b : dedicated) {
                if (b.liveBufferCount() != 1) {
                    throw new IllegalStateException("memory type " + memoryTypeIndex + ", " + b
                            + " (expected: exactly one live buffer in dedicated memory)");
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Marks the pool closed and hands everything over to the caller, which closes the buffers and then frees the
     * blocks.
     *
     * @param liveBuffers receives the live buffers
     * @param toFree      receives every block and dedicated memory
     * @return the number of ranges still live (buffers whose making was in flight included)
     */
    int close(List<PooledBuffer> liveBuffers, List<PoolBlock> toFree) {
        lock.lock();
        try {
            if (closed) {
                return 0;
            }
            closed = true;
            int live = 0;
            for (PoolBlock b : blocks) {
                live += b.suballocator.liveCount();
                b.addLiveBuffersTo(liveBuffers);
                toFree.add(b);
            }
            for (PoolBlock b : dedicated) {
                live++;
                b.addLiveBuffersTo(liveBuffers);
                toFree.add(b);
            }
            blocks.clear();
            dedicated.clear();
            emptyBlocks = 0;
            return live;
        } finally {
            lock.unlock();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("BlockPoolAllocator is closed (expected: an open allocator)");
        }
    }
}
