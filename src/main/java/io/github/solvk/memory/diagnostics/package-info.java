/**
 * Diagnostics for GPU memory: a snapshot model of every block on the device, written as VMA-compatible JSON, as a
 * self-contained HTML page and as a PNG picture; leak detection for resources dropped without {@code close()}; JDK
 * Flight Recorder events; and guard margins that catch writes past a buffer's end. Pure Java: nothing here imports
 * LWJGL, VMA or the packages above it. The root package builds a
 * {@link io.github.solvk.memory.diagnostics.MemoryMap} from its pools and from VMA
 * ({@link io.github.solvk.memory.diagnostics.MemoryMapJson#mergeVma}) and passes it in; its resources call
 * {@link io.github.solvk.memory.diagnostics.LeakDetector}, {@link io.github.solvk.memory.diagnostics.JfrEvents} and
 * {@link io.github.solvk.memory.diagnostics.GuardMargins}.
 *
 * <h2>The memory map</h2>
 * A {@link io.github.solvk.memory.diagnostics.MemoryMap} is the device's name, its heaps
 * ({@link io.github.solvk.memory.diagnostics.HeapInfo}: size, flags, budget and usage), its memory types
 * ({@link io.github.solvk.memory.diagnostics.TypeInfo}: heap, property flags) and a list of blocks. A
 * {@link io.github.solvk.memory.diagnostics.BlockInfo} is one {@code VkDeviceMemory} (or one of VMA's blocks): the
 * pool it belongs to, a name unique in that pool and memory type, the memory type, the size, where it comes from
 * ({@link io.github.solvk.memory.diagnostics.BlockKind}: a block of VMA's default pools, a block of one of our named
 * pools, or dedicated memory for one resource) and its
 * {@linkplain io.github.solvk.memory.diagnostics.Suballocation suballocations}. The suballocations tile the block:
 * in offset order, without overlap, free ranges included (the constructor fills gaps with free ranges). Each has an
 * offset and size, a {@link io.github.solvk.memory.diagnostics.SuballocationType} (VMA's names), usage flags, and
 * optionally the resource's name and its allocation site:
 * <pre>
 *   MemoryMap "NVIDIA GeForce RTX 4070"
 *   +-- heaps:  Heap 0 (12 GiB, DEVICE_LOCAL, budget 11 GiB)   Heap 1 (32 GiB)
 *   +-- types:  Type 0 -&gt; heap 0 [DEVICE_LOCAL]   Type 1 -&gt; heap 1 [HOST_VISIBLE+COHERENT] ...
 *   +-- blocks
 *       BlockInfo pool "meshes", "meshes block 0", type 0, 64 MiB, POOL_BLOCK
 *         offset 0         256 KiB          384 KiB                                   64 MiB
 *         | BUFFER 0x82    | BUFFER 0x42    | FREE                                     |
 *         | "terrain vb"   | "terrain ib"   |                                          |
 *       BlockInfo pool "VMA default", "0", type 0, 256 MiB, VMA_BLOCK  (VMA's own allocations)
 *       BlockInfo pool "VMA default", "dedicated 0", type 0, 32 MiB, DEDICATED  (one suballocation, whole block)
 * </pre>
 * In the JSON dump, blocks of the pool {@value io.github.solvk.memory.diagnostics.BlockInfo#VMA_DEFAULT_POOL} go
 * where VMA puts its default pools and every other pool under {@code CustomPools} by its name, so VMA's
 * {@code GpuMemDumpVis.py} draws both; the pictures colour each allocation by its
 * {@link io.github.solvk.memory.diagnostics.AllocationClass}.
 */
package io.github.solvk.memory.diagnostics;
