package io.github.solvk.memory;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.Lock;
import java.util.function.LongSupplier;

import io.github.solvk.memory.diagnostics.JfrEvents;
import io.github.solvk.memory.pool.AllocatePreference;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.pool.BlockRequest;
import io.github.solvk.memory.pool.MemoryTypeFilter;
import io.github.solvk.memory.pool.PoolException;
import io.github.solvk.memory.pool.PooledBuffer;
import io.github.solvk.memory.vulkan.VulkanException;

/**
 * The facade over a {@link BlockPoolAllocator}: vulkano-style pools of blocks per memory type, giving the same
 * {@link IBuffer}s as {@link MemoryManager#allocateBuffer} for any usage and memory usage, without a
 * {@code vkAllocateMemory} per buffer. Made by {@link MemoryManager#createBlockPoolAllocator}.
 *
 * <p>A request whose usage is within the block buffers' usage ({@link BlockPoolAllocator.Config#subRangeUsage()})
 * gets a sub-range of a block-wide buffer (no Vulkan call); any other gets its own {@code VkBuffer} bound into a
 * block. {@link AllocationFlags#DEDICATED_MEMORY} asks for memory of its own, {@link AllocationFlags#NEVER_ALLOCATE}
 * only uses existing blocks. Concurrent sharing is not supported here (use the manager).
 */
public final class BlockPoolBufferAllocator implements IBufferAllocator, AutoCloseable {

    private final MemoryManager manager;
    private final String name;
    private final BlockPoolAllocator core;
    /**
     * Set once by {@link #close()}. No lock and no list of open buffers: the core keeps its own (it releases them when
     * it closes), and a leak tracker knows when the core freed its buffer ({@code LeakDetector.Tracker#freedWhen}),
     * so an allocation takes nothing that another thread's allocation takes too.
     */
    private volatile boolean closed;
    /** Every buffer's release: one object, so that a buffer needs no action of its own. */
    private final ManagedBuffer.PooledRelease releaser = this::release;
    /**
     * Requests made and the infos they were made from: an application that asks again with the same info makes no
     * filter and no request again, and its block pools find the same request objects recorded in their thread caches.
     */
    private final RememberedRequests<BlockRequest> remembered = new RememberedRequests<>();

    BlockPoolBufferAllocator(MemoryManager manager, String name, BlockPoolAllocator core) {
        this.manager = manager;
        this.name = name;
        this.core = core;
    }

    @Override
    public IBuffer allocateBuffer(AllocationInfo info, OnAllocationFailure onFailure) {
        Objects.requireNonNull(info, "info: null (expected: an AllocationInfo)");
        Objects.requireNonNull(onFailure, "onFailure: null (expected: THROW, EMPTY or WAIT)");
        if (onFailure == OnAllocationFailure.WAIT) {
            throw new UnsupportedOperationException("onFailure: WAIT (expected: THROW or EMPTY; block pools have no"
                    + " WAIT capability)");
        }
        if (info.sharingMode() != SharingMode.EXCLUSIVE) {
            throw new IllegalArgumentException("sharingMode: " + info.sharingMode() + " (expected: EXCLUSIVE in block"
                    + " pools; make concurrent buffers with MemoryManager.allocateBuffer)");
        }
        if (closed) {
            throw new IllegalStateException("block pools '" + name + "' are closed (expected: open block pools)");
        }
        BlockRequest request = request(info);
        PooledBuffer placed;
        try {
            placed = core.allocate(request);
        } catch (PoolException e) {
            MemoryAllocationException.Reason reason = MemoryAllocationException.reasonOf(e);
            JfrEvents.allocationFailed(name, info.size(), info.bufferUsage(),
                    MemoryAllocationException.eventReason(reason, e.vkResultName()));
            if (onFailure == OnAllocationFailure.EMPTY) {
                return null;
            }
            throw new MemoryAllocationException(reason, e.vkResultName(), "block pools '" + name + "': cannot allocate "
                    + info + ": " + e.getMessage() + manager.describeMemoryForFailure(), e);
        } catch (VulkanException e) {
            MemoryAllocationException.Reason reason = MemoryAllocationException.reasonOf(e.resultName());
            JfrEvents.allocationFailed(name, info.size(), info.bufferUsage(),
                    MemoryAllocationException.eventReason(reason, e.resultName()));
            if (onFailure == OnAllocationFailure.EMPTY) {
                return null;
            }
            // Not for want of device memory, which the pools report as a PoolException: the host's memory, the
            // driver's object count, another failure.
            throw new MemoryAllocationException(reason, e.resultName(),
                    "block pools '" + name + "': cannot allocate " + info + ": " + e.getMessage(), e);
        }
        if (closed) {
            // close() began while the buffer was being placed: never hand it out. (An allocation must not race
            // close(); one that does is caught here, or gets a buffer that close() releases and so reads as closed.)
            placed.release();
            throw new IllegalStateException("block pools '" + name + "' were closed during the allocation"
                    + " (expected: open block pools)");
        }
        return new ManagedBuffer(placed, this, info.name(), releaser);
    }

