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

import io.github.solvk.memory.IBuffer;

/** The demo refuses bad options before any work, and its checks fail when a copy does not happen. */
class DemoChecksTest {

    private static Demo quiet() {
        return new Demo(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    }

    @Test
    void numbersThatDoNotParseShouldNameTheOptionAndTheExpectation() {
        assertThatThrownBy(() -> quiet().run(new String[] {"--frames", "abc"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--frames")
                .hasMessageContaining("abc").hasMessageContaining("expected");
        assertThatThrownBy(() -> quiet().run(new String[] {"--seed", "x"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--seed")
                .hasMessageContaining("expected");
        assertThatThrownBy(() -> quiet().run(new String[] {"--mesh-bytes", "99999999999"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--mesh-bytes")
                .hasMessageContaining("99999999999").hasMessageContaining("expected");
        assertThatThrownBy(() -> quiet().run(new String[] {"--meshes", "--validation"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--meshes")
                .hasMessageContaining("needs a value");
    }

    @Test
    void moreMeshesThanThePoolsCanHoldShouldBeRefusedBeforeAnyWork() {
        // Before: the simulation streamed 4376 meshes, then died with OUT_OF_POOL_MEMORY (exit status 1, as for a
        // failed check) after filling 1 GiB.
        assertThatThrownBy(() -> quiet().run(new String[] {"--frames", "1", "--meshes", "20000"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--meshes: 20000")
                .hasMessageContaining("expected");
    }

    @Test
    void anOutFolderThatCannotBeMadeShouldBeRefusedBeforeAnyWork(@TempDir Path folder) throws Exception {
        Path file = Files.writeString(folder.resolve("a-file"), "x");
        // Before: the whole demo and simulation ran, then writing the map threw UncheckedIOException (status 1).
        assertThatThrownBy(() -> quiet().run(new String[] {"--frames", "1", "--out", file.resolve("map").toString()}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--out")
                .hasMessageContaining("a-file");
        // Before: --out (and --compare-vma) with --frames 0 were ignored without a word; nothing was written.
        assertThatThrownBy(() -> quiet().run(new String[] {"--frames", "0", "--out", folder.resolve("m").toString()}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--out")
                .hasMessageContaining("--frames 0");
        assertThat(folder.resolve("m")).doesNotExist();
    }

    @Test
    void aCopyThatNeverHappensShouldFailTheIndexCheck() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        // Drops the copy of the index buffer into the readback buffer (and the copy into the index buffer): the
        // readback still holds the mesh's bytes from the copy before, which are the same bytes the check expects.
        int status = new Demo(new PrintStream(bytes, true, StandardCharsets.UTF_8))
                .withCopier((context, src, dst, size) -> {
                    if (!"mesh indices".equals(src.name()) && !"mesh indices".equals(dst.name())) {
                        copyForReal(context, src, dst, size);
                    }
                })
                .run(new String[] {"--mesh-bytes", "65536", "--frames", "0"});
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("FAIL  device-local mesh -> index buffer -> readback").contains("RESULT: FAILED");
        assertThat(status).isEqualTo(1);
    }

    @Test
    void aCorrectRunShouldStillPassEveryCheck() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = new Demo(new PrintStream(bytes, true, StandardCharsets.UTF_8))
                .run(new String[] {"--mesh-bytes", "65536", "--frames", "0"});
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(status).as(out).isZero();
        assertThat(out).contains("ok    device-local mesh -> index buffer -> readback")
                .contains("ok    3 frames of uniforms");
    }

    private static void copyForReal(io.github.solvk.memory.vulkan.VulkanContext context, IBuffer src, IBuffer dst,
                                    long size) {
        context.execute(context.transferQueue(), cmd -> {
            try (org.lwjgl.system.MemoryStack stack = org.lwjgl.system.MemoryStack.stackPush()) {
                org.lwjgl.vulkan.VK10.vkCmdCopyBuffer(cmd, src.buffer(), dst.buffer(),
                        org.lwjgl.vulkan.VkBufferCopy.calloc(1, stack).srcOffset(src.offset())
                                .dstOffset(dst.offset()).size(size));
            }
        });
    }
}
