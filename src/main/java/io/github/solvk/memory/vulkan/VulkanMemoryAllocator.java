package io.github.solvk.memory.vulkan;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.util.vma.Vma.VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT;
import static org.lwjgl.util.vma.Vma.VMA_ALLOCATOR_CREATE_EXT_MEMORY_BUDGET_BIT;
import static org.lwjgl.util.vma.Vma.VMA_ALLOCATOR_CREATE_EXT_MEMORY_PRIORITY_BIT;
import static org.lwjgl.util.vma.Vma.VMA_ALLOCATOR_CREATE_KHR_MAINTENANCE4_BIT;
import static org.lwjgl.util.vma.Vma.VMA_ALLOCATOR_CREATE_KHR_MAINTENANCE5_BIT;
import static org.lwjgl.util.vma.Vma.vmaBuildStatsString;
import static org.lwjgl.util.vma.Vma.vmaCalculateStatistics;
import static org.lwjgl.util.vma.Vma.vmaCreateAllocator;
import static org.lwjgl.util.vma.Vma.vmaCreateBuffer;
import static org.lwjgl.util.vma.Vma.vmaDestroyBuffer;
import static org.lwjgl.util.vma.Vma.vmaDestroyAllocator;
import static org.lwjgl.util.vma.Vma.vmaFreeStatsString;
import static org.lwjgl.util.vma.Vma.vmaGetHeapBudgets;
import static org.lwjgl.util.vma.Vma.vmaSetAllocationName;
import static org.lwjgl.util.vma.Vma.vmaSetCurrentFrameIndex;
import static org.lwjgl.vulkan.VK10.VK_NULL_HANDLE;
import static org.lwjgl.vulkan.VK10.VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
import static org.lwjgl.vulkan.VK10.VK_SHARING_MODE_CONCURRENT;
import static org.lwjgl.vulkan.VK10.VK_SHARING_MODE_EXCLUSIVE;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_WHOLE_SIZE;
import static org.lwjgl.vulkan.VK10.vkGetPhysicalDeviceProperties;
import static org.lwjgl.vulkan.VK10.vkGetPhysicalDeviceQueueFamilyProperties;
import static org.lwjgl.vulkan.VK12.VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;
import org.lwjgl.util.vma.VmaAllocationCreateInfo;
import org.lwjgl.util.vma.VmaAllocationInfo;
import org.lwjgl.util.vma.VmaAllocateDeviceMemoryFunction;
import org.lwjgl.util.vma.VmaAllocatorCreateInfo;
import org.lwjgl.util.vma.VmaBudget;
import org.lwjgl.util.vma.VmaDetailedStatistics;
import org.lwjgl.util.vma.VmaDeviceMemoryCallbacks;
import org.lwjgl.util.vma.VmaFreeDeviceMemoryFunction;
import org.lwjgl.util.vma.VmaStatistics;
import org.lwjgl.util.vma.VmaTotalStatistics;
import org.lwjgl.util.vma.VmaVulkanFunctions;
import org.lwjgl.vulkan.VkBufferCreateInfo;
import org.lwjgl.vulkan.VkDevice;
import org.lwjgl.vulkan.VkInstance;
import org.lwjgl.vulkan.VkPhysicalDevice;
import org.lwjgl.vulkan.VkPhysicalDeviceProperties;

/**
 * A VMA allocator ({@code VmaAllocator}) made through lwjgl-vma, as SOL's {@code sol::VulkanMemoryAllocator}.
 *
 * <p>It owns the {@code VmaAllocator} and destroys it in {@link #close()}; it borrows the instance and device of its
 * {@link Settings}. Every VMA call's {@code VkResult} is checked: a failure throws {@link VulkanException} naming the
 * call and the result.
 *
 * <p>Thread-safe: VMA synchronizes internally (lwjgl-vma is built without {@code VMA_EXTERNALLY_SYNCHRONIZED}).
 * Every VMA call this library makes through an allocator (its own methods, and those of the {@link VulkanBuffer}s and
 * {@link VulkanMemory} blocks made with it, which pools use without a {@link io.github.solvk.memory.MemoryManager})
 * is a <em>guarded call</em>, and {@link #close()} may race with any of them:
 * <ul>
 *   <li>{@code close()} first stops new guarded calls from starting, then waits for those in flight to return, and
 *       only then reads VMA's allocation count and destroys the {@code VmaAllocator}; no call is ever inside VMA
 *       while it is destroyed.</li>
 *   <li>A guarded call that starts while {@code close()} decides waits for the decision (as long as the calls in
 *       flight take, then one statistics call): when {@code close()} destroyed the allocator, it throws
 *       {@link IllegalStateException} ("VulkanMemoryAllocator is closed ...") before anything is made, so that no
 *       {@code VkBuffer} or allocation is left; when {@code close()} refused (allocations were live), it goes on as if
 *       nothing happened. So closing a buffer or block during {@code close()} is never refused: it either returned
 *       before the count was read, or runs after the refusal its own live allocation caused.</li>
 *   <li>A {@link DeviceMemoryListener} runs inside a guarded call: a guarded call it makes on the same allocator
 *       passes (it does not wait for a {@code close()}, which waits for the call around it), and {@code close()} from
 *       it throws {@link IllegalStateException}; so do they from a listener of another allocator that runs inside
 *       it.</li>
 *   <li>VMA calls made with the raw {@link #handle()} are outside the guard: their caller keeps them from racing
 *       {@code close()}.</li>
 * </ul>
 */
public final class VulkanMemoryAllocator implements AutoCloseable {

