package io.github.solvk.memory.vulkan;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.system.MemoryUtil.NULL;
import static org.lwjgl.vulkan.EXTDebugUtils.VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
import static org.lwjgl.vulkan.EXTDebugUtils.VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT;
import static org.lwjgl.vulkan.EXTDebugUtils.VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT;
import static org.lwjgl.vulkan.EXTDebugUtils.VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
import static org.lwjgl.vulkan.EXTDebugUtils.VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT;
import static org.lwjgl.vulkan.EXTDebugUtils.VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
import static org.lwjgl.vulkan.EXTDebugUtils.VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
import static org.lwjgl.vulkan.EXTDebugUtils.vkCreateDebugUtilsMessengerEXT;
import static org.lwjgl.vulkan.EXTDebugUtils.vkDestroyDebugUtilsMessengerEXT;
import static org.lwjgl.vulkan.KHRPortabilityEnumeration.VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
import static org.lwjgl.vulkan.KHRPortabilityEnumeration.VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
import static org.lwjgl.vulkan.VK10.VK_COMMAND_BUFFER_LEVEL_PRIMARY;
import static org.lwjgl.vulkan.VK10.VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
import static org.lwjgl.vulkan.VK10.VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
import static org.lwjgl.vulkan.VK10.VK_ERROR_INCOMPATIBLE_DRIVER;
import static org.lwjgl.vulkan.VK10.VK_ERROR_INITIALIZATION_FAILED;
import static org.lwjgl.vulkan.VK10.VK_FALSE;
import static org.lwjgl.vulkan.VK10.VK_API_VERSION_MAJOR;
import static org.lwjgl.vulkan.VK10.VK_API_VERSION_MINOR;
import static org.lwjgl.vulkan.VK10.VK_API_VERSION_PATCH;
import static org.lwjgl.vulkan.VK10.VK_PHYSICAL_DEVICE_TYPE_CPU;
import static org.lwjgl.vulkan.VK10.VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
import static org.lwjgl.vulkan.VK10.VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
import static org.lwjgl.vulkan.VK10.VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU;
import static org.lwjgl.vulkan.VK10.VK_QUEUE_COMPUTE_BIT;
import static org.lwjgl.vulkan.VK10.VK_QUEUE_GRAPHICS_BIT;
import static org.lwjgl.vulkan.VK10.VK_QUEUE_TRANSFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_APPLICATION_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_SUBMIT_INFO;
import static org.lwjgl.vulkan.VK10.VK_SUCCESS;
import static org.lwjgl.vulkan.VK10.vkAllocateCommandBuffers;
import static org.lwjgl.vulkan.VK10.vkBeginCommandBuffer;
import static org.lwjgl.vulkan.VK10.vkCreateCommandPool;
import static org.lwjgl.vulkan.VK10.vkCreateDevice;
import static org.lwjgl.vulkan.VK10.vkCreateFence;
import static org.lwjgl.vulkan.VK10.vkCreateInstance;
import static org.lwjgl.vulkan.VK10.vkDestroyCommandPool;
import static org.lwjgl.vulkan.VK10.vkDestroyDevice;
import static org.lwjgl.vulkan.VK10.vkDestroyFence;
import static org.lwjgl.vulkan.VK10.vkDestroyInstance;
import static org.lwjgl.vulkan.VK10.vkDeviceWaitIdle;
import static org.lwjgl.vulkan.VK10.vkEndCommandBuffer;
import static org.lwjgl.vulkan.VK10.vkEnumerateDeviceExtensionProperties;
import static org.lwjgl.vulkan.VK10.vkEnumerateInstanceExtensionProperties;
import static org.lwjgl.vulkan.VK10.vkEnumerateInstanceLayerProperties;
import static org.lwjgl.vulkan.VK10.vkEnumeratePhysicalDevices;
import static org.lwjgl.vulkan.VK10.vkFreeCommandBuffers;
import static org.lwjgl.vulkan.VK10.vkGetDeviceQueue;
import static org.lwjgl.vulkan.VK10.vkGetPhysicalDeviceMemoryProperties;
import static org.lwjgl.vulkan.VK10.vkGetPhysicalDeviceProperties;
import static org.lwjgl.vulkan.VK10.vkGetPhysicalDeviceQueueFamilyProperties;
import static org.lwjgl.vulkan.VK10.vkQueueSubmit;
import static org.lwjgl.vulkan.VK10.vkWaitForFences;
import static org.lwjgl.vulkan.VK11.VK_API_VERSION_1_1;
import static org.lwjgl.vulkan.VK11.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
import static org.lwjgl.vulkan.VK11.vkEnumerateInstanceVersion;
import static org.lwjgl.vulkan.VK11.vkGetPhysicalDeviceFeatures2;
import static org.lwjgl.vulkan.VK12.VK_API_VERSION_1_2;
import static org.lwjgl.vulkan.VK12.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
import static org.lwjgl.vulkan.VK13.VK_API_VERSION_1_3;
import static org.lwjgl.vulkan.VK13.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkApplicationInfo;
import org.lwjgl.vulkan.VkCommandBuffer;
import org.lwjgl.vulkan.VkCommandBufferAllocateInfo;
import org.lwjgl.vulkan.VkCommandBufferBeginInfo;
import org.lwjgl.vulkan.VkCommandPoolCreateInfo;
import org.lwjgl.vulkan.VkDebugUtilsMessengerCallbackDataEXT;
import org.lwjgl.vulkan.VkDebugUtilsMessengerCallbackEXT;
import org.lwjgl.vulkan.VkDebugUtilsMessengerCreateInfoEXT;
import org.lwjgl.vulkan.VkDevice;
import org.lwjgl.vulkan.VkDeviceCreateInfo;
import org.lwjgl.vulkan.VkDeviceQueueCreateInfo;
import org.lwjgl.vulkan.VkExtensionProperties;
import org.lwjgl.vulkan.VkFenceCreateInfo;
import org.lwjgl.vulkan.VkInstance;
import org.lwjgl.vulkan.VkInstanceCreateInfo;
import org.lwjgl.vulkan.VkLayerProperties;
import org.lwjgl.vulkan.VkPhysicalDevice;
import org.lwjgl.vulkan.VkPhysicalDeviceFeatures2;
import org.lwjgl.vulkan.VkPhysicalDeviceMaintenance5FeaturesKHR;
import org.lwjgl.vulkan.VkPhysicalDeviceMemoryPriorityFeaturesEXT;
import org.lwjgl.vulkan.VkPhysicalDeviceMemoryProperties;
import org.lwjgl.vulkan.VkPhysicalDeviceProperties;
import org.lwjgl.vulkan.VkPhysicalDeviceVulkan12Features;
import org.lwjgl.vulkan.VkPhysicalDeviceVulkan13Features;
import org.lwjgl.vulkan.VkQueue;
import org.lwjgl.vulkan.VkQueueFamilyProperties;
import org.lwjgl.vulkan.VkSubmitInfo;

