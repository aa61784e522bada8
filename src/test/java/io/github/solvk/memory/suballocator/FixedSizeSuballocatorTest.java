package io.github.solvk.memory.suballocator;

import static io.github.solvk.memory.suballocator.AllocationType.LINEAR;
import static io.github.solvk.memory.suballocator.AllocationType.NON_LINEAR;
import static io.github.solvk.memory.suballocator.AllocationType.UNKNOWN;
import static io.github.solvk.memory.suballocator.Suballocator.MAX_REGION_END;
import static io.github.solvk.memory.suballocator.Suballocator.NULL_HANDLE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The contract plus what is particular to {@link FixedSizeSuballocator}.
 *
 * <p>The contract's instances are pools of {@link #fillSize()}-byte slots, so the fill tests fill with slot-sized
 * allocations. A pool takes no buffer-image granularity; the contract's granularity becomes the slot alignment, which
 * is the pool's documented way of keeping conflicting allocations apart (every slot then starts on a page of its own).
 * Where the contract asks for something a pool rejects by design (an allocation larger than a slot, an alignment above
 * the slot alignment, same-type neighbours sharing a page) the test is overridden below, saying why and asserting the
 * pool's documented rule instead.
 */
class FixedSizeSuballocatorTest extends SuballocatorContractTest {

    /** Slot size = fill size; slot alignment = the contract's granularity (a pool has none of its own). */
    @Override
    protected Suballocator create(long regionOffset, long regionSize, long granularity) {
        return new FixedSizeSuballocator(regionOffset, regionSize, fillSize(), granularity);
    }

    /**
     * An emptied pool serves one slot at a time, never the whole region: the largest allocation it takes, and the
     * largest free range it reports, is the slot size.
     */
    @Override
    protected long wholeAllocationSize(long regionSize) {
        return fillSize();
    }

    /** Not applicable as written: 3000 bytes exceed the slot. The same check with two slot-sized allocations. */
    @Override
    @Test
    void visitShouldReportAllocationsAndFreeRangesInOffsetOrder() {
        Suballocator s = create(4096, 1 << 16, 256);
        long a = s.tryAllocate(100, 16, LINEAR);
        long b = s.tryAllocate(fillSize(), 256, LINEAR);
        s.free(s.tryAllocate(1, 1, NON_LINEAR)); // a free slot between b and the never used ones
        assertVisitReports(s, a, b);
    }

    /**
     * Not applicable as written: a pool honours alignments only up to its slot alignment (1 in the contract's
     * instance); a larger one is a caller bug. Here the slot alignment is 4096, so the same alignments must be met as
     * absolute offsets, and the next one up must throw.
     */
    @Override
    @Test
    void alignmentShouldBeHonouredAsAnAbsoluteOffset() {
        Suballocator s = create(48, 1 << 20, 4096);
        long first = s.tryAllocate(1, 1, LINEAR);
        assertThat(first).isNotEqualTo(NULL_HANDLE);
        for (long alignment = 1; alignment <= 4096; alignment <<= 1) {
            long h = s.tryAllocate(100, alignment, LINEAR);
            assertThat(h).as("alignment %d", alignment).isNotEqualTo(NULL_HANDLE);
            assertThat(s.offset(h) % alignment).as("offset %d at alignment %d", s.offset(h), alignment).isZero();
            assertThat(s.offset(h)).isGreaterThanOrEqualTo(48);
        }
        assertRejected(s, () -> s.tryAllocate(100, 8192, LINEAR), "alignment: 8192");
        s.checkInvariants();
    }

    /**
     * Not applicable as written: an alignment of 2^62, above the slot alignment, is a caller bug for a pool, not
     * exhaustion. With a slot alignment of 2^20 the large alignment is met near 2^62, and 2^62 throws.
     */
    @Override
    @Test
    void largeAlignmentNearTheMaximumOffsetShouldNotOverflow() {
        long size = 1L << 22;
        Suballocator s = create(MAX_END - size, size, 1L << 20);
        long h = s.tryAllocate(fillSize(), 1L << 20, LINEAR);
        assertThat(h).isNotEqualTo(NULL_HANDLE);
        assertThat(s.offset(h) % (1L << 20)).isZero();
        assertThat(s.offset(h) + fillSize()).isLessThanOrEqualTo(MAX_END);
        assertRejected(s, () -> s.tryAllocate(16, 1L << 62, LINEAR), "alignment: " + (1L << 62));
        s.checkInvariants();
    }

