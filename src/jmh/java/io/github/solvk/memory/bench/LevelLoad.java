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

import java.util.SplittableRandom;

import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferCreateInfo;
import org.lwjgl.vulkan.VkDevice;
import org.lwjgl.vulkan.VkMemoryAllocateInfo;
import org.lwjgl.vulkan.VkMemoryRequirements;

import io.github.solvk.memory.IBuffer;
import io.github.solvk.memory.BlockPoolBufferAllocator;
import io.github.solvk.memory.IBuffer;
import io.github.solvk.memory.IBufferAllocator;
import io.github.solvk.memory.MemoryManager;
import io.github.solvk.memory.MemoryUsage;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.vulkan.VulkanContext;

/**
 * PERFORMANCE.md workload W5, level load + streaming, and its device contenders.
 *
 * <p>Buffers are {@value #SMALL_PERCENT} % small (16 B-1 KiB, log-uniform) and the rest large (64 KiB-10 MiB,
 * log-uniform). The load allocates buffers until half the budget is live; then {@value #RANDOM_OPS} random operations
 * each either free a random live buffer or allocate a new one (a fair coin; an allocation that would take the live
 * bytes over the budget becomes a free). Everything is drawn up front from {@link Workloads#SEED}: buffer {@code id}
 * has size {@link #size(int)}; ids {@code 0 .. loadCount-1} are the load; op {@code i} allocates id {@code ops[i]} if
 * it is {@code >= 0}, else frees id {@code ~ops[i]}. Every contender replays the same ids.
 */
final class LevelLoad {

    static final int SMALL_MIN = 16;
    static final int SMALL_MAX = 1024;
    static final int LARGE_MIN = 64 << 10;
    static final int LARGE_MAX = 10 << 20;
    static final int SMALL_PERCENT = 90;
    /** Operations of the random phase: the {@code @OperationsPerInvocation} of {@link LevelLoadBenchmark}. */
    static final int RANDOM_OPS = 1024;

    private final long[] sizes;
    private final int loadCount;
    private final int[] ops;

    private LevelLoad(long[] sizes, int loadCount, int[] ops) {
        this.sizes = sizes;
        this.loadCount = loadCount;
        this.ops = ops;
    }

    /**
     * @param budgetBytes the budget; the load fills half of it
     * @return the workload
     */
    static LevelLoad create(long budgetBytes) {
        SplittableRandom random = new SplittableRandom(Workloads.SEED);
        long[] sizes = new long[1024];
        int count = 0;
        long liveBytes = 0;
        while (liveBytes < budgetBytes / 2) {
            sizes = grow(sizes, count);
            sizes[count] = draw(random);
            liveBytes += sizes[count++];
        }
        int loadCount = count;
        int[] live = new int[loadCount + RANDOM_OPS];
        for (int i = 0; i < loadCount; i++) {
            live[i] = i;
        }
        int liveCount = loadCount;
        int[] ops = new int[RANDOM_OPS];
        for (int i = 0; i < RANDOM_OPS; i++) {
            long size = draw(random);
            boolean allocate = random.nextBoolean() && liveBytes + size <= budgetBytes || liveCount == 0;
            if (allocate) {
                sizes = grow(sizes, count);
                sizes[count] = size;
                liveBytes += size;
                live[liveCount++] = count;
                ops[i] = count++;
            } else {
                int k = random.nextInt(liveCount);
                int id = live[k];
                live[k] = live[--liveCount];
                liveBytes -= sizes[id];
                ops[i] = ~id;
            }
        }
        long[] exact = new long[count];
        System.arraycopy(sizes, 0, exact, 0, count);
        return new LevelLoad(exact, loadCount, ops);
    }

    private static long[] grow(long[] a, int count) {
        if (count < a.length) {
            return a;
        }
        long[] b = new long[a.length * 2];
        System.arraycopy(a, 0, b, 0, count);
        return b;
    }

    private static long draw(SplittableRandom random) {
        return random.nextInt(100) < SMALL_PERCENT ? Workloads.logUniform(random, SMALL_MIN, SMALL_MAX)
                : Workloads.logUniform(random, LARGE_MIN, LARGE_MAX);
    }

    /** @return how many buffer ids the load and the random phase use together */
    int bufferCount() {
        return sizes.length;
    }