/**
 * A Vulkan instance and device with no window: what a headless render module, a test or the demo needs to make
 * buffers and run copies.
 *
 * <h2>Device choice</h2>
 * Discrete GPUs first, then integrated, virtual, CPU (lavapipe, SwiftShader), other; among equals the first the loader
 * lists. The system property {@value #DEVICE_PROPERTY} or the environment variable {@value #DEVICE_ENV} overrides that
 * with an index into the loader's list or a case-insensitive part of the device name ({@code llvmpipe}, {@code H100}).
 *
 * <h2>Queues</h2>
 * A graphics queue (absent on compute-only devices), a compute queue (a compute-only family when there is one, for
 * async compute, else the graphics queue) and a transfer queue (a family with transfer but neither graphics nor
 * compute when there is one, else the compute queue).
 *
 * <h2>Features</h2>
 * Enabled when the device has them, and reported by {@link #features()} so that
 * {@link VulkanMemoryAllocator.Settings#forContext(VulkanContext)} can tell VMA: buffer device address (Vulkan 1.2),
 * memory budget ({@code VK_EXT_memory_budget}), dedicated allocation and bind memory 2 (core in the Vulkan 1.1 this
 * class requires), maintenance4 (Vulkan 1.3), maintenance5 ({@code VK_KHR_maintenance5}) and memory priority
 * ({@code VK_EXT_memory_priority}).
 *
 * <h2>Validation</h2>
 * With {@link Builder#validation(boolean)} on, {@code VK_LAYER_KHRONOS_validation} is enabled with a debug-utils
 * messenger that records every warning and error in {@link #validationMessages()}; asking for validation where the
 * layer is not installed fails with a message that says how to install it.
 *
 * <p>A context made by {@link #builder()} owns its instance and device and destroys them in {@link #close()}. One
 * made by {@link #wrap} borrows an engine's handles and never destroys them.
 */
public final class VulkanContext implements AutoCloseable {

    /** System property that picks the physical device by index or by part of its name. */
    public static final String DEVICE_PROPERTY = "solvk.device";
    /** Environment variable that picks the physical device by index or by part of its name. */
    public static final String DEVICE_ENV = "SOLVK_DEVICE";
    /** System property that turns validation on for contexts whose builder was not told otherwise. */
    public static final String VALIDATION_PROPERTY = "solvk.validation";
    /** The Khronos validation layer. */
    public static final String VALIDATION_LAYER = "VK_LAYER_KHRONOS_validation";

    /** How to get a Vulkan device on Debian or Ubuntu; part of every "no device" message. */
    public static final String INSTALL_HINT = "install a Vulkan loader and a device: on Debian or Ubuntu "
            + "'sudo apt-get install libvulkan1 mesa-vulkan-drivers vulkan-validationlayers' "
            + "(mesa-vulkan-drivers brings lavapipe, a CPU Vulkan device), or run ./bin/test, which does it";

    private static final Logger LOG = System.getLogger(VulkanContext.class.getName());

    private final VkInstance instance;
    private final VkPhysicalDevice physicalDevice;
    private final VkDevice device;
    private final int apiVersion;
    private final String deviceName;
    private final int deviceType;
    private final MemoryProperties memoryProperties;
    private final Features features;
    private final Queue graphicsQueue;
    private final Queue computeQueue;
    private final Queue transferQueue;
    private final int queueFamilyCount;
    private final boolean owned;
    private final long debugMessenger;
    private final VkDebugUtilsMessengerCallbackEXT debugCallback;
    private final List<ValidationMessage> messages;
    private final Map<Integer, Long> commandPools = new HashMap<>();
    private boolean closed;

    /**
     * What the device supports among what the allocator can use, and so what was enabled.
     *
     * @param bufferDeviceAddress {@code bufferDeviceAddress} (Vulkan 1.2) is enabled
     * @param memoryBudget        {@code VK_EXT_memory_budget} is enabled
     * @param memoryPriority      {@code VK_EXT_memory_priority} and its feature are enabled
     * @param maintenance4        {@code maintenance4} (Vulkan 1.3) is enabled
     * @param maintenance5        {@code VK_KHR_maintenance5} and its feature are enabled
     */
    public record Features(boolean bufferDeviceAddress, boolean memoryBudget, boolean memoryPriority,
                           boolean maintenance4, boolean maintenance5) {
    }

