package io.github.solvk.memory.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * W6, fragmentation (not a timing): a fixed {@code --region-mib} (64 MiB) region, sizes log-uniform in
 * {@code [256 B, 1 MiB]}, alignment 256; each step allocates with probability {@code --alloc-percent} (70 %) and
 * otherwise frees a random live allocation, until the first failed allocation. Reported per contender over
 * {@code --seeds} seeds (20), mean / min / max:
 * <ul>
 *   <li><b>heap efficiency</b> = live bytes asked for / region size, at the first failure;</li>
 *   <li><b>largest / free</b> = the largest free range / free bytes as the allocator counts them, at the first
 *       failure (1 - F_ext of PERFORMANCE.md);</li>
 *   <li>the steps taken and the size that failed.</li>
 * </ul>
 * Every contender draws from the same seeds; the draws depend only on the live count, which is the same for all
 * until their first failure, so all walk the same sequence.
 *
 * <pre>
 * java -cp ... io.github.solvk.memory.bench.Fragmentation [--contenders TLSF,BUDDY,VMA_TLSF,VMA_MIN_MEMORY,VMA_MIN_TIME]
 *     [--seeds 20] [--region-mib 64] [--alloc-percent 70]
 * </pre>
 */
public final class Fragmentation {

    private static final int MIN_SIZE = 256;
    private static final int MAX_SIZE = 1 << 20;
    private static final long ALIGNMENT = 256;

    private Fragmentation() {
    }

    /**
     * @param args see the class documentation
     */
    public static void main(String[] args) {
        Map<String, String> options = ChurnDrift.parse(args);
        String[] contenders = options.getOrDefault("contenders", "TLSF,BUDDY,VMA_TLSF,VMA_MIN_MEMORY,VMA_MIN_TIME")
                .split(",");
        int seeds = Integer.parseInt(options.getOrDefault("seeds", "20"));
        long region = Long.parseLong(options.getOrDefault("region-mib", "64")) << 20;
        int allocPercent = Integer.parseInt(options.getOrDefault("alloc-percent", "70"));

        System.out.printf(Locale.ROOT, "W6 fragmentation: region %d MiB, sizes %d B-%d KiB log-uniform, alignment %d,"
                + " %d %% allocations, %d seeds; mean [min, max]%n", region >> 20, MIN_SIZE, MAX_SIZE >> 10, ALIGNMENT,
                allocPercent, seeds);
        System.out.printf(Locale.ROOT, "%-15s %-26s %-26s %-22s %s%n", "contender", "heap efficiency %",
                "largest/free %", "steps", "live allocations");
        for (String name : contenders) {
            Contender contender = Contender.valueOf(name);
            double[] efficiency = new double[seeds];
            double[] largestOverFree = new double[seeds];
            double[] steps = new double[seeds];
            double[] liveCounts = new double[seeds];
            try {
                for (int s = 0; s < seeds; s++) {
                    try (BenchAllocator a = contender.create(region, MIN_SIZE)) {
                        double[] r = untilFirstFailure(a, region, allocPercent, Workloads.SEED + s);
                        efficiency[s] = 100 * r[0];
                        largestOverFree[s] = 100 * r[1];
                        steps[s] = r[2];
                        liveCounts[s] = r[3];
                    }
                }
            } catch (RuntimeException e) {
                System.out.printf(Locale.ROOT, "%-15s failed: %s%n", name, e);
                continue;
            }
            System.out.printf(Locale.ROOT, "%-15s %-26s %-26s %-22s %s%n", name, stats(efficiency, "%.2f"),
                    stats(largestOverFree, "%.1f"), stats(steps, "%.0f"), stats(liveCounts, "%.0f"));
        }
    }

    /** @return {heap efficiency, largest free / free, steps, live count} at the first failure */
    private static double[] untilFirstFailure(BenchAllocator a, long region, int allocPercent, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<long[]> live = new ArrayList<>();
        long liveBytes = 0;
        for (long step = 1; ; step++) {
            if (live.isEmpty() || random.nextInt(100) < allocPercent) {
                int size = Workloads.logUniform(random, MIN_SIZE, MAX_SIZE);
                long handle = a.allocate(size, ALIGNMENT);
                if (handle == 0) {
                    long free = a.freeBytes();
                    return new double[] {liveBytes / (double) region,
                            free == 0 ? 1 : a.largestFreeRange() / (double) free, step, live.size()};
                }
                live.add(new long[] {handle, size});
                liveBytes += size;
            } else {
                int victim = random.nextInt(live.size());
                long[] freed = live.get(victim);
                a.free(freed[0]);
                liveBytes -= freed[1];
                live.set(victim, live.get(live.size() - 1));
                live.remove(live.size() - 1);
            }
        }
    }

    private static String stats(double[] values, String format) {
        double sum = 0;
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (double v : values) {
            sum += v;
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        return String.format(Locale.ROOT, format + " [" + format + ", " + format + "]", sum / values.length, min, max);
    }
}
