package io.github.solvk.memory.pool;

import static io.github.solvk.memory.pool.BlockPoolTesting.KIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.MIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.config;
import static io.github.solvk.memory.pool.BlockPoolTesting.on;
import static io.github.solvk.memory.pool.BlockPoolTesting.releaseOn;
import static io.github.solvk.memory.pool.BlockPoolTesting.request;
import static io.github.solvk.memory.pool.BlockPoolTesting.vma;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanException;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/** {@link BlockPoolAllocator#releaseUnusedMemory()}: what goes back to VMA, what stays, and what a failure leaves. */
@ExtendWith(VulkanExtension.class)
class BlockPoolReleaseUnusedTest {

    @Test
    void everyBlockNoBufferUsesShouldGoBackTheKeptEmptyOneAndCachedRangesIncluded(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            // 64 KiB each (too large to be cached): the 128 KiB and 256 KiB blocks fill, the 512 KiB one holds two.
            List<PooledBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                buffers.add(pool.allocate(request(64 * KIB)));
            }
            // A small buffer released: its range stays in this thread's cache and keeps the 512 KiB block.
            pool.allocate(request(1000)).release();
            buffers.forEach(PooledBuffer::release);
            assertThat(pool.blockSizes(0)).as("the first block emptied is kept, the second freed")
                    .containsExactly(128 * KIB, 512 * KIB);
            assertThat(pool.statistics(0).emptyBlockCount()).isEqualTo(1);
            assertThat(pool.statistics(0).cachedRanges()).isEqualTo(1);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(2);

            assertThat(pool.releaseUnusedMemory()).isEqualTo(640 * KIB);

