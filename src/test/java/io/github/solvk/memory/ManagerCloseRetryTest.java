package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * A manager whose close found its {@link VulkanMemoryAllocator} still holding allocations (made through
 * {@link MemoryManager#allocator()}, which the manager does not track): the allocator refuses and stays open, and a
 * later close of the manager, once they are gone, must still be able to destroy it.
 */
@ExtendWith(VulkanExtension.class)
class ManagerCloseRetryTest {

    @Test
    void aManagerCloseRefusedForLiveVmaAllocationsShouldDestroyTheAllocatorWhenCalledAgain(VulkanContext context) {
        MemoryManager manager = MemoryManager.create(context);
        VulkanMemoryAllocator vma = manager.allocator();
        VulkanBuffer straggler = vma.createBuffer(new VulkanMemoryAllocator.BufferRequest(4096,
                VK_BUFFER_USAGE_TRANSFER_SRC_BIT, null, VulkanMemoryAllocator.USAGE_AUTO, 0, 0, 0, 0, "straggler"));
        assertThatThrownBy(manager::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("1 live allocation");
        assertThat(manager.isClosed()).isTrue();
        assertThat(vma.isClosed()).isFalse();

        straggler.close();
        manager.close();
        assertThat(vma.isClosed()).as("the VmaAllocator, destroyed by the second close").isTrue();
    }
}
