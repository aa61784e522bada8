package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import org.junit.jupiter.api.Test;
import org.lwjgl.vulkan.KHRAccelerationStructure;

import io.github.solvk.memory.IMemoryPool.CreateInfo;
import io.github.solvk.memory.vulkan.MemoryProperties;

/**
 * {@link IMemoryPool.CreateInfo} refuses a bad flag where it is given, in the constructor, {@link CreateInfo#of} and
 * the {@code with} methods, as {@link IBufferAllocator.AllocationInfo} does when it is built: none of these checks
 * needs a device, so none waits for the pool's creation. No device needed.
 */
class CreateInfoValidationTest {

    private static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    private static final long BLOCK = 64 * 1024;

    private static CreateInfo withAllocationFlags(MemoryUsage usage, int allocationFlags) {
        return new CreateInfo(0, USAGE, usage, 0, 0, allocationFlags, BLOCK, 1, 1);
    }

    @Test
    void unknownMemoryFlagBitsShouldBeRefusedWhenGiven() {
        CreateInfo info = CreateInfo.of(USAGE, MemoryUsage.AUTO, BLOCK);
        assertThatThrownBy(() -> info.withMemoryFlags(0x200, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("requiredFlags: 0x200 (expected: only VkMemoryPropertyFlagBits within 0x1ff)");
        assertThatThrownBy(() -> info.withMemoryFlags(0, 0x8000_0000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("preferredFlags: 0x80000000 (expected: only VkMemoryPropertyFlagBits within 0x1ff)");
    }

    @Test
    void memoryFlagsNoMemoryTypeMayHaveShouldBeRefusedWhenGiven() {
        CreateInfo info = CreateInfo.of(USAGE, MemoryUsage.AUTO, BLOCK);
        assertThatThrownBy(() -> info.withMemoryFlags(MemoryProperties.LAZILY_ALLOCATED
                | MemoryProperties.HOST_VISIBLE, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("required flags: ")
                .hasMessageContaining("(expected: a combination a memory type may have;");
    }

    @Test
    void hostAccessTheMemoryUsageForbidsShouldBeRefusedWhenGiven() {
        assertThatThrownBy(() -> withAllocationFlags(MemoryUsage.DEVICE_ONLY, AllocationFlags.HOST_ACCESS_RANDOM))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("host access: RANDOM (expected: NONE for usage DEVICE_ONLY, whose memory is never mapped)");
        assertThatThrownBy(() -> withAllocationFlags(MemoryUsage.UPLOAD, AllocationFlags.HOST_ACCESS_RANDOM))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("host access: RANDOM (expected: SEQUENTIAL_WRITE or NONE for usage UPLOAD, which implies"
                        + " SEQUENTIAL_WRITE)");
        assertThatThrownBy(() -> withAllocationFlags(MemoryUsage.DOWNLOAD,
                AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("host access: SEQUENTIAL_WRITE (expected: RANDOM or NONE for usage DOWNLOAD");
        assertThatThrownBy(() -> CreateInfo.of(USAGE, MemoryUsage.DEVICE_ONLY, BLOCK)
                .withMemoryFlags(0, MemoryProperties.HOST_CACHED))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("required or preferred flags: HOST_CACHED (expected: no host-side flag for usage"
                        + " DEVICE_ONLY, whose memory is never mapped)");
        assertThatThrownBy(() -> withAllocationFlags(MemoryUsage.GPU_LAZILY_ALLOCATED,
                AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(expected: NONE for usage");
    }

    @Test
    void unknownBufferUsageBitsShouldBeRefusedWhenGiven() {
        assertThatThrownBy(() -> CreateInfo.of(USAGE | 0x40000, MemoryUsage.DEVICE_ONLY, BLOCK))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bufferUsage: 0x40021 (expected: VkBufferUsageFlagBits within 0x1ffbffff, unknown:"
                        + " 0x40000)");
        int storage = KHRAccelerationStructure.VK_BUFFER_USAGE_ACCELERATION_STRUCTURE_STORAGE_BIT_KHR;
        assertThat(CreateInfo.of(storage, MemoryUsage.DEVICE_ONLY, BLOCK).bufferUsage()).isEqualTo(storage);
    }

    @Test
    void consistentInfosShouldStillBeMade() {
        assertThatCode(() -> withAllocationFlags(MemoryUsage.UPLOAD, AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE))
                .doesNotThrowAnyException();
        assertThatCode(() -> withAllocationFlags(MemoryUsage.DOWNLOAD, AllocationFlags.HOST_ACCESS_RANDOM
                | AllocationFlags.MAPPED)).doesNotThrowAnyException();
        assertThatCode(() -> withAllocationFlags(MemoryUsage.AUTO, AllocationFlags.HOST_ACCESS_RANDOM)
                .withMemoryFlags(MemoryProperties.DEVICE_LOCAL, MemoryProperties.HOST_CACHED))
                .doesNotThrowAnyException();
        assertThatCode(() -> CreateInfo.of(USAGE, MemoryUsage.DEVICE_ONLY, BLOCK)
                .withMemoryFlags(MemoryProperties.DEVICE_LOCAL, 0).withCreateFlags(CreateInfo.BUDDY_ALGORITHM)
                .withBlocks(0, 4)).doesNotThrowAnyException();
    }

    @Test
    void blockSizesNoPoolCouldTakeShouldBeRefusedWhenGiven() {
        long tooLarge = io.github.solvk.memory.suballocator.Suballocator.MAX_REGION_END + 1;
        assertThatThrownBy(() -> CreateInfo.of(USAGE, MemoryUsage.AUTO, tooLarge))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("blockSize: " + tooLarge + " (expected: 1.." + (tooLarge - 1) + ")");
        CreateInfo small = CreateInfo.of(USAGE, MemoryUsage.UPLOAD, 2 * CreateInfo.GUARD_MARGIN_BYTES - 1);
        assertThatThrownBy(() -> small.withCreateFlags(CreateInfo.GUARD_MARGINS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("blockSize: 127 with GUARD_MARGINS (expected: >= 128, room for a buffer and its 64-byte"
                        + " margin)");
        assertThatCode(() -> CreateInfo.of(USAGE, MemoryUsage.UPLOAD, 2 * CreateInfo.GUARD_MARGIN_BYTES)
                .withCreateFlags(CreateInfo.GUARD_MARGINS)).doesNotThrowAnyException();
    }
}
