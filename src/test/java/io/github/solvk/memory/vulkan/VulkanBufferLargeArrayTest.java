package io.github.solvk.memory.vulkan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lwjgl.util.vma.Vma.VMA_ALLOCATION_CREATE_HOST_ACCESS_RANDOM_BIT;
import static org.lwjgl.util.vma.Vma.VMA_ALLOCATION_CREATE_MAPPED_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.lwjgl.system.MemoryUtil;

/**
 * {@link VulkanBuffer#write} and {@link VulkanBuffer#read} of {@code int[]} and {@code float[]} arrays of 2 GiB: 2^29
 * values, whose byte count, 2^31, is one more than an {@code int} holds. Such an array needs more than the 2 GiB heap
 * the build gives the tests, and the buffer 2 GiB of memory, so this runs in a JVM of its own with a 3 GiB heap and is
 * tagged {@code large-memory}, which the build leaves out: run it with
 * {@code mvn -o test -Dtest=VulkanBufferLargeArrayTest -Dsolvk.excludedTestGroups=none} (about 5 GiB of RAM).
 *
 * <p>The buffer is a real VMA allocation of 2 GiB on the test device, the largest lavapipe makes
 * ({@code maxMemoryAllocationSize} 0x80000000). Before the copies counted in long, a 2 GiB array's byte count was
 * cast to {@code int} after the (right) range check: -2^31, so the view it was copied through was no view of the
 * range, and a write that fits threw {@code java.nio.BufferOverflowException}.
 */
@Tag("large-memory")
class VulkanBufferLargeArrayTest {

    /** 2^29 values of 4 bytes: 2^31 bytes. */
    static final int COUNT = 1 << 29;
    static final long BYTES = 4L * COUNT;

    /**
     * The child JVM: writes and reads a 2 GiB int[] and float[] through a 2 GiB buffer and prints what it saw.
     *
     * @param args none
     */
    public static void main(String[] args) {
        try (VulkanContext context = VulkanContext.builder().validation(true).build();
             VulkanMemoryAllocator vma = VulkanMemoryAllocator.create(
                     VulkanMemoryAllocator.Settings.forContext(context));
             VulkanBuffer buffer = vma.createBuffer(new VulkanMemoryAllocator.BufferRequest(BYTES,
                     VK_BUFFER_USAGE_TRANSFER_SRC_BIT, null, VulkanMemoryAllocator.USAGE_AUTO, 0, 0,
                     VMA_ALLOCATION_CREATE_HOST_ACCESS_RANDOM_BIT | VMA_ALLOCATION_CREATE_MAPPED_BIT, 0, "2 GiB"))) {
            ints(buffer);
            // The int[] is garbage now: the float[] takes its place in the 3 GiB heap.
            floats(buffer);
            System.out.println("validation errors: " + context.validationErrors().size());
        } catch (Throwable t) {
            System.out.println("FAILED " + t);
            t.printStackTrace(System.out);
        }
    }

    private static void ints(VulkanBuffer buffer) {
        long last = buffer.mappedAddress() + BYTES - 4;
        int[] values = new int[COUNT];
        values[0] = 11;
        values[COUNT - 1] = 12;
        buffer.write(0, values);
        System.out.println("int write: " + MemoryUtil.memGetInt(buffer.mappedAddress()) + " "
                + MemoryUtil.memGetInt(last));
        MemoryUtil.memPutInt(last, 13);
        values[COUNT - 1] = 0;
        buffer.read(0, values);
        System.out.println("int read: " + values[0] + " " + values[COUNT - 1]);
        printRefusal(() -> buffer.write(4, values));
        printRefusal(() -> buffer.read(4, values));
    }

    private static void floats(VulkanBuffer buffer) {
        long last = buffer.mappedAddress() + BYTES - 4;
        float[] values = new float[COUNT];
        values[0] = 1.5f;
        values[COUNT - 1] = 2.5f;
        buffer.write(0, values);
        System.out.println("float write: " + MemoryUtil.memGetFloat(buffer.mappedAddress()) + " "
                + MemoryUtil.memGetFloat(last));
        MemoryUtil.memPutFloat(last, 3.5f);
        values[COUNT - 1] = 0;
        buffer.read(0, values);
        System.out.println("float read: " + values[0] + " " + values[COUNT - 1]);
        printRefusal(() -> buffer.write(4, values));
        printRefusal(() -> buffer.read(4, values));
    }

    private static void printRefusal(Runnable call) {
        try {
            call.run();
            System.out.println("refused: nothing");
        } catch (IllegalArgumentException e) {
            System.out.println("refused: " + e.getMessage());
        }
    }

    @Test
    void arraysOf2GiBShouldBeWrittenAndReadWholeAndRefusedOnlyWhereTheyDoNotFit()
            throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = List.of(java, "-Xmx3g", "-Dsolvk.validation=true", "-cp",
                System.getProperty("java.class.path"), VulkanBufferLargeArrayTest.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String tooFar = "refused: %s of 2147483648 bytes at offset 4 (expected: offset >= 0 and offset + length <= size"
                + " 2147483648)";
        assertThat(output).doesNotContain("FAILED")
                .contains("int write: 11 12").contains("int read: 11 13")
                .contains("float write: 1.5 2.5").contains("float read: 1.5 3.5")
                .contains(String.format(tooFar, "write")).contains(String.format(tooFar, "read"))
                .doesNotContain("refused: nothing")
                .contains("validation errors: 0");
    }
}
