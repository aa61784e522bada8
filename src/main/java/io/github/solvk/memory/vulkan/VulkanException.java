package io.github.solvk.memory.vulkan;

/**
 * A Vulkan or VMA call returned an error {@code VkResult}.
 *
 * <p>The message names the call and the result, for example
 * {@code vmaCreateBuffer failed: VK_ERROR_OUT_OF_DEVICE_MEMORY (-2)}.
 */
public final class VulkanException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int result;
    private final String call;

    /**
     * @param call   the function that failed, for example {@code vkCreateDevice}
     * @param result the {@code VkResult} it returned
     */
    public VulkanException(String call, int result) {
        super(call + " failed: " + VkResults.name(result) + " (" + result + ")");
        this.call = call;
        this.result = result;
    }

    /**
     * @param call   the function that failed
     * @param result the {@code VkResult} it returned
     * @param advice what the user can do about it
     */
    public VulkanException(String call, int result, String advice) {
        super(call + " failed: " + VkResults.name(result) + " (" + result + "); " + advice);
        this.call = call;
        this.result = result;
    }

    /**
     * @param message what went wrong and how to fix it
     * @param cause   the underlying error, or {@code null}
     */
    public VulkanException(String message, Throwable cause) {
        super(message, cause);
        this.call = null;
        this.result = 0;
    }

    /** @return the {@code VkResult}, or 0 where the failure did not come from a result code */
    public int result() {
        return result;
    }

    /** @return the result's name, for example {@code VK_ERROR_OUT_OF_DEVICE_MEMORY} */
    public String resultName() {
        return VkResults.name(result);
    }

    /** @return the failed call, or {@code null} where the failure did not come from a result code */
    public String call() {
        return call;
    }
}
