package io.github.solvk.memory.bench;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.vulkan.VK10.VK_SHARING_MODE_EXCLUSIVE;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
import static org.lwjgl.vulkan.VK10.vkAllocateMemory;
import static org.lwjgl.vulkan.VK10.vkBindBufferMemory;
import static org.lwjgl.vulkan.VK10.vkCreateBuffer;
import static org.lwjgl.vulkan.VK10.vkDestroyBuffer;
import static org.lwjgl.vulkan.VK10.vkFreeMemory;
import static org.lwjgl.vulkan.VK10.vkGetBufferMemoryRequirements;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferCreateInfo;
import org.lwjgl.vulkan.VkDevice;
import org.lwjgl.vulkan.VkMemoryAllocateInfo;
import org.lwjgl.vulkan.VkMemoryRequirements;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.pool.BlockRequest;
import io.github.solvk.memory.pool.PooledBuffer;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemory;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * PERFORMANCE.md contender C and N on the real device: one buffer made and destroyed per operation, by
 * <ul>
 *   <li>{@code poolSubRange}: {@link BlockPoolAllocator} in {@code SUB_RANGE} mode (no Vulkan call);</li>
 *   <li>{@code poolOwnBuffer}: the same in {@code OWN_BUFFER} mode: the released range stays in the thread's cache
 *       with its {@code VkBuffer} ({@code Config.recycleBuffers}), so the next buffer of the same size and usage gets
 *       both back with no Vulkan call;</li>
 *   <li>{@code poolOwnBufferMade}: {@code OWN_BUFFER} with {@code recycleBuffers(false)}: every buffer gets a new
 *       {@code VkBuffer} ({@code vkCreateBuffer} + bind + destroy), as a request of a size not seen before does;</li>
 *   <li>{@code vma}: {@code vmaCreateBuffer} + {@code vmaDestroyBuffer} through lwjgl-vma;</li>
 *   <li>{@code dedicated}: {@code vkAllocateMemory} + {@code vkCreateBuffer} + bind + destroy +
 *       {@code vkFreeMemory};</li>
 *   <li>{@code bufferLayer}: the Vulkan layer of {@code poolOwnBuffer} without the pool;</li>
 *   <li>{@code poolSubRangeBesideNull}: {@code poolSubRange} and {@code nullAllocator} one after the other, which
 *       shows whether the pool's work costs more between the driver's calls (its lines evicted by the driver's) than
 *       alone;</li>
 *   <li>{@code nullAllocator} (N, the driver's floor): {@code vkCreateBuffer} + {@code vkBindBufferMemory} at
 *       precomputed offsets in one preallocated {@code VkDeviceMemory}, then {@code vkDestroyBuffer};</li>
 *   <li>{@code nullAllocatorLoaded}: the same in a {@code VkDeviceMemory} to which {@value #BACKGROUND} other live
 *       buffers are bound, as the pools' blocks hold theirs, and {@code nullAllocatorLarge} in an empty one of
 *       {@value #LARGE_MEMORY} bytes, a pool's first block on a large heap: whether the driver's calls cost more in
 *       a memory with many buffers bound to it, or in a large one.</li>
 * </ul>
 * The pools and VMA hold {@value #BACKGROUND} live buffers of the same size throughout, so no contender works on an
 * empty heap; {@code nullAllocator}'s memory holds no other buffer. Run: {@code java -cp ...
 * org.openjdk.jmh.Main FullPathBenchmark} (see docs/benchmarks.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class FullPathBenchmark {

    /** Live buffers kept in the pools and in VMA while measuring. */
    static final int BACKGROUND = 1024;
    /** Slots of the null allocator's preallocated memory. */
    private static final int NULL_SLOTS = 64;
    /** The size of {@code nullAllocatorLarge}'s memory: 1/8 of a 256 MiB block, a block pool's first block. */
    static final long LARGE_MEMORY = 32L << 20;

    @Param({"256", "65536"})
    public long size;

    private VulkanContext context;
    private VkDevice device;
    private VulkanMemoryAllocator vma;
    private long vmaHandle;
    private BlockPoolAllocator subRangePool;
    private BlockPoolAllocator ownBufferPool;
    private BlockPoolAllocator madeBufferPool;
    private BlockRequest subRangeRequest;
    private BlockRequest ownBufferRequest;
    private final List<PooledBuffer> background = new ArrayList<>();
    private final List<long[]> vmaBackground = new ArrayList<>();
    private final long[] vmaOut = new long[2];
    private int memoryTypeIndex;
    private long memorySize;
    private long nullMemory;
    private final long[] nullOffsets = new long[NULL_SLOTS];
    private int nullNext;
    private long loadedMemory;
    private long largeMemory;
    private final long[] loadedBackground = new long[BACKGROUND];
    private VulkanMemory layerBlock;

    @Setup(Level.Trial)
    public void setUp() {
        context = VulkanContext.builder().validation(false).applicationName("FullPathBenchmark").build();
        device = context.device();
        vma = VulkanMemoryAllocator.create(VulkanMemoryAllocator.Settings.forContext(context));
        vmaHandle = vma.handle();
        subRangePool = new BlockPoolAllocator(vma, BlockPoolAllocator.Config.defaults());
        ownBufferPool = new BlockPoolAllocator(vma, BlockPoolAllocator.Config.builder()
                .bufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).build());
        madeBufferPool = new BlockPoolAllocator(vma, BlockPoolAllocator.Config.builder()
                .bufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).recycleBuffers(false).build());
        subRangeRequest = BenchVulkan.request(size, BlockPoolAllocator.BufferMode.SUB_RANGE);
        ownBufferRequest = BenchVulkan.request(size, BlockPoolAllocator.BufferMode.OWN_BUFFER);
        for (int i = 0; i < BACKGROUND; i++) {
            background.add(subRangePool.allocate(subRangeRequest));
            background.add(ownBufferPool.allocate(ownBufferRequest));
            background.add(madeBufferPool.allocate(ownBufferRequest));
            long[] b = new long[2];
            BenchVulkan.vmaCreate(vmaHandle, size, b);
            vmaBackground.add(b);
        }
        try (MemoryStack stack = stackPush()) {
            long buffer = createBuffer(stack);
            VkMemoryRequirements r = VkMemoryRequirements.malloc(stack);
            vkGetBufferMemoryRequirements(device, buffer, r);
            vkDestroyBuffer(device, buffer, null);
            memoryTypeIndex = BenchVulkan.memoryType(context, r.memoryTypeBits());
            memorySize = r.size();
            long stride = (r.size() + r.alignment() - 1) / r.alignment() * r.alignment();
            for (int i = 0; i < NULL_SLOTS; i++) {
                nullOffsets[i] = i * stride;
            }
            nullMemory = allocateMemory(stack, stride * NULL_SLOTS);
            // The loaded memory: the same slots first, then one slot per background buffer, bound for the whole run.
            loadedMemory = allocateMemory(stack, stride * (NULL_SLOTS + BACKGROUND));
            largeMemory = allocateMemory(stack, LARGE_MEMORY);
            for (int i = 0; i < BACKGROUND; i++) {
                try (MemoryStack frame = stack.push()) {
                    loadedBackground[i] = createBuffer(frame);
                }
                BenchVulkan.check(vkBindBufferMemory(device, loadedBackground[i], loadedMemory,
                        (NULL_SLOTS + i) * stride), "vkBindBufferMemory");
            }
        }
        for (BlockPoolAllocator.TypeStatistics t : ownBufferPool.statistics()) {
            if (t.blockCount() > 0 && t.memoryTypeIndex() != memoryTypeIndex) {
                System.out.printf("%nWARNING: the pool's buffers are in memory type %d, N's and dedicated's in %d%n",
                        t.memoryTypeIndex(), memoryTypeIndex);
            }
        }
        layerBlock = VulkanMemory.allocate(vma, (memorySize + 65535) & -65536L, 1,
                memoryTypeIndex, true, "FullPathBenchmark.bufferLayer");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        background.forEach(PooledBuffer::release);
        vmaBackground.forEach(b -> BenchVulkan.vmaDestroy(vmaHandle, b[0], b[1]));
        vkFreeMemory(device, nullMemory, null);
        for (long b : loadedBackground) {
            vkDestroyBuffer(device, b, null);
        }
        vkFreeMemory(device, loadedMemory, null);
        vkFreeMemory(device, largeMemory, null);
        layerBlock.close();
        subRangePool.close();
        ownBufferPool.close();
        madeBufferPool.close();
        vma.close();
        context.close();
    }

    private long createBuffer(MemoryStack stack) {
        var pBuffer = stack.mallocLong(1);
        BenchVulkan.check(vkCreateBuffer(device, VkBufferCreateInfo.calloc(stack)
                .sType(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO).size(size).usage(BenchVulkan.USAGE)
                .sharingMode(VK_SHARING_MODE_EXCLUSIVE), null, pBuffer), "vkCreateBuffer");
        return pBuffer.get(0);
    }

    private long allocateMemory(MemoryStack stack, long bytes) {
        var pMemory = stack.mallocLong(1);
        BenchVulkan.check(vkAllocateMemory(device, VkMemoryAllocateInfo.calloc(stack)
                .sType(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO).allocationSize(bytes)
                .memoryTypeIndex(memoryTypeIndex), null, pMemory), "vkAllocateMemory");
        return pMemory.get(0);
    }

    @Benchmark
    public long poolSubRange() {
        PooledBuffer b = subRangePool.allocate(subRangeRequest);
        long offset = b.buffer().offset();
        b.release();
        return offset;
    }

    @Benchmark
    public long poolSubRangeBesideNull() {
        return poolSubRange() ^ nullAllocator();
    }

    @Benchmark
    public long poolOwnBuffer() {
        return ownBuffer(ownBufferPool);
    }

    @Benchmark
    public long poolOwnBufferMade() {
        return ownBuffer(madeBufferPool);
    }

    private long ownBuffer(BlockPoolAllocator pool) {
        PooledBuffer b = pool.allocate(ownBufferRequest);
        long handle = b.buffer().buffer();
        b.release();
        return handle;
    }

    /**
     * The Vulkan layer under {@code poolOwnBufferMade} alone: {@link VulkanMemory#createBuffer} (no requirements query)
     * at one offset of one block, and {@link VulkanBuffer#close()}; what the pool's bookkeeping adds is
     * {@code poolOwnBufferMade} minus this.
     */
    @Benchmark
    public long bufferLayer() {
        VulkanBuffer b = layerBlock.createBuffer(0, size, BenchVulkan.USAGE, memorySize, true);
        long handle = b.buffer();
        b.close();
        return handle;
    }

    @Benchmark
    public long vma() {
        BenchVulkan.vmaCreate(vmaHandle, size, vmaOut);
        BenchVulkan.vmaDestroy(vmaHandle, vmaOut[0], vmaOut[1]);
        return vmaOut[0];
    }

    @Benchmark
    public long dedicated() {
        try (MemoryStack stack = stackPush()) {
            long memory = allocateMemory(stack, memorySize);
            long buffer = createBuffer(stack);
            BenchVulkan.check(vkBindBufferMemory(device, buffer, memory, 0), "vkBindBufferMemory");
            vkDestroyBuffer(device, buffer, null);
            vkFreeMemory(device, memory, null);
            return buffer;
        }
    }

    @Benchmark
    public long nullAllocator() {
        return nullIn(nullMemory);
    }

    @Benchmark
    public long nullAllocatorLoaded() {
        return nullIn(loadedMemory);
    }

    @Benchmark
    public long nullAllocatorLarge() {
        return nullIn(largeMemory);
    }

    private long nullIn(long memory) {
        try (MemoryStack stack = stackPush()) {
            long buffer = createBuffer(stack);
            int slot = nullNext++ & (NULL_SLOTS - 1);
            BenchVulkan.check(vkBindBufferMemory(device, buffer, memory, nullOffsets[slot]), "vkBindBufferMemory");
            vkDestroyBuffer(device, buffer, null);
            return buffer;
        }
    }
}
