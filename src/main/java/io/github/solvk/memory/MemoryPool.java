package io.github.solvk.memory;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.github.solvk.memory.diagnostics.BlockInfo;
import io.github.solvk.memory.diagnostics.BlockKind;
import io.github.solvk.memory.diagnostics.CorruptionException;
import io.github.solvk.memory.diagnostics.GuardMargins;
import io.github.solvk.memory.diagnostics.JfrEvents;
import io.github.solvk.memory.diagnostics.LeakDetector;
import io.github.solvk.memory.diagnostics.Suballocation;
import io.github.solvk.memory.internal.Failures;
import io.github.solvk.memory.pool.BlockMemoryPool;
import io.github.solvk.memory.pool.PoolException;
import io.github.solvk.memory.pool.PooledBuffer;
import io.github.solvk.memory.vulkan.MemoryProperties;

/**
 * The {@link IMemoryPool} of every kind: the facade over a {@link BlockMemoryPool} that turns placed ranges into
 * {@link IBuffer}s and pool failures into {@link MemoryAllocationException}s.
 */
final class MemoryPool implements IMemoryPool {

    private static final Logger LOG = System.getLogger(MemoryPool.class.getName());

    /**
     * Allocation flags that a pool takes: its blocks are persistently mapped when host-visible (MAPPED is refused
     * where they are not, unless a host access allows a transfer instead, and with DEVICE_ONLY), the host access bits
     * are checked against the pool's, the strategies are hints, and {@code WITHIN_BUDGET} makes a new block for the
     * request only within the heap's budget.
     */
    private static final int POOL_COMPATIBLE_FLAGS = AllocationFlags.MAPPED
            | AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE
            | AllocationFlags.HOST_ACCESS_RANDOM | AllocationFlags.HOST_ACCESS_ALLOW_TRANSFER_INSTEAD
            | AllocationFlags.STRATEGY_MIN_MEMORY | AllocationFlags.STRATEGY_MIN_TIME
            | AllocationFlags.STRATEGY_MIN_OFFSET | AllocationFlags.WITHIN_BUDGET;

    private final MemoryManager manager;
    private final String name;
    private final CreateInfo createInfo;
    private final BlockMemoryPool core;
    /**
     * What the pool knows of an open buffer, kept by the core beside the buffer's range
     * ({@link BlockMemoryPool#attachment}); it holds no reference to the user's IBuffer, so a dropped IBuffer can be
     * collected and reported as a leak. The description is made when asked for, not for every buffer.
     */
    private static final class Open {
        final String name;
        final long size;
        /** Set after the buffer is made, when leak detection tracks it; read by memory maps on other threads. */
        volatile LeakDetector.Tracker tracker;
        /**
         * Whether its guard margin holds the pattern yet (under the pool's lock): the core lists a buffer as soon as
         * it is placed, before its margin is filled, and a margin not filled yet is not a corrupted one.
         */
        boolean marginFilled;

        Open(String name, long size) {
            this.name = name;
            this.size = size;
        }

        String description() {
            return ManagedBuffer.describe(name, size);
        }

        /** @return the description: the core names a buffer in its messages by its attachment */
        @Override
        public String toString() {
            return description();
        }

        String allocationSite() {
            LeakDetector.Tracker t = tracker;
            return t == null ? null : t.allocationSite();
        }
    }

    /** Every buffer's release: one object, so that a buffer needs no action of its own. */
    private final ManagedBuffer.PooledRelease releaser = this::release;
    /**
     * Set once by {@link #close()}. Without guard margins an allocation and a release take no lock of this object and
     * no map: the core lists its live buffers under the lock it takes anyway, and releases them when it closes.
     * With guard margins, filling and checking a margin reads the block's mapping, which closing frees: those take
     * this object's lock, as {@link #close()} does.
     */
    private volatile boolean closed;

    MemoryPool(MemoryManager manager, String name, CreateInfo createInfo, BlockMemoryPool core) {
        this.manager = manager;
        this.name = name;
        this.createInfo = createInfo;
        this.core = core;
    }

    BlockMemoryPool core() {
        return core;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public CreateInfo createInfo() {
        return createInfo;
    }

    @Override
    public IBuffer allocateBuffer(long size) {
        return allocateBuffer(AllocationInfo.of(size));
    }

    @Override
    public IBuffer allocateBuffer(AllocationInfo info) {
        return allocate(info, requireInfo(info).name(), 0, false);
    }

    @Override
    public IBuffer allocateBufferWithWait(AllocationInfo info) {
        requireWait();
        return allocate(info, requireInfo(info).name(), -1, false);
    }

    @Override
    public IBuffer allocateBufferWithWait(AllocationInfo info, long timeoutMillis) {
        requireWait();
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("timeoutMillis: " + timeoutMillis + " (expected: > 0)");
        }
        return allocate(info, requireInfo(info).name(), TimeUnit.MILLISECONDS.toNanos(timeoutMillis), false);
    }

