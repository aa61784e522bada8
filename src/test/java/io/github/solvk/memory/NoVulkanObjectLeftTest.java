package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.vulkan.VulkanContext;

/**
 * The shared test device lives until the whole run ends, so a {@code VkBuffer} that a test leaves behind is only
 * reported then, as a log line that fails nothing. Here each case makes a device of its own with validation, uses
 * every kind of allocator through the {@link MemoryManager}, frees some buffers, leaves others open for
 * {@link MemoryManager#close()} to take back, and destroys the device: validation reports any {@code VkBuffer} or
 * {@code VkDeviceMemory} still there as an error.
 */
class NoVulkanObjectLeftTest {

    private static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
            | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    private static final long KIB = 1024;

    @Test
    void closingTheManagerShouldLeaveNoBufferOrMemoryOnTheDevice() {
        VulkanContext context = VulkanContext.builder().validation(true)
                .applicationName("NoVulkanObjectLeftTest").build();
        try {
            MemoryManager manager = MemoryManager.create(context);
            IMemoryPool.CreateInfo info = IMemoryPool.CreateInfo.of(USAGE, MemoryUsage.UPLOAD, 256 * KIB)
                    .withBlocks(1, 4);
            List<IBufferAllocator> allocators = new ArrayList<>();
            allocators.add(manager.createNonLinearMemoryPool("non-linear", info));
            allocators.add(manager.createFreeAtOnceMemoryPool("free-at-once", info));
            allocators.add(manager.createStackMemoryPool("stack", info));
            allocators.add(manager.createRingBufferMemoryPool("ring", info));
            allocators.add(manager.createFixedSizeMemoryPool("fixed", info, 4 * KIB));
            allocators.add(manager.createBlockPoolAllocator("sub-ranges", BlockPoolAllocator.Config.defaults()));
            allocators.add(manager.createBlockPoolAllocator("own buffers", BlockPoolAllocator.Config.builder()
                    .bufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).build()));
            allocators.add(manager.createBlockPoolAllocator("own buffers, not recycled", BlockPoolAllocator.Config
                    .builder().bufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).recycleBuffers(false).build()));
            for (IBufferAllocator allocator : allocators) {
                List<IBuffer> open = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    open.add(allocator.allocateBuffer(AllocationInfo.builder().size(4 * KIB).bufferUsage(USAGE)
                            .memoryUsage(MemoryUsage.UPLOAD).build()));
                }
                // Freed in the order every pool accepts (a stack's), the last one left open.
                for (int i = open.size() - 1; i > 0; i--) {
                    open.get(i).close();
                }
            }
            IBuffer plain = manager.allocateBuffer(AllocationInfo.builder().size(4 * KIB).bufferUsage(USAGE)
                    .memoryUsage(MemoryUsage.UPLOAD).build());
            assertThat(plain.size()).isEqualTo(4 * KIB);
            // Left open too: close() takes back every buffer and pool.
            manager.close();
        } finally {
            context.close();
        }
        assertThat(context.validationErrors()).as("validation errors, such as a VkBuffer or VkDeviceMemory left at "
                + "vkDestroyDevice").isEmpty();
    }
}
