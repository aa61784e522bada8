package io.github.solvk.memory.suballocator;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One allocate + free pair per operation on the stack, ring and fixed-size suballocators, with 1024 allocations live
 * underneath (W1/W2-style steady state). Run with {@code -prof gc} to see that a pair allocates 0 B.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LinearSuballocatorBenchmark {

    private static final int LIVE = 1024;
    private static final int RANDOM_MASK = (1 << 16) - 1;

    private StackSuballocator stack;
    private RingSuballocator ring;
    private long[] ringHandles;
    private int ringOldest;
    private FixedSizeSuballocator pool;
    private long[] poolHandles;
    private int[] randomSlots;
    private int randomCursor;

    /** Builds each suballocator with {@link #LIVE} allocations of 256 bytes live. */
    @Setup(Level.Trial)
    public void setUp() {
        stack = new StackSuballocator(0, 1L << 30, 1024);
        ring = new RingSuballocator(0, (LIVE + 1) * 256L, 1024);
        ringHandles = new long[LIVE];
        pool = new FixedSizeSuballocator(0, 1L << 24, 256, 256);
        poolHandles = new long[LIVE];
        for (int i = 0; i < LIVE; i++) {
            stack.tryAllocate(256, 256, AllocationType.LINEAR);
            ringHandles[i] = ring.tryAllocate(256, 256, AllocationType.LINEAR);
            poolHandles[i] = pool.tryAllocate(256, 256, AllocationType.LINEAR);
        }
        SplittableRandom random = new SplittableRandom(42);
        randomSlots = new int[RANDOM_MASK + 1];
        for (int i = 0; i < randomSlots.length; i++) {
            randomSlots[i] = random.nextInt(LIVE);
        }
    }

    /** @return the handle, so that the pair is not dead code */
    @Benchmark
    public long stackAllocateFree() {
        long handle = stack.tryAllocate(256, 16, AllocationType.LINEAR);
        stack.free(handle);
        return handle;
    }

    /** @return the handle; frees the oldest and allocates a new newest, so the ring keeps wrapping */
    @Benchmark
    public long ringFreeOldestAllocate() {
        int i = ringOldest;
        ring.free(ringHandles[i]);
        long handle = ring.tryAllocate(256, 256, AllocationType.LINEAR);
        ringHandles[i] = handle;
        ringOldest = (i + 1) & (LIVE - 1);
        return handle;
    }

    /** @return the handle */
    @Benchmark
    public long poolAllocateFree() {
        long handle = pool.tryAllocate(200, 16, AllocationType.LINEAR);
        pool.free(handle);
        return handle;
    }

    /** @return the handle; frees a random live slot and allocates again */
    @Benchmark
    public long poolRandomFreeAllocate() {
        int i = randomSlots[randomCursor++ & RANDOM_MASK];
        pool.free(poolHandles[i]);
        long handle = pool.tryAllocate(200, 16, AllocationType.LINEAR);
        poolHandles[i] = handle;
        return handle;
    }
}
