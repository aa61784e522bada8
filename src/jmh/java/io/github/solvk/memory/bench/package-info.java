/**
 * JMH benchmarks and measurement programs for the suballocators, run side by side with VMA's virtual block
 * (through lwjgl-vma) in the same run, on the workloads of {@code docs/PERFORMANCE.md}.
 *
 * <p>Every contender is seen through {@link io.github.solvk.memory.bench.BenchAllocator}: ours wrap a
 * {@link io.github.solvk.memory.suballocator.Suballocator}, VMA's is {@link io.github.solvk.memory.bench.VmaVirtualBlock}.
 * All random numbers are drawn in {@code @Setup} from fixed seeds ({@link io.github.solvk.memory.bench.Workloads}),
 * so every contender sees exactly the same sequence and the measured loops draw nothing and allocate nothing.
 *
 * <pre>
 *   JMH state (per thread)                       measured loop
 *   ┌────────────────────────────┐              ┌───────────────────────────────────┐
 *   │ sizes[], slots[], order[]  │── read ─────▶│ h = a.allocate(sizes[i], align)   │
 *   │ (precomputed, fixed seeds) │              │ a.free(handles[slots[i]])         │
 *   │ BenchAllocator a           │◀─ calls ─────│ bh.consume(h)                     │
 *   └────────────────────────────┘              └───────────────────────────────────┘
 * </pre>
 *
 * <p>Run them with {@code bench/run-suballocator-benchmarks}, or as
 * {@code java -cp target/classes:target/test-classes:<dependency jars> org.openjdk.jmh.Main SuballocatorBench}.
 * Results and the commands live in {@code docs/benchmarks.md}.
 */
package io.github.solvk.memory.bench;
