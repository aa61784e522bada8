package io.github.solvk.memory.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * W2, steady churn: {@value #SLOTS} live slots; each operation picks a random slot, frees it and allocates again
 * with the next size. One alloc+free pair per invocation, so {@link #pair} (AverageTime) gives the mean and
 * {@link #pairSampled} (SampleTime) the percentiles, p99.9 among them.
 *
 * <p>The sequences ({@value #SEQUENCE} slots and sizes, cycled) are drawn in {@code @Setup} from fixed seeds. The
 * allocator lives for the whole trial, so warmup and measurement together run tens of millions of operations: these
 * are steady-state figures, after the drift that {@link ChurnDrift} shows window by window. The region is
 * {@value #REGION_MIB} MiB for everybody, room enough for VMA's address span (12x live, PERFORMANCE.md); a failed
 * allocation leaves its slot empty and is counted and reported at the end of the trial.
 */
@State(Scope.Thread)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class ChurnBenchmark {

    static final int SLOTS = 8192;
    static final int SEQUENCE = 1 << 20;
    static final long REGION_MIB = 4096;

    /** Who runs. */
    @Param({"TLSF", "BUDDY", "VMA_TLSF", "VMA_MIN_TIME", "VMA_MIN_MEMORY"})
    public String contender;

    /** A {@link Workloads.SizeDistribution}. */
    @Param({"FIXED_256", "LOG_64_64K", "LOG_64_64K_ROUND256"})
    public String sizes;

    /** Alignment of every allocation. */
    @Param({"1", "256"})
    public long alignment;

    private BenchAllocator allocator;
    private long[] handles;
    private int[] slotSequence;
    private int[] sizeSequence;
    private int next;
    private long failures;

    /** Makes the allocator, fills every slot and draws the sequences. */
    @Setup
    public void setup() {
        Workloads.SizeDistribution distribution = Workloads.SizeDistribution.valueOf(sizes);
        allocator = Contender.valueOf(contender).create(REGION_MIB << 20, 256);
        int[] initial = distribution.sizes(SLOTS, Workloads.SEED);
        handles = new long[SLOTS];
        for (int i = 0; i < SLOTS; i++) {
            handles[i] = allocator.allocate(initial[i], alignment);
            if (handles[i] == 0) {
                throw new IllegalStateException(contender + ": initial allocation " + i + " failed");
            }
        }
        slotSequence = Workloads.uniform(SEQUENCE, 0, SLOTS - 1, Workloads.SEED + 1);
        sizeSequence = distribution.sizes(SEQUENCE, Workloads.SEED + 2);
    }

    /** Reports failures and frees the native state. */
    @TearDown
    public void tearDown() {
        if (failures != 0) {
            System.err.println("WARNING " + contender + " " + sizes + " alignment " + alignment + ": " + failures
                    + " failed allocations in the churn");
        }
        allocator.close();
    }

    /** @return the new handle */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    public long pair() {
        return churn();
    }

    /** @return the new handle */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public long pairSampled() {
        return churn();
    }

    private long churn() {
        int i = next++ & (SEQUENCE - 1);
        int slot = slotSequence[i];
        BenchAllocator a = allocator;
        long old = handles[slot];
        if (old != 0) {
            a.free(old);
        }
        long handle = a.allocate(sizeSequence[i], alignment);
        if (handle == 0) {
            failures++;
        }
        handles[slot] = handle;
        return handle;
    }
}
