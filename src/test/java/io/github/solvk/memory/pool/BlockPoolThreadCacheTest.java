package io.github.solvk.memory.pool;

import static io.github.solvk.memory.pool.BlockPoolTesting.KIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.MIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.on;
import static io.github.solvk.memory.pool.BlockPoolTesting.request;
import static io.github.solvk.memory.pool.BlockPoolTesting.vma;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.suballocator.Suballocators;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * The thread caches of {@link BlockPoolAllocator} ({@link ThreadRangeCache}): a released range waits in the releasing
 * thread's cache, still placed in its block, until that thread asks for the same size again, and goes back to its
 * block before the pool would grow, when its bin is swept, on {@code flushThreadCache()}, after its thread ended, and
 * with the allocator. Blocks are 1 MiB here, so an arena's first block is 128 KiB and a thread keeps at most 128 KiB
 * (an eighth of a block) in ranges of at most 8 KiB.
 */
@ExtendWith(VulkanExtension.class)
class BlockPoolThreadCacheTest {


    private static BlockPoolAllocator.Config.Builder config(VulkanContext context) {
        return BlockPoolTesting.config(context, MIB).arenas(1);
    }

    /** Makes 16 buffers of 8 KiB, which fill an arena's first block (128 KiB), and releases them into the cache. */
    private static void fillTheFirstBlockAndRelease(BlockPoolAllocator pool) {
        List<PooledBuffer> buffers = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            buffers.add(pool.allocate(request(8 * KIB)));
        }
        buffers.forEach(PooledBuffer::release);
    }

    @Test
    void aReleasedRangeShouldStayPlacedInTheThreadsCacheAndGoToItsNextRequestOfThatSize(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            PooledBuffer a = pool.allocate(request(4 * KIB));
            long offset = a.slot.offset;
            a.release();
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.allocationCount()).as("no buffer open").isZero();
            assertThat(stats.cachedRanges()).isEqualTo(1);
            assertThat(stats.cachedBytes()).isEqualTo(4 * KIB);
            assertThat(stats.usedBytes()).as("the range is still placed in its block").isEqualTo(4 * KIB);
            assertThat(stats.emptyBlockCount()).isZero();
            assertThatThrownBy(() -> a.buffer().offset()).as("its view is closed")
                    .isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> pool.free(a)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("released already");

            PooledBuffer b = pool.allocate(request(4 * KIB));
            assertThat(b.slot.offset).isEqualTo(offset);
            assertThat(b.slot).as("the same placed range").isSameAs(a.slot);
            assertThat(b.isReleased()).isFalse();
            assertThat(a.isReleased()).as("the old buffer stays released").isTrue();
            stats = pool.statistics(0);
            assertThat(stats.cachedRanges()).isZero();
            assertThat(stats.allocationCount()).isEqualTo(1);
            b.release();
            pool.checkInvariants();
            assertThat(pool.statistics(0).usedBytes()).as("checkInvariants gave the range back").isZero();
        }
    }

    @Test
    void withoutAThreadCacheAReleaseShouldGoStraightBackToTheBlock(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).threadCacheBytes(0).build())) {
            pool.allocate(request(4 * KIB)).release();
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.cachedRanges()).isZero();
            assertThat(stats.usedBytes()).isZero();
            assertThat(stats.emptyBlockCount()).isEqualTo(1);
        }
    }

    @Test
    void rangesAboveOneSixteenthOfTheBudgetOrOverTheBudgetShouldGoBackToTheBlock(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            // 16 KiB > 128 KiB / 16: never cached.
            pool.allocate(request(16 * KIB)).release();
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            // 20 ranges of 8 KiB: the first 16 fill the 128 KiB budget, the other four go back.
            List<PooledBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                buffers.add(pool.allocate(request(8 * KIB)));
            }
            buffers.forEach(PooledBuffer::release);
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.cachedRanges()).isEqualTo(16);
            assertThat(stats.cachedBytes()).isEqualTo(128 * KIB);
            assertThat(stats.usedBytes()).isEqualTo(128 * KIB);
        }
    }

    @Test
    void cachedRangesShouldGoBackToTheirBlocksBeforeThePoolGrows(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            fillTheFirstBlockAndRelease(pool);
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            assertThat(pool.statistics(0).freeBytes()).isZero();
            // A request of another size finds no room; the cache empties into the block, which then takes it.
            PooledBuffer big = pool.allocate(request(64 * KIB));
            assertThat(pool.deviceMemoryCount()).as("no second block").isEqualTo(1);
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            big.release();
        }
    }

    @Test
    void aNeverAllocateRequestShouldFindRoomThatTheThreadsCacheHeld(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            fillTheFirstBlockAndRelease(pool);
            PooledBuffer placed = pool.allocate(request(32 * KIB).withPreference(AllocatePreference.NEVER_ALLOCATE));
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            placed.release();
        }
    }

    @Test
    void binsNotUsedSinceTheLastSweepShouldGiveTheirRangesBack(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            List<PooledBuffer> old = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                old.add(pool.allocate(request(2 * KIB)));
            }
            old.forEach(PooledBuffer::release);
            assertThat(pool.statistics(0).cachedRanges()).isEqualTo(4);
            // Another size, made and released over and over: its one range is reused; the 2 KiB bin sits idle.
            for (int i = 0; i < ThreadRangeCache.SWEEP_INTERVAL + 1; i++) {
                pool.allocate(request(KIB)).release();
            }
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.cachedRanges()).as("only the 1 KiB range is left").isEqualTo(1);
            assertThat(stats.cachedBytes()).isEqualTo(KIB);
        }
    }

    @Test
    void aRangeReleasedByAnotherThreadShouldGoToThatThreadsCacheWithNoArenaTraffic(VulkanContext context)
            throws Exception {
        ExecutorService first = Executors.newSingleThreadExecutor();
        ExecutorService second = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).arenas(2).build())) {
            PooledBuffer made = on(first, () -> pool.allocate(request(4 * KIB)));
            on(second, () -> {
                made.release();
                return null;
            });
            for (int arena = 0; arena < 2; arena++) {
                assertThat(pool.pendingReleases(0, arena)).as("nothing waits for an arena's lock").isZero();
            }
            // The releasing thread's next request of that size gets the range; the first thread's does not.
            PooledBuffer mine = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer theirs = on(second, () -> pool.allocate(request(4 * KIB)));
            assertThat(theirs.slot).isSameAs(made.slot);
            assertThat(mine.slot).isNotSameAs(made.slot);
            on(first, () -> {
                mine.release();
                return null;
            });
            on(second, () -> {
                theirs.release();
                return null;
            });
        } finally {
            first.shutdownNow();
            second.shutdownNow();
        }
    }

    @Test
    void theRangesOfAThreadThatEndedShouldGoBackAtTheNextStatistics(VulkanContext context) throws Exception {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread worker = new Thread(() -> {
                try {
                    for (int i = 0; i < 8; i++) {
                        pool.allocate(request(4 * KIB)).release();
                        pool.allocate(request(2 * KIB)).release();
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            worker.start();
            worker.join();
            assertThat(failure.get()).isNull();
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.cachedRanges()).isZero();
            assertThat(stats.usedBytes()).isZero();
            assertThat(stats.emptyBlockCount()).as("the block is empty again, and kept").isEqualTo(1);
        }
    }

    @Test
    void flushThreadCacheShouldGiveTheCallingThreadsRangesBack(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).maxEmptyBlocks(0).build())) {
            pool.allocate(request(4 * KIB)).release();
            assertThat(pool.deviceMemoryCount()).as("the cached range keeps the block").isEqualTo(1);
            pool.flushThreadCache();
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            assertThat(pool.deviceMemoryCount()).as("emptied and not kept: freed").isZero();
        }
    }

    @Test
    void closeShouldCountCachedRangesAsNoLiveBufferAndFreeEverything(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build());
            PooledBuffer open = pool.allocate(request(4 * KIB));
            pool.allocate(request(4 * KIB)).release();
            pool.allocate(request(2 * KIB)).release();
            pool.close();
            assertThat(pool.liveBuffersAtClose()).as("one open buffer; two cached ranges").isEqualTo(1);
            assertThat(open.isReleased()).isTrue();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
            assertThatThrownBy(() -> pool.allocate(request(4 * KIB))).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void ownBuffersShouldReuseCachedRangesWithANewVkBufferEachTime(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma,
                     config(context).bufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).build())) {
            PooledBuffer a = pool.allocate(request(4 * KIB));
            a.buffer().write(0, new int[] {1, 2, 3, 4});
            long offset = a.slot.offset;
            a.release();
            PooledBuffer b = pool.allocate(request(4 * KIB));
            assertThat(b.slot.offset).isEqualTo(offset);
            assertThat(b.buffer().ownsBuffer()).isTrue();
            int[] read = new int[4];
            b.buffer().read(0, read);
            assertThat(read).as("the same memory under the new VkBuffer").containsExactly(1, 2, 3, 4);
            // Sub-ranges may reuse a range made for a buffer of its own: the block-wide buffer is made then.
            b.release();
            PooledBuffer c = pool.allocate(request(4 * KIB).withBufferMode(BlockPoolAllocator.BufferMode.SUB_RANGE));
            assertThat(c.slot.offset).isEqualTo(offset);
            assertThat(c.buffer().ownsBuffer()).isFalse();
            c.buffer().read(0, read);
            assertThat(read).containsExactly(1, 2, 3, 4);
            c.release();
            pool.checkInvariants();
        }
    }

    @Test
    void sizeClassesShouldPadAtMostAQuarterAndNumberTheBinsWithoutGaps() {
        long previousClass = 0;
        int previousIndex = -1;
        for (long size = 1; size <= 1 << 20; size++) {
            long c = ThreadRangeCache.sizeClass(size);
            assertThat(c).as("class of %d", size).isGreaterThanOrEqualTo(size).isLessThan(size + size / 4 + 16);
            assertThat(ThreadRangeCache.sizeClass(c)).as("a class is its own class").isEqualTo(c);
            if (c != previousClass) {
                assertThat(ThreadRangeCache.classIndex(c)).as("index of class %d", c).isEqualTo(previousIndex + 1);
                previousClass = c;
                previousIndex++;
            }
        }
        assertThat(ThreadRangeCache.classIndex(64 * KIB)).isEqualTo(43);
    }

    @Test
    void buffersOfNearbySizesShouldShareACachedRangeOfTheirClass(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            PooledBuffer a = pool.allocate(request(3000));
            assertThat(a.buffer().size()).isEqualTo(3000);
            assertThat(a.slot.rangeSize).as("placed at its class, 3 KiB").isEqualTo(3 * KIB);
            a.release();
            PooledBuffer b = pool.allocate(request(2900));
            assertThat(b.slot).isSameAs(a.slot);
            assertThat(b.buffer().size()).isEqualTo(2900);
            b.release();
            PooledBuffer c = pool.allocate(request(3100));
            assertThat(c.slot).as("3100 B is in the next class").isNotSameAs(a.slot);
            c.release();
        }
    }

    @Test
    void aClosedAllocatorShouldNotStayReachableThroughTheThreadsCache(VulkanContext context) throws Exception {
        try (VulkanMemoryAllocator vma = vma(context)) {
            WeakReference<BlockPoolAllocator> ref = closedAllocatorThatCachedARange(vma, context);
            for (int i = 0; i < 20 && ref.get() != null; i++) {
                System.gc();
                Thread.sleep(10);
            }
            assertThat(ref.get()).as("collected after close, though this thread cached one of its ranges").isNull();
        }
    }

    private static WeakReference<BlockPoolAllocator> closedAllocatorThatCachedARange(VulkanMemoryAllocator vma,
                                                                                    VulkanContext context) {
        BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).arenas(2).build());
        pool.allocate(request(4 * KIB)).release();
        assertThat(pool.statistics(0).cachedRanges()).isEqualTo(1);
        pool.close();
        return new WeakReference<>(pool);
    }

    @Test
    void dedicatedMemoryThatRunsOutShouldTakeBackTheRangesOfThreadsThatEnded(VulkanContext context)
            throws Exception {
        long[] limits = new long[context.memoryProperties().heaps().size()];
        // The first block (128 KiB) and 1088 KiB of dedicated memory do not fit together.
        Arrays.fill(limits, 1150 * KIB);
        try (VulkanMemoryAllocator vma = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context).withHeapSizeLimits(limits));
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).maxEmptyBlocks(0).build())) {
            pool.flushThreadCache();
            Thread worker = new Thread(() -> fillTheFirstBlockAndRelease(pool));
            worker.start();
            worker.join();
            assertThat(pool.deviceMemoryCount()).as("the ended thread's ranges keep the block").isEqualTo(1);
            PooledBuffer big = pool.allocate(request(1088 * KIB));
            assertThat(pool.deviceMemoryCount()).as("the block went back; the dedicated memory fits").isEqualTo(1);
            big.release();
        }
    }

    @Test
    void threadsThatComeAndGoShouldNotGrowThePool(VulkanContext context) throws Exception {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            for (int t = 0; t < 64; t++) {
                Thread worker = new Thread(() -> {
                    List<PooledBuffer> buffers = new ArrayList<>();
                    for (int i = 0; i < 8; i++) {
                        buffers.add(pool.allocate(request(4 * KIB + 64 * i)));
                    }
                    buffers.forEach(PooledBuffer::release);
                });
                worker.start();
                worker.join();
            }
            assertThat(pool.deviceMemoryCount()).as("each new thread took back the ranges of those that ended")
                    .isEqualTo(1);
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB);
        }
    }

    @Test
    void aFixedSizeSuballocatorShouldGetTheExactSizeAndNoThreadCache(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).suballocatorFactory(
                     (offset, size, granularity) -> Suballocators.fixedSize(offset, size, 4000, 256)).build())) {
            PooledBuffer b = pool.allocate(request(4000));
            assertThat(b.slot.rangeSize).isEqualTo(4000);
            b.release();
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            assertThat(pool.statistics(0).usedBytes()).isZero();
        }
    }

    @Test
    void aThreadThatOnlyReleasesShouldGiveItsRangesBackAtItsSweeps(VulkanContext context) throws Exception {
        ExecutorService consumer = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            for (int i = 0; i < ThreadRangeCache.SWEEP_INTERVAL + 4; i++) {
                PooledBuffer b = pool.allocate(request(8 * KIB));
                on(consumer, () -> {
                    b.release();
                    return null;
                });
            }
            // The consumer's cache filled its 16 ranges long ago; the sweep at its 4096th release gave them back,
            // and only that release and the four after it are kept.
            assertThat(pool.statistics(0).cachedRanges()).isEqualTo(5);
        } finally {
            consumer.shutdownNow();
        }
    }

    @Test
    void aNegativeThreadCacheSizeShouldBeRejected() {
        assertThatThrownBy(() -> BlockPoolAllocator.Config.builder().threadCacheBytes(-1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("threadCacheBytes: -1");
    }
}
