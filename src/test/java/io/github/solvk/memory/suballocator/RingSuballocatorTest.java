package io.github.solvk.memory.suballocator;

import static io.github.solvk.memory.suballocator.AllocationType.LINEAR;
import static io.github.solvk.memory.suballocator.AllocationType.NON_LINEAR;
import static io.github.solvk.memory.suballocator.AllocationType.UNKNOWN;
import static io.github.solvk.memory.suballocator.Suballocator.MAX_REGION_END;
import static io.github.solvk.memory.suballocator.Suballocator.NULL_HANDLE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The contract plus what is particular to {@link RingSuballocator}. */
class RingSuballocatorTest extends SuballocatorContractTest {

    @Override
    protected Suballocator create(long regionOffset, long regionSize, long granularity) {
        return new RingSuballocator(regionOffset, regionSize, granularity);
    }

    /** FIFO: oldest first, which is allocation order; a copy, since callers change the list they passed in. */
    @Override
    protected List<Long> freeOrder(List<Long> handlesInAllocationOrder) {
        return new ArrayList<>(handlesInAllocationOrder);
    }

    @Test
    void fillingExactlyShouldSucceedAndOneMoreShouldReturnNull() {
        RingSuballocator ring = new RingSuballocator(0, 1024);
        for (int i = 0; i < 16; i++) {
            assertThat(ring.offset(ring.tryAllocate(64, 64, LINEAR))).isEqualTo(i * 64L);
        }
        assertThat(ring.freeBytes()).isZero();
        assertThat(ring.largestFreeRange()).isZero();
        assertThat(ring.tryAllocate(1, 1, LINEAR)).isEqualTo(NULL_HANDLE);
        assertThat(ring.liveCount()).isEqualTo(16);
        ring.checkInvariants();
    }

    @Test
    void freeingAllInOrderShouldLetARegionSizedAllocationSucceed() {
        RingSuballocator ring = new RingSuballocator(4096, 1000);
        List<Long> handles = new ArrayList<>();
        for (long h; (h = ring.tryAllocate(30, 8, UNKNOWN)) != NULL_HANDLE; ) {
            handles.add(h);
        }
        assertThat(handles).hasSize(31);
        for (long handle : handles) {
            ring.free(handle);
            ring.checkInvariants();
        }
        assertThat(ring.freeBytes()).isEqualTo(1000);
        assertThat(ring.largestFreeRange()).isEqualTo(1000);
        long whole = ring.tryAllocate(1000, 1, NON_LINEAR);
        assertThat(ring.offset(whole)).isEqualTo(4096);
    }

    @Test
    void freeingAllInReverseShouldAlsoEmptyTheRingOnceTheOldestGoes() {
        RingSuballocator ring = new RingSuballocator(0, 1000);
        long a = ring.tryAllocate(300, 1, LINEAR);
        long b = ring.tryAllocate(300, 1, LINEAR);
        long c = ring.tryAllocate(300, 1, LINEAR);
        ring.free(c);
        ring.free(b);
        ring.free(a);
        ring.checkInvariants();
        assertThat(ring.liveCount()).isZero();
        assertThat(ring.offset(ring.tryAllocate(1000, 1, LINEAR))).isZero();
    }

