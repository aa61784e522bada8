package io.github.solvk.memory.bench;

/**
 * W4's committed bytes: for each frame ring contender, the smallest region ({@value FrameRing#STEP} byte steps) in
 * which it plays {@value FrameRing#SIZING_FRAMES} frames without a failure, next to the floors: the peak bytes of
 * {@value FrameRing#FRAMES_IN_FLIGHT} frames in flight, and {@value FrameRing#FRAMES_IN_FLIGHT} x the largest frame
 * (what per-frame stacks cannot go below). Prints a Markdown table. Run:
 * {@code java -cp ... io.github.solvk.memory.bench.FrameRingFootprint}.
 */
public final class FrameRingFootprint {

    private FrameRingFootprint() {
    }

    /** @param args unused */
    public static void main(String[] args) {
        int[] sizes = FrameRing.sizes();
        long live = FrameRing.peakLiveBytes(sizes);
        long stackFloor = FrameRing.FRAMES_IN_FLIGHT * FrameRing.peakFrameBytes(sizes);
        System.out.printf("W4 frame ring: %d frames in flight, %d chunks of %d-%d B per frame, alignment %d, "
                        + "%d frames played per size%n%n", FrameRing.FRAMES_IN_FLIGHT, FrameRing.CHUNKS,
                FrameRing.MIN_SIZE, FrameRing.MAX_SIZE, FrameRing.ALIGNMENT, FrameRing.SIZING_FRAMES);
        System.out.printf("peak live (3 frames, aligned): %d KiB; 3 x largest frame: %d KiB%n%n", live >> 10,
                stackFloor >> 10);
        System.out.println("| contender | committed (KiB) | committed / peak live |");
        System.out.println("|---|---:|---:|");
        for (Contender c : FrameRing.CONTENDERS) {
            long region = FrameRing.footprint(c, sizes);
            System.out.printf("| %s | %d | %.3f |%n", c, region >> 10, (double) region / live);
        }
    }
}
