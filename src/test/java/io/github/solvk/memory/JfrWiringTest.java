package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.IMemoryPool.CreateInfo;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.MemoryProperties;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

@ExtendWith(VulkanExtension.class)
class JfrWiringTest {

    @Test
    void poolBlocksAndFailuresShouldBeRecordedWhenARecordingEnablesTheEvents(MemoryManager manager,
                                                                            @TempDir Path dir) throws Exception {
        Path file = dir.resolve("solvk.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("solvk.BlockAllocated");
            recording.enable("solvk.BlockFreed");
            recording.enable("solvk.AllocationFailed");
            recording.start();
            try (IMemoryPool pool = manager.createNonLinearMemoryPool("jfr pool", CreateInfo.of(
                    VK_BUFFER_USAGE_TRANSFER_SRC_BIT, MemoryUsage.UPLOAD, 64 * 1024).withBlocks(1, 1))) {
                assertThatThrownBy(() -> pool.allocateBuffer(64 * 1024 + 1))
                        .isInstanceOf(MemoryAllocationException.class);
            }
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        assertThat(events).filteredOn(e -> e.getEventType().getName().equals("solvk.BlockAllocated"))
                .anySatisfy(e -> {
                    assertThat(e.getString("pool")).isEqualTo("jfr pool");
                    assertThat(e.getLong("size")).isEqualTo(64 * 1024);
                });
        assertThat(events).filteredOn(e -> e.getEventType().getName().equals("solvk.BlockFreed"))
                .anySatisfy(e -> assertThat(e.getString("pool")).isEqualTo("jfr pool"));
        assertThat(events).filteredOn(e -> e.getEventType().getName().equals("solvk.AllocationFailed"))
                .anySatisfy(e -> {
                    assertThat(e.getString("pool")).isEqualTo("jfr pool");
                    assertThat(e.getString("reason")).contains("BLOCK_SIZE_EXCEEDED");
                });
    }

    @Test
    void aFailedVulkanCallShouldBeRecordedWithItsReasonAndVkResultByTheManagerAndTheBlockPoolsAlike(
            MemoryManager manager, @TempDir Path dir) throws Exception {
        // Lavapipe refuses a VkBuffer of 4 GiB. The event's reason is "the reason constant and, where there is one,
        // the VkResult name" (AllocationFailedEvent): the manager recorded both, the block pools the reason alone.
        AllocationInfo huge = AllocationInfo.builder().size(4L << 30).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                .memoryUsage(MemoryUsage.UPLOAD).build();
        List<RecordedEvent> failed;
        try (BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("jfr huge",
                BlockPoolAllocator.Config.defaults())) {
            failed = failuresRecorded(dir, () -> {
                assertThatThrownBy(() -> manager.allocateBuffer(huge)).isInstanceOf(MemoryAllocationException.class);
                assertThatThrownBy(() -> blocks.allocateBuffer(huge)).isInstanceOf(MemoryAllocationException.class);
            });
        }
        assertThat(failed).extracting(e -> e.getString("pool") + ": " + e.getString("reason")).containsExactly(
                "MemoryManager: OUT_OF_DEVICE_MEMORY VK_ERROR_OUT_OF_DEVICE_MEMORY",
                "jfr huge: OUT_OF_DEVICE_MEMORY VK_ERROR_OUT_OF_DEVICE_MEMORY");
    }

    @Test
    void aRequestNoMemoryTypeHoldsShouldBeRecordedByTheManagerAsByTheBlockPools(MemoryManager manager,
                                                                               @TempDir Path dir) throws Exception {
        // Protected memory: lavapipe has none, so no memory type has the required flags.
        AllocationInfo info = AllocationInfo.builder().size(64).bufferUsage(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT)
                .memoryUsage(MemoryUsage.DEVICE_ONLY).requiredMemoryFlags(MemoryProperties.PROTECTED).build();
        List<RecordedEvent> failed;
        try (BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("jfr blocks",
                BlockPoolAllocator.Config.defaults())) {
            failed = failuresRecorded(dir, () -> {
                assertThatThrownBy(() -> blocks.allocateBuffer(info)).isInstanceOf(MemoryAllocationException.class);
                assertThatThrownBy(() -> manager.allocateBuffer(info)).isInstanceOfSatisfying(
                        MemoryAllocationException.class, e -> assertThat(e.reason())
                                .isEqualTo(MemoryAllocationException.Reason.NO_COMPATIBLE_MEMORY_TYPE));
            });
        }
        assertThat(failed).anySatisfy(e -> assertThat(e.getString("pool")).isEqualTo("jfr blocks"));
        assertThat(failed).as("the manager's refusal of the same request").anySatisfy(e -> {
            assertThat(e.getString("pool")).isEqualTo("MemoryManager");
            assertThat(e.getString("reason")).isEqualTo("NO_COMPATIBLE_MEMORY_TYPE");
            assertThat(e.getLong("size")).isEqualTo(64);
        });
    }

    /** Runs {@code calls} under a recording of {@code solvk.AllocationFailed}; returns its events, in order. */
    private static List<RecordedEvent> failuresRecorded(Path dir, Runnable calls) throws Exception {
        Path file = dir.resolve("failures.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("solvk.AllocationFailed");
            recording.start();
            calls.run();
            recording.stop();
            recording.dump(file);
        }
        return RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("solvk.AllocationFailed")).toList();
    }
}
