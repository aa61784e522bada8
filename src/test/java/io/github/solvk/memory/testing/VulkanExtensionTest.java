package io.github.solvk.memory.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_SHARING_MODE_EXCLUSIVE;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_SUCCESS;
import static org.lwjgl.vulkan.VK10.vkCreateBuffer;
import static org.lwjgl.vulkan.VK10.vkDestroyBuffer;

import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferCreateInfo;

import io.github.solvk.memory.IBuffer;
import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.MemoryManager;
import io.github.solvk.memory.MemoryUsage;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemory;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;
import io.github.solvk.memory.vulkan.VulkanObjects;

/**
 * {@link VulkanExtension}'s per-test check of the Vulkan objects made through the library ({@link VulkanObjects}):
 * a test class run through the JUnit launcher, one of whose tests leaves a {@code VkBuffer} and its memory behind.
 */
class VulkanExtensionTest {

    @Test
    void aTestThatLeavesAVkBufferAndItsMemoryShouldFailAndOnlyThatTest() {
        assertThat(VulkanObjects.tracking()).as("the build turns counting on for the tests").isTrue();
        long buffers = VulkanObjects.liveBuffers();
        long memory = VulkanObjects.liveDeviceMemory();

        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(Leaky.class)).build(), listener);
        TestExecutionSummary summary = listener.getSummary();

        assertThat(summary.getTestsSucceededCount()).as("the test that closes everything").isEqualTo(1);
        List<TestExecutionSummary.Failure> failures = summary.getFailures();
        assertThat(failures).hasSize(1);
        assertThat(failures.get(0).getTestIdentifier().getDisplayName()).startsWith("leavesABufferAndItsMemory");
        assertThat(failures.get(0).getException()).isInstanceOf(AssertionError.class)
                .hasMessageContaining("the test left 1 VkBuffer(s) and 1 VkDeviceMemory object(s)");
        assertThat(summary.getContainersFailedCount()).as(failures.stream().map(f -> f.getException().toString())
                .collect(Collectors.joining("\n"))).isZero();
        assertThat(VulkanObjects.liveBuffers()).as("closed after the class").isEqualTo(buffers);
        assertThat(VulkanObjects.liveDeviceMemory()).isEqualTo(memory);
    }

    /**
     * A manager handed to a {@code @BeforeAll} method lives in the class's store: a test's own manager must still be
     * checked and closed after that test, and the class's after the class, not forgotten in the class's list.
     */
    @Test
    void aManagerForTheWholeClassShouldNotHideTheTestsManagersFromTheChecks() {
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(ClassManager.class)).build(), listener);
        TestExecutionSummary summary = listener.getSummary();

        List<TestExecutionSummary.Failure> failures = summary.getFailures();
        assertThat(failures).as(failures.stream().map(f -> f.getException().toString())
                .collect(Collectors.joining("\n"))).hasSize(2);
        assertThat(failures.get(0).getTestIdentifier().getDisplayName()).startsWith("leavesABufferOpen");
        assertThat(failures.get(0).getException()).isInstanceOf(AssertionError.class)
                .hasMessageContaining("the test left 1 buffer(s) open: ['left by the test'");
        assertThat(failures.get(1).getTestIdentifier().isContainer()).as("the class").isTrue();
        assertThat(failures.get(1).getException()).isInstanceOf(AssertionError.class)
                .hasMessageContaining("left 1 buffer(s) open: ['left by the class'");
        assertThat(ClassManager.testManager.isClosed()).as("the test's manager, after the test").isTrue();
        assertThat(ClassManager.classManager.isClosed()).as("the class's manager, after the class").isTrue();
    }

    /**
     * The extension clears the recorded messages before each test so that none of them fails the wrong test: it must
     * not drop, with them, a validation error that a {@code @BeforeAll} or {@code @AfterAll} method provoked.
     */
    @Test
    void aValidationErrorOutsideTheTestsShouldFailTheClassNotBeDropped() {
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(ErrorsOutsideTests.class)).build(), listener);
        TestExecutionSummary summary = listener.getSummary();

        List<TestExecutionSummary.Failure> failures = summary.getFailures();
        assertThat(failures).as(failures.stream().map(f -> f.getException().toString())
                .collect(Collectors.joining("\n"))).hasSize(2);
        assertThat(failures.get(0).getTestIdentifier().getDisplayName()).startsWith("runsAfterTheBeforeAll");
        assertThat(failures.get(0).getException()).isInstanceOf(AssertionError.class)
                .hasMessageContaining("before the test began")
                .hasMessageContaining("VUID-VkBufferCreateInfo-size-00912");
        assertThat(failures.get(1).getTestIdentifier().isContainer()).as("the class").isTrue();
        assertThat(failures.get(1).getException()).isInstanceOf(AssertionError.class)
                .hasMessageContaining("after the last test")
                .hasMessageContaining("VUID-VkBufferCreateInfo-size-00912");
    }

    /**
     * With a new test instance per test (JUnit's default), a manager given to the constructor is that test's: it must
     * be checked and closed after that test, failing it, not kept open until the class ends and failing the class.
     */
    @Test
    void aManagerGivenToTheConstructorShouldBeTheTests() {
        TestExecutionSummary summary = run(ConstructorManager.class);

        List<TestExecutionSummary.Failure> failures = summary.getFailures();
        assertThat(failures).as(describe(summary)).hasSize(1);
        assertThat(failures.get(0).getTestIdentifier().getDisplayName()).startsWith("aLeavesABufferOpen");
        assertThat(failures.get(0).getException()).isInstanceOf(AssertionError.class)
                .hasMessageContaining("the test left 1 buffer(s) open: ['left by the test'");
        assertThat(summary.getTestsSucceededCount()).as("the second test saw the first's manager closed").isEqualTo(1);

        // An enclosing instance made for a PER_CLASS nested class serves all of its tests: its manager stays open.
        TestExecutionSummary nested = run(EnclosingManager.class);
        assertThat(nested.getFailures()).as(describe(nested)).isEmpty();
        assertThat(nested.getTestsSucceededCount()).isEqualTo(2);
        assertThat(EnclosingManager.managers).hasSize(1).allMatch(MemoryManager::isClosed);
    }

    /**
     * Without a device a test that needs one fails, once; the class must not fail again with the same error from
     * afterAll, and a class none of whose tests ran must not fail at all (nor make a device only to check it).
     */
    @Test
    void withoutADeviceOnlyTheTestsThatNeedOneShouldFail() {
        System.setProperty(VulkanContext.DEVICE_PROPERTY, "no device is called this");
        try {
            TestExecutionSummary needsOne = run(NeedsADevice.class);
            assertThat(needsOne.getFailures()).as(describe(needsOne)).hasSize(1);
            assertThat(needsOne.getFailures().get(0).getTestIdentifier().getDisplayName()).startsWith("needsOne");
            assertThat(needsOne.getFailures().get(0).getException()).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("Vulkan tests need a Vulkan device");
            TestExecutionSummary noneRan = run(NoTestRuns.class);
            assertThat(noneRan.getFailures()).as(describe(noneRan)).isEmpty();
            assertThat(noneRan.getTestsSkippedCount()).isEqualTo(1);
        } finally {
            System.clearProperty(VulkanContext.DEVICE_PROPERTY);
        }
    }

    private static TestExecutionSummary run(Class<?> testClass) {
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(testClass)).build(), listener);
        return listener.getSummary();
    }

    private static String describe(TestExecutionSummary summary) {
        return summary.getFailures().stream().map(f -> f.getTestIdentifier().getDisplayName() + ": "
                + f.getException()).collect(Collectors.joining("\n"));
    }

    /** Run by the test above only. */
    @ExtendWith(VulkanExtension.class)
    @TestMethodOrder(MethodOrderer.MethodName.class)
    static class ConstructorManager {
        static MemoryManager first;
        private final MemoryManager manager;

        ConstructorManager(MemoryManager manager) {
            this.manager = manager;
        }

        @Test
        void aLeavesABufferOpen() {
            first = manager;
            ClassManager.buffer(manager, "left by the test");
        }

        @Test
        void bRunsAfterTheFirstsManagerIsClosed() {
            assertThat(manager).isNotSameAs(first);
            assertThat(first.isClosed()).isTrue();
        }
    }

    /** Run by the test above only. */
    @ExtendWith(VulkanExtension.class)
    static class EnclosingManager {
        static final List<MemoryManager> managers = new ArrayList<>();
        private final MemoryManager manager;

        EnclosingManager(MemoryManager manager) {
            this.manager = manager;
            managers.add(manager);
        }

        @Nested
        @TestInstance(TestInstance.Lifecycle.PER_CLASS)
        @TestMethodOrder(MethodOrderer.MethodName.class)
        class OneInstance {
            @Test
            void a() {
                assertThat(manager.isClosed()).isFalse();
            }

            @Test
            void b() {
                assertThat(manager.isClosed()).isFalse();
            }
        }
    }

    /** Run by the test above only, without a device. */
    @ExtendWith(VulkanExtension.class)
    static class NeedsADevice {
        @Test
        void needsOne(VulkanContext context) {
        }
    }

    /** Run by the test above only, without a device. */
    @ExtendWith(VulkanExtension.class)
    static class NoTestRuns {
        @Disabled("none of the class's tests runs")
        @Test
        void disabled(VulkanContext context) {
        }
    }

    /** Run by the test above only (a nested class without {@code @Nested}: neither JUnit nor Surefire runs it). */
    @ExtendWith(VulkanExtension.class)
    static class Leaky {
        private static VulkanMemoryAllocator allocator;
        private static VulkanMemory block;
        private static VulkanBuffer buffer;

        private static VulkanMemory block(VulkanContext context) {
            allocator = VulkanMemoryAllocator.create(VulkanMemoryAllocator.Settings.forContext(context));
            VulkanMemory.Requirements r = VulkanMemory.bufferRequirements(allocator, 4096,
                    VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
            return VulkanMemory.allocate(allocator, 1 << 20, r.alignment(),
                    Integer.numberOfTrailingZeros(r.memoryTypeBits()), true, "leaky block");
        }

        @Test
        void leavesABufferAndItsMemory(VulkanContext context) {
            block = block(context);
            buffer = block.createBuffer(0, 4096, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
        }

        @Test
        void closesEverything(VulkanContext context) {
            try (VulkanMemoryAllocator vma = VulkanMemoryAllocator.create(
                    VulkanMemoryAllocator.Settings.forContext(context));
                 VulkanMemory memory = VulkanMemory.allocate(vma, 1 << 20, 256, 0, true, "closed block");
                 VulkanBuffer b = memory.createBuffer(0, 4096, VK_BUFFER_USAGE_TRANSFER_SRC_BIT)) {
                assertThat(b.ownsBuffer()).isTrue();
            }
        }

        @AfterAll
        static void closeWhatTheLeakyTestLeft() {
            // Before the launcher's run ends and closes its device.
            if (buffer != null) {
                buffer.close();
                block.close();
            }
            if (allocator != null) {
                allocator.close();
            }
        }
    }

    /** Run by the test above only. */
    @ExtendWith(VulkanExtension.class)
    static class ClassManager {
        static MemoryManager classManager;
        static MemoryManager testManager;
        static IBuffer classBuffer;
        static IBuffer testBuffer;

        private static IBuffer buffer(MemoryManager manager, String name) {
            return manager.allocateBuffer(AllocationInfo.builder().size(256)
                    .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.UPLOAD).name(name).build());
        }

        @BeforeAll
        static void makeTheClassManager(MemoryManager manager) {
            classManager = manager;
            classBuffer = buffer(manager, "left by the class");
        }

        @Test
        void leavesABufferOpen(MemoryManager manager) {
            testManager = manager;
            testBuffer = buffer(manager, "left by the test");
        }
    }

    /** Run by the test above only. */
    @ExtendWith(VulkanExtension.class)
    static class ErrorsOutsideTests {
        private static VulkanContext shared;

        /** A buffer of size 0: {@code VUID-VkBufferCreateInfo-size-00912}. */
        private static void provokeAValidationError(VulkanContext context) {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                LongBuffer pBuffer = stack.mallocLong(1);
                int result = vkCreateBuffer(context.device(), VkBufferCreateInfo.calloc(stack)
                        .sType(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO).size(0).usage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                        .sharingMode(VK_SHARING_MODE_EXCLUSIVE), null, pBuffer);
                if (result == VK_SUCCESS) {
                    vkDestroyBuffer(context.device(), pBuffer.get(0), null);
                }
            }
        }

        @BeforeAll
        static void provokeOneBeforeTheTests(VulkanContext context) {
            shared = context;
            provokeAValidationError(context);
        }

        @Test
        void runsAfterTheBeforeAll() {
        }

        @AfterAll
        static void provokeOneAfterTheTests() {
            provokeAValidationError(shared);
        }
    }
}
