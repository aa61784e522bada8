package io.github.solvk.memory.testing;

import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.TestInstance.Lifecycle;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

import io.github.solvk.memory.BlockPoolBufferAllocator;
import io.github.solvk.memory.IMemoryPool;
import io.github.solvk.memory.MemoryManager;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;
import io.github.solvk.memory.vulkan.VulkanObjects;

/**
 * A JUnit 5 extension for tests that need a Vulkan device.
 *
 * <pre>{@code
 * @ExtendWith(VulkanExtension.class)
 * class MyRendererTest {
 *     @Test
 *     void uploadsMesh(VulkanContext context, MemoryManager manager) { ... }
 * }
 * }</pre>
 *
 * <ul>
 *   <li>A {@link VulkanContext} parameter gets one context for the whole test run, with validation on, on the device
 *       that {@value VulkanContext#DEVICE_PROPERTY} or {@value VulkanContext#DEVICE_ENV} picks (the best one
 *       otherwise). Without a Vulkan device the test fails with a message that says how to install one; it is never
 *       skipped.</li>
 *   <li>A {@link MemoryManager} parameter gets a new manager for that test. After the test, the extension fails
 *       the test if the manager still has open buffers, open pools, or VMA allocations other than the blocks its
 *       block pool allocators keep ({@link #assertNothingLive}), then closes it; a close that throws (its
 *       allocator refusing under allocations made through {@link MemoryManager#allocator()}) is reported with the
 *       rest, and the test's other managers are still closed. So is a manager given to the test class's
 *       constructor, where each test gets an instance of its own (JUnit's default). A manager given to a
 *       {@code @BeforeAll} method, or to the constructor under {@code @TestInstance(PER_CLASS)}, is checked and
 *       closed in the same way once the class's tests are done, failing the class.</li>
 *   <li>Any validation error reported while the test ran fails it, listing the messages. One reported outside the
 *       tests fails the next test before it runs ({@code @BeforeAll}), or the class ({@code @AfterAll}).</li>
 *   <li>With {@value VulkanObjects#TRACKING_PROPERTY} on, a test after which more {@code VkBuffer}s or
 *       {@code VkDeviceMemory} objects made through this library are live than before it fails, whoever made them
 *       (its managers are closed first).</li>
 * </ul>
 */
