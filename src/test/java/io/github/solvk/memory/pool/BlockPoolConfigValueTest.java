package io.github.solvk.memory.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;

import io.github.solvk.memory.suballocator.SuballocatorFactory;
import io.github.solvk.memory.suballocator.SuballocatorKind;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import org.junit.jupiter.api.Test;
import org.lwjgl.vulkan.EXTDescriptorBuffer;
import org.lwjgl.vulkan.KHRAccelerationStructure;
import org.lwjgl.vulkan.VK12;

/** {@link BlockPoolAllocator.Config} as a value: equal settings make equal, readable configs. No device needed. */
class BlockPoolConfigValueTest {

    @Test
    void equalSettingsShouldMakeEqualConfigs() {
        BlockPoolAllocator.Config a = BlockPoolAllocator.Config.defaults();
        BlockPoolAllocator.Config b = BlockPoolAllocator.Config.defaults();
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        BlockPoolAllocator.Config buddy = BlockPoolAllocator.Config.builder()
                .suballocatorFactory(SuballocatorFactory.of(SuballocatorKind.BUDDY)).blockSize(1, 1 << 20).build();
        assertThat(buddy).isEqualTo(BlockPoolAllocator.Config.builder().blockSize(1, 1 << 20)
                .suballocatorFactory(SuballocatorFactory.of(SuballocatorKind.BUDDY)).build());
        assertThat(buddy).isNotEqualTo(a);
    }

    @Test
    void toStringShouldNameTheAlgorithm() {
        assertThat(BlockPoolAllocator.Config.defaults().toString()).contains("TLSF").doesNotContain("$$Lambda");
        assertThat(SuballocatorFactory.of(SuballocatorKind.BUDDY).toString()).contains("BUDDY");
    }
    @Test
    void unknownSubRangeUsageBitsShouldBeRefusedWhenBuilt() {
        assertThatThrownBy(() -> BlockPoolAllocator.Config.builder().subRangeUsage(0x40000 | 0x20).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("subRangeUsage: 0x40020 (expected: VkBufferUsageFlagBits within 0x1ffbffff, unknown:"
                        + " 0x40000)");
        assertThatThrownBy(() -> BlockPoolAllocator.Config.builder().subRangeUsage(1 << 31).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("subRangeUsage: 0x80000000 (");
        // Extensions' bits are usage too: acceleration structure storage, descriptor buffers, device addresses.
        int extensions = KHRAccelerationStructure.VK_BUFFER_USAGE_ACCELERATION_STRUCTURE_STORAGE_BIT_KHR
                | EXTDescriptorBuffer.VK_BUFFER_USAGE_RESOURCE_DESCRIPTOR_BUFFER_BIT_EXT
                | VK12.VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
        assertThat(BlockPoolAllocator.Config.builder().subRangeUsage(0x20 | extensions).build().subRangeUsage())
                .isEqualTo(0x20 | extensions);
        assertThat(BlockPoolAllocator.Config.builder().subRangeUsage(VulkanBuffer.KNOWN_USAGE_FLAGS).build()
                .subRangeUsage()).isEqualTo(VulkanBuffer.KNOWN_USAGE_FLAGS);
    }

    @Test
    void aNullHeapIndexOrSizeShouldBeNamed() {
        Map<Integer, Long> sizes = new HashMap<>();
        sizes.put(0, null);
        BlockPoolAllocator.Config d = BlockPoolAllocator.Config.defaults();
        assertThatThrownBy(() -> new BlockPoolAllocator.Config(sizes, d.suballocatorFactory(), d.bufferMode(),
                d.subRangeUsage(), d.maxEmptyBlocks(), d.arenas(), d.threadCacheBytes(), d.recycleBuffers()))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("blockSizes entry 0 -> null");
    }
}
