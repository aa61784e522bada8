package io.github.solvk.memory.vulkan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_PHYSICAL_DEVICE_TYPE_CPU;
import static org.lwjgl.vulkan.VK10.VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
import static org.lwjgl.vulkan.VK10.VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
import static org.lwjgl.vulkan.VK10.VK_PHYSICAL_DEVICE_TYPE_OTHER;
import static org.lwjgl.vulkan.VK10.VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU;
import static org.lwjgl.vulkan.VK10.VK_SHARING_MODE_EXCLUSIVE;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.vkCreateBuffer;
import static org.lwjgl.vulkan.VK10.vkDestroyBuffer;

import java.nio.LongBuffer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferCreateInfo;

import io.github.solvk.memory.testing.VulkanExtension;

@ExtendWith(VulkanExtension.class)
class VulkanContextTest {

    @Test
    void theTestContextShouldHaveValidationAndTheQueuesTheAllocatorNeeds(VulkanContext context) {
        assertThat(context.validationEnabled()).isTrue();
        assertThat(context.apiVersion()).isGreaterThanOrEqualTo(org.lwjgl.vulkan.VK11.VK_API_VERSION_1_1);
        assertThat(context.computeQueue()).isNotNull();
        assertThat(context.transferQueue()).isNotNull();
        assertThat(context.queueFamilyCount()).isPositive();
        assertThat(context.memoryProperties().types()).isNotEmpty();
        assertThat(context.deviceName()).isNotBlank();
        assertThat(context.toString()).contains(context.deviceName());
    }

    @Test
    void aValidationErrorShouldBeRecordedWithItsVuid(VulkanContext context) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer pBuffer = stack.mallocLong(1);
            int result = vkCreateBuffer(context.device(), VkBufferCreateInfo.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO)
                    .size(0)
                    .usage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                    .sharingMode(VK_SHARING_MODE_EXCLUSIVE), null, pBuffer);
            if (result == 0) {
                vkDestroyBuffer(context.device(), pBuffer.get(0), null);
            }
        }
        assertThat(context.validationErrors())
                .anySatisfy(m -> assertThat(m.idName()).contains("VUID-VkBufferCreateInfo-size-00912"));
        // The extension would fail this test for the error we provoked on purpose.
        context.clearValidationMessages();
        assertThat(context.validationMessages()).isEmpty();
    }

    @Test
    void devicesShouldBeRankedDiscreteIntegratedVirtualCpuOther() {
        assertThat(VulkanContext.typeRank(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU))
                .isLessThan(VulkanContext.typeRank(VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU));
        assertThat(VulkanContext.typeRank(VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU))
                .isLessThan(VulkanContext.typeRank(VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU));
        assertThat(VulkanContext.typeRank(VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU))
                .isLessThan(VulkanContext.typeRank(VK_PHYSICAL_DEVICE_TYPE_CPU));
        assertThat(VulkanContext.typeRank(VK_PHYSICAL_DEVICE_TYPE_CPU))
                .isLessThan(VulkanContext.typeRank(VK_PHYSICAL_DEVICE_TYPE_OTHER));
    }

    @Test
    void aDeviceShouldBePickedByIndexOrByPartOfItsName(VulkanContext shared) {
        String part = shared.deviceName().substring(0, Math.min(5, shared.deviceName().length())).toUpperCase();
        try (VulkanContext byName = VulkanContext.builder().validation(false).device(part).build()) {
            assertThat(byName.deviceName()).isEqualTo(shared.deviceName());
            assertThat(byName.validationEnabled()).isFalse();
        }
        try (VulkanContext byIndex = VulkanContext.builder().validation(false).device("0").build()) {
            assertThat(byIndex.deviceName()).isNotBlank();
            byIndex.close();
            assertThat(byIndex.isClosed()).isTrue();
            assertThatThrownBy(byIndex::device).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("is closed");
        }
    }

    @Test
    void aSelectorThatMatchesNoDeviceShouldNameTheChoices() {
        assertThatThrownBy(() -> VulkanContext.builder().validation(false).device("no-such-gpu-xyz").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("device selector: no-such-gpu-xyz (expected: an index below");
        assertThatThrownBy(() -> VulkanContext.builder().validation(false).device("99").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("device selector: 99");
    }

    @Test
    void anIndexWithLeadingZerosShouldSelectThatDevice() {
        // Ten digits, but the index 0: only the value may rule an index out, not how many digits spell it.
        try (VulkanContext byIndex = VulkanContext.builder().validation(false).device("0000000000").build()) {
            assertThat(byIndex.deviceName()).isNotBlank();
        }
        assertThatThrownBy(() -> VulkanContext.builder().validation(false).device("99999999999999999999").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("device selector: 99999999999999999999 (expected: an index below");
    }

    @Test
    void aWrappedContextShouldBorrowTheDevice(VulkanContext shared) {
        VulkanContext wrapped = VulkanContext.wrap(shared.instance(), shared.physicalDevice(), shared.device(),
                shared.apiVersion(), shared.features(), shared.graphicsQueue(), shared.computeQueue(),
                shared.transferQueue());
        wrapped.execute(wrapped.transferQueue(), cmd -> { });
        wrapped.close();
        // The shared device still works: the wrapper destroyed only its own command pool.
        shared.execute(shared.transferQueue(), cmd -> { });
        assertThat(shared.isClosed()).isFalse();
    }
}
