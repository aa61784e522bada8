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

import io.github.solvk.memory.vulkan.VulkanContext;

/**
 * PERFORMANCE.md workload W5 on the real device (validation off): each invocation starts from a fresh level load
 * (half the budget, made in the untimed setup) and times the {@value LevelLoad#RANDOM_OPS} random frees and
 * allocations of {@link LevelLoad}; everything is freed again in the untimed tear-down. Score: µs per random op.
 * Contenders: {@link LevelLoad.Kind}. The {@code vkAllocateMemory} counts and committed bytes come from
 * {@link LevelLoadCounts}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class LevelLoadBenchmark {

    @Param({"BLOCK_POOL", "VMA", "DEDICATED", "NULL"})
    public String contender;

    /** Bytes; the load fills half. 256 MiB suits lavapipe; a discrete GPU can take more. */
    @Param({"268435456"})
    public long budget;

    private VulkanContext context;
    private LevelLoad.Player player;

    @Setup(Level.Trial)
    public void setUp() {
        context = VulkanContext.builder().validation(false).applicationName("LevelLoadBenchmark").build();
        player = LevelLoad.Player.create(LevelLoad.Kind.valueOf(contender), LevelLoad.create(budget), context);
    }

    @Setup(Level.Invocation)
    public void load() {
        player.load();
    }

    @TearDown(Level.Invocation)
    public void unload() {
        player.freeAll();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        player.close();
        context.close();
    }

    @Benchmark
    @OperationsPerInvocation(LevelLoad.RANDOM_OPS)
    public void randomPhase() {
        player.randomPhase();
    }
}
