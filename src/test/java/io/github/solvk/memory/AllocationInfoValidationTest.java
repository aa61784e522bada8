package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.solvk.memory.vulkan.MemoryProperties;
import org.junit.jupiter.api.Test;

/**
 * {@link IBufferAllocator.AllocationInfo} promises that every check that needs no device runs when it is built: the
 * memory flags and the usage/host-access rules need none. No device needed.
 */
class AllocationInfoValidationTest {

    private static IBufferAllocator.AllocationInfo.Builder storage() {
        return IBufferAllocator.AllocationInfo.builder().size(256).bufferUsage(0x20);
    }

    @Test
    void unknownMemoryFlagBitsShouldBeRejectedWhenBuilt() {
        assertThatThrownBy(() -> storage().requiredMemoryFlags(0x200).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("requiredFlags: 0x200 (expected: only VkMemoryPropertyFlagBits within 0x1ff)");
        assertThatThrownBy(() -> storage().preferredMemoryFlags(0x8000_0000).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("preferredFlags: 0x80000000 (expected: ");
    }

    @Test
    void unknownBufferUsageBitsShouldBeRejectedWhenBuilt() {
        // 0x40000 is a gap among VkBufferUsageFlagBits; 0x40000000 lies above every bit LWJGL 3.4.3 defines.
        assertThatThrownBy(() -> storage().bufferUsage(0x20 | 0x40000).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bufferUsage: 0x40020 (expected: VkBufferUsageFlagBits within 0x1ffbffff, unknown:"
                        + " 0x40000)");
        assertThatThrownBy(() -> storage().bufferUsage(0x4000_0000).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("bufferUsage: 0x40000000");
        assertThatThrownBy(() -> io.github.solvk.memory.pool.BlockRequest.of(256, 0x40020,
                io.github.solvk.memory.pool.MemoryTypeFilter.ofFlags(0, 0, 0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("usage: 0x40020 (expected: ");
    }

    @Test
    void usageAndHostAccessContradictionsShouldBeRejectedWhenBuilt() {
        assertThatThrownBy(() -> storage().memoryUsage(MemoryUsage.UPLOAD).hostAccess(HostAccess.RANDOM).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("host access: RANDOM (expected: SEQUENTIAL_WRITE or NONE for usage UPLOAD, which implies"
                        + " SEQUENTIAL_WRITE)");
        // DEVICE_ONLY with hostAccess RANDOM is refused at build time already; named by VMA's flag it must be too.
        assertThatThrownBy(() -> storage().memoryUsage(MemoryUsage.DEVICE_ONLY)
                .allocationFlags(AllocationFlags.HOST_ACCESS_RANDOM).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(expected: ");
        assertThatThrownBy(() -> storage().memoryUsage(MemoryUsage.DEVICE_ONLY)
                .requiredMemoryFlags(MemoryProperties.HOST_VISIBLE).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("HOST_VISIBLE (expected: no host-side flag for usage DEVICE_ONLY");
        assertThatThrownBy(() -> storage().memoryUsage(MemoryUsage.GPU_LAZILY_ALLOCATED)
                .hostAccess(HostAccess.SEQUENTIAL_WRITE).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(expected: NONE");
        assertThatThrownBy(() -> storage().hostAccess(HostAccess.RANDOM)
                .allocationFlags(AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(expected: one host access");
    }

    @Test
    void consistentRequestsShouldStillBuild() {
        assertThatCode(() -> storage().memoryUsage(MemoryUsage.DOWNLOAD).build()).doesNotThrowAnyException();
        assertThatCode(() -> storage().memoryUsage(MemoryUsage.UPLOAD)
                .allocationFlags(AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE).build()).doesNotThrowAnyException();
        assertThatCode(() -> storage().memoryUsage(MemoryUsage.AUTO).hostAccess(HostAccess.RANDOM)
                .requiredMemoryFlags(MemoryProperties.DEVICE_LOCAL).build()).doesNotThrowAnyException();
    }
}
