package io.github.solvk.memory.suballocator;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Exhaustive checks of {@link TlsfSuballocator}'s size-class mapping. */
class TlsfSizeClassTest {

    /** Every size up to this is checked one by one; above it, every class bound and power of two with neighbours. */
    private static final long EXHAUSTIVE_BOUND = 1 << 22;

    @Test
    void everySmallSizeShouldMapMonotonicallyIntoTheClassThatHoldsIt() {
        int previous = TlsfSuballocator.classOf(1);
        for (long size = 1; size <= EXHAUSTIVE_BOUND; size++) {
            int c = TlsfSuballocator.classOf(size);
            if (c < previous || !holds(c, size)) {
                assertThat(c).as("class of %d after class %d", size, previous).isGreaterThanOrEqualTo(previous);
                assertThat(holds(c, size)).as("class %d holds %d", c, size).isTrue();
            }
            previous = c;
        }
    }

    @Test
    void everySmallSizeShouldSearchTheLowestClassWhoseBlocksAllFit() {
        for (long size = 1; size <= EXHAUSTIVE_BOUND; size++) {
            int c = TlsfSuballocator.searchClassOf(size);
            if (!searchClassIsRight(c, size)) {
                assertThat(TlsfSuballocator.classLowerBound(c)).as("search class of %d", size)
                        .isGreaterThanOrEqualTo(size);
                assertThat(TlsfSuballocator.classLowerBound(c - 1)).as("class below the search class of %d", size)
                        .isLessThan(size);
            }
        }
    }

    @Test
    void everyClassBoundAndPowerOfTwoUpTo2To62ShouldMapCorrectly() {
        int checked = 0;
        for (int c = 1; c < TlsfSuballocator.CLASS_COUNT; c++) {
            long bound = TlsfSuballocator.classLowerBound(c);
            if (bound > Suballocator.MAX_REGION_END) {
                break;
            }
            assertThat(TlsfSuballocator.classLowerBound(c - 1)).as("bounds rise at class %d", c).isLessThan(bound);
            for (long size = bound - 1; size <= bound + 1 && size <= Suballocator.MAX_REGION_END; size++) {
                if (size >= 1) {
                    assertSizeMapsCorrectly(size);
                    checked++;
                }
            }
        }
        for (int log2 = 0; log2 <= 62; log2++) {
            for (long delta = -2; delta <= 2; delta++) {
                long size = (1L << log2) + delta;
                if (size >= 1 && size <= Suballocator.MAX_REGION_END) {
                    assertSizeMapsCorrectly(size);
                    checked++;
                }
            }
        }
        assertThat(TlsfSuballocator.classOf(Suballocator.MAX_REGION_END)).isLessThan(TlsfSuballocator.CLASS_COUNT);
        assertThat(checked).isGreaterThan(3 * 3600);
    }

    private static void assertSizeMapsCorrectly(long size) {
        int c = TlsfSuballocator.classOf(size);
        assertThat(holds(c, size)).as("class %d holds %d", c, size).isTrue();
        assertThat(TlsfSuballocator.classOf(size - 1 >= 1 ? size - 1 : 1)).as("monotone at %d", size)
                .isLessThanOrEqualTo(c);
        assertThat(searchClassIsRight(TlsfSuballocator.searchClassOf(size), size)).as("search class of %d", size)
                .isTrue();
    }

    /** @return whether class {@code c} is the one whose range holds {@code size} */
    private static boolean holds(int c, long size) {
        return c > 0 && c < TlsfSuballocator.CLASS_COUNT - 1 && TlsfSuballocator.classLowerBound(c) <= size
                && size < TlsfSuballocator.classLowerBound(c + 1);
    }

    /** @return whether every block of class {@code c} fits {@code size}, and class {@code c - 1} would not */
    private static boolean searchClassIsRight(int c, long size) {
        return c > 0 && c < TlsfSuballocator.CLASS_COUNT && TlsfSuballocator.classLowerBound(c) >= size
                && TlsfSuballocator.classLowerBound(c - 1) < size;
    }
}
