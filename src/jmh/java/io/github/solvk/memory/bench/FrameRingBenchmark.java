package io.github.solvk.memory.bench;

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

/**
 * PERFORMANCE.md workload W4 on the suballocators (no device): one invocation is one frame of {@link FrameRing}: free
 * the frame that retires, allocate {@value FrameRing#CHUNKS} chunks. Score: ns per allocation, the frees included.
 *
 * <p>Contenders: our RING, our STACK (one per frame slot, reset when its frame retires), VMA's virtual block with the
 * linear algorithm used as a ring buffer (frees in FIFO order) and with TLSF. The timed region is
 * {@code regionFactor} x the contender's footprint (so no contender works near its limit); the footprint itself, the
 * committed bytes it needs, is found in the setup and printed at the tear-down (also by {@link FrameRingFootprint}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class FrameRingBenchmark {

    @Param({"RING", "STACK", "VMA_LINEAR", "VMA_TLSF"})
    public String contender;

    /** Timed region = this x the footprint found by the sizing pass. */
    @Param({"2"})
    public int regionFactor;

    private long footprint;
    private long peakLive;
    private FrameRing.Player player;

    @Setup(Level.Trial)
    public void setUp() {
        Contender c = Contender.valueOf(contender);
        int[] sizes = FrameRing.sizes();
        footprint = FrameRing.footprint(c, sizes);
        peakLive = FrameRing.peakLiveBytes(sizes);
        player = new FrameRing.Player(c, footprint * regionFactor, sizes);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        player.close();
        System.out.printf("%n[W4 footprint] %s: committed %d KiB (smallest region that never fails, %d KiB steps), "
                + "peak live %d KiB, ratio %.3f%n", contender, footprint >> 10, FrameRing.STEP >> 10, peakLive >> 10,
                (double) footprint / peakLive);
    }

    @Benchmark
    @OperationsPerInvocation(FrameRing.CHUNKS)
    public boolean frame() {
        if (!player.frame()) {
            throw new IllegalStateException(contender + ": allocation failed in a region of "
                    + footprint * regionFactor + " bytes (expected: none)");
        }
        return true;
    }
}