    private static AllocationInfo requireInfo(AllocationInfo info) {
        return Objects.requireNonNull(info, "info: null (expected: an IMemoryPool.AllocationInfo)");
    }

    private void requireWait() {
        if (!getCapabilities().contains(Capability.WAIT)) {
            throw new UnsupportedOperationException("pool '" + name + "' (" + core.config().kind()
                    + ") cannot wait (expected: a pool with the WAIT capability, a ring buffer pool)");
        }
    }

    @Override
    public IBuffer allocateBuffer(IBufferAllocator.AllocationInfo info, OnAllocationFailure onFailure) {
        Objects.requireNonNull(info, "info: null (expected: an AllocationInfo)");
        Objects.requireNonNull(onFailure, "onFailure: null (expected: THROW, EMPTY or WAIT)");
        checkMatches(info);
        AllocationInfo poolInfo = new AllocationInfo(info.size(), info.bufferUsage(), info.alignment(), info.name());
        // The one request flag a pool acts on: a new block for it only within the heap's budget.
        boolean withinBudget = (info.allocationFlags() & AllocationFlags.WITHIN_BUDGET) != 0;
        switch (onFailure) {
            case WAIT:
                requireWait();
                // A budget refusal ends the wait as OUT_OF_DEVICE_MEMORY: no free of the pool's makes the budget grow.
                return allocate(poolInfo, info.name(), -1, withinBudget);
            case EMPTY:
                // Only a request that cannot be met returns null: a free-at-once or stack pool's order broken by
                // an earlier free is a caller bug, thrown as under THROW.
                try {
                    return allocate(poolInfo, info.name(), 0, withinBudget);
                } catch (MemoryAllocationException e) {
                    return null;
                }
            case THROW:
            default:
                return allocate(poolInfo, info.name(), 0, withinBudget);
        }
    }

    private void checkMatches(IBufferAllocator.AllocationInfo info) {
        if ((info.bufferUsage() & ~createInfo.bufferUsage()) != 0) {
            throw mismatch("bufferUsage: 0x" + Integer.toHexString(info.bufferUsage()), "a subset of 0x"
                    + Integer.toHexString(createInfo.bufferUsage()));
        }
        if (info.memoryUsage() != createInfo.memoryUsage()) {
            throw mismatch("memoryUsage: " + info.memoryUsage(), createInfo.memoryUsage().toString());
        }
        int typeFlags = core.memoryPropertyFlags();
        if ((info.requiredMemoryFlags() & ~typeFlags) != 0) {
            throw mismatch("requiredMemoryFlags: " + MemoryProperties.describeFlags(info.requiredMemoryFlags()),
                    "flags the pool's memory type has, " + MemoryProperties.describeFlags(typeFlags));
        }
        if (info.sharingMode() != SharingMode.EXCLUSIVE) {
            throw mismatch("sharingMode: " + info.sharingMode(), "EXCLUSIVE");
        }
        if ((info.allocationFlags() & ~POOL_COMPATIBLE_FLAGS) != 0) {
            throw mismatch("allocationFlags: 0x" + Integer.toHexString(info.allocationFlags()),
                    "no DEDICATED_MEMORY or NEVER_ALLOCATE in a pool");
        }
        // MAPPED asks for memory the host can map: never DEVICE_ONLY memory (the manager refuses the pair on every
        // device, so a pool must too, or the request would work on a GPU whose only type is host-visible and fail on
        // another), and never a memory type that is not host-visible, where the buffer's map() would throw.
        // A request that allows a transfer instead of its host access takes memory the host cannot see, as from the
        // manager, and its MAPPED then maps nothing (as VMA ignores the flag there): the caller copies through a
        // staging buffer. Without a host access the flag gives nothing up (VMA requires one; the manager refuses it).
        HostAccess wanted = AllocationFlags.hostAccess(info.hostAccess(), info.allocationFlags());
        boolean transferInstead = wanted != HostAccess.NONE
                && AllocationFlags.allowsTransferInstead(info.allocationFlags());
        if ((info.allocationFlags() & AllocationFlags.MAPPED) != 0) {
            if (info.memoryUsage() == MemoryUsage.DEVICE_ONLY) {
                throw mismatch("allocationFlags: MAPPED with memoryUsage DEVICE_ONLY",
                        "no MAPPED; DEVICE_ONLY memory is never mapped");
            }
            if ((typeFlags & MemoryProperties.HOST_VISIBLE) == 0 && !transferInstead) {
                throw mismatch("allocationFlags: MAPPED", "no MAPPED, the pool's memory type is "
                        + MemoryProperties.describeFlags(typeFlags));
            }
        }
        // The request's host access (its contradictions with the usage were refused when the info was built),
        // against the pool's.
        HostAccess pool = AllocationFlags.hostAccess(HostAccess.NONE, createInfo.allocationFlags());
        if (pool == HostAccess.NONE) {
            pool = createInfo.memoryUsage() == MemoryUsage.UPLOAD ? HostAccess.SEQUENTIAL_WRITE
                    : createInfo.memoryUsage() == MemoryUsage.DOWNLOAD ? HostAccess.RANDOM : HostAccess.NONE;
        }
        if (wanted != HostAccess.NONE && pool != HostAccess.NONE && wanted != pool) {
            throw mismatch("host access: " + wanted, pool + ", the pool's");
        }
        if (wanted != HostAccess.NONE && (typeFlags & MemoryProperties.HOST_VISIBLE) == 0 && !transferInstead) {
            throw mismatch("host access: " + wanted, "NONE, the pool's memory type is "
                    + MemoryProperties.describeFlags(typeFlags));
        }
        // Last, VMA's own preconditions, as the manager checks them: what it refuses, no pool takes.
        MemoryManager.checkVmaFlags(info);
    }