    @Test
    void theDocumentedExampleShouldWrapBlockAndCatchUp() {
        RingSuballocator ring = new RingSuballocator(0, 1000);
        long a = ring.tryAllocate(300, 1, LINEAR);
        long b = ring.tryAllocate(300, 1, LINEAR);
        long c = ring.tryAllocate(300, 1, LINEAR);
        ring.free(a);
        assertThat(ring.largestFreeRange()).isEqualTo(300);
        long d = ring.tryAllocate(200, 1, LINEAR);
        assertThat(ring.offset(d)).isZero();
        assertThat(ring.freeBytes()).isEqualTo(100); // the skipped [900, 1000) is D's padding
        ring.checkInvariants();

        ring.free(c);
        assertThat(ring.freeBytes()).isEqualTo(400);
        assertThat(ring.liveCount()).isEqualTo(2);
        ring.checkInvariants();
        assertThatThrownBy(() -> ring.tryAllocate(1, 1, LINEAR)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("oldest, at offset 300").hasMessageContaining(Long.toHexString(b))
                .hasMessageContaining("expected: free the allocations in the order");
        assertThat(ring.freeBytes()).isEqualTo(400);

        ring.free(b);
        ring.checkInvariants();
        assertThat(ring.largestFreeRange()).isEqualTo(700);
        long e = ring.tryAllocate(700, 1, LINEAR);
        assertThat(ring.offset(e)).isEqualTo(200);
        assertThat(ring.freeBytes()).isZero();
        assertThat(ring.tryAllocate(1, 1, LINEAR)).isEqualTo(NULL_HANDLE);

        ring.free(d); // the oldest now: its skipped padding [900, 1000) comes back with it
        assertThat(ring.freeBytes()).isEqualTo(300);
        assertThat(ring.offset(ring.tryAllocate(100, 1, LINEAR))).isEqualTo(900);
        ring.checkInvariants();
    }

    @Test
    void anAllocationThatDoesNotFitAtTheEndShouldWrapOnlyIfItEndsBeforeTheTail() {
        RingSuballocator ring = new RingSuballocator(0, 1000);
        long a = ring.tryAllocate(400, 1, LINEAR);
        long b = ring.tryAllocate(400, 1, LINEAR);
        ring.free(a);
        assertThat(ring.tryAllocate(401, 1, LINEAR)).isEqualTo(NULL_HANDLE); // 200 at the end, 400 at the start
        long c = ring.tryAllocate(300, 1, LINEAR);
        assertThat(ring.offset(c)).isZero(); // wraps although 200 bytes are free at the end
        assertThat(ring.largestFreeRange()).isEqualTo(100); // [300, 400) while wrapped
        assertThat(ring.tryAllocate(101, 1, LINEAR)).isEqualTo(NULL_HANDLE);
        long d = ring.tryAllocate(100, 1, LINEAR);
        assertThat(ring.offset(d)).isEqualTo(300);
        assertThat(ring.freeBytes()).isZero();
        ring.free(b);
        ring.checkInvariants();
        assertThat(ring.largestFreeRange()).isEqualTo(400); // [400, 800): [800, 1000) is c's padding
        assertThat(ring.tryAllocate(401, 1, LINEAR)).isEqualTo(NULL_HANDLE);
        assertThat(ring.offset(ring.tryAllocate(400, 1, LINEAR))).isEqualTo(400);
    }

    @Test
    void allocationShouldBeAlignedFromZeroAcrossTheWrap() {
        RingSuballocator ring = new RingSuballocator(1000, 1000);
        long a = ring.tryAllocate(10, 256, LINEAR);
        assertThat(ring.offset(a)).isEqualTo(1024);
        long b = ring.tryAllocate(400, 512, LINEAR);
        assertThat(ring.offset(b)).isEqualTo(1536);
        ring.free(a);
        // [1936, 2000) is too small; the start [1000, 1034) after the wrap at 1024 leaves only 10 bytes.
        assertThat(ring.tryAllocate(11, 1024, LINEAR)).isEqualTo(NULL_HANDLE);
        long c = ring.tryAllocate(10, 1024, LINEAR);
        assertThat(ring.offset(c)).isEqualTo(1024);
        ring.checkInvariants();
    }

    @Test
    void conflictingNeighboursShouldNotShareAGranularityPage() {
        RingSuballocator ring = wrappedAroundAnImageAt138();
        // Wrapped, the oldest is the image at 138, on page [128, 192): a buffer must end before 128.
        assertThat(ring.tryAllocate(129, 1, LINEAR)).isEqualTo(NULL_HANDLE);
        long f = ring.tryAllocate(128, 1, LINEAR);
        assertThat(ring.offset(f)).isZero();
        ring.checkInvariants();

        RingSuballocator other = wrappedAroundAnImageAt138();
        assertThat(other.offset(other.tryAllocate(130, 1, NON_LINEAR))).isZero(); // same type: may share the page
        other.checkInvariants();
    }

    private static RingSuballocator wrappedAroundAnImageAt138() {
        RingSuballocator ring = new RingSuballocator(0, 1024, 64);
        long a = ring.tryAllocate(100, 1, LINEAR);
        long b = ring.tryAllocate(10, 1, NON_LINEAR);
        long c = ring.tryAllocate(10, 1, NON_LINEAR);
        long d = ring.tryAllocate(10, 1, UNKNOWN);
        assertThat(ring.offset(b)).isEqualTo(128);
        assertThat(ring.offset(c)).isEqualTo(138);
        assertThat(ring.offset(d)).isEqualTo(192);
        ring.checkInvariants();
        long e = ring.tryAllocate(766, 1, UNKNOWN);
        assertThat(ring.offset(e)).isEqualTo(256); // [256, 1022)
        ring.free(a);
        ring.free(b);
        return ring;
    }

    @Test
    void aWrappedAllocationShouldKeepTheGranularityWithTheNewestToo() {
        RingSuballocator ring = new RingSuballocator(0, 1024, 64);
        long a = ring.tryAllocate(512, 1, LINEAR);
        ring.tryAllocate(500, 1, LINEAR); // [512, 1012)
        ring.free(a);
        long c = ring.tryAllocate(100, 1, LINEAR); // wraps to [0, 100)
        assertThat(ring.offset(c)).isZero();
        long d = ring.tryAllocate(10, 1, NON_LINEAR);
        assertThat(ring.offset(d)).isEqualTo(128);
        ring.checkInvariants();
    }

    @Test
    void aRegionNearTheMaximumEndShouldWorkWithoutOverflow() {
        long offset = MAX_REGION_END - 4096;
        RingSuballocator ring = new RingSuballocator(offset, 4096, 1L << 62);
        assertThat(ring.tryAllocate(MAX_REGION_END, 1, LINEAR)).isEqualTo(NULL_HANDLE);
        assertThat(ring.tryAllocate(1, 1L << 62, LINEAR)).isEqualTo(NULL_HANDLE);
        long a = ring.tryAllocate(2048, 4096, LINEAR);
        assertThat(ring.offset(a)).isEqualTo(offset);
        assertThat(ring.tryAllocate(1, 1, NON_LINEAR)).isEqualTo(NULL_HANDLE); // the next page is 2^62
        long b = ring.tryAllocate(2048, 1, LINEAR);
        assertThat(ring.offset(b) + ring.size(b)).isEqualTo(MAX_REGION_END);
        assertThat(ring.tryAllocate(MAX_REGION_END, 1L << 62, LINEAR)).isEqualTo(NULL_HANDLE);
        ring.free(a);
        long c = ring.tryAllocate(2048, 1, LINEAR);
        assertThat(ring.offset(c)).isEqualTo(offset);
        ring.checkInvariants();
    }

    @Test
    void badArgumentsShouldThrowNamingTheValueAndChangeNothing() {
        RingSuballocator ring = new RingSuballocator(0, 1024);
        long freed = ring.tryAllocate(100, 1, LINEAR);
        long live = ring.tryAllocate(100, 1, LINEAR);
        ring.free(freed);
        long foreign = new RingSuballocator(0, 1024).tryAllocate(100, 1, LINEAR);

        assertRejected(ring, () -> ring.tryAllocate(0, 1, LINEAR), "size: 0");
        assertRejected(ring, () -> ring.tryAllocate(-5, 1, LINEAR), "size: -5");
        assertRejected(ring, () -> ring.tryAllocate(Long.MAX_VALUE, 1, LINEAR), "size: " + Long.MAX_VALUE);
        assertRejected(ring, () -> ring.tryAllocate(MAX_REGION_END + 1, 1, LINEAR), "size: " + (MAX_REGION_END + 1));
        assertRejected(ring, () -> ring.tryAllocate(8, 24, LINEAR), "alignment: 24 (expected: a power of two)");
        assertRejected(ring, () -> ring.tryAllocate(8, -4, LINEAR), "alignment: -4");
        assertRejected(ring, () -> ring.tryAllocate(8, 1, null), "type: null");
        assertRejected(ring, () -> ring.free(NULL_HANDLE), "handle: 0x0");
        assertRejected(ring, () -> ring.free(freed), "handle: 0x" + Long.toHexString(freed));
        assertRejected(ring, () -> ring.free(foreign), "handle: 0x" + Long.toHexString(foreign));
        assertRejected(ring, () -> ring.free(live + 1), "handle: 0x" + Long.toHexString(live + 1));
        assertRejected(ring, () -> ring.free(live + (1L << 26)), "handle: 0x");
        assertRejected(ring, () -> ring.size(freed), "handle: 0x" + Long.toHexString(freed));
        assertRejected(ring, () -> ring.type(foreign), "handle: 0x" + Long.toHexString(foreign));
        assertThat(ring.offset(live)).isEqualTo(100);
    }

    @Test
    void aDoubleFreeShouldThrowEvenWhenTheFirstWasOutOfOrder() {
        RingSuballocator ring = new RingSuballocator(0, 1024);
        ring.tryAllocate(100, 1, LINEAR);
        long b = ring.tryAllocate(100, 1, LINEAR);
        ring.free(b);
        assertRejected(ring, () -> ring.free(b), "handle: 0x" + Long.toHexString(b));
    }

    @Test
    void constructorShouldRejectBadArgumentsNamingTheValue() {
        assertThatThrownBy(() -> new RingSuballocator(-1, 10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("regionOffset: -1");
        assertThatThrownBy(() -> new RingSuballocator(0, -10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("regionSize: -10");
        assertThatThrownBy(() -> new RingSuballocator(MAX_REGION_END - 1, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining((MAX_REGION_END - 1) + " + 2");
        assertThatThrownBy(() -> new RingSuballocator(0, 10, 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bufferImageGranularity: 3");
        assertThatThrownBy(() -> new RingSuballocator(0, 10, Long.MIN_VALUE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bufferImageGranularity: " + Long.MIN_VALUE);
    }

    @Test
    void outOfOrderFreesShouldBlockAllocationUntilTheOldestCatchesUp() {
        RingSuballocator ring = new RingSuballocator(0, 1000);
        long a = ring.tryAllocate(100, 1, LINEAR);
        long b = ring.tryAllocate(100, 1, LINEAR);
        long c = ring.tryAllocate(100, 1, LINEAR);
        long d = ring.tryAllocate(100, 1, LINEAR);
        ring.free(c);
        assertThat(ring.outOfOrderCount()).isEqualTo(1);
        assertThat(ring.firstOutOfOrderOffset()).isEqualTo(200);
        ring.free(b);
        assertThat(ring.outOfOrderCount()).isEqualTo(2);
        assertThat(ring.firstOutOfOrderOffset()).as("b, older than c").isEqualTo(100);
        assertThatThrownBy(() -> ring.tryAllocate(1, 1, LINEAR)).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("ring out of FIFO order: 2 allocation(s) were freed while an older one is"
                        + " live, the first at offset 100 (handle ")
                .hasMessageContaining("); the oldest, at offset 0 (handle ")
                .hasMessageEndingWith("), is live (expected: free the allocations in the order they were made, or"
                        + " reset())");
        // Argument errors still come first.
        assertThatThrownBy(() -> ring.tryAllocate(0, 1, LINEAR)).isInstanceOf(IllegalArgumentException.class);
        ring.free(a);
        ring.checkInvariants();
        assertThat(ring.outOfOrderCount()).isZero();
        assertThat(ring.firstOutOfOrderOffset()).isEqualTo(-1);
        assertThat(ring.liveCount()).isEqualTo(1);
        assertThat(ring.largestFreeRange()).isEqualTo(600); // the tail moved to d's start, 300
        long e = ring.tryAllocate(600, 1, LINEAR);
        assertThat(ring.offset(e)).isEqualTo(400);
        assertThat(ring.offset(d)).isEqualTo(300);
    }

    @Test
    void freeingTheNewestFirstShouldBlockToo() {
        RingSuballocator ring = new RingSuballocator(0, 1000);
        long a = ring.tryAllocate(100, 1, LINEAR);
        long b = ring.tryAllocate(100, 1, LINEAR);
        ring.free(b);
        assertThatThrownBy(() -> ring.tryAllocate(1, 1, LINEAR)).isInstanceOf(IllegalStateException.class);
        ring.free(a);
        assertThat(ring.offset(ring.tryAllocate(1000, 1, LINEAR))).isZero();
    }

    @Test
    void resetShouldFreeEverythingUnblockAndMakeEveryHandleStale() {
        RingSuballocator ring = new RingSuballocator(0, 1000);
        long a = ring.tryAllocate(100, 1, LINEAR);
        long b = ring.tryAllocate(100, 1, LINEAR);
        ring.free(b);
        ring.reset();
        ring.checkInvariants();
        assertThat(ring.liveCount()).isZero();
        assertThat(ring.freeBytes()).isEqualTo(1000);
        assertThatThrownBy(() -> ring.free(a)).isInstanceOf(IllegalArgumentException.class);
        assertThat(ring.offset(ring.tryAllocate(1000, 1, LINEAR))).isZero();
        assertThatThrownBy(() -> ring.offset(a)).isInstanceOf(IllegalArgumentException.class);
        assertThat(ring.kind()).isEqualTo(SuballocatorKind.RING);
    }

    @Test
    void growingWhileWrappedShouldKeepEveryHandle() {
        RingSuballocator ring = new RingSuballocator(0, 1 << 20);
        ArrayDeque<Long> live = new ArrayDeque<>();
        ArrayDeque<Long> offsets = new ArrayDeque<>();
        for (int round = 0; round < 50; round++) {
            for (int i = 0; i < 100 * round + 10; i++) {
                long h = ring.tryAllocate(100, 1, LINEAR);
                if (h == NULL_HANDLE) {
                    break;
                }
                live.addLast(h);
                offsets.addLast(ring.offset(h));
            }
            for (int i = 0; i < 60 * round; i++) {
                ring.free(live.removeFirst());
                offsets.removeFirst();
            }
            ring.checkInvariants();
            var offset = offsets.iterator();
            for (long h : live) {
                assertThat(ring.offset(h)).isEqualTo(offset.next());
            }
        }
    }

    @Test
    void randomOperationsShouldMatchTheIntervalModel() {
        Random random = new Random(0x5eed_0021);
        long granularity = 64;
        long regionOffset = 1000;
        long regionSize = 16 * 1024;
        long regionEnd = regionOffset + regionSize;
        RingSuballocator ring = new RingSuballocator(regionOffset, regionSize, granularity);
        IntervalModel model = new IntervalModel(ring, granularity);
        // The queue as the test sees it, oldest first: {handle, start, offset, end, freed, type}.
        List<long[]> queue = new ArrayList<>();
        AllocationType[] types = AllocationType.values();
        int allocations = 0;
        int wraps = 0;
        int nulls = 0;
        int blocked = 0;
        for (int step = 0; step < 100_000; step++) {
            int op = random.nextInt(100);
            if (op < 50) {
                long size = random.nextInt(8) == 0 ? 1 + random.nextInt(8192) : 1 + random.nextInt(1024);
                long alignment = 1L << random.nextInt(10);
                AllocationType type = types[random.nextInt(types.length)];
                if (queue.stream().anyMatch(e -> e[4] != 0)) {
                    long before = ring.freeBytes();
                    assertThatThrownBy(() -> ring.tryAllocate(size, alignment, type))
                            .isInstanceOf(IllegalStateException.class);
                    assertThat(ring.freeBytes()).isEqualTo(before);
                    blocked++;
                } else {
                    long[] expected = expectedPlacement(queue, regionOffset, regionEnd, granularity, size, alignment,
                            type);
                    long handle = ring.tryAllocate(size, alignment, type);
                    if (expected == null) {
                        assertThat(handle).isEqualTo(NULL_HANDLE);
                        nulls++;
                    } else {
                        IntervalModel.Interval interval = model.allocated(handle, size, alignment, type);
                        assertThat(interval.offset()).isEqualTo(expected[1]);
                        queue.add(new long[] {handle, expected[0], interval.offset(), interval.end(), 0,
                            type.ordinal()});
                        allocations++;
                        if (expected[0] > expected[1]) {
                            wraps++;
                        }
                    }
                }
            } else if (op < 85 && !queue.isEmpty()) {
                freeAt(ring, model, queue, 0);
            } else if (op < 97 && !queue.isEmpty()) {
                int index = random.nextInt(queue.size());
                if (queue.get(index)[4] == 0) {
                    freeAt(ring, model, queue, index);
                } else {
                    long stale = queue.get(index)[0];
                    assertThatThrownBy(() -> ring.free(stale)).isInstanceOf(IllegalArgumentException.class);
                }
            } else if (op == 99 && random.nextInt(20) == 0) {
                ring.reset();
                queue.clear();
                model.cleared();
            }
            long taken = 0;
            for (long[] e : queue) {
                if (e[4] == 0) {
                    taken += e[1] <= e[2] ? e[3] - e[1] : regionEnd - e[1] + e[3] - regionOffset;
                }
            }
            model.verify(regionSize - taken);
        }
        assertThat(allocations).isGreaterThan(10_000);
        assertThat(wraps).isGreaterThan(300);
        assertThat(nulls).isGreaterThan(100);
        assertThat(blocked).isGreaterThan(100);
    }

    /** @return {start, offset} where the ring's documented rules place the request, or null when it does not fit */
    private static long[] expectedPlacement(List<long[]> queue, long regionOffset, long regionEnd, long granularity,
                                            long size, long alignment, AllocationType type) {
        if (queue.isEmpty()) {
            long offset = IndexedHandles.alignUp(regionOffset, alignment);
            return offset + size <= regionEnd ? new long[] {regionOffset, offset} : null;
        }
        long[] oldest = queue.get(0);
        long[] newest = queue.get(queue.size() - 1);
        long tail = oldest[1];
        long head = newest[3];
        long offset = IndexedHandles.alignUp(head, alignment);
        if (AllocationType.values()[(int) newest[5]].conflictsWith(type)
                && (head - 1) / granularity == offset / granularity) {
            offset = IndexedHandles.alignUp(offset, granularity);
        }
        boolean oldestIsNext = oldest[1] <= oldest[2] && AllocationType.values()[(int) oldest[5]].conflictsWith(type);
        if (head <= tail) {
            boolean touches = oldestIsNext && (offset + size - 1) / granularity == oldest[2] / granularity;
            return offset + size <= tail && !touches ? new long[] {head, offset} : null;
        }
        if (offset + size <= regionEnd) {
            return new long[] {head, offset};
        }
        offset = IndexedHandles.alignUp(regionOffset, alignment);
        boolean touches = oldestIsNext && (offset + size - 1) / granularity == oldest[2] / granularity;
        return offset + size <= tail && !touches ? new long[] {head, offset} : null;
    }

    private static void freeAt(RingSuballocator ring, IntervalModel model, List<long[]> queue, int index) {
        long handle = queue.get(index)[0];
        ring.free(handle);
        model.freed(handle);
        queue.get(index)[4] = 1;
        while (!queue.isEmpty() && queue.get(0)[4] != 0) {
            queue.remove(0);
        }
    }
}
