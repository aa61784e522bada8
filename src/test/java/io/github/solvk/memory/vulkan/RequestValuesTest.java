package io.github.solvk.memory.vulkan;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.testing.VulkanExtension;

/** The Vulkan layer's request records are values: arrays compared by content and copied in and out. */
@ExtendWith(VulkanExtension.class)
class RequestValuesTest {

    @Test
    void bufferRequestsShouldCompareTheirQueueFamiliesByContentAndKeepTheirOwnCopy() {
        int[] families = {0, 1};
        VulkanMemoryAllocator.BufferRequest a = new VulkanMemoryAllocator.BufferRequest(256, 0x20, families,
                VulkanMemoryAllocator.USAGE_AUTO, 0, 0, 0, 0, "a");
        VulkanMemoryAllocator.BufferRequest b = new VulkanMemoryAllocator.BufferRequest(256, 0x20, new int[] {0, 1},
                VulkanMemoryAllocator.USAGE_AUTO, 0, 0, 0, 0, "a");
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a.toString()).contains("concurrentFamilies=[0, 1]");
        families[1] = 7;
        a.concurrentFamilies()[0] = 9;
        assertThat(a.concurrentFamilies()).as("neither the caller's array nor the returned one changes it")
                .containsExactly(0, 1);
        assertThat(a).isEqualTo(b);
    }

    @Test
    void settingsShouldHandOutACopyOfTheirHeapLimits(VulkanContext context) {
        VulkanMemoryAllocator.Settings settings = VulkanMemoryAllocator.Settings.forContext(context)
                .withHeapSizeLimits(1L << 20);
        settings.heapSizeLimits()[0] = 5;
        assertThat(settings.heapSizeLimits()).containsExactly(1L << 20);
        assertThat(settings).isEqualTo(VulkanMemoryAllocator.Settings.forContext(context).withHeapSizeLimits(1L << 20));
    }
}