    /**
     * A queue and the family it belongs to.
     *
     * @param handle      the queue
     * @param familyIndex its queue family index
     */
    public record Queue(VkQueue handle, int familyIndex) {
        /**
         * @throws NullPointerException if {@code handle} is null
         */
        public Queue {
            Objects.requireNonNull(handle, "handle: null (expected: a VkQueue)");
            if (familyIndex < 0) {
                throw new IllegalArgumentException("familyIndex: " + familyIndex + " (expected: >= 0)");
            }
        }
    }

    /**
     * A warning or error reported by the validation layer (or another layer) through debug utils.
     *
     * @param error    whether the severity was ERROR (else WARNING)
     * @param idName   the message ID name, often a VUID
     * @param message  the whole message
     */
    public record ValidationMessage(boolean error, String idName, String message) {
        @Override
        public String toString() {
            return (error ? "ERROR " : "WARNING ") + idName + ": " + message;
        }
    }

    private VulkanContext(VkInstance instance, VkPhysicalDevice physicalDevice, VkDevice device, int apiVersion,
                          Features features, Queue graphics, Queue compute, Queue transfer, boolean owned,
                          long debugMessenger, VkDebugUtilsMessengerCallbackEXT debugCallback,
                          List<ValidationMessage> messages) {
        this.messages = messages;
        this.instance = instance;
        this.physicalDevice = physicalDevice;
        this.device = device;
        this.apiVersion = apiVersion;
        this.features = features;
        this.graphicsQueue = graphics;
        this.computeQueue = compute;
        this.transferQueue = transfer;
        this.owned = owned;
        this.debugMessenger = debugMessenger;
        this.debugCallback = debugCallback;
        try (MemoryStack stack = stackPush()) {
            VkPhysicalDeviceProperties props = VkPhysicalDeviceProperties.malloc(stack);
            vkGetPhysicalDeviceProperties(physicalDevice, props);
            this.deviceName = props.deviceNameString();
            this.deviceType = props.deviceType();
            this.memoryProperties = readMemoryProperties(physicalDevice, props);
            IntBuffer count = stack.mallocInt(1);
            vkGetPhysicalDeviceQueueFamilyProperties(physicalDevice, count, null);
            this.queueFamilyCount = count.get(0);
        }
    }

    /**
     * @return a builder with validation taken from {@value #VALIDATION_PROPERTY} and the device from the environment
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Wraps an engine's own instance and device. The context borrows them: {@link #close()} destroys only the
     * command pools this context made, never the device or the instance.
     *
     * @param instance       the instance
     * @param physicalDevice the physical device
     * @param device         the device, created with the features in {@code features} enabled
     * @param apiVersion     the API version the device was created for (at least 1.1)
     * @param features       what was enabled, for the allocator
     * @param graphics       the graphics queue, or {@code null}
     * @param compute        the compute queue, or {@code null}
     * @param transfer       the transfer queue, or {@code null}
     * @return a borrowed context
     * @throws IllegalArgumentException when {@code apiVersion} is below 1.1 or a queue's family index is not one of
     *                                  the physical device's
     */
    public static VulkanContext wrap(VkInstance instance, VkPhysicalDevice physicalDevice, VkDevice device,
                                     int apiVersion, Features features, Queue graphics, Queue compute,
                                     Queue transfer) {
        Objects.requireNonNull(instance, "instance: null (expected: a VkInstance)");
        Objects.requireNonNull(physicalDevice, "physicalDevice: null (expected: a VkPhysicalDevice)");
        Objects.requireNonNull(device, "device: null (expected: a VkDevice)");
        Objects.requireNonNull(features, "features: null (expected: the Features enabled on the device)");
        if (apiVersion < VK_API_VERSION_1_1) {
            throw new IllegalArgumentException("apiVersion: " + versionString(apiVersion) + " (expected: >= 1.1)");
        }
        VulkanContext context = new VulkanContext(instance, physicalDevice, device, apiVersion, features, graphics,
                compute, transfer, false, NULL, null, Collections.synchronizedList(new ArrayList<>()));
        // Nothing to destroy when one is out of range: the context borrows everything.
        context.checkFamily("graphics", graphics);
        context.checkFamily("compute", compute);
        context.checkFamily("transfer", transfer);
        return context;
    }

    private void checkFamily(String role, Queue queue) {
        if (queue != null && queue.familyIndex() >= queueFamilyCount) {
            throw new IllegalArgumentException(role + ": queue family " + queue.familyIndex() + " (expected: below "
                    + queueFamilyCount + ", the queue families of " + deviceName + ")");
        }
    }

    /** @return the instance */
    public VkInstance instance() {
        checkOpen();
        return instance;
    }

    /** @return the physical device */
    public VkPhysicalDevice physicalDevice() {
        checkOpen();
        return physicalDevice;
    }

    /** @return the device */
    public VkDevice device() {
        checkOpen();
        return device;
    }

    /** @return the Vulkan API version the device was created for */
    public int apiVersion() {
        return apiVersion;
    }

    /** @return the device's name, for example {@code llvmpipe (LLVM 15.0.6, 256 bits)} */
    public String deviceName() {
        return deviceName;
    }

    /** @return {@code VkPhysicalDeviceType} of the device */
    public int deviceType() {
        return deviceType;
    }

    /** @return the device's memory heaps and types */
    public MemoryProperties memoryProperties() {
        return memoryProperties;
    }

    /** @return the enabled optional features */
    public Features features() {
        return features;
    }