    /** @return buffers made by the load */
    int loadCount() {
        return loadCount;
    }

    /** @param id a buffer id @return its size in bytes */
    long size(int id) {
        return sizes[id];
    }

    /** @return the random phase: {@code id} to allocate, {@code ~id} to free */
    int[] ops() {
        return ops;
    }

    /** The W5 contenders. */
    enum Kind {
        /** Block pools through the facade: {@code manager.createBlockPoolAllocator(name, defaults)}. */
        BLOCK_POOL,
        /** {@code manager.allocateBuffer}: one {@code vmaCreateBuffer} per buffer. */
        VMA,
        /** {@code vkAllocateMemory} + {@code vkCreateBuffer} + bind per buffer. */
        DEDICATED,
        /** N: {@code vkCreateBuffer} + bind at a precomputed offset of one preallocated memory. */
        NULL
    }

    /** A contender: makes and frees buffers by id and tracks which are live. */
    abstract static class Player implements AutoCloseable {
        final LevelLoad load;
        final boolean[] live;

        Player(LevelLoad load) {
            this.load = load;
            this.live = new boolean[load.bufferCount()];
        }

        /**
         * @param kind    which contender
         * @param load    the workload
         * @param context a headless context (validation off for timings)
         * @return a fresh contender with nothing live
         */
        static Player create(Kind kind, LevelLoad load, VulkanContext context) {
            switch (kind) {
                case BLOCK_POOL:
                case VMA:
                    return new Facade(load, context, kind == Kind.BLOCK_POOL);
                default:
                    return new Raw(load, context, kind == Kind.NULL);
            }
        }

        abstract void allocate(int id);

        abstract void free(int id);

        /** @return {@code vkAllocateMemory} calls so far */
        abstract long deviceMemoryAllocations();

        /** @return bytes of device memory held now */
        abstract long committedBytes();

        /** @return a cross-check of {@link #committedBytes()} from another counter, or "" */
        String note() {
            return "";
        }

        /** Allocates the load's buffers. */
        final void load() {
            for (int id = 0; id < load.loadCount(); id++) {
                allocate(id);
                live[id] = true;
            }
        }

        /** Plays the random phase. */
        final void randomPhase() {
            for (int op : load.ops()) {
                if (op >= 0) {
                    allocate(op);
                    live[op] = true;
                } else {
                    free(~op);
                    live[~op] = false;
                }
            }
        }

        /** Frees whatever is live, then the contender's own memory. */
        @Override
        public abstract void close();

        /** Frees whatever is live. */
        final void freeAll() {
            for (int id = 0; id < live.length; id++) {
                if (live[id]) {
                    free(id);
                    live[id] = false;
                }
            }
        }
    }

    /** BLOCK_POOL and VMA: {@link IBuffer}s from a {@link MemoryManager}. */
    static final class Facade extends Player {
        private final MemoryManager manager;
        private final IBufferAllocator allocator;
        private final BlockPoolBufferAllocator pools;
        private final IBufferAllocator.AllocationInfo[] infos;
        private final IBuffer[] buffers;

        Facade(LevelLoad load, VulkanContext context, boolean blockPool) {
            super(load);
            manager = MemoryManager.create(context);
            pools = blockPool ? manager.createBlockPoolAllocator("level", BlockPoolAllocator.Config.defaults()) : null;
            allocator = blockPool ? pools : manager;
            infos = new IBufferAllocator.AllocationInfo[load.bufferCount()];
            for (int id = 0; id < infos.length; id++) {
                infos[id] = IBufferAllocator.AllocationInfo.builder().size(load.size(id))
                        .bufferUsage(BenchVulkan.USAGE).memoryUsage(MemoryUsage.DEVICE_ONLY).build();
            }
            buffers = new IBuffer[infos.length];
        }

        @Override
        void allocate(int id) {
            buffers[id] = allocator.allocateBuffer(infos[id]);
        }

        @Override
        void free(int id) {
            buffers[id].close();
            buffers[id] = null;
        }

        @Override
        long deviceMemoryAllocations() {
            return manager.allocator().deviceMemoryAllocationCount();
        }

        @Override
        long committedBytes() {
            return manager.statistics().total().blockBytes();
        }

