package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.testing.VulkanExtension;

/** Host reads and writes through an {@link IBuffer}, for every source of buffers. */
@ExtendWith(VulkanExtension.class)
class IBufferReadWriteTest {

    private static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;

    private static AllocationInfo upload(long size, String name) {
        return AllocationInfo.builder().size(size).bufferUsage(USAGE).memoryUsage(MemoryUsage.UPLOAD).name(name)
                .build();
    }

    @Test
    void readingIntoAReadOnlyByteBufferShouldBeRefusedNamingIt(MemoryManager manager) {
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("ro", IMemoryPool.CreateInfo.of(USAGE,
                MemoryUsage.UPLOAD, 1 << 16));
             BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("ro blocks",
                     BlockPoolAllocator.Config.builder().subRangeUsage(USAGE).build());
             IBuffer own = manager.allocateBuffer(upload(64, "own"));
             IBuffer pooled = pool.allocateBuffer(upload(64, "pooled"));
             IBuffer blocked = blocks.allocateBuffer(upload(64, "blocked"))) {
            for (IBuffer b : List.of(own, pooled, blocked)) {
                ByteBuffer heap = ByteBuffer.allocate(8).asReadOnlyBuffer();
                ByteBuffer direct = ByteBuffer.allocateDirect(8).asReadOnlyBuffer();
                for (ByteBuffer dst : List.of(heap, direct)) {
                    assertThatThrownBy(() -> b.read(0, dst)).as(b.name())
                            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("read-only")
                            .hasMessageContaining("expected");
                }
            }
        }
    }
}
