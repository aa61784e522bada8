package io.github.solvk.memory.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.solvk.memory.vulkan.MemoryProperties;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class MemoryLayoutsFileTest {

    @Test
    void copyInTestResourcesShouldEqualTheSharedFile() throws IOException {
        Path shared = MemoryLayouts.sharedFile();
        // The shared/ directory exists only in the project's own workspace and CI, not in a plain clone; there the
        // copy in src/test/resources is all there is, and this consistency check is skipped with this reason.
        Assumptions.assumeTrue(Files.isRegularFile(shared), () -> "shared memory layouts file " + shared
                + " is absent (a clone without the project's shared/ directory): nothing to compare the copy with");
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
