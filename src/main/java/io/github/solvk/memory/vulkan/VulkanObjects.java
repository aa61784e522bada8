package io.github.solvk.memory.vulkan;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counts of the Vulkan objects this library made and has not destroyed yet, over the whole JVM: {@code VkBuffer}s
 * (made with {@code vkCreateBuffer} or {@code vmaCreateBuffer}) and {@code VkDeviceMemory} (allocated by VMA for any
 * {@link VulkanMemoryAllocator}). For tests: a test that leaves an object behind shows up as a count higher after it
 * than before it, where the validation layer would only name the object when the device is destroyed, long after the
 * test that leaked it.
 *
 * <p>Counting is off unless the system property {@value #TRACKING_PROPERTY} is {@code true} when this class is loaded
 * (the project's own tests set it): then each {@code VkBuffer} made and destroyed updates a {@link LongAdder}; when
 * off, the check is a constant the JIT folds away and every count reads 0.
 */
public final class VulkanObjects {

    /** System property that turns counting on; read once, when this class is loaded. */
    public static final String TRACKING_PROPERTY = "solvk.trackVulkanObjects";

    static final boolean TRACKING = Boolean.getBoolean(TRACKING_PROPERTY);

    private static final LongAdder BUFFERS = new LongAdder();
    private static final LongAdder DEVICE_MEMORY = new LongAdder();

    private VulkanObjects() {
    }

    /** @return whether counting is on ({@value #TRACKING_PROPERTY}) */
    public static boolean tracking() {
        return TRACKING;
    }

    /** @return the {@code VkBuffer}s made through this library and not destroyed yet, or 0 when not counting */
    public static long liveBuffers() {
        return BUFFERS.sum();
    }

    /**
     * @return the {@code VkDeviceMemory} objects VMA allocated for this library's allocators and has not freed yet, or
     *         0 when not counting
     */
    public static long liveDeviceMemory() {
        return DEVICE_MEMORY.sum();
    }

    static void bufferMade() {
        if (TRACKING) {
            BUFFERS.increment();
        }
    }

    static void bufferDestroyed() {
        if (TRACKING) {
            BUFFERS.decrement();
        }
    }

    static void deviceMemory(boolean allocated) {
        if (TRACKING) {
            DEVICE_MEMORY.add(allocated ? 1 : -1);
        }
    }
}
