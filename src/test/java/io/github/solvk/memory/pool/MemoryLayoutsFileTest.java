package io.github.solvk.memory.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.solvk.memory.vulkan.MemoryProperties;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

class MemoryLayoutsFileTest {

    @Test
    void copyInTestResourcesShouldEqualTheSharedFile() throws IOException {
        Path shared = MemoryLayouts.sharedFile();
        if (!Files.isRegularFile(shared)) {
            fail("shared memory layouts file " + shared + " is missing (expected: the project's shared/ directory"
                    + " beside the project root, resolved from user.dir=" + System.getProperty("user.dir")
                    + "); the tests use the copy in src/test/resources, which must be kept equal to it");
        }
        byte[] copy;
        try (InputStream in = Objects.requireNonNull(MemoryLayouts.class.getResourceAsStream(MemoryLayouts.RESOURCE),
                MemoryLayouts.RESOURCE)) {
            copy = in.readAllBytes();
        }
        assertThat(copy)
                .as("src/test/resources%s must equal %s; copy the shared file over it", MemoryLayouts.RESOURCE, shared)
                .isEqualTo(Files.readAllBytes(shared));
    }

    @Test
    void fileShouldHoldFourteenDistinctlyNamedLayouts() {
        List<MemoryLayouts.Layout> all = MemoryLayouts.all();
        assertThat(all).hasSize(14);
        assertThat(all).extracting(MemoryLayouts.Layout::name).doesNotHaveDuplicates();
    }

    @Test
    void missingLimitsShouldDefaultToOne() {
        MemoryProperties nvidiaWithoutLimits = MemoryLayouts.named("NVIDIA desktop GPU").props();
        assertThat(nvidiaWithoutLimits.bufferImageGranularity()).isEqualTo(1);
        assertThat(nvidiaWithoutLimits.nonCoherentAtomSize()).isEqualTo(1);
        MemoryProperties h200 = MemoryLayouts.named("NVIDIA H200").props();
        assertThat(h200.bufferImageGranularity()).isEqualTo(1024);
        assertThat(h200.nonCoherentAtomSize()).isEqualTo(64);
        assertThat(h200.types()).hasSize(5);
        assertThat(h200.propertyFlags(4)).isEqualTo(MemoryProperties.DEVICE_LOCAL | MemoryProperties.HOST_VISIBLE
                | MemoryProperties.HOST_COHERENT);
    }
}
