package io.github.solvk.memory.suballocator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * What every {@link Suballocator} does, whatever its algorithm: TLSF, buddy, stack, ring and fixed-size pool all pass
 * it. A subclass supplies {@link #create} and, where the algorithm legitimately differs, overrides a hook: the fill
 * size and count ({@link #fillSize()}, {@link #fillCount()}), the order in which it accepts frees ({@link #freeOrder}),
 * or the one allocation an emptied region must serve ({@link #wholeAllocationSize}). Every step that frees more than
 * one allocation goes through {@link #freeOrder} (newest first by default, which a stack accepts; a ring returns a
 * copy of the list as given, oldest first), so stack and ring pass too. A test that cannot hold for an algorithm (say,
 * a fixed-size pool asked for assorted sizes and alignments) is overridden in its subclass with a comment saying why,
 * and asserts what the algorithm documents instead.
 *
 * <p>What it covers: filling exactly, one more failing, freeing all, one region-sized allocation succeeding; reset and
 * visit; alignment as an absolute offset; buffer-image granularity between linear and non-linear neighbours; regions
 * that end at 2^62; and caller bugs (bad size, bad alignment, null type, sizes and regions that overflow, null, stale,
 * double-freed and foreign handles), each of which throws naming the value and changes nothing. Handles foreign
 * across algorithms are {@link ForeignHandleAcrossAlgorithmsTest}'s.
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
     * @param handlesInAllocationOrder live handles, oldest first; the caller may change this list afterwards
     * @return a new list of the same handles in an order that the algorithm accepts for freeing them all; newest first
     *     by default
     */
    protected List<Long> freeOrder(List<Long> handlesInAllocationOrder) {
        List<Long> order = new ArrayList<>(handlesInAllocationOrder);
        Collections.reverse(order);
        return order;
    }

    /**
     * @param regionSize the size of an emptied region
     * @return the size of the one allocation that must then succeed at the region's start, and the
     *     {@link Suballocator#largestFreeRange()} the empty region reports: the region's size by default
     */
    protected long wholeAllocationSize(long regionSize) {
        return regionSize;
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
        long wholeSize = wholeAllocationSize(regionSize);
        assertThat(s.largestFreeRange()).isEqualTo(wholeSize);

        long whole = s.tryAllocate(wholeSize, 1, AllocationType.NON_LINEAR);
        assertThat(whole).isNotEqualTo(Suballocator.NULL_HANDLE);
        assertThat(s.offset(whole)).isEqualTo(regionOffset);
        assertThat(s.size(whole)).isEqualTo(wholeSize);
        assertThat(s.liveCount()).isEqualTo(1);
        assertThat(s.freeBytes()).isEqualTo(regionSize - wholeSize);
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
        assertVisitReports(s, a, b);
    }

    /**
     * The walk's own promise, whatever a visitor tries: ranges in offset order, without overlap, inside the region,
     * every reported allocation live and as reported. A visitor that frees each allocation it is shown broke it: TLSF
     * reported the block it had just merged (before the allocation already reported) and then an unused node as an
     * allocation at offset -1, buddy an unused node as an allocation of 0 bytes, stack and ring a free range over the
     * allocations already reported.
     */
    @Test
    void visitShouldKeepItsPromiseWhenTheVisitorTriesToFree() {
        Suballocator s = create(0, fillCount() * fillSize(), 1);
        List<Long> handles = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            handles.add(s.tryAllocate(fillSize(), 1, AllocationType.LINEAR));
        }
        s.free(handles.get(1));
        List<String> problems = new ArrayList<>();
        long[] end = {s.regionOffset()};
        s.visit(new Suballocator.Visitor() {
            @Override
            public void allocation(long handle, long offset, long size, AllocationType type) {
                check("allocation", offset, size);
                try {
                    if (s.offset(handle) != offset || s.size(handle) != size) {
                        problems.add("allocation " + Long.toHexString(handle) + " reported at [" + offset + ", +"
                                + size + ") but is at [" + s.offset(handle) + ", +" + s.size(handle) + ")");
                    }
                    s.free(handle);
                } catch (IllegalArgumentException e) {
                    problems.add("allocation [" + offset + ", +" + size + ") reported with a dead handle: "
                            + e.getMessage());
                } catch (IllegalStateException refused) {
                    // Refusing the change keeps the walk valid.
                }
            }

            @Override
            public void free(long offset, long size) {
                check("free range", offset, size);
            }

            private void check(String what, long offset, long size) {
                if (offset < end[0] || size <= 0 || size > s.regionOffset() + s.regionSize() - offset) {
                    problems.add(what + " [" + offset + ", +" + size + ") after the previous range's end " + end[0]);
                }
                end[0] = offset + size;
            }
        });
        assertThat(problems).isEmpty();
        s.checkInvariants();
    }

    /**
     * A visitor that frees, allocates or resets would pull the ranges out from under the walk (TLSF and buddy then
     * report nodes that are no longer blocks, stack and ring report free ranges over allocations already reported):
     * every such call is refused with an IllegalStateException and changes nothing, and the walk completes.
     */
    @Test
    void aVisitorThatChangesTheSuballocatorShouldBeRefusedAndChangeNothing() {
        Suballocator s = create(0, fillCount() * fillSize(), 1);
        List<Long> handles = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            handles.add(s.tryAllocate(fillSize(), 1, AllocationType.LINEAR));
        }
        // A free range right after the first allocation, which freeing the first one merges with where frees merge;
        // stack and ring accept the out-of-order free.
        s.free(handles.get(1));
        String before = snapshot(s);
        List<String> refused = new ArrayList<>();
        List<long[]> ranges = new ArrayList<>();
        s.visit(new Suballocator.Visitor() {
            @Override
            public void allocation(long handle, long offset, long size, AllocationType type) {
                ranges.add(new long[] {offset, size});
                List<Runnable> changes = List.of(() -> s.free(handle),
                        () -> s.tryAllocate(1, 1, AllocationType.LINEAR), s::reset);
                for (Runnable change : changes) {
                    try {
                        change.run();
                    } catch (IllegalStateException e) {
                        refused.add(e.getMessage());
                    }
                }
            }

            @Override
            public void free(long offset, long size) {
                ranges.add(new long[] {offset, size});
            }
        });
        assertThat(refused).hasSize(3 * 3).allSatisfy(message -> assertThat(message)
                .contains("while its visit() runs").contains("expected"));
        assertThat(snapshot(s)).isEqualTo(before);
        assertThat(s.liveCount()).isEqualTo(3);
        s.checkInvariants();
        long end = s.regionOffset();
        for (long[] r : ranges) {
            assertThat(r[0]).as("a range in offset order").isGreaterThanOrEqualTo(end);
            end = r[0] + r[1];
        }
        // Once the walk is over, the same calls work again.
        s.free(handles.get(handles.size() - 1));
        assertThat(s.liveCount()).isEqualTo(2);
    }

    /** Asserts that {@code s.visit} reports exactly the live {@code a} and {@code b} and free ranges, in order. */
    static void assertVisitReports(Suballocator s, long a, long b) {
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
        long end = s.regionOffset();
        for (long[] r : ranges) {
            assertThat(r[0]).isGreaterThanOrEqualTo(end);
            assertThat(r[1]).isPositive();
            end = r[0] + r[1];
        }
        assertThat(end).isLessThanOrEqualTo(s.regionOffset() + s.regionSize());
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
    void allocationsTooLargeForARegionEndingAtTheMaximumShouldFailWithoutOverflowAndChangeNothing() {
        long size = fillCount() * fillSize();
        Suballocator s = create(MAX_END - size, size, 1);
        long h = s.tryAllocate(fillSize(), 1, AllocationType.LINEAR);
        assertThat(h).isNotEqualTo(Suballocator.NULL_HANDLE);
        String before = snapshot(s);
        // offset + size would pass 2^62, some of them 2^63: each must be exhaustion, computed without overflow.
        for (long tooLarge : new long[] {size, size + 1, MAX_END - 1, MAX_END}) {
            assertThat(s.tryAllocate(tooLarge, 1, AllocationType.LINEAR)).as("size %d", tooLarge)
                    .isEqualTo(Suballocator.NULL_HANDLE);
            assertThat(s.tryAllocate(tooLarge, 1L << 62, AllocationType.LINEAR)).as("size %d at 2^62", tooLarge)
                    .isEqualTo(Suballocator.NULL_HANDLE);
        }
        assertThat(snapshot(s)).isEqualTo(before);
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

    static boolean sharePage(Suballocator s, long x, long y, long granularity) {
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
            // The same message from every algorithm (suballocators.md quotes it).
            assertRejected(s, () -> s.tryAllocate(size, 1, AllocationType.LINEAR),
                    "size: " + size + " (expected: in [1, 2^62])");
        }
    }

    @Test
    void handlesWithForeignBitsShouldThrowNamingTheValueAndChangeNothing() {
        Suballocator s = create(0, fillCount() * fillSize(), 1);
        long live = s.tryAllocate(fillSize(), 1, AllocationType.LINEAR);
        // Bits 62 and 63 lie in the tag of both handle layouts, so these are no handles of this instance.
        for (long bad : new long[] {live ^ 1L << 63, live ^ 1L << 62, -1, Long.MIN_VALUE, Long.MAX_VALUE, 1}) {
            assertBadHandle(s, bad);
        }
        assertThat(s.offset(live)).isEqualTo(0);
        assertThat(s.liveCount()).isEqualTo(1);
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
        assertBadConstruction(Long.MAX_VALUE, 4096, 1, Long.toString(Long.MAX_VALUE));
        assertBadConstruction(Long.MIN_VALUE, 4096, 1, Long.toString(Long.MIN_VALUE));
        // Each is at most 2^62, but their sum, 2^63, overflows a long.
        assertBadConstruction(MAX_END, MAX_END, 1, Long.toUnsignedString(MAX_END + MAX_END));
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

    static void assertBadHandle(Suballocator s, long handle) {
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
