package io.github.solvk.memory.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import org.junit.jupiter.api.Test;

class GuardMarginsTest {

    @Test
    void fillShouldLayThePatternFromTheMarginStart() {
        ByteBuffer margin = ByteBuffer.allocate(10);
        GuardMargins.fill(margin);
        assertThat(margin.array()).containsExactly(0xDE, 0xAD, 0xC0, 0xDE, 0xDE, 0xAD, 0xC0, 0xDE, 0xDE, 0xAD);
        assertThat(margin.position()).isZero();
        assertThat(margin.limit()).isEqualTo(10);
        assertThat(GuardMargins.firstCorruptByte(margin)).isEqualTo(-1);
    }

    @Test
    void fillShouldNotTouchBytesOutsidePositionAndLimit() {
        ByteBuffer block = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN);
        block.position(8).limit(24);
        GuardMargins.fill(block);
        assertThat(block.position()).isEqualTo(8);
        assertThat(block.limit()).isEqualTo(24);
        assertThat(GuardMargins.firstCorruptByte(block)).isEqualTo(-1);
        ByteBuffer all = block.duplicate().clear();
        assertThat(all.get(7)).isZero();
        assertThat(all.get(8) & 0xFF).isEqualTo(0xDE);
        assertThat(all.get(23) & 0xFF).isEqualTo(0xDE);
        assertThat(all.get(24)).isZero();
    }

    @Test
    void firstCorruptByteShouldFindTheFirstChangedByteAcrossChunks() {
        ByteBuffer margin = ByteBuffer.allocateDirect(10_000);
        GuardMargins.fill(margin);
        margin.put(9_001, (byte) 0);
        margin.put(9_500, (byte) 0);
        assertThat(GuardMargins.firstCorruptByte(margin)).isEqualTo(9_001);
        margin.put(3, (byte) 0x11);
        assertThat(GuardMargins.firstCorruptByte(margin)).isEqualTo(3);
    }

    @Test
    void indicesShouldCountFromThePosition() {
        ByteBuffer block = ByteBuffer.allocate(100);
        ByteBuffer margin = block.position(40).limit(72).slice();
        GuardMargins.fill(margin);
        block.clear();
        block.put(45, (byte) 1);
        block.position(40).limit(72);
        assertThat(GuardMargins.firstCorruptByte(block)).isEqualTo(5);
    }

    @Test
    void checkShouldNameTheBufferTheOffsetAndTheBytes() {
        ByteBuffer margin = ByteBuffer.allocate(256);
        GuardMargins.fill(margin);
        GuardMargins.check(margin, "terrain vertices", 4096);
        margin.put(6, (byte) 0x42);
        assertThatThrownBy(() -> GuardMargins.check(margin, "terrain vertices", 4096))
                .isInstanceOf(CorruptionException.class)
                .hasMessageStartingWith("guard margin of buffer 'terrain vertices' corrupted at offset 4102: 0x42"
                        + " (expected: 0xc0, the pattern 0xdeadc0de)")
                .satisfies(e -> {
                    CorruptionException c = (CorruptionException) e;
                    assertThat(c.bufferName()).isEqualTo("terrain vertices");
                    assertThat(c.offset()).isEqualTo(4102);
                    assertThat(c.expected()).isEqualTo(0xC0);
                    assertThat(c.actual()).isEqualTo(0x42);
                });
    }

    @Test
    void emptyMarginShouldBeIntact() {
        assertThat(GuardMargins.firstCorruptByte(ByteBuffer.allocate(0))).isEqualTo(-1);
    }

    @Test
    void readOnlyMarginCannotBeFilled() {
        assertThatThrownBy(() -> GuardMargins.fill(ByteBuffer.allocate(8).asReadOnlyBuffer()))
                .isInstanceOf(ReadOnlyBufferException.class);
    }

    @Test
    void expectedByteShouldCycleThroughThePattern() {
        assertThat(GuardMargins.expectedByte(0)).isEqualTo(0xDE);
        assertThat(GuardMargins.expectedByte(1)).isEqualTo(0xAD);
        assertThat(GuardMargins.expectedByte(2)).isEqualTo(0xC0);
        assertThat(GuardMargins.expectedByte(3)).isEqualTo(0xDE);
        assertThat(GuardMargins.expectedByte(1_000_001)).isEqualTo(0xAD);
    }
}
