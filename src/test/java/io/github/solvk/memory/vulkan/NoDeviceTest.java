package io.github.solvk.memory.vulkan;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** Runs a JVM whose Vulkan loader finds no driver, and checks what a user is told. */
class NoDeviceTest {

    /** Entry point of the child JVM: tries to make a context and prints what it was told. */
    public static void main(String[] args) {
        try (VulkanContext context = VulkanContext.builder().validation(false).build()) {
            System.out.println("UNEXPECTED device " + context.deviceName());
        } catch (VulkanException e) {
            System.out.println("MESSAGE " + e.getMessage());
        }
    }

    @Test
    void withoutAVulkanDeviceTheErrorShouldSayHowToInstallOne() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder builder = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                NoDeviceTest.class.getName())).redirectErrorStream(true);
        // Point the loader at a driver manifest that does not exist: it then finds no physical device.
        builder.environment().put("VK_DRIVER_FILES", "/nonexistent/solvk_no_driver.json");
        builder.environment().put("VK_ICD_FILENAMES", "/nonexistent/solvk_no_driver.json");
        Process process = builder.start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(output).contains("MESSAGE").contains("apt-get install libvulkan1 mesa-vulkan-drivers")
                .doesNotContain("UNEXPECTED");
    }
}
