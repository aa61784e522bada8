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
import static org.lwjgl.vulkan.VK10.VK_COMMAND_BUFFER_LEVEL_PRIMARY;
import static org.lwjgl.vulkan.VK10.VK_PIPELINE_STAGE_HOST_BIT;
import static org.lwjgl.vulkan.VK10.VK_PIPELINE_STAGE_TRANSFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_EVENT_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_SUBMIT_INFO;
import static org.lwjgl.vulkan.VK10.VK_SUCCESS;
import static org.lwjgl.vulkan.VK10.vkAllocateCommandBuffers;
import static org.lwjgl.vulkan.VK10.vkBeginCommandBuffer;
import static org.lwjgl.vulkan.VK10.vkCmdWaitEvents;
import static org.lwjgl.vulkan.VK10.vkCreateBuffer;
import static org.lwjgl.vulkan.VK10.vkCreateCommandPool;
import static org.lwjgl.vulkan.VK10.vkCreateEvent;
import static org.lwjgl.vulkan.VK10.vkCreateFence;
import static org.lwjgl.vulkan.VK10.vkDestroyBuffer;
import static org.lwjgl.vulkan.VK10.vkDestroyCommandPool;
import static org.lwjgl.vulkan.VK10.vkDestroyEvent;
import static org.lwjgl.vulkan.VK10.vkDestroyFence;
import static org.lwjgl.vulkan.VK10.vkEndCommandBuffer;
import static org.lwjgl.vulkan.VK10.vkQueueSubmit;
import static org.lwjgl.vulkan.VK10.vkSetEvent;
import static org.lwjgl.vulkan.VK10.vkWaitForFences;

import java.nio.LongBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferCreateInfo;
import org.lwjgl.vulkan.VkCommandBuffer;
import org.lwjgl.vulkan.VkCommandBufferAllocateInfo;
import org.lwjgl.vulkan.VkCommandBufferBeginInfo;
import org.lwjgl.vulkan.VkCommandPoolCreateInfo;
import org.lwjgl.vulkan.VkDevice;
import org.lwjgl.vulkan.VkEventCreateInfo;
import org.lwjgl.vulkan.VkFenceCreateInfo;
import org.lwjgl.vulkan.VkSubmitInfo;

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
    void aBlankSelectorShouldBeRejectedNotMatchTheLoadersFirstDevice() {
        // Every name contains "": a blank selector picked the loader's first device, not the ranked choice.
        for (String blank : new String[] {"", "  "}) {
            VulkanContext.Builder builder = VulkanContext.builder().validation(false);
            assertThatThrownBy(() -> builder.device(blank)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("selector: '" + blank + "' (expected: an index, part of a device name, or"
                            + " null for the default order)");
        }
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

    @Test
    void wrappingAQueueOfAFamilyTheDeviceLacksShouldBeRejected(VulkanContext shared) {
        // Else execute() made a command pool for that family: a validation error, or worse on a driver without it.
        VulkanContext.Queue bad = new VulkanContext.Queue(shared.transferQueue().handle(), shared.queueFamilyCount());
        assertThatThrownBy(() -> VulkanContext.wrap(shared.instance(), shared.physicalDevice(), shared.device(),
                shared.apiVersion(), shared.features(), shared.graphicsQueue(), shared.computeQueue(), bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("transfer: queue family " + shared.queueFamilyCount() + " (expected: below "
                        + shared.queueFamilyCount());
    }

    /**
     * {@code vkDeviceWaitIdle} needs every queue of the device held by the caller, and waits for the engine's work as
     * well as ours: closing a borrowed context must do neither. The engine's work here is a command buffer that waits
     * on an event only the host sets, so a close that waits for the device would not return until the event is set.
     */
    @Test
    void closingAWrappedContextShouldNotWaitForTheEnginesWork(VulkanContext shared) throws Exception {
        VulkanContext wrapped = VulkanContext.wrap(shared.instance(), shared.physicalDevice(), shared.device(),
                shared.apiVersion(), shared.features(), shared.graphicsQueue(), shared.computeQueue(),
                shared.transferQueue());
        wrapped.execute(wrapped.transferQueue(), cmd -> { });
        VkDevice device = shared.device();
        VulkanContext.Queue queue = shared.graphicsQueue();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer handle = stack.mallocLong(1);
            check(vkCreateEvent(device, VkEventCreateInfo.calloc(stack).sType(VK_STRUCTURE_TYPE_EVENT_CREATE_INFO),
                    null, handle));
            long event = handle.get(0);
            check(vkCreateFence(device, VkFenceCreateInfo.calloc(stack).sType(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO),
                    null, handle));
            long fence = handle.get(0);
            check(vkCreateCommandPool(device, VkCommandPoolCreateInfo.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO).queueFamilyIndex(queue.familyIndex()),
                    null, handle));
            long pool = handle.get(0);
            PointerBuffer pCommandBuffer = stack.mallocPointer(1);
            check(vkAllocateCommandBuffers(device, VkCommandBufferAllocateInfo.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO).commandPool(pool)
                    .level(VK_COMMAND_BUFFER_LEVEL_PRIMARY).commandBufferCount(1), pCommandBuffer));
            VkCommandBuffer cmd = new VkCommandBuffer(pCommandBuffer.get(0), device);
            check(vkBeginCommandBuffer(cmd, VkCommandBufferBeginInfo.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO)));
            vkCmdWaitEvents(cmd, stack.longs(event), VK_PIPELINE_STAGE_HOST_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                    null, null, null);
            check(vkEndCommandBuffer(cmd));
            check(vkQueueSubmit(queue.handle(), VkSubmitInfo.calloc(stack).sType(VK_STRUCTURE_TYPE_SUBMIT_INFO)
                    .pCommandBuffers(stack.pointers(cmd)), fence));
            ExecutorService closer = Executors.newSingleThreadExecutor();
            try {
                Future<?> closing = closer.submit(wrapped::close);
                boolean returned;
                try {
                    closing.get(5, TimeUnit.SECONDS);
                    returned = true;
                } catch (TimeoutException e) {
                    returned = false;
                }
                // Let the engine's work finish whatever happened, then clean up before asserting.
                check(vkSetEvent(device, event));
                check(vkWaitForFences(device, stack.longs(fence), true, Long.MAX_VALUE));
                closing.get(30, TimeUnit.SECONDS);
                assertThat(returned).as("close() of a borrowed context returned while the engine's work ran")
                        .isTrue();
                assertThat(wrapped.isClosed()).isTrue();
            } finally {
                closer.shutdownNow();
                vkDestroyCommandPool(device, pool, null);
                vkDestroyFence(device, fence, null);
                vkDestroyEvent(device, event, null);
            }
        }
        shared.execute(shared.transferQueue(), cmd -> { });
    }

    private static void check(int result) {
        assertThat(result).as("VkResult").isEqualTo(VK_SUCCESS);
    }
}
