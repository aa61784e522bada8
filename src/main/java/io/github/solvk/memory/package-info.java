/**
 * The API users hold: {@link io.github.solvk.memory.MemoryManager} (SOL's memory manager over a VMA allocator),
 * {@link io.github.solvk.memory.IBufferAllocator} with its {@code AllocationInfo}, capabilities and
 * {@code OnAllocationFailure}, {@link io.github.solvk.memory.IBuffer}, the named
 * {@link io.github.solvk.memory.IMemoryPool}s, and the one runtime failure type
 * {@link io.github.solvk.memory.MemoryAllocationException}.
 *
 * <h2>Layers</h2>
 * <pre>
 *   io.github.solvk.memory            facade: MemoryManager, IBuffer, IBufferAllocator, IMemoryPool, errors
 *     ├─ .pool                        memory type selection, SOL's pool mechanics, block pools
 *     ├─ .diagnostics                 dumps, pictures, leak detection, JFR events
 *     ├─ .vulkan                      the only code that calls Vulkan and VMA
 *     ├─ .suballocator                pure Java placement algorithms
 *     ├─ .testing                     the JUnit 5 extension (tests on a real device, validation and leaks checked)
 *     └─ .demo                        the engine-like workload that bin/demo runs
 * </pre>
 * Arrows point down only: the facade turns the lower layers' results into {@code IBuffer}s and their failures into
 * {@code MemoryAllocationException}s.
 *
 * <h2>Ownership</h2>
 * {@code close()} frees exactly once, only what the object owns; borrowed handles are never freed; any use after
 * close throws {@link java.lang.IllegalStateException}. Close buffers, then pools, then the manager, then the context.
 */
package io.github.solvk.memory;
