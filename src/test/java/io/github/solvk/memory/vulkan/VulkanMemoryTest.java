package io.github.solvk.memory.vulkan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_ERROR_OUT_OF_DEVICE_MEMORY;
import static org.lwjgl.vulkan.VK10.VK_ERROR_OUT_OF_HOST_MEMORY;
import static org.lwjgl.vulkan.VK10.vkCmdCopyBuffer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferCopy;

import io.github.solvk.memory.pool.FailingListeners;
import io.github.solvk.memory.testing.VulkanExtension;

@ExtendWith(VulkanExtension.class)
class VulkanMemoryTest {

    private static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
            | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;

    @Test
    void buffersBoundInABlockAndSubRangesShouldCarryDataThroughTheGpu(VulkanContext context) {
        try (VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context))) {
            VulkanMemory.Requirements r = VulkanMemory.bufferRequirements(allocator, 4096, USAGE);
            assertThat(r.alignment()).isPositive();
            assertThat(r.memoryTypeBits() & 1).isEqualTo(1);
            int type = Integer.numberOfTrailingZeros(r.memoryTypeBits());
            VulkanMemory block = VulkanMemory.allocate(allocator, 1 << 20, r.alignment(), type, true, "test block");
            assertThat(allocator.statistics().total().blockCount()).isEqualTo(1);
            assertThat(block.mappedAddress()).as("lavapipe's memory is host-visible, so mapped").isNotZero();
            VulkanBuffer whole = block.createBlockBuffer(USAGE);
            VulkanBuffer src = VulkanBuffer.subRange(whole, block, 4096, 1024);
            long bound = 64 * 1024;
            VulkanBuffer dst = block.createBuffer(bound, 1024, USAGE);
            assertThat(src.buffer()).isEqualTo(whole.buffer());
            assertThat(src.offset()).isEqualTo(4096);
            assertThat(dst.offset()).isZero();
            assertThat(dst.ownsBuffer()).isTrue();
            assertThat(src.ownsBuffer()).isFalse();
            src.write(0, new int[] {1, 2, 3, 4});
            context.execute(context.transferQueue(), cmd -> {
                try (MemoryStack stack = MemoryStack.stackPush()) {
                    vkCmdCopyBuffer(cmd, src.buffer(), dst.buffer(), VkBufferCopy.calloc(1, stack)
                            .srcOffset(src.offset()).dstOffset(0).size(16));
                }
            });
            int[] back = new int[4];
            dst.read(0, back);
            assertThat(back).containsExactly(1, 2, 3, 4);
            // The bound buffer's bytes are the block's bytes at its offset, seen through the block-wide buffer too.
            int[] viaWhole = new int[4];
            VulkanBuffer.subRange(whole, block, bound, 16).read(0, viaWhole);
            assertThat(viaWhole).containsExactly(1, 2, 3, 4);
            src.close();
            assertThat(allocator.statistics().total().blockCount()).isEqualTo(1);
            dst.close();
            whole.close();
            block.close();
            block.close();
            assertThat(allocator.statistics().total().blockCount()).isZero();
        }
    }

    @Test
    void aBufferOutsideTheBlockOrMisalignedShouldBeRejectedWithNothingLeft(VulkanContext context) {
        try (VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context));
             VulkanMemory block = VulkanMemory.allocate(allocator, 64 * 1024, 256, 0, true, null)) {
            assertThatThrownBy(() -> block.createBuffer(60 * 1024, 8 * 1024, USAGE))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected: inside the block");
            long alignment = VulkanMemory.bufferRequirements(allocator, 256, USAGE).alignment();
            if (alignment > 1) {
                assertThatThrownBy(() -> block.createBuffer(alignment / 2, 256, USAGE))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alignment " + alignment);
            }
            assertThatThrownBy(() -> VulkanMemory.allocate(allocator, 0, 1, 0, true, null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("size: 0");
            assertThat(allocator.statistics().total().blockCount()).isEqualTo(1);
        }
    }

    @Test
    void everyDeviceMemoryAllocationShouldBeCountedAndHeard(VulkanContext context) {
        try (VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context))) {
            java.util.List<String> heard = new java.util.ArrayList<>();
            allocator.addDeviceMemoryListener(new VulkanMemoryAllocator.DeviceMemoryListener() {
                @Override
                public void allocated(int type, long memory, long size) {
                    heard.add("+" + size);
                }

                @Override
                public void freed(int type, long memory, long size) {
                    heard.add("-" + size);
                }
            });
            assertThat(allocator.deviceMemoryAllocationCount()).isZero();
            VulkanMemory a = VulkanMemory.allocate(allocator, 1 << 20, 256, 0, true, null);
            VulkanMemory b = VulkanMemory.allocate(allocator, 2 << 20, 256, 0, true, null);
            assertThat(allocator.deviceMemoryAllocationCount()).isEqualTo(2);
            assertThat(allocator.liveDeviceMemoryCount()).isEqualTo(2);
            a.close();
            assertThat(allocator.liveDeviceMemoryCount()).isEqualTo(1);
            b.close();
            assertThat(heard).containsExactly("+1048576", "+2097152", "-1048576", "-2097152");
        }
    }

    @Test
    void aDedicatedBufferShouldHaveMemoryOfItsOwnAndLeaveNothingWhenClosed(VulkanContext context) {
        try (VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context))) {
            VulkanMemory.DedicatedBuffer made = VulkanMemory.allocateDedicatedBuffer(allocator, 100_000, USAGE, 0,
                    "dedicated test");
            assertThat(allocator.liveDeviceMemoryCount()).isEqualTo(1);
            assertThat(made.memory().size()).isGreaterThanOrEqualTo(100_000);
            assertThat(made.buffer().ownsBuffer()).isTrue();
            made.buffer().write(99_996, new int[] {7});
            int[] back = new int[1];
            made.buffer().read(99_996, back);
            assertThat(back[0]).isEqualTo(7);
            made.buffer().close();
            made.memory().close();
            assertThat(allocator.liveDeviceMemoryCount()).isZero();
            assertThat(allocator.statistics().total().allocationCount()).isZero();
        }
    }

    @Test
    void aDedicatedBufferWhoseBindFailsShouldThrowThatFailureWhenFreeingItsMemoryThrowsAnError(
            VulkanContext context) {
        // The bind fails (a stand-in: no driver can be made to), so the memory made for the buffer is freed, and a
        // DeviceMemoryListener's freed() throws an Error, which VMA lets through once the memory is freed. The bind's
        // failure came first and must be thrown, the Error suppressed on it, and nothing be left.
        Error injected = new Error("freed() failed (injected by the test)");

        Throwable failure = dedicatedBufferWhoseBindFails(context, VK_ERROR_OUT_OF_HOST_MEMORY, injected);

        assertThat(failure).isInstanceOfSatisfying(VulkanException.class, e -> {
            assertThat(e.resultName()).isEqualTo("VK_ERROR_OUT_OF_HOST_MEMORY");
            assertThat(e.getSuppressed()).containsExactly(injected);
        });
    }

    @Test
    void aDedicatedBufferWhoseBindRunsOutOfDeviceMemoryShouldThrowTheErrorFromFreeingItsMemory(
            VulkanContext context) {
        // As above, but the bind fails with VK_ERROR_OUT_OF_DEVICE_MEMORY, which callers recover from (a block pool
        // tries other memory, gives back what no buffer uses, and may then succeed): the Error must not ride on it and
        // be lost with it, but be thrown, the bind's failure suppressed on it.
        Error injected = new Error("freed() failed (injected by the test)");

        Throwable failure = dedicatedBufferWhoseBindFails(context, VK_ERROR_OUT_OF_DEVICE_MEMORY, injected);

        assertThat(failure).isSameAs(injected);
        assertThat(injected.getSuppressed()).singleElement().isInstanceOfSatisfying(VulkanException.class,
                e -> assertThat(e.resultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY"));
    }

    /**
     * Makes a dedicated buffer whose bind fails with {@code bindResult} (through the bind seam: no driver can be made
     * to fail one) while freeing the memory made for it throws {@code injected}; checks that nothing is left.
     *
     * @return what the call threw
     */
    private static Throwable dedicatedBufferWhoseBindFails(VulkanContext context, int bindResult, Error injected) {
        try (VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context))) {
            FailingListeners.failFreedCall(allocator, 1, injected);
            Throwable failure = catchThrowable(() -> VulkanMemory.allocateDedicatedBuffer(allocator, 100_000, USAGE,
                    0, false, null, (vma, allocation, buffer) -> bindResult));
            assertThat(allocator.liveDeviceMemoryCount()).isZero();
            assertThat(allocator.statistics().total().allocationCount()).isZero();
            return failure;
        }
    }
}
