package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.pool.MemoryTypeFilter;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.MemoryProperties;

/**
 * The block pools and SOL's pools choose memory types from the buffer usage too, as the manager's VMA path does: an
 * {@code AUTO} staging buffer (host writes, the device only copies from it) avoids device-local memory, so that on a
 * GPU with a 256 MiB BAR window it lands in system RAM rather than in the window. Lavapipe has one memory type, so the
 * choice itself is tested on the recorded layouts ({@code MemoryTypeSelectorLayoutTest}); these tests check that the
 * filters the pools are given carry the buffer usage.
 */
@ExtendWith(VulkanExtension.class)
class StagingMemoryTypeTest {

    private static AllocationInfo autoWrite(int bufferUsage) {
        return AllocationInfo.builder().size(4096).bufferUsage(bufferUsage).memoryUsage(MemoryUsage.AUTO)
                .hostAccess(HostAccess.SEQUENTIAL_WRITE).build();
    }

    @Test
    void blockPoolsShouldAvoidDeviceLocalMemoryForAnAutoStagingBuffer(MemoryManager manager) {
        try (BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("staging",
                BlockPoolAllocator.Config.defaults())) {
            checkStagingFilters(blocks);
        }
    }

    private static void checkStagingFilters(BlockPoolBufferAllocator blocks) {
        MemoryTypeFilter staging = blocks.request(autoWrite(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)).filter();
        assertThat(staging.notPreferredFlags() & MemoryProperties.DEVICE_LOCAL).isNotZero();
        assertThat(staging.preferredFlags() & MemoryProperties.DEVICE_LOCAL).isZero();
        MemoryTypeFilter vertices = blocks.request(autoWrite(VK_BUFFER_USAGE_VERTEX_BUFFER_BIT)).filter();
        assertThat(vertices.preferredFlags() & MemoryProperties.DEVICE_LOCAL).isNotZero();
        try (IBuffer buffer = blocks.allocateBuffer(autoWrite(VK_BUFFER_USAGE_TRANSFER_SRC_BIT))) {
            buffer.write(0, new byte[] {1, 2, 3});
            byte[] back = new byte[3];
            buffer.read(0, back);
            assertThat(back).containsExactly(1, 2, 3);
        }
    }

    @Test
    void aStagingPoolShouldAvoidDeviceLocalMemory(MemoryManager manager) {
        IMemoryPool.CreateInfo info = new IMemoryPool.CreateInfo(0, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                MemoryUsage.AUTO, 0, 0, AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE, 1 << 20, 1, 4);
        try (MemoryPool pool = (MemoryPool) manager.createNonLinearMemoryPool("staging pool", info)) {
            MemoryTypeFilter filter = pool.core().config().filter();
            assertThat(filter.notPreferredFlags() & MemoryProperties.DEVICE_LOCAL).isNotZero();
            assertThat(filter.requiredFlags() & MemoryProperties.HOST_VISIBLE).isNotZero();
        }
    }
}
