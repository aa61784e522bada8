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

class StackSuballocatorTest {

    @Test
    void fillingExactlyShouldSucceedAndOneMoreShouldReturnNull() {
        StackSuballocator stack = new StackSuballocator(0, 1024);
        for (int i = 0; i < 16; i++) {
            long handle = stack.tryAllocate(64, 64, LINEAR);
            assertThat(handle).isNotEqualTo(NULL_HANDLE);
            assertThat(stack.offset(handle)).isEqualTo(i * 64L);
        }
        assertThat(stack.freeBytes()).isZero();
        assertThat(stack.largestFreeRange()).isZero();

        assertThat(stack.tryAllocate(1, 1, LINEAR)).isEqualTo(NULL_HANDLE);
        assertThat(stack.liveCount()).isEqualTo(16);
        stack.checkInvariants();
    }

    @Test
    void freeingAllInReverseShouldLetARegionSizedAllocationSucceed() {
        StackSuballocator stack = new StackSuballocator(4096, 1000);
        List<Long> handles = new ArrayList<>();
        for (long h; (h = stack.tryAllocate(30, 8, UNKNOWN)) != NULL_HANDLE; ) {
            handles.add(h);
        }
        assertThat(handles).hasSize(31); // 4096 + 31 * 32 - 2 = 5086 <= 5096, the 32nd would end at 5118
        for (int i = handles.size() - 1; i >= 0; i--) {
            stack.free(handles.get(i));
            stack.checkInvariants();
        }
        assertThat(stack.freeBytes()).isEqualTo(1000);
        assertThat(stack.liveCount()).isZero();

        long whole = stack.tryAllocate(1000, 1, NON_LINEAR);
        assertThat(stack.offset(whole)).isEqualTo(4096);
        assertThat(stack.size(whole)).isEqualTo(1000);
    }

    @Test
    void allocationShouldBeAlignedFromZeroNotFromTheRegionStartAndPaddingShouldCountAsTaken() {
        StackSuballocator stack = new StackSuballocator(1000, 1000);
        long a = stack.tryAllocate(10, 256, LINEAR);
        assertThat(stack.offset(a)).isEqualTo(1024);
        assertThat(stack.freeBytes()).isEqualTo(1000 - 34);
        long b = stack.tryAllocate(1, 512, LINEAR);
        assertThat(stack.offset(b)).isEqualTo(1536);
        assertThat(stack.tryAllocate(1, 1024, LINEAR)).isEqualTo(NULL_HANDLE); // 2048 is past the end
        assertThat(stack.tryAllocate(1, 2048, LINEAR)).isEqualTo(NULL_HANDLE);
        stack.checkInvariants();
    }

    @Test
    void conflictingNeighboursShouldNotShareAGranularityPage() {
        StackSuballocator stack = new StackSuballocator(0, 4096, 64);
        long a = stack.tryAllocate(100, 1, LINEAR);
        long b = stack.tryAllocate(10, 1, LINEAR);
        long c = stack.tryAllocate(10, 1, NON_LINEAR);
        long d = stack.tryAllocate(10, 1, NON_LINEAR);
        long e = stack.tryAllocate(10, 4, LINEAR);
        long f = stack.tryAllocate(10, 1, UNKNOWN);
        long g = stack.tryAllocate(10, 1, UNKNOWN);

        assertThat(stack.offset(a)).isZero();
        assertThat(stack.offset(b)).isEqualTo(100); // same type: no page break
        assertThat(stack.offset(c)).isEqualTo(128); // page [64, 128) holds b's last byte 109
        assertThat(stack.offset(d)).isEqualTo(138);
        assertThat(stack.offset(e)).isEqualTo(192);
        assertThat(stack.offset(f)).isEqualTo(256);
        assertThat(stack.offset(g)).isEqualTo(320); // UNKNOWN conflicts even with UNKNOWN
        stack.checkInvariants();
    }

    @Test
    void aConflictingNeighbourThatEndsOnAPageBoundaryShouldNeedNoPadding() {
        StackSuballocator stack = new StackSuballocator(0, 4096, 64);
        stack.tryAllocate(64, 1, LINEAR);
        long image = stack.tryAllocate(8, 1, NON_LINEAR);
        assertThat(stack.offset(image)).isEqualTo(64);
    }

    @Test
    void typeCodesShouldConflictExactlyAsTheTypesDo() {
        for (AllocationType a : AllocationType.values()) {
            for (AllocationType b : AllocationType.values()) {
                assertThat(IndexedHandles.conflicts(IndexedHandles.typeCode(a), IndexedHandles.typeCode(b)))
                        .as("%s, %s", a, b).isEqualTo(a.conflictsWith(b));
            }
        }
    }

