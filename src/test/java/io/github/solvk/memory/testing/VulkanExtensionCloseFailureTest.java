package io.github.solvk.memory.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import io.github.solvk.memory.MemoryManager;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * {@link VulkanExtension} when closing a manager it handed out throws (its allocator refuses to close under an
 * allocation made through {@link MemoryManager#allocator()}): the test must fail with the extension's list of what
 * was left, and every other manager of the test must still be closed.
 */
class VulkanExtensionCloseFailureTest {

    @Test
    void aManagerWhoseCloseThrowsShouldNeitherHideTheReportNorLeaveTheOtherManagersOpen() {
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(LeavesAVmaBuffer.class)).build(), listener);
        TestExecutionSummary summary = listener.getSummary();

        List<TestExecutionSummary.Failure> failures = summary.getFailures();
        assertThat(failures).hasSize(1);
        assertThat(failures.get(0).getException()).isInstanceOf(AssertionError.class)
                .hasMessageContaining("VMA reports 1 live allocation");
        assertThat(LeavesAVmaBuffer.second.isClosed()).as("the test's other manager").isTrue();
        assertThat(LeavesAVmaBuffer.secondAllocator.isClosed()).isTrue();
    }

    /** Run by the test above only (a nested class without {@code @Nested}: neither JUnit nor Surefire runs it). */
    @ExtendWith(VulkanExtension.class)
    static class LeavesAVmaBuffer {
        static MemoryManager first;
        static MemoryManager second;
        static VulkanMemoryAllocator secondAllocator;
        static VulkanBuffer straggler;

        @Test
        void leavesABufferMadeThroughTheAllocator(MemoryManager a, MemoryManager b) {
            first = a;
            second = b;
            secondAllocator = b.allocator();
            straggler = a.allocator().createBuffer(new VulkanMemoryAllocator.BufferRequest(4096,
                    VK_BUFFER_USAGE_TRANSFER_SRC_BIT, null, VulkanMemoryAllocator.USAGE_AUTO, 0, 0, 0, 0,
                    "straggler"));
        }

        @AfterAll
        static void closeWhatTheTestLeft() {
            // Before the launcher's run ends and closes its device.
            if (straggler != null) {
                straggler.close();
            }
            if (first != null) {
                first.close();
            }
            if (second != null) {
                second.close();
            }
        }
    }
}