    /**
     * Not applicable as written: a size above the slot size is a caller bug for a pool, whatever room is left. Each
     * of these sizes must throw naming the value and change nothing, near 2^62 as anywhere.
     */
    @Override
    @Test
    void allocationsTooLargeForARegionEndingAtTheMaximumShouldFailWithoutOverflowAndChangeNothing() {
        long size = fillCount() * fillSize();
        Suballocator s = create(MAX_END - size, size, 1);
        assertThat(s.tryAllocate(fillSize(), 1, LINEAR)).isNotEqualTo(NULL_HANDLE);
        for (long tooLarge : new long[] {size, size + 1, MAX_END - 1, MAX_END}) {
            assertRejected(s, () -> s.tryAllocate(tooLarge, 1, LINEAR), "size: " + tooLarge);
        }
        s.checkInvariants();
    }

    /**
     * Not applicable as written: a pool cannot let two slots share a granularity page, whatever their types. Its
     * documented rule instead: with the slot alignment at least the granularity, every slot starts a page of its own,
     * so no two allocations share a page, not even two of one type.
     */
    @Override
    @Test
    void sameTypeNeighboursMayShareAGranularityPage() {
        Suballocator s = create(0, 1 << 16, 1024);
        long a = s.tryAllocate(100, 1, LINEAR);
        long b = s.tryAllocate(100, 1, LINEAR);
        assertThat(s.offset(a) % 1024).isZero();
        assertThat(s.offset(b) % 1024).isZero();
        assertThat(sharePage(s, a, b, 1024)).isFalse();
    }

    @Test
    void belowTheGranularityTheSlotAlignmentLeavesConflictingNeighboursToTheCaller() {
        // As documented, the pool records types but never moves a slot for them: with 128-byte slots and a
        // granularity of 1024, a buffer and an image in neighbouring slots share a page. Such a pool must hold one
        // type, or use a slot alignment of at least the granularity (the test above).
        FixedSizeSuballocator pool = new FixedSizeSuballocator(0, 4096, 128, 128);
        long buffer = pool.tryAllocate(128, 1, LINEAR);
        long image = pool.tryAllocate(128, 1, NON_LINEAR);
        assertThat(pool.offset(image)).isEqualTo(128);
        assertThat(sharePage(pool, buffer, image, 1024)).isTrue();
        assertThat(pool.type(image)).isEqualTo(NON_LINEAR);
    }

    @Test
    void fillingExactlyShouldSucceedAndOneMoreShouldReturnNull() {
        FixedSizeSuballocator pool = new FixedSizeSuballocator(0, 1024, 64, 64);
        assertThat(pool.slotCount()).isEqualTo(16);
        for (int i = 0; i < 16; i++) {
            assertThat(pool.offset(pool.tryAllocate(64, 64, LINEAR))).isEqualTo(i * 64L);
        }
        assertThat(pool.freeBytes()).isZero();
        assertThat(pool.largestFreeRange()).isZero();
        assertThat(pool.tryAllocate(1, 1, LINEAR)).isEqualTo(NULL_HANDLE);
        assertThat(pool.liveCount()).isEqualTo(16);
        pool.checkInvariants();
    }

