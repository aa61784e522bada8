package io.github.solvk.memory.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;

import io.github.solvk.memory.suballocator.SuballocatorFactory;
import io.github.solvk.memory.suballocator.SuballocatorKind;
import org.junit.jupiter.api.Test;

/** {@link BlockPoolAllocator.Config} as a value: equal settings make equal, readable configs. No device needed. */
class BlockPoolConfigValueTest {

    @Test
    void equalSettingsShouldMakeEqualConfigs() {
        BlockPoolAllocator.Config a = BlockPoolAllocator.Config.defaults();
        BlockPoolAllocator.Config b = BlockPoolAllocator.Config.defaults();
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        BlockPoolAllocator.Config buddy = BlockPoolAllocator.Config.builder()
                .suballocatorFactory(SuballocatorFactory.of(SuballocatorKind.BUDDY)).blockSize(1, 1 << 20).build();
        assertThat(buddy).isEqualTo(BlockPoolAllocator.Config.builder().blockSize(1, 1 << 20)
                .suballocatorFactory(SuballocatorFactory.of(SuballocatorKind.BUDDY)).build());
        assertThat(buddy).isNotEqualTo(a);
    }

    @Test
    void toStringShouldNameTheAlgorithm() {
        assertThat(BlockPoolAllocator.Config.defaults().toString()).contains("TLSF").doesNotContain("$$Lambda");
        assertThat(SuballocatorFactory.of(SuballocatorKind.BUDDY).toString()).contains("BUDDY");
    }
    @Test
    void aNullHeapIndexOrSizeShouldBeNamed() {
        Map<Integer, Long> sizes = new HashMap<>();
        sizes.put(0, null);
        BlockPoolAllocator.Config d = BlockPoolAllocator.Config.defaults();
        assertThatThrownBy(() -> new BlockPoolAllocator.Config(sizes, d.suballocatorFactory(), d.bufferMode(),
                d.subRangeUsage(), d.maxEmptyBlocks(), d.arenas(), d.threadCacheBytes(), d.recycleBuffers()))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("blockSizes entry 0 -> null");
    }
}
