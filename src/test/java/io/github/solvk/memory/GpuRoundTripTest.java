package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.vkCmdCopyBuffer;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferCopy;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanContext;

@ExtendWith(VulkanExtension.class)
class GpuRoundTripTest {

    static void copy(VulkanContext context, IBuffer src, long srcOffset, IBuffer dst, long dstOffset, long size) {
        context.execute(context.transferQueue(), cmd -> {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                vkCmdCopyBuffer(cmd, src.buffer(), dst.buffer(), VkBufferCopy.calloc(1, stack)
                        .srcOffset(src.offset() + srcOffset)
                        .dstOffset(dst.offset() + dstOffset)
                        .size(size));
            }
        });
    }

    @Test
    void dataWrittenOnTheHostShouldSurviveACopyThroughDeviceLocalMemory(VulkanContext context,
                                                                       MemoryManager manager) {
        byte[] data = new byte[64 * 1024 + 13];
        new Random(42).nextBytes(data);
        try (IBuffer staging = manager.allocateBuffer(AllocationInfo.builder().size(data.length)
                     .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.UPLOAD)
                     .name("staging").build());
             IBuffer device = manager.allocateBuffer(AllocationInfo.builder().size(data.length)
                     .bufferUsage(VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT
                             | VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                     .memoryUsage(MemoryUsage.DEVICE_ONLY).name("mesh").build());
             IBuffer readback = manager.allocateBuffer(AllocationInfo.builder().size(data.length)
                     .bufferUsage(VK_BUFFER_USAGE_TRANSFER_DST_BIT).memoryUsage(MemoryUsage.DOWNLOAD)
                     .name("readback").build())) {
            staging.write(0, data);
            copy(context, staging, 0, device, 0, data.length);
            copy(context, device, 0, readback, 0, data.length);
            byte[] back = new byte[data.length];
            readback.read(0, back);
            assertThat(back).isEqualTo(data);
            assertThat(manager.statistics().total().allocationCount()).isEqualTo(3);
        }
        assertThat(manager.statistics().total().allocationCount()).isZero();
    }
}