    private IllegalArgumentException mismatch(String value, String expected) {
        return new IllegalArgumentException(value + " does not match pool '" + name + "' (expected: " + expected
                + ")");
    }

    private IBuffer allocate(AllocationInfo info, String bufferName, long waitNanos, boolean withinBudget) {
        Objects.requireNonNull(info, "info: null (expected: an AllocationInfo)");
        if (closed) {
            throw new IllegalStateException("pool '" + name + "' is closed (expected: an open pool)");
        }
        Open open = new Open(bufferName, info.size());
        PooledBuffer placed;
        try {
            placed = core.allocate(info.size(), info.bufferUsage(), info.alignment(), waitNanos, open, withinBudget);
        } catch (PoolException e) {
            MemoryAllocationException.Reason reason = MemoryAllocationException.reasonOf(e);
            JfrEvents.allocationFailed(name, info.size(), info.bufferUsage(),
                    MemoryAllocationException.eventReason(reason, e.vkResultName()));
            int usage = info.bufferUsage() == 0 ? createInfo.bufferUsage() : info.bufferUsage();
            throw new MemoryAllocationException(reason, e.vkResultName(), e.getMessage() + " (size " + info.size()
                    + ", usage 0x" + Integer.toHexString(usage) + ", memory type " + core.memoryTypeIndex() + ")"
                    + manager.describeMemoryForFailure(), e);
        }
        if (placed.margin() != null) {
            synchronized (this) {
                if (closed) {
                    throw closedDuringAllocation(placed);
                }
                GuardMargins.fill(placed.margin().map());
                open.marginFilled = true;
            }
        } else if (closed) {
            // close() began while the range was being placed: never hand it out. (An allocation must not race
            // close(); one that does is caught here, or gets a buffer that close() released and so reads as closed.)
            throw closedDuringAllocation(placed);
        }
        ManagedBuffer buffer = new ManagedBuffer(placed, this, bufferName, releaser);
        LeakDetector.Tracker tracker = buffer.leakTracker();
        if (tracker != null) {
            open.tracker = tracker;
        }
        return buffer;
    }

    private IllegalStateException closedDuringAllocation(PooledBuffer placed) {
        placed.release();
        return new IllegalStateException("pool '" + name + "' was closed during the allocation (expected: an open"
                + " pool)");
    }

    private void release(PooledBuffer placed) {
        // The buffer's leak tracker was closed by its own close(); one the pool's close() released reads as freed.
        if (placed.margin() == null) {
            // Idempotent: close() may have released it already.
            placed.release();
            return;
        }
        synchronized (this) {
            // Synchronized with close(): the margin check reads the block's mapping, which close() frees.
            if (placed.isReleased()) {
                return;
            }
            try {
                checkMargin(placed);
            } finally {
                placed.release();
            }
        }
    }

    /** Checks a buffer's guard margin, once filled; the pool's lock is held. */
    private void checkMargin(PooledBuffer placed) {
        Open open = (Open) core.attachment(placed);
        if (!open.marginFilled) {
            return;
        }
        try {
            GuardMargins.check(placed.margin().map(), (open.name != null ? open.name : "unnamed buffer")
                    + " (" + placed.buffer().size() + " bytes, pool " + name + ")", placed.margin().offset());
        } catch (CorruptionException e) {
            LOG.log(Level.ERROR, e.getMessage());
            throw e;
        }
    }

