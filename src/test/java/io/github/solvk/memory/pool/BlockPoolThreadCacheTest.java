package io.github.solvk.memory.pool;

import static io.github.solvk.memory.pool.BlockPoolTesting.ANY;
import static io.github.solvk.memory.pool.BlockPoolTesting.KIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.MIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.on;
import static io.github.solvk.memory.pool.BlockPoolTesting.releaseOn;
import static io.github.solvk.memory.pool.BlockPoolTesting.request;
import static io.github.solvk.memory.pool.BlockPoolTesting.vma;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * with the allocator. Blocks are 1 MiB here unless a test says otherwise, so an arena's first block is 128 KiB and a
 * thread keeps at most 128 KiB (an eighth of a block) in ranges of at most 8 KiB.
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
    void statisticsShouldCountTheCachesHitsMissesAndOverflowsAlsoOfThreadsThatEnded(VulkanContext context)
            throws Exception {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            // The thread's first request makes its bins and is not counted; its release is kept.
            pool.allocate(request(KIB)).release();
            for (int i = 0; i < 10; i++) {
                pool.allocate(request(KIB)).release();
            }
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.cacheHits()).isEqualTo(10);
            assertThat(stats.cacheMisses()).isZero();
            assertThat(stats.cacheOverflows()).isZero();
            assertThat(stats.cacheHitRate()).isEqualTo(1.0);

            // 65 ranges of one size class: the bin keeps 64, the 65th release goes back to its block.
            List<PooledBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < ThreadRangeCache.ENTRIES + 1; i++) {
                buffers.add(pool.allocate(request(512)));
            }
            buffers.forEach(PooledBuffer::release);
            stats = pool.statistics(0);
            assertThat(stats.cacheMisses()).as("a size class the cache never held").isEqualTo(65);
            assertThat(stats.cacheOverflows()).isEqualTo(1);
            assertThat(stats.cachedRanges()).isEqualTo(1 + ThreadRangeCache.ENTRIES);

            ExecutorService other = Executors.newSingleThreadExecutor();
            Thread[] worker = new Thread[1];
            on(other, () -> {
                worker[0] = Thread.currentThread();
                for (int i = 0; i < 4; i++) {
                    pool.allocate(request(2 * KIB)).release();
                }
                return null;
            });
            other.shutdown();
            worker[0].join(10_000);
            assertThat(worker[0].isAlive()).isFalse();
            // The statistics take the ended thread's ranges back and keep its counts.
            stats = pool.statistics(0);
            assertThat(stats.cacheHits()).as("10 here, 3 there").isEqualTo(13);
            assertThat(stats.cachedRanges()).as("the ended thread's range went back").isEqualTo(65);
            assertThat(pool.statistics(0).cacheHits()).isEqualTo(13);
        }
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
    void aThreadCacheAboveAnEighthOfTheBlockShouldBeCutToThatEighthNotRefused(VulkanContext context) {
        // 1 GiB asked, 1 MiB blocks: build() cannot know the block size, so the value is kept and each memory type
        // cuts it to an eighth of its own block, 128 KiB, in ranges of at most 8 KiB (as the Config documents).
        BlockPoolAllocator.Config config = config(context).threadCacheBytes(1L << 30).build();
        assertThat(config.threadCacheBytes()).isEqualTo(1L << 30);
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config)) {
            pool.allocate(request(16 * KIB)).release();
            assertThat(pool.statistics(0).cachedRanges()).as("16 KiB > 128 KiB / 16").isZero();
            List<PooledBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                buffers.add(pool.allocate(request(8 * KIB)));
            }
            buffers.forEach(PooledBuffer::release);
            assertThat(pool.statistics(0).cachedBytes()).isEqualTo(128 * KIB);
        }
    }

    @Test
    void byDefaultAThreadShouldKeep4MiBInRangesOfAtMost64KiBWhateverTheBudget(VulkanContext context) {
        assertThat(BlockPoolAllocator.Config.defaults().threadCacheBytes()).isEqualTo(4 * MIB);
        // 256 MiB blocks and the default budget: 4 MiB, whose sixteenth (256 KiB) is above the 64 KiB cap.
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, BlockPoolTesting.config(context, 256 * MIB)
                     .build())) {
            pool.allocate(request(64 * KIB + 1)).release();
            pool.allocate(request(128 * KIB)).release();
            assertThat(pool.statistics(0).cachedRanges()).as("above 64 KiB: back to the block").isZero();
            // 64 ranges of 64 KiB fill the 4 MiB budget (and the bin); one more range of any size goes back.
            List<PooledBuffer> held = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                held.add(pool.allocate(request(64 * KIB)));
            }
            PooledBuffer more = pool.allocate(request(48 * KIB));
            held.forEach(PooledBuffer::release);
            BlockPoolAllocator.TypeStatistics full = pool.statistics(0);
            assertThat(full.cachedRanges()).isEqualTo(64);
            assertThat(full.cachedBytes()).isEqualTo(4 * MIB);
            more.release();
            BlockPoolAllocator.TypeStatistics after = pool.statistics(0);
            assertThat(after.cachedRanges()).as("the budget is full").isEqualTo(64);
            assertThat(after.usedBytes()).isEqualTo(4 * MIB);
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
    void rangesReleasedByAnotherThreadShouldGoBackToTheThreadThatHandedThemOutWithNoArenaTraffic(
            VulkanContext context) throws Exception {
        ExecutorService first = Executors.newSingleThreadExecutor();
        ExecutorService second = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).arenas(2).build())) {
            int batch = ThreadRangeCache.BATCH;
            List<PooledBuffer> made = on(first, () -> {
                List<PooledBuffer> buffers = new ArrayList<>();
                for (int i = 0; i < batch + 1; i++) {
                    buffers.add(pool.allocate(request(4 * KIB)));
                }
                return buffers;
            });
            Set<RangeSlot> madeSlots = Collections.newSetFromMap(new IdentityHashMap<>());
            made.forEach(b -> madeSlots.add(b.slot));
            // A full batch goes back at once; the last range waits in the second thread's next batch.
            on(second, () -> {
                made.forEach(PooledBuffer::release);
                return null;
            });
            for (int arena = 0; arena < 2; arena++) {
                assertThat(pool.pendingReleases(0, arena)).as("nothing waits for an arena's lock").isZero();
            }
            assertThat(pool.statistics(0).cachedRanges()).as("every range is kept, none freed")
                    .isEqualTo(batch + 1);
            assertThat(pool.statistics(0).allocationCount()).isZero();
            // The last range waits in the second thread's batch for the first until the second gives its ranges
            // back; then to its block, whose arena is the first thread's.
            flushOn(second, pool);
            int firstArena = on(first, () -> pool.homeArena(0));
            assertThat(pool.pendingReleases(0, firstArena)).isEqualTo(1);
            assertThat(pool.statistics(0).cachedRanges()).isEqualTo(batch);
            List<PooledBuffer> again = on(first, () -> {
                List<PooledBuffer> buffers = new ArrayList<>();
                for (int i = 0; i < batch; i++) {
                    buffers.add(pool.allocate(request(4 * KIB)));
                }
                return buffers;
            });
            assertThat(again).allSatisfy(b -> assertThat(madeSlots).contains(b.slot));
            // The first thread's first request found no cache to count in; its next 32 missed, its last 32 did not.
            assertThat(pool.statistics(0).cacheMisses()).as("misses").isEqualTo(batch);
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            again.forEach(PooledBuffer::release);
            flushOn(first, pool);
            assertEverythingBack(pool);
        } finally {
            first.shutdownNow();
            second.shutdownNow();
        }
    }

    @Test
    @SuppressWarnings("deprecation") // Thread.getId(): threadId() is Java 19
    void threadsWhoseIdsShareAFastLookupEntryShouldEachKeepACacheOfTheirOwn(VulkanContext context) throws Exception {
        // The allocator finds a thread's cache by its id modulo 64 before it asks the ThreadLocal: the second thread
        // here lands on the first one's entry while the first is alive, and must not use the first one's cache.
        ExecutorService first = Executors.newSingleThreadExecutor();
        long firstId = on(first, () -> Thread.currentThread().getId());
        ExecutorService second = Executors.newSingleThreadExecutor(task -> {
            Thread t;
            do {
                t = new Thread(task);
            } while ((t.getId() - firstId) % 64 != 0);
            return t;
        });
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            PooledBuffer a = on(first, () -> pool.allocate(request(4 * KIB)));
            releaseOn(first, a);
            PooledBuffer b = on(second, () -> pool.allocate(request(4 * KIB)));
            assertThat(b.slot).as("the first thread's cached range stays its own").isNotSameAs(a.slot);
            releaseOn(second, b);
            PooledBuffer again = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer secondAgain = on(second, () -> pool.allocate(request(4 * KIB)));
            assertThat(again.slot).isSameAs(a.slot);
            assertThat(secondAgain.slot).isSameAs(b.slot);
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            releaseOn(first, again);
            releaseOn(second, secondAgain);
            assertThat(pool.statistics(0).cachedRanges()).isEqualTo(2);
        } finally {
            first.shutdownNow();
            second.shutdownNow();
        }
    }

    @Test
    void aRequestAskedForAgainShouldBePlacedExactlyAsAFreshCopyOfItWouldBe(VulkanContext context) {
        // A thread that asks again with the same request object goes straight to its cache (the allocator recorded
        // the request's size class, alignment and memory type). Two allocators run the same random sequence, one
        // with the same request objects throughout, one with a fresh copy for every call: every buffer must land on
        // the same range of the same block, with as many VkBuffers made, and the counts must agree.
        for (long seed = 1; seed <= 4; seed++) {
            try (VulkanMemoryAllocator vma = vma(context);
                 BlockPoolAllocator reused = new BlockPoolAllocator(vma, config(context).build());
                 BlockPoolAllocator fresh = new BlockPoolAllocator(vma, config(context).build())) {
                List<String> placedReused = runRequests(reused, seed, true);
                List<String> placedFresh = runRequests(fresh, seed, false);
                assertThat(placedReused).as("seed " + seed).isEqualTo(placedFresh);
                BlockPoolAllocator.TypeStatistics a = reused.statistics(0);
                BlockPoolAllocator.TypeStatistics b = fresh.statistics(0);
                assertThat(a.cachedRanges()).isEqualTo(b.cachedRanges());
                assertThat(a.usedBytes()).isEqualTo(b.usedBytes());
                assertThat(a.keptBuffers()).isEqualTo(b.keptBuffers());
                assertThat(reused.pools()[0].keptBuffersMade()).isEqualTo(fresh.pools()[0].keptBuffersMade());
                reused.checkInvariants();
                fresh.checkInvariants();
            }
        }
    }

    @Test
    void fourRequestObjectsTakenInTurnShouldEachBeRecordedAndAFifthReplaceOneOnlyNowAndThen(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            BlockRequest[] four = {request(512), request(KIB), request(2 * KIB), request(4 * KIB)};
            for (int round = 0; round < 3; round++) {
                for (BlockRequest r : four) {
                    pool.allocate(r).release();
                }
            }
            ThreadRangeCache cache = pool.threadCache();
            for (BlockRequest r : four) {
                assertThat(cache.planFor(r)).as("%d bytes recorded", r.size()).isNotNull();
            }
            BlockRequest fifth = request(8 * KIB);
            pool.allocate(fifth).release();
            assertThat(cache.planFor(fifth)).as("all places taken: not recorded at once").isNull();
            for (int i = 0; i < 16; i++) {
                pool.allocate(fifth).release();
            }
            assertThat(cache.planFor(fifth)).as("recorded within 16 calls").isNotNull();
            assertThat(java.util.Arrays.stream(four).filter(r -> cache.planFor(r) != null).count())
                    .as("in place of one of the four").isEqualTo(3);
            pool.flushThreadCache();
            assertThat(cache.planFor(fifth)).as("a flush forgets every recorded request").isNull();
            for (BlockRequest r : four) {
                assertThat(cache.planFor(r)).isNull();
            }
        }
    }

    @Test
    void aMissOfARecordedRequestShouldCountOnceTowardsTheSweep(VulkanContext context) {
        // A cache whose byte budget is full misses every 4 KiB request; 1500 misses of one request object must sweep
        // the bins exactly when 1500 misses of fresh copies do (a recorded request's miss asked the cache twice).
        BlockPoolAllocator.Config small = BlockPoolTesting.config(context, 4 * MIB).arenas(1)
                .threadCacheBytes(128 * KIB).build();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator reused = new BlockPoolAllocator(vma, small);
             BlockPoolAllocator fresh = new BlockPoolAllocator(vma, small)) {
            long cachedFresh = missRepeatedly(fresh, false);
            long cachedReused = missRepeatedly(reused, true);
            assertThat(cachedFresh).as("no sweep yet").isEqualTo(16);
            assertThat(cachedReused).isEqualTo(cachedFresh);
        }
    }

    /** Fills a 128 KiB cache with 16 ranges of 8 KiB, then makes and frees 1500 buffers of 4 KiB that miss it. */
    private static long missRepeatedly(BlockPoolAllocator pool, boolean reuse) {
        List<PooledBuffer> held = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            held.add(pool.allocate(request(8 * KIB)));
        }
        held.forEach(PooledBuffer::release);
        BlockRequest r = request(4 * KIB);
        for (int i = 0; i < 1500; i++) {
            pool.allocate(reuse ? r : request(4 * KIB)).release();
        }
        return pool.statistics(0).cachedRanges();
    }

    @Test
    void aFlushedThreadShouldKeepNeitherTheUsersRequestNorAnUnclosedAllocatorReachable(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context)) {
            // Without an empty block kept, the flush frees everything: dropping the allocator leaks no memory.
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).maxEmptyBlocks(0).build());
            WeakReference<BlockRequest> request = allocateAndFlush(pool);
            WeakReference<BlockPoolAllocator> dropped = new WeakReference<>(pool);
            pool = null;
            for (int i = 0; i < 20 && (request.get() != null || dropped.get() != null); i++) {
                System.gc();
            }
            assertThat(request.get()).as("the recorded request went with the flush").isNull();
            assertThat(dropped.get()).as("an allocator dropped without close() after a flush is collected")
                    .isNull();
        }
    }

    private static WeakReference<BlockRequest> allocateAndFlush(BlockPoolAllocator pool) {
        BlockRequest r = request(4 * KIB);
        pool.allocate(r).release();
        pool.allocate(r).release();
        pool.flushThreadCache();
        assertThat(pool.deviceMemoryCount()).isZero();
        return new WeakReference<>(r);
    }

    @Test
    void aClosedAllocatorShouldListNoThreadsCache(VulkanContext context) throws Exception {
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build());
            pool.allocate(request(4 * KIB)).release();
            assertThat(pool.fastCacheCount()).isEqualTo(1);
            pool.close();
            assertThat(pool.fastCacheCount()).isZero();
            Thread late = new Thread(pool::flushThreadCache);
            late.start();
            late.join();
            assertThat(pool.fastCacheCount()).as("a thread that came after close() is not listed").isZero();
        }
    }

    /**
     * 2000 random allocations and releases of six requests: sub-ranges of 2500 B (size class 2560), 2600 and 3000 B
     * (both 3072) and 4 KiB, buffers of their own of 4 KiB and of 5000 B 256-byte aligned.
     *
     * @return for each allocation, the block (by order of first use), the range's offset, the buffer's size and how
     *         many {@code VkBuffer}s the pool has made to keep so far
     */
    private static List<String> runRequests(BlockPoolAllocator pool, long seed, boolean reuse) {
        BlockRequest[] requests = {request(2500), request(2600), request(3000), request(4 * KIB),
                request(4 * KIB).withBufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER),
                request(5000).withBufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).withAlignment(256)};
        Random random = new Random(seed);
        List<PooledBuffer> live = new ArrayList<>();
        List<PoolBlock> blocks = new ArrayList<>();
        List<String> placed = new ArrayList<>();
        for (int op = 0; op < 2000; op++) {
            if (live.isEmpty() || random.nextInt(100) < 55) {
                BlockRequest r = requests[random.nextInt(requests.length)];
                if (!reuse) {
                    r = new BlockRequest(r.size(), r.usage(), r.filter(), r.preference(), r.alignment(), r.name(),
                            r.bufferMode());
                }
                PooledBuffer b = pool.allocate(r);
                if (!blocks.contains(b.slot.block)) {
                    blocks.add(b.slot.block);
                }
                placed.add(blocks.indexOf(b.slot.block) + "@" + b.slot.offset + "+" + b.buffer().size() + ", made "
                        + pool.pools()[0].keptBuffersMade());
                live.add(b);
            } else {
                live.remove(random.nextInt(live.size())).release();
            }
        }
        live.forEach(PooledBuffer::release);
        return placed;
    }

    @Test
    void aRangeWaitingForItsArenaShouldGoToTheArenaThreadsCacheNotBackToTheSuballocator(VulkanContext context)
            throws Exception {
        ExecutorService first = Executors.newSingleThreadExecutor();
        ExecutorService second = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).arenas(2).build())) {
            int firstArena = on(first, () -> pool.homeArena(0));
            int secondArena = on(second, () -> pool.homeArena(0));
            assertThat(firstArena).isNotEqualTo(secondArena);
            PooledBuffer made = on(first, () -> pool.allocate(request(4 * KIB)));
            on(second, () -> {
                made.release();
                // The range waits in this thread's batch for the first; flushed, it goes to its block, whose arena
                // is the first thread's: it waits on that arena's stack rather than this thread taking the lock.
                pool.flushThreadCache();
                return null;
            });
            assertThat(pool.pendingReleases(0, firstArena)).isEqualTo(1);

            PooledBuffer again = on(first, () -> pool.allocate(request(4 * KIB)));
            assertThat(again.slot).as("the same range, never freed in between").isSameAs(made.slot);
            assertThat(pool.pendingReleases(0, firstArena)).isZero();
            on(first, () -> {
                again.release();
                pool.flushThreadCache();
                return null;
            });
            pool.checkInvariants();
            assertThat(pool.statistics(0).allocationCount()).isZero();
        } finally {
            first.shutdownNow();
            second.shutdownNow();
        }
    }

    /**
     * Gives the executor's thread's cached ranges back to their blocks, on that thread; makes its cache first when it
     * has none ({@code flushThreadCache()} makes none), as its first request would.
     */
    private static void flushOn(ExecutorService thread, BlockPoolAllocator pool) throws Exception {
        on(thread, () -> {
            pool.threadCache();
            pool.flushThreadCache();
            return null;
        });
    }

    /** Every range is back in its block: the invariants hold, and no buffer and no cached range is left. */
    private static void assertEverythingBack(BlockPoolAllocator pool) {
        pool.checkInvariants();
        assertThat(pool.statistics(0).allocationCount()).isZero();
        assertThat(pool.statistics(0).cachedRanges()).isZero();
    }

    /** Makes {@code count} buffers of 4 KiB on the executor's thread. */
    private static List<PooledBuffer> makeOn(ExecutorService thread, BlockPoolAllocator pool, int count)
            throws Exception {
        return makeOn(thread, pool, count, 4 * KIB);
    }

    /** Makes {@code count} buffers of {@code size} bytes on the executor's thread. */
    private static List<PooledBuffer> makeOn(ExecutorService thread, BlockPoolAllocator pool, int count, long size)
            throws Exception {
        return on(thread, () -> {
            List<PooledBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                buffers.add(pool.allocate(request(size)));
            }
            return buffers;
        });
    }

    private static Set<RangeSlot> slotsOf(List<PooledBuffer> buffers) {
        Set<RangeSlot> slots = Collections.newSetFromMap(new IdentityHashMap<>());
        buffers.forEach(b -> slots.add(b.slot));
        return slots;
    }

    @Test
    void rangesSentBackToAThreadThatEndedShouldStayWithTheReleasingThreadAndNoneBeLost(VulkanContext context)
            throws Exception {
        ExecutorService second = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            int batch = ThreadRangeCache.BATCH;
            // The second thread's cache is made first: a thread's first call takes back the ranges of threads that
            // ended, which would close the first thread's inbox before the second sends it anything.
            flushOn(second, pool);
            List<PooledBuffer> made = new ArrayList<>();
            Thread first = new Thread(() -> {
                for (int i = 0; i < 2 * batch; i++) {
                    made.add(pool.allocate(request(4 * KIB)));
                }
            });
            first.start();
            first.join();
            assertThat(made).hasSize(2 * batch);
            // One batch reaches the ended thread's inbox before anyone knows that it ended.
            on(second, () -> {
                made.subList(0, batch).forEach(PooledBuffer::release);
                return null;
            });
            // Statistics take the ended thread's ranges back, its inbox's too, and close the inbox.
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.cachedRanges()).isZero();
            assertThat(stats.allocationCount()).isEqualTo(batch);
            // The next batch is refused: the releasing thread keeps it, and hands it out itself.
            List<PooledBuffer> again = on(second, () -> {
                made.subList(batch, 2 * batch).forEach(PooledBuffer::release);
                List<PooledBuffer> buffers = new ArrayList<>();
                for (int i = 0; i < batch; i++) {
                    buffers.add(pool.allocate(request(4 * KIB)));
                }
                return buffers;
            });
            assertThat(slotsOf(again)).isEqualTo(slotsOf(made.subList(batch, 2 * batch)));
            on(second, () -> {
                again.forEach(PooledBuffer::release);
                pool.flushThreadCache();
                return null;
            });
            assertEverythingBack(pool);
            assertThat(pool.statistics(0).usedBytes()).isZero();
        } finally {
            second.shutdownNow();
        }
    }

    @Test
    void aBatchThatWouldTakeAnInboxOverItsCacheBudgetShouldStayWithTheReleasingThread(VulkanContext context)
            throws Exception {
        ExecutorService first = Executors.newSingleThreadExecutor();
        ExecutorService second = Executors.newSingleThreadExecutor();
        // 256 KiB of cache per thread (blocks of 4 MiB: a cache is at most an eighth of one): a batch of 32 ranges of
        // 4 KiB is 128 KiB, so the third batch is refused.
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma,
                     BlockPoolTesting.config(context, 4 * MIB).arenas(1).threadCacheBytes(256 * KIB).build())) {
            int batch = ThreadRangeCache.BATCH;
            List<PooledBuffer> made = makeOn(first, pool, 3 * batch);
            PooledBuffer taken = on(second, () -> {
                made.forEach(PooledBuffer::release);
                // Every range is still kept: two batches in the first thread's inbox, one refused here.
                assertThat(pool.statistics(0).cachedRanges()).isEqualTo(3 * batch);
                // The refused batch goes into this thread's bins (32 ranges of 4 KiB fit in 256 KiB) at its next
                // call, which takes one of them.
                return pool.allocate(request(4 * KIB));
            });
            assertThat(slotsOf(made.subList(2 * batch, 3 * batch))).contains(taken.slot);
            List<PooledBuffer> again = makeOn(first, pool, 2 * batch);
            assertThat(slotsOf(again)).isEqualTo(slotsOf(made.subList(0, 2 * batch)));
            on(second, () -> {
                taken.release();
                again.forEach(PooledBuffer::release);
                pool.flushThreadCache();
                return null;
            });
            flushOn(first, pool);
            assertEverythingBack(pool);
        } finally {
            first.shutdownNow();
            second.shutdownNow();
        }
    }

    @Test
    void batchesBeingFilledShouldHoldAtMostTheReleasingThreadsBudgetAndGoHomeWhenTheyWouldHoldMore(
            VulkanContext context) throws Exception {
        ExecutorService first = Executors.newSingleThreadExecutor();
        ExecutorService second = Executors.newSingleThreadExecutor();
        // A thread keeps 128 KiB here, in ranges of at most 8 KiB: 16 of those are the whole budget, and a full batch
        // of 32 would be twice what an inbox takes.
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            long largest = 8 * KIB;
            int fit = (int) (128 * KIB / largest);
            List<PooledBuffer> made = makeOn(first, pool, fit + 4, largest);
            long missesBefore = pool.statistics(0).cacheMisses();
            long outgoing = on(second, () -> {
                made.forEach(PooledBuffer::release);
                return pool.threadCache().outgoingBytes(0);
            });
            // The 17th range would have taken the batch over the second thread's budget: the first 16 went home
            // then, and the last 4 wait in the next batch. All are kept.
            assertThat(outgoing).isEqualTo(4 * largest);
            assertThat(pool.statistics(0).cachedRanges()).isEqualTo(fit + 4);
            assertThat(pool.statistics(0).cachedBytes()).isEqualTo((fit + 4) * largest);
            List<PooledBuffer> again = makeOn(first, pool, fit, largest);
            assertThat(slotsOf(again)).as("the first thread's next 16 requests take the 16 sent home")
                    .isEqualTo(slotsOf(made.subList(0, fit)));
            assertThat(pool.statistics(0).cacheMisses()).isEqualTo(missesBefore);
            assertThat(pool.statistics(0).cachedRanges()).as("the last 4, still in the second thread's batch")
                    .isEqualTo(4);
            on(first, () -> {
                again.forEach(PooledBuffer::release);
                pool.flushThreadCache();
                return null;
            });
            flushOn(second, pool);
            assertEverythingBack(pool);
        } finally {
            first.shutdownNow();
            second.shutdownNow();
        }
    }

    @Test
    void theLargestBatchShouldGoHomeFirstWhenTheBatchesTogetherWouldPassTheBudget(VulkanContext context)
            throws Exception {
        ExecutorService first = Executors.newSingleThreadExecutor();
        ExecutorService second = Executors.newSingleThreadExecutor();
        ExecutorService third = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            long largest = 8 * KIB;
            List<PooledBuffer> ofFirst = makeOn(first, pool, 4, largest);
            List<PooledBuffer> ofThird = makeOn(third, pool, 13, largest);
            // 4 ranges for the first and 12 for the third fill the second thread's 128 KiB; the third's 13th would
            // pass it, so the larger batch, the third's 12, goes home, and the first's 4 wait with the 13th.
            long outgoing = on(second, () -> {
                ofFirst.forEach(PooledBuffer::release);
                ofThird.forEach(PooledBuffer::release);
                return pool.threadCache().outgoingBytes(0);
            });
            assertThat(outgoing).isEqualTo(5 * largest);
            long misses = pool.statistics(0).cacheMisses();
            List<PooledBuffer> thirdAgain = makeOn(third, pool, 12, largest);
            assertThat(slotsOf(thirdAgain)).isEqualTo(slotsOf(ofThird.subList(0, 12)));
            assertThat(pool.statistics(0).cacheMisses()).as("the third found all 12 at home").isEqualTo(misses);
            List<PooledBuffer> firstAgain = makeOn(first, pool, 4, largest);
            assertThat(slotsOf(firstAgain)).doesNotContainAnyElementsOf(slotsOf(ofFirst));
            assertThat(pool.statistics(0).cacheMisses()).as("the first's 4 are still on their way")
                    .isEqualTo(misses + 4);
            releaseOn(first, firstAgain);
            releaseOn(third, thirdAgain);
            flushOn(first, pool);
            flushOn(second, pool);
            flushOn(third, pool);
            assertEverythingBack(pool);
        } finally {
            first.shutdownNow();
            second.shutdownNow();
            third.shutdownNow();
        }
    }

    @Test
    void aRangeShouldNotJoinABatchWhenTheRefusedBatchesHoldTheWholeBudget(VulkanContext context) throws Exception {
        ExecutorService first = Executors.newSingleThreadExecutor();
        ExecutorService second = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            long largest = 8 * KIB;
            List<PooledBuffer> made = makeOn(first, pool, 33, largest);
            // The first 16 fill the first thread's inbox; the next 16 are refused there (it holds its owner's whole
            // budget) and wait for the second thread's next call; the 33rd then finds no room in the second
            // thread's batches and goes into its own bins.
            long outgoing = on(second, () -> {
                made.forEach(PooledBuffer::release);
                return pool.threadCache().outgoingBytes(0);
            });
            assertThat(outgoing).isEqualTo(16 * largest);
            assertThat(pool.statistics(0).cachedRanges()).as("none lost").isEqualTo(33);
            // At its next call the second thread keeps the refused ranges in its bins while they have room: 15
            // beside the 33rd; the 16th goes back to its block. The call takes one of them.
            PooledBuffer taken = on(second, () -> pool.allocate(request(largest)));
            assertThat(slotsOf(made.subList(16, 33))).contains(taken.slot);
            assertThat(pool.statistics(0).cachedRanges()).isEqualTo(16 + 15);
            releaseOn(second, taken);
            flushOn(first, pool);
            flushOn(second, pool);
            assertEverythingBack(pool);
        } finally {
            first.shutdownNow();
            second.shutdownNow();
        }
    }

    @Test
    void closeShouldFreeRangesWaitingInBatchesAndInboxesAndCountThemAsNoLiveBuffer(VulkanContext context)
            throws Exception {
        ExecutorService first = Executors.newSingleThreadExecutor();
        ExecutorService second = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build());
            int batch = ThreadRangeCache.BATCH;
            List<PooledBuffer> made = makeOn(first, pool, batch + 2);
            on(second, () -> {
                // A full batch in the first thread's inbox, two ranges in this thread's batch, one buffer open.
                made.subList(0, batch + 1).forEach(PooledBuffer::release);
                return null;
            });
            pool.close();
            assertThat(pool.liveBuffersAtClose()).isEqualTo(1);
            assertThat(made.get(batch + 1).isReleased()).isTrue();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
            // A buffer released after close, on either thread, changes nothing.
            on(second, () -> {
                made.get(batch + 1).release();
                return null;
            });
            assertThat(vma.statistics().total().allocationCount()).isZero();
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
    void anEndedThreadsRangesShouldAllGoBackWhenSomeFailToGoBack(VulkanContext context) throws Exception {
        // Nobody gives an ended thread's ranges back after the thread that finds it ended, so a failure there (a
        // suballocator whose free throws) must not leave the others in the dropped cache, placed until close().
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).suballocatorFactory(frees)
                     .build())) {
            // This thread's cache made first: a thread's first call takes back the caches of threads that ended.
            pool.flushThreadCache();
            Thread worker = new Thread(() -> {
                List<PooledBuffer> buffers = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    buffers.add(pool.allocate(request(4 * KIB)));
                    buffers.add(pool.allocate(request(8 * KIB)));
                }
                buffers.forEach(PooledBuffer::release);
            });
            worker.start();
            worker.join();
            frees.failNext(2);
            Throwable failure = catchThrowable(() -> pool.statistics(0));
            assertThat(frees.thrown()).hasSize(2);
            assertThat(failure).as("the first failure").isSameAs(frees.thrown().get(0));
            assertThat(failure.getSuppressed()).containsExactly(frees.thrown().get(1));
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.cachedRanges()).isZero();
            // The ranges go back smallest class first: the two 4 KiB ranges whose frees failed stay placed.
            assertThat(stats.usedBytes()).as("every other range went back").isEqualTo(2 * 4 * KIB);
        }
    }

    @Test
    void anEndedThreadsRangesShouldAllGoBackPastAnErrorFromDestroyingABlockTheyEmptied(VulkanContext context)
            throws Exception {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).maxEmptyBlocks(0).build())) {
            // This thread's cache made first: a thread's first call takes back the caches of threads that ended.
            pool.flushThreadCache();
            Thread worker = new Thread(() -> {
                // 32 ranges of 4 KiB fill the first block (128 KiB), 8 more go to the second.
                List<PooledBuffer> buffers = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    buffers.add(pool.allocate(request(4 * KIB)));
                }
                // The cache keeps 32 (its budget, 1/8 of the block size): the second block's 8, then 24 of the
                // first's; the first block's other 8 go back to it, which the cached ranges keep from emptying.
                buffers.subList(32, 40).forEach(PooledBuffer::release);
                buffers.subList(0, 32).forEach(PooledBuffer::release);
            });
            worker.start();
            worker.join();
            assertThat(pool.deviceMemoryCount()).isEqualTo(2);
            // The ranges go back last released first: the first block empties first, and its destroy throws.
            AssertionError error = new AssertionError("listener");
            FailingListeners.failFreedCall(vma, 1, error);
            Throwable failure = catchThrowable(() -> pool.statistics(0));
            assertThat(failure).isSameAs(error);
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.cachedRanges()).isZero();
            assertThat(pool.deviceMemoryCount()).as("the second block's ranges went back past the Error").isZero();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
        }
    }

    @Test
    void anErrorFromAnEndedThreadsInboxShouldNotLoseTheRangesInItsBins(VulkanContext context) throws Exception {
        Error injected = new Error("freed() failed (injected by the test)");
        Thread[] threads = new Thread[1];
        ExecutorService one = Executors.newSingleThreadExecutor(task -> threads[0] = new Thread(task));
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).maxEmptyBlocks(0).build());
            PooledBuffer keep = pool.allocate(request(128 * KIB));
            // The ended thread's bin holds r (alone in the 256 KiB block); 32 buffers it made, alone in the 512 KiB
            // block, are released here and go home to its inbox as one full batch.
            List<PooledBuffer> sent = on(one, () -> {
                PooledBuffer r = pool.allocate(request(1000));
                PooledBuffer fill = pool.allocate(request(255 * KIB));
                List<PooledBuffer> made = new ArrayList<>();
                for (int i = 0; i < ThreadRangeCache.BATCH; i++) {
                    made.add(pool.allocate(request(1000)));
                }
                r.release();
                fill.release();
                return made;
            });
            sent.forEach(PooledBuffer::release);
            one.shutdown();
            threads[0].join();
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB, 256 * KIB, 512 * KIB);
            // Retiring the cache gives the inbox back first: the 512 KiB block empties, and its destroy throws.
            FailingListeners.failFreedCall(vma, 1, injected);

            assertThatThrownBy(pool::releaseUnusedMemory).isSameAs(injected);

            BlockPoolAllocator.TypeStatistics after = pool.statistics(0);
            assertThat(after.allocationCount()).as("only keep is live: r went back past the Error").isEqualTo(1);
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB);
            pool.close();
            assertThat(keep.isReleased()).isTrue();
        } finally {
            one.shutdownNow();
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
    void ownBuffersShouldGetTheirCachedRangeBackWithItsVkBufferWhenSizeAndUsageMatch(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma,
                     config(context).bufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).build())) {
            TypeBlockPool type = pool.pools()[0];
            PooledBuffer a = pool.allocate(request(4 * KIB));
            a.buffer().write(0, new int[] {1, 2, 3, 4});
            long offset = a.slot.offset;
            long vkBuffer = a.buffer().buffer();
            assertThat(pool.statistics(0).keptBuffers()).isEqualTo(1);
            a.release();
            assertThat(a.buffer().isClosed()).isTrue();
            assertThat(pool.statistics(0).keptBuffers()).as("kept with its cached range").isEqualTo(1);

            PooledBuffer b = pool.allocate(request(4 * KIB));
            assertThat(b.slot.offset).isEqualTo(offset);
            assertThat(b.buffer().buffer()).as("the same VkBuffer again").isEqualTo(vkBuffer);
            assertThat(type.keptBuffersMade()).as("no VkBuffer made for it").isEqualTo(1);
            assertThat(b.buffer().size()).isEqualTo(4 * KIB);
            assertThat(b.buffer().offset()).isZero();
            int[] read = new int[4];
            b.buffer().read(0, read);
            assertThat(read).containsExactly(1, 2, 3, 4);
            b.release();

            // Same size class, another size: a new VkBuffer of that size, the old one destroyed.
            PooledBuffer c = pool.allocate(request(4 * KIB - 256));
            assertThat(c.slot.offset).isEqualTo(offset);
            assertThat(c.buffer().size()).isEqualTo(4 * KIB - 256);
            assertThat(type.keptBuffersMade()).isEqualTo(2);
            assertThat(pool.statistics(0).keptBuffers()).isEqualTo(1);
            c.release();

            // Another usage: a new VkBuffer too.
            PooledBuffer d = pool.allocate(new BlockRequest(4 * KIB - 256, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, ANY,
                    AllocatePreference.UNKNOWN, 0, null, null));
            assertThat(d.slot.offset).isEqualTo(offset);
            assertThat(d.buffer().usage()).isEqualTo(VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
            assertThat(type.keptBuffersMade()).isEqualTo(3);
            d.release();

            // Sub-ranges may reuse a range made for a buffer of its own: its VkBuffer goes, the block-wide one is
            // made.
            PooledBuffer e = pool.allocate(request(4 * KIB).withBufferMode(BlockPoolAllocator.BufferMode.SUB_RANGE));
            assertThat(e.slot.offset).isEqualTo(offset);
            assertThat(e.buffer().buffer()).isEqualTo(e.slot.block.blockBuffer.buffer());
            assertThat(pool.statistics(0).keptBuffers()).isZero();
            e.buffer().read(0, read);
            assertThat(read).containsExactly(1, 2, 3, 4);
            e.release();
            pool.checkInvariants();
        }
    }

    @Test
    void keptVkBuffersShouldBeDestroyedWhenTheirRangesLeaveTheCacheAndAtClose(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma,
                    config(context).bufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).build());
            List<PooledBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                buffers.add(pool.allocate(request(KIB + i * 64)));
            }
            assertThat(pool.statistics(0).keptBuffers()).isEqualTo(8);
            buffers.forEach(PooledBuffer::release);
            assertThat(pool.statistics(0).keptBuffers()).isEqualTo(8);
            pool.flushThreadCache();
            assertThat(pool.statistics(0).keptBuffers()).as("back to their blocks without VkBuffers").isZero();
            assertThat(pool.statistics(0).cachedRanges()).isZero();

            // Kept by cached ranges and by an open buffer when the pool closes: all destroyed (the validation layer
            // reports any VkBuffer left when the device goes).
            PooledBuffer open = pool.allocate(request(2 * KIB));
            pool.allocate(request(3 * KIB)).release();
            assertThat(pool.statistics(0).keptBuffers()).isEqualTo(2);
            pool.close();
            assertThat(open.isReleased()).isTrue();
            assertThat(pool.pools()[0].statistics().keptBuffers()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
        }
    }

    @Test
    void recycledVkBuffersShouldNeverBeHeldByTwoOpenBuffersAcrossThreads(VulkanContext context) throws Exception {
        int threads = 4;
        int opsPerThread = 3000;
        long[] sizes = {KIB, 4 * KIB, 4 * KIB - 512, 16 * KIB};
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma,
                    config(context).bufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).arenas(2).build());
            List<ConcurrentLinkedQueue<PooledBuffer>> handoff = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                handoff.add(new ConcurrentLinkedQueue<>());
            }
            // Every open buffer's VkBuffer, to catch one handed out twice at once.
            Set<Long> openVkBuffers = ConcurrentHashMap.newKeySet();
            AtomicInteger allocations = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread worker = new Thread(() -> {
                    try {
                        Random random = new Random(77 + id);
                        List<PooledBuffer> mine = new ArrayList<>();
                        for (int op = 0; op < opsPerThread; op++) {
                            PooledBuffer given;
                            while ((given = handoff.get(id).poll()) != null) {
                                checkAndRelease(given, openVkBuffers);
                            }
                            if (mine.size() < 8 || (mine.size() < 64 && random.nextBoolean())) {
                                int usage = random.nextInt(4) == 0 ? VK_BUFFER_USAGE_TRANSFER_SRC_BIT
                                        : BlockPoolTesting.USAGE;
                                PooledBuffer b = pool.allocate(new BlockRequest(sizes[random.nextInt(sizes.length)],
                                        usage, ANY, AllocatePreference.UNKNOWN, 0, null, null));
                                allocations.incrementAndGet();
                                assertThat(openVkBuffers.add(b.buffer().buffer())).as("VkBuffer held twice").isTrue();
                                assertThat(b.buffer().usage()).isEqualTo(usage);
                                long h = b.buffer().buffer();
                                b.buffer().write(0, new int[] {(int) h, (int) (h >>> 32)});
                                mine.add(b);
                            } else {
                                PooledBuffer victim = mine.remove(random.nextInt(mine.size()));
                                if (random.nextInt(3) == 0) {
                                    handoff.get((id + 1) % threads).add(victim);
                                } else {
                                    checkAndRelease(victim, openVkBuffers);
                                }
                            }
                        }
                        mine.forEach(b -> checkAndRelease(b, openVkBuffers));
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "recycling worker " + t);
                workers.add(worker);
                worker.start();
            }
            for (Thread worker : workers) {
                worker.join(TimeUnit.SECONDS.toMillis(120));
                assertThat(worker.isAlive()).isFalse();
            }
            assertThat(failure.get()).isNull();
            handoff.forEach(q -> q.forEach(b -> checkAndRelease(b, openVkBuffers)));
            pool.flushThreadCache();
            assertThat(openVkBuffers).isEmpty();
            TypeBlockPool type = pool.pools()[0];
            assertThat(type.keptBuffersMade()).as("most buffers got a kept VkBuffer again")
                    .isLessThan(allocations.get() / 2);
            // The workers ended: statistics take their ranges back, and the VkBuffers those kept are destroyed (this
            // thread's went back with flushThreadCache).
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.allocationCount()).isZero();
            assertThat(stats.cachedRanges()).isZero();
            assertThat(stats.keptBuffers()).isZero();
            pool.checkInvariants();
            pool.close();
            assertThat(vma.statistics().total().allocationCount()).isZero();
        }
    }

    /** Checks that the buffer's memory still holds its VkBuffer's handle (no other buffer wrote there), releases it. */
    private static void checkAndRelease(PooledBuffer buffer, Set<Long> openVkBuffers) {
        long vkBuffer = buffer.buffer().buffer();
        int[] stamp = new int[2];
        buffer.buffer().read(0, stamp);
        assertThat((stamp[0] & 0xFFFFFFFFL) | (long) stamp[1] << 32).as("stamp").isEqualTo(vkBuffer);
        assertThat(openVkBuffers.remove(vkBuffer)).isTrue();
        buffer.release();
    }

    /**
     * The shared context outlives the test, so a {@code VkBuffer} left undestroyed would only be reported when the
     * whole run ends: this test makes a device of its own, with validation, and destroys it.
     */
    @Test
    void everyVkBufferMadeForABufferShouldBeDestroyedByItsReleaseOrClose() throws Exception {
        VulkanContext own = VulkanContext.builder().validation(true)
                .applicationName("everyVkBufferMadeForABufferShouldBeDestroyed").build();
        try {
            for (boolean recycle : new boolean[] {false, true}) {
                try (VulkanMemoryAllocator vma = vma(own);
                     BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(own)
                             .bufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).recycleBuffers(recycle).build())) {
                    for (int i = 0; i < 8; i++) {
                        // Sizes the range has not held before: each gets a VkBuffer made for it.
                        pool.allocate(request(4 * KIB + i * 256)).release();
                    }
                    ExecutorService other = Executors.newSingleThreadExecutor();
                    try {
                        releaseOn(other, pool.allocate(request(3 * KIB)));
                    } finally {
                        other.shutdown();
                    }
                    // Left open: close() releases it.
                    pool.allocate(request(5 * KIB));
                }
            }
        } finally {
            own.close();
        }
        assertThat(own.validationErrors()).as("validation errors, such as a VkBuffer left at vkDestroyDevice")
                .isEmpty();
    }

    @Test
    void withoutRecyclingEveryOwnBufferShouldGetANewVkBufferAndNoneShouldBeKept(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context)
                     .bufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).recycleBuffers(false).build())) {
            PooledBuffer a = pool.allocate(request(4 * KIB));
            long offset = a.slot.offset;
            assertThat(a.buffer().ownsBuffer()).as("destroyed with the view").isTrue();
            a.release();
            PooledBuffer b = pool.allocate(request(4 * KIB));
            assertThat(b.slot.offset).as("the range is still cached").isEqualTo(offset);
            assertThat(b.buffer().ownsBuffer()).isTrue();
            assertThat(pool.pools()[0].keptBuffersMade()).isZero();
            assertThat(pool.statistics(0).keptBuffers()).isZero();
            b.release();
            pool.checkInvariants();
        }
    }

    @Test
    void sizeClassesShouldPadAtMostAQuarterAndNumberTheBinsWithoutGapsBothWays() {
        long previousClass = 0;
        int previousIndex = -1;
        for (long size = 1; size <= 1 << 20; size++) {
            long c = ThreadRangeCache.sizeClass(size);
            assertThat(c).as("class of %d", size).isGreaterThanOrEqualTo(size).isLessThan(size + size / 4 + 16);
            assertThat(ThreadRangeCache.sizeClass(c)).as("a class is its own class").isEqualTo(c);
            if (c != previousClass) {
                assertThat(ThreadRangeCache.classIndex(c)).as("index of class %d", c).isEqualTo(previousIndex + 1);
                assertThat(ThreadRangeCache.classSizeOf(previousIndex + 1)).as("class of index %d", previousIndex + 1)
                        .isEqualTo(c);
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
        // The first block (128 KiB) and 1088 KiB of dedicated memory do not fit together.
        try (VulkanMemoryAllocator vma = vma(context, 1150 * KIB);
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
    void aThreadThatOnlyReleasesShouldSendTheRangesHomeAndKeepOnlyWhatItReleasedSinceItsSweep(VulkanContext context)
            throws Exception {
        ExecutorService consumer = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            int requests = ThreadRangeCache.SWEEP_INTERVAL + 4;
            // Ranges of 8 KiB, the largest a thread keeps here: 16 fill the consumer's budget of 128 KiB.
            int fit = 16;
            for (int i = 0; i < requests; i++) {
                PooledBuffer b = pool.allocate(request(8 * KIB));
                releaseOn(consumer, b);
            }
            // The consumer sends the ranges home 16 at a time (a batch of 32 would be over its budget, and over the
            // producer's inbox's): the producer missed its first 16 requests only (its very first found no cache to
            // count in). Fails when batches being filled may pass the budget: they are refused then, and the
            // producer misses every request.
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.cacheMisses()).isEqualTo(fit);
            assertThat(stats.cacheHits()).isEqualTo(requests - 1 - fit);
            // What the producer keeps is for its own next requests. The consumer's sweep at its 4096th release sent
            // its batch home, so it holds only that release's range and the four after it.
            pool.flushThreadCache();
            assertThat(pool.statistics(0).cachedRanges()).isEqualTo(5);
            flushOn(consumer, pool);
            assertEverythingBack(pool);
        } finally {
            consumer.shutdownNow();
        }
    }

    @Test
    void aNegativeThreadCacheSizeShouldBeRejected() {
        assertThatThrownBy(() -> BlockPoolAllocator.Config.builder().threadCacheBytes(-1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("threadCacheBytes: -1");
    }
    @Test
    void aSizeTheDriverRefusesShouldNotEmptyOtherThreadsCaches(VulkanContext context) throws Exception {
        // No flush can make room for a VkBuffer the driver refuses outright (4 GiB on lavapipe): the failure must not
        // ask the other threads for their ranges, as a heap that is only full does.
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).build())) {
            ExecutorService other = Executors.newSingleThreadExecutor();
            try {
                on(other, () -> {
                    pool.allocate(request(4 * KIB)).release();
                    return null;
                });
                long hits = pool.statistics(0).cacheHits();
                assertThatThrownBy(() -> pool.allocate(request(1L << 40))).isInstanceOfSatisfying(PoolException.class,
                        e -> assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY));
                on(other, () -> {
                    pool.allocate(request(4 * KIB)).release();
                    return null;
                });
                assertThat(pool.statistics(0).cacheHits()).as("the other thread's range stayed in its cache")
                        .isEqualTo(hits + 1);
            } finally {
                other.shutdown();
            }
        }
    }

    @Test
    void aReleaseWhoseCacheFlushThrowsAnErrorShouldStillGiveItsRangeBack(VulkanContext context) throws Exception {
        // Block X1 is held only by r1, which this thread's cache keeps; block X2 only by b, live; the pool keeps no
        // empty block (maxEmptyBlocks 0). Another thread asks this one to give its ranges back at its next call. That
        // call is b's release: the flush empties X1, and destroying X1 throws an Error (a DeviceMemoryListener's,
        // which VMA lets through once the memory is freed). b's range must still go back, and X2 with it, not stay
        // placed for a buffer no one holds, before the Error is thrown.
        Error injected = new Error("freed() failed (injected by the test, X1)");
        ExecutorService other = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context).maxEmptyBlocks(0).build());
            PooledBuffer r1 = pool.allocate(request(1000));
            PooledBuffer fill = pool.allocate(request(127 * KIB));
            PooledBuffer b = pool.allocate(request(1000));
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB, 256 * KIB);
            r1.release();
            fill.release();
            assertThat(pool.blockSizes(0)).as("X1 held by r1, cached").containsExactly(128 * KIB, 256 * KIB);
            on(other, pool::releaseUnusedMemory);
            FailingListeners.failFreedCall(vma, 1, injected);

            assertThatThrownBy(b::release).isSameAs(injected);

            assertThat(pool.blockSizes(0)).as("X1 and X2 went back").isEmpty();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            BlockPoolAllocator.TypeStatistics after = pool.statistics(0);
            assertThat(after.cachedRanges()).isZero();
            assertThat(after.allocationCount()).isZero();
            pool.checkInvariants();
            pool.close();
            assertThat(pool.liveBuffersAtClose()).isZero();
        } finally {
            other.shutdownNow();
        }
    }
}