    @Test
    void freeingAllShouldLetEverySlotSizedAllocationSucceedAgainMostRecentlyFreedFirst() {
        FixedSizeSuballocator pool = new FixedSizeSuballocator(0, 1024, 64, 64);
        List<Long> handles = new ArrayList<>();
        for (long h; (h = pool.tryAllocate(1, 1, UNKNOWN)) != NULL_HANDLE; ) {
            handles.add(h);
        }
        for (long handle : handles) {
            pool.free(handle);
        }
        pool.checkInvariants();
        assertThat(pool.freeBytes()).isEqualTo(1024);
        assertThat(pool.largestFreeRange()).isEqualTo(64);
        assertThat(pool.offset(pool.tryAllocate(64, 64, NON_LINEAR))).isEqualTo(15 * 64); // freed last
        assertThat(pool.offset(pool.tryAllocate(64, 64, NON_LINEAR))).isEqualTo(14 * 64);
    }

    @Test
    void theDocumentedExampleShouldPlaceSlotsOnTheAlignedStride() {
        FixedSizeSuballocator pool = new FixedSizeSuballocator(1000, 900, 100, 64);
        assertThat(pool.slotStride()).isEqualTo(128);
        assertThat(pool.slotCount()).as("(1900 - 1024 - 100) / 128 + 1").isEqualTo(7);
        long a = pool.tryAllocate(100, 64, LINEAR);
        long b = pool.tryAllocate(1, 1, LINEAR);
        assertThat(pool.offset(a)).isEqualTo(1024);
        assertThat(pool.offset(b)).isEqualTo(1152);
        pool.free(a);
        long c = pool.tryAllocate(30, 16, NON_LINEAR);
        assertThat(pool.offset(c)).isEqualTo(1024);
        assertThat(pool.size(c)).isEqualTo(30);
        assertThat(pool.type(c)).isEqualTo(NON_LINEAR);
        assertThat(pool.freeBytes()).isEqualTo(644);
        long last = 0;
        for (int i = 0; i < 5; i++) {
            last = pool.tryAllocate(100, 64, LINEAR);
        }
        assertThat(pool.offset(last)).isEqualTo(1792);
        assertThat(pool.freeBytes()).as("900 - 6 * 128 - 108").isEqualTo(24);
        assertThat(pool.tryAllocate(1, 1, LINEAR)).isEqualTo(NULL_HANDLE);
        assertRejected(pool, () -> pool.tryAllocate(101, 1, LINEAR), "size: 101 (expected: <= the slot size 100)");
        assertRejected(pool, () -> pool.tryAllocate(8, 128, LINEAR),
                "alignment: 128 (expected: <= the slot alignment 64)");
        pool.checkInvariants();
    }

    @Test
    void aLastSlotShorterThanAStrideShouldBeHandedOutAndTakeOnlyTheBytesLeftOfTheRegion() {
        // Region [1000, 1900), 100-byte slots every 128 from 1024: the 7th slot, at 1792, ends its 100 bytes at 1892
        // and takes the 108 bytes left, not a stride.
        FixedSizeSuballocator pool = new FixedSizeSuballocator(1000, 900, 100, 64);
        IntervalModel model = new IntervalModel(pool, 64);
        List<Long> handles = new ArrayList<>();
        long taken = 0;
        for (int i = 0; i < 7; i++) {
            long handle = pool.tryAllocate(100 - i, 64, i % 2 == 0 ? LINEAR : NON_LINEAR);
            assertThat(handle).as("slot %d", i).isNotEqualTo(NULL_HANDLE);
            IntervalModel.Interval slot = model.allocated(handle, 100 - i, 64, pool.type(handle));
            assertThat(slot.offset()).isEqualTo(1024 + 128L * i);
            assertThat(slot.end()).isLessThanOrEqualTo(1900);
            taken += i < 6 ? 128 : 108;
            model.verify(900 - taken); // freeBytes, visit inside the region, invariants
            handles.add(handle);
        }
        assertThat(pool.freeBytes()).isEqualTo(24);
        assertThat(pool.tryAllocate(1, 1, LINEAR)).isEqualTo(NULL_HANDLE);
        assertThat(freeRanges(pool)).containsExactly(new long[] {1000, 24});

        pool.free(handles.get(6));
        model.freed(handles.get(6));
        model.verify(900 - 6 * 128);
        assertThat(freeRanges(pool)).as("the freed last slot ends at the region's end, not its stride's")
                .containsExactly(new long[] {1000, 24}, new long[] {1792, 108});
        pool.free(handles.get(3));
        model.freed(handles.get(3));
        model.verify(900 - 5 * 128);
        assertThat(freeRanges(pool)).containsExactly(new long[] {1000, 24}, new long[] {1408, 128},
                new long[] {1792, 108});
        model.allocated(pool.tryAllocate(100, 64, LINEAR), 100, 64, LINEAR);
        model.allocated(pool.tryAllocate(100, 64, LINEAR), 100, 64, LINEAR);
        model.verify(24);
        pool.reset();
        model.cleared();
        model.verify(900);
        assertThat(freeRanges(pool)).containsExactly(new long[] {1000, 900});
    }

