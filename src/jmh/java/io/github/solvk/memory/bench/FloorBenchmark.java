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
 * Floors: one allocation of 256 B and its free, back to back, with 1024 allocations live below it. The plain Java bump
 * pointer and LIFO pool are the floors that PERFORMANCE.md quotes (0.6 ns, 1.2 ns); the targets are stack &lt;= 2 ns
 * and pool &lt;= 5 ns per pair. TLSF, buddy and VMA run the same pattern for scale.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class FloorBenchmark {

    private static final int SIZE = 256;
    private static final int LIVE = 1024;
    private static final long REGION = 1 << 20;

    /** Who runs. */
    @Param({"JAVA_BUMP", "STACK", "VMA_LINEAR", "JAVA_POOL", "POOL", "TLSF", "BUDDY", "VMA_TLSF"})
    public String contender;

    private BenchAllocator allocator;

    /** Makes the allocator and the live allocations below the measured pair. */
    @Setup
    public void setup() {
        allocator = Contender.valueOf(contender).create(REGION, SIZE);
        for (int i = 0; i < LIVE; i++) {
            if (allocator.allocate(SIZE, 1) == 0) {
                throw new IllegalStateException(contender + ": allocation " + i + " of " + LIVE + " failed");
            }
        }
    }

    /** Frees the native state. */
    @TearDown
    public void tearDown() {
        allocator.close();
    }

    /**
     * @return the handle, so that the allocation is not dead code
     */
    @Benchmark
    public long allocateFree() {
        BenchAllocator a = allocator;
        long handle = a.allocate(SIZE, 1);
        a.free(handle);
        return handle;
    }
}
