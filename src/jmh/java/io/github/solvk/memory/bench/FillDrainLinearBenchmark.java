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
 * W1 for the contenders that allow one free order only: stack and VMA linear freeing backward, ring and VMA linear
 * (its ring mode) freeing forward, and the Java bump-pointer floor backward. Same sizes, region and score as
 * {@link FillDrainBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class FillDrainLinearBenchmark {

    /** Contender and free order, joined by the last underscore. */
    @Param({"STACK_BACKWARD", "VMA_LINEAR_BACKWARD", "JAVA_BUMP_BACKWARD", "RING_FORWARD", "VMA_LINEAR_FORWARD"})
    public String contenderOrder;

    /** Live allocations at the peak. */
    @Param({"1000", "100000"})
    public int count;

    private BenchAllocator allocator;
    private long[] handles;
    private int[] freeOrder;

    /** Makes the allocator and the free order. */
    @Setup
    public void setup() {
        int cut = contenderOrder.lastIndexOf('_');
        Contender contender = Contender.valueOf(contenderOrder.substring(0, cut));
        allocator = contender.create(FillDrainBenchmark.regionSize(count), FillDrainBenchmark.SIZE);
        handles = new long[count];
        freeOrder = FillDrainBenchmark.freeOrder(contenderOrder.substring(cut + 1), count);
    }

    /** Frees the native state. */
    @TearDown
    public void tearDown() {
        allocator.close();
    }

    /** @param bh consumes the handles */
    @Benchmark
    @OperationsPerInvocation(FillDrainBenchmark.PAIRS)
    public void fillDrain(Blackhole bh) {
        FillDrainBenchmark.fillDrain(allocator, handles, freeOrder, FillDrainBenchmark.PAIRS / count, bh);
    }
}
