package io.github.solvk.memory.vulkan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.Test;
import org.lwjgl.vulkan.VK10;

/**
 * {@link VulkanBuffer#KNOWN_USAGE_FLAGS} is every {@code VkBufferUsageFlagBits} bit of the LWJGL in use, read from
 * its classes, so that an LWJGL that learns a new extension's bit fails here and names it. No device needed.
 */
class KnownUsageFlagsTest {

    /** @return every {@code VK_BUFFER_USAGE_*_BIT*} constant of lwjgl-vulkan (not the 64-bit {@code _2_} ones) */
    static Map<String, Integer> lwjglUsageBits() throws Exception {
        Map<String, Integer> bits = new TreeMap<>();
        Path jar = Path.of(VK10.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (ZipEntry entry : Collections.list(zip.entries())) {
                String name = entry.getName();
                if (!name.startsWith("org/lwjgl/vulkan/") || !name.endsWith(".class") || name.contains("$")
                        || name.contains("/versions/")) {
                    continue;
                }
                Class<?> type = Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false,
                        KnownUsageFlagsTest.class.getClassLoader());
                for (Field field : type.getDeclaredFields()) {
                    String fieldName = field.getName();
                    if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class
                            && fieldName.startsWith("VK_BUFFER_USAGE_") && !fieldName.startsWith("VK_BUFFER_USAGE_2_")
                            && fieldName.contains("_BIT")) {
                        bits.put(type.getSimpleName() + "." + fieldName, field.getInt(null));
                    }
                }
            }
        }
        return bits;
    }

    @Test
    void knownUsageFlagsShouldBeEveryBitLwjglDefines() throws Exception {
        Map<String, Integer> bits = lwjglUsageBits();
        assertThat(bits).containsKeys("VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT",
                "VK12.VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT",
                "KHRAccelerationStructure.VK_BUFFER_USAGE_ACCELERATION_STRUCTURE_STORAGE_BIT_KHR",
                "EXTDescriptorBuffer.VK_BUFFER_USAGE_RESOURCE_DESCRIPTOR_BUFFER_BIT_EXT");
        int all = 0;
        for (int bit : bits.values()) {
            assertThat(Integer.bitCount(bit)).isEqualTo(1);
            all |= bit;
        }
        assertThat(Integer.toHexString(all)).as("the bits of %s", bits)
                .isEqualTo(Integer.toHexString(VulkanBuffer.KNOWN_USAGE_FLAGS));
    }

    @Test
    void everyKnownBitShouldPassAndAnyOtherBeNamed() {
        assertThatCode(() -> VulkanBuffer.checkKnownUsage("usage", VulkanBuffer.KNOWN_USAGE_FLAGS))
                .doesNotThrowAnyException();
        assertThatCode(() -> VulkanBuffer.checkKnownUsage("usage", 0)).doesNotThrowAnyException();
        assertThatThrownBy(() -> VulkanBuffer.checkKnownUsage("bufferUsage", 0x40020))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bufferUsage: 0x40020 (expected: VkBufferUsageFlagBits within 0x1ffbffff, unknown:"
                        + " 0x40000)");
        assertThatThrownBy(() -> VulkanBuffer.checkKnownUsage("bufferUsage", 1 << 31))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bufferUsage: 0x80000000 (expected: VkBufferUsageFlagBits within 0x1ffbffff, unknown:"
                        + " 0x80000000)");
    }
}
