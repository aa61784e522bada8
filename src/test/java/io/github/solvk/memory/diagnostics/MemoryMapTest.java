package io.github.solvk.memory.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryMapTest {

    @Test
    void blockShouldFillGapsAndTheTailWithFreeRanges() {
        BlockInfo block = new BlockInfo("p", "b", 0, 1000, BlockKind.POOL_BLOCK, List.of(
                Suballocation.buffer(100, 200, 0x80, "a", null),
                Suballocation.buffer(300, 100, 0x80, "b", null)));
        assertThat(block.suballocations()).containsExactly(
                Suballocation.free(0, 100),
                Suballocation.buffer(100, 200, 0x80, "a", null),
                Suballocation.buffer(300, 100, 0x80, "b", null),
                Suballocation.free(400, 600));
        assertThat(block.usedBytes()).isEqualTo(300);
        assertThat(block.allocationCount()).isEqualTo(2);
    }

    @Test
    void emptyBlockShouldBeOneFreeRange() {
        BlockInfo block = new BlockInfo("p", "b", 3, 64, BlockKind.VMA_BLOCK, List.of());
        assertThat(block.suballocations()).containsExactly(Suballocation.free(0, 64));
    }

    @Test
    void overlappingSuballocationsShouldBeRejectedNamingTheOffset() {
        assertThatThrownBy(() -> new BlockInfo("p", "b", 0, 1000, BlockKind.POOL_BLOCK, List.of(
                Suballocation.buffer(0, 200, 0, null, null),
                Suballocation.buffer(150, 10, 0, null, null))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("suballocations[1]")
                .hasMessageContaining("offset 150")
                .hasMessageContaining("expected: >= 200");
    }

    @Test
    void unsortedSuballocationsShouldBeRejected() {
        assertThatThrownBy(() -> new BlockInfo("p", "b", 0, 1000, BlockKind.POOL_BLOCK, List.of(
                Suballocation.buffer(500, 10, 0, null, null),
                Suballocation.buffer(0, 10, 0, null, null))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("offset 0 (expected: >= 510");
    }

    @Test
    void suballocationPastTheBlockShouldBeRejectedNamingTheEnd() {
        assertThatThrownBy(() -> new BlockInfo("p", "b", 0, 1000, BlockKind.POOL_BLOCK, List.of(
                Suballocation.buffer(900, 200, 0, null, null))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("end 1100 (expected: <= 1000");
    }

    @Test
    void suballocationValuesShouldBeChecked() {
        assertThatThrownBy(() -> Suballocation.buffer(-1, 10, 0, null, null))
                .hasMessageContaining("offset: -1 (expected: >= 0)");
        assertThatThrownBy(() -> Suballocation.buffer(0, 0, 0, null, null))
                .hasMessageContaining("size: 0 (expected: > 0)");
        assertThatThrownBy(() -> Suballocation.buffer(Long.MAX_VALUE, 10, 0, null, null))
                .hasMessageContaining("offset + size");
    }

    @Test
    void dedicatedBlockShouldHoldExactlyOneAllocationCoveringIt() {
        assertThatThrownBy(() -> new BlockInfo("p", "d", 0, 1000, BlockKind.DEDICATED, List.of(
                Suballocation.buffer(0, 500, 0, null, null))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dedicated block 'd'");
        assertThat(BlockInfo.dedicated("p", "d", 0, 1000, SuballocationType.BUFFER, 0x10, "u", null)
                .suballocations()).hasSize(1);
    }

    @Test
    void blockSizeAndTypeIndexShouldBeChecked() {
        assertThatThrownBy(() -> new BlockInfo("p", "b", 0, 0, BlockKind.POOL_BLOCK, List.of()))
                .hasMessageContaining("size of block 'b': 0 (expected: > 0)");
        assertThatThrownBy(() -> new BlockInfo("p", "b", 32, 10, BlockKind.POOL_BLOCK, List.of()))
                .hasMessageContaining("memoryTypeIndex: 32 (expected: 0 to 31)");
    }

    @Test
    void mapShouldRejectDuplicateBlockNamesAndMixedKinds() {
        BlockInfo a = new BlockInfo("p", "b", 0, 10, BlockKind.POOL_BLOCK, List.of());
        assertThatThrownBy(() -> new MemoryMap("gpu", SampleMaps.heaps(), SampleMaps.types(), List.of(a, a)))
                .hasMessageContaining("block name: 'b' (expected: unique");
        BlockInfo v = new BlockInfo("p", "c", 0, 10, BlockKind.VMA_BLOCK, List.of());
        assertThatThrownBy(() -> new MemoryMap("gpu", SampleMaps.heaps(), SampleMaps.types(), List.of(a, v)))
                .hasMessageContaining("kind of block 'c' of pool 'p': VMA_BLOCK (expected: POOL_BLOCK");
    }

    @Test
    void mapShouldRejectTypesOfMissingHeaps() {
        assertThatThrownBy(() -> new MemoryMap("gpu", List.of(), SampleMaps.types(), List.of()))
                .hasMessageContaining("types[0].heapIndex: 0 (expected: < 0");
    }
}
