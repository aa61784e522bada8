package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.vkCmdCopyBuffer;
import static org.lwjgl.vulkan.VK10.vkCmdFillBuffer;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferCopy;

import io.github.solvk.memory.IMemoryPool.CreateInfo;
import io.github.solvk.memory.diagnostics.BlockInfo;
import io.github.solvk.memory.diagnostics.CorruptionException;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanContext;

/** Stack and free-at-once frees in statistics and memory maps; guard margins through the GPU; use after close. */
@ExtendWith(VulkanExtension.class)
class MemoryPoolOrderAndMarginsTest {

    private static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
            | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    private static final long KIB = 1024;

    private static CreateInfo info(long blockSize, int min, int max) {
        return CreateInfo.of(USAGE, MemoryUsage.UPLOAD, blockSize).withBlocks(min, max);
    }

    private static int mapAllocations(IMemoryPool pool) {
        return ((MemoryPool) pool).blockInfos().stream().mapToInt(BlockInfo::allocationCount).sum();
    }

    private static long mapUsedBytes(IMemoryPool pool) {
        return ((MemoryPool) pool).blockInfos().stream().mapToLong(BlockInfo::usedBytes).sum();
    }

    @Test
    void aStackBufferFreedOutOfOrderShouldNeitherShowAsLiveNorCountAsUsed(MemoryManager manager) {
        try (IMemoryPool pool = manager.createStackMemoryPool("stack", info(8 * KIB, 1, 2))) {
            IBuffer a = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(3000, "a"));
            IBuffer b = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(3000, "b"));
            IBuffer c = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(3000, "c"));
            assertThat(pool.statistics().blocks()).as("c is in a second block").isEqualTo(2);
            long usedByC = pool.statistics().usedBytes();
            b.close();
            a.close();
            // a and b are closed: only c is live, as the ring pool already reports its out-of-order frees.
            assertThat(pool.liveBufferCount()).isEqualTo(1);
            assertThat(mapAllocations(pool)).as("allocations in the memory map").isEqualTo(1);
            assertThat(mapUsedBytes(pool)).isEqualTo(3000);
            assertThat(pool.statistics().usedBytes()).as("used bytes: c alone").isEqualTo(3000);
            assertThatThrownBy(() -> pool.allocateBuffer(100)).isInstanceOf(IllegalStateException.class);
            c.close();
            assertThat(pool.statistics().usedBytes()).isZero();
            assertThat(usedByC).isPositive();
            try (IBuffer d = pool.allocateBuffer(3000)) {
                assertThat(d.offset()).as("the stack starts over").isZero();
            }
        }
    }

    @Test
    void aFreeAtOnceBufferClosedWhileOthersAreLiveShouldNeitherShowAsLiveNorCountAsUsed(MemoryManager manager) {
        try (IMemoryPool pool = manager.createFreeAtOnceMemoryPool("scratch", info(8 * KIB, 1, 2))) {
            IBuffer a = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(3000, "a"));
            IBuffer b = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(3000, "b"));
            IBuffer c = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(3000, "c"));
            a.close();
            c.close();
            assertThat(pool.liveBufferCount()).isEqualTo(1);
            assertThat(mapAllocations(pool)).as("allocations in the memory map").isEqualTo(1);
            assertThat(((MemoryPool) pool).blockInfos().stream().flatMap(blk -> blk.suballocations().stream())
                    .filter(s -> !s.isFree()).map(s -> s.name()).toList()).containsExactly("b");
            assertThat(pool.statistics().usedBytes()).as("used bytes: b and its padding").isBetween(3000L, 3072L);
            assertThatThrownBy(() -> pool.allocateBuffer(100)).isInstanceOf(IllegalStateException.class);
            b.close();
            assertThat(pool.statistics().usedBytes()).isZero();
            try (IBuffer d = pool.allocateBuffer(100)) {
                assertThat(d.offset()).as("the pool starts over").isZero();
            }
        }
    }

    @Test
    void checkCorruptionOnAClosedPoolShouldThrowNotReportAllClear(MemoryManager manager) {
        IMemoryPool pool = manager.createNonLinearMemoryPool("margins", info(8 * KIB, 1, 1)
                .withCreateFlags(CreateInfo.GUARD_MARGINS));
        pool.allocateBuffer(100);
        pool.close();
        assertThatThrownBy(pool::checkCorruption).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'margins' is closed");
    }

    @Test
    void aGpuWritePastTheEndShouldBeCaughtWithoutFalseAlarmsAfterReuse(VulkanContext context,
                                                                      MemoryManager manager) {
        try (IMemoryPool ring = manager.createRingBufferMemoryPool("ring", info(8 * KIB, 1, 1)
                .withCreateFlags(CreateInfo.GUARD_MARGINS))) {
            IBuffer a = ring.allocateBuffer(3000);
            IBuffer b = ring.allocateBuffer(3000);
            a.close();
            IBuffer wrapped = ring.allocateBuffer(IMemoryPool.AllocationInfo.of(2000, "wrapped"));
            assertThat(wrapped.offset()).as("wrapped to the start").isZero();
            // A copy of 4 bytes more than the buffer holds, from b into the wrapped buffer.
            context.execute(context.transferQueue(), cmd -> {
                try (MemoryStack stack = MemoryStack.stackPush()) {
                    vkCmdCopyBuffer(cmd, b.buffer(), wrapped.buffer(), VkBufferCopy.calloc(1, stack)
                            .srcOffset(b.offset()).dstOffset(wrapped.offset()).size(2004));
                }
            });
            assertThatThrownBy(ring::checkCorruption).isInstanceOf(CorruptionException.class)
                    .hasMessageContaining("wrapped");
            b.close();
            assertThatThrownBy(wrapped::close).isInstanceOf(CorruptionException.class);
            assertThat(ring.liveBufferCount()).isZero();
            IBuffer again = ring.allocateBuffer(2000);
            ring.checkCorruption();
            context.execute(context.transferQueue(), cmd -> vkCmdFillBuffer(cmd, again.buffer(), again.offset(),
                    2000, 0x01020304));
            ring.checkCorruption();
            again.close();
            List.of(ring.statistics()).forEach(s -> assertThat(s.usedBytes()).isZero());
        }
    }
}