    @Test
    void aSlotThatFillsTheRegionShouldFitThoughItsStrideWouldNot() {
        // 1001 bytes at alignment 1024 stride 1024 bytes, but one slot needs only its 1001 bytes of [0, 1001).
        FixedSizeSuballocator pool = new FixedSizeSuballocator(0, 1001, 1001, 1024);
        assertThat(pool.slotCount()).isEqualTo(1);
        assertThat(pool.slotStride()).isEqualTo(1024);
        long handle = pool.tryAllocate(1001, 1024, LINEAR);
        assertThat(pool.offset(handle)).isZero();
        assertThat(pool.freeBytes()).as("not 1001 - 1024").isZero();
        assertThat(pool.largestFreeRange()).isZero();
        assertThat(freeRanges(pool)).isEmpty();
        pool.checkInvariants();
        pool.free(handle);
        assertThat(pool.freeBytes()).isEqualTo(1001);
        assertThat(freeRanges(pool)).containsExactly(new long[] {0, 1001});
        pool.checkInvariants();
        // Still refused where even the slot size does not fit after the first aligned offset.
        assertThatThrownBy(() -> new FixedSizeSuballocator(1, 1001, 1001, 1024))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slotSize: 1001 with slotAlignment 1024")
                .hasMessageContaining("at least one slot in [1, 1002)");
        assertThatThrownBy(() -> new FixedSizeSuballocator(0, 1000, 1001, 1024))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slotSize: 1001");
    }

    /** @return the free ranges that visit reports, as {@code {offset, size}} */
    private static List<long[]> freeRanges(Suballocator s) {
        List<long[]> ranges = new ArrayList<>();
        s.visit(new Suballocator.Visitor() {
            @Override
            public void allocation(long handle, long offset, long size, AllocationType type) {
            }

            @Override
            public void free(long offset, long size) {
                ranges.add(new long[] {offset, size});
            }
        });
        return ranges;
    }

    @Test
    void everyAllowedAlignmentShouldBeHonouredFromZero() {
        FixedSizeSuballocator pool = new FixedSizeSuballocator(3, 10_000, 40, 256);
        for (long alignment = 1; alignment <= 256; alignment *= 2) {
            long handle = pool.tryAllocate(40, alignment, LINEAR);
            assertThat(pool.offset(handle) % 256).isZero();
        }
        pool.checkInvariants();
    }

    @Test
    void aSlotAlignmentOfAtLeastTheGranularityShouldKeepEverySlotOnItsOwnPages() {
        long granularity = 64;
        FixedSizeSuballocator pool = new FixedSizeSuballocator(10, 4096, 70, granularity);
        IntervalModel model = new IntervalModel(pool, granularity);
        AllocationType[] types = {LINEAR, NON_LINEAR, UNKNOWN};
        for (int i = 0; i < pool.slotCount(); i++) {
            long size = 1 + i % 70;
            model.allocated(pool.tryAllocate(size, 1, types[i % 3]), size, 1, types[i % 3]);
        }
        // 32 slots from 64 every 128 in [10, 4106): the last, at 4032, takes the 74 bytes left; only the 54 bytes
        // before the first slot stay free.
        assertThat(pool.slotCount()).isEqualTo(32);
        model.verify(4096 - 31 * 128L - 74); // checks conflicting neighbours' pages
    }

