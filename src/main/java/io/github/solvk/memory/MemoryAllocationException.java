package io.github.solvk.memory;

import io.github.solvk.memory.pool.PoolException;

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
        /**
         * No empty block's suballocator could place the request, so no free would make room: larger than its region
         * or than a buddy's largest node, an alignment beyond the block, or a block size the pool's suballocator
         * factory refuses.
         */
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

    /**
     * The reason for a pool's failure, the same from every facade: the pool's own kind, unless a Vulkan call failed
     * with another result than {@code VK_ERROR_OUT_OF_DEVICE_MEMORY} (a block the driver could not make for want of
     * host memory, or for too many objects), which gets that result's reason ({@link #reasonOf(String)}) rather than
     * the pool kind nearest to it.
     *
     * @param e the pool's failure
     * @return its reason
     */
    static Reason reasonOf(PoolException e) {
        String result = e.vkResultName();
        return result != null && !result.equals("VK_ERROR_OUT_OF_DEVICE_MEMORY") ? reasonOf(result)
                : Reason.valueOf(e.kind().name());
    }

    /**
     * What the {@code solvk.AllocationFailed} JFR event records as its reason, the same from every facade: the
     * reason constant and, where there is one, the {@code VkResult} name.
     *
     * @param reason       why
     * @param vkResultName the {@code VkResult}'s name, or {@code null} when none was involved
     * @return {@code "OUT_OF_DEVICE_MEMORY VK_ERROR_OUT_OF_DEVICE_MEMORY"}, say, or {@code "OUT_OF_POOL_MEMORY"}
     */
    static String eventReason(Reason reason, String vkResultName) {
        return vkResultName == null ? reason.name() : reason.name() + " " + vkResultName;
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
