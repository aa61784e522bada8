package io.github.solvk.memory.bench;

import java.util.SplittableRandom;

/**
 * Precomputed workload sequences. Everything is drawn here from fixed seeds, before any measurement, so every
 * contender of a run sees the same numbers and the measured loops only read arrays.
 */
final class Workloads {

    /** The seed every workload starts from unless it is a parameter (W6 runs several). */
    static final long SEED = 0x5017_4B4D_2026_1121L;

    private Workloads() {
    }

    /** Size distributions of W2 (steady churn). */
    enum SizeDistribution {
        /** Every allocation is 256 B. */
        FIXED_256(256, 256, false),
        /** Log-uniform in [64 B, 64 KiB]: as many 64-128 B allocations as 32-64 KiB ones. */
        LOG_64_64K(64, 64 << 10, false),
        /** Log-uniform in [64 B, 64 KiB], each rounded up to a multiple of 256. */
        LOG_64_64K_ROUND256(64, 64 << 10, true);

        final int min;
        final int max;
        final boolean round256;

        SizeDistribution(int min, int max, boolean round256) {
            this.min = min;
            this.max = max;
            this.round256 = round256;
        }

        /**
         * @param n    how many
         * @param seed the seed
         * @return {@code n} sizes of this distribution
         */
        int[] sizes(int n, long seed) {
            int[] sizes = logUniform(n, min, max, seed);
            if (round256) {
                for (int i = 0; i < n; i++) {
                    sizes[i] = (sizes[i] + 255) & ~255;
                }
            }
            return sizes;
        }
    }

    /**
     * @param n    how many
     * @param min  smallest size, {@code >= 1}
     * @param max  largest size
     * @param seed the seed
     * @return sizes whose logarithm is uniform in {@code [ln min, ln max]}
     */
    static int[] logUniform(int n, int min, int max, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] sizes = new int[n];
        for (int i = 0; i < n; i++) {
            sizes[i] = logUniform(random, min, max);
        }
        return sizes;
    }

    /**
     * @param random the generator
     * @param min    smallest, {@code >= 1}
     * @param max    largest
     * @return one log-uniform draw in {@code [min, max]}
     */
    static int logUniform(SplittableRandom random, int min, int max) {
        double lnMin = Math.log(min);
        double lnMax = Math.log(max + 1.0);
        int size = (int) Math.exp(lnMin + random.nextDouble() * (lnMax - lnMin));
        return Math.max(min, Math.min(max, size));
    }

    /**
     * @param n     how many
     * @param min   smallest, inclusive
     * @param max   largest, inclusive
     * @param seed  the seed
     * @return uniform draws in {@code [min, max]}
     */
    static int[] uniform(int n, int min, int max, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] values = new int[n];
        for (int i = 0; i < n; i++) {
            values[i] = random.nextInt(min, max + 1);
        }
        return values;
    }

    /**
     * @param n    how many
     * @param seed the seed
     * @return a random permutation of {@code 0 .. n-1} (Fisher-Yates)
     */
    static int[] permutation(int n, long seed) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /**
     * @param value {@code >= 1}
     * @return the smallest power of two {@code >= value}
     */
    static long ceilPow2(long value) {
        return value <= 1 ? 1 : Long.highestOneBit(value - 1) << 1;
    }

    /**
     * Scales a 32-bit random number to {@code [0, bound)} with a multiply and a shift (Lemire), so that the measured
     * loops pick a random live index without a division.
     *
     * @param random32 a uniformly random int
     * @param bound    {@code > 0}
     * @return a value in {@code [0, bound)}
     */
    static int scale(int random32, int bound) {
        return (int) (((random32 & 0xFFFF_FFFFL) * bound) >>> 32);
    }
}
