package io.github.solvk.memory.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

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

import io.github.solvk.memory.BlockPoolBufferAllocator;
import io.github.solvk.memory.HostAccess;
import io.github.solvk.memory.IBuffer;
import io.github.solvk.memory.IBufferAllocator;
import io.github.solvk.memory.IMemoryPool;
import io.github.solvk.memory.MemoryManager;
import io.github.solvk.memory.MemoryUsage;
import io.github.solvk.memory.pool.BlockMemoryPool;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.pool.BlockRequest;
import io.github.solvk.memory.pool.MemoryTypeFilter;
import io.github.solvk.memory.pool.PooledBuffer;
import io.github.solvk.memory.suballocator.SuballocatorKind;
import io.github.solvk.memory.vulkan.MemoryProperties;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * The user-visible cost of a pooled buffer: one {@link IBuffer} made and closed per operation, through the facade,
 * next to the layer below it (the same work without the {@code IBuffer} wrapper), so the facade's own share shows:
 * <ul>
 *   <li>{@code memoryPool}: {@link IMemoryPool#allocateBuffer(long)} + {@code close()} on a non-linear (TLSF) pool
 *       made by {@link MemoryManager#createNonLinearMemoryPool};</li>
 *   <li>{@code blockMemoryPool}: the same pool kind's {@link BlockMemoryPool#allocate} + release, no facade;</li>
 *   <li>{@code blockPoolAllocator}: {@link BlockPoolBufferAllocator#allocateBuffer} + {@code close()}, a
 *       {@code SUB_RANGE} request (the usage is within the block buffers' usage);</li>
 *   <li>{@code blockPoolAllocatorFourInfos}: {@code blockPoolAllocator} with four {@code AllocationInfo}s taken in
 *       turn ({@code size}, 2x, 4x and 8x it), as an engine that makes vertex, index and uniform buffers does;</li>
 *   <li>{@code blockPoolAllocatorManyInfos}: {@value #MANY} infos of sizes from {@code size} to 2x it taken in turn,
 *       more than the facade remembers, so each call works its request out again (W8's {@code FACADE} case);</li>
 *   <li>{@code blockPoolAllocatorInfoPerCall}: an info built for every call with {@code AllocationInfo.builder()},
 *       the way most code asks for a buffer;</li>
 *   <li>{@code poolSubRange}: {@link BlockPoolAllocator#allocate} + release in {@code SUB_RANGE} mode (as
 *       {@link FullPathBenchmark#poolSubRange}), no facade.</li>
 * </ul>
 * Each holds {@value FullPathBenchmark#BACKGROUND} live buffers of the same size throughout. Leak detection is at its
 * default level ({@code -Dsolvk.leakDetection=...} changes it), so the figures are what an application pays. Run with
 * {@code -prof gc}: {@code gc.alloc.rate.norm} is the garbage per buffer.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class FacadeBenchmark {

    private static final long BLOCK_SIZE = 64L << 20;

    @Param({"256", "65536"})
    public long size;

    private VulkanContext context;
    private MemoryManager manager;
    private IMemoryPool memoryPool;
    private BlockPoolBufferAllocator blockAllocator;
    private IBufferAllocator.AllocationInfo blockInfo;
    private final IBufferAllocator.AllocationInfo[] fourInfos = new IBufferAllocator.AllocationInfo[4];
    private int nextInfo;
    /** Infos in {@link #manyInfos}. */
    static final int MANY = 1024;
    private final IBufferAllocator.AllocationInfo[] manyInfos = new IBufferAllocator.AllocationInfo[MANY];
    private BlockMemoryPool blockMemoryPool;
    private VulkanMemoryAllocator vma;
    private BlockPoolAllocator subRangePool;
    private BlockRequest subRangeRequest;
    private VulkanMemoryAllocator.BufferRequest vmaRequest;
    private final List<IBuffer> background = new ArrayList<>();
    private final List<PooledBuffer> pooledBackground = new ArrayList<>();

    @Setup(Level.Trial)
    public void setUp() {
        context = VulkanContext.builder().validation(false).applicationName("FacadeBenchmark").build();
        manager = MemoryManager.create(context);
        memoryPool = manager.createNonLinearMemoryPool("bench",
                IMemoryPool.CreateInfo.of(BenchVulkan.USAGE, MemoryUsage.DEVICE_ONLY, BLOCK_SIZE).withBlocks(1, 64));
        blockAllocator = manager.createBlockPoolAllocator("bench", BlockPoolAllocator.Config.defaults());
        blockInfo = IBufferAllocator.AllocationInfo.builder().size(size).bufferUsage(BenchVulkan.USAGE)
                .memoryUsage(MemoryUsage.DEVICE_ONLY).build();
        for (int i = 0; i < fourInfos.length; i++) {
            fourInfos[i] = IBufferAllocator.AllocationInfo.builder().size(size << i).bufferUsage(BenchVulkan.USAGE)
                    .memoryUsage(MemoryUsage.DEVICE_ONLY).build();
        }
        for (int i = 0; i < MANY; i++) {
            manyInfos[i] = IBufferAllocator.AllocationInfo.builder().size(size + size * i / MANY)
                    .bufferUsage(BenchVulkan.USAGE).memoryUsage(MemoryUsage.DEVICE_ONLY).build();
        }
        vma = manager.allocator();
        blockMemoryPool = new BlockMemoryPool(vma, new BlockMemoryPool.Config("bench-raw",
                BlockMemoryPool.Kind.NON_LINEAR, BenchVulkan.USAGE,
                MemoryTypeFilter.of(MemoryUsage.DEVICE_ONLY, HostAccess.NONE, 0, 0),
                BLOCK_SIZE, 1, 64, SuballocatorKind.TLSF, 0, 0));
        subRangePool = new BlockPoolAllocator(vma, BlockPoolAllocator.Config.defaults());
        subRangeRequest = BenchVulkan.request(size, BlockPoolAllocator.BufferMode.SUB_RANGE);
        vmaRequest = new VulkanMemoryAllocator.BufferRequest(size, BenchVulkan.USAGE, null,
                VulkanMemoryAllocator.USAGE_AUTO, 0, MemoryProperties.DEVICE_LOCAL, 0, 0, null);
        for (int i = 0; i < FullPathBenchmark.BACKGROUND; i++) {
            background.add(memoryPool.allocateBuffer(size));
            background.add(blockAllocator.allocateBuffer(blockInfo));
            pooledBackground.add(blockMemoryPool.allocate(size, 0, 0, 0));
            pooledBackground.add(subRangePool.allocate(subRangeRequest));
            // managerBuffer's and vmaBuffer's own: VMA's buffers, as FullPathBenchmark.vma holds them, so that VMA
            // does not work on blocks that hold none of its buffers while every pool holds 1024.
            background.add(manager.allocateBuffer(blockInfo));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        background.forEach(IBuffer::close);
        pooledBackground.forEach(PooledBuffer::release);
        blockMemoryPool.close();
        subRangePool.close();
        manager.close();
        context.close();
    }

    @Benchmark
    public long memoryPool() {
        IBuffer b = memoryPool.allocateBuffer(size);
        long offset = b.offset();
        b.close();
        return offset;
    }

    @Benchmark
    public long blockMemoryPool() {
        PooledBuffer b = blockMemoryPool.allocate(size, 0, 0, 0);
        long offset = b.buffer().offset();
        b.release();
        return offset;
    }

    @Benchmark
    public long blockPoolAllocator() {
        IBuffer b = blockAllocator.allocateBuffer(blockInfo);
        long offset = b.offset();
        b.close();
        return offset;
    }

    @Benchmark
    public long blockPoolAllocatorFourInfos() {
        IBuffer b = blockAllocator.allocateBuffer(fourInfos[nextInfo++ & 3]);
        long offset = b.offset();
        b.close();
        return offset;
    }

    @Benchmark
    public long blockPoolAllocatorManyInfos() {
        IBuffer b = blockAllocator.allocateBuffer(manyInfos[nextInfo++ & (MANY - 1)]);
        long offset = b.offset();
        b.close();
        return offset;
    }

    @Benchmark
    public long blockPoolAllocatorInfoPerCall() {
        IBuffer b = blockAllocator.allocateBuffer(IBufferAllocator.AllocationInfo.builder().size(size)
                .bufferUsage(BenchVulkan.USAGE).memoryUsage(MemoryUsage.DEVICE_ONLY).build());
        long offset = b.offset();
        b.close();
        return offset;
    }

    /** {@link MemoryManager#allocateBuffer}: a buffer of its own from VMA, through the manager's facade. */

    @Benchmark
    public long managerBuffer() {
        IBuffer b = manager.allocateBuffer(blockInfo);
        long handle = b.buffer();
        b.close();
        return handle;
    }

    /** What {@link #managerBuffer} calls underneath: {@code vmaCreateBuffer} and {@code vmaDestroyBuffer}. */
    @Benchmark
    public long vmaBuffer() {
        VulkanBuffer b = vma.createBuffer(vmaRequest);
        long handle = b.buffer();
        b.close();
        return handle;
    }

    @Benchmark
    public long poolSubRange() {
        PooledBuffer b = subRangePool.allocate(subRangeRequest);
        long offset = b.buffer().offset();
        b.release();
        return offset;
    }
}
