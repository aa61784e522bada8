package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.IBufferAllocator.OnAllocationFailure;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/** VMA's rules on allocation flags, which lwjgl-vma does not assert, checked by the manager. */
@ExtendWith(VulkanExtension.class)
class ManagerFlagRulesTest {

    private static AllocationInfo.Builder storage(MemoryUsage usage) {
        return AllocationInfo.builder().size(256)
                .bufferUsage(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                .memoryUsage(usage);
    }

    /**
     * VMA's rule for its automatic usages (which DEVICE_ONLY and AUTO* become): MAPPED and HOST_ACCESS_ALLOW_TRANSFER_
     * INSTEAD need a HOST_ACCESS_* pattern. lwjgl-vma has no asserts, so VMA does not catch it: the manager must, as a
     * caller bug, whatever OnAllocationFailure says.
     */
    @Test
    void mappedOrTransferInsteadWithoutHostAccessShouldBeRejectedWithNothingMade(MemoryManager manager) {
        AllocationInfo[] bad = {
            storage(MemoryUsage.DEVICE_ONLY).mapped().build(),
            storage(MemoryUsage.AUTO).mapped().build(),
            storage(MemoryUsage.AUTO_PREFER_HOST).mapped().build(),
            storage(MemoryUsage.AUTO_PREFER_DEVICE)
                    .allocationFlags(AllocationFlags.HOST_ACCESS_ALLOW_TRANSFER_INSTEAD).build(),
        };
        for (AllocationInfo info : bad) {
            for (OnAllocationFailure onFailure : new OnAllocationFailure[] {OnAllocationFailure.THROW,
                    OnAllocationFailure.EMPTY}) {
                VulkanMemoryAllocator.Statistics before = manager.statistics().total();
                assertThatThrownBy(() -> {
                    IBuffer made = manager.allocateBuffer(info, onFailure);
                    if (made != null) {
                        made.close();
                    }
                }).as(info + " " + onFailure).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("allocationFlags: 0x" + Integer.toHexString(info.allocationFlags()))
                        .hasMessageContaining("memoryUsage " + info.memoryUsage());
                assertThat(manager.statistics().total()).isEqualTo(before);
                assertThat(manager.liveBufferCount()).isZero();
            }
        }
        // With a host access pattern, named or implied by the usage, both are fine.
        try (IBuffer a = manager.allocateBuffer(storage(MemoryUsage.AUTO).mapped()
                     .hostAccess(HostAccess.SEQUENTIAL_WRITE).build());
             IBuffer b = manager.allocateBuffer(storage(MemoryUsage.UPLOAD).mapped().build());
             IBuffer c = manager.allocateBuffer(storage(MemoryUsage.AUTO).allocationFlags(
                     AllocationFlags.HOST_ACCESS_RANDOM | AllocationFlags.HOST_ACCESS_ALLOW_TRANSFER_INSTEAD
                             | AllocationFlags.MAPPED).build())) {
            assertThat(a.mappedAddress()).isNotZero();
            assertThat(b.mappedAddress()).isNotZero();
            assertThat(c.size()).isEqualTo(256);
        }
    }
    @Test
    void aDeviceAddressUsageShouldBeRejectedWhenTheAllocatorHasNoBufferDeviceAddress(
            io.github.solvk.memory.vulkan.VulkanContext context) {
        try (MemoryManager manager = MemoryManager.create(context, s -> s.withFlags(s.flags()
                & ~org.lwjgl.util.vma.Vma.VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT))) {
            AllocationInfo info = storage(MemoryUsage.DEVICE_ONLY)
                    .bufferUsage(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | 0x20000).build();
            for (OnAllocationFailure onFailure : new OnAllocationFailure[] {OnAllocationFailure.THROW,
                    OnAllocationFailure.EMPTY}) {
                assertThatThrownBy(() -> manager.allocateBuffer(info, onFailure)).as(onFailure.toString())
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bufferUsage: 0x20020")
                        .hasMessageContaining("VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT");
            }
            assertThat(manager.statistics().total().allocationCount()).isZero();
            manager.allocateBuffer(storage(MemoryUsage.DEVICE_ONLY).build()).close();
        }
    }
}
