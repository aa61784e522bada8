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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.github.solvk.memory.vulkan.VulkanContext;

/**
 * A diagnostic for {@link FullPathBenchmark}: on the NVIDIA host a pool's work costs more between the driver's calls
 * than alone ({@code poolSubRangeBesideNull} against {@code poolSubRange} plus {@code nullAllocator}). This asks which
 * kind of Java work the driver's {@code vkCreateBuffer} + {@code vkBindBufferMemory} + {@code vkDestroyBuffer} (N, as
 * in {@code FullPathBenchmark.nullAllocator}) slows: new objects (a pooled buffer's two, 64 and 40 bytes), reads of
 * {@value #LINES} cache lines scattered as a pool's objects are, or writes to them. Each kind runs alone and beside N;
 * what "beside" costs over the sum of the two is the interference. No pool is involved.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class DriverInterferenceBenchmark {

    /** Lines read or written per operation, about what a pooled buffer's alloc+free touches. */
    static final int LINES = 24;
    /** Longs between two of those lines: 4 KiB and a line apart, so they fall in different sets, as heap objects do. */
    private static final int STRIDE = (4096 + 64) / 8;
    private static final int SLOTS = 64;
    private static final long SIZE = 256;

    private VulkanContext context;
    private VkDevice device;
    private long memory;
    private final long[] offsets = new long[SLOTS];
    private int next;
    private final long[] lines = new long[LINES * STRIDE + 8];
    /** Where the new objects go, so that they escape. */
    private Object first;
    private Object second;

    @Setup(Level.Trial)
    public void setUp() {
        context = VulkanContext.builder().validation(false).applicationName("DriverInterferenceBenchmark").build();
        device = context.device();
        try (MemoryStack stack = stackPush()) {
            long buffer = createBuffer(stack);
            VkMemoryRequirements r = VkMemoryRequirements.malloc(stack);
            vkGetBufferMemoryRequirements(device, buffer, r);
            vkDestroyBuffer(device, buffer, null);
            long stride = (r.size() + r.alignment() - 1) / r.alignment() * r.alignment();
            for (int i = 0; i < SLOTS; i++) {
                offsets[i] = i * stride;
            }
            var pMemory = stack.mallocLong(1);
            BenchVulkan.check(vkAllocateMemory(device, VkMemoryAllocateInfo.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO).allocationSize(stride * SLOTS)
                    .memoryTypeIndex(BenchVulkan.memoryType(context, r.memoryTypeBits())), null, pMemory),
                    "vkAllocateMemory");
            memory = pMemory.get(0);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        vkFreeMemory(device, memory, null);
        context.close();
    }

    private long createBuffer(MemoryStack stack) {
        var pBuffer = stack.mallocLong(1);
        BenchVulkan.check(vkCreateBuffer(device, VkBufferCreateInfo.calloc(stack)
                .sType(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO).size(SIZE).usage(BenchVulkan.USAGE)
                .sharingMode(VK_SHARING_MODE_EXCLUSIVE), null, pBuffer), "vkCreateBuffer");
        return pBuffer.get(0);
    }

    @Benchmark
    public long nullAlone() {
        try (MemoryStack stack = stackPush()) {
            long buffer = createBuffer(stack);
            BenchVulkan.check(vkBindBufferMemory(device, buffer, memory, offsets[next++ & (SLOTS - 1)]),
                    "vkBindBufferMemory");
            vkDestroyBuffer(device, buffer, null);
            return buffer;
        }
    }

    @Benchmark
    public long garbageAlone() {
        first = new long[6];
        second = new long[3];
        return 0;
    }

    @Benchmark
    public long readsAlone() {
        long sum = 0;
        for (int i = 0; i < LINES; i++) {
            sum += lines[i * STRIDE];
        }
        return sum;
    }

    @Benchmark
    public long writesAlone() {
        for (int i = 0; i < LINES; i++) {
            lines[i * STRIDE]++;
        }
        return 0;
    }

    @Benchmark
    public long nullBesideGarbage() {
        return garbageAlone() ^ nullAlone();
    }

    @Benchmark
    public long nullBesideReads() {
        return readsAlone() ^ nullAlone();
    }

    @Benchmark
    public long nullBesideWrites() {
        return writesAlone() ^ nullAlone();
    }
}
