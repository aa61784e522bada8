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
import org.junit.jupiter.api.function.Executable;

class FixedSizeSuballocatorTest {

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
        FixedSizeSuballocator pool = new FixedSizeSuballocator(1000, 1000, 100, 64);
        assertThat(pool.slotStride()).isEqualTo(128);
        assertThat(pool.slotCount()).isEqualTo(7);
        long a = pool.tryAllocate(100, 64, LINEAR);
        long b = pool.tryAllocate(1, 1, LINEAR);
        assertThat(pool.offset(a)).isEqualTo(1024);
        assertThat(pool.offset(b)).isEqualTo(1152);
        pool.free(a);
        long c = pool.tryAllocate(30, 16, NON_LINEAR);
        assertThat(pool.offset(c)).isEqualTo(1024);
        assertThat(pool.size(c)).isEqualTo(30);
        assertThat(pool.type(c)).isEqualTo(NON_LINEAR);
        assertThat(pool.freeBytes()).isEqualTo(744);
        assertRejected(pool, () -> pool.tryAllocate(101, 1, LINEAR), "size: 101 (expected: <= the slot size 100)");
        assertRejected(pool, () -> pool.tryAllocate(8, 128, LINEAR),
                "alignment: 128 (expected: <= the slot alignment 64)");
        pool.checkInvariants();
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
        model.verify(4096 - pool.slotCount() * 128L); // checks conflicting neighbours' pages
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
        int slots = (int) ((regionOffset + regionSize - firstSlot) / stride);
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
            model.verify(regionSize - live.size() * stride);
        }
        assertThat(nulls).isGreaterThan(100);
    }

    private static void assertRejected(Suballocator sub, Executable call, String messagePart) {
        long freeBytes = sub.freeBytes();
        int liveCount = sub.liveCount();
        long largest = sub.largestFreeRange();
        assertThatThrownBy(call::execute).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(messagePart).hasMessageContaining("expected");
        assertThat(sub.freeBytes()).isEqualTo(freeBytes);
        assertThat(sub.liveCount()).isEqualTo(liveCount);
        assertThat(sub.largestFreeRange()).isEqualTo(largest);
        sub.checkInvariants();
    }
}
