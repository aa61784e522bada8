package io.github.solvk.memory.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.pool.PooledBuffer;
import io.github.solvk.memory.vulkan.MemoryProperties;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * PERFORMANCE.md workload W7, grow / free 80 % / grow, for {@link BlockPoolAllocator} (contender A) and
 * {@code vmaCreateBuffer} (C) in the same run, with the same sizes and the same order of frees.
 *
 * <p>Grows to {@code n} buffers of 1 KiB to 16 MiB (log-uniform), frees 80 % of them at random, grows back to
 * {@code n}. Prints, every tenth of each phase: live bytes, committed bytes, committed / peak live so far
 * (F_commit), memory objects, and for the pool the empty blocks it has given back. Run with
 * {@code java -cp ... io.github.solvk.memory.bench.GrowFreeGrow [n] [seed]}.
 */
public final class GrowFreeGrow {

    private static final long MIN_SIZE = 1024;
    private static final long MAX_SIZE = 16L << 20;
    private static final double MIB = 1 << 20;
    /** The second pool's block size, small enough that 80 % random frees empty some blocks. */
    private static final long SMALL_BLOCK = 32L << 20;

    /** One allocator under test. */
    private interface Contender {
        String name();

        Object allocate(long size);

        void free(Object buffer);

        long committedBytes();

        long memoryObjects();

        long blocksReturned();

        void close();
    }

    private GrowFreeGrow() {
    }

    /**
     * @param args {@code [n] [seed]}: buffers at the peak (default 400), random seed (default 42)
     */
    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 400;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 42;
        try (VulkanContext context = VulkanContext.builder().validation(false).applicationName("GrowFreeGrow")
                .build()) {
            System.out.printf(Locale.ROOT, "W7 grow/free 80%%/grow, n=%d, seed=%d, device %s, heap 0 %.0f MiB%n",
                    n, seed, context.deviceName(), context.memoryProperties().heaps().get(0).size() / MIB);
            System.out.println("contender  phase  step  liveMiB  peakLiveMiB  committedMiB  commit/peakLive  "
                    + "memoryObjects  blocksReturned");
            List<String> summary = new ArrayList<>();
            for (long blockSize : new long[] {0, SMALL_BLOCK}) {
                try (VulkanMemoryAllocator vma = VulkanMemoryAllocator.create(
                        VulkanMemoryAllocator.Settings.forContext(context))) {
                    summary.add(run(pool(vma, blockSize, context.memoryProperties().heaps().size()), n, seed));
                }
            }
            try (VulkanMemoryAllocator vma = VulkanMemoryAllocator.create(
                    VulkanMemoryAllocator.Settings.forContext(context))) {
                summary.add(run(vma(vma), n, seed));
            }
            summary.forEach(System.out::println);
        }
    }

    private static String run(Contender c, int n, long seed) {
        Random random = new Random(seed);
        double logMin = Math.log(MIN_SIZE);
        double logMax = Math.log(MAX_SIZE);
        List<Object> live = new ArrayList<>();
        List<Long> sizes = new ArrayList<>();
        long liveBytes = 0;
        long peakLive = 0;
        long peakCommitted = 0;
        long committedAtEnd;
        long returnedInRun;
        try {
            for (int phase = 0; phase < 3; phase++) {
                int steps = phase == 1 ? n * 8 / 10 : n - live.size();
                String name = phase == 0 ? "grow" : phase == 1 ? "free" : "regrow";
                if (phase == 1) {
                    // The same shuffle for every contender: the order comes from the seeded generator alone.
                    List<Integer> order = new ArrayList<>();
                    for (int i = 0; i < live.size(); i++) {
                        order.add(i);
                    }
                    Collections.shuffle(order, random);
                    List<Object> shuffled = new ArrayList<>();
                    List<Long> shuffledSizes = new ArrayList<>();
                    for (int i : order) {
                        shuffled.add(live.get(i));
                        shuffledSizes.add(sizes.get(i));
                    }
                    live = shuffled;
                    sizes = shuffledSizes;
                }
                for (int step = 1; step <= steps; step++) {
                    if (phase == 1) {
                        int last = live.size() - 1;
                        c.free(live.remove(last));
                        liveBytes -= sizes.remove(last);
                    } else {
                        long size = (long) Math.exp(logMin + random.nextDouble() * (logMax - logMin));
                        live.add(c.allocate(size));
                        sizes.add(size);
                        liveBytes += size;
                    }
                    peakLive = Math.max(peakLive, liveBytes);
                    if (step % Math.max(1, steps / 10) == 0 || step == steps) {
                        long committed = c.committedBytes();
                        peakCommitted = Math.max(peakCommitted, committed);
                        System.out.printf(Locale.ROOT, "%-10s %-6s %5d %8.1f %12.1f %13.1f %16.3f %14d %15d%n",
                                c.name(), name, step, liveBytes / MIB, peakLive / MIB, committed / MIB,
                                (double) committed / peakLive, c.memoryObjects(), c.blocksReturned());
                    }
                }
            }
            committedAtEnd = c.committedBytes();
            returnedInRun = c.blocksReturned();
        } finally {
            live.forEach(c::free);
            c.close();
        }
        return String.format(Locale.ROOT, "%s: peak live %.1f MiB, peak committed %.1f MiB, F_commit %.3f, "
                        + "committed at the end / peak live %.3f, empty blocks returned during the run %d",
                c.name(), peakLive / MIB, peakCommitted / MIB, (double) peakCommitted / peakLive,
                (double) committedAtEnd / peakLive, returnedInRun);
    }

    private static Contender pool(VulkanMemoryAllocator vma, long blockSize, int heaps) {
        BlockPoolAllocator.Config.Builder config = BlockPoolAllocator.Config.builder();
        for (int heap = 0; heap < heaps && blockSize > 0; heap++) {
            config.blockSize(heap, blockSize);
        }
        BlockPoolAllocator pool = new BlockPoolAllocator(vma, config.build());
        String name = blockSize > 0 ? "pool-" + (blockSize >> 20) + "M" : "pool";
        return new Contender() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Object allocate(long size) {
                return pool.allocate(BenchVulkan.request(size, BlockPoolAllocator.BufferMode.SUB_RANGE));
            }

            @Override
            public void free(Object buffer) {
                ((PooledBuffer) buffer).release();
            }

            @Override
            public long committedBytes() {
                return pool.committedBytes();
            }

            @Override
            public long memoryObjects() {
                return pool.deviceMemoryCount();
            }

            @Override
            public long blocksReturned() {
                return pool.statistics().stream().mapToLong(BlockPoolAllocator.TypeStatistics::blocksReturned).sum();
            }

            @Override
            public void close() {
                pool.close();
            }
        };
    }

    private static Contender vma(VulkanMemoryAllocator vma) {
        return new Contender() {
            @Override
            public String name() {
                return "vma";
            }

            @Override
            public Object allocate(long size) {
                return vma.createBuffer(new VulkanMemoryAllocator.BufferRequest(size, BenchVulkan.USAGE, null,
                        VulkanMemoryAllocator.USAGE_AUTO, 0, MemoryProperties.DEVICE_LOCAL, 0, 0, null));
            }

            @Override
            public void free(Object buffer) {
                ((VulkanBuffer) buffer).close();
            }

            @Override
            public long committedBytes() {
                return vma.statistics().total().blockBytes();
            }

            @Override
            public long memoryObjects() {
                return vma.statistics().total().blockCount();
            }

            @Override
            public long blocksReturned() {
                return -1;
            }

            @Override
            public void close() {
            }
        };
    }
}