    /** {@code VMA_MEMORY_USAGE_UNKNOWN}: only the request's flags choose the memory type. */
    public static final int USAGE_UNKNOWN = org.lwjgl.util.vma.Vma.VMA_MEMORY_USAGE_UNKNOWN;
    /** {@code VMA_MEMORY_USAGE_GPU_LAZILY_ALLOCATED}. */
    public static final int USAGE_GPU_LAZILY_ALLOCATED = org.lwjgl.util.vma.Vma.VMA_MEMORY_USAGE_GPU_LAZILY_ALLOCATED;
    /** {@code VMA_MEMORY_USAGE_AUTO}. */
    public static final int USAGE_AUTO = org.lwjgl.util.vma.Vma.VMA_MEMORY_USAGE_AUTO;
    /** {@code VMA_MEMORY_USAGE_AUTO_PREFER_DEVICE}. */
    public static final int USAGE_AUTO_PREFER_DEVICE = org.lwjgl.util.vma.Vma.VMA_MEMORY_USAGE_AUTO_PREFER_DEVICE;
    /** {@code VMA_MEMORY_USAGE_AUTO_PREFER_HOST}. */
    public static final int USAGE_AUTO_PREFER_HOST = org.lwjgl.util.vma.Vma.VMA_MEMORY_USAGE_AUTO_PREFER_HOST;

    /*
     * The guard around VMA calls: one word, guard, holds the calls in flight (in units of ONE_CALL) and CLOSING_BIT.
     * A call adds ONE_CALL with one getAndAdd and looks at the bit in the old value; it leaves with one more
     * getAndAdd. close() sets the bit, then waits until no call is in flight. Since both sides change the same word
     * atomically, either the call's add came first (close() counts it and waits for it) or the bit did (the call sees
     * it, takes its add back and waits for close() to decide): no call runs inside VMA while it is destroyed.
     *
     * Why not a lock: a ReentrantReadWriteLock read lock is a compare-and-set loop (retried when threads contend)
     * plus per-thread hold counts (ThreadLocal look-ups once a second thread reads), and a StampedLock read lock is
     * not reentrant, which the device-memory upcall needs (below). The word costs one uncontended atomic add on entry
     * and one on exit, never retried; VMA's own calls cost 300 ns and more. Calls of several threads share its cache
     * line, as they would share a lock's.
     *
     * Reentry: VMA calls the device-memory listeners on the calling thread, inside a guarded call. Were a listener's
     * own guarded call to wait for close(), which waits for the call around it, neither would ever return; so a call
     * from inside an upcall of this allocator (UPCALL names it, with the upcalls around it: a listener of another
     * allocator, called inside this one's upcall, is inside this allocator's call too) passes the bit, counted like
     * any other call. Only the
     * upcall marks the thread, so the hot path reads no ThreadLocal.
     */
    /** {@link #guard}'s lowest bit: {@link #close()} has begun, new calls wait for its decision. */
    private static final long CLOSING_BIT = 1;
    /** One call in flight in {@link #guard}: the count sits above {@link #CLOSING_BIT}. */
    private static final long ONE_CALL = 2;
    private static final VarHandle GUARD;
    /** The device-memory upcalls this thread is running, innermost first, or {@code null}. */
    private static final ThreadLocal<Upcall> UPCALL = new ThreadLocal<>();

    /** An allocator's device-memory upcall on this thread, inside {@code outer} (or none). */
    private record Upcall(VulkanMemoryAllocator allocator, Upcall outer) {
        /** @return whether the thread runs, at any depth, an upcall of {@code a}, and so is inside a call of it */
        static boolean inside(VulkanMemoryAllocator a) {
            for (Upcall u = UPCALL.get(); u != null; u = u.outer) {
                if (u.allocator == a) {
                    return true;
                }
            }
            return false;
        }
    }

