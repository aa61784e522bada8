package io.github.solvk.memory.bench;

/**
 * PERFORMANCE.md workload W4, the frame ring: {@value #FRAMES_IN_FLIGHT} frames in flight, {@value #CHUNKS} chunks of
 * 64-4096 B (log-uniform) per frame at alignment {@value #ALIGNMENT}; the chunks of frame N are freed, in allocation
 * order, when frame N + {@value #FRAMES_IN_FLIGHT} starts.
 *
 * <p>The sizes of {@value #FRAME_SET} frames are drawn once from {@link Workloads#SEED} and replayed in a cycle, so every
 * contender sees the same sequence. A contender is a {@link Player}: the suballocator contenders free a retiring frame
 * chunk by chunk (RING, VMA LINEAR used as a ring buffer, VMA TLSF); STACK keeps one stack per frame slot and resets it
 * when its frame retires. {@link #footprint} finds the smallest region, in {@value #STEP} byte steps, in which a
 * contender never fails over {@value #SIZING_FRAMES} frames: the committed bytes it needs.
 */
final class FrameRing {

    static final int FRAMES_IN_FLIGHT = 3;
    /** Chunks per frame: the {@code @OperationsPerInvocation} of the frame benchmarks. */
    static final int CHUNKS = 2000;
    static final int MIN_SIZE = 64;
    static final int MAX_SIZE = 4096;
    static final long ALIGNMENT = 256;
    /** Frames of precomputed sizes, replayed in a cycle. */
    static final int FRAME_SET = 16;
    /** Frames the sizing pass plays: several cycles, so the ring's head passes the region's end many times. */
    static final int SIZING_FRAMES = 8 * FRAME_SET;
    /** Region size step of the sizing pass. */
    static final long STEP = 64 << 10;
    /** The contenders, as {@link Contender} names. */
    static final Contender[] CONTENDERS = {Contender.RING, Contender.STACK, Contender.VMA_LINEAR, Contender.VMA_TLSF};

    private FrameRing() {
    }

    /** @return {@value #FRAME_SET} x {@value #CHUNKS} sizes, frame after frame */
    static int[] sizes() {
        return Workloads.logUniform(FRAME_SET * CHUNKS, MIN_SIZE, MAX_SIZE, Workloads.SEED);
    }

    /** One contender replaying frames; {@link #frame} returns false at the first failed allocation. */
    static final class Player implements AutoCloseable {
        private final Contender contender;
        private final BenchAllocator[] allocators;
        private final long[][] handles = new long[FRAMES_IN_FLIGHT][CHUNKS];
        private final int[] sizes;
        private int frame;

        /**
         * @param contender  RING, STACK, VMA_LINEAR or VMA_TLSF
         * @param regionSize bytes in all; STACK splits it into {@value #FRAMES_IN_FLIGHT} stacks
         * @param sizes      from {@link #sizes()}
         */
        Player(Contender contender, long regionSize, int[] sizes) {
            this.contender = contender;
            this.sizes = sizes;
            if (contender == Contender.STACK) {
                allocators = new BenchAllocator[FRAMES_IN_FLIGHT];
                long each = regionSize / FRAMES_IN_FLIGHT / ALIGNMENT * ALIGNMENT;
                for (int i = 0; i < FRAMES_IN_FLIGHT; i++) {
                    allocators[i] = Contender.STACK.create(each, 0);
                }
            } else if (contender == Contender.RING || contender.isVma()) {
                allocators = new BenchAllocator[] {contender.create(regionSize, 0)};
            } else {
                throw new IllegalArgumentException("contender: " + contender
                        + " (expected: RING, STACK, VMA_LINEAR or VMA_TLSF)");
            }
        }

        /**
         * Retires the frame that started {@value #FRAMES_IN_FLIGHT} frames ago and allocates this frame's chunks.
         *
         * @return false if an allocation failed (the frame is then left half made)
         */
        boolean frame() {
            int slot = frame % FRAMES_IN_FLIGHT;
            int base = (frame % FRAME_SET) * CHUNKS;
            long[] mine = handles[slot];
            BenchAllocator a;
            if (contender == Contender.STACK) {
                a = allocators[slot];
                // The first FRAMES_IN_FLIGHT frames find an empty stack; reset is then a no-op.
                a.reset();
            } else {
                a = allocators[0];
                if (frame >= FRAMES_IN_FLIGHT) {
                    for (int i = 0; i < CHUNKS; i++) {
                        a.free(mine[i]);
                    }
                }
            }
            frame++;
            for (int i = 0; i < CHUNKS; i++) {
                long h = a.allocate(sizes[base + i], ALIGNMENT);
                if (h == 0) {
                    frame = Integer.MIN_VALUE;
                    return false;
                }
                mine[i] = h;
            }
            return true;
        }

        @Override
        public void close() {
            for (BenchAllocator a : allocators) {
                a.close();
            }
        }
    }

    /**
     * @param contender one of {@link #CONTENDERS}
     * @param sizes     from {@link #sizes()}
     * @return the smallest region, a multiple of {@value #STEP}, in which it plays {@value #SIZING_FRAMES} frames
     *         without a failure
     */
    static long footprint(Contender contender, int[] sizes) {
        long region = (peakLiveBytes(sizes) + STEP - 1) / STEP * STEP;
        while (!fits(contender, region, sizes)) {
            region += STEP;
        }
        return region;
    }

    private static boolean fits(Contender contender, long region, int[] sizes) {
        try (Player p = new Player(contender, region, sizes)) {
            for (int f = 0; f < SIZING_FRAMES; f++) {
                if (!p.frame()) {
                    return false;
                }
            }
            return true;
        }
    }

    /** @return the most bytes, rounded to the alignment, that {@value #FRAMES_IN_FLIGHT} consecutive frames hold */
    static long peakLiveBytes(int[] sizes) {
        long[] frameBytes = new long[FRAME_SET];
        for (int i = 0; i < sizes.length; i++) {
            frameBytes[i / CHUNKS] += (sizes[i] + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        }
        long peak = 0;
        for (int f = 0; f < FRAME_SET; f++) {
            long live = 0;
            for (int k = 0; k < FRAMES_IN_FLIGHT; k++) {
                live += frameBytes[(f + k) % FRAME_SET];
            }
            peak = Math.max(peak, live);
        }
        return peak;
    }

    /** @return the most bytes, rounded to the alignment, that one frame holds (a STACK slot's floor) */
    static long peakFrameBytes(int[] sizes) {
        long[] frameBytes = new long[FRAME_SET];
        long peak = 0;
        for (int i = 0; i < sizes.length; i++) {
            frameBytes[i / CHUNKS] += (sizes[i] + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
            peak = Math.max(peak, frameBytes[i / CHUNKS]);
        }
        return peak;
    }
}