    @Override
    public void checkCorruption() {
        if (core.config().guardMargin() == 0) {
            throw new IllegalStateException("pool '" + name + "' has no guard margins (expected: a pool made with"
                    + " CreateInfo.GUARD_MARGINS)");
        }
        synchronized (this) {
            if (closed) {
                // A closed pool has no buffers to check: an empty scan would read as "no corruption".
                throw new IllegalStateException("pool '" + name + "' is closed (expected: an open pool)");
            }
            for (PooledBuffer placed : core.liveBuffers()) {
                if (!placed.isReleased()) {
                    checkMargin(placed);
                }
            }
        }
    }

    /** @return the pool's blocks for a memory map, each live buffer named where it has a name */
    List<BlockInfo> blockInfos() {
        List<BlockInfo> result = new ArrayList<>();
        for (BlockMemoryPool.BlockSnapshot block : core.snapshot()) {
            List<Suballocation> subs = new ArrayList<>();
            for (BlockMemoryPool.Range r : block.ranges()) {
                if (r.free()) {
                    continue;
                }
                Open open = (Open) r.attachment();
                // The range covers the buffer and its guard margin; the buffer's own size is what users see.
                long size = open != null ? open.size : r.size();
                subs.add(Suballocation.buffer(r.offset(), size, createInfo.bufferUsage(),
                        open != null ? open.name : null, open != null ? open.allocationSite() : null));
            }
            result.add(new BlockInfo(name, block.name(), block.memoryTypeIndex(), block.size(), BlockKind.POOL_BLOCK,
                    subs));
        }
        return result;
    }

    @Override
    public Set<Capability> getCapabilities() {
        return core.config().kind() == BlockMemoryPool.Kind.RING_BUFFER ? EnumSet.of(Capability.WAIT)
                : EnumSet.noneOf(Capability.class);
    }

    @Override
    public int liveBufferCount() {
        return core.liveCount();
    }

    @Override
    public BlockMemoryPool.Statistics statistics() {
        return core.statistics();
    }

    @Override
    public int memoryTypeIndex() {
        return core.memoryTypeIndex();
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    /**
     * Refused from a {@code DeviceMemoryListener}, as the manager's and the block pools' {@code close()} are: the
     * listener runs inside a call, maybe this pool's own allocation making a block under the pool's (reentrant)
     * lock, which closing here would free the pool under, leaving that block with VMA and listed nowhere.
     *
     * @throws IllegalStateException when called from a {@code DeviceMemoryListener} of the manager's allocator;
     *                               nothing changes
     */
    @Override
    public void close() {
        if (!closed && manager.isInsideDeviceMemoryListener()) {
            throw new IllegalStateException("pool '" + name + "': close() called from a DeviceMemoryListener"
                    + " (expected: close() once the call that runs the listener has returned)");
        }
        boolean closing = false;
        try {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                closing = true;
                closeLocked();
            }
        } finally {
            // Unregistered even when freeing the blocks threw: the pool is closed, and its name is free again.
            if (closing) {
                manager.unregister(this);
            }
        }
    }

    /**
     * Releases the open buffers and frees the blocks. Goes on past a failure (a {@code DeviceMemoryListener}'s
     * {@link Error}, which comes out of VMA's free once the memory is freed, as a release frees an emptied block or
     * the core frees its blocks), so that the core is closed and every block freed; then throws the first failure, the
     * others suppressed on it.
     */
    private void closeLocked() {
        // Buffers whose owner is closing them right now (their release won, their range is not back yet) are not
        // reported; one still being handed out may be: its allocation will throw.
        List<PooledBuffer> open = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (PooledBuffer placed : core.liveBuffers()) {
            if (!placed.isReleased()) {
                open.add(placed);
                names.add(((Open) core.attachment(placed)).description());
            }
        }
        if (!open.isEmpty()) {
            LOG.log(Level.WARNING, "pool '" + name + "' destroyed with " + open.size()
                    + " buffer(s) still open, closing them: " + names);
        }
        Throwable failure = null;
        if (core.config().guardMargin() > 0) {
            // Their margins are checked while the blocks still exist. A release of one of them on another thread
            // waits for this object's lock, then finds it released.
            for (PooledBuffer placed : open) {
                failure = Failures.attempt(failure, () -> {
                    try {
                        release(placed);
                    } catch (CorruptionException e) {
                        // Reported by checkMargin; closing the pool goes on.
                    }
                });
            }
        }
        // Releases what is still open; the leak trackers of those buffers see that (freedWhen) and report nothing.
        failure = Failures.attempt(failure, core::close);
        Failures.throwIfAny(failure);
    }

    @Override
    public String toString() {
        return "IMemoryPool['" + name + "', " + core.config().kind() + ", " + core.statistics() + "]";
    }
}
