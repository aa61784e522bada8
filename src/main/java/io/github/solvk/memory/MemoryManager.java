package io.github.solvk.memory;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.UnaryOperator;

import io.github.solvk.memory.pool.MemoryTypeFilter;
import io.github.solvk.memory.pool.MemoryTypeSelector;
import io.github.solvk.memory.vulkan.MemoryProperties;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanContext.Queue;
import io.github.solvk.memory.vulkan.VulkanException;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * The main interface to memory management, SOL's {@code sol::MemoryManager}: it owns a
 * {@link VulkanMemoryAllocator} and hands out {@link IBuffer}s.
 *
 * <pre>{@code
 * try (VulkanContext context = VulkanContext.builder().build();
 *      MemoryManager manager = MemoryManager.create(context);
 *      IBuffer staging = manager.allocateBuffer(AllocationInfo.builder()
 *              .size(1024).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
 *              .memoryUsage(MemoryUsage.UPLOAD).build())) {
 *     staging.write(0, new float[] {1, 2, 3});
 * }
 * }</pre>
 *
 * <p>Each buffer from {@link #allocateBuffer} has its own {@code VkBuffer} and VMA allocation (VMA suballocates its
 * own blocks). The manager keeps track of every buffer it made: {@link #close()} frees those the user left open,
 * logs them, and then destroys the allocator; the {@link VulkanContext} is not the manager's and stays open.
 *
 * <p>Thread-safe.
 */
public final class MemoryManager implements IBufferAllocator, AutoCloseable {

    private static final Logger LOG = System.getLogger(MemoryManager.class.getName());

    private final VulkanMemoryAllocator allocator;
    private final Set<ManagedBuffer> live = ConcurrentHashMap.newKeySet();
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private volatile Queue graphicsQueue;
    private volatile Queue computeQueue;
    private volatile Queue transferQueue;
    private volatile boolean closed;

    /**
     * Makes a manager that owns {@code allocator} and destroys it in {@link #close()}.
     *
     * @param allocator an open allocator, owned by the manager from now on
     */
    public MemoryManager(VulkanMemoryAllocator allocator) {
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        if (allocator.isClosed()) {
            throw new IllegalArgumentException("allocator: closed (expected: an open VulkanMemoryAllocator)");
        }
    }

    /**
     * Makes a manager with a default VMA allocator for the context's device, and the context's queues.
     *
     * @param context an open context; it stays the caller's
     * @return the manager
     */
    public static MemoryManager create(VulkanContext context) {
        return create(context, UnaryOperator.identity());
    }

    /**
     * Makes a manager with a VMA allocator for the context's device, with settings adjusted by {@code settings}
     * (heap size limits, block size, a simulated memory layout), and the context's queues.
     *
     * @param context  an open context; it stays the caller's
     * @param settings adjusts the {@linkplain VulkanMemoryAllocator.Settings#forContext default settings}
     * @return the manager
     */
    public static MemoryManager create(VulkanContext context,
                                       UnaryOperator<VulkanMemoryAllocator.Settings> settings) {
        Objects.requireNonNull(context, "context");
        VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                settings.apply(VulkanMemoryAllocator.Settings.forContext(context)));
        MemoryManager manager = new MemoryManager(allocator);
        manager.graphicsQueue = context.graphicsQueue();
        manager.computeQueue = context.computeQueue();
        manager.transferQueue = context.transferQueue();
        return manager;
    }

    @Override
    public IBuffer allocateBuffer(AllocationInfo info, OnAllocationFailure onFailure) {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(onFailure, "onFailure");
        if (onFailure == OnAllocationFailure.WAIT) {
            throw new UnsupportedOperationException("onFailure: WAIT (expected: THROW or EMPTY; MemoryManager has "
                    + "no WAIT capability, a ring buffer memory pool has)");
        }
        lifecycle.readLock().lock();
        try {
            checkOpen();
            checkAgainstDevice(info);
            VulkanBuffer buffer;
            try {
                buffer = allocator.createBuffer(toRequest(info));
            } catch (VulkanException e) {
                MemoryAllocationException failure = failure(info, e);
                if (onFailure == OnAllocationFailure.EMPTY) {
                    LOG.log(Level.DEBUG, () -> "allocateBuffer returned empty: " + failure.getMessage());
                    return null;
                }
                throw failure;
            }
            ManagedBuffer managed = new ManagedBuffer(buffer, this, info.name(), this::release);
            live.add(managed);
            return managed;
        } catch (MemoryAllocationException e) {
            if (onFailure == OnAllocationFailure.EMPTY) {
                return null;
            }
            throw e;
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private void release(ManagedBuffer buffer) {
        lifecycle.readLock().lock();
        try {
            if (live.remove(buffer)) {
                buffer.vulkanBuffer().close();
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private void checkAgainstDevice(AllocationInfo info) {
        for (int family : info.queueFamilies()) {
            if (family >= allocator.queueFamilyCount()) {
                throw new IllegalArgumentException("queue family: " + family + " (expected: < the device's "
                        + allocator.queueFamilyCount() + " queue families, VUID-VkBufferCreateInfo-sharingMode-01419)");
            }
        }
        MemoryProperties props = allocator.memoryProperties();
        // Throws IllegalArgumentException for contradictions such as UPLOAD with RANDOM host access.
        MemoryTypeFilter filter = MemoryTypeFilter.of(info.memoryUsage(), info.hostAccess(),
                info.requiredMemoryFlags(), info.preferredMemoryFlags());
        if (MemoryTypeSelector.findMemoryTypeIndex(props, -1, filter) < 0) {
            throw new MemoryAllocationException(MemoryAllocationException.Reason.NO_COMPATIBLE_MEMORY_TYPE, null,
                    "no memory type has the required flags " + MemoryProperties.describeFlags(filter.requiredFlags())
                            + " for " + info + "; the device's types: " + describeTypes(props), null);
        }
    }

    private static String describeTypes(MemoryProperties props) {
        List<String> types = new ArrayList<>();
        for (int i = 0; i < props.types().size(); i++) {
            types.add(i + ":" + MemoryProperties.describeFlags(props.types().get(i).propertyFlags()));
        }
        return types.toString();
    }

    private static VulkanMemoryAllocator.BufferRequest toRequest(AllocationInfo info) {
        int flags = info.allocationFlags();
        int vmaUsage;
        // The same meanings as MemoryTypeFilter.of, expressed in VMA's terms for VMA's own type choice.
        switch (info.memoryUsage()) {
            case UNKNOWN:
                vmaUsage = VulkanMemoryAllocator.USAGE_UNKNOWN;
                break;
            case AUTO_PREFER_DEVICE:
            case DEVICE_ONLY:
                vmaUsage = VulkanMemoryAllocator.USAGE_AUTO_PREFER_DEVICE;
                break;
            case AUTO_PREFER_HOST:
                vmaUsage = VulkanMemoryAllocator.USAGE_AUTO_PREFER_HOST;
                break;
            case UPLOAD:
                vmaUsage = VulkanMemoryAllocator.USAGE_AUTO_PREFER_DEVICE;
                if (info.hostAccess() == HostAccess.NONE) {
                    flags |= AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE;
                }
                break;
            case DOWNLOAD:
                vmaUsage = VulkanMemoryAllocator.USAGE_AUTO_PREFER_HOST;
                if (info.hostAccess() == HostAccess.NONE) {
                    flags |= AllocationFlags.HOST_ACCESS_RANDOM;
                }
                break;
            case GPU_LAZILY_ALLOCATED:
                vmaUsage = VulkanMemoryAllocator.USAGE_GPU_LAZILY_ALLOCATED;
                break;
            case AUTO:
            default:
                vmaUsage = VulkanMemoryAllocator.USAGE_AUTO;
                break;
        }
        if (info.hostAccess() == HostAccess.SEQUENTIAL_WRITE) {
            flags |= AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE;
        } else if (info.hostAccess() == HostAccess.RANDOM) {
            flags |= AllocationFlags.HOST_ACCESS_RANDOM;
        }
        if ((flags & AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE) != 0
                && (flags & AllocationFlags.HOST_ACCESS_RANDOM) != 0) {
            throw new IllegalArgumentException("hostAccess: " + info.hostAccess() + " with memoryUsage "
                    + info.memoryUsage() + " (expected: the usage's own host access, or NONE)");
        }
        int[] families = info.sharingMode() == SharingMode.CONCURRENT ? info.queueFamilies() : null;
        return new VulkanMemoryAllocator.BufferRequest(info.size(), info.bufferUsage(), families, vmaUsage,
                info.requiredMemoryFlags(), info.preferredMemoryFlags(), flags, info.alignment(), info.name());
    }

    private static MemoryAllocationException failure(AllocationInfo info, VulkanException e) {
        MemoryAllocationException.Reason reason;
        switch (e.resultName()) {
            case "VK_ERROR_OUT_OF_DEVICE_MEMORY":
                reason = MemoryAllocationException.Reason.OUT_OF_DEVICE_MEMORY;
                break;
            case "VK_ERROR_OUT_OF_HOST_MEMORY":
                reason = MemoryAllocationException.Reason.OUT_OF_HOST_MEMORY;
                break;
            case "VK_ERROR_FEATURE_NOT_PRESENT":
                // VMA's answer when no memory type fits the request.
                reason = MemoryAllocationException.Reason.NO_COMPATIBLE_MEMORY_TYPE;
                break;
            case "VK_ERROR_TOO_MANY_OBJECTS":
                reason = MemoryAllocationException.Reason.TOO_MANY_OBJECTS;
                break;
            default:
                reason = MemoryAllocationException.Reason.VULKAN_ERROR;
                break;
        }
        return new MemoryAllocationException(reason, e.resultName(), "cannot allocate " + info + ": "
                + e.getMessage(), e);
    }

    /** @return no capabilities: the manager cannot wait; ring buffer pools can */
    @Override
    public Set<Capability> getCapabilities() {
        return EnumSet.noneOf(Capability.class);
    }

    /** @return the allocator the manager owns */
    public VulkanMemoryAllocator allocator() {
        checkOpen();
        return allocator;
    }

    /** @return VMA's statistics now */
    public VulkanMemoryAllocator.TotalStatistics statistics() {
        checkOpen();
        return allocator.statistics();
    }

    /** @return the number of buffers made by {@link #allocateBuffer} and not closed */
    public int liveBufferCount() {
        return live.size();
    }

    /** @return descriptions of the buffers made by {@link #allocateBuffer} and not closed */
    public List<String> liveBuffers() {
        List<String> result = new ArrayList<>();
        for (ManagedBuffer buffer : live) {
            result.add(buffer.describe());
        }
        return result;
    }

    /** @return the graphics queue, or {@code null} */
    public Queue getGraphicsQueue() {
        return graphicsQueue;
    }

    /** @param queue the graphics queue, or {@code null} */
    public void setGraphicsQueue(Queue queue) {
        this.graphicsQueue = queue;
    }

    /** @return the compute queue, or {@code null} */
    public Queue getComputeQueue() {
        return computeQueue;
    }

    /** @param queue the compute queue, or {@code null} */
    public void setComputeQueue(Queue queue) {
        this.computeQueue = queue;
    }

    /** @return the transfer queue, or {@code null} */
    public Queue getTransferQueue() {
        return transferQueue;
    }

    /** @param queue the transfer queue, or {@code null} */
    public void setTransferQueue(Queue queue) {
        this.transferQueue = queue;
    }

    /** @return whether {@link #close()} has run */
    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("MemoryManager is closed (expected: an open manager)");
        }
    }

    /**
     * Frees every buffer the user left open (logging each one at WARNING), then destroys the allocator. Calling it
     * again does nothing. The GPU must be done with the buffers.
     */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (!live.isEmpty()) {
                LOG.log(Level.WARNING, "MemoryManager closed with " + live.size()
                        + " buffer(s) still open, freeing them: " + liveBuffers());
                for (ManagedBuffer buffer : live) {
                    buffer.vulkanBuffer().close();
                }
                live.clear();
            }
            allocator.close();
        } finally {
            lifecycle.writeLock().unlock();
        }
    }
}
