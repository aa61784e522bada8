package io.github.solvk.memory.bench;

/**
 * A plain main that runs one hot-path pattern of the benchmarks for a given number of alloc+free pairs, for counting
 * instructions where timers are too noisy (a shared 2-core box). Run it twice under
 * {@code valgrind --tool=callgrind} with the same warmup and two pair counts; the difference of the two totals over
 * the difference of the pair counts is the steady-state instruction count per pair, JVM start and JIT excluded:
 * <pre>
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null java -cp ... \
 *       io.github.solvk.memory.bench.HotPathDriver TLSF floor 300000 1000000
 * </pre>
 * Patterns: {@code floor} ({@link FloorBenchmark}: 1024 live, one 256 B pair on top), {@code forward},
 * {@code backward}, {@code random} ({@link FillDrainBenchmark} with 1000 live), {@code churn}
 * ({@link ChurnBenchmark}, FIXED_256, alignment 1; {@code churn256}: alignment 256; {@code churnlog}: LOG_64_64K,
 * alignment 256).
 */
public final class HotPathDriver {

    private HotPathDriver() {
    }

    /**
     * @param args contender, pattern, warmup pairs, measured pairs
     */
    public static void main(String[] args) {
        Contender contender = Contender.valueOf(args[0]);
        String pattern = args[1];
        long warmup = Long.parseLong(args[2]);
        long measured = Long.parseLong(args[3]);
        long sink = run(contender, pattern, warmup, measured);
        System.out.println(contender + " " + pattern + " " + measured + " sink " + sink);
    }

    private static long run(Contender contender, String pattern, long warmup, long measured) {
        switch (pattern) {
            case "floor": {
                BenchAllocator a = contender.create(1 << 20, 256);
                for (int i = 0; i < 1024; i++) {
                    a.allocate(256, 1);
                }
                long sink = floor(a, warmup);
                return sink + floor(a, measured);
            }
            case "forward":
            case "backward":
            case "random": {
                int count = 1000;
                BenchAllocator a = contender.create(FillDrainBenchmark.regionSize(count), 256);
                long[] handles = new long[count];
                int[] order = FillDrainBenchmark.freeOrder(pattern.toUpperCase(java.util.Locale.ROOT), count);
                long sink = fill(a, handles, order, warmup / count);
                return sink + fill(a, handles, order, measured / count);
            }
            case "churn":
            case "churn256":
            case "churnlog": {
                Workloads.SizeDistribution d = pattern.equals("churnlog")
                        ? Workloads.SizeDistribution.LOG_64_64K : Workloads.SizeDistribution.FIXED_256;
                long alignment = pattern.equals("churn") ? 1 : 256;
                BenchAllocator a = contender.create(ChurnBenchmark.REGION_MIB << 20, 256);
                int slots = ChurnBenchmark.SLOTS;
                int[] initial = d.sizes(slots, Workloads.SEED);
                long[] handles = new long[slots];
                for (int i = 0; i < slots; i++) {
                    handles[i] = a.allocate(initial[i], alignment);
                }
                int n = 1 << 20;
                int[] slotSeq = Workloads.uniform(n, 0, slots - 1, Workloads.SEED + 1);
                int[] sizeSeq = d.sizes(n, Workloads.SEED + 2);
                long sink = churn(a, handles, slotSeq, sizeSeq, alignment, 0, warmup);
                return sink + churn(a, handles, slotSeq, sizeSeq, alignment, warmup, measured);
            }
            default:
                throw new IllegalArgumentException("pattern: " + pattern);
        }
    }

    private static long floor(BenchAllocator a, long pairs) {
        long sink = 0;
        for (long i = 0; i < pairs; i++) {
            long h = a.allocate(256, 1);
            a.free(h);
            sink += h;
        }
        return sink;
    }

    private static long fill(BenchAllocator a, long[] handles, int[] order, long rounds) {
        long sink = 0;
        int n = handles.length;
        for (long r = 0; r < rounds; r++) {
            for (int i = 0; i < n; i++) {
                handles[i] = a.allocate(256, 1);
            }
            sink += handles[n - 1];
            for (int i = 0; i < n; i++) {
                a.free(handles[order[i]]);
            }
        }
        return sink;
    }

    private static long churn(BenchAllocator a, long[] handles, int[] slotSeq, int[] sizeSeq, long alignment,
                              long from, long pairs) {
        long sink = 0;
        int mask = slotSeq.length - 1;
        for (long k = from; k < from + pairs; k++) {
            int i = (int) k & mask;
            int slot = slotSeq[i];
            long old = handles[slot];
            if (old != 0) {
                a.free(old);
            }
            long h = a.allocate(sizeSeq[i], alignment);
            handles[slot] = h;
            sink += h;
        }
        return sink;
    }
}