    @Test
    void aRegionNearTheMaximumEndShouldWorkWithoutOverflow() {
        long offset = MAX_REGION_END - 4096;
        StackSuballocator stack = new StackSuballocator(offset, 4096, 1L << 62);
        assertThat(stack.tryAllocate(MAX_REGION_END, 1, LINEAR)).isEqualTo(NULL_HANDLE);
        assertThat(stack.tryAllocate(1, 1L << 62, LINEAR)).isEqualTo(NULL_HANDLE); // would start at 2^62
        long a = stack.tryAllocate(4095, 4096, LINEAR);
        assertThat(stack.offset(a)).isEqualTo(offset);
        // A conflicting neighbour would need the next 2^62 page, which is the region's end.
        assertThat(stack.tryAllocate(1, 1, NON_LINEAR)).isEqualTo(NULL_HANDLE);
        long b = stack.tryAllocate(1, 1, LINEAR);
        assertThat(stack.offset(b) + stack.size(b)).isEqualTo(MAX_REGION_END);
        assertThat(stack.freeBytes()).isZero();
        assertThat(stack.tryAllocate(MAX_REGION_END, 1L << 62, LINEAR)).isEqualTo(NULL_HANDLE);
        stack.checkInvariants();
    }

    @Test
    void badArgumentsShouldThrowNamingTheValueAndChangeNothing() {
        StackSuballocator stack = new StackSuballocator(0, 1024);
        StackSuballocator other = new StackSuballocator(0, 1024);
        long live = stack.tryAllocate(100, 1, LINEAR);
        long freed = stack.tryAllocate(100, 1, LINEAR);
        stack.free(freed);
        long foreign = other.tryAllocate(100, 1, LINEAR);

        assertRejected(stack, () -> stack.tryAllocate(0, 1, LINEAR), "size: 0");
        assertRejected(stack, () -> stack.tryAllocate(-5, 1, LINEAR), "size: -5");
        assertRejected(stack, () -> stack.tryAllocate(Long.MAX_VALUE, 1, LINEAR), "size: " + Long.MAX_VALUE);
        assertRejected(stack, () -> stack.tryAllocate(MAX_REGION_END + 1, 1, LINEAR), "size: " + (MAX_REGION_END + 1));
        assertRejected(stack, () -> stack.tryAllocate(8, 24, LINEAR), "alignment: 24 (expected: a power of two)");
        assertRejected(stack, () -> stack.tryAllocate(8, 0, LINEAR), "alignment: 0");
        assertRejected(stack, () -> stack.tryAllocate(8, Long.MIN_VALUE, LINEAR), "alignment: " + Long.MIN_VALUE);
        assertRejected(stack, () -> stack.tryAllocate(8, 1, null), "type: null");
        assertRejected(stack, () -> stack.free(NULL_HANDLE), "handle: 0x0");
        assertRejected(stack, () -> stack.free(freed), "handle: 0x" + Long.toHexString(freed));
        assertRejected(stack, () -> stack.free(foreign), "handle: 0x" + Long.toHexString(foreign));
        assertRejected(stack, () -> stack.free(live ^ 1L << 63), "handle: 0x");
        assertRejected(stack, () -> stack.offset(freed), "handle: 0x" + Long.toHexString(freed));
        assertRejected(stack, () -> stack.size(foreign), "handle: 0x" + Long.toHexString(foreign));
        assertRejected(stack, () -> stack.type(live + 1), "handle: 0x" + Long.toHexString(live + 1));
        assertThat(stack.offset(live)).isZero();
    }

    @Test
    void aDoubleFreeShouldThrowEvenWhenTheFirstWasOutOfOrder() {
        StackSuballocator stack = new StackSuballocator(0, 1024);
        long a = stack.tryAllocate(100, 1, LINEAR);
        stack.tryAllocate(100, 1, LINEAR);
        stack.free(a);
        assertRejected(stack, () -> stack.free(a), "handle: 0x" + Long.toHexString(a));
    }

