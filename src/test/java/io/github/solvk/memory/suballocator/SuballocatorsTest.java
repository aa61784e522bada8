package io.github.solvk.memory.suballocator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@link Suballocators} and {@link SuballocatorFactory}. */
class SuballocatorsTest {

    @Test
    void createShouldMakeTheAskedKindOverTheAskedRegion() {
        for (SuballocatorKind kind : new SuballocatorKind[] {SuballocatorKind.TLSF, SuballocatorKind.BUDDY}) {
            Suballocator s = Suballocators.create(kind, 4096, 1 << 20, 1024);
            assertThat(s.kind()).isEqualTo(kind);
            assertThat(s.regionOffset()).isEqualTo(4096);
            assertThat(s.regionSize()).isEqualTo(1 << 20);
            assertThat(SuballocatorFactory.of(kind).create(0, 4096, 1).kind()).isEqualTo(kind);
        }
    }

    @Test
    void createShouldRejectBadRegionsNamingTheValue() {
        assertThatThrownBy(() -> Suballocators.create(SuballocatorKind.TLSF, 0, 4096, 24))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("24");
        assertThatThrownBy(() -> Suballocators.create(SuballocatorKind.BUDDY, -5, 4096, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-5");
        assertThatThrownBy(() -> SuballocatorFactory.of(SuballocatorKind.TLSF).create(1L << 62, 1, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2^62");
    }

    @Test
    void poolShouldNeedItsOwnFactoryMethod() {
        assertThatThrownBy(() -> Suballocators.create(SuballocatorKind.POOL, 0, 4096, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("POOL")
                .hasMessageContaining("fixedSize");
        assertThatThrownBy(() -> SuballocatorFactory.of(SuballocatorKind.POOL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("POOL");
        assertThatThrownBy(() -> SuballocatorFactory.of(null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
    }

    @Test
    void fixedSizeShouldCheckItsArgumentsFirst() {
        assertThatThrownBy(() -> Suballocators.fixedSize(0, 4096, 0, 16))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0");
        assertThatThrownBy(() -> Suballocators.fixedSize(0, 4096, 64, 24))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("24");
    }
}
