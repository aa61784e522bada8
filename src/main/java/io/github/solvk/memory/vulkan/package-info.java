/**
 * The only layer that talks to Vulkan and VMA through LWJGL: a headless
 * {@link io.github.solvk.memory.vulkan.VulkanContext},
 * the {@link io.github.solvk.memory.vulkan.VulkanMemoryAllocator} (a VMA allocator), the
 * {@link io.github.solvk.memory.vulkan.VulkanBuffer} and the one {@code VkResult} check
 * ({@link io.github.solvk.memory.vulkan.VulkanException}).
 *
 * <h2>Ownership</h2>
 * Every class here that holds native state is {@link java.lang.AutoCloseable}. Following RandBLAS's policy, an object
 * frees a handle only if it created it ("owns" it); a wrapped, borrowed handle is never freed; {@code close()} frees
 * exactly once and is safe to call again; any other use after close throws {@link java.lang.IllegalStateException}.
 * <pre>
 *   VulkanContext ──owns──▶ VkInstance, VkDevice, debug messenger      (or borrows them: VulkanContext.wrap)
 *   VulkanMemoryAllocator ──owns──▶ VmaAllocator                       (borrows the device from its Settings)
 *   VulkanBuffer ──owns──▶ VkBuffer + VmaAllocation                    (or borrows them: VulkanBuffer.wrap)
 * </pre>
 * Objects must be closed in the reverse order of creation: buffers, then the allocator, then the context.
 */
package io.github.solvk.memory.vulkan;