    /**
     * The request for {@code info}: the remembered one when {@code info} is the same object as one remembered, else a
     * new one. Reusing the request object also lets the block pools go straight to the thread's cache
     * ({@code BlockPoolAllocator}).
     */
    BlockRequest request(AllocationInfo info) {
        BlockRequest known = remembered.find(info);
        if (known != null) {
            return known;
        }
        // Refused as the manager refuses it (an info is remembered only once it passed).
        MemoryManager.checkVmaFlags(info);
        // Host access named as VMA names it, by allocation flags, counts as the hostAccess field does.
        MemoryTypeFilter filter = info.memoryTypeFilter(core.vma().isIntegratedGpu());
        AllocatePreference preference = (info.allocationFlags() & AllocationFlags.NEVER_ALLOCATE) != 0
                ? AllocatePreference.NEVER_ALLOCATE
                : (info.allocationFlags() & AllocationFlags.DEDICATED_MEMORY) != 0
                ? AllocatePreference.ALWAYS_ALLOCATE : AllocatePreference.UNKNOWN;
        BlockPoolAllocator.BufferMode mode = (info.bufferUsage() & ~core.configuration().subRangeUsage()) == 0
                ? BlockPoolAllocator.BufferMode.SUB_RANGE : BlockPoolAllocator.BufferMode.OWN_BUFFER;
        BlockRequest request = new BlockRequest(info.size(), info.bufferUsage(), filter, preference,
                info.alignment(), info.name(), mode, (info.allocationFlags() & AllocationFlags.WITHIN_BUDGET) != 0);
        remembered.remember(info, request);
        return request;
    }

    private void release(PooledBuffer placed) {
        // Idempotent: a close() of the block pools may have released it already. The buffer's leak tracker was
        // closed by its own close().
        placed.release();
    }

    @Override
    public Set<Capability> getCapabilities() {
        return EnumSet.noneOf(Capability.class);
    }

    /** @return the allocator's name */
    public String name() {
        return name;
    }

    /**
     * @return per memory type: blocks, dedicated blocks, allocations, committed, used and free bytes (counting may
     *         free blocks that releases waiting for a lock emptied: the manager's {@link MemoryManager#close()} waits
     *         for it)
     */
    public java.util.List<BlockPoolAllocator.TypeStatistics> statistics() {
        Lock lock = manager.lifecycleReadLock();
        lock.lock();
        try {
            return core.statistics();
        } finally {
            lock.unlock();
        }
    }

    /** @return the {@code VkDeviceMemory} objects the block pools hold now (blocks and dedicated memory) */
    public int deviceMemoryCount() {
        return core.deviceMemoryCount();
    }

    /** @return bytes held in blocks */
    public long committedBytes() {
        return core.committedBytes();
    }

    /**
     * Gives the device memory that no buffer uses back to the driver, when the application knows it needs less (a
     * level unloaded): every empty block, the one kept for the next request included, after the ranges cached by this
     * thread and by threads that ended, and those other threads sent home to a live thread (buffers a loader thread
     * made and this one released), went back to their blocks; other live threads give their own back at their next
     * call. Live buffers are untouched. See {@link BlockPoolAllocator#releaseUnusedMemory()}.
     *
     * @return the bytes by which {@link #committedBytes()} fell during the call
     * @throws IllegalStateException when this allocator is closed, or when called from a {@code DeviceMemoryListener}
     *                               (which runs inside a call, maybe this allocator's {@code allocateBuffer})
     */
    public long releaseUnusedMemory() {
        return whileOpen("releaseUnusedMemory()", core::releaseUnusedMemory);
    }

