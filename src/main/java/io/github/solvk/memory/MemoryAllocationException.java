package io.github.solvk.memory;

/**
 * An allocation failed at run time: the request was valid but could not be met. Caller bugs throw
 * {@link IllegalArgumentException} or {@link IllegalStateException} instead.
 *
 * <p>{@link #reason()} is one of a closed set; {@link #vkResultName()} names the {@code VkResult} where a Vulkan or
 * VMA call produced the failure.
 */
public final class MemoryAllocationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why an allocation failed. */
    public enum Reason {
        /** The device heap has no room: {@code VK_ERROR_OUT_OF_DEVICE_MEMORY}, or a VMA heap size limit. */
        OUT_OF_DEVICE_MEMORY,
        /** The driver could not allocate host memory: {@code VK_ERROR_OUT_OF_HOST_MEMORY}. */
        OUT_OF_HOST_MEMORY,
        /** No memory type has the required property flags and is allowed for the resource. */
        NO_COMPATIBLE_MEMORY_TYPE,
        /** A pool has no room and may not grow: its blocks are full and it has {@code maxBlocks} of them. */
        OUT_OF_POOL_MEMORY,
        /** The driver requires dedicated memory but the request forbade allocating it. */
        DEDICATED_ALLOCATION_REQUIRED,
        /** The request is larger than the pool's block size. */
        BLOCK_SIZE_EXCEEDED,
        /** The request is larger than its suballocator's region. */
        SUBALLOCATOR_BLOCK_SIZE_EXCEEDED,
        /** Too many {@code VkDeviceMemory} objects: {@code maxMemoryAllocationCount} reached. */
        TOO_MANY_OBJECTS,
        /** Another {@code VkResult}, named by {@link #vkResultName()}. */
        VULKAN_ERROR
    }

    private final Reason reason;
    private final String vkResultName;

    /**
     * @param reason       why
     * @param vkResultName the {@code VkResult}'s name, or {@code null} when none was involved
     * @param message      what was asked for and what was available
     * @param cause        the underlying exception, or {@code null}
     */
    public MemoryAllocationException(Reason reason, String vkResultName, String message, Throwable cause) {
        super(reason + (vkResultName != null ? " (" + vkResultName + ")" : "") + ": " + message, cause);
        this.reason = reason;
        this.vkResultName = vkResultName;
    }

    /**
     * The reason for a Vulkan call's failure, the same for the manager and the block pools.
     *
     * @param vkResultName the {@code VkResult}'s name
     * @return its reason: {@link Reason#VULKAN_ERROR} for a result with none of its own
     */
    static Reason reasonOf(String vkResultName) {
        switch (vkResultName) {
            case "VK_ERROR_OUT_OF_DEVICE_MEMORY":
                return Reason.OUT_OF_DEVICE_MEMORY;
            case "VK_ERROR_OUT_OF_HOST_MEMORY":
                return Reason.OUT_OF_HOST_MEMORY;
            case "VK_ERROR_FEATURE_NOT_PRESENT":
                // VMA's answer when no memory type fits the request.
                return Reason.NO_COMPATIBLE_MEMORY_TYPE;
            case "VK_ERROR_TOO_MANY_OBJECTS":
                return Reason.TOO_MANY_OBJECTS;
            default:
                return Reason.VULKAN_ERROR;
        }
    }

    /** @return why the allocation failed */
    public Reason reason() {
        return reason;
    }

    /** @return the {@code VkResult}'s name, or {@code null} */
    public String vkResultName() {
        return vkResultName;
    }
}