        @Override
        String note() {
            return pools == null ? "" : "pools' own count: " + (pools.committedBytes() >> 20) + " MiB";
        }

        @Override
        public void close() {
            freeAll();
            manager.close();
        }
    }

    /**
     * DEDICATED and NULL: raw Vulkan calls, as in {@link FullPathBenchmark}. Memory type: the one the pools would
     * pick ({@link BenchVulkan#memoryType}) among the probe buffers' {@code memoryTypeBits}. NULL lays every id out
     * once, bump after bump, in one allocation (no reuse: it is the time floor, not a memory floor).
     */
    static final class Raw extends Player {
        private final VkDevice device;
        private final boolean nullAllocator;
        private final int memoryTypeIndex;
        private final long[] requirementSizes;
        private final long[] offsets;
        private final long[] buffers;
        private final long[] memories;
        private long nullMemory;
        private long nullBytes;
        private long allocations;
        private long committed;

        Raw(LevelLoad load, VulkanContext context, boolean nullAllocator) {
            super(load);
            this.device = context.device();
            this.nullAllocator = nullAllocator;
            int n = load.bufferCount();
            requirementSizes = new long[n];
            offsets = new long[n];
            buffers = new long[n];
            memories = new long[n];
            int typeBits = -1;
            long end = 0;
            try (MemoryStack stack = stackPush()) {
                VkMemoryRequirements r = VkMemoryRequirements.malloc(stack);
                for (int id = 0; id < n; id++) {
                    long buffer = createBuffer(load.size(id));
                    vkGetBufferMemoryRequirements(device, buffer, r);
                    vkDestroyBuffer(device, buffer, null);
                    typeBits &= r.memoryTypeBits();
                    requirementSizes[id] = r.size();
                    end = (end + r.alignment() - 1) / r.alignment() * r.alignment();
                    offsets[id] = end;
                    end += r.size();
                }
            }
            memoryTypeIndex = BenchVulkan.memoryType(context, typeBits);
            if (nullAllocator) {
                nullBytes = end;
                nullMemory = allocateMemory(end);
            }
        }

        private long createBuffer(long size) {
            try (MemoryStack stack = stackPush()) {
                var pBuffer = stack.mallocLong(1);
                BenchVulkan.check(vkCreateBuffer(device, VkBufferCreateInfo.calloc(stack)
                        .sType(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO).size(size).usage(BenchVulkan.USAGE)
                        .sharingMode(VK_SHARING_MODE_EXCLUSIVE), null, pBuffer), "vkCreateBuffer");
                return pBuffer.get(0);
            }
        }

        private long allocateMemory(long bytes) {
            try (MemoryStack stack = stackPush()) {
                var pMemory = stack.mallocLong(1);
                BenchVulkan.check(vkAllocateMemory(device, VkMemoryAllocateInfo.calloc(stack)
                        .sType(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO).allocationSize(bytes)
                        .memoryTypeIndex(memoryTypeIndex), null, pMemory), "vkAllocateMemory");
                allocations++;
                committed += bytes;
                return pMemory.get(0);
            }
        }

        @Override
        void allocate(int id) {
            long buffer = createBuffer(load.size(id));
            if (nullAllocator) {
                BenchVulkan.check(vkBindBufferMemory(device, buffer, nullMemory, offsets[id]), "vkBindBufferMemory");
            } else {
                long memory = allocateMemory(requirementSizes[id]);
                BenchVulkan.check(vkBindBufferMemory(device, buffer, memory, 0), "vkBindBufferMemory");
                memories[id] = memory;
            }
            buffers[id] = buffer;
        }

        @Override
        void free(int id) {
            vkDestroyBuffer(device, buffers[id], null);
            buffers[id] = 0;
            if (!nullAllocator) {
                vkFreeMemory(device, memories[id], null);
                committed -= requirementSizes[id];
                memories[id] = 0;
            }
        }

        @Override
        long deviceMemoryAllocations() {
            return allocations;
        }

        @Override
        long committedBytes() {
            return committed;
        }

        @Override
        public void close() {
            freeAll();
            if (nullMemory != 0) {
                vkFreeMemory(device, nullMemory, null);
                committed -= nullBytes;
                nullMemory = 0;
            }
        }
    }
}