    @Test
    void aRegionNearTheMaximumEndShouldWorkWithoutOverflow() {
        long offset = MAX_REGION_END - 4096;
        FixedSizeSuballocator pool = new FixedSizeSuballocator(offset, 4096, 1024, 1024);
        assertThat(pool.slotCount()).isEqualTo(4);
        long last = 0;
        for (int i = 0; i < 4; i++) {
            last = pool.tryAllocate(1024, 1024, LINEAR);
        }
        assertThat(pool.offset(last) + pool.size(last)).isEqualTo(MAX_REGION_END);
        assertThat(pool.tryAllocate(1, 1, LINEAR)).isEqualTo(NULL_HANDLE);
        assertRejected(pool, () -> pool.tryAllocate(Long.MAX_VALUE, 1, LINEAR), "size: " + Long.MAX_VALUE);
        assertRejected(pool, () -> pool.tryAllocate(1, 1L << 62, LINEAR), "alignment: " + (1L << 62));
        FixedSizeSuballocator huge = new FixedSizeSuballocator(0, MAX_REGION_END, 1L << 61, 1L << 62);
        assertThat(huge.slotCount()).isEqualTo(1);
        assertThat(huge.offset(huge.tryAllocate(1L << 61, 1L << 62, LINEAR))).isZero();
    }

    @Test
    void badArgumentsShouldThrowNamingTheValueAndChangeNothing() {
        FixedSizeSuballocator pool = new FixedSizeSuballocator(0, 1024, 64, 16);
        long live = pool.tryAllocate(10, 1, LINEAR);
        long freed = pool.tryAllocate(10, 1, LINEAR);
        pool.free(freed);
        long foreign = new FixedSizeSuballocator(0, 1024, 64, 16).tryAllocate(10, 1, LINEAR);

        assertRejected(pool, () -> pool.tryAllocate(0, 1, LINEAR), "size: 0");
        assertRejected(pool, () -> pool.tryAllocate(-1, 1, LINEAR), "size: -1");
        assertRejected(pool, () -> pool.tryAllocate(65, 1, LINEAR), "size: 65");
        assertRejected(pool, () -> pool.tryAllocate(8, 24, LINEAR), "alignment: 24 (expected: a power of two)");
        assertRejected(pool, () -> pool.tryAllocate(8, 32, LINEAR), "alignment: 32");
        assertRejected(pool, () -> pool.tryAllocate(8, 1, null), "type: null");
        assertRejected(pool, () -> pool.free(NULL_HANDLE), "handle: 0x0");
        assertRejected(pool, () -> pool.free(freed), "handle: 0x" + Long.toHexString(freed));
        assertRejected(pool, () -> pool.free(foreign), "handle: 0x" + Long.toHexString(foreign));
        assertRejected(pool, () -> pool.free(live + 5), "handle: 0x" + Long.toHexString(live + 5));
        assertRejected(pool, () -> pool.offset(freed), "handle: 0x" + Long.toHexString(freed));
        assertRejected(pool, () -> pool.size(live + (1L << 26)), "handle: 0x");
        assertThat(pool.offset(live)).isZero();
    }

