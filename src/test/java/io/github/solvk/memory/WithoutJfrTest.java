package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.diagnostics.JfrEvents;
import io.github.solvk.memory.vulkan.VulkanContext;

/**
 * Runs a JVM whose runtime has no {@code jdk.jfr} module, as a runtime made with {@code jlink} often has, and checks
 * that the library works there: JFR events are optional.
 */
class WithoutJfrTest {

    /** Entry point of the child JVM: makes a manager, a buffer and a pool's buffer, and prints what happened. */
    public static void main(String[] args) {
        System.out.println("JFR " + (JfrEvents.isAvailable() ? "available" : "absent"));
        try (VulkanContext context = VulkanContext.builder().validation(false).build();
             MemoryManager manager = MemoryManager.create(context);
             IBuffer buffer = manager.allocateBuffer(AllocationInfo.builder().name("no jfr").size(1024)
                     .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.UPLOAD).build())) {
            IMemoryPool ring = manager.createRingBufferMemoryPool("ring",
                    IMemoryPool.CreateInfo.of(VK_BUFFER_USAGE_TRANSFER_SRC_BIT, MemoryUsage.UPLOAD, 1 << 20));
            try (IBuffer ranged = ring.allocateBuffer(IMemoryPool.AllocationInfo.of(256, "ranged"))) {
                buffer.write(0, new float[] {1, 2, 3});
                System.out.println("OK " + ranged.size());
            }
        } catch (Throwable t) {
            System.out.println("FAILED " + t);
            t.printStackTrace(System.out);
        }
    }

    private static String run(boolean withoutJfr) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java));
        if (withoutJfr) {
            // The modules the library and LWJGL need, and no jdk.jfr.
            command.add("--limit-modules=java.base,java.logging,jdk.unsupported");
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), WithoutJfrTest.class.getName()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return output;
    }

    @Test
    void aRuntimeWithoutJdkJfrShouldMakeBuffersAndPoolsWithEventsOff() throws IOException, InterruptedException {
        String output = run(true);
        assertThat(output).contains("JFR absent").contains("OK 256").doesNotContain("FAILED");
    }

    @Test
    void aFullRuntimeShouldHaveTheEvents() throws IOException, InterruptedException {
        String output = run(false);
        assertThat(output).contains("JFR available").contains("OK 256").doesNotContain("FAILED");
    }
}
