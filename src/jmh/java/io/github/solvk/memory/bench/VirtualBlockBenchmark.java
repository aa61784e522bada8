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
import org.openjdk.jmh.infra.Blackhole;

/**
 * W3, the shape of VMA's own virtual-block benchmark: {@value #ALLOCS} allocations of 1-{@value #MAX_SIZE} B (uniform)
 * into a block 2.5x their sum; then {@value #RANDOM_OPS} random operations, half allocations and half frees of a
 * random live allocation, shuffled; then every allocation freed backwards. Each phase is its own benchmark and
 * reports ns per operation; the phases before it run in an invocation-level {@code @Setup}, unmeasured (an invocation
 * is about a millisecond, so JMH's per-invocation fixtures cost nothing that shows).
 *
 * <p>Because the random phase has as many frees as allocations, 7200 allocations are live when it ends, and the free
 * phase always makes 7200 frees.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class VirtualBlockBenchmark {

    static final int ALLOCS = 7200;
    static final int RANDOM_OPS = 2 * ALLOCS;
    static final int MAX_SIZE = 2056;

    /** What all three phases share: the contender, the sequences, the live allocations. */
    @State(Scope.Thread)
    public abstract static class Round {
        /** Who runs. */
        @Param({"TLSF", "BUDDY", "VMA_TLSF", "VMA_MIN_TIME", "VMA_MIN_MEMORY"})
        public String contender;

        /** Alignment of every allocation. */
        @Param({"1", "16", "64", "256"})
        public long alignment;

        BenchAllocator allocator;
        int[] allocSizes;
        boolean[] opIsAllocation;
        int[] opRandom;
        int[] opSizes;
        long[] live;
        int liveCount;

        /** Draws the sequences and makes the block. */
        @Setup(Level.Trial)
        public void trial() {
            allocSizes = Workloads.uniform(ALLOCS, 1, MAX_SIZE, Workloads.SEED);
            long sum = 0;
            for (int size : allocSizes) {
                sum += size;
            }
            allocator = Contender.valueOf(contender).create(sum * 5 / 2, 256);
            int[] order = Workloads.permutation(RANDOM_OPS, Workloads.SEED + 1);
            opIsAllocation = new boolean[RANDOM_OPS];
            for (int i = 0; i < RANDOM_OPS; i++) {
                opIsAllocation[i] = order[i] < ALLOCS;
            }
            opRandom = Workloads.uniform(RANDOM_OPS, Integer.MIN_VALUE, Integer.MAX_VALUE - 1, Workloads.SEED + 2);
            opSizes = Workloads.uniform(RANDOM_OPS, 1, MAX_SIZE, Workloads.SEED + 3);
            live = new long[ALLOCS + RANDOM_OPS];
        }

        /** Frees the native state. */
        @TearDown(Level.Trial)
        public void closeAllocator() {
            allocator.close();
        }

        void allocateAll() {
            BenchAllocator a = allocator;
            for (int i = 0; i < ALLOCS; i++) {
                live[i] = checked(a.allocate(allocSizes[i], alignment), i);
            }
            liveCount = ALLOCS;
        }

        void randomOps() {
            BenchAllocator a = allocator;
            long[] handles = live;
            int n = liveCount;
            for (int i = 0; i < RANDOM_OPS; i++) {
                if (opIsAllocation[i]) {
                    handles[n++] = checked(a.allocate(opSizes[i], alignment), i);
                } else {
                    int victim = Workloads.scale(opRandom[i], n);
                    a.free(handles[victim]);
                    handles[victim] = handles[--n];
                }
            }
            liveCount = n;
        }

        void freeBackward() {
            BenchAllocator a = allocator;
            for (int i = liveCount - 1; i >= 0; i--) {
                a.free(live[i]);
            }
            liveCount = 0;
        }

        private long checked(long handle, int i) {
            if (handle == 0) {
                throw new IllegalStateException(contender + ", alignment " + alignment + ": allocation " + i
                        + " failed with " + liveCount + " live");
            }
            return handle;
        }

        /** Empties the block after the measured phase. */
        @TearDown(Level.Invocation)
        public void drain() {
            allocator.reset();
            liveCount = 0;
        }
    }

    /** An empty block. */
    public static class Empty extends Round {
    }

    /** A block after the allocation phase. */
    public static class Filled extends Round {
        /** Runs the allocation phase. */
        @Setup(Level.Invocation)
        public void fill() {
            allocateAll();
        }
    }

    /** A block after the allocation and random phases. */
    public static class Churned extends Round {
        /** Runs the allocation and random phases. */
        @Setup(Level.Invocation)
        public void churn() {
            allocateAll();
            randomOps();
        }
    }

    /**
     * @param round the state
     * @param bh    consumes a handle
     */
    @Benchmark
    @OperationsPerInvocation(ALLOCS)
    public void allocate(Empty round, Blackhole bh) {
        round.allocateAll();
        bh.consume(round.live[ALLOCS - 1]);
    }

    /**
     * @param round the state
     * @param bh    consumes a handle
     */
    @Benchmark
    @OperationsPerInvocation(RANDOM_OPS)
    public void randomOps(Filled round, Blackhole bh) {
        round.randomOps();
        bh.consume(round.live[0]);
    }

    /** @param round the state */
    @Benchmark
    @OperationsPerInvocation(ALLOCS)
    public void freeBackward(Churned round) {
        round.freeBackward();
    }
}