    /**
     * Gives back to their blocks the ranges that the calling thread's cache keeps: those its releases kept for its
     * next requests, those it holds to send home to the threads that made them, and those other threads sent home
     * to it. A block that only such ranges held becomes empty and is freed as a free would leave it (the one kept
     * for the next request stays until {@link #releaseUnusedMemory()}). Call it from a thread that goes idle for long,
     * a loader thread between levels say: a live thread's cache is otherwise given back only at its next call, and
     * {@link #releaseUnusedMemory()} on another thread cannot take it. Does nothing on a thread that never called.
     *
     * @throws IllegalStateException when this allocator is closed, or when called from a {@code DeviceMemoryListener}
     *                               (which runs inside a call, maybe this allocator's {@code allocateBuffer})
     */
    public void flushThreadCache() {
        whileOpen("flushThreadCache()", () -> {
            core.flushThreadCache();
            return 0;
        });
    }

    /**
     * Runs a call that may free blocks: under the manager's read lock, so that its {@code close()} does not run while
     * blocks taken out are being freed, and under this allocator's monitor, so that its own {@link #close()} waits
     * for the call, and the call for it, as the manager's close waits. Refused from a {@code DeviceMemoryListener},
     * as {@link #close()} is: the listener may run under an arena's lock (a block made for a request), which a call
     * holding the monitor on another thread waits for, so waiting for the monitor there would never end.
     *
     * @param callName the call's name, for the message
     * @throws IllegalStateException when this allocator is closed, or when called from a {@code DeviceMemoryListener}
     */
    private long whileOpen(String callName, LongSupplier call) {
        if (core.vma().isInsideDeviceMemoryListener()) {
            throw new IllegalStateException("block pools '" + name + "': " + callName + " called from a "
                    + "DeviceMemoryListener (expected: " + callName + " once the call that runs the listener has "
                    + "returned)");
        }
        Lock lock = manager.lifecycleReadLock();
        lock.lock();
        try {
            synchronized (this) {
                if (closed) {
                    throw new IllegalStateException("block pools '" + name + "' are closed (expected: open block "
                            + "pools)");
                }
                return call.getAsLong();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * @return buffers handed out and not closed, as the block pools count them (a figure of a moment while other
     *         threads allocate); 0 once closed
     */
    public int liveBufferCount() {
        if (closed) {
            return 0;
        }
        long open = 0;
        for (BlockPoolAllocator.TypeStatistics type : statistics()) {
            open += type.allocationCount();
        }
        return (int) open;
    }

    /**
     * Frees every block (buffers still open are closed, and logged). The manager calls it when it closes; calling it
     * again does nothing. The manager's {@link MemoryManager#close()} on another thread waits for it.
     *
     * @throws IllegalStateException when called from a {@code DeviceMemoryListener}, inside a call (maybe this
     *                               allocator's own {@code allocateBuffer}); nothing changes
     */
    @Override
    public void close() {
        if (!closed && core.vma().isInsideDeviceMemoryListener()) {
            throw new IllegalStateException("block pools '" + name + "': close() called from a DeviceMemoryListener"
                    + " (expected: close() once the call that runs the listener has returned)");
        }
        // Under the manager's read lock (which the manager's own close, holding the write lock, takes as well), so
        // that a manager closing meanwhile does not find these blocks still being freed.
        Lock lock = manager.lifecycleReadLock();
        lock.lock();
        try {
            // The monitor for the whole close: a releaseUnusedMemory() of this allocator on another thread ends first.
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                // Releases the buffers still open; their leak trackers see that (freedWhen) and report nothing.
                try {
                    core.close();
                } finally {
                    manager.unregister(this);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** @return whether {@link #close()} has run */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        // No live count: counting takes the pools' locks, which a debugger's toString() should not.
        return "BlockPoolAllocator['" + name + "', " + core.committedBytes() + " bytes committed"
                + (closed ? ", closed" : "") + "]";
    }
}