            assertThat(pool.committedBytes()).isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            assertThat(pool.statistics(0).emptyBlockCount()).isZero();
            assertThat(pool.releaseUnusedMemory()).as("nothing left to give back").isZero();
            pool.checkInvariants();
            // The pool makes blocks again as requests need them.
            PooledBuffer again = pool.allocate(request(64 * KIB));
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            again.release();
        }
    }

    @Test
    void blocksHoldingALiveBufferShouldStayAndTheBufferKeepItsData(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).build())) {
            // The first block (128 KiB) keeps one live buffer; the second (256 KiB) empties and is kept.
            PooledBuffer live = pool.allocate(request(64 * KIB));
            PooledBuffer other = pool.allocate(request(64 * KIB));
            PooledBuffer second = pool.allocate(request(200 * KIB));
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB, 256 * KIB);
            boolean mapped = live.buffer().isHostVisible();
            byte[] data = new byte[4096];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 31 + 7);
            }
            if (mapped) {
                live.buffer().write(0, data);
            }
            other.release();
            second.release();

            assertThat(pool.releaseUnusedMemory()).isEqualTo(256 * KIB);

            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB);
            assertThat(live.isReleased()).isFalse();
            assertThat(pool.statistics(0).allocationCount()).isEqualTo(1);
            if (mapped) {
                byte[] back = new byte[data.length];
                live.buffer().read(0, back);
                assertThat(back).isEqualTo(data);
            }
            live.release();
            pool.checkInvariants();
        }
    }

    @Test
    void rangesOfAThreadThatEndedShouldGoBackAndALiveThreadShouldGiveItsOwnBackAtItsNextCall(VulkanContext context)
            throws Exception {
        Thread[] workerThread = new Thread[1];
        ExecutorService worker = Executors.newSingleThreadExecutor(task -> workerThread[0] = new Thread(task));
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            // A thread that ended left its ranges cached; it holds the only block.
            Thread ended = new Thread(() -> pool.allocate(request(1000)).release());
            ended.start();
            ended.join();
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            assertThat(pool.releaseUnusedMemory()).isEqualTo(128 * KIB);
            assertThat(pool.deviceMemoryCount()).isZero();

            // A thread that is alive keeps its cached ranges until its next call.
            releaseOn(worker, BlockPoolTesting.on(worker, () -> pool.allocate(request(1000))));
            assertThat(pool.statistics(0).cachedRanges()).isEqualTo(1);
            assertThat(pool.releaseUnusedMemory()).as("only the live thread's cache holds the block").isZero();
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            // Its next call, of another size, gives its ranges back first: the block empties and is the one kept.
            BlockPoolTesting.on(worker, () -> {
                pool.allocate(request(3000)).release();
                return null;
            });
            assertThat(pool.statistics(0).cachedRanges()).as("only the new range").isEqualTo(1);
            worker.shutdown();
            workerThread[0].join();
            assertThat(pool.releaseUnusedMemory()).as("the worker ended").isEqualTo(128 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).isZero();
        } finally {
            worker.shutdownNow();
        }
    }

    @Test
    void rangesSentHomeToALiveThreadThatStoppedCallingShouldGoBackNow(VulkanContext context) throws Exception {
        ExecutorService loader = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            // A loader thread makes a level; this thread releases it, so its ranges go home to the loader's inbox
            // (ThreadRangeCache), and the loader, alive, makes no further call.
            List<PooledBuffer> level = BlockPoolTesting.allocateOn(loader, pool, 100, 1000);
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            level.forEach(PooledBuffer::release);
            assertThat(pool.statistics(0).cachedRanges()).as("in this thread's batches and the loader's inbox")
                    .isEqualTo(100);

            assertThat(pool.releaseUnusedMemory()).isEqualTo(128 * KIB);
            assertThat(pool.committedBytes()).isZero();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(pool.statistics(0).cachedRanges()).isZero();

            // The loader's next calls find a cache that holds nothing twice: 100 buffers again, each range once.
            List<PooledBuffer> again = BlockPoolTesting.allocateOn(loader, pool, 100, 1000);
            assertThat(again.stream().map(b -> b.buffer().offset()).distinct()).hasSize(100);
            BlockPoolTesting.releaseOn(loader, again);
            pool.checkInvariants();
        } finally {
            loader.shutdownNow();
        }
    }

    @Test
    void aRequestThatRunsOutOfMemoryShouldGetTheRangesSentHomeToALiveThreadThatStoppedCalling(VulkanContext context)
            throws Exception {
        ExecutorService loader = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context, MIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).build())) {
            // 128 buffers of 1000 bytes (1 KiB ranges) fill the first block, 128 KiB of the heap's 1 MiB.
            List<PooledBuffer> level = BlockPoolTesting.allocateOn(loader, pool, 128, 1000);
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB);
            // Released here: four full batches of 32 go home to the loader's inbox, which takes its whole budget
            // (1/8 of the block size); they keep the block allocated.
            level.forEach(PooledBuffer::release);
            assertThat(pool.statistics(0).cachedRanges()).isEqualTo(128);
            // 960 KiB, dedicated memory (over half a block): it fits only once that block is freed. Giving back after
            // running out of memory takes the loader's inbox, the block empties and goes, and the request succeeds.
            PooledBuffer large = pool.allocate(request(960 * KIB));
            assertThat(large.buffer().size()).isEqualTo(960 * KIB);
            assertThat(pool.blockSizes(0)).as("the level's block freed for it").isEmpty();
            large.release();
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            pool.checkInvariants();
        } finally {
            loader.shutdownNow();
        }
    }

    @Test
    void aFreeThatFailsShouldBeThrownAfterEverythingElseWentBack(VulkanContext context) {
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = twoBlocksOneHeldByCachedRanges(context, vma, frees);
            frees.failNext(1);

            assertThatThrownBy(pool::releaseUnusedMemory).isSameAs(frees.thrown().get(0));

            // The failed free leaves its range placed, so its block stays; the empty block went back all the same.
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(1);
            pool.close();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
        }
    }

    @Test
    void aFreeThatFailsShouldStayTheFailureWhenDestroyingTheEmptyBlockThenThrowsAnError(VulkanContext context) {
        // As above, and destroying the empty block throws an Error (a DeviceMemoryListener's, which VMA lets through
        // once the memory is freed): the free's failure came first and must be thrown, the Error suppressed on it.
        FailingFrees frees = new FailingFrees();
        Error injected = new Error("freed() failed (injected by the test)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = twoBlocksOneHeldByCachedRanges(context, vma, frees);
            frees.failNext(1);
            FailingListeners.failFreedCall(vma, 1, injected);

            Throwable failure = catchThrowable(pool::releaseUnusedMemory);

            assertThat(failure).isSameAs(frees.thrown().get(0));
            assertThat(failure.getSuppressed()).containsExactly(injected);
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            assertThat(pool.blockSizes(0)).as("the empty block went back").containsExactly(128 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(1);
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            assertThat(pool.committedBytes()).isEqualTo(128 * KIB);
            pool.close();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
        }
    }

    @Test
    void anErrorFromDestroyingABlockTheFlushEmptiedShouldNotKeepTheKeptEmptyBlockFromGoingBack(
            VulkanContext context) {
        // A block held only by two cached ranges, and an empty one kept. The flush empties the first, which is not
        // kept (the other is), and destroying it throws an Error: the kept empty block must go back all the same, and
        // the Error be thrown.
        Error injected = new Error("freed() failed (injected by the test)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = twoBlocksOneHeldByCachedRanges(context, vma, null);
            assertThat(pool.statistics(0).emptyBlockCount()).isEqualTo(1);
            FailingListeners.failFreedCall(vma, 1, injected);

            assertThatThrownBy(pool::releaseUnusedMemory).isSameAs(injected);

            assertThat(pool.statistics(0).cachedRanges()).isZero();
            assertThat(pool.blockSizes(0)).as("both blocks went back").isEmpty();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(pool.committedBytes()).isZero();
            pool.checkInvariants();
            pool.close();
        }
    }

    @Test
    void anErrorFromTakingBackAnEndedThreadsRangesShouldNotKeepTheMemoryTypesBlocksFromGoingBack(
            VulkanContext context) throws Exception {
        // A thread that ended left two cached ranges, which alone hold block X (256 KiB); block Y (256 KiB) is empty
        // and kept. Taking the ended thread's ranges back empties X, which is not kept, and destroying it throws an
        // Error: the memory type's own give-back must still run, and Y go back.
        Error injected = new Error("freed() failed (injected by the test)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).build());
            // This thread's cache is made first: a thread's first request takes back the ranges of threads that ended.
            pool.allocate(request(200 * KIB)).release();
            Thread ended = new Thread(() -> {
                PooledBuffer a = pool.allocate(request(1000));
                pool.allocate(request(3000)).release();
                a.release();
            });
            ended.start();
            ended.join();
            // All of a block: no room for it in X, so Y is made, and kept once empty.
            pool.allocate(request(256 * KIB)).release();
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(2);
            FailingListeners.failFreedCall(vma, 1, injected);

            assertThatThrownBy(pool::releaseUnusedMemory).isSameAs(injected);

            assertThat(vma.liveDeviceMemoryCount()).as("both blocks went back").isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(pool.committedBytes()).isZero();
            assertThat(pool.blockSizes(0)).isEmpty();
            pool.checkInvariants();
            pool.close();
        }
    }

    @Test
    void anErrorFromTakingBackOneEndedThreadsRangesShouldNotKeepAnotherEndedThreadsRangesFromGoingBack(
            VulkanContext context) throws Exception {
        // Two threads that ended left a cached range each, which alone holds a block: X1 (256 KiB) and X2 (512 KiB);
        // the pool keeps no empty block (maxEmptyBlocks 0). Taking one ended thread's range back empties its block,
        // and destroying that throws an Error (a DeviceMemoryListener's, which VMA lets through once the memory is
        // freed): the other ended thread's range must still go back, and its block with it, before the Error is
        // thrown.
        Error injected = new Error("freed() failed (injected by the test)");
        Thread[] threads = new Thread[2];
        ExecutorService one = Executors.newSingleThreadExecutor(task -> threads[0] = new Thread(task));
        ExecutorService two = Executors.newSingleThreadExecutor(task -> threads[1] = new Thread(task));
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).maxEmptyBlocks(0)
                    .build());
            // This thread's cache is made first (a thread's first request takes back the ranges of threads that
            // ended); keep fills the first block.
            PooledBuffer keep = pool.allocate(request(128 * KIB));
            PooledBuffer a1 = on(one, () -> pool.allocate(request(1000)));
            PooledBuffer fill = on(one, () -> pool.allocate(request(255 * KIB)));
            PooledBuffer a2 = on(two, () -> pool.allocate(request(1000)));
            releaseOn(one, List.of(a1, fill));
            releaseOn(two, a2);
            one.shutdown();
            two.shutdown();
            threads[0].join();
            threads[1].join();
            // (Not statistics(), which takes back the ended threads' ranges.)
            assertThat(pool.blockSizes(0)).as("X0 (keep), X1 (a1), X2 (a2)")
                    .containsExactly(128 * KIB, 256 * KIB, 512 * KIB);
            FailingListeners.failFreedCall(vma, 1, injected);

            assertThatThrownBy(pool::releaseUnusedMemory).isSameAs(injected);

            assertThat(pool.blockSizes(0)).as("X1 and X2 went back").containsExactly(128 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(1);
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            pool.checkInvariants();
            pool.close();
            assertThat(keep.isReleased()).isTrue();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
        } finally {
            one.shutdownNow();
            two.shutdownNow();
        }
    }

    @Test
    void anErrorFromTakingBackAnEndedThreadsRangesAfterOutOfMemoryShouldNotKeepTheEmptyBlocksFromGoingBack(
            VulkanContext context) throws Exception {
        // As above, but under a 600 KiB heap limit, and no releaseUnusedMemory(): a 300 KiB request finds no room in X
        // or Y and no new block fits the heap (512 and 320 KiB), so the memory type gives back what no buffer uses.
        // Taking the ended thread's ranges back empties X, and destroying it throws an Error: the memory type's own
        // give-back must still run, and Y go back, before the request ends with the Error.
        Error injected = new Error("freed() failed (injected by the test)");
        try (VulkanMemoryAllocator vma = vma(context, 600 * KIB)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).build());
            pool.allocate(request(200 * KIB)).release();
            Thread ended = new Thread(() -> {
                PooledBuffer a = pool.allocate(request(1000));
                pool.allocate(request(3000)).release();
                a.release();
            });
            ended.start();
            ended.join();
            pool.allocate(request(256 * KIB)).release();
            // (Not statistics(), which takes back the ended thread's ranges.)
            assertThat(pool.blockSizes(0)).as("X and Y").containsExactly(256 * KIB, 256 * KIB);
            FailingListeners.failFreedCall(vma, 1, injected);

            assertThatThrownBy(() -> pool.allocate(request(300 * KIB))).isSameAs(injected);
            assertThat(injected.getSuppressed()).as("why the request failed, not lost")
                    .singleElement().satisfies(BlockPoolReleaseUnusedTest::assertOutOfDeviceMemory);

            assertThat(vma.liveDeviceMemoryCount()).as("both blocks went back").isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(pool.committedBytes()).isZero();
            assertThat(pool.blockSizes(0)).isEmpty();
            pool.checkInvariants();
            pool.close();
        }
    }

    @Test
    void anErrorFromGivingBackAfterDedicatedMemoryRanOutShouldEndTheRequestWithTheOutOfMemoryFailureOnIt(
            VulkanContext context) {
        // A block held only by two cached ranges, and an empty one kept, under a 500 KiB heap limit: 200 KiB of
        // dedicated memory does not fit, so the memory type gives back what no buffer uses. The flush empties the first
        // block, which is not kept (the other is), and destroying it throws an Error (a DeviceMemoryListener's, which
        // VMA lets through once the memory is freed): the kept empty block must still go back, and the request end
        // with the Error, why it failed (out of device memory) suppressed on it rather than lost.
        Error injected = new Error("freed() failed (injected by the test)");
        try (VulkanMemoryAllocator vma = vma(context, 500 * KIB)) {
            BlockPoolAllocator pool = twoBlocksOneHeldByCachedRanges(context, vma, null);
            assertThat(pool.statistics(0).emptyBlockCount()).isEqualTo(1);
            FailingListeners.failFreedCall(vma, 1, injected);

            assertThatThrownBy(() -> pool.allocate(request(200 * KIB)
                    .withPreference(AllocatePreference.ALWAYS_ALLOCATE))).isSameAs(injected);

            assertThat(injected.getSuppressed()).singleElement()
                    .satisfies(BlockPoolReleaseUnusedTest::assertOutOfDeviceMemory);
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            assertThat(pool.blockSizes(0)).as("both blocks went back").isEmpty();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            pool.checkInvariants();
            pool.close();
        }
    }

    @Test
    void anErrorFromTakingBackAnEndedThreadsRangesAfterDedicatedMemoryRanOutShouldKeepTheRequestsFailure(
            VulkanContext context) throws Exception {
        // A thread that ended left a cached range, which alone holds a block (maxEmptyBlocks 0), under a 400 KiB heap
        // limit: 200 KiB of dedicated memory does not fit, the memory type has nothing to give back, so the request
        // fails as out of device memory, and then takes back the ranges of threads that ended. That empties the block,
        // and destroying it throws an Error (a DeviceMemoryListener's, which VMA lets through once the memory is
        // freed): the request ends with it, and its own failure must be suppressed on it, not lost.
        Error injected = new Error("freed() failed (injected by the test)");
        try (VulkanMemoryAllocator vma = vma(context, 400 * KIB)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).maxEmptyBlocks(0)
                    .build());
            // This thread's cache is made first (a thread's first request takes back the ranges of threads that
            // ended), with no range in it: 100 KiB is never cached. Its block went back: the next is 256 KiB.
            pool.allocate(request(100 * KIB)).release();
            Thread ended = new Thread(() -> pool.allocate(request(1000)).release());
            ended.start();
            ended.join();
            assertThat(pool.blockSizes(0)).as("the ended thread's range holds it").containsExactly(256 * KIB);
            FailingListeners.failFreedCall(vma, 1, injected);

            assertThatThrownBy(() -> pool.allocate(request(200 * KIB)
                    .withPreference(AllocatePreference.ALWAYS_ALLOCATE))).isSameAs(injected);

            assertThat(injected.getSuppressed()).singleElement().isInstanceOfSatisfying(PoolException.class,
                    e -> assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY));
            assertThat(pool.blockSizes(0)).as("the block went back").isEmpty();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            pool.close();
        }
    }

    private static void assertOutOfDeviceMemory(Throwable e) {
        assertThat(e).isInstanceOfSatisfying(VulkanException.class,
                v -> assertThat(v.resultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY"));
    }

    @Test
    void aClosedAllocatorShouldRefuseAndWithoutThreadCachesBlocksShouldStillGoBack(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).threadCacheBytes(0).build());
            pool.allocate(request(1000)).release();
            assertThat(pool.statistics(0).emptyBlockCount()).isEqualTo(1);
            assertThat(pool.releaseUnusedMemory()).isEqualTo(128 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            pool.close();
            assertThatThrownBy(pool::releaseUnusedMemory).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
        }
    }

    /**
     * @param frees the suballocators' factory, or {@code null} for the default
     * @return a pool of one arena with two blocks: one held by two cached ranges, one empty and kept. (The 200 KiB
     *         buffer is made while no range is cached: a miss that finds no room gives the cached ranges back before
     *         the pool grows.)
     */
    private static BlockPoolAllocator twoBlocksOneHeldByCachedRanges(VulkanContext context, VulkanMemoryAllocator vma,
                                                                     FailingFrees frees) {
        BlockPoolAllocator.Config.Builder config = config(context, MIB).arenas(1);
        BlockPoolAllocator pool = new BlockPoolAllocator(vma, (frees != null ? config.suballocatorFactory(frees)
                : config).build());
        PooledBuffer small = pool.allocate(request(1000));
        PooledBuffer big = pool.allocate(request(200 * KIB));
        small.release();
        pool.allocate(request(3000)).release();
        big.release();
        assertThat(pool.blockSizes(0)).containsExactly(128 * KIB, 256 * KIB);
        assertThat(pool.statistics(0).cachedRanges()).isEqualTo(2);
        return pool;
    }
}