    static {
        try {
            GUARD = MethodHandles.lookup().findVarHandle(VulkanMemoryAllocator.class, "guard", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Settings settings;
    private final long handle;
    private final MemoryProperties memoryProperties;
    /**
     * What the buffers of each memory type made by {@link #createBuffer} share ({@link VulkanBuffer}), made on each
     * type's first buffer. Racing threads may each make one; any of them serves, as they are equal.
     */
    private final VulkanBuffer.Backing[] ownedBackings = new VulkanBuffer.Backing[MemoryProperties.MAX_MEMORY_TYPES];
    private final long maxMemoryAllocationCount;
    private final int queueFamilyCount;
    private final BufferLimits bufferLimits;
    /** Whether the device is an integrated GPU ({@link #isIntegratedGpu()}). */
    private final boolean integratedGpu;
    private final VmaAllocateDeviceMemoryFunction allocateCallback;
    private final VmaFreeDeviceMemoryFunction freeCallback;
    private final AtomicLong deviceMemoryAllocations = new AtomicLong();
    private final AtomicLong deviceMemoryFrees = new AtomicLong();
    private final List<DeviceMemoryListener> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    /** Calls in flight times {@link #ONE_CALL}, plus {@link #CLOSING_BIT}; only through {@link #GUARD}. */
    @SuppressWarnings("unused")
    private volatile long guard;
    /** The thread in {@link #close()} waiting for the calls in flight, which the last of them unparks. */
    private volatile Thread closer;
    /** Held by {@link #close()} while it decides; calls that saw {@link #CLOSING_BIT} wait on it. */
    private final Object closeLock = new Object();

    /**
     * Hears of every {@code vkAllocateMemory} and {@code vkFreeMemory} that VMA makes for this allocator. It is called
     * on the allocating thread from inside VMA, and from inside the pool that asked for the memory: it must not call
     * back into that pool (a block pool's arena lock is not reentrant, and such a call throws
     * {@link IllegalStateException}). It runs inside one of the allocator's guarded calls (see the class
     * documentation), so {@link #close()} from it throws {@link IllegalStateException}; should it call the allocator
     * anyway, a racing {@code close()} does not make that call wait.
     *
     * <p>A {@link RuntimeException} it throws is logged and ignored: the listeners after it are called, and VMA goes
     * on. An {@link Error} is not caught: the listeners after it do not hear of that memory, VMA finishes what it was
     * doing (the memory is freed, or allocated, all the same), and the {@code Error} then comes out of the call that
     * made VMA free or allocate ({@code vmaFreeMemory}, {@code vmaDestroyBuffer}, {@code vmaAllocateMemory} and the
     * like) in place of its result. Thrown from {@link #freed}, it leaves nothing allocated: the memory's owner reads
     * as closed, and the pools (block pools and SOL's) and the manager go on freeing their other blocks past it and
     * throw it at the end. Thrown from {@link #allocated}, it leaves nothing allocated either: the call that made VMA
     * allocate ({@link #createBuffer}, {@link VulkanMemory#allocate}, {@link VulkanMemory#allocateDedicatedBuffer})
     * frees the allocation VMA handed out (and destroys the {@code VkBuffer} made with it) before it throws the
     * {@code Error}, a failure of that free suppressed on it. The listeners hear of the free (those after the one that
     * threw, of memory they never heard made); the pools (block pools and SOL's) and the manager count and list
     * nothing for the call; {@link #close()} finds no allocation left by it. (An allocation that VMA placed in a block
     * of its own, as {@code createBuffer} may, can leave that block empty and kept, as any free can.)
     */
    public interface DeviceMemoryListener {
        /**
         * @param memoryTypeIndex the memory type
         * @param memory          the new {@code VkDeviceMemory}
         * @param size            its size in bytes
         */
        void allocated(int memoryTypeIndex, long memory, long size);

        /**
         * @param memoryTypeIndex the memory type
         * @param memory          the {@code VkDeviceMemory} about to be freed
         * @param size            its size in bytes
         */
        void freed(int memoryTypeIndex, long memory, long size);
    }

    /**
     * The device limits on where a buffer range used as a descriptor may start.
     *
     * @param minUniformBufferOffsetAlignment {@code VkPhysicalDeviceLimits::minUniformBufferOffsetAlignment}
     * @param minStorageBufferOffsetAlignment {@code VkPhysicalDeviceLimits::minStorageBufferOffsetAlignment}
     * @param minTexelBufferOffsetAlignment   {@code VkPhysicalDeviceLimits::minTexelBufferOffsetAlignment}
     */
    public record BufferLimits(long minUniformBufferOffsetAlignment, long minStorageBufferOffsetAlignment,
                               long minTexelBufferOffsetAlignment) {
    }

    /**
     * How to create the allocator; SOL's {@code VulkanMemoryAllocator::Settings}.
     *
     * @param instance                    the instance (borrowed)
     * @param physicalDevice              the physical device (borrowed)
     * @param device                      the device (borrowed)
     * @param apiVersion                  the API version the device was created for
     * @param flags                       {@code VmaAllocatorCreateFlags}
     * @param preferredLargeHeapBlockSize VMA's block size for large heaps in bytes; 0 for VMA's default (256 MiB)
     * @param heapSizeLimits              per heap, the most bytes VMA may allocate there, or {@code VK_WHOLE_SIZE}
     *                                    (-1) for no limit; {@code null} for no limits
     * @param simulatedMemoryProperties   for tests: a memory layout that this allocator reports to its buffers
     *                                    instead of the device's (same number of types and heaps as the device,
     *                                    since VMA counts and budgets by the device's own); VMA still
     *                                    places memory by the real one. {@code null} for the real layout
     */
    public record Settings(VkInstance instance, VkPhysicalDevice physicalDevice, VkDevice device, int apiVersion,
                           int flags, long preferredLargeHeapBlockSize, long[] heapSizeLimits,
                           MemoryProperties simulatedMemoryProperties) {

        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException for a negative block size or a bad heap limit
         */
        public Settings {
            Objects.requireNonNull(instance, "instance: null (expected: a VkInstance)");
            Objects.requireNonNull(physicalDevice, "physicalDevice: null (expected: a VkPhysicalDevice)");
            Objects.requireNonNull(device, "device: null (expected: a VkDevice)");
            if (preferredLargeHeapBlockSize < 0) {
                throw new IllegalArgumentException("preferredLargeHeapBlockSize: " + preferredLargeHeapBlockSize
                        + " (expected: >= 0, 0 for VMA's default)");
            }
            if (heapSizeLimits != null) {
                heapSizeLimits = heapSizeLimits.clone();
                for (int i = 0; i < heapSizeLimits.length; i++) {
                    if (heapSizeLimits[i] <= 0 && heapSizeLimits[i] != VK_WHOLE_SIZE) {
                        throw new IllegalArgumentException("heapSizeLimits[" + i + "]: " + heapSizeLimits[i]
                                + " (expected: > 0, or VK_WHOLE_SIZE (-1) for no limit)");
                    }
                }
            }
        }

        /**
         * Settings for a context's device, with VMA flags for every optional feature the context enabled.
         *
         * @param context an open context
         * @return settings with no block size or heap limit
         */
        public static Settings forContext(VulkanContext context) {
            Objects.requireNonNull(context, "context: null (expected: an open VulkanContext)");
            VulkanContext.Features f = context.features();
            int flags = 0;
            if (f.bufferDeviceAddress()) {
                flags |= VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT;
            }
            if (f.memoryBudget()) {
                flags |= VMA_ALLOCATOR_CREATE_EXT_MEMORY_BUDGET_BIT;
            }
            if (f.memoryPriority()) {
                flags |= VMA_ALLOCATOR_CREATE_EXT_MEMORY_PRIORITY_BIT;
            }
            if (f.maintenance4()) {
                flags |= VMA_ALLOCATOR_CREATE_KHR_MAINTENANCE4_BIT;
            }
            if (f.maintenance5()) {
                flags |= VMA_ALLOCATOR_CREATE_KHR_MAINTENANCE5_BIT;
            }
            return new Settings(context.instance(), context.physicalDevice(), context.device(),
                    context.apiVersion(), flags, 0, null, null);
        }

        /** @return a copy of the heap size limits, or {@code null} for none */
        @Override
        public long[] heapSizeLimits() {
            return heapSizeLimits == null ? null : heapSizeLimits.clone();
        }

        /**
         * @param limits per heap limits in bytes (-1 for none)
         * @return a copy with those heap size limits
         */
        public Settings withHeapSizeLimits(long... limits) {
            return new Settings(instance, physicalDevice, device, apiVersion, flags, preferredLargeHeapBlockSize,
                    limits, simulatedMemoryProperties);
        }

        /**
         * @param bytes VMA's block size for large heaps, 0 for the default
         * @return a copy with that block size
         */
        public Settings withPreferredLargeHeapBlockSize(long bytes) {
            return new Settings(instance, physicalDevice, device, apiVersion, flags, bytes, heapSizeLimits,
                    simulatedMemoryProperties);
        }

        /**
         * @param properties the layout to report instead of the device's, or {@code null}
         * @return a copy that reports that layout
         */
        public Settings withSimulatedMemoryProperties(MemoryProperties properties) {
            return new Settings(instance, physicalDevice, device, apiVersion, flags, preferredLargeHeapBlockSize,
                    heapSizeLimits, properties);
        }

        /**
         * @param vmaFlags {@code VmaAllocatorCreateFlags}
         * @return a copy with those flags
         */
        public Settings withFlags(int vmaFlags) {
            return new Settings(instance, physicalDevice, device, apiVersion, vmaFlags, preferredLargeHeapBlockSize,
                    heapSizeLimits, simulatedMemoryProperties);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Settings s && s.instance.equals(instance) && s.physicalDevice.equals(physicalDevice)
                    && s.device.equals(device) && s.apiVersion == apiVersion && s.flags == flags
                    && s.preferredLargeHeapBlockSize == preferredLargeHeapBlockSize
                    && Arrays.equals(s.heapSizeLimits, heapSizeLimits)
                    && Objects.equals(s.simulatedMemoryProperties, simulatedMemoryProperties);
        }

        @Override
        public int hashCode() {
            return Objects.hash(device, flags, preferredLargeHeapBlockSize, Arrays.hashCode(heapSizeLimits));
        }

        @Override
        public String toString() {
            return "Settings[apiVersion=" + VulkanContext.versionString(apiVersion) + ", flags=0x"
                    + Integer.toHexString(flags) + ", preferredLargeHeapBlockSize=" + preferredLargeHeapBlockSize
                    + ", heapSizeLimits=" + Arrays.toString(heapSizeLimits) + "]";
        }
    }

    /**
     * Byte counts of one memory type, one heap, or the total.
     *
     * @param blockCount      {@code VkDeviceMemory} blocks
     * @param allocationCount live allocations
     * @param blockBytes      bytes in those blocks
     * @param allocationBytes bytes taken by allocations
     */
    public record Statistics(long blockCount, long allocationCount, long blockBytes, long allocationBytes) {
        static Statistics of(VmaStatistics s) {
            return new Statistics(s.blockCount(), s.allocationCount(), s.blockBytes(), s.allocationBytes());
        }

        /** @return bytes in blocks not taken by allocations */
        public long unusedBytes() {
            return blockBytes - allocationBytes;
        }
    }

    /**
     * VMA's statistics at one moment.
     *
     * @param total       all memory
     * @param memoryTypes one entry per memory type
     * @param memoryHeaps one entry per heap
     */
    public record TotalStatistics(Statistics total, List<Statistics> memoryTypes, List<Statistics> memoryHeaps) {
    }

    /**
     * One heap's budget, from {@code VK_EXT_memory_budget} where enabled, else VMA's estimate.
     *
     * @param heapIndex   the heap
     * @param usageBytes  bytes the process uses in that heap
     * @param budgetBytes bytes it can use before allocations may fail or slow down
     * @param statistics  VMA's own blocks and allocations in that heap
     */
    public record Budget(int heapIndex, long usageBytes, long budgetBytes, Statistics statistics) {
    }

    private VulkanMemoryAllocator(Settings settings, long handle, MemoryProperties memoryProperties,
                                  long maxMemoryAllocationCount, int queueFamilyCount, BufferLimits bufferLimits,
                                  boolean integratedGpu, VmaAllocateDeviceMemoryFunction allocateCallback,
                                  VmaFreeDeviceMemoryFunction freeCallback) {
        this.integratedGpu = integratedGpu;
        this.allocateCallback = allocateCallback;
        this.freeCallback = freeCallback;
        this.queueFamilyCount = queueFamilyCount;
        this.bufferLimits = bufferLimits;
        this.settings = settings;
        this.handle = handle;
        this.memoryProperties = memoryProperties;
        this.maxMemoryAllocationCount = maxMemoryAllocationCount;
    }

    /**
     * Creates a VMA allocator.
     *
     * @param settings what to create it for
     * @return the allocator, owned by the caller
     * @throws VulkanException          when {@code vmaCreateAllocator} fails
     * @throws IllegalArgumentException when the heap limits or the simulated layout don't match the device
     */
    public static VulkanMemoryAllocator create(Settings settings) {
        Objects.requireNonNull(settings, "settings: null (expected: "
                + "Settings, for example Settings.forContext(context))");
        try (MemoryStack stack = stackPush()) {
            VkPhysicalDeviceProperties props = VkPhysicalDeviceProperties.malloc(stack);
            vkGetPhysicalDeviceProperties(settings.physicalDevice(), props);
            MemoryProperties real = VulkanContext.readMemoryProperties(settings.physicalDevice(), props);
            MemoryProperties simulated = settings.simulatedMemoryProperties();
            if (simulated != null && simulated.types().size() != real.types().size()) {
                throw new IllegalArgumentException("simulatedMemoryProperties type count: "
                        + simulated.types().size() + " (expected: the device's " + real.types().size() + ")");
            }
            if (simulated != null && simulated.heaps().size() != real.heaps().size()) {
                // VMA fills budgets and statistics for the device's heaps only: a heap beyond them would report
                // whatever memory held.
                throw new IllegalArgumentException("simulatedMemoryProperties heap count: "
                        + simulated.heaps().size() + " (expected: the device's " + real.heaps().size() + ")");
            }
            long[] limits = settings.heapSizeLimits;
            if (limits != null && limits.length != real.heaps().size()) {
                throw new IllegalArgumentException("heapSizeLimits length: " + limits.length
                        + " (expected: the device's heap count " + real.heaps().size() + ")");
            }
            VmaAllocatorCreateInfo info = VmaAllocatorCreateInfo.calloc(stack)
                    .flags(settings.flags())
                    .physicalDevice(settings.physicalDevice())
                    .device(settings.device())
                    .instance(settings.instance())
                    .vulkanApiVersion(settings.apiVersion())
                    .preferredLargeHeapBlockSize(settings.preferredLargeHeapBlockSize())
                    .pVulkanFunctions(VmaVulkanFunctions.calloc(stack)
                            .set(settings.instance(), settings.device()));
            if (limits != null) {
                info.pHeapSizeLimit(stack.longs(limits));
            }
            // The callbacks reach the allocator object, which does not exist yet: go through a holder.
            VulkanMemoryAllocator[] self = new VulkanMemoryAllocator[1];
            VmaAllocateDeviceMemoryFunction onAllocate = VmaAllocateDeviceMemoryFunction.create(
                    (vma, type, memory, size, user) -> {
                        if (self[0] != null) {
                            self[0].onDeviceMemory(true, type, memory, size);
                        }
                    });
            VmaFreeDeviceMemoryFunction onFree = VmaFreeDeviceMemoryFunction.create(
                    (vma, type, memory, size, user) -> {
                        if (self[0] != null) {
                            self[0].onDeviceMemory(false, type, memory, size);
                        }
                    });
            // VMA copies the callbacks struct, so it may live on the stack; the functions live until close().
            info.pDeviceMemoryCallbacks(VmaDeviceMemoryCallbacks.calloc(stack).pfnAllocate(onAllocate).pfnFree(onFree));
            PointerBuffer pAllocator = stack.mallocPointer(1);
            int result = vmaCreateAllocator(info, pAllocator);
            if (result < 0) {
                onAllocate.free();
                onFree.free();
            }
            VkResults.check(result, "vmaCreateAllocator");
            var pCount = stack.mallocInt(1);
            vkGetPhysicalDeviceQueueFamilyProperties(settings.physicalDevice(), pCount, null);
            VulkanMemoryAllocator created = new VulkanMemoryAllocator(settings, pAllocator.get(0),
                    simulated != null ? simulated : real,
                    Integer.toUnsignedLong(props.limits().maxMemoryAllocationCount()), pCount.get(0),
                    new BufferLimits(props.limits().minUniformBufferOffsetAlignment(),
                            props.limits().minStorageBufferOffsetAlignment(),
                            props.limits().minTexelBufferOffsetAlignment()),
                    props.deviceType() == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU, onAllocate, onFree);
            self[0] = created;
            return created;
        }
    }

    /**
     * What a buffer is made of, in Vulkan and VMA terms.
     *
     * @param size                 bytes, {@code > 0}
     * @param usage                {@code VkBufferUsageFlags}, not 0
     * @param concurrentFamilies   queue families for {@code VK_SHARING_MODE_CONCURRENT}, or {@code null} for
     *                             exclusive
     * @param vmaMemoryUsage       {@code VmaMemoryUsage}
     * @param requiredFlags        {@code VkMemoryPropertyFlags} the memory type must have
     * @param preferredFlags       {@code VkMemoryPropertyFlags} the memory type should have
     * @param allocationFlags      {@code VmaAllocationCreateFlags}
     * @param alignment            minimum alignment of the memory offset, a power of two, or 0 for the driver's
     * @param name                 a name VMA records with the allocation, or {@code null}
     */
    public record BufferRequest(long size, int usage, int[] concurrentFamilies, int vmaMemoryUsage,
                                int requiredFlags, int preferredFlags, int allocationFlags, long alignment,
                                String name) {

        /** Copies {@code concurrentFamilies}, so that the caller's array can change without changing the request. */
        public BufferRequest {
            concurrentFamilies = concurrentFamilies == null ? null : concurrentFamilies.clone();
        }

        /** @return a copy of the queue families, or {@code null} for exclusive sharing */
        @Override
        public int[] concurrentFamilies() {
            return concurrentFamilies == null ? null : concurrentFamilies.clone();
        }

        /** Compares the queue families by content, as the other components. */
        @Override
        public boolean equals(Object o) {
            return o instanceof BufferRequest r && size == r.size && usage == r.usage
                    && Arrays.equals(concurrentFamilies, r.concurrentFamilies) && vmaMemoryUsage == r.vmaMemoryUsage
                    && requiredFlags == r.requiredFlags && preferredFlags == r.preferredFlags
                    && allocationFlags == r.allocationFlags && alignment == r.alignment
                    && Objects.equals(name, r.name);
        }

        @Override
        public int hashCode() {
            return Objects.hash(size, usage, Arrays.hashCode(concurrentFamilies), vmaMemoryUsage, requiredFlags,
                    preferredFlags, allocationFlags, alignment, name);
        }

        @Override
        public String toString() {
            return "BufferRequest[size=" + size + ", usage=0x" + Integer.toHexString(usage) + ", concurrentFamilies="
                    + Arrays.toString(concurrentFamilies) + ", vmaMemoryUsage=" + vmaMemoryUsage + ", requiredFlags=0x"
                    + Integer.toHexString(requiredFlags) + ", preferredFlags=0x" + Integer.toHexString(preferredFlags)
                    + ", allocationFlags=0x" + Integer.toHexString(allocationFlags) + ", alignment=" + alignment
                    + ", name=" + name + "]";
        }
    }

    /**
     * Creates a buffer with its own memory allocation ({@code vmaCreateBuffer}, with
     * {@code VmaAllocationCreateInfo::minAlignment} when an alignment is given). The request is taken as valid; the
     * facade checks it first.
     *
     * @param request what to create
     * @return an owned buffer
     * @throws VulkanException when VMA fails, for example {@code VK_ERROR_OUT_OF_DEVICE_MEMORY}
     */
    public VulkanBuffer createBuffer(BufferRequest request) {
        Objects.requireNonNull(request, "request: null (expected: a BufferRequest)");
        long vma = enter();
        try (MemoryStack stack = stackPush()) {
            VkBufferCreateInfo bufferInfo = VkBufferCreateInfo.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO)
                    .size(request.size())
                    .usage(request.usage());
            if (request.concurrentFamilies != null) {
                bufferInfo.sharingMode(VK_SHARING_MODE_CONCURRENT)
                        .pQueueFamilyIndices(stack.ints(request.concurrentFamilies));
            } else {
                bufferInfo.sharingMode(VK_SHARING_MODE_EXCLUSIVE);
            }
            VmaAllocationCreateInfo allocInfo = VmaAllocationCreateInfo.calloc(stack)
                    .usage(request.vmaMemoryUsage())
                    .requiredFlags(request.requiredFlags())
                    .preferredFlags(request.preferredFlags())
                    .flags(request.allocationFlags())
                    .minAlignment(Math.max(0, request.alignment()));
            // Zeroed: handles found in them after a failure are ones that VMA made and handed out.
            var pBuffer = stack.callocLong(1);
            PointerBuffer pAllocation = stack.callocPointer(1);
            VmaAllocationInfo result = VmaAllocationInfo.malloc(stack);
            try {
                VkResults.check(vmaCreateBuffer(vma, bufferInfo, allocInfo, pBuffer, pAllocation, result),
                        "vmaCreateBuffer");
            } catch (RuntimeException | Error e) {
                destroyMade(vma, pBuffer.get(0), pAllocation.get(0), e);
                throw e;
            }
            VulkanObjects.bufferMade();
            long allocation = pAllocation.get(0);
            if (request.name() != null) {
                vmaSetAllocationName(vma, allocation, request.name());
            }
            int type = result.memoryType();
            return VulkanBuffer.owned(this, pBuffer.get(0), allocation, request.size(), request.usage(), type,
                    result.pMappedData());
        } finally {
            exit();
        }
    }

    /** @return what the buffers of a memory type made by {@link #createBuffer} share */
    VulkanBuffer.Backing ownedBacking(int memoryTypeIndex) {
        VulkanBuffer.Backing backing = ownedBackings[memoryTypeIndex];
        if (backing == null) {
            // Final fields only: a racing reader sees it whole or not at all.
            backing = VulkanBuffer.Backing.owned(this, memoryTypeIndex);
            ownedBackings[memoryTypeIndex] = backing;
        }
        return backing;
    }

    /**
     * Destroys a buffer and frees its memory that {@code vmaCreateBuffer} made and handed out before it failed (a
     * {@link DeviceMemoryListener}'s {@link Error} from {@code allocated}, which comes out of the call once VMA made
     * them), as {@link VulkanMemory#freeMade} does for memory alone; the buffer was not counted
     * ({@link VulkanObjects}) yet, so it is not counted out.
     *
     * @param buffer     what the call wrote to its zeroed out-pointer: {@code VK_NULL_HANDLE} when it made none
     * @param allocation likewise, {@code NULL} when it made none
     * @param failure    what the call threw, which the caller throws next; a failure here rides on it, suppressed
     */
    private static void destroyMade(long vma, long buffer, long allocation, Throwable failure) {
        if (buffer == VK_NULL_HANDLE && allocation == MemoryUtil.NULL) {
            return;
        }
        try {
            vmaDestroyBuffer(vma, buffer, allocation);
        } catch (RuntimeException | Error e) {
            failure.addSuppressed(e);
        }
    }

    /** @return VMA's current statistics, per memory type, per heap and in total */
    public TotalStatistics statistics() {
        long vma = enter();
        try (MemoryStack stack = stackPush()) {
            VmaTotalStatistics stats = VmaTotalStatistics.malloc(stack);
            vmaCalculateStatistics(vma, stats);
            List<Statistics> types = new ArrayList<>();
            for (int i = 0; i < memoryProperties.types().size(); i++) {
                types.add(Statistics.of(stats.memoryType(i).statistics()));
            }
            List<Statistics> heaps = new ArrayList<>();
            for (int i = 0; i < memoryProperties.heaps().size(); i++) {
                heaps.add(Statistics.of(stats.memoryHeap(i).statistics()));
            }
            VmaDetailedStatistics total = stats.total();
            return new TotalStatistics(Statistics.of(total.statistics()), List.copyOf(types), List.copyOf(heaps));
        } finally {
            exit();
        }
    }

    /** @return one budget per heap */
    public List<Budget> budgets() {
        long vma = enter();
        try (MemoryStack stack = stackPush()) {
            int heaps = memoryProperties.heaps().size();
            VmaBudget.Buffer budgets = VmaBudget.malloc(MemoryProperties.MAX_MEMORY_HEAPS, stack);
            vmaGetHeapBudgets(vma, budgets);
            List<Budget> result = new ArrayList<>();
            for (int i = 0; i < heaps; i++) {
                VmaBudget b = budgets.get(i);
                result.add(new Budget(i, b.usage(), b.budget(), Statistics.of(b.statistics())));
            }
            return List.copyOf(result);
        } finally {
            exit();
        }
    }

    /**
     * @param detailed whether to list every allocation
     * @return VMA's JSON statistics string ({@code vmaBuildStatsString})
     */
    public String statsJson(boolean detailed) {
        long vma = enter();
        try (MemoryStack stack = stackPush()) {
            PointerBuffer pString = stack.mallocPointer(1);
            vmaBuildStatsString(vma, pString, detailed);
            try {
                return MemoryUtil.memUTF8(pString.get(0));
            } finally {
                vmaFreeStatsString(vma, pString.getByteBuffer(0, 0));
            }
        } finally {
            exit();
        }
    }

    /**
     * Tells VMA the current frame index, for its budget and lost-allocation bookkeeping.
     *
     * @param frameIndex the frame number
     */
    public void setCurrentFrameIndex(int frameIndex) {
        long vma = enter();
        try {
            vmaSetCurrentFrameIndex(vma, frameIndex);
        } finally {
            exit();
        }
    }

    /**
     * The raw {@code VmaAllocator}, for calling VMA directly. Such calls are outside the guard that keeps this
     * library's own VMA calls from racing {@link #close()} (see the class documentation): the caller must make sure
     * that the allocator is not closed while it uses the handle, or VMA runs on a destroyed allocator.
     *
     * @return the {@code VmaAllocator} handle
     * @throws IllegalStateException when the allocator is closed
     */
    public long handle() {
        checkOpen();
        return handle;
    }

    /** @return the settings it was created with */
    public Settings settings() {
        return settings;
    }

    /** @return the memory layout this allocator reports: the device's, or the simulated one of the settings */
    public MemoryProperties memoryProperties() {
        return memoryProperties;
    }

    /** @return {@code VkPhysicalDeviceLimits::maxMemoryAllocationCount} */
    public long maxMemoryAllocationCount() {
        return maxMemoryAllocationCount;
    }

    private void onDeviceMemory(boolean allocated, int type, long memory, long size) {
        (allocated ? deviceMemoryAllocations : deviceMemoryFrees).incrementAndGet();
        VulkanObjects.deviceMemory(allocated);
        if (listeners.isEmpty()) {
            return;
        }
        // The listeners run inside the guarded call that made VMA allocate or free: their own guarded calls on this
        // allocator must pass a closing guard (see enterSlow). Saved and restored, for an upcall inside an upcall.
        Upcall outer = UPCALL.get();
        UPCALL.set(new Upcall(this, outer));
        try {
            for (DeviceMemoryListener listener : listeners) {
                // Called from inside VMA (a native upcall): an exception must not unwind through it.
                try {
                    if (allocated) {
                        listener.allocated(type, memory, size);
                    } else {
                        listener.freed(type, memory, size);
                    }
                } catch (RuntimeException e) {
                    System.getLogger(VulkanMemoryAllocator.class.getName()).log(System.Logger.Level.WARNING,
                            "device-memory listener " + listener + " threw; ignored (expected: listeners that return)",
                            e);
                }
            }
        } finally {
            if (outer == null) {
                UPCALL.remove();
            } else {
                UPCALL.set(outer);
            }
        }
    }

    /** @return how many times VMA called {@code vkAllocateMemory} for this allocator */
    public long deviceMemoryAllocationCount() {
        return deviceMemoryAllocations.get();
    }

    /** @return how many {@code VkDeviceMemory} objects this allocator holds now */
    public long liveDeviceMemoryCount() {
        return deviceMemoryAllocations.get() - deviceMemoryFrees.get();
    }

    /**
     * @param listener hears of every {@code vkAllocateMemory} and {@code vkFreeMemory} from now on; it runs on the
     *                 allocating thread, inside VMA, so it must be quick and must not call VMA
     */
    public void addDeviceMemoryListener(DeviceMemoryListener listener) {
        listeners.add(java.util.Objects.requireNonNull(listener, "listener: null (expected: a DeviceMemoryListener)"));
    }

    /** @param listener a listener added before */
    public void removeDeviceMemoryListener(DeviceMemoryListener listener) {
        listeners.remove(listener);
    }

    /** @return the device's limits on descriptor offsets into buffers */
    public BufferLimits bufferLimits() {
        return bufferLimits;
    }

    /** @return the number of queue families of the physical device */
    public int queueFamilyCount() {
        return queueFamilyCount;
    }

    /** @return whether {@code VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT} is set */
    public boolean bufferDeviceAddressEnabled() {
        return (settings.flags() & VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT) != 0;
    }

    /**
     * Refuses a buffer usage with {@code SHADER_DEVICE_ADDRESS} when this allocator was made without buffer device
     * address: its memory has no {@code VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT}, so binding such a buffer to it is
     * invalid (VUID-vkBindBufferMemory-bufferDeviceAddress-03339).
     *
     * @param name  the parameter, for the message
     * @param usage {@code VkBufferUsageFlags}
     * @throws IllegalArgumentException naming the usage
     */
    public void checkDeviceAddressUsage(String name, int usage) {
        if (!allowsDeviceAddressUsage(usage)) {
            throw new IllegalArgumentException(name + ": 0x" + Integer.toHexString(usage) + " (expected: no "
                    + "SHADER_DEVICE_ADDRESS bit, since the VMA allocator was made without "
                    + "VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT, so its memory cannot be given device addresses; "
                    + "VUID-vkBindBufferMemory-bufferDeviceAddress-03339)");
        }
    }

    /**
     * @return whether the device is an integrated GPU ({@code VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU}), whose memory
     *         the host sees anyway: memory type choices that allow a transfer instead of host access keep host
     *         access there, as VMA's do ({@code MemoryTypeFilter})
     */
    public boolean isIntegratedGpu() {
        return integratedGpu;
    }

    /**
     * @param usage {@code VkBufferUsageFlags}
     * @return whether buffers of this usage can be bound to this allocator's memory: false for a usage with
     *     {@code SHADER_DEVICE_ADDRESS} when the allocator was made without buffer device address (see
     *     {@link #checkDeviceAddressUsage})
     */
    public boolean allowsDeviceAddressUsage(int usage) {
        return (usage & VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT) == 0 || bufferDeviceAddressEnabled();
    }

    /** @return the device */
    public VkDevice device() {
        return settings.device();
    }

    /** @return whether {@link #close()} has run */
    public boolean isClosed() {
        return closed;
    }

    /**
     * @return whether the calling thread is running one of this allocator's {@link DeviceMemoryListener}s, and so is
     *         inside one of its calls (and maybe inside a pool's, which a {@code close()} of that pool or of its
     *         manager must not run under)
     */
    public boolean isInsideDeviceMemoryListener() {
        return Upcall.inside(this);
    }

    /**
     * Destroys the {@code VmaAllocator}. Every buffer and block made by it must be closed first: while any is live,
     * this throws and leaves the allocator open (lwjgl-vma is built without VMA's asserts, so VMA would destroy the
     * allocator under them, and their {@code VkBuffer}s could never be destroyed). Calling it again does nothing.
     *
     * <p>It may race with this library's calls on the allocator from other threads (see the class documentation): it
     * waits for those in flight before it reads the allocation count; those that start meanwhile wait for it, and
     * throw {@link IllegalStateException} when it destroyed the allocator.
     *
     * @throws IllegalStateException when allocations made by this allocator are still live, or when called from a
     *                               {@link DeviceMemoryListener} of this allocator
     */
    @Override
    public void close() {
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            if (Upcall.inside(this)) {
                // The upcall runs inside a guarded call of this thread, which close() would wait for forever.
                throw new IllegalStateException("VulkanMemoryAllocator.close() called from its own device-memory "
                        + "listener (expected: a close() outside the allocator's calls)");
            }
            closer = Thread.currentThread();
            GUARD.getAndAdd(this, CLOSING_BIT);
            boolean destroyed = false;
            boolean interrupted = false;
            try {
                // Calls that saw the bit took their count back (and wait on closeLock); the others are in VMA, and the
                // last to return unparks this thread. park may return early (a spurious wake-up): the loop reads the
                // word again. It returns at once while the interrupt is set, so the interrupt is taken (or the loop
                // would spin until the calls return) and set again for the caller once they have.
                while ((long) GUARD.getVolatile(this) != CLOSING_BIT) {
                    LockSupport.park(this);
                    interrupted |= Thread.interrupted();
                }
                checkNoLiveAllocations();
                closed = true;
                destroyed = true;
            } finally {
                closer = null;
                if (!destroyed) {
                    // Refused: the calls waiting on closeLock go on once it is released, as if nothing happened.
                    GUARD.getAndAdd(this, -CLOSING_BIT);
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            // The bit stays set: every later call takes the slow path and finds the allocator closed.
            vmaDestroyAllocator(handle);
            allocateCallback.free();
            freeCallback.free();
        }
    }

    /** Throws when VMA counts allocations; called by {@link #close()} with no call in flight. */
    private void checkNoLiveAllocations() {
        try (MemoryStack stack = stackPush()) {
            VmaTotalStatistics stats = VmaTotalStatistics.malloc(stack);
            vmaCalculateStatistics(handle, stats);
            VmaStatistics total = stats.total().statistics();
            if (total.allocationCount() != 0) {
                throw new IllegalStateException("VulkanMemoryAllocator has " + total.allocationCount()
                        + " live allocation(s) of " + total.allocationBytes() + " bytes (expected: every buffer and"
                        + " memory block made by it closed before it)");
            }
        }
    }

    /**
     * Starts a guarded VMA call: every {@code enter()} is followed by exactly one {@link #exit()}, in a
     * {@code finally}, and no guarded call is made between the two (it would wait for a {@link #close()} that waits
     * for this one).
     *
     * @return the {@code VmaAllocator}, valid until {@link #exit()}
     * @throws IllegalStateException when the allocator is closed; nothing is counted then
     */
    long enter() {
        if (((long) GUARD.getAndAdd(this, ONE_CALL) & CLOSING_BIT) != 0) {
            enterSlow();
        }
        return handle;
    }

    /** Ends a guarded VMA call begun by {@link #enter()}, waking a {@link #close()} that waits for the last one. */
    void exit() {
        if ((long) GUARD.getAndAdd(this, -ONE_CALL) - ONE_CALL == CLOSING_BIT) {
            LockSupport.unpark(closer);
        }
    }

    /**
     * {@link #enter()} when {@link #CLOSING_BIT} was set: on return this call is counted in {@link #guard} and the
     * allocator is open and not closing (or the call is inside an upcall of a call in flight).
     */
    private void enterSlow() {
        while (true) {
            if (closed) {
                exit();
                throw closedException();
            }
            if (Upcall.inside(this)) {
                // Inside a call in flight, which close() waits for: this one is counted too, and waited for.
                return;
            }
            exit();
            synchronized (closeLock) {
                // close() holds the lock until it has decided: destroyed (closed is set) or refused (bit cleared).
            }
            if (((long) GUARD.getAndAdd(this, ONE_CALL) & CLOSING_BIT) == 0) {
                return;
            }
        }
    }

    private static IllegalStateException closedException() {
        return new IllegalStateException("VulkanMemoryAllocator is closed (expected: an open allocator)");
    }

    void checkOpen() {
        if (closed) {
            throw closedException();
        }
    }
}
