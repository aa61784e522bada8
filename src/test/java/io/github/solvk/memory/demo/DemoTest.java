package io.github.solvk.memory.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoTest {

    @Test
    void theDemoShouldMoveDataThroughTheGpuAndPassEveryCheckWithValidationOn(@TempDir Path folder) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = new Demo(new PrintStream(bytes, true, StandardCharsets.UTF_8))
                .run(new String[] {"--validation", "--mesh-bytes", "65536", "--seed", "7", "--frames", "12",
                    "--meshes", "16", "--compare-vma", "--out", folder.toString()});
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(status).as(out).isZero();
        assertThat(out).contains("validation on").contains("ok    host -> staging -> device-local mesh -> readback")
                .contains("VMA statistics with 6 buffers live").contains("After freeing every buffer: 0 live")
                .contains("ok    level unloaded: every block back to the driver")
                .contains("RESULT: OK").contains("| solvk pools").contains("| plain VMA")
                .containsPattern("meshes read back and checked +\\| [1-9]\\d* +\\| [1-9]")
                .containsPattern("failures +\\| 0 +\\| 0");
        assertThat(Files.readString(folder.resolve("memory-map.html"))).contains("meshes").contains("staging ring");
        assertThat(Files.size(folder.resolve("memory-map.png"))).isPositive();
        assertThat(Files.readString(folder.resolve("memory-map.json"))).contains("CustomPools");
    }

    @Test
    void badOptionsShouldBeRejectedWithTheExpectation() {
        Demo demo = new Demo(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertThatThrownBy(() -> demo.run(new String[] {"--frobnicate"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown option: --frobnicate");
        assertThatThrownBy(() -> demo.run(new String[] {"--mesh-bytes", "3"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--mesh-bytes: 3");
    }

    @Test
    void byteCountsShouldReadLikeAPerson() {
        assertThat(Demo.bytes(512)).isEqualTo("512 B");
        assertThat(Demo.bytes(1536)).isEqualTo("1.5 KiB");
        assertThat(Demo.bytes(3L << 30)).isEqualTo("3.0 GiB");
    }
}