    /** @return the graphics queue, or {@code null} on a device without graphics */
    public Queue graphicsQueue() {
        return graphicsQueue;
    }

    /** @return the compute queue, or {@code null} when none was given to {@link #wrap} */
    public Queue computeQueue() {
        return computeQueue;
    }

    /** @return the transfer queue: a dedicated transfer family's when there is one */
    public Queue transferQueue() {
        return transferQueue;
    }

    /** @return the number of queue families of the physical device */
    public int queueFamilyCount() {
        return queueFamilyCount;
    }

    /** @return whether validation messages are being recorded */
    public boolean validationEnabled() {
        return debugMessenger != NULL;
    }

    /** @return a copy of the warnings and errors recorded since the last {@link #clearValidationMessages()} */
    public List<ValidationMessage> validationMessages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }

    /** @return the recorded errors only */
    public List<ValidationMessage> validationErrors() {
        synchronized (messages) {
            return messages.stream().filter(ValidationMessage::error).toList();
        }
    }

    /** Forgets the recorded validation messages. */
    public void clearValidationMessages() {
        messages.clear();
    }

    /**
     * Records commands into a one-time command buffer, submits it to {@code queue} and waits for it to finish.
     * Meant for tests, tools and loading, not for a frame loop.
     *
     * @param queue    the queue to submit to
     * @param recorder records the commands
     */
    public synchronized void execute(Queue queue, Consumer<VkCommandBuffer> recorder) {
        checkOpen();
        Objects.requireNonNull(queue, "queue: null (expected: a Queue of this context)");
        Objects.requireNonNull(recorder, "recorder: null (expected: a function that records the commands)");
        long pool = commandPool(queue.familyIndex());
        try (MemoryStack stack = stackPush()) {
            PointerBuffer pCommandBuffer = stack.mallocPointer(1);
            VkResults.check(vkAllocateCommandBuffers(device, VkCommandBufferAllocateInfo.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO)
                    .commandPool(pool)
                    .level(VK_COMMAND_BUFFER_LEVEL_PRIMARY)
                    .commandBufferCount(1), pCommandBuffer), "vkAllocateCommandBuffers");
            VkCommandBuffer commandBuffer = new VkCommandBuffer(pCommandBuffer.get(0), device);
            long fence = NULL;
            try {
                VkResults.check(vkBeginCommandBuffer(commandBuffer, VkCommandBufferBeginInfo.calloc(stack)
                        .sType(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO)
                        .flags(VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT)), "vkBeginCommandBuffer");
                recorder.accept(commandBuffer);
                VkResults.check(vkEndCommandBuffer(commandBuffer), "vkEndCommandBuffer");
                var pFence = stack.mallocLong(1);
                VkResults.check(vkCreateFence(device, VkFenceCreateInfo.calloc(stack)
                        .sType(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO), null, pFence), "vkCreateFence");
                fence = pFence.get(0);
                VkResults.check(vkQueueSubmit(queue.handle(), VkSubmitInfo.calloc(stack)
                        .sType(VK_STRUCTURE_TYPE_SUBMIT_INFO)
                        .pCommandBuffers(stack.pointers(commandBuffer)), fence), "vkQueueSubmit");
                VkResults.check(vkWaitForFences(device, pFence, true, Long.MAX_VALUE), "vkWaitForFences");
            } finally {
                if (fence != NULL) {
                    vkDestroyFence(device, fence, null);
                }
                vkFreeCommandBuffers(device, pool, commandBuffer);
            }
        }
    }

    private long commandPool(int family) {
        Long pool = commandPools.get(family);
        if (pool == null) {
            try (MemoryStack stack = stackPush()) {
                var pPool = stack.mallocLong(1);
                VkResults.check(vkCreateCommandPool(device, VkCommandPoolCreateInfo.calloc(stack)
                        .sType(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO)
                        .flags(VK_COMMAND_POOL_CREATE_TRANSIENT_BIT)
                        .queueFamilyIndex(family), null, pPool), "vkCreateCommandPool");
                pool = pPool.get(0);
                commandPools.put(family, pool);
            }
        }
        return pool;
    }

    /** @return whether {@link #close()} has run */
    public synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Destroys the command pools this context made and, when the context owns them, waits for the device to be idle
     * and destroys the device, the debug messenger and the instance. A context made by {@link #wrap} does not wait
     * for the device: {@code vkDeviceWaitIdle} would wait for the engine's work too, and needs all the device's
     * queues held by the caller, while the engine may be submitting to them; its own commands are finished already,
     * since {@link #execute} waits for each. Calling it again does nothing.
     *
     * @throws VulkanException when {@code vkDeviceWaitIdle} fails (device lost, out of memory); everything is
     *                         destroyed first all the same
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // A failed wait (VK_ERROR_DEVICE_LOST) still allows, and needs, every object to be destroyed: checked last,
        // so that the failure is reported without leaking the device and the instance.
        int waited = owned ? vkDeviceWaitIdle(device) : VK_SUCCESS;
        for (long pool : commandPools.values()) {
            vkDestroyCommandPool(device, pool, null);
        }
        commandPools.clear();
        if (owned) {
            vkDestroyDevice(device, null);
            if (debugMessenger != NULL) {
                vkDestroyDebugUtilsMessengerEXT(instance, debugMessenger, null);
            }
            vkDestroyInstance(instance, null);
        }
        if (debugCallback != null) {
            debugCallback.free();
        }
        VkResults.check(waited, "vkDeviceWaitIdle");
    }

    @Override
    public String toString() {
        return "VulkanContext[" + deviceName + ", Vulkan " + versionString(apiVersion) + ", " + features + "]";
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("VulkanContext for " + deviceName
                    + " is closed (expected: an open context)");
        }
    }

    /**
     * @param version a packed Vulkan version
     * @return {@code major.minor.patch}
     */
    public static String versionString(int version) {
        return VK_API_VERSION_MAJOR(version) + "." + VK_API_VERSION_MINOR(version) + "."
                + VK_API_VERSION_PATCH(version);
    }

    static MemoryProperties readMemoryProperties(VkPhysicalDevice physicalDevice, VkPhysicalDeviceProperties props) {
        try (MemoryStack stack = stackPush()) {
            VkPhysicalDeviceMemoryProperties memory = VkPhysicalDeviceMemoryProperties.malloc(stack);
            vkGetPhysicalDeviceMemoryProperties(physicalDevice, memory);
            List<MemoryProperties.Heap> heaps = new ArrayList<>();
            for (int i = 0; i < memory.memoryHeapCount(); i++) {
                heaps.add(new MemoryProperties.Heap(memory.memoryHeaps(i).size(), memory.memoryHeaps(i).flags()));
            }
            List<MemoryProperties.Type> types = new ArrayList<>();
            for (int i = 0; i < memory.memoryTypeCount(); i++) {
                types.add(new MemoryProperties.Type(memory.memoryTypes(i).heapIndex(),
                        memory.memoryTypes(i).propertyFlags()));
            }
            return new MemoryProperties(heaps, types, props.limits().bufferImageGranularity(),
                    props.limits().nonCoherentAtomSize());
        }
    }

    /** Chooses and creates a headless context. */
    public static final class Builder {
        private boolean validation = Boolean.getBoolean(VALIDATION_PROPERTY);
        private String deviceSelector = firstNonBlank(System.getProperty(DEVICE_PROPERTY), System.getenv(DEVICE_ENV));
        private String applicationName = "solvk-memory";
        private int maxApiVersion = VK_API_VERSION_1_3;

        private Builder() {
        }

        /**
         * @param on whether to enable {@value #VALIDATION_LAYER} and record its messages
         * @return this
         */
        public Builder validation(boolean on) {
            this.validation = on;
            return this;
        }

        /**
         * @param selector an index into the loader's device list or a case-insensitive part of the device name;
         *                 {@code null} for the default order
         * @return this
         * @throws IllegalArgumentException when {@code selector} is blank
         */
        public Builder device(String selector) {
            if (selector != null && selector.isBlank()) {
                // Every name contains "": a blank selector would pick the loader's first device, not the best one.
                throw new IllegalArgumentException("selector: '" + selector + "' (expected: an index, part of a device"
                        + " name, or null for the default order)");
            }
            this.deviceSelector = selector;
            return this;
        }

        /**
         * @param name the application name given to the driver
         * @return this
         */
        public Builder applicationName(String name) {
            this.applicationName = Objects.requireNonNull(name, "name: null (expected: an application name)");
            return this;
        }

        /**
         * @param version the highest API version to ask for, at least 1.1 (default 1.3)
         * @return this
         */
        public Builder maxApiVersion(int version) {
            if (version < VK_API_VERSION_1_1) {
                throw new IllegalArgumentException("maxApiVersion: " + versionString(version) + " (expected: >= 1.1)");
            }
            this.maxApiVersion = version;
            return this;
        }

        /**
         * Creates the instance and the device.
         *
         * @return an owned context
         * @throws VulkanException         when there is no Vulkan loader or device, or when a Vulkan call fails
         * @throws IllegalArgumentException when the device selector matches no device
         */
        public VulkanContext build() {
            int loaderVersion = loaderVersion();
            int instanceVersion = Math.min(loaderVersion, maxApiVersion);
            if (instanceVersion < VK_API_VERSION_1_1) {
                throw new VulkanException("The Vulkan loader supports only " + versionString(loaderVersion)
                        + " (expected: >= 1.1); " + INSTALL_HINT, null);
            }
            VkInstance instance = null;
            long messenger = NULL;
            VkDebugUtilsMessengerCallbackEXT callback = null;
            List<ValidationMessage> sink = Collections.synchronizedList(new ArrayList<>());
            VkDevice device = null;
            try (MemoryStack stack = stackPush()) {
                Set<String> instanceExtensions = instanceExtensions(stack);
                List<String> layers = new ArrayList<>();
                List<String> extensions = new ArrayList<>();
                int flags = 0;
                if (instanceExtensions.contains(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
                    extensions.add(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
                    flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
                }
                VkDebugUtilsMessengerCreateInfoEXT messengerInfo = null;
                if (validation) {
                    if (!instanceLayers(stack).contains(VALIDATION_LAYER)) {
                        throw new VulkanException("Validation was asked for but " + VALIDATION_LAYER
                                + " is not installed (expected: the layer, from package vulkan-validationlayers); "
                                + INSTALL_HINT, null);
                    }
                    layers.add(VALIDATION_LAYER);
                    extensions.add(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
                    callback = VkDebugUtilsMessengerCallbackEXT.create((severity, types, pData, pUser) -> {
                        VkDebugUtilsMessengerCallbackDataEXT data = VkDebugUtilsMessengerCallbackDataEXT.create(pData);
                        boolean error = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) != 0;
                        String id = data.pMessageIdNameString();
                        ValidationMessage m = new ValidationMessage(error, id == null ? "" : id,
                                data.pMessageString());
                        sink.add(m);
                        LOG.log(error ? Level.ERROR : Level.WARNING, m.toString());
                        return VK_FALSE;
                    });
                    messengerInfo = VkDebugUtilsMessengerCreateInfoEXT.calloc(stack)
                            .sType(VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT)
                            .messageSeverity(VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT
                                    | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)
                            .messageType(VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT
                                    | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
                                    | VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT)
                            .pfnUserCallback(callback);
                }
                VkInstanceCreateInfo createInfo = VkInstanceCreateInfo.calloc(stack)
                        .sType(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO)
                        .flags(flags)
                        .pApplicationInfo(VkApplicationInfo.calloc(stack)
                                .sType(VK_STRUCTURE_TYPE_APPLICATION_INFO)
                                .pApplicationName(stack.UTF8(applicationName))
                                .pEngineName(stack.UTF8("solvk-memory"))
                                .apiVersion(instanceVersion))
                        .ppEnabledLayerNames(pointers(stack, layers))
                        .ppEnabledExtensionNames(pointers(stack, extensions));
                if (messengerInfo != null) {
                    createInfo.pNext(messengerInfo.address());
                }
                PointerBuffer pInstance = stack.mallocPointer(1);
                int created = vkCreateInstance(createInfo, null, pInstance);
                if (created == VK_ERROR_INCOMPATIBLE_DRIVER || created == VK_ERROR_INITIALIZATION_FAILED) {
                    // The loader found no usable driver (no ICD installed, or none for this machine).
                    throw new VulkanException("vkCreateInstance", created, "no Vulkan driver was found; "
                            + INSTALL_HINT);
                }
                VkResults.check(created, "vkCreateInstance");
                instance = new VkInstance(pInstance.get(0), createInfo);
                if (messengerInfo != null) {
                    var pMessenger = stack.mallocLong(1);
                    VkResults.check(vkCreateDebugUtilsMessengerEXT(instance, messengerInfo, null, pMessenger),
                            "vkCreateDebugUtilsMessengerEXT");
                    messenger = pMessenger.get(0);
                }

                VkPhysicalDevice physical = choosePhysicalDevice(instance, stack, deviceSelector);
                VkPhysicalDeviceProperties props = VkPhysicalDeviceProperties.malloc(stack);
                vkGetPhysicalDeviceProperties(physical, props);
                int apiVersion = Math.min(instanceVersion, props.apiVersion() & ~0xFFF);
                if (apiVersion < VK_API_VERSION_1_1) {
                    throw new VulkanException("Device " + props.deviceNameString() + " supports Vulkan "
                            + versionString(props.apiVersion()) + " (expected: >= 1.1)", null);
                }
                DeviceSetup setup = new DeviceSetup(physical, apiVersion, stack);
                device = setup.create(stack);
                Queue graphics = setup.graphicsFamily < 0 ? null : queue(device, setup.graphicsFamily, stack);
                Queue compute = queue(device, setup.computeFamily, stack);
                Queue transfer = queue(device, setup.transferFamily, stack);
                VulkanContext context = new VulkanContext(instance, physical, device, apiVersion, setup.features,
                        graphics, compute, transfer, true, messenger, callback, sink);
                LOG.log(Level.DEBUG, () -> "Created " + context);
                return context;
            } catch (RuntimeException | Error e) {
                // An Error too (out of memory, a linkage error): nothing made so far may outlive the failure.
                if (device != null) {
                    vkDestroyDevice(device, null);
                }
                if (messenger != NULL) {
                    vkDestroyDebugUtilsMessengerEXT(instance, messenger, null);
                }
                if (instance != null) {
                    vkDestroyInstance(instance, null);
                }
                if (callback != null) {
                    callback.free();
                }
                throw e;
            }
        }

        private static Queue queue(VkDevice device, int family, MemoryStack stack) {
            PointerBuffer pQueue = stack.mallocPointer(1);
            vkGetDeviceQueue(device, family, 0, pQueue);
            return new Queue(new VkQueue(pQueue.get(0), device), family);
        }
    }

    private static int loaderVersion() {
        try (MemoryStack stack = stackPush()) {
            IntBuffer pVersion = stack.mallocInt(1);
            VkResults.check(vkEnumerateInstanceVersion(pVersion), "vkEnumerateInstanceVersion");
            return pVersion.get(0);
        } catch (UnsatisfiedLinkError | IllegalStateException | ExceptionInInitializerError
                 | NoClassDefFoundError e) {
            throw new VulkanException("No Vulkan loader (libvulkan) could be loaded: " + e.getMessage() + "; "
                    + INSTALL_HINT, e);
        }
    }

    private static Set<String> instanceExtensions(MemoryStack stack) {
        IntBuffer count = stack.mallocInt(1);
        VkResults.check(vkEnumerateInstanceExtensionProperties((String) null, count, null),
                "vkEnumerateInstanceExtensionProperties");
        // On the heap: a driver lists hundreds of extensions (260 bytes each), more than the MemoryStack holds.
        VkExtensionProperties.Buffer props = VkExtensionProperties.malloc(count.get(0));
        try {
            VkResults.check(vkEnumerateInstanceExtensionProperties((String) null, count, props),
                    "vkEnumerateInstanceExtensionProperties");
            Set<String> names = new LinkedHashSet<>();
            props.forEach(p -> names.add(p.extensionNameString()));
            return names;
        } finally {
            props.free();
        }
    }

    private static Set<String> instanceLayers(MemoryStack stack) {
        IntBuffer count = stack.mallocInt(1);
        VkResults.check(vkEnumerateInstanceLayerProperties(count, null), "vkEnumerateInstanceLayerProperties");
        VkLayerProperties.Buffer props = VkLayerProperties.malloc(count.get(0));
        try {
            VkResults.check(vkEnumerateInstanceLayerProperties(count, props), "vkEnumerateInstanceLayerProperties");
            Set<String> names = new LinkedHashSet<>();
            props.forEach(p -> names.add(p.layerNameString()));
            return names;
        } finally {
            props.free();
        }
    }

    private static PointerBuffer pointers(MemoryStack stack, List<String> names) {
        if (names.isEmpty()) {
            return null;
        }
        PointerBuffer buffer = stack.mallocPointer(names.size());
        for (String name : names) {
            buffer.put(stack.UTF8(name));
        }
        return buffer.flip();
    }

    private static String firstNonBlank(String a, String b) {
        if (a != null && !a.isBlank()) {
            return a.trim();
        }
        return b != null && !b.isBlank() ? b.trim() : null;
    }

    /** Rank of a device type: lower is preferred. */
    static int typeRank(int deviceType) {
        switch (deviceType) {
            case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
            case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
            case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
            case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
            default: return 4;
        }
    }

    private static VkPhysicalDevice choosePhysicalDevice(VkInstance instance, MemoryStack stack, String selector) {
        IntBuffer count = stack.mallocInt(1);
        VkResults.check(vkEnumeratePhysicalDevices(instance, count, null), "vkEnumeratePhysicalDevices");
        if (count.get(0) == 0) {
            throw new VulkanException("The Vulkan loader found no physical device (expected: at least one); "
                    + INSTALL_HINT, null);
        }
        PointerBuffer handles = stack.mallocPointer(count.get(0));
        VkResults.check(vkEnumeratePhysicalDevices(instance, count, handles), "vkEnumeratePhysicalDevices");
        List<VkPhysicalDevice> devices = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Integer> ranks = new ArrayList<>();
        VkPhysicalDeviceProperties props = VkPhysicalDeviceProperties.malloc(stack);
        for (int i = 0; i < count.get(0); i++) {
            VkPhysicalDevice d = new VkPhysicalDevice(handles.get(i), instance);
            vkGetPhysicalDeviceProperties(d, props);
            devices.add(d);
            names.add(props.deviceNameString());
            ranks.add(props.apiVersion() < VK_API_VERSION_1_1 ? Integer.MAX_VALUE : typeRank(props.deviceType()));
        }
        if (selector != null) {
            String trimmed = selector.trim();
            if (trimmed.matches("\\d+")) {
                // Past 9 significant digits the index is beyond any device list (and may not fit an int); leading
                // zeros do not count.
                String digits = trimmed.replaceFirst("^0+(?=\\d)", "");
                int index = digits.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(digits);
                if (index >= devices.size()) {
                    throw new IllegalArgumentException("device selector: " + selector + " (expected: an index below "
                            + devices.size() + " or part of one of the names " + names + ")");
                }
                return devices.get(index);
            }
            for (int i = 0; i < devices.size(); i++) {
                if (names.get(i).toLowerCase(Locale.ROOT).contains(trimmed.toLowerCase(Locale.ROOT))) {
                    return devices.get(i);
                }
            }
            throw new IllegalArgumentException("device selector: " + selector + " (expected: an index below "
                    + devices.size() + " or part of one of the names " + names + ")");
        }
        int best = 0;
        for (int i = 1; i < devices.size(); i++) {
            if (ranks.get(i) < ranks.get(best)) {
                best = i;
            }
        }
        if (ranks.get(best) == Integer.MAX_VALUE) {
            throw new VulkanException("No physical device supports Vulkan 1.1 (expected: at least one); devices: "
                    + names + "; " + INSTALL_HINT, null);
        }
        return devices.get(best);
    }

    /** Queue families and features of one physical device, and the device creation that uses them. */
    private static final class DeviceSetup {
        private final VkPhysicalDevice physical;
        private final int apiVersion;
        private final Set<String> extensions;
        private int graphicsFamily = -1;
        private int computeFamily = -1;
        private int transferFamily = -1;
        private final Features features;

        DeviceSetup(VkPhysicalDevice physical, int apiVersion, MemoryStack stack) {
            this.physical = physical;
            this.apiVersion = apiVersion;
            IntBuffer count = stack.mallocInt(1);
            VkResults.check(vkEnumerateDeviceExtensionProperties(physical, (String) null, count, null),
                    "vkEnumerateDeviceExtensionProperties");
            // On the heap: an NVIDIA driver lists over 200 device extensions, 260 bytes each.
            VkExtensionProperties.Buffer props = VkExtensionProperties.malloc(count.get(0));
            try {
                VkResults.check(vkEnumerateDeviceExtensionProperties(physical, (String) null, count, props),
                        "vkEnumerateDeviceExtensionProperties");
                extensions = new LinkedHashSet<>();
                props.forEach(p -> extensions.add(p.extensionNameString()));
            } finally {
                props.free();
            }

            vkGetPhysicalDeviceQueueFamilyProperties(physical, count, null);
            VkQueueFamilyProperties.Buffer families = VkQueueFamilyProperties.malloc(count.get(0), stack);
            vkGetPhysicalDeviceQueueFamilyProperties(physical, count, families);
            int asyncCompute = -1;
            int anyCompute = -1;
            int dedicatedTransfer = -1;
            for (int i = 0; i < families.capacity(); i++) {
                int f = families.get(i).queueFlags();
                if (families.get(i).queueCount() == 0) {
                    continue;
                }
                boolean graphics = (f & VK_QUEUE_GRAPHICS_BIT) != 0;
                boolean compute = (f & VK_QUEUE_COMPUTE_BIT) != 0;
                if (graphics && graphicsFamily < 0) {
                    graphicsFamily = i;
                }
                if (compute && anyCompute < 0) {
                    anyCompute = i;
                }
                if (compute && !graphics && asyncCompute < 0) {
                    asyncCompute = i;
                }
                if ((f & VK_QUEUE_TRANSFER_BIT) != 0 && !graphics && !compute && dedicatedTransfer < 0) {
                    dedicatedTransfer = i;
                }
            }
            computeFamily = asyncCompute >= 0 ? asyncCompute : graphicsFamily >= 0 && anyCompute == graphicsFamily
                    ? graphicsFamily : anyCompute;
            if (computeFamily < 0) {
                computeFamily = graphicsFamily;
            }
            if (computeFamily < 0) {
                throw new VulkanException("Device has no graphics or compute queue family (expected: at least one)",
                        null);
            }
            transferFamily = dedicatedTransfer >= 0 ? dedicatedTransfer : computeFamily;

            boolean bda = false;
            boolean maintenance4 = false;
            boolean priority = false;
            boolean maintenance5 = false;
            VkPhysicalDeviceFeatures2 features2 = VkPhysicalDeviceFeatures2.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
            VkPhysicalDeviceVulkan12Features v12 = VkPhysicalDeviceVulkan12Features.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES);
            VkPhysicalDeviceVulkan13Features v13 = VkPhysicalDeviceVulkan13Features.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES);
            VkPhysicalDeviceMemoryPriorityFeaturesEXT prio = VkPhysicalDeviceMemoryPriorityFeaturesEXT.calloc(stack)
                    .sType$Default();
            VkPhysicalDeviceMaintenance5FeaturesKHR m5 = VkPhysicalDeviceMaintenance5FeaturesKHR.calloc(stack)
                    .sType$Default();
            long chain = NULL;
            if (apiVersion >= VK_API_VERSION_1_2) {
                v12.pNext(chain);
                chain = v12.address();
            }
            if (apiVersion >= VK_API_VERSION_1_3) {
                v13.pNext(chain);
                chain = v13.address();
            }
            if (extensions.contains("VK_EXT_memory_priority")) {
                prio.pNext(chain);
                chain = prio.address();
            }
            if (apiVersion >= VK_API_VERSION_1_3 && extensions.contains("VK_KHR_maintenance5")) {
                m5.pNext(chain);
                chain = m5.address();
            }
            features2.pNext(chain);
            vkGetPhysicalDeviceFeatures2(physical, features2);
            bda = apiVersion >= VK_API_VERSION_1_2 && v12.bufferDeviceAddress();
            maintenance4 = apiVersion >= VK_API_VERSION_1_3 && v13.maintenance4();
            priority = extensions.contains("VK_EXT_memory_priority") && prio.memoryPriority();
            maintenance5 = apiVersion >= VK_API_VERSION_1_3 && extensions.contains("VK_KHR_maintenance5")
                    && m5.maintenance5();
            boolean budget = extensions.contains("VK_EXT_memory_budget");
            features = new Features(bda, budget, priority, maintenance4, maintenance5);
        }

        VkDevice create(MemoryStack stack) {
            Set<Integer> familySet = new LinkedHashSet<>();
            if (graphicsFamily >= 0) {
                familySet.add(graphicsFamily);
            }
            familySet.add(computeFamily);
            familySet.add(transferFamily);
            VkDeviceQueueCreateInfo.Buffer queues = VkDeviceQueueCreateInfo.calloc(familySet.size(), stack);
            int i = 0;
            for (int family : familySet) {
                queues.get(i++)
                        .sType(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO)
                        .queueFamilyIndex(family)
                        .pQueuePriorities(stack.floats(1.0f));
            }
            List<String> enabled = new ArrayList<>();
            if (features.memoryBudget()) {
                enabled.add("VK_EXT_memory_budget");
            }
            if (features.memoryPriority()) {
                enabled.add("VK_EXT_memory_priority");
            }
            if (features.maintenance5()) {
                enabled.add("VK_KHR_maintenance5");
            }
            if (extensions.contains("VK_KHR_portability_subset")) {
                enabled.add("VK_KHR_portability_subset");
            }
            long chain = NULL;
            if (features.bufferDeviceAddress()) {
                chain = VkPhysicalDeviceVulkan12Features.calloc(stack)
                        .sType(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES)
                        .bufferDeviceAddress(true)
                        .pNext(chain).address();
            }
            if (features.maintenance4()) {
                chain = VkPhysicalDeviceVulkan13Features.calloc(stack)
                        .sType(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES)
                        .maintenance4(true)
                        .pNext(chain).address();
            }
            if (features.memoryPriority()) {
                chain = VkPhysicalDeviceMemoryPriorityFeaturesEXT.calloc(stack).sType$Default()
                        .memoryPriority(true)
                        .pNext(chain).address();
            }
            if (features.maintenance5()) {
                chain = VkPhysicalDeviceMaintenance5FeaturesKHR.calloc(stack).sType$Default()
                        .maintenance5(true)
                        .pNext(chain).address();
            }
            VkDeviceCreateInfo createInfo = VkDeviceCreateInfo.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO)
                    .pNext(chain)
                    .pQueueCreateInfos(queues)
                    .ppEnabledExtensionNames(pointers(stack, enabled));
            PointerBuffer pDevice = stack.mallocPointer(1);
            VkResults.check(vkCreateDevice(physical, createInfo, null, pDevice), "vkCreateDevice");
            return new VkDevice(pDevice.get(0), physical, createInfo, apiVersion);
        }
    }
}
