package io.github.solvk.memory.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * W1, fill then drain: {@code count} allocations of 256 B (alignment 1), then free them all forward, backward or in a
 * random order. The score is ns per alloc+free pair: an invocation always makes {@value #PAIRS} pairs ({@code count}
 * 1000 runs 100 rounds), so one {@code @OperationsPerInvocation} serves both counts. Target: TLSF &lt;= 30 ns and
 * &lt;= 0.5x VMA.
 *
 * <p>The region is the next power of two of twice the live bytes, the same for every contender.
 * {@link FillDrainLinearBenchmark} runs the contenders that only allow one order.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class FillDrainBenchmark {

    /** Pairs per invocation, whatever the count. */
    static final int PAIRS = 100_000;
    static final int SIZE = 256;

    /** Who runs. */
    @Param({"TLSF", "BUDDY", "POOL", "VMA_TLSF", "VMA_MIN_TIME", "VMA_MIN_MEMORY"})
    public String contender;

    /** Live allocations at the peak. */
    @Param({"1000", "100000"})
    public int count;

    /** The order of the frees. */
    @Param({"FORWARD", "BACKWARD", "RANDOM"})
    public String order;

    private BenchAllocator allocator;
    private long[] handles;
    private int[] freeOrder;

    /** Makes the allocator and the free order. */
    @Setup
    public void setup() {
        if (PAIRS % count != 0) {
            throw new IllegalArgumentException("count: " + count + " (expected: a divisor of " + PAIRS + ")");
        }
        allocator = Contender.valueOf(contender).create(regionSize(count), SIZE);
        handles = new long[count];
        freeOrder = freeOrder(order, count);
    }

    static long regionSize(int count) {
        return Workloads.ceilPow2(2L * count * SIZE);
    }

    static int[] freeOrder(String order, int count) {
        switch (order) {
            case "FORWARD": {
                int[] o = new int[count];
                for (int i = 0; i < count; i++) {
                    o[i] = i;
                }
                return o;
            }
            case "BACKWARD": {
                int[] o = new int[count];
                for (int i = 0; i < count; i++) {
                    o[i] = count - 1 - i;
                }
                return o;
            }
            case "RANDOM":
                return Workloads.permutation(count, Workloads.SEED);
            default:
                throw new IllegalArgumentException("order: " + order + " (expected: FORWARD, BACKWARD or RANDOM)");
        }
    }

    /** Frees the native state. */
    @TearDown
    public void tearDown() {
        allocator.close();
    }

    /** @param bh consumes the handles */
    @Benchmark
    @OperationsPerInvocation(PAIRS)
    public void fillDrain(Blackhole bh) {
        fillDrain(allocator, handles, freeOrder, PAIRS / count, bh);
    }

    static void fillDrain(BenchAllocator a, long[] handles, int[] freeOrder, int rounds, Blackhole bh) {
        int n = handles.length;
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < n; i++) {
                long handle = a.allocate(SIZE, 1);
                if (handle == 0) {
                    throw new IllegalStateException("allocation " + i + " of " + n + " failed");
                }
                handles[i] = handle;
            }
            bh.consume(handles[n - 1]);
            for (int i = 0; i < n; i++) {
                a.free(handles[freeOrder[i]]);
            }
        }
    }
}
