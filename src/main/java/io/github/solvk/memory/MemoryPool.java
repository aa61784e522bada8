package io.github.solvk.memory;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

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

    /** Allocation flags that a pool can honour: its blocks are persistently mapped when host-visible. */
    private static final int POOL_COMPATIBLE_FLAGS = AllocationFlags.MAPPED | AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE
            | AllocationFlags.HOST_ACCESS_RANDOM | AllocationFlags.HOST_ACCESS_ALLOW_TRANSFER_INSTEAD
            | AllocationFlags.STRATEGY_MIN_MEMORY | AllocationFlags.STRATEGY_MIN_TIME
            | AllocationFlags.STRATEGY_MIN_OFFSET | AllocationFlags.WITHIN_BUDGET;

    private final MemoryManager manager;
    private final String name;
    private final CreateInfo createInfo;
    private final BlockMemoryPool core;
    private final Set<ManagedBuffer> live = ConcurrentHashMap.newKeySet();
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
        return allocate(info, info.name(), 0);
    }

    @Override
    public IBuffer allocateBufferWithWait(AllocationInfo info) {
        requireWait();
        return allocate(info, info.name(), -1);
    }

    @Override
    public IBuffer allocateBufferWithWait(AllocationInfo info, long timeoutMillis) {
        requireWait();
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("timeoutMillis: " + timeoutMillis + " (expected: > 0)");
        }
        return allocate(info, info.name(), TimeUnit.MILLISECONDS.toNanos(timeoutMillis));
    }

    private void requireWait() {
        if (!getCapabilities().contains(Capability.WAIT)) {
            throw new UnsupportedOperationException("pool '" + name + "' (" + core.config().kind()
                    + ") cannot wait (expected: a pool with the WAIT capability, a ring buffer pool)");
        }
    }

    @Override
    public IBuffer allocateBuffer(IBufferAllocator.AllocationInfo info, OnAllocationFailure onFailure) {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(onFailure, "onFailure");
        checkMatches(info);
        AllocationInfo poolInfo = new AllocationInfo(info.size(), info.bufferUsage(), info.alignment(), info.name());
        try {
            switch (onFailure) {
                case WAIT:
                    requireWait();
                    return allocate(poolInfo, info.name(), -1);
                case EMPTY:
                    try {
                        return allocate(poolInfo, info.name(), 0);
                    } catch (MemoryAllocationException e) {
                        return null;
                    }
                case THROW:
                default:
                    return allocate(poolInfo, info.name(), 0);
            }
        } catch (IllegalStateException e) {
            if (onFailure == OnAllocationFailure.EMPTY && !closed) {
                return null;
            }
            throw e;
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
    }

    private IllegalArgumentException mismatch(String value, String expected) {
        return new IllegalArgumentException(value + " does not match pool '" + name + "' (expected: " + expected
                + ")");
    }

    private IBuffer allocate(AllocationInfo info, String bufferName, long waitNanos) {
        Objects.requireNonNull(info, "info");
        if (closed) {
            throw new IllegalStateException("pool '" + name + "' is closed (expected: an open pool)");
        }
        PooledBuffer placed;
        try {
            placed = core.allocate(info.size(), info.bufferUsage(), info.alignment(), waitNanos);
        } catch (PoolException e) {
            throw new MemoryAllocationException(MemoryAllocationException.Reason.valueOf(e.kind().name()),
                    e.vkResultName(), e.getMessage() + " (size " + info.size() + ", usage 0x"
                    + Integer.toHexString(info.bufferUsage() == 0 ? createInfo.bufferUsage() : info.bufferUsage())
                    + ", memory type " + core.memoryTypeIndex() + ")" + manager.describeMemoryForFailure(), e);
        }
        ManagedBuffer buffer = new ManagedBuffer(placed.buffer(), this, bufferName, b -> {
            live.remove(b);
            placed.release();
        });
        live.add(buffer);
        return buffer;
    }

    @Override
    public Set<Capability> getCapabilities() {
        return core.config().kind() == BlockMemoryPool.Kind.RING_BUFFER ? EnumSet.of(Capability.WAIT)
                : EnumSet.noneOf(Capability.class);
    }

    @Override
    public int liveBufferCount() {
        return live.size();
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

    List<String> liveBuffers() {
        List<String> result = new ArrayList<>();
        for (ManagedBuffer b : live) {
            result.add(b.describe());
        }
        return result;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        manager.unregister(this);
        if (!live.isEmpty()) {
            LOG.log(Level.WARNING, "pool '" + name + "' destroyed with " + live.size()
                    + " buffer(s) still open, closing them: " + liveBuffers());
            for (ManagedBuffer b : new ArrayList<>(live)) {
                b.close();
            }
        }
        core.close();
    }

    @Override
    public String toString() {
        return "IMemoryPool['" + name + "', " + core.config().kind() + ", " + core.statistics() + "]";
    }
}
