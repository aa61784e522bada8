package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_INDEX_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.IBufferAllocator.OnAllocationFailure;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanContext;

@ExtendWith(VulkanExtension.class)
class BlockPoolBufferAllocatorTest {

    @Test
    void blockPoolsShouldGiveSubRangesAndOwnBuffersThatCarryDataThroughTheGpu(VulkanContext context,
                                                                             MemoryManager manager) {
        int subRangeUsage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
        long vkAllocationsBefore = manager.allocator().deviceMemoryAllocationCount();
        try (BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("general",
                BlockPoolAllocator.Config.builder().subRangeUsage(subRangeUsage).build());
             IBuffer staging = blocks.allocateBuffer(AllocationInfo.builder().name("staging").size(5000)
                     .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.UPLOAD).build());
             IBuffer mesh = blocks.allocateBuffer(AllocationInfo.builder().name("mesh").size(5000)
                     .bufferUsage(VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT
                             | VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                     .memoryUsage(MemoryUsage.DEVICE_ONLY).build());
             IBuffer back = blocks.allocateBuffer(AllocationInfo.builder().name("back").size(5000)
                     .bufferUsage(VK_BUFFER_USAGE_TRANSFER_DST_BIT).memoryUsage(MemoryUsage.DOWNLOAD).build())) {
            assertThat(mesh.offset()).as("own VkBuffer: its range starts at 0 of its own buffer").isZero();
            assertThat(mesh.buffer()).isNotEqualTo(staging.buffer());
            assertThat(staging.allocator()).isSameAs(blocks);
            byte[] data = new byte[5000];
            new Random(5).nextBytes(data);
            staging.write(0, data);
            GpuRoundTripTest.copy(context, staging, 0, mesh, 0, 5000);
            GpuRoundTripTest.copy(context, mesh, 0, back, 0, 5000);
            byte[] read = new byte[5000];
            back.read(0, read);
            assertThat(read).isEqualTo(data);
            assertThat(manager.allocator().deviceMemoryAllocationCount() - vkAllocationsBefore)
                    .as("one block for lavapipe's one memory type, not one per buffer").isEqualTo(1);
        }
    }

    @Test
    void neverAllocateWithoutABlockShouldFailAndConcurrentSharingIsRefused(MemoryManager manager) {
        BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("strict",
                BlockPoolAllocator.Config.defaults());
        AllocationInfo never = AllocationInfo.builder().size(256).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                .memoryUsage(MemoryUsage.UPLOAD).allocationFlags(AllocationFlags.NEVER_ALLOCATE).build();
        assertThatThrownBy(() -> blocks.allocateBuffer(never)).isInstanceOfSatisfying(
                MemoryAllocationException.class, e -> assertThat(e.reason())
                        .isEqualTo(MemoryAllocationException.Reason.OUT_OF_POOL_MEMORY));
        assertThat(blocks.allocateBuffer(never, OnAllocationFailure.EMPTY)).isNull();
        assertThatThrownBy(() -> blocks.allocateBuffer(never, OnAllocationFailure.WAIT))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThat(manager.statistics().total().blockCount()).isZero();
        blocks.close();
    }

    @Test
    void closingTheManagerShouldFreeTheBlockPools(VulkanContext context) {
        MemoryManager manager = MemoryManager.create(context);
        IBufferAllocator blocks = manager.createBlockPoolAllocator("closing", BlockPoolAllocator.Config.defaults());
        IBuffer leftOpen = blocks.allocateBuffer(AllocationInfo.builder().size(100)
                .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.UPLOAD).build());
        assertThat(manager.statistics().total().blockCount()).isEqualTo(1);
        manager.close();
        assertThat(leftOpen.isClosed()).isTrue();
        assertThatThrownBy(leftOpen::buffer).isInstanceOf(IllegalStateException.class);
    }
}
