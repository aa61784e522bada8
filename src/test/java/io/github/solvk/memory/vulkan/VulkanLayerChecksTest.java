package io.github.solvk.memory.vulkan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

import io.github.solvk.memory.testing.VulkanExtension;

/**
 * The Vulkan layer's own checks: ranges within their memory, alignments, sizes and usages refused before any Vulkan
 * call, views of closed blocks, an allocator closed under live buffers, simulated layouts, device selectors.
 */
@ExtendWith(VulkanExtension.class)
class VulkanLayerChecksTest {

    private static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
            | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;

    @Test
    void aWrappedNonCoherentRangeAtTheEndOfItsMemoryShouldBeFlushedWithoutPassingTheMemorysEnd(
            VulkanContext context) {
        long atom = context.memoryProperties().nonCoherentAtomSize();
        assertThat(atom).as("lavapipe's nonCoherentAtomSize").isGreaterThan(1);
        long memorySize = 3 * atom + atom / 2;
        try (VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context));
             VulkanMemory block = VulkanMemory.allocate(allocator, memorySize, 256, 0, true, null)) {
            assertThat(block.size()).isEqualTo(memorySize);
            long buffer = block.createBoundBuffer(0, memorySize, USAGE, memorySize, false);
            try {
                // The engine's buffer as the engine describes it: on memory that is HOST_VISIBLE but not coherent.
                VulkanBuffer wrapped = VulkanBuffer.wrap(context.device(), buffer, 0, memorySize, USAGE, 0,
                        MemoryProperties.HOST_VISIBLE, block.deviceMemory(), block.memoryOffset(), memorySize,
                        block.mappedAddress(), atom);
                assertThatThrownBy(() -> VulkanBuffer.wrap(context.device(), buffer, 64, memorySize, USAGE, 0,
                        MemoryProperties.HOST_VISIBLE, block.deviceMemory(), 0, memorySize, block.mappedAddress(),
                        atom)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("offset 64, size " + memorySize);
                wrapped.write(memorySize - 8, new byte[8]);
                wrapped.flush(memorySize - 1, 1);
                wrapped.invalidate(0, memorySize);
                wrapped.close();
            } finally {
                block.destroyBuffer(buffer);
            }
        }
        assertThat(context.validationErrors()).isEmpty();
    }

    @Test
    void anAlignmentThatIsNotAPowerOfTwoShouldBeRejectedWithNothingAllocated(VulkanContext context) {
        try (VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context))) {
            for (long alignment : new long[] {24, -64}) {
                assertThatThrownBy(() -> VulkanMemory.allocate(allocator, 4096, alignment, 0, false, null))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("alignment: " + alignment);
            }
            assertThat(allocator.statistics().total().allocationCount()).isZero();
        }
    }

    @Test
    void aDedicatedBufferOfSizeZeroShouldBeRejectedBeforeAnyVulkanCall(VulkanContext context) {
        try (VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context))) {
            assertThatThrownBy(() -> VulkanMemory.allocateDedicatedBuffer(allocator, 0, USAGE, 0, null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("size: 0");
            assertThatThrownBy(() -> VulkanMemory.allocateDedicatedBuffer(allocator, 64, 0, 0, null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("usage: 0");
            assertThatThrownBy(() -> VulkanMemory.bufferRequirements(allocator, -1, USAGE))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("size: -1");
            assertThat(allocator.statistics().total().allocationCount()).isZero();
        }
        assertThat(context.validationErrors()).isEmpty();
    }

    @Test
    void aSimulatedLayoutWithMoreHeapsThanTheDeviceShouldBeRejected(VulkanContext context) {
        MemoryProperties real = context.memoryProperties();
        List<MemoryProperties.Heap> heaps = new java.util.ArrayList<>(real.heaps());
        heaps.add(new MemoryProperties.Heap(1L << 30, 0));
        MemoryProperties twoHeaps = new MemoryProperties(heaps, real.types(), real.bufferImageGranularity(),
                real.nonCoherentAtomSize());
        VulkanMemoryAllocator.Settings settings = VulkanMemoryAllocator.Settings.forContext(context)
                .withSimulatedMemoryProperties(twoHeaps);
        VulkanMemoryAllocator allocator;
        try {
            allocator = VulkanMemoryAllocator.create(settings);
        } catch (IllegalArgumentException expected) {
            assertThat(expected).hasMessageContaining("heap count: " + heaps.size() + " (expected: the device's "
                    + real.heaps().size() + ")");
            return;
        }
        try (allocator) {
            // VMA fills a budget only for the device's heaps: what the allocator reports for the simulated extra heap
            // is whatever the thread's MemoryStack held. Leave a recognisable pattern there first.
            try (MemoryStack stack = MemoryStack.stackPush()) {
                MemoryUtil.memSet(stack.malloc(4096), 0x5A);
            }
            List<VulkanMemoryAllocator.Budget> budgets = allocator.budgets();
            assertThat(budgets.get(heaps.size() - 1).budgetBytes())
                    .as("budget of the simulated heap, which VMA never wrote").isNotEqualTo(0x5A5A5A5A5A5A5A5AL);
            throw new AssertionError("a layout of " + heaps.size() + " heaps was accepted on a device of "
                    + real.heaps().size() + ": budgets " + budgets);
        }
    }

    @Test
    void aDeviceIndexTooLargeForAnIntShouldNameTheChoices() {
        assertThatThrownBy(() -> VulkanContext.builder().validation(false).device("99999999999").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("device selector: 99999999999 (expected: an index below");
    }

    @Test
    void aBorrowedViewOutsideItsBlockOrOfAClosedBlockShouldBeRejected(VulkanContext context) {
        try (VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context))) {
            VulkanMemory block = VulkanMemory.allocate(allocator, 64 * 1024, 256, 0, true, null);
            long buffer = block.createBoundBuffer(0, 4096, USAGE, 4096, false);
            try {
                // A view past the block's end would let write() reach past the block's mapping.
                assertThatThrownBy(() -> block.borrowBuffer(buffer, 60 * 1024, 8 * 1024, USAGE))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("offset 61440, size 8192");
                assertThatThrownBy(() -> block.borrowBuffer(buffer, -256, 4096, USAGE))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("offset -256");
                assertThatThrownBy(() -> block.borrowBuffer(buffer, 0, 0, USAGE))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("size 0");
                VulkanBuffer whole = block.createBlockBuffer(USAGE);
                whole.close();
                // The block buffer is gone: a range of it would name a destroyed VkBuffer.
                assertThatThrownBy(() -> VulkanBuffer.subRange(whole, block, 0, 256))
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
            } finally {
                block.destroyBuffer(buffer);
            }
            block.close();
            // The block's memory is freed: a view of it would write into freed memory.
            assertThatThrownBy(() -> block.borrowBuffer(buffer, 0, 4096, USAGE))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        }
    }

    @Test
    void aBoundBufferWithNoUsageShouldBeRejectedBeforeAnyVulkanCall(VulkanContext context) {
        try (VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context));
             VulkanMemory block = VulkanMemory.allocate(allocator, 64 * 1024, 256, 0, true, null)) {
            assertThatThrownBy(() -> block.createBuffer(0, 256, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("usage: 0");
        }
        assertThat(context.validationErrors()).isEmpty();
    }

    @Test
    void closingAnAllocatorWithLiveBuffersShouldBeRefusedAndLeakNothing(VulkanContext context) {
        VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context));
        VulkanBuffer buffer = allocator.createBuffer(new VulkanMemoryAllocator.BufferRequest(1024, USAGE, null,
                VulkanMemoryAllocator.USAGE_AUTO, 0, 0, 0, 0, "live"));
        try {
            assertThatThrownBy(allocator::close).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("1 live allocation");
            assertThat(allocator.isClosed()).isFalse();
        } finally {
            buffer.close();
            allocator.close();
        }
        assertThat(allocator.isClosed()).isTrue();
    }
}
