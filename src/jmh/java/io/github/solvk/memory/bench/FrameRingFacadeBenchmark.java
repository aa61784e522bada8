package io.github.solvk.memory.bench;

import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.github.solvk.memory.IBuffer;
import io.github.solvk.memory.IBufferAllocator;
import io.github.solvk.memory.IMemoryPool;
import io.github.solvk.memory.MemoryManager;
import io.github.solvk.memory.MemoryUsage;
import io.github.solvk.memory.vulkan.VulkanContext;

/**
 * PERFORMANCE.md workload W4 through the facade on the real device (validation off): the {@link FrameRing} frames as
 * {@link IBuffer}s, {@code close()}d in allocation order when their frame retires. Score: ns per chunk (allocate and,
 * amortised, free).
 * <ul>
 *   <li>{@code RING_POOL}: {@code manager.createRingBufferMemoryPool} (one UPLOAD block of {@code poolBlockSize}),
 *       {@code pool.allocateBuffer(IMemoryPool.AllocationInfo)} at alignment 256;</li>
 *   <li>{@code ALLOCATE_BUFFER}: {@code manager.allocateBuffer(AllocationInfo)} with {@code MemoryUsage.UPLOAD}, one
 *       {@code vmaCreateBuffer} per chunk.</li>
 * </ul>
 * The requests are built in the setup, so neither contender pays for building them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class FrameRingFacadeBenchmark {

    static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT;

    /** The facade path under test. */
    public enum Path {
        RING_POOL, ALLOCATE_BUFFER
    }

    @Param({"RING_POOL", "ALLOCATE_BUFFER"})
    public Path path;

    /** The ring pool's one block; several times W4's footprint (about 7 MiB). */
    @Param({"33554432"})
    public long poolBlockSize;

    private VulkanContext context;
    private MemoryManager manager;
    private IMemoryPool pool;
    private IMemoryPool.AllocationInfo[] poolRequests;
    private IBufferAllocator.AllocationInfo[] managerRequests;
    private final IBuffer[][] frames = new IBuffer[FrameRing.FRAMES_IN_FLIGHT][FrameRing.CHUNKS];
    private int frame;

    @Setup(Level.Trial)
    public void setUp() {
        context = VulkanContext.builder().validation(false).applicationName("FrameRingFacadeBenchmark").build();
        manager = MemoryManager.create(context);
        int[] sizes = FrameRing.sizes();
        if (path == Path.RING_POOL) {
            pool = manager.createRingBufferMemoryPool("frames",
                    IMemoryPool.CreateInfo.of(USAGE, MemoryUsage.UPLOAD, poolBlockSize));
            poolRequests = new IMemoryPool.AllocationInfo[sizes.length];
            for (int i = 0; i < sizes.length; i++) {
                poolRequests[i] = new IMemoryPool.AllocationInfo(sizes[i], 0, FrameRing.ALIGNMENT);
            }
        } else {
            managerRequests = new IBufferAllocator.AllocationInfo[sizes.length];
            for (int i = 0; i < sizes.length; i++) {
                managerRequests[i] = IBufferAllocator.AllocationInfo.builder().size(sizes[i]).bufferUsage(USAGE)
                        .memoryUsage(MemoryUsage.UPLOAD).alignment(FrameRing.ALIGNMENT).build();
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (IBuffer[] f : frames) {
            for (IBuffer b : f) {
                if (b != null) {
                    b.close();
                }
            }
        }
        System.out.printf("%n[W4 facade] %s: %d vkAllocateMemory calls, %d KiB committed at the end%n", path,
                manager.allocator().deviceMemoryAllocationCount(), manager.statistics().total().blockBytes() >> 10);
        manager.close();
        context.close();
    }

    @Benchmark
    @OperationsPerInvocation(FrameRing.CHUNKS)
    public IBuffer frame() {
        IBuffer[] mine = frames[frame % FrameRing.FRAMES_IN_FLIGHT];
        int base = (frame % FrameRing.FRAME_SET) * FrameRing.CHUNKS;
        frame++;
        if (mine[0] != null) {
            for (int i = 0; i < FrameRing.CHUNKS; i++) {
                mine[i].close();
            }
        }
        IBuffer last = null;
        for (int i = 0; i < FrameRing.CHUNKS; i++) {
            last = path == Path.RING_POOL ? pool.allocateBuffer(poolRequests[base + i])
                    : manager.allocateBuffer(managerRequests[base + i]);
            mine[i] = last;
        }
        return last;
    }
}
