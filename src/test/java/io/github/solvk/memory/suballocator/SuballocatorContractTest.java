package io.github.solvk.memory.suballocator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * What every {@link Suballocator} does, whatever its algorithm. A subclass supplies {@link #create} and, where the
 * algorithm legitimately differs, overrides a hook: the fill size and count ({@link #fillSize()},
 * {@link #fillCount()}), or the order in which it accepts frees ({@link #freeOrder}). Every step that frees more than
 * one allocation goes through {@link #freeOrder} (newest first by default, which a stack accepts; a ring returns the
 * list as given), so stack and ring pass too. A test that cannot hold for an algorithm (say, a fixed-size pool asked
 * for assorted sizes and alignments) is overridden in its subclass with a comment saying why, and what the algorithm
 * does instead goes in that subclass's own tests.
 */
abstract class SuballocatorContractTest {

    /** 2^62: the largest region end. */
    static final long MAX_END = Suballocator.MAX_REGION_END;

    /**
     * @param regionOffset the region's first byte
     * @param regionSize   the region's size
     * @param granularity  the buffer-image granularity
     * @return a new suballocator of the algorithm under test
     */
    protected abstract Suballocator create(long regionOffset, long regionSize, long granularity);

    /** @return the size of each allocation in the fill tests, which use a region of {@code fillCount() * fillSize()} */
    protected long fillSize() {
        return 256;
    }

    /** @return how many allocations of {@link #fillSize()} fill the region exactly */
    protected int fillCount() {
        return 16;
    }

    /**
     * @param handlesInAllocationOrder live handles, oldest first
     * @return the same handles in an order that the algorithm accepts for freeing them all; newest first by default
     */
    protected List<Long> freeOrder(List<Long> handlesInAllocationOrder) {
        List<Long> order = new ArrayList<>(handlesInAllocationOrder);
        Collections.reverse(order);
        return order;
    }

    // ---- filling and emptying ----

    @Test
    void fillShouldSucceedExactlyAndOneMoreShouldFail() {
        fillShouldSucceedExactlyThenEmptyToOneRegionSizedAllocation(0);
    }

    @Test
    void regionNearTheMaximumOffsetShouldFillAndEmptyLikeAnyOther() {
        fillShouldSucceedExactlyThenEmptyToOneRegionSizedAllocation(MAX_END - fillCount() * fillSize());
    }

    private void fillShouldSucceedExactlyThenEmptyToOneRegionSizedAllocation(long regionOffset) {
        long regionSize = fillCount() * fillSize();
        Suballocator s = create(regionOffset, regionSize, 1);
        assertThat(s.regionOffset()).isEqualTo(regionOffset);
        assertThat(s.regionSize()).isEqualTo(regionSize);
        assertThat(s.freeBytes()).isEqualTo(regionSize);
        List<Long> handles = new ArrayList<>();
        for (int i = 0; i < fillCount(); i++) {
            long h = s.tryAllocate(fillSize(), 1, AllocationType.LINEAR);
            assertThat(h).as("allocation %d of %d", i, fillCount()).isNotEqualTo(Suballocator.NULL_HANDLE);
            assertThat(s.offset(h)).isBetween(regionOffset, regionOffset + regionSize - fillSize());
            assertThat(s.size(h)).isEqualTo(fillSize());
            assertThat(s.type(h)).isEqualTo(AllocationType.LINEAR);
            handles.add(h);
        }
        assertThat(handles).doesNotHaveDuplicates();
        assertThat(offsetsOf(s, handles)).doesNotHaveDuplicates();
        assertThat(s.liveCount()).isEqualTo(fillCount());
        assertThat(s.freeBytes()).isZero();
        s.checkInvariants();

        assertThat(s.tryAllocate(1, 1, AllocationType.LINEAR)).isEqualTo(Suballocator.NULL_HANDLE);
        assertThat(s.liveCount()).isEqualTo(fillCount());
        s.checkInvariants();

        for (long h : freeOrder(handles)) {
            s.free(h);
            s.checkInvariants();
        }
        assertThat(s.liveCount()).isZero();
        assertThat(s.freeBytes()).isEqualTo(regionSize);
        assertThat(s.largestFreeRange()).isEqualTo(regionSize);

        long whole = s.tryAllocate(regionSize, 1, AllocationType.NON_LINEAR);
        assertThat(whole).isNotEqualTo(Suballocator.NULL_HANDLE);
        assertThat(s.offset(whole)).isEqualTo(regionOffset);
        assertThat(s.freeBytes()).isZero();
        s.checkInvariants();
    }

    @Test
    void resetShouldFreeEverythingAndMakeEveryHandleStale() {
        long regionSize = fillCount() * fillSize();
        Suballocator s = create(0, regionSize, 1);
        long a = s.tryAllocate(fillSize(), 1, AllocationType.LINEAR);
        long b = s.tryAllocate(fillSize(), 1, AllocationType.LINEAR);
        s.reset();
        s.checkInvariants();
        assertThat(s.liveCount()).isZero();
        assertThat(s.freeBytes()).isEqualTo(regionSize);
        assertThatThrownBy(() -> s.free(a)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> s.offset(b)).isInstanceOf(IllegalArgumentException.class);
        long c = s.tryAllocate(fillSize(), 1, AllocationType.LINEAR);
        assertThat(c).isNotEqualTo(a).isNotEqualTo(b);
        assertThatThrownBy(() -> s.free(a)).isInstanceOf(IllegalArgumentException.class);
        assertThat(s.liveCount()).isEqualTo(1);
    }

    @Test
    void visitShouldReportAllocationsAndFreeRangesInOffsetOrder() {
        Suballocator s = create(4096, 1 << 16, 1);
        long a = s.tryAllocate(100, 16, AllocationType.LINEAR);
        long b = s.tryAllocate(3000, 256, AllocationType.LINEAR);
        List<long[]> ranges = new ArrayList<>();
        List<Long> visited = new ArrayList<>();
        long[] freeSum = {0};
        s.visit(new Suballocator.Visitor() {
            @Override
            public void allocation(long handle, long offset, long size, AllocationType type) {
                ranges.add(new long[] {offset, size});
                visited.add(handle);
                assertThat(offset).isEqualTo(s.offset(handle));
                assertThat(size).isEqualTo(s.size(handle));
                assertThat(type).isEqualTo(s.type(handle));
            }

            @Override
            public void free(long offset, long size) {
                ranges.add(new long[] {offset, size});
                freeSum[0] += size;
            }
        });
        assertThat(visited).containsExactlyInAnyOrder(a, b);
        assertThat(freeSum[0]).isEqualTo(s.freeBytes());
        long end = 4096;
        for (long[] r : ranges) {
            assertThat(r[0]).isGreaterThanOrEqualTo(end);
            assertThat(r[1]).isPositive();
            end = r[0] + r[1];
        }
        assertThat(end).isLessThanOrEqualTo(4096 + (1 << 16));
    }

    // ---- alignment and granularity ----

    @Test
    void alignmentShouldBeHonouredAsAnAbsoluteOffset() {
        // The region starts at 48, so an offset relative to the region would not be aligned.
        Suballocator s = create(48, 1 << 20, 1);
        long first = s.tryAllocate(1, 1, AllocationType.LINEAR);
        assertThat(first).isNotEqualTo(Suballocator.NULL_HANDLE);
        for (long alignment = 1; alignment <= 4096; alignment <<= 1) {
            long h = s.tryAllocate(100, alignment, AllocationType.LINEAR);
            assertThat(h).as("alignment %d", alignment).isNotEqualTo(Suballocator.NULL_HANDLE);
            assertThat(s.offset(h) % alignment).as("offset %d at alignment %d", s.offset(h), alignment).isZero();
            assertThat(s.offset(h)).isGreaterThanOrEqualTo(48);
        }
        s.checkInvariants();
    }

    @Test
    void largeAlignmentNearTheMaximumOffsetShouldNotOverflow() {
        long size = 1L << 22;
        Suballocator s = create(MAX_END - size, size, 1);
        long h = s.tryAllocate(1000, 1L << 20, AllocationType.LINEAR);
        assertThat(h).isNotEqualTo(Suballocator.NULL_HANDLE);
        assertThat(s.offset(h) % (1L << 20)).isZero();
        assertThat(s.offset(h) + 1000).isLessThanOrEqualTo(MAX_END);
        // An alignment beyond the region's end cannot be met inside it: exhaustion, not an error.
        assertThat(s.tryAllocate(16, 1L << 62, AllocationType.LINEAR)).isEqualTo(Suballocator.NULL_HANDLE);
        s.checkInvariants();
    }

    @Test
    void linearAndNonLinearNeighboursShouldNotShareAGranularityPage() {
        long granularity = 1024;
        Suballocator s = create(0, 1 << 16, granularity);
        long linear = s.tryAllocate(100, 1, AllocationType.LINEAR);
        long image = s.tryAllocate(100, 1, AllocationType.NON_LINEAR);
        long unknown = s.tryAllocate(100, 1, AllocationType.UNKNOWN);
        long linear2 = s.tryAllocate(100, 1, AllocationType.LINEAR);
        List<Long> all = List.of(linear, image, unknown, linear2);
        assertThat(all).doesNotContain(Suballocator.NULL_HANDLE);
        for (long x : all) {
            for (long y : all) {
                if (x != y && s.type(x).conflictsWith(s.type(y))) {
                    assertThat(sharePage(s, x, y, granularity))
                            .as("%s at %d and %s at %d", s.type(x), s.offset(x), s.type(y), s.offset(y)).isFalse();
                }
            }
        }
        s.checkInvariants();
    }

    @Test
    void sameTypeNeighboursMayShareAGranularityPage() {
        Suballocator s = create(0, 1 << 16, 1024);
        long a = s.tryAllocate(100, 1, AllocationType.LINEAR);
        long b = s.tryAllocate(100, 1, AllocationType.LINEAR);
        assertThat(sharePage(s, a, b, 1024)).isTrue();
    }

    @Test
    void granularityShouldHoldWhenAGapIsRefilled() {
        long granularity = 256;
        Suballocator s = create(0, 1 << 16, granularity);
        List<Long> handles = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            handles.add(s.tryAllocate(64, 1, (i & 1) == 0 ? AllocationType.LINEAR : AllocationType.NON_LINEAR));
        }
        assertThat(handles).doesNotContain(Suballocator.NULL_HANDLE);
        List<Long> order = freeOrder(handles);
        for (int i = 0; i < 4; i++) {
            s.free(order.get(i));
            handles.remove(order.get(i));
        }
        for (int i = 0; i < 8; i++) {
            long h = s.tryAllocate(64, 1, (i & 1) == 0 ? AllocationType.NON_LINEAR : AllocationType.LINEAR);
            if (h != Suballocator.NULL_HANDLE) {
                handles.add(h);
            }
        }
        for (long x : handles) {
            for (long y : handles) {
                if (x != y && s.type(x).conflictsWith(s.type(y))) {
                    assertThat(sharePage(s, x, y, granularity)).isFalse();
                }
            }
        }
        s.checkInvariants();
    }

    private static boolean sharePage(Suballocator s, long x, long y, long granularity) {
        long xFirst = s.offset(x) / granularity;
        long xLast = (s.offset(x) + s.size(x) - 1) / granularity;
        long yFirst = s.offset(y) / granularity;
        long yLast = (s.offset(y) + s.size(y) - 1) / granularity;
        return xFirst <= yLast && yFirst <= xLast;
    }

    // ---- caller bugs: each throws, names the value and changes nothing ----

    @Test
    void badSizeShouldThrowNamingTheValueAndChangeNothing() {
        Suballocator s = createWithOneAllocation();
        for (long size : new long[] {0, -1, -4096, Long.MIN_VALUE, Long.MAX_VALUE, MAX_END + 1}) {
            assertRejected(s, () -> s.tryAllocate(size, 1, AllocationType.LINEAR), Long.toString(size));
        }
    }

    @Test
    void badAlignmentShouldThrowNamingTheValueAndChangeNothing() {
        Suballocator s = createWithOneAllocation();
        for (long alignment : new long[] {0, 3, 24, -8, Long.MIN_VALUE, 1000}) {
            assertRejected(s, () -> s.tryAllocate(64, alignment, AllocationType.LINEAR), Long.toString(alignment));
        }
    }

    @Test
    void nullTypeShouldThrowAndChangeNothing() {
        Suballocator s = createWithOneAllocation();
        assertRejected(s, () -> s.tryAllocate(64, 1, null), "type");
    }

    @Test
    void nullHandleShouldThrowNamingTheValueAndChangeNothing() {
        Suballocator s = createWithOneAllocation();
        assertBadHandle(s, Suballocator.NULL_HANDLE);
    }

    @Test
    void doubleFreeShouldThrowNamingTheHandleAndChangeNothing() {
        Suballocator s = createWithOneAllocation();
        long h = s.tryAllocate(fillSize(), 1, AllocationType.LINEAR);
        s.free(h);
        assertBadHandle(s, h);
    }

    @Test
    void staleHandleShouldThrowEvenAfterItsPlaceIsReused() {
        Suballocator s = create(0, fillCount() * fillSize(), 1);
        long h = s.tryAllocate(fillSize(), 1, AllocationType.LINEAR);
        s.free(h);
        long reused = s.tryAllocate(fillSize(), 1, AllocationType.LINEAR);
        assertThat(reused).isNotEqualTo(h);
        assertBadHandle(s, h);
        assertThat(s.liveCount()).isEqualTo(1);
        s.free(reused);
    }

    @Test
    void foreignHandleFromAnotherInstanceShouldThrowAndChangeNothing() {
        Suballocator s = createWithOneAllocation();
        Suballocator other = create(0, fillCount() * fillSize(), 1);
        long foreign = other.tryAllocate(fillSize(), 1, AllocationType.LINEAR);
        assertBadHandle(s, foreign);
        assertThat(other.liveCount()).isEqualTo(1);
        other.free(foreign);
    }

    @Test
    void badRegionShouldThrowNamingTheValue() {
        assertBadConstruction(-1, 4096, 1, "-1");
        assertBadConstruction(0, 0, 1, "0");
        assertBadConstruction(0, -4096, 1, "-4096");
        assertBadConstruction(MAX_END, 4096, 1, Long.toString(MAX_END + 4096));
        assertBadConstruction(MAX_END - 4095, 4096, 1, Long.toString(MAX_END + 1));
        assertBadConstruction(0, Long.MAX_VALUE, 1, Long.toString(Long.MAX_VALUE));
        assertBadConstruction(0, 4096, 3, "3");
        assertBadConstruction(0, 4096, 0, "0");
        assertBadConstruction(0, 4096, -1024, "-1024");
    }

    private void assertBadConstruction(long offset, long size, long granularity, String value) {
        assertThatThrownBy(() -> create(offset, size, granularity))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(value)
                .hasMessageContaining("expected");
    }

    private Suballocator createWithOneAllocation() {
        Suballocator s = create(0, fillCount() * fillSize(), 1);
        assertThat(s.tryAllocate(fillSize(), 1, AllocationType.LINEAR)).isNotEqualTo(Suballocator.NULL_HANDLE);
        return s;
    }

    private static void assertBadHandle(Suballocator s, long handle) {
        String value = handle == 0 ? "0" : Long.toHexString(handle);
        assertRejected(s, () -> s.free(handle), value);
        assertRejected(s, () -> s.offset(handle), value);
        assertRejected(s, () -> s.size(handle), value);
        assertRejected(s, () -> s.type(handle), value);
    }

    /** Asserts that {@code call} throws an IllegalArgumentException naming {@code value} and changes nothing. */
    static void assertRejected(Suballocator s, Runnable call, String value) {
        String before = snapshot(s);
        assertThatThrownBy(call::run)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(value)
                .hasMessageContaining("expected");
        assertThat(snapshot(s)).isEqualTo(before);
        s.checkInvariants();
    }

    /** @return every observable piece of state, to compare before and after a rejected call */
    static String snapshot(Suballocator s) {
        StringBuilder b = new StringBuilder();
        b.append(s.freeBytes()).append(' ').append(s.liveCount()).append(' ').append(s.largestFreeRange());
        s.visit(new Suballocator.Visitor() {
            @Override
            public void allocation(long handle, long offset, long size, AllocationType type) {
                b.append(" A").append(handle).append('@').append(offset).append('+').append(size).append(type);
            }

            @Override
            public void free(long offset, long size) {
                b.append(" F").append(offset).append('+').append(size);
            }
        });
        return b.toString();
    }

    private static List<Long> offsetsOf(Suballocator s, List<Long> handles) {
        List<Long> offsets = new ArrayList<>();
        for (long h : handles) {
            offsets.add(s.offset(h));
        }
        return offsets;
    }
}