    @Test
    void constructorShouldRejectBadArgumentsNamingTheValue() {
        assertThatThrownBy(() -> new FixedSizeSuballocator(-1, 100, 10, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("regionOffset: -1");
        assertThatThrownBy(() -> new FixedSizeSuballocator(0, -100, 10, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("regionSize: -100");
        assertThatThrownBy(() -> new FixedSizeSuballocator(MAX_REGION_END, 100, 10, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(MAX_REGION_END + " + 100");
        assertThatThrownBy(() -> new FixedSizeSuballocator(0, 100, 0, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slotSize: 0");
        assertThatThrownBy(() -> new FixedSizeSuballocator(0, 100, 101, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slotSize: 101");
        assertThatThrownBy(() -> new FixedSizeSuballocator(0, 100, 10, 12))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slotAlignment: 12");
        assertThatThrownBy(() -> new FixedSizeSuballocator(1, 100, 64, 64))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slotSize: 64 with slotAlignment 64")
                .hasMessageContaining("at least one slot");
        assertThatThrownBy(() -> new FixedSizeSuballocator(0, 1L << 27, 1, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slots: " + (1L << 27));
        assertThat(new FixedSizeSuballocator(0, 1L << 26, 1, 1).slotCount()).isEqualTo(1 << 26);
    }

    @Test
    void resetShouldFreeEverySlotAndMakeEveryHandleStale() {
        FixedSizeSuballocator pool = new FixedSizeSuballocator(0, 1024, 64, 64);
        long a = pool.tryAllocate(64, 1, LINEAR);
        long b = pool.tryAllocate(64, 1, LINEAR);
        pool.free(a);
        pool.reset();
        pool.checkInvariants();
        assertThat(pool.liveCount()).isZero();
        assertThat(pool.freeBytes()).isEqualTo(1024);
        assertThatThrownBy(() -> pool.free(b)).isInstanceOf(IllegalArgumentException.class);
        long a2 = pool.tryAllocate(64, 1, LINEAR);
        long b2 = pool.tryAllocate(64, 1, LINEAR);
        assertThat(pool.offset(a2)).isZero();
        assertThat(pool.offset(b2)).isEqualTo(64);
        assertThatThrownBy(() -> pool.free(b)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> pool.free(a)).isInstanceOf(IllegalArgumentException.class);
        assertThat(pool.kind()).isEqualTo(SuballocatorKind.POOL);
    }

    @Test
    void randomOperationsShouldMatchTheIntervalModel() {
        Random random = new Random(0x5eed_9001);
        long regionOffset = 1000;
        long regionSize = 16 * 1024;
        long slotSize = 100;
        long slotAlignment = 32;
        FixedSizeSuballocator pool = new FixedSizeSuballocator(regionOffset, regionSize, slotSize, slotAlignment);
        long stride = 128;
        long firstSlot = 1024;
        long regionEnd = regionOffset + regionSize;
        // The last slot needs only its 100 bytes: 128 slots, the last at 17280 taking the 104 bytes left of the
        // region (whole strides would give 127).
        int slots = (int) ((regionEnd - firstSlot - slotSize) / stride + 1);
        assertThat(slots).isEqualTo(128);
        assertThat(pool.slotCount()).isEqualTo(slots);
        IntervalModel model = new IntervalModel(pool, 1);
        List<Long> live = new ArrayList<>();
        List<Long> stale = new ArrayList<>();
        AllocationType[] types = AllocationType.values();
        int nulls = 0;
        for (int step = 0; step < 100_000; step++) {
            int op = random.nextInt(100);
            if (op < 52) {
                long size = 1 + random.nextInt((int) slotSize);
                long alignment = 1L << random.nextInt(6);
                AllocationType type = types[random.nextInt(types.length)];
                long handle = pool.tryAllocate(size, alignment, type);
                if (live.size() == slots) {
                    assertThat(handle).isEqualTo(NULL_HANDLE);
                    nulls++;
                } else {
                    long offset = model.allocated(handle, size, alignment, type).offset();
                    assertThat((offset - firstSlot) % stride).isZero();
                    live.add(handle);
                }
            } else if (op < 97 && !live.isEmpty()) {
                long handle = live.remove(random.nextInt(live.size()));
                pool.free(handle);
                model.freed(handle);
                stale.add(handle);
            } else if (op < 99 && !stale.isEmpty()) {
                long handle = stale.get(random.nextInt(stale.size()));
                assertThatThrownBy(() -> pool.free(handle)).isInstanceOf(IllegalArgumentException.class);
            } else if (op == 99 && random.nextInt(20) == 0) {
                pool.reset();
                stale.addAll(live);
                live.clear();
                model.cleared();
            }
            if (stale.size() > 1000) {
                stale.subList(0, 500).clear();
            }
            long taken = 0;
            for (long handle : live) {
                taken += Math.min(stride, regionEnd - pool.offset(handle));
            }
            model.verify(regionSize - taken);
        }
        assertThat(nulls).isGreaterThan(100);
    }
}