    @Test
    void constructorShouldRejectBadArgumentsNamingTheValue() {
        assertThatThrownBy(() -> new StackSuballocator(-1, 10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("regionOffset: -1");
        assertThatThrownBy(() -> new StackSuballocator(0, -10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("regionSize: -10");
        assertThatThrownBy(() -> new StackSuballocator(0, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("regionSize: 0");
        assertThatThrownBy(() -> new StackSuballocator(MAX_REGION_END, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(MAX_REGION_END + " + 1 = " + (MAX_REGION_END + 1));
        assertThatThrownBy(() -> new StackSuballocator(1, Long.MAX_VALUE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 + " + Long.MAX_VALUE);
        assertThatThrownBy(() -> new StackSuballocator(0, 10, 24)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bufferImageGranularity: 24");
        assertThatThrownBy(() -> new StackSuballocator(0, 10, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bufferImageGranularity: 0");
        assertThat(new StackSuballocator(0, MAX_REGION_END).largestFreeRange()).isEqualTo(MAX_REGION_END);
    }

    @Test
    void anOutOfOrderFreeShouldBlockAllocationUntilLaterFreesFixTheOrder() {
        // The worked example of the class documentation.
        StackSuballocator stack = new StackSuballocator(1000, 1000, 64);
        long a = stack.tryAllocate(100, 16, LINEAR);
        long b = stack.tryAllocate(50, 1, NON_LINEAR);
        long c = stack.tryAllocate(10, 1, NON_LINEAR);
        assertThat(stack.offset(a)).isEqualTo(1008);
        assertThat(stack.offset(b)).isEqualTo(1152);
        assertThat(stack.offset(c)).isEqualTo(1202);

        stack.free(b);
        assertThat(stack.freeBytes()).isEqualTo(882);
        assertThat(stack.liveCount()).isEqualTo(2);
        stack.checkInvariants();
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> stack.tryAllocate(8, 1, LINEAR)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("offset 1152").hasMessageContaining("0x" + Long.toHexString(b))
                    .hasMessageContaining("top at offset 1202").hasMessageContaining("expected: free every");
        }
        assertThat(stack.freeBytes()).isEqualTo(882);
        assertThat(stack.offset(a)).isEqualTo(1008);

        stack.free(c);
        stack.checkInvariants();
        assertThat(stack.freeBytes()).isEqualTo(892);
        assertThat(stack.largestFreeRange()).isEqualTo(892);
        long d = stack.tryAllocate(8, 1, LINEAR);
        assertThat(stack.offset(d)).isEqualTo(1108);
    }

    @Test
    void freeingTheTopShouldPopTheWholeRunOfEntriesFreedBelowIt() {
        StackSuballocator stack = new StackSuballocator(0, 1000);
        long a = stack.tryAllocate(100, 1, LINEAR);
        long b = stack.tryAllocate(100, 1, LINEAR);
        long c = stack.tryAllocate(100, 1, LINEAR);
        long d = stack.tryAllocate(100, 1, LINEAR);
        long e = stack.tryAllocate(100, 1, LINEAR);
        stack.free(b);
        stack.free(d);
        stack.free(c);
        assertThatThrownBy(() -> stack.tryAllocate(8, 1, LINEAR)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("offset 300").hasMessageContaining("1 allocation(s) above it");
        stack.free(e);
        stack.checkInvariants();
        assertThat(stack.liveCount()).isEqualTo(1);
        assertThat(stack.largestFreeRange()).isEqualTo(900);
        assertThat(stack.offset(stack.tryAllocate(8, 1, LINEAR))).isEqualTo(100);
        assertThat(stack.offset(a)).isZero();
    }

    @Test
    void freeingEverythingOutOfOrderShouldEmptyTheStackOnceTheTopGoes() {
        StackSuballocator stack = new StackSuballocator(0, 1000);
        long a = stack.tryAllocate(100, 1, LINEAR);
        long b = stack.tryAllocate(100, 1, LINEAR);
        long c = stack.tryAllocate(100, 1, LINEAR);
        stack.free(a);
        stack.free(b);
        stack.free(c);
        stack.checkInvariants();
        assertThat(stack.liveCount()).isZero();
        assertThat(stack.freeBytes()).isEqualTo(1000);
        assertThat(stack.offset(stack.tryAllocate(1000, 1, LINEAR))).isZero();
    }

    @Test
    void resetShouldFreeEverythingFixTheOrderAndMakeEveryHandleStale() {
        StackSuballocator stack = new StackSuballocator(0, 1000);
        long a = stack.tryAllocate(100, 1, LINEAR);
        long b = stack.tryAllocate(100, 1, LINEAR);
        stack.tryAllocate(100, 1, LINEAR);
        stack.free(b);
        stack.reset();
        stack.checkInvariants();
        assertThat(stack.liveCount()).isZero();
        assertThat(stack.freeBytes()).isEqualTo(1000);
        assertThatThrownBy(() -> stack.free(a)).isInstanceOf(IllegalArgumentException.class);

        long a2 = stack.tryAllocate(1000, 1, LINEAR);
        assertThat(a2).isNotEqualTo(a); // the same depth, a new generation
        assertThatThrownBy(() -> stack.offset(a)).isInstanceOf(IllegalArgumentException.class);
        assertThat(stack.kind()).isEqualTo(SuballocatorKind.STACK);
    }

    @Test
    void manyEntriesShouldGrowTheArraysAndKeepEveryHandle() {
        StackSuballocator stack = new StackSuballocator(0, 1 << 20);
        long[] handles = new long[5000];
        for (int i = 0; i < handles.length; i++) {
            handles[i] = stack.tryAllocate(3, 1, LINEAR);
        }
        for (int i = 0; i < handles.length; i++) {
            assertThat(stack.offset(handles[i])).isEqualTo(3L * i);
        }
        stack.checkInvariants();
    }

    @Test
    void randomOperationsShouldMatchTheIntervalModel() {
        Random random = new Random(0x5eed_57ac);
        long granularity = 64;
        long regionOffset = 1000;
        long regionSize = 16 * 1024;
        StackSuballocator stack = new StackSuballocator(regionOffset, regionSize, granularity);
        IntervalModel model = new IntervalModel(stack, granularity);
        // The stack as the test sees it: handles bottom to top; freed ones stay until popped.
        List<long[]> entries = new ArrayList<>(); // {handle, end, freed}
        AllocationType[] types = AllocationType.values();
        int allocations = 0;
        int nulls = 0;
        int blocked = 0;
        for (int step = 0; step < 100_000; step++) {
            int op = random.nextInt(100);
            if (op < 50) {
                long size = random.nextInt(8) == 0 ? 1 + random.nextInt(16384) : 1 + random.nextInt(1024);
                long alignment = 1L << random.nextInt(10);
                AllocationType type = types[random.nextInt(types.length)];
                boolean outOfOrder = entries.stream().anyMatch(e -> e[2] != 0);
                if (outOfOrder) {
                    long before = stack.freeBytes();
                    assertThatThrownBy(() -> stack.tryAllocate(size, alignment, type))
                            .isInstanceOf(IllegalStateException.class);
                    assertThat(stack.freeBytes()).isEqualTo(before);
                    blocked++;
                } else {
                    long head = entries.isEmpty() ? regionOffset : entries.get(entries.size() - 1)[1];
                    long expected = IndexedHandles.alignUp(head, alignment);
                    if (!entries.isEmpty() && model.get(entries.get(entries.size() - 1)[0]).type().conflictsWith(type)
                            && (head - 1) / granularity == expected / granularity) {
                        expected = IndexedHandles.alignUp(expected, granularity);
                    }
                    long handle = stack.tryAllocate(size, alignment, type);
                    if (expected + size > regionOffset + regionSize) {
                        assertThat(handle).isEqualTo(NULL_HANDLE);
                        nulls++;
                    } else {
                        IntervalModel.Interval interval = model.allocated(handle, size, alignment, type);
                        assertThat(interval.offset()).isEqualTo(expected);
                        entries.add(new long[] {handle, interval.end(), 0});
                        allocations++;
                    }
                }
            } else if (op < 85 && !entries.isEmpty()) {
                freeAt(stack, model, entries, entries.size() - 1);
            } else if (op < 97 && !entries.isEmpty()) {
                int index = random.nextInt(entries.size());
                if (entries.get(index)[2] == 0) {
                    freeAt(stack, model, entries, index);
                } else {
                    long stale = entries.get(index)[0];
                    assertThatThrownBy(() -> stack.free(stale)).isInstanceOf(IllegalArgumentException.class);
                }
            } else if (op == 99 && random.nextInt(20) == 0) {
                stack.reset();
                entries.clear();
                model.cleared();
            }
            long taken = 0;
            long start = regionOffset;
            for (long[] entry : entries) {
                if (entry[2] == 0) {
                    taken += entry[1] - start;
                }
                start = entry[1];
            }
            model.verify(regionSize - taken);
        }
        assertThat(allocations).isGreaterThan(10_000);
        assertThat(nulls).isGreaterThan(100);
        assertThat(blocked).isGreaterThan(100);
    }

    private static void freeAt(StackSuballocator stack, IntervalModel model, List<long[]> entries, int index) {
        long handle = entries.get(index)[0];
        stack.free(handle);
        model.freed(handle);
        entries.get(index)[2] = 1;
        while (!entries.isEmpty() && entries.get(entries.size() - 1)[2] != 0) {
            entries.remove(entries.size() - 1);
        }
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
