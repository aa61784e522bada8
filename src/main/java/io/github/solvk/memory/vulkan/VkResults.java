package io.github.solvk.memory.vulkan;

import static org.lwjgl.vulkan.VK10.VK_SUCCESS;

/** The one place where {@code VkResult}s are checked and named. */
public final class VkResults {

    private VkResults() {
    }

    /**
     * Throws when a call failed. Positive results ({@code VK_INCOMPLETE}, {@code VK_TIMEOUT}...) are successes.
     *
     * @param result the {@code VkResult}
     * @param call   the call's name, for the message
     * @throws VulkanException when {@code result} is negative
     */
    public static void check(int result, String call) {
        if (result < VK_SUCCESS) {
            throw new VulkanException(call, result);
        }
    }

    /**
     * @param result a {@code VkResult}
     * @return its name from the Vulkan registry, or {@code VK_RESULT_<value>} for one unknown here
     */
    public static String name(int result) {
        switch (result) {
            case 0: return "VK_SUCCESS";
            case 1: return "VK_NOT_READY";
            case 2: return "VK_TIMEOUT";
            case 3: return "VK_EVENT_SET";
            case 4: return "VK_EVENT_RESET";
            case 5: return "VK_INCOMPLETE";
            case -1: return "VK_ERROR_OUT_OF_HOST_MEMORY";
            case -2: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
            case -3: return "VK_ERROR_INITIALIZATION_FAILED";
            case -4: return "VK_ERROR_DEVICE_LOST";
            case -5: return "VK_ERROR_MEMORY_MAP_FAILED";
            case -6: return "VK_ERROR_LAYER_NOT_PRESENT";
            case -7: return "VK_ERROR_EXTENSION_NOT_PRESENT";
            case -8: return "VK_ERROR_FEATURE_NOT_PRESENT";
            case -9: return "VK_ERROR_INCOMPATIBLE_DRIVER";
            case -10: return "VK_ERROR_TOO_MANY_OBJECTS";
            case -11: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
            case -12: return "VK_ERROR_FRAGMENTED_POOL";
            case -13: return "VK_ERROR_UNKNOWN";
            case -1000069000: return "VK_ERROR_OUT_OF_POOL_MEMORY";
            case -1000072003: return "VK_ERROR_INVALID_EXTERNAL_HANDLE";
            case -1000161000: return "VK_ERROR_FRAGMENTATION";
            case -1000257000: return "VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS";
            case -1000011001: return "VK_ERROR_VALIDATION_FAILED_EXT";
            default: return "VK_RESULT_" + result;
        }
    }
}
