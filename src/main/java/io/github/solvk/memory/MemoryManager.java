package io.github.solvk.memory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;
import java.util.function.UnaryOperator;

import io.github.solvk.memory.diagnostics.BlockInfo;
import io.github.solvk.memory.diagnostics.JfrEvents;
import io.github.solvk.memory.diagnostics.LeakDetector;
import io.github.solvk.memory.diagnostics.MemoryMap;
import io.github.solvk.memory.diagnostics.MemoryMapHtml;
import io.github.solvk.memory.diagnostics.MemoryMapJson;
import io.github.solvk.memory.diagnostics.MemoryMapPng;
import io.github.solvk.memory.diagnostics.PoolStats;
import io.github.solvk.memory.internal.Failures;
import io.github.solvk.memory.pool.BlockMemoryPool;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.pool.MemoryTypeFilter;
import io.github.solvk.memory.pool.PoolException;
import io.github.solvk.memory.suballocator.SuballocatorKind;
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
    /** Open buffers by their Vulkan state; never the user's IBuffer, so that a dropped IBuffer can be collected. */
    private final Map<VulkanBuffer, Open> live = new ConcurrentHashMap<>();
    /** Every buffer's release: one object, so that a buffer needs no action of its own. */
    private final Consumer<ManagedBuffer> releaser = managed -> release(managed.vulkanBuffer());

    /**
     * What the manager knows of an open buffer: its name, size and leak tracker, never the IBuffer itself. The
     * description is made when asked for, not for every buffer.
     */
    private record Open(String name, long size, LeakDetector.Tracker tracker) {
        String description() {
            return ManagedBuffer.describe(name, size);
        }

        void forget() {
            if (tracker != null) {
                tracker.close();
            }
        }
    }
    private final Map<String, MemoryPool> pools = new LinkedHashMap<>();
    private final List<BlockPoolBufferAllocator> blockPoolAllocators = new ArrayList<>();
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    /**
     * The VMA requests made from infos that passed {@link #checkAgainstDevice}: asked again with the same info object,
     * the manager neither checks it against the device again (the device does not change) nor builds its request.
     */
    private final RememberedRequests<VulkanMemoryAllocator.BufferRequest> checkedRequests =
            new RememberedRequests<>();
    private final JfrEvents.Registration jfrStatistics;
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
        this.allocator = Objects.requireNonNull(allocator, "allocator: null (expected: an open VulkanMemoryAllocator)");
        if (allocator.isClosed()) {
            throw new IllegalArgumentException("allocator: closed (expected: an open VulkanMemoryAllocator)");
        }
        // JFR keeps the hook for the life of the JVM: hold the manager weakly, so that an unclosed one can still be
        // collected.
        java.lang.ref.WeakReference<MemoryManager> self = new java.lang.ref.WeakReference<>(this);
        this.jfrStatistics = JfrEvents.registerPeriodic(() -> {
            MemoryManager manager = self.get();
            return manager == null ? List.of() : manager.poolStatsForJfr();
        });
    }

    private List<PoolStats> poolStatsForJfr() {
        List<PoolStats> stats = new ArrayList<>();
        // tryLock: JFR's periodic thread must never wait on, or run into, a closing manager.
        if (!lifecycle.readLock().tryLock()) {
            return stats;
        }
        try {
            if (!closed) {
                for (IMemoryPool pool : memoryPools()) {
                    BlockMemoryPool.Statistics p = pool.statistics();
                    stats.add(new PoolStats(pool.name(), p.blocks(), p.liveBuffers(), p.committedBytes(),
                            p.freeBytes(), p.largestFreeRange()));
                }
            }
        } finally {
            lifecycle.readLock().unlock();
        }
        return stats;
    }

    /**
     * A map of every block of device memory the manager holds: its pools' blocks with each live buffer (name, usage,
     * allocation site where leak detection recorded one) and free range, and VMA's own blocks and dedicated
     * allocations (from {@code vmaBuildStatsString}). Write it with
     * {@link io.github.solvk.memory.diagnostics.MemoryMapJson} (VMA's GpuMemDumpVis format),
     * {@link io.github.solvk.memory.diagnostics.MemoryMapHtml} or
     * {@link io.github.solvk.memory.diagnostics.MemoryMapPng}.
     *
     * @param deviceName the device's name, for the title
     * @return the map
     */
    public MemoryMap memoryMap(String deviceName) {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            List<BlockInfo> blocks = new ArrayList<>();
            for (IMemoryPool pool : memoryPools()) {
                blocks.addAll(((MemoryPool) pool).blockInfos());
            }
            MemoryMap ours = new MemoryMap(deviceName, List.of(), List.of(), blocks);
            return MemoryMapJson.mergeVma(ours, allocator.statsJson(true));
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * Writes {@code memory-map.json} (GpuMemDumpVis format), {@code memory-map.html} and {@code memory-map.png}
     * into a folder, made if missing.
     *
     * @param folder     where to write
     * @param deviceName the device's name, for the title
     * @return the three files
     * @throws java.io.UncheckedIOException when a file cannot be written
     */
    public List<Path> writeMemoryMap(Path folder, String deviceName) {
        Objects.requireNonNull(folder, "folder: null (expected: a folder to write into)");
        MemoryMap map = memoryMap(deviceName);
        try {
            Files.createDirectories(folder);
            Path json = Files.writeString(folder.resolve("memory-map.json"), MemoryMapJson.write(map));
            Path html = Files.writeString(folder.resolve("memory-map.html"), MemoryMapHtml.write(map));
            Path png = Files.write(folder.resolve("memory-map.png"), MemoryMapPng.write(map, 1400));
            return List.of(json, html, png);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the memory map into " + folder, e);
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
        Objects.requireNonNull(context, "context: null (expected: an open VulkanContext)");
        Objects.requireNonNull(settings, "settings: null (expected: a function of the default settings, such as "
                + "UnaryOperator.identity())");
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
        Objects.requireNonNull(info, "info: null (expected: an AllocationInfo)");
        Objects.requireNonNull(onFailure, "onFailure: null (expected: THROW, EMPTY or WAIT)");
        if (onFailure == OnAllocationFailure.WAIT) {
            throw new UnsupportedOperationException("onFailure: WAIT (expected: THROW or EMPTY; MemoryManager has "
                    + "no WAIT capability, a ring buffer memory pool has)");
        }
        lifecycle.readLock().lock();
        try {
            checkOpen();
            VulkanMemoryAllocator.BufferRequest request = checkedRequests.find(info);
            if (request == null) {
                try {
                    checkAgainstDevice(info);
                } catch (MemoryAllocationException e) {
                    // No memory type can hold it: recorded as the block pools and SOL's pools record theirs.
                    JfrEvents.allocationFailed("MemoryManager", info.size(), info.bufferUsage(), e.reason().name());
                    throw e;
                }
                request = toRequest(info);
                checkedRequests.remember(info, request);
            }
            VulkanBuffer buffer;
            try {
                buffer = allocator.createBuffer(request);
            } catch (VulkanException e) {
                MemoryAllocationException failure = failure(info, e, describeTypesTried(info)
                        + describeMemoryForFailure());
                JfrEvents.allocationFailed("MemoryManager", info.size(), info.bufferUsage(),
                        MemoryAllocationException.eventReason(failure.reason(), e.resultName()));
                if (onFailure == OnAllocationFailure.EMPTY) {
                    LOG.log(Level.DEBUG, () -> "allocateBuffer returned empty: " + failure.getMessage());
                    return null;
                }
                throw failure;
            }
            ManagedBuffer managed = new ManagedBuffer(buffer, this, info.name(), releaser);
            live.put(buffer, new Open(info.name(), buffer.size(), managed.leakTracker()));
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

    private void release(VulkanBuffer buffer) {
        lifecycle.readLock().lock();
        try {
            Open open = live.remove(buffer);
            if (open != null) {
                open.forget();
                buffer.close();
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * VMA's preconditions on its flags, which lwjgl-vma (built without VMA's asserts) does not check:
     * {@code HOST_ACCESS_ALLOW_TRANSFER_INSTEAD} needs a host access pattern, and so does {@code MAPPED} with the
     * automatic usages that {@code AUTO*} and {@code DEVICE_ONLY} become. {@code UPLOAD} and {@code DOWNLOAD} imply
     * their pattern. The pools and block pools check them too, so that no allocator takes what the manager refuses.
     */
    static void checkVmaFlags(AllocationInfo info) {
        MemoryUsage usage = info.memoryUsage();
        if (usage == MemoryUsage.UPLOAD || usage == MemoryUsage.DOWNLOAD) {
            return;
        }
        int flags = info.allocationFlags();
        boolean automatic = usage == MemoryUsage.AUTO || usage == MemoryUsage.AUTO_PREFER_DEVICE
                || usage == MemoryUsage.AUTO_PREFER_HOST || usage == MemoryUsage.DEVICE_ONLY;
        int needAccess = flags & (AllocationFlags.HOST_ACCESS_ALLOW_TRANSFER_INSTEAD
                | (automatic ? AllocationFlags.MAPPED : 0));
        if (needAccess != 0 && AllocationFlags.hostAccess(info.hostAccess(), flags) == HostAccess.NONE) {
            String names = ((needAccess & AllocationFlags.MAPPED) != 0 ? "MAPPED" : "")
                    + ((needAccess & AllocationFlags.MAPPED) != 0
                    && (needAccess & AllocationFlags.HOST_ACCESS_ALLOW_TRANSFER_INSTEAD) != 0 ? " and " : "")
                    + ((needAccess & AllocationFlags.HOST_ACCESS_ALLOW_TRANSFER_INSTEAD) != 0
                    ? "HOST_ACCESS_ALLOW_TRANSFER_INSTEAD" : "");
            throw new IllegalArgumentException("allocationFlags: 0x" + Integer.toHexString(flags) + " (" + names
                    + ") with memoryUsage " + usage + " and no host access (expected: "
                    + (usage == MemoryUsage.DEVICE_ONLY ? "neither for DEVICE_ONLY, whose memory is never mapped"
                    : "a host access pattern too, SEQUENTIAL_WRITE or RANDOM, as VMA requires") + ")");
        }
    }

    private void checkAgainstDevice(AllocationInfo info) {
        checkVmaFlags(info);
        allocator.checkDeviceAddressUsage("bufferUsage", info.bufferUsage());
        for (int family : info.queueFamilies()) {
            if (family >= allocator.queueFamilyCount()) {
                throw new IllegalArgumentException("queue family: " + family + " (expected: < the device's "
                        + allocator.queueFamilyCount() + " queue families, VUID-VkBufferCreateInfo-sharingMode-01419)");
            }
        }
        MemoryProperties props = allocator.memoryProperties();
        // The info refused contradictions (UPLOAD with RANDOM host access, by hostAccess or a HOST_ACCESS_* flag)
        // when it was built: this only makes the filter.
        MemoryTypeFilter filter = info.memoryTypeFilter(allocator.isIntegratedGpu());
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
        // Never both host access bits: the info refused a hostAccess or a flag that contradicts its usage or the
        // other when it was built, and UPLOAD and DOWNLOAD add theirs only when none was named.
        int[] families = info.sharingMode() == SharingMode.CONCURRENT ? info.queueFamilies() : null;
        return new VulkanMemoryAllocator.BufferRequest(info.size(), info.bufferUsage(), families, vmaUsage,
                info.requiredMemoryFlags(), info.preferredMemoryFlags(), flags, info.alignment(), info.name());
    }

    private String describeTypesTried(AllocationInfo info) {
        MemoryTypeFilter filter = info.memoryTypeFilter(allocator.isIntegratedGpu());
        int[] candidates = MemoryTypeSelector.candidates(allocator.memoryProperties(), -1, filter);
        StringBuilder sb = new StringBuilder("memory types that fit, best first: [");
        for (int i = 0; i < candidates.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(candidates[i]).append(' ')
                    .append(MemoryProperties.describeFlags(allocator.memoryProperties().propertyFlags(candidates[i])));
        }
        return sb.append(']').toString();
    }

    private static MemoryAllocationException failure(AllocationInfo info, VulkanException e, String state) {
        MemoryAllocationException.Reason reason = MemoryAllocationException.reasonOf(e.resultName());
        return new MemoryAllocationException(reason, e.resultName(), "cannot allocate " + info + ": "
                + e.getMessage() + "; " + state, e);
    }

    /**
     * Creates a pool whose buffers are freed in any order (SOL's non-linear pool): TLSF, or buddy with
     * {@link IMemoryPool.CreateInfo#BUDDY_ALGORITHM}. New allocations fill gaps before a new block is made.
     *
     * @param name a name unique within this manager, not blank, not {@code "VMA default"}
     * @param info the pool's usage, memory and blocks
     * @return the pool, registered under {@code name} until it is closed
     */
    public IMemoryPool createNonLinearMemoryPool(String name, IMemoryPool.CreateInfo info) {
        checkName(name);
        requireInfo(info);
        SuballocatorKind algorithm = (info.createFlags() & IMemoryPool.CreateInfo.BUDDY_ALGORITHM) != 0
                ? SuballocatorKind.BUDDY : SuballocatorKind.TLSF;
        return createPool(name, info, BlockMemoryPool.Kind.NON_LINEAR, algorithm, 0);
    }

    /**
     * Creates a pool that places buffers one after another and frees them all at once (SOL's free-at-once pool):
     * once any buffer is freed, every allocation throws until all are freed.
     *
     * @param name a name unique within this manager, not blank, not {@code "VMA default"}
     * @param info the pool's usage, memory and blocks
     * @return the pool
     */
    public IMemoryPool createFreeAtOnceMemoryPool(String name, IMemoryPool.CreateInfo info) {
        return createPool(name, info, BlockMemoryPool.Kind.FREE_AT_ONCE, SuballocatorKind.TLSF, 0);
    }

    /**
     * Creates a LIFO pool (SOL's stack pool): freeing out of order makes the next allocation throw until later frees
     * fix the order.
     *
     * @param name a name unique within this manager, not blank, not {@code "VMA default"}
     * @param info the pool's usage, memory and blocks
     * @return the pool
     */
    public IMemoryPool createStackMemoryPool(String name, IMemoryPool.CreateInfo info) {
        return createPool(name, info, BlockMemoryPool.Kind.STACK, SuballocatorKind.TLSF, 0);
    }

    /**
     * Creates a FIFO pool of exactly one block (SOL's ring buffer pool), the one pool with {@link Capability#WAIT}.
     * {@code minBlocks} and {@code maxBlocks} are taken as 1.
     *
     * @param name a name unique within this manager, not blank, not {@code "VMA default"}
     * @param info the pool's usage, memory and block size
     * @return the pool
     */
    public IMemoryPool createRingBufferMemoryPool(String name, IMemoryPool.CreateInfo info) {
        checkName(name);
        requireInfo(info);
        return createPool(name, info.withBlocks(1, 1), BlockMemoryPool.Kind.RING_BUFFER, SuballocatorKind.TLSF, 0);
    }

    /**
     * Creates a pool of equal slots: every buffer takes one slot of {@code slotSize} bytes; free in any order. Slots
     * start at the device's alignment for the pool's usage, so they lie {@code stride} bytes apart, the slot size (plus
     * the guard margin with {@link IMemoryPool.CreateInfo#GUARD_MARGINS}) rounded up to that alignment; a block holds
     * {@code (blockSize - slot) / stride + 1} of them, where {@code slot} is the slot size plus the guard margin: the
     * last slot needs only its own bytes, not a whole stride.
     *
     * @param name     a name unique within this manager, not blank, not {@code "VMA default"}
     * @param info     the pool's usage, memory and blocks
     * @param slotSize the most bytes a buffer may have; with its guard margin at most the block size
     * @return the pool
     */
    public IMemoryPool createFixedSizeMemoryPool(String name, IMemoryPool.CreateInfo info, long slotSize) {
        return createPool(name, info, BlockMemoryPool.Kind.FIXED_SIZE, SuballocatorKind.TLSF, slotSize);
    }

    private IMemoryPool createPool(String name, IMemoryPool.CreateInfo info, BlockMemoryPool.Kind kind,
                                   SuballocatorKind algorithm, long slotSize) {
        checkName(name);
        if (name.equals(BlockInfo.VMA_DEFAULT_POOL)) {
            // Memory maps file VMA's own blocks under this name; a pool of ours by it would make them unbuildable.
            throw new IllegalArgumentException("pool name: '" + name + "' (expected: another name; '"
                    + BlockInfo.VMA_DEFAULT_POOL + "' stands for VMA's default pools in memory maps)");
        }
        requireInfo(info);
        if (kind != BlockMemoryPool.Kind.NON_LINEAR
                && (info.createFlags() & IMemoryPool.CreateInfo.BUDDY_ALGORITHM) != 0) {
            throw new IllegalArgumentException("createFlags: BUDDY_ALGORITHM for a " + kind + " pool (expected: only"
                    + " for a non-linear pool; the other kinds have their own suballocator)");
        }
        // The pool's blocks come from this allocator: without device addresses, its buffers could not be bound.
        allocator.checkDeviceAddressUsage("bufferUsage", info.bufferUsage());
        MemoryTypeFilter filter = info.memoryTypeFilter(allocator.isIntegratedGpu());
        long margin = (info.createFlags() & IMemoryPool.CreateInfo.GUARD_MARGINS) != 0
                ? IMemoryPool.CreateInfo.GUARD_MARGIN_BYTES : 0;
        BlockMemoryPool.Config config = new BlockMemoryPool.Config(name, kind, info.bufferUsage(), filter,
                info.blockSize(), info.minBlocks(), info.maxBlocks(), algorithm, slotSize, margin);
        lifecycle.readLock().lock();
        try {
            checkOpen();
            synchronized (pools) {
                if (pools.containsKey(name)) {
                    throw new IllegalArgumentException("pool name: '" + name + "' (expected: a name not yet used;"
                            + " pools: " + pools.keySet() + ")");
                }
                BlockMemoryPool.BlockListener jfr = new BlockMemoryPool.BlockListener() {
                    @Override
                    public void blockAllocated(String blockName, int memoryTypeIndex, long size) {
                        JfrEvents.blockAllocated(name, memoryTypeIndex, size);
                    }

                    @Override
                    public void blockFreed(String blockName, int memoryTypeIndex, long size) {
                        JfrEvents.blockFreed(name, memoryTypeIndex, size);
                    }
                };
                BlockMemoryPool core;
                try {
                    core = new BlockMemoryPool(allocator, config, jfr);
                } catch (PoolException e) {
                    MemoryAllocationException.Reason reason = MemoryAllocationException.reasonOf(e);
                    JfrEvents.allocationFailed(name, info.blockSize(), info.bufferUsage(),
                            MemoryAllocationException.eventReason(reason, e.vkResultName()));
                    throw new MemoryAllocationException(reason, e.vkResultName(), e.getMessage(), e);
                }
                MemoryPool pool = new MemoryPool(this, name, info, core);
                pools.put(name, pool);
                return pool;
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * Creates vulkano-style block pools (one pool of device-memory blocks per memory type, TLSF by default) that
     * hand out buffers of any usage and memory usage without a {@code vkAllocateMemory} per buffer; they are closed
     * with the manager. See {@link BlockPoolAllocator} for the block sizes, dedicated memory and retry rules.
     *
     * @param name   a name for statistics and errors, not blank
     * @param config block sizes, suballocator, buffer mode; {@link BlockPoolAllocator.Config#defaults()} for the
     *               defaults
     * @return the allocator
     * @throws IllegalArgumentException when the name is blank, or the config does not fit the device
     * @throws IllegalStateException    when the manager is closed
     */
    public BlockPoolBufferAllocator createBlockPoolAllocator(String name, BlockPoolAllocator.Config config) {
        checkName(name);
        Objects.requireNonNull(config, "config: null (expected: a BlockPoolAllocator.Config)");
        lifecycle.readLock().lock();
        try {
            checkOpen();
            BlockPoolBufferAllocator created = new BlockPoolBufferAllocator(this, name,
                    new BlockPoolAllocator(allocator, config));
            synchronized (blockPoolAllocators) {
                blockPoolAllocators.add(created);
            }
            return created;
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** @return the block pool allocators made by {@link #createBlockPoolAllocator} and not closed */
    public List<BlockPoolBufferAllocator> blockPoolAllocators() {
        synchronized (blockPoolAllocators) {
            return blockPoolAllocators.stream().filter(b -> !b.isClosed()).toList();
        }
    }

    /**
     * Gives the device memory that the manager's block pool allocators hold and no buffer uses back to the driver
     * ({@link BlockPoolBufferAllocator#releaseUnusedMemory()} on each), for a moment when the application needs less:
     * a level unloaded, a scene torn down. SOL's pools keep what their {@code CreateInfo} asks for ({@code minBlocks},
     * and one spare empty block), and buffers made through VMA ({@link #allocateBuffer}) give their memory back when
     * they are closed. Goes on past an allocator that fails, and throws the first failure at the end, the others
     * suppressed on it. A {@link #close()} on another thread waits for it.
     *
     * @return the bytes by which the block pools' committed memory fell during the call
     * @throws IllegalStateException when the manager is closed, or when called from a {@code DeviceMemoryListener}
     */
    public long releaseUnusedMemory() {
        return forEachBlockPoolAllocator("releaseUnusedMemory()", BlockPoolBufferAllocator::releaseUnusedMemory);
    }

    /**
     * Gives back the ranges that the calling thread's caches keep in the manager's block pool allocators
     * ({@link BlockPoolBufferAllocator#flushThreadCache()} on each): call it from a thread that goes idle for long, a
     * loader thread between levels say, so that the blocks only its caches held can be freed. Goes on past an
     * allocator that fails, and throws the first failure at the end, the others suppressed on it.
     *
     * @throws IllegalStateException when the manager is closed, or when called from a {@code DeviceMemoryListener}
     */
    public void flushThreadCaches() {
        forEachBlockPoolAllocator("flushThreadCaches()", blocks -> {
            blocks.flushThreadCache();
            return 0;
        });
    }

    /**
     * Runs a call that may free blocks on each open block pool allocator, under the read lock: {@link #close()} must
     * not close the block pools, and then refuse to destroy the VmaAllocator, while blocks taken out of them are being
     * freed. An allocator its owner closes meanwhile is left out; past a failure the others still run. Refused from a
     * {@code DeviceMemoryListener}, which may run under a block pool's lock that a call on another thread waits for
     * while it holds what this one would wait for ({@link BlockPoolBufferAllocator#flushThreadCache()}).
     *
     * @param name the call's name, for the message
     * @return the sum of what the calls returned
     */
    private long forEachBlockPoolAllocator(String name, ToLongFunction<BlockPoolBufferAllocator> call) {
        if (allocator.isInsideDeviceMemoryListener()) {
            throw new IllegalStateException("MemoryManager." + name + " called from a DeviceMemoryListener (expected: "
                    + name + " once the call that runs the listener has returned)");
        }
        lifecycle.readLock().lock();
        try {
            checkOpen();
            long[] sum = {0};
            Throwable failure = null;
            for (BlockPoolBufferAllocator blocks : blockPoolAllocators()) {
                failure = Failures.attempt(failure, () -> {
                    try {
                        sum[0] += call.applyAsLong(blocks);
                    } catch (IllegalStateException e) {
                        // Closed meanwhile by its owner: its memory is freed already.
                        if (!blocks.isClosed()) {
                            throw e;
                        }
                    }
                });
            }
            Failures.throwIfAny(failure);
            return sum[0];
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * The read side of the manager's lifecycle lock, for the calls of its block pool allocators that free memory
     * ({@link BlockPoolBufferAllocator#close()}, {@code releaseUnusedMemory()}, {@code flushThreadCache()},
     * {@code statistics()}): {@link #close()} waits for them, so that it never finds a block they took out of the pools
     * still being freed (and then refuses to destroy the VMA allocator). Not taken by their {@code allocateBuffer},
     * which must not race {@link #close()}.
     */
    Lock lifecycleReadLock() {
        return lifecycle.readLock();
    }

    /**
     * @return whether the calling thread runs a {@code DeviceMemoryListener} of the manager's allocator (open or
     *         closed): its pools refuse to close there
     */
    boolean isInsideDeviceMemoryListener() {
        return allocator.isInsideDeviceMemoryListener();
    }

    /** Forgets a closed block pool allocator, so that the manager does not keep it reachable. */
    void unregister(BlockPoolBufferAllocator blocks) {
        synchronized (blockPoolAllocators) {
            blockPoolAllocators.remove(blocks);
        }
    }

    void unregister(MemoryPool pool) {
        synchronized (pools) {
            pools.remove(pool.name(), pool);
        }
    }

    /**
     * @param name a pool's name
     * @return the open pool of that name, if any
     */
    public Optional<IMemoryPool> getMemoryPool(String name) {
        synchronized (pools) {
            return Optional.ofNullable(pools.get(name));
        }
    }

    /** @return the open pools, in creation order */
    public List<IMemoryPool> memoryPools() {
        synchronized (pools) {
            return List.copyOf(pools.values());
        }
    }

    /**
     * Destroys the pool of that name, as {@link IMemoryPool#close()} does.
     *
     * @param name a pool's name
     * @throws IllegalArgumentException when there is no such pool
     * @throws IllegalStateException    when the manager is closed (its pools went with it)
     */
    public void destroyMemoryPool(String name) {
        checkOpen();
        IMemoryPool pool = getMemoryPool(name).orElseThrow(() -> new IllegalArgumentException("pool name: '" + name
                + "' (expected: one of " + memoryPools().stream().map(IMemoryPool::name).toList() + ")"));
        pool.close();
    }

    /**
     * Finds the allocators (this manager, its pools and its block pool allocators) that have every capability asked
     * for and can give buffers of {@code bufferUsage} in memory for {@code memoryUsage}. SOL's manager has no such
     * query. A pool matches when its usage covers {@code bufferUsage} and it was made for {@code memoryUsage}; block
     * pool allocators and the manager pick a memory type per request, so they match when the device can serve the
     * request at all: some memory type fits {@code memoryUsage} (none has {@code LAZILY_ALLOCATED} memory for
     * {@link MemoryUsage#GPU_LAZILY_ALLOCATED} on most desktop GPUs), and a {@code SHADER_DEVICE_ADDRESS} usage needs
     * an allocator made with buffer device addresses.
     *
     * @param capabilities what the allocator must be able to do, for example {@code EnumSet.of(Capability.WAIT)};
     *                     no {@code null} element
     * @param bufferUsage  {@code VkBufferUsageFlags} the buffers need, not 0, known bits only
     * @param memoryUsage  what the memory is for, or {@code null} for any
     * @return the matching allocators: pools first (in creation order), then block pool allocators (in creation
     *         order), then this manager when it matches
     * @throws IllegalArgumentException when {@code bufferUsage} is 0 or has bits that are not
     *                                  {@code VkBufferUsageFlagBits}, or {@code capabilities} holds {@code null}
     * @throws IllegalStateException    when the manager is closed: it and its pools allocate nothing any more
     */
    public List<IBufferAllocator> findAllocators(Set<Capability> capabilities, int bufferUsage,
                                                 MemoryUsage memoryUsage) {
        Objects.requireNonNull(capabilities, "capabilities: null (expected: a set of capabilities, empty for any)");
        for (Capability capability : capabilities) {
            if (capability == null) {
                throw new IllegalArgumentException("capabilities: " + capabilities + " (expected: no null element)");
            }
        }
        if (bufferUsage == 0) {
            throw new IllegalArgumentException("bufferUsage: 0 (expected: at least one VkBufferUsageFlags bit)");
        }
        VulkanBuffer.checkKnownUsage("bufferUsage", bufferUsage);
        checkOpen();
        List<IBufferAllocator> result = new ArrayList<>();
        for (IMemoryPool pool : memoryPools()) {
            if (pool.getCapabilities().containsAll(capabilities)
                    && (bufferUsage & ~pool.createInfo().bufferUsage()) == 0
                    && (memoryUsage == null || memoryUsage == pool.createInfo().memoryUsage())) {
                result.add(pool);
            }
        }
        // The block pools and the manager choose a memory type per request, by the same filter: an answer for the
        // one is the answer for the other.
        boolean deviceServes = deviceServes(bufferUsage, memoryUsage);
        for (BlockPoolBufferAllocator blocks : blockPoolAllocators()) {
            if (deviceServes && blocks.getCapabilities().containsAll(capabilities)) {
                result.add(blocks);
            }
        }
        if (deviceServes && getCapabilities().containsAll(capabilities)) {
            result.add(this);
        }
        return result;
    }

    /**
     * @return whether a request for buffers of {@code bufferUsage} in memory for {@code memoryUsage} ({@code null}:
     *     any) could get memory on this device, as {@link #allocateBuffer} would check it: a device-address usage
     *     needs an allocator made with device addresses, and some memory type must fit the usage's filter
     */
    private boolean deviceServes(int bufferUsage, MemoryUsage memoryUsage) {
        if (!allocator.allowsDeviceAddressUsage(bufferUsage)) {
            return false;
        }
        if (memoryUsage == null) {
            return true;
        }
        MemoryTypeFilter filter = MemoryTypeFilter.of(memoryUsage, HostAccess.NONE, 0, 0, bufferUsage);
        return MemoryTypeSelector.findMemoryTypeIndex(allocator.memoryProperties(), -1, filter) >= 0;
    }

    /** @return no capabilities: the manager cannot wait; ring buffer pools can */
    @Override
    public Set<Capability> getCapabilities() {
        return EnumSet.noneOf(Capability.class);
    }

    /**
     * @return the allocator the manager owns
     * @throws IllegalStateException when the manager is closed (the allocator was destroyed with it)
     */
    public VulkanMemoryAllocator allocator() {
        checkOpen();
        return allocator;
    }

    /** @return VMA's statistics now */
    public VulkanMemoryAllocator.TotalStatistics statistics() {
        // Under the read lock: close() must not destroy the VmaAllocator while VMA counts.
        lifecycle.readLock().lock();
        try {
            checkOpen();
            return allocator.statistics();
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** @return the memory per heap, memory type and pool now */
    public MemoryStatistics memoryStatistics() {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            VulkanMemoryAllocator.TotalStatistics vma = allocator.statistics();
            MemoryProperties props = allocator.memoryProperties();
            List<MemoryStatistics.Heap> heaps = new ArrayList<>();
            for (VulkanMemoryAllocator.Budget b : allocator.budgets()) {
                VulkanMemoryAllocator.Statistics s = vma.memoryHeaps().get(b.heapIndex());
                MemoryProperties.Heap heap = props.heaps().get(b.heapIndex());
                heaps.add(new MemoryStatistics.Heap(b.heapIndex(), heap.size(), heap.deviceLocal(), b.budgetBytes(),
                        b.usageBytes(), s.blockCount(), s.allocationCount(), s.blockBytes(), s.allocationBytes()));
            }
            List<MemoryStatistics.MemoryType> types = new ArrayList<>();
            for (int i = 0; i < props.types().size(); i++) {
                VulkanMemoryAllocator.Statistics s = vma.memoryTypes().get(i);
                types.add(new MemoryStatistics.MemoryType(i, props.types().get(i).heapIndex(),
                        props.types().get(i).propertyFlags(), s.blockCount(), s.allocationCount(), s.blockBytes(),
                        s.allocationBytes()));
            }
            List<MemoryStatistics.Pool> poolStats = new ArrayList<>();
            for (IMemoryPool pool : memoryPools()) {
                BlockMemoryPool.Statistics p = pool.statistics();
                poolStats.add(new MemoryStatistics.Pool(pool.name(), ((MemoryPool) pool).core().config().kind().name(),
                        pool.memoryTypeIndex(), p.blocks(), pool.liveBufferCount(), p.committedBytes(), p.usedBytes(),
                        p.freeBytes(), p.freeRanges(), p.largestFreeRange()));
            }
            return new MemoryStatistics(List.copyOf(heaps), List.copyOf(types), List.copyOf(poolStats), live.size(),
                    allocator.deviceMemoryAllocationCount());
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * A few lines on the state of memory, for the message of a failed allocation: each heap's usage and budget, and
     * each pool's largest free range.
     *
     * @return the text
     */
    String describeMemoryForFailure() {
        StringBuilder sb = new StringBuilder();
        // Under the read lock: a pool's failed allocation comes here after its own lock is released, and close()
        // must not destroy the VmaAllocator while its budgets are read.
        lifecycle.readLock().lock();
        try {
            if (closed) {
                return "; (memory state unavailable: the manager was closed meanwhile)";
            }
            for (VulkanMemoryAllocator.Budget b : allocator.budgets()) {
                sb.append("; heap ").append(b.heapIndex()).append(": ").append(b.usageBytes()).append(" of budget ")
                        .append(b.budgetBytes()).append(" bytes used");
            }
            for (IMemoryPool pool : memoryPools()) {
                BlockMemoryPool.Statistics p = pool.statistics();
                sb.append("; pool '").append(pool.name()).append("': ").append(p.blocks())
                        .append(" block(s), largest free ")
                        .append(p.largestFreeRange()).append(" of ").append(p.freeBytes()).append(" free bytes");
            }
        } catch (RuntimeException e) {
            sb.append("; (memory state unavailable: ").append(e.getMessage()).append(')');
        } finally {
            lifecycle.readLock().unlock();
        }
        return sb.toString();
    }

    /** @return the number of buffers made by {@link #allocateBuffer} and not closed */
    public int liveBufferCount() {
        return live.size();
    }

    /** @return descriptions of the buffers made by {@link #allocateBuffer} and not closed */
    public List<String> liveBuffers() {
        List<String> result = new ArrayList<>();
        for (Open open : live.values()) {
            result.add(open.description());
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

    /** A pool's or block pool allocator's name: what memory maps, messages and JFR events show. */
    private static void checkName(String name) {
        Objects.requireNonNull(name, "name: null (expected: a name that is not blank)");
        if (name.isBlank()) {
            throw new IllegalArgumentException("name: '" + name + "' (expected: a name that is not blank)");
        }
    }

    private static void requireInfo(IMemoryPool.CreateInfo info) {
        Objects.requireNonNull(info, "info: null (expected: an IMemoryPool.CreateInfo)");
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("MemoryManager is closed (expected: an open manager)");
        }
    }

    /**
     * Frees every buffer the user left open (logging each one at WARNING), then destroys the allocator. Calling it
     * again does nothing, except where the allocator refused to close because allocations made through
     * {@link #allocator()} were still live: then it tries to destroy the allocator again (and throws again while they
     * are). The GPU must be done with the buffers.
     *
     * <p>Every step (each pool, each block pool allocator, the open buffers, the allocator) runs even when an earlier
     * one throws, an {@link Error} too (a {@code DeviceMemoryListener}'s, which comes out of VMA's free once the memory
     * is freed); the first failure is thrown at the end, the others suppressed on it.
     *
     * <p>Calls of the manager on other threads finish before it starts, and so do a block pool allocator's own
     * {@code close()}, {@code releaseUnusedMemory()}, {@code flushThreadCache()} and {@code statistics()}. A pool's
     * calls take no lock of the manager's but the pool's own, which closing the pool here takes too: an allocation
     * racing this call ends first, with a buffer that the pool's close then closes, or fails with
     * {@link IllegalStateException} having made nothing. A block pool
     * allocator's {@code allocateBuffer}, and the {@code close()} of one of its buffers, take no lock of the
     * manager's (they are the fast paths): one still running on another thread must not race this call, nor the
     * block pool allocator's own {@code close()}: should it hold memory of its own when this call comes (a block
     * being made, or one that a buffer's close emptied and is freeing), this call throws and a later one destroys
     * the allocator.
     *
     * @throws IllegalStateException when allocations made through {@link #allocator()} outside the manager are still
     *                               live, so that the allocator stays open until a later call; or when called from
     *                               inside one of the manager's own calls or from a {@code DeviceMemoryListener}
     *                               (which runs inside a call, maybe a block pool allocator's), which changes
     *                               nothing
     */
    @Override
    public void close() {
        if (lifecycle.getReadHoldCount() > 0 || allocator.isInsideDeviceMemoryListener()) {
            // Inside one of the manager's calls, the write lock would wait for this thread's own read lock forever;
            // inside a block pool's call (which takes no lock of the manager's), closing the pools would pull the
            // memory from under the call and leave what it was making to no one.
            throw new IllegalStateException("MemoryManager.close() called from inside one of its own calls, such as "
                    + "a DeviceMemoryListener run by allocateBuffer (expected: close() once that call has returned)");
        }
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                // An earlier close found allocations the manager does not track still live in its allocator, which
                // refused and stayed open: destroy it now, once they are gone.
                if (!allocator.isClosed()) {
                    allocator.close();
                }
                return;
            }
            closed = true;
            // Every step runs even when an earlier one fails, so that the VmaAllocator is destroyed whenever nothing
            // made by it is left; when something is (it refuses, and stays open), a later close() tries again.
            Throwable failure = null;
            failure = Failures.attempt(failure, jfrStatistics::close);
            for (IMemoryPool pool : memoryPools()) {
                failure = Failures.attempt(failure, pool::close);
            }
            List<BlockPoolBufferAllocator> blocks;
            synchronized (blockPoolAllocators) {
                blocks = new ArrayList<>(blockPoolAllocators);
                blockPoolAllocators.clear();
            }
            for (BlockPoolBufferAllocator b : blocks) {
                failure = Failures.attempt(failure, b::close);
            }
            if (!live.isEmpty()) {
                LOG.log(Level.WARNING, "MemoryManager closed with " + live.size()
                        + " buffer(s) still open, freeing them: " + liveBuffers());
                for (Map.Entry<VulkanBuffer, Open> e : live.entrySet()) {
                    failure = Failures.attempt(failure, () -> {
                        e.getValue().forget();
                        e.getKey().close();
                    });
                }
                live.clear();
            }
            failure = Failures.attempt(failure, allocator::close);
            Failures.throwIfAny(failure);
        } finally {
            lifecycle.writeLock().unlock();
        }
    }
}
