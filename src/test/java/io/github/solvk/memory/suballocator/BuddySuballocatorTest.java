package io.github.solvk.memory.suballocator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The contract plus what is particular to {@link BuddySuballocator}. */
class BuddySuballocatorTest extends SuballocatorContractTest {

    @Override
    protected Suballocator create(long regionOffset, long regionSize, long granularity) {
        return new BuddySuballocator(regionOffset, regionSize, granularity);
    }

    @Test
    void kindShouldBeBuddy() {
        assertThat(create(0, 4096, 1).kind()).isEqualTo(SuballocatorKind.BUDDY);
    }

    @Test
    void sizesShouldRoundUpToAPowerOfTwoOfAtLeast16Bytes() {
        Suballocator s = create(0, 4096, 1);
        long a = s.tryAllocate(1, 1, AllocationType.LINEAR);
        long b = s.tryAllocate(17, 1, AllocationType.LINEAR);
        long c = s.tryAllocate(100, 1, AllocationType.LINEAR);
        assertThat(s.offset(a)).isEqualTo(0);
        assertThat(s.offset(b)).isEqualTo(32);
        assertThat(s.offset(c)).isEqualTo(128);
        assertThat(s.size(b)).isEqualTo(17);
        assertThat(s.freeBytes()).isEqualTo(4096 - 16 - 32 - 128);
        s.checkInvariants();
    }

    @Test
    void nonPowerOfTwoRegionShouldBeCutIntoAlignedRoots() {
        Suballocator s = create(4096, 7168, 1);
        assertThat(s.freeBytes()).isEqualTo(7168);
        assertThat(s.largestFreeRange()).isEqualTo(4096);
        long a = s.tryAllocate(3000, 1, AllocationType.LINEAR);
        long b = s.tryAllocate(600, 1, AllocationType.LINEAR);
        assertThat(s.offset(a)).isEqualTo(4096);
        assertThat(s.offset(b)).isEqualTo(10240);
        assertThat(s.tryAllocate(4096, 1, AllocationType.LINEAR)).isEqualTo(Suballocator.NULL_HANDLE);
        assertThat(s.tryAllocate(2048, 1, AllocationType.LINEAR)).isNotEqualTo(Suballocator.NULL_HANDLE);
        s.checkInvariants();
    }

    @Test
    void unalignedRegionEndsShouldBeLeftOut() {
        Suballocator s = create(8, 100, 1);
        assertThat(s.freeBytes()).isEqualTo(80);
        assertThat(s.largestFreeRange()).isEqualTo(32);
        s.checkInvariants();
        Suballocator tiny = create(1, 20, 1);
        assertThat(tiny.freeBytes()).isZero();
        assertThat(tiny.tryAllocate(1, 1, AllocationType.LINEAR)).isEqualTo(Suballocator.NULL_HANDLE);
        tiny.checkInvariants();
    }

    @Test
    void freesInAnyOrderShouldMergeBuddiesBackToTheRoot() {
        Suballocator s = create(0, 1 << 20, 1);
        List<Long> handles = new ArrayList<>();
        Random random = new Random(3);
        for (int i = 0; i < 500; i++) {
            long h = s.tryAllocate(1 + random.nextInt(1000), 1L << random.nextInt(6), AllocationType.LINEAR);
            assertThat(h).isNotEqualTo(Suballocator.NULL_HANDLE);
            handles.add(h);
        }
        Collections.shuffle(handles, random);
        for (long h : handles) {
            s.free(h);
        }
        s.checkInvariants();
        assertThat(s.largestFreeRange()).isEqualTo(1 << 20);
        assertThat(TlsfSuballocatorTest.freeRanges(s)).isEqualTo(1);
    }

    @Test
    void alignmentLargerThanTheSizeShouldTakeANodeOfTheAlignment() {
        Suballocator s = create(0, 1 << 16, 1);
        s.tryAllocate(16, 1, AllocationType.LINEAR);
        long h = s.tryAllocate(16, 4096, AllocationType.LINEAR);
        assertThat(s.offset(h)).isEqualTo(4096);
        assertThat(s.freeBytes()).isEqualTo((1 << 16) - 16 - 4096);
    }
}
