/**
 * Where memory comes from: memory type selection ({@link io.github.solvk.memory.pool.MemoryTypeFilter},
 * {@link io.github.solvk.memory.pool.MemoryTypeSelector}), the vulkano-style block pools of
 * {@link io.github.solvk.memory.pool.BlockPoolAllocator} (one per memory type, suballocating {@code VkDeviceMemory}
 * blocks that VMA makes) and SOL's named memory pools. Memory type selection is pure logic over a
 * {@link io.github.solvk.memory.vulkan.MemoryProperties} description, so it is tested against the recorded memory
 * layouts of real GPUs, not only the device at hand; the pools reach Vulkan only through the
 * {@code io.github.solvk.memory.vulkan} layer.
 *
 * <h2>Block pools</h2>
 * <pre>
 *  BlockPoolAllocator
 *   ├─ memory type 0: lock ─ blocks  [1/8 block][1/4 block][1/2 block][full]...   each: VkDeviceMemory from VMA
 *   │                       │          └─ suballocator (TLSF): [buf][free][buf]     + one block-wide VkBuffer
 *   │                       └─ dedicated: [one buffer] [one buffer]                 (SUB_RANGE mode)
 *   └─ memory type 1: lock ─ ...
 * </pre>
 * A request is placed in the best memory type with room, in an existing block before a new one; large requests and
 * those the driver wants alone get dedicated memory. A buffer is a sub-range of its block's buffer (no Vulkan call)
 * or a {@code VkBuffer} of its own bound at its offset.
 *
 * <h2>Choosing a memory type</h2>
 * A request ({@link io.github.solvk.memory.MemoryUsage}, {@link io.github.solvk.memory.HostAccess} and the caller's
 * own required and preferred {@code VkMemoryPropertyFlags}) becomes a filter of three flag sets, plus the opt-in
 * flags it leaves excluded. Every memory type then goes through two gates and is scored:
 * <pre>
 *  memory type i, flags F
 *        │
 *        ▼
 *  bit i of memoryTypeBits set? ──no──▶ rejected      (the resource cannot live there)
 *        │yes
 *        ▼
 *  F ⊇ required  and  F ∩ excluded = ∅ ? ──no──▶ rejected
 *        │yes             (excluded = LAZILY_ALLOCATED, PROTECTED, AMD DEVICE_COHERENT|DEVICE_UNCACHED,
 *        ▼                 minus the groups the request requires or prefers)
 *  cost = |preferred \ F| + |notPreferred ∩ F|          (bits counted)
 *        │
 *        ▼
 *  candidates sorted by (cost, i)  ──▶  first = the chosen type; the rest are fall-backs for a full heap
 * </pre>
 * Ties go to the lowest index because the Vulkan specification orders memory types so that, among types with the same
 * flags, the faster one comes first, and a type whose flags are a subset of another's comes before it. The opt-in
 * flags are gated rather than costed because a wrong choice there is not merely slower: lazily allocated memory
 * only backs transient attachments, protected memory cannot be read by unprotected work, and AMD's uncached
 * device-coherent memory is for debugging markers and is far slower for everything else. Requiring or preferring any
 * flag of a group opts into that group (the two AMD bits form one group); {@code GPU_LAZILY_ALLOCATED} requires
 * {@code LAZILY_ALLOCATED}. When no type passes both gates, selection returns -1 or an empty list and the caller
 * reports "no compatible memory type".
 *
 * <p>For example, on an NVIDIA desktop GPU without resizable BAR (system memory types, a 6 GiB device-local heap and a
 * 256 MiB device-local, host-visible BAR heap), {@code DEVICE_ONLY} picks the plain {@code DEVICE_LOCAL} type,
 * {@code UPLOAD} the BAR type and then system memory when the BAR is full, and {@code DOWNLOAD} the
 * {@code HOST_CACHED} system-memory type.
 */
package io.github.solvk.memory.pool;