public final class VulkanExtension implements BeforeEachCallback, AfterEachCallback, AfterAllCallback,
        ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(VulkanExtension.class);
    private static final String CONTEXT_KEY = "context";
    private static final String MANAGERS_KEY = "managers";
    /** Managers given to the constructor of a test's own instance, waiting for that test's beforeEach. */
    private static final String INSTANCE_MANAGERS_KEY = "instanceManagers";
    private static final String OBJECTS_KEY = "objects";

    /** Holds the shared context and closes it when the test run ends. */
    private static final class SharedContext implements ExtensionContext.Store.CloseableResource {
        final VulkanContext context;

        SharedContext(VulkanContext context) {
            this.context = context;
        }

        @Override
        public void close() {
            context.close();
        }
    }

    /**
     * The context shared by every test of the run, made on first use.
     *
     * @param extensionContext any JUnit extension context
     * @return the shared context
     */
    public static VulkanContext sharedContext(ExtensionContext extensionContext) {
        return extensionContext.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(CONTEXT_KEY, k -> new SharedContext(createContext()), SharedContext.class)
                .context;
    }

    private static VulkanContext createContext() {
        try {
            return VulkanContext.builder().validation(true).applicationName("solvk-memory tests").build();
        } catch (RuntimeException e) {
            throw new AssertionError("Vulkan tests need a Vulkan device with the validation layer: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Fails when a manager still holds anything: open buffers (its own, its pools' or its block pool allocators'),
     * an open pool (even an empty one), or VMA allocations beyond the blocks that open block pool allocators keep
     * (they keep an empty block by design). For tests that make their own managers; the extension runs it on the
     * managers it hands out.
     *
     * @param manager an open manager
     * @throws AssertionError           listing what is still live
     * @throws IllegalArgumentException when the manager is closed: its close freed everything, and nothing of it can
     *                                  be counted any more
     */
    public static void assertNothingLive(MemoryManager manager) {
        if (manager.isClosed()) {
            throw new IllegalArgumentException("manager: closed (expected: an open manager; a closed one freed"
                    + " everything at its close, and nothing of it can be counted any more)");
        }
        List<String> problems = liveProblems(manager);
        if (!problems.isEmpty()) {
            throw new AssertionError(String.join("\n", problems));
        }
    }

    private static List<String> liveProblems(MemoryManager manager) {
        List<String> problems = new ArrayList<>();
        if (manager.liveBufferCount() != 0) {
            problems.add("the test left " + manager.liveBufferCount() + " buffer(s) open: " + manager.liveBuffers());
        }
        for (IMemoryPool pool : manager.memoryPools()) {
            if (pool.liveBufferCount() != 0) {
                problems.add("the test left " + pool.liveBufferCount() + " buffer(s) of pool '" + pool.name()
                        + "' open");
            }
            problems.add("the test left pool '" + pool.name() + "' open (expected: closed, or made per test)");
        }
        // Block pools keep an empty block as a spare, by design: their blocks are theirs, not the test's leftovers.
        long blockPoolMemory = 0;
        for (BlockPoolBufferAllocator blocks : manager.blockPoolAllocators()) {
            if (blocks.liveBufferCount() != 0) {
                problems.add("the test left " + blocks.liveBufferCount() + " buffer(s) of block pools '"
                        + blocks.name() + "' open");
            }
            blockPoolMemory += blocks.deviceMemoryCount();
        }
        VulkanMemoryAllocator.Statistics total = manager.statistics().total();
        if (total.allocationCount() != blockPoolMemory) {
            problems.add("VMA reports " + total.allocationCount() + " live allocation(s) of "
                    + total.allocationBytes() + " bytes (expected: " + blockPoolMemory
                    + ", the block pools' own blocks)");
        }
        return problems;
    }

    @Override
    public void beforeEach(ExtensionContext extensionContext) {
        // A manager given to the constructor of this test's own instance (or of its enclosing instances) is this
        // test's. Not where the test's class is PER_CLASS: its enclosing instances serve all of its tests.
        if (extensionContext.getTestInstanceLifecycle().orElse(Lifecycle.PER_METHOD) == Lifecycle.PER_METHOD) {
            for (ExtensionContext c = extensionContext; c != null; c = c.getParent().orElse(null)) {
                List<?> instanceManagers = managers(c).remove(INSTANCE_MANAGERS_KEY, List.class);
                if (instanceManagers != null) {
                    for (Object manager : instanceManagers) {
                        testManagers(extensionContext, MANAGERS_KEY).add((MemoryManager) manager);
                    }
                }
            }
        }
        VulkanContext context = sharedContext(extensionContext);
        // Cleared so that none fails this test, but not dropped: an error from outside the tests fails this one.
        List<VulkanContext.ValidationMessage> earlier = context.validationErrors();
        context.clearValidationMessages();
        if (VulkanObjects.tracking()) {
            extensionContext.getStore(NAMESPACE).put(OBJECTS_KEY,
                    new long[] {VulkanObjects.liveBuffers(), VulkanObjects.liveDeviceMemory()});
        }
        if (!earlier.isEmpty()) {
            throw new AssertionError("validation error(s) reported before the test began, outside any test (a "
                    + "@BeforeAll method, a test class's constructor, or code run between the tests):\n"
                    + validationProblems(earlier));
        }
    }

    private static String validationProblems(List<VulkanContext.ValidationMessage> errors) {
        List<String> problems = new ArrayList<>();
        for (VulkanContext.ValidationMessage m : errors) {
            problems.add("validation error: " + m);
        }
        return String.join("\n", problems);
    }

    @Override
    public void afterEach(ExtensionContext extensionContext) {
        List<String> problems = new ArrayList<>();
        checkAndClose(managers(extensionContext).remove(MANAGERS_KEY, List.class), problems);
        long[] before = extensionContext.getStore(NAMESPACE).remove(OBJECTS_KEY, long[].class);
        if (before != null) {
            long buffers = VulkanObjects.liveBuffers() - before[0];
            long memory = VulkanObjects.liveDeviceMemory() - before[1];
            if (buffers != 0 || memory != 0) {
                problems.add("the test left " + buffers + " VkBuffer(s) and " + memory + " VkDeviceMemory object(s)"
                        + " made through this library undestroyed (expected: 0 and 0 once its managers, allocators"
                        + " and buffers are closed)");
            }
        }
        VulkanContext context = sharedContext(extensionContext);
        for (VulkanContext.ValidationMessage m : context.validationErrors()) {
            problems.add("validation error: " + m);
        }
        context.clearValidationMessages();
        if (!problems.isEmpty()) {
            throw new AssertionError(String.join("\n", problems));
        }
    }

    /**
     * Checks and closes the managers given to the class's {@code @BeforeAll} methods, and reports the validation
     * errors recorded since the last test.
     */
    @Override
    public void afterAll(ExtensionContext extensionContext) {
        List<String> problems = new ArrayList<>();
        checkAndClose(managers(extensionContext).remove(MANAGERS_KEY, List.class), problems);
        // Those of the enclosing instances of a PER_CLASS instance of this class, done with it; or left where making
        // a test's instance failed part way, its test not run.
        for (ExtensionContext c = extensionContext; c != null; c = c.getParent().orElse(null)) {
            checkAndClose(managers(c).remove(INSTANCE_MANAGERS_KEY, List.class), problems);
        }
        if (!problems.isEmpty()) {
            problems.add(0, "a manager given to " + extensionContext.getDisplayName()
                    + " outside its tests (a @BeforeAll method, or the constructor of a PER_CLASS instance):");
        }
        VulkanContext context = madeContext(extensionContext);
        List<VulkanContext.ValidationMessage> errors = context == null ? List.of() : context.validationErrors();
        if (context != null) {
            context.clearValidationMessages();
        }
        if (!errors.isEmpty()) {
            problems.add("validation error(s) reported outside the tests of " + extensionContext.getDisplayName()
                    + " (after the last test: an @AfterAll method, the close of a manager given to a @BeforeAll"
                    + " method; or, where no test ran, a @BeforeAll method):");
            problems.add(validationProblems(errors));
        }
        if (!problems.isEmpty()) {
            throw new AssertionError(String.join("\n", problems));
        }
    }

    /**
     * The shared context if it has been made, without making it: null where no test or method asked for it (none
     * ran: nothing to check, and no device to need), or where making it failed (the failure was reported to each
     * test or method that asked for it; the store throws it again on every lookup).
     */
    private static VulkanContext madeContext(ExtensionContext extensionContext) {
        try {
            SharedContext shared = extensionContext.getRoot().getStore(NAMESPACE).get(CONTEXT_KEY, SharedContext.class);
            return shared == null ? null : shared.context;
        } catch (RuntimeException | Error e) {
            return null;
        }
    }

    /**
     * The store of the managers made for this extension context alone: a namespace of its own, since a store's
     * lookups also search the enclosing contexts' stores, so that a test's managers would otherwise join a list that
     * its class's {@code @BeforeAll} started, and be neither checked nor closed after the test.
     */
    private static ExtensionContext.Store managers(ExtensionContext extensionContext) {
        return extensionContext.getStore(NAMESPACE.append(extensionContext.getUniqueId()));
    }

    @SuppressWarnings("unchecked")
    private static List<MemoryManager> testManagers(ExtensionContext extensionContext, String key) {
        return managers(extensionContext).getOrComputeIfAbsent(key, k -> new ArrayList<MemoryManager>(), List.class);
    }

    private static void checkAndClose(List<?> managers, List<String> problems) {
        if (managers == null) {
            return;
        }
        for (Object o : managers) {
            MemoryManager manager = (MemoryManager) o;
            if (manager.isClosed()) {
                continue;
            }
            try {
                problems.addAll(liveProblems(manager));
            } catch (RuntimeException e) {
                problems.add("checking a manager failed: " + e);
            }
            try {
                manager.close();
            } catch (RuntimeException e) {
                // Its allocator refuses to close under allocations made through manager.allocator(): report it
                // with the rest, and go on closing the other managers.
                problems.add("closing a manager failed: " + e);
            }
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        return type == VulkanContext.class || type == MemoryManager.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        VulkanContext context = sharedContext(extensionContext);
        if (type == VulkanContext.class) {
            return context;
        }
        if (type == MemoryManager.class) {
            MemoryManager manager = MemoryManager.create(context);
            // JUnit (before 5.12, and later by default) resolves a constructor's parameters with the class's context
            // even where each test gets an instance of its own: that manager is the test's, handed over in beforeEach.
            boolean testInstance = parameterContext.getDeclaringExecutable() instanceof Constructor
                    && extensionContext.getTestMethod().isEmpty()
                    && extensionContext.getTestInstanceLifecycle().orElse(Lifecycle.PER_METHOD) == Lifecycle.PER_METHOD;
            testManagers(extensionContext, testInstance ? INSTANCE_MANAGERS_KEY : MANAGERS_KEY).add(manager);
            return manager;
        }
        throw new ParameterResolutionException("VulkanExtension cannot resolve " + type.getName()
                + " (expected: VulkanContext or MemoryManager)");
    }
}
