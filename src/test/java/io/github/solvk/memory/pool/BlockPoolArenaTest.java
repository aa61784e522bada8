package io.github.solvk.memory.pool;

import static io.github.solvk.memory.pool.BlockPoolTesting.KIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.MIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.on;
import static io.github.solvk.memory.pool.BlockPoolTesting.releaseOn;
import static io.github.solvk.memory.pool.BlockPoolTesting.request;
import static io.github.solvk.memory.pool.BlockPoolTesting.vma;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanException;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * The arenas of {@link BlockPoolAllocator}: threads with different home arenas use different blocks, remote releases
 * wait on the arena's stack until it is next locked, empty blocks move to an arena that must grow, and an arena that
 * cannot grow borrows another's room. Two single-thread executors stand for two threads whose home arenas differ.
 */
@ExtendWith(VulkanExtension.class)
class BlockPoolArenaTest {


    private ExecutorService first;
    private ExecutorService second;

    @BeforeEach
    void twoThreadsWithDifferentHomes() throws Exception {
        // Threads are numbered in the order they first ask for their home arena; two asked one after the other
        // differ by one, so with two arenas their homes differ (another thread asking in between is retried).
        for (int attempt = 0; attempt < 10; attempt++) {
            first = Executors.newSingleThreadExecutor();
            second = Executors.newSingleThreadExecutor();
            int a = first.submit(BlockPoolArenaTest::threadNumber).get();
            int b = second.submit(BlockPoolArenaTest::threadNumber).get();
            if (a % 2 != b % 2) {
                return;
            }
            first.shutdownNow();
            second.shutdownNow();
        }
        throw new IllegalStateException("no two threads with different home arenas in 10 attempts");
    }

    @AfterEach
    void stopThreads() {
        first.shutdownNow();
        second.shutdownNow();
    }

    private static int threadNumber() {
        return TypeBlockPool.threadNumber();
    }

    private static BlockPoolAllocator.Config.Builder config(VulkanContext context, long blockSize, int arenas) {
        // No thread caches: these tests follow each release to its arena (BlockPoolThreadCacheTest covers caches).
        return BlockPoolTesting.config(context, blockSize).arenas(arenas).threadCacheBytes(0);
    }

    @Test
    void threadsWithDifferentHomesShouldUseBlocksOfTheirOwnEachGrowingFromAnEighth(VulkanContext context)
            throws Exception {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).build())) {
            PooledBuffer a = on(first, () -> pool.allocate(request(64 * KIB)));
            PooledBuffer b = on(second, () -> pool.allocate(request(64 * KIB)));
            int homeA = on(first, () -> pool.homeArena(0));
            int homeB = on(second, () -> pool.homeArena(0));
            assertThat(homeA).isNotEqualTo(homeB);
            assertThat(a.pool()).as("different blocks").isNotSameAs(b.pool());
            assertThat(pool.blockSizes(0, homeA)).containsExactly(128 * KIB);
            assertThat(pool.blockSizes(0, homeB)).containsExactly(128 * KIB);
            assertThat(pool.deviceMemoryCount()).isEqualTo(2);
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.blockCount()).isEqualTo(2);
            assertThat(stats.allocationCount()).isEqualTo(2);
            releaseOn(first, a);
            releaseOn(second, b);
            pool.checkInvariants();
            assertThat(pool.statistics(0).emptyBlockCount()).as("one empty block kept over both arenas").isEqualTo(1);
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
        }
    }

    @Test
    void aRemoteReleaseShouldWaitUntilTheArenaIsNextLockedAndThenBeFreed(VulkanContext context) throws Exception {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).build())) {
            List<PooledBuffer> mine = on(first, () -> {
                List<PooledBuffer> list = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    list.add(pool.allocate(request(4 * KIB)));
                }
                return list;
            });
            long offset = mine.get(1).buffer().offset();
            // Released by the other thread: the range waits for the first thread's arena.
            releaseOn(second, mine.get(1));
            assertThat(mine.get(1).isReleased()).isTrue();
            assertThatThrownBy(() -> pool.free(mine.get(1))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("released already");
            int homeA = on(first, () -> pool.homeArena(0));
            assertThat(pool.pendingReleases(0, homeA)).isEqualTo(1);
            // The owner's next request frees it first, so the same range is handed out again.
            PooledBuffer again = on(first, () -> pool.allocate(request(4 * KIB)));
            assertThat(pool.pendingReleases(0, homeA)).isZero();
            assertThat(again.buffer().offset()).isEqualTo(offset);
            assertThat(pool.statistics(0).allocationCount()).isEqualTo(3);

            // Statistics and the invariant check finish waiting releases too.
            releaseOn(second, again);
            assertThat(pool.pendingReleases(0, homeA)).isEqualTo(1);
            assertThat(pool.statistics(0).allocationCount()).isEqualTo(2);
            assertThat(pool.pendingReleases(0, homeA)).isZero();
            pool.checkInvariants();

            // A batch of remote releases is freed by the releasing thread once the stack is long enough.
            List<PooledBuffer> many = on(first, () -> {
                List<PooledBuffer> list = new ArrayList<>();
                for (int i = 0; i < TypeBlockPool.REMOTE_BATCH; i++) {
                    list.add(pool.allocate(request(256)));
                }
                return list;
            });
            on(second, () -> {
                many.forEach(PooledBuffer::release);
                return null;
            });
            assertThat(pool.pendingReleases(0, homeA)).isZero();
            assertThat(pool.statistics(0).allocationCount()).isEqualTo(2);
            mine.get(0).release();
            mine.get(2).release();
            pool.checkInvariants();
        }
    }

    @Test
    void closeShouldFinishWaitingReleasesAndNotCountThemAsLive(VulkanContext context) throws Exception {
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).build());
            PooledBuffer kept = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer given = on(first, () -> pool.allocate(request(4 * KIB)));
            releaseOn(second, given);
            pool.close();
            assertThat(pool.liveBuffersAtClose()).as("only the buffer never released").isEqualTo(1);
            assertThat(kept.isReleased()).isTrue();
            assertThat(vma.statistics().total().allocationCount()).isZero();
        }
    }

    @Test
    void aWaitingReleaseBehindOneWhoseFreeFailsShouldStillBeFreed(VulkanContext context) throws Exception {
        // Two remote releases wait on the arena's stack; whoever next locks the arena takes the whole stack. The
        // first free throws: the other range must not be dropped with the stack and stay placed for good.
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2)
                     .suballocatorFactory(frees).build())) {
            PooledBuffer a = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer b = on(first, () -> pool.allocate(request(4 * KIB)));
            releaseOn(second, List.of(a, b));
            int homeA = on(first, () -> pool.homeArena(0));
            assertThat(pool.pendingReleases(0, homeA)).isEqualTo(2);
            frees.failNext(1);
            assertThatThrownBy(() -> pool.statistics(0)).isSameAs(frees.thrown().get(0));
            assertThat(pool.pendingReleases(0, homeA)).isZero();
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.usedBytes()).as("only the range whose free failed is still placed").isEqualTo(4 * KIB);
        }
    }

    @Test
    void aBlockThatAWaitingReleaseEmptiesShouldBeFreedEvenWhenAnotherFreeOfTheDrainFails(VulkanContext context)
            throws Exception {
        // Block X (128 KiB) holds a; c did not fit there and went to block Y. Both are released on the other arena's
        // thread: c waits, then a pushes the waiting bytes past an eighth of a block, so that thread drains the
        // stack at once: a's free throws, c's empties Y, which the pool does not keep (maxEmptyBlocks 0). Y must go
        // back to VMA, not be dropped with the drain's failure.
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).maxEmptyBlocks(0)
                    .suballocatorFactory(frees).build());
            PooledBuffer a = on(first, () -> pool.allocate(request(100 * KIB)));
            PooledBuffer c = on(first, () -> pool.allocate(request(60 * KIB)));
            assertThat(pool.deviceMemoryCount()).isEqualTo(2);
            releaseOn(second, c);
            frees.failNext(1);
            assertThatThrownBy(() -> releaseOn(second, a)).isSameAs(frees.thrown().get(0));
            assertThat(pool.statistics(0).blockCount()).as("Y left the pool").isEqualTo(1);
            assertThat(vma.liveDeviceMemoryCount()).as("so Y went back to VMA").isEqualTo(1);
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            pool.close();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
        }
    }

    @Test
    void statisticsShouldFreeTheBlocksAnEarlierArenasWaitingReleasesEmptiedWhenALaterFreeFails(VulkanContext context)
            throws Exception {
        blocksEmptiedByWaitingReleasesShouldBeFreedWhenALaterArenasFreeFails(context, pool -> pool.statistics(0));
    }

    @Test
    void checkInvariantsShouldFreeTheBlocksAnEarlierArenasWaitingReleasesEmptiedWhenALaterFreeFails(
            VulkanContext context) throws Exception {
        blocksEmptiedByWaitingReleasesShouldBeFreedWhenALaterArenasFreeFails(context,
                BlockPoolAllocator::checkInvariants);
    }

    /**
     * Each arena has one block holding one range, released on the other arena's thread, so it waits on its arena's
     * stack. {@code finish} finishes the waiting releases arena by arena: arena 0's empties its block, which the pool
     * does not keep (maxEmptyBlocks 0); arena 1's free throws. The block emptied in arena 0's pass must go back to VMA,
     * not be dropped with the failure (it is out of the arena's list, so not even close() would free it).
     */
    private void blocksEmptiedByWaitingReleasesShouldBeFreedWhenALaterArenasFreeFails(
            VulkanContext context, Consumer<BlockPoolAllocator> finish) throws Exception {
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).maxEmptyBlocks(0)
                    .suballocatorFactory(frees).build());
            boolean firstInZero = on(first, () -> pool.homeArena(0)) == 0;
            ExecutorService inZero = firstInZero ? first : second;
            ExecutorService inOne = firstInZero ? second : first;
            PooledBuffer x = on(inZero, () -> pool.allocate(request(20 * KIB)));
            PooledBuffer y = on(inOne, () -> pool.allocate(request(20 * KIB)));
            releaseOn(inOne, x);
            releaseOn(inZero, y);
            assertThat(pool.pendingReleases(0, 0)).isEqualTo(1);
            assertThat(pool.pendingReleases(0, 1)).isEqualTo(1);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(2);
            frees.failAfter(1, 1);
            assertThatThrownBy(() -> finish.accept(pool)).isSameAs(frees.thrown().get(0));
            assertThat(pool.statistics(0).blockCount()).as("x's block left the pool").isEqualTo(1);
            assertThat(vma.liveDeviceMemoryCount()).as("so it went back to VMA").isEqualTo(1);
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            pool.close();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
        }
    }

    @Test
    void statisticsShouldThrowTheFirstFailureWhenTheDrainOfItsUnlockFailsToo(VulkanContext context) throws Exception {
        aFailedDrainOnUnlockShouldRideOnTheFirstFailure(context, 1, (pool, z) -> pool.statistics(0));
    }

    @Test
    void checkInvariantsShouldThrowTheFirstFailureWhenTheDrainOfItsUnlockFailsToo(VulkanContext context)
            throws Exception {
        aFailedDrainOnUnlockShouldRideOnTheFirstFailure(context, 1, (pool, z) -> pool.checkInvariants());
    }

    @Test
    void aReleaseShouldThrowTheFirstFailureWhenTheDrainOfItsUnlockFailsToo(VulkanContext context) throws Exception {
        // z's own free succeeds (one more free before the failures).
        aFailedDrainOnUnlockShouldRideOnTheFirstFailure(context, 2, (pool, z) -> releaseOn(first, z));
    }

    @Test
    void aRequestShouldThrowTheFirstFailureWhenTheDrainOfItsUnlockFailsToo(VulkanContext context) throws Exception {
        aFailedDrainOnUnlockShouldRideOnTheFirstFailure(context, 1,
                (pool, z) -> on(first, () -> pool.allocate(request(4 * KIB))));
    }

    /** What finishes the waiting releases of the first thread's arena. */
    @FunctionalInterface
    private interface Finish {
        void finish(BlockPoolAllocator pool, PooledBuffer z) throws Exception;
    }

    /**
     * {@link #twoBlocksWithTwoWaitingReleases}, then {@code finish} takes the lock and finishes the waiting releases:
     * c's free empties Y, which the pool does not keep (maxEmptyBlocks 0); a's free throws, and meanwhile the other
     * thread releases y, which waits in turn. Unlocking finishes y, whose free throws too. The caller must see a's
     * failure, the first, with y's suppressed on it, not y's in its place; Y goes back to VMA and nothing waits.
     *
     * @param freesBefore the frees that succeed before the two that fail: c's, and the finishing call's own
     */
    private void aFailedDrainOnUnlockShouldRideOnTheFirstFailure(VulkanContext context, int freesBefore,
                                                                 Finish finish) throws Exception {
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context)) {
            TwoBlocks t = twoBlocksWithTwoWaitingReleases(context, vma, frees);
            frees.failAfter(freesBefore, 2);
            frees.beforeFree(freesBefore, () -> releaseYOnTheOtherThread(t));
            Throwable failure = catchThrowable(() -> finish.finish(t.pool(), t.z()));
            assertThat(frees.thrown()).as("a's free and y's").hasSize(2);
            assertThat(failure).as("the first failure").isSameAs(frees.thrown().get(0));
            assertThat(failure.getSuppressed()).containsExactly(frees.thrown().get(1));
            assertYWentBackAndCloseFreesTheRest(t, vma);
        }
    }

    @Test
    void aDrainWhoseFreeFailsShouldKeepThatFailureWhenDestroyingTheBlockItEmptiedThrowsAnError(VulkanContext context)
            throws Exception {
        aDrainWhoseFreeFailsShouldKeepThatFailureOverAnError(context,
                pool -> on(first, () -> catchThrowable(() -> pool.allocate(request(4 * KIB)))));
    }

    @Test
    void statisticsWhoseDrainFreeFailsShouldKeepThatFailureWhenDestroyingTheBlockItEmptiedThrowsAnError(
            VulkanContext context) throws Exception {
        // statistics() drains into a list of its own and destroys the blocks in it at the end.
        aDrainWhoseFreeFailsShouldKeepThatFailureOverAnError(context, pool -> catchThrowable(() -> pool.statistics(0)));
    }

    @Test
    void checkInvariantsWhoseDrainFreeFailsShouldKeepThatFailureWhenDestroyingTheBlockItEmptiedThrowsAnError(
            VulkanContext context) throws Exception {
        aDrainWhoseFreeFailsShouldKeepThatFailureOverAnError(context, pool -> catchThrowable(pool::checkInvariants));
    }

    /** What finishes the waiting releases of the first thread's arena, and what it threw. */
    @FunctionalInterface
    private interface Caught {
        Throwable finish(BlockPoolAllocator pool) throws Exception;
    }

    /**
     * {@code finish} finishes the waiting releases: c's free empties Y, which the pool does not keep (maxEmptyBlocks
     * 0), and a's free throws. Y is then destroyed before the call throws, and that throws an Error (a
     * DeviceMemoryListener's, which VMA lets through once the memory is freed). The call must fail with a's failure,
     * the first, the Error suppressed on it, not with the Error in its place; Y went back all the same.
     */
    private void aDrainWhoseFreeFailsShouldKeepThatFailureOverAnError(VulkanContext context, Caught finish)
            throws Exception {
        FailingFrees frees = new FailingFrees();
        Error injected = new Error("freed() failed (injected by the test, Y)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            TwoBlocks t = twoBlocksWithTwoWaitingReleases(context, vma, frees);
            frees.failAfter(1, 1);
            FailingListeners.failFreedCall(vma, 1, injected);
            Throwable failure = finish.finish(t.pool());
            assertThat(frees.thrown()).as("a's free").hasSize(1);
            assertThat(failure).as("the first failure").isSameAs(frees.thrown().get(0));
            assertThat(failure.getSuppressed()).containsExactly(injected);
            assertThat(t.pool().statistics(0).allocationCount()).as("keep, y, z, and a, whose free was refused")
                    .isEqualTo(4);
            assertYWentBackAndCloseFreesTheRest(t, vma);
        }
    }

    @Test
    void aRequestWhoseDrainFreeFailsShouldKeepThatFailureWhenItsUnlockThenThrowsAnError(VulkanContext context)
            throws Exception {
        aFailedDrainShouldKeepItsFailureWhenItsUnlockThrowsAnError(context, 0,
                (pool, z) -> on(first, () -> catchThrowable(() -> pool.allocate(request(4 * KIB)))));
    }

    @Test
    void aReleaseWhoseDrainFreeFailsShouldKeepThatFailureWhenItsUnlockThenThrowsAnError(VulkanContext context)
            throws Exception {
        // z's own free succeeds (one free before a's).
        aFailedDrainShouldKeepItsFailureWhenItsUnlockThrowsAnError(context, 1,
                (pool, z) -> on(first, () -> catchThrowable(z::release)));
    }

    @Test
    void statisticsWhoseDrainFreeFailsShouldKeepThatFailureWhenItsUnlockThenThrowsAnError(VulkanContext context)
            throws Exception {
        aFailedDrainShouldKeepItsFailureWhenItsUnlockThrowsAnError(context, 0,
                (pool, z) -> catchThrowable(() -> pool.statistics(0)));
    }

    @Test
    void checkInvariantsWhoseDrainFreeFailsShouldKeepThatFailureWhenItsUnlockThenThrowsAnError(VulkanContext context)
            throws Exception {
        aFailedDrainShouldKeepItsFailureWhenItsUnlockThrowsAnError(context, 0,
                (pool, z) -> catchThrowable(pool::checkInvariants));
    }

    /** What finishes the waiting releases of the first thread's arena (z is a buffer of its own), and what it threw. */
    @FunctionalInterface
    private interface CaughtWithZ {
        Throwable finish(BlockPoolAllocator pool, PooledBuffer z) throws Exception;
    }

    /**
     * The first thread's arena holds block X (keep, a, z) and block Y (c alone); a waits on the arena's stack,
     * released by the other thread. {@code finish} takes the lock and finishes a, whose free throws; meanwhile the
     * other thread releases c, which waits in turn. Unlocking finishes c, which empties Y, and the pool does not keep
     * it (maxEmptyBlocks 0): destroying Y throws an Error (a DeviceMemoryListener's, which VMA lets through once the
     * memory is freed). The call must fail with a's failure, the first, the Error suppressed on it, not with the Error
     * in its place; Y went back all the same.
     *
     * @param freesBefore the frees that succeed before a's (the finishing call's own)
     */
    private void aFailedDrainShouldKeepItsFailureWhenItsUnlockThrowsAnError(VulkanContext context, int freesBefore,
                                                                           CaughtWithZ finish) throws Exception {
        FailingFrees frees = new FailingFrees();
        Error injected = new Error("freed() failed (injected by the test, Y)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).maxEmptyBlocks(0)
                    .suballocatorFactory(frees).build());
            PooledBuffer keep = on(first, () -> pool.allocate(request(112 * KIB)));
            PooledBuffer a = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer z = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer c = on(first, () -> pool.allocate(request(16 * KIB)));
            int home = on(first, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, home)).containsExactly(128 * KIB, 256 * KIB);
            releaseOn(second, a);
            assertThat(pool.pendingReleases(0, home)).isEqualTo(1);
            frees.failAfter(freesBefore, 1);
            frees.beforeFree(freesBefore, () -> releaseOnTheOtherThread(c));
            FailingListeners.failFreedCall(vma, 1, injected);

            Throwable failure = finish.finish(pool, z);

            assertThat(frees.thrown()).as("a's free").hasSize(1);
            assertThat(failure).as("the first failure").isSameAs(frees.thrown().get(0));
            assertThat(failure.getSuppressed()).containsExactly(injected);
            assertThat(pool.pendingReleases(0, home)).isZero();
            assertThat(pool.blockSizes(0, home)).as("Y left the pool").containsExactly(128 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).as("so Y went back to VMA").isEqualTo(1);
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            pool.close();
            assertThat(keep.isReleased()).isTrue();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
        }
    }

    @Test
    void anArenaThatTakesOverAnEmptyBlockShouldKeepADrainFailureOfTheOtherArenaWhenItsUnlockThrowsAnError(
            VulkanContext context) throws Exception {
        // The second thread's arena has block B1 (p, and f filling it) and block B2 (u alone); p waits on its stack,
        // released by the first thread, whose arena has no block. A request there must grow: it first takes the other
        // arena's lock to take over an empty block, freeing the waiting p, whose free throws; meanwhile the second
        // thread releases u, which waits in turn. Unlocking the other arena finishes u, which empties B2, and the
        // pool does not keep it (maxEmptyBlocks 0): destroying B2 throws an Error. The request must fail with p's
        // failure, the first, the Error suppressed on it, not with the Error in its place; B2 went back.
        FailingFrees frees = new FailingFrees();
        Error injected = new Error("freed() failed (injected by the test, B2)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).maxEmptyBlocks(0)
                    .suballocatorFactory(frees).build());
            PooledBuffer p = on(second, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer f = on(second, () -> pool.allocate(request(124 * KIB)));
            PooledBuffer u = on(second, () -> pool.allocate(request(4 * KIB)));
            int homeA = on(first, () -> pool.homeArena(0));
            int homeB = on(second, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, homeA)).isEmpty();
            assertThat(pool.blockSizes(0, homeB)).containsExactly(128 * KIB, 256 * KIB);
            // Last: statistics and blockSizes finish the releases waiting in the arenas they lock.
            releaseOn(first, p);
            assertThat(pool.pendingReleases(0, homeB)).as("p").isEqualTo(1);
            frees.failNext(1);
            frees.beforeFree(0, () -> releaseOnTheOtherThread(u));
            FailingListeners.failFreedCall(vma, 1, injected);

            Throwable failure = on(first, () -> catchThrowable(() -> pool.allocate(request(4 * KIB))));

            assertThat(frees.thrown()).as("p's free").hasSize(1);
            assertThat(failure).as("the first failure").isSameAs(frees.thrown().get(0));
            assertThat(failure.getSuppressed()).containsExactly(injected);
            assertThat(pool.pendingReleases(0, homeB)).isZero();
            assertThat(pool.blockSizes(0, homeA)).as("no block made or taken over").isEmpty();
            assertThat(pool.blockSizes(0, homeB)).as("B2 left the pool").containsExactly(128 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).as("so B2 went back to VMA").isEqualTo(1);
            assertThat(pool.statistics(0).allocationCount()).as("f, and p, whose free was refused").isEqualTo(2);
            pool.close();
            assertThat(f.isReleased()).isTrue();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
        }
    }

    @Test
    void aRequestWhoseRangeGoesBackAfterItsUnlockFailedShouldKeepThatFailureWhenGivingBackThrowsAnError(
            VulkanContext context) throws Exception {
        // The first thread's arena holds block X (keep, a, y, z) and block Y (c alone); a waits on the arena's stack,
        // released by the other thread. A 4 KiB request frees a (meanwhile the other thread releases y) and goes into
        // X where a was. Unlocking finishes y, whose free throws, so the request fails with that, and its range goes
        // back: under the lock again, its free (meanwhile the other thread releases c), then unlocking finishes c,
        // which empties Y (maxEmptyBlocks 0), and destroying Y throws an Error. The request must fail with y's
        // failure, the first, the Error suppressed on it, not with the Error in its place.
        FailingFrees frees = new FailingFrees();
        Error injected = new Error("freed() failed (injected by the test, Y)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).maxEmptyBlocks(0)
                    .suballocatorFactory(frees).build());
            PooledBuffer keep = on(first, () -> pool.allocate(request(112 * KIB)));
            PooledBuffer a = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer y = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer z = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer c = on(first, () -> pool.allocate(request(16 * KIB)));
            int home = on(first, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, home)).containsExactly(128 * KIB, 256 * KIB);
            releaseOn(second, a);
            assertThat(pool.pendingReleases(0, home)).isEqualTo(1);
            // Frees: a (0), y (1, fails), the request's range (2), c (3).
            frees.failAfter(1, 1);
            frees.beforeFree(0, () -> {
                releaseOnTheOtherThread(y);
                frees.beforeFree(1, () -> releaseOnTheOtherThread(c));
            });
            FailingListeners.failFreedCall(vma, 1, injected);

            Throwable failure = on(first, () -> catchThrowable(() -> pool.allocate(request(4 * KIB))));

            assertThat(frees.thrown()).as("y's free").hasSize(1);
            assertThat(failure).as("the first failure").isSameAs(frees.thrown().get(0));
            assertThat(failure.getSuppressed()).containsExactly(injected);
            assertThat(pool.pendingReleases(0, home)).isZero();
            assertThat(pool.blockSizes(0, home)).as("Y left the pool").containsExactly(128 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).as("so Y went back to VMA").isEqualTo(1);
            // X holds keep and z, and y, whose free the suballocator refused; no range of the request.
            assertThat(pool.statistics(0).allocationCount()).isEqualTo(3);
            pool.close();
            assertThat(pool.liveBuffersAtClose()).as("keep and z").isEqualTo(2);
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
        }
    }

    @Test
    void aRequestWhoseDestroyingOfTheBlocksItsDrainEmptiedThrowsAnErrorShouldKeepItWhenItsUnlockFails(
            VulkanContext context) throws Exception {
        // The first thread's arena holds block X (keep, a, y, z) and block Y (c alone); a and then c wait on the
        // arena's stack, released by the other thread. A 200 KiB request frees c, which empties Y (maxEmptyBlocks 0),
        // and a (meanwhile the other thread releases y, which waits in turn); no block has room, so before the arena
        // grows it destroys Y, under the lock, and that throws an Error (a DeviceMemoryListener's, which VMA lets
        // through once the memory is freed). Unlocking finishes y, whose free throws. The request must fail with the
        // Error, the first failure, y's suppressed on it, not with y's failure in its place, the Error lost.
        FailingFrees frees = new FailingFrees();
        Error injected = new Error("freed() failed (injected by the test, Y)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            TwoBlocks t = twoBlocksWithTwoWaitingReleases(context, vma, frees);
            // Frees: c (0), a (1), y (2, fails).
            frees.failAfter(2, 1);
            frees.beforeFree(1, () -> releaseYOnTheOtherThread(t));
            FailingListeners.failFreedCall(vma, 1, injected);

            Throwable failure = on(first, () -> catchThrowable(() -> t.pool().allocate(request(200 * KIB))));

            assertThat(frees.thrown()).as("y's free").hasSize(1);
            assertThat(failure).as("the first failure").isSameAs(injected);
            assertThat(failure.getSuppressed()).containsExactly(frees.thrown().get(0));
            assertThat(vma.deviceMemoryAllocationCount()).as("no block made").isEqualTo(2);
            // X holds keep and z, and y, whose free the suballocator refused.
            assertThat(t.pool().statistics(0).allocationCount()).isEqualTo(3);
            assertYWentBackAndCloseFreesTheRest(t, vma);
        }
    }

    @Test
    void aReleaseShouldFreeTheBlockItsDrainEmptiedWhenTheDrainOfItsUnlockFails(VulkanContext context)
            throws Exception {
        // z's release frees z, then the waiting c (emptying Y, taken out of the arena) and a, meanwhile the other
        // thread releases y: all of that succeeds, and unlocking finishes y, whose free throws. Y is out of the
        // arena's list: it must go back to VMA with that failure, not stay allocated for good.
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context)) {
            TwoBlocks t = twoBlocksWithTwoWaitingReleases(context, vma, frees);
            frees.failAfter(3, 1);
            frees.beforeFree(2, () -> releaseYOnTheOtherThread(t));
            assertThatThrownBy(() -> releaseOn(first, t.z())).isSameAs(frees.thrown().get(0));
            assertYWentBackAndCloseFreesTheRest(t, vma);
        }
    }

    @Test
    void aSubRangeRequestWhoseUnlockFailsShouldGiveBackTheRangeItPlaced(VulkanContext context) throws Exception {
        aRequestWhoseUnlockFailsShouldGiveBackTheRangeItPlaced(context, BlockPoolAllocator.BufferMode.SUB_RANGE);
    }

    @Test
    void anOwnBufferRequestWhoseUnlockFailsShouldGiveBackTheRangeItPlaced(VulkanContext context) throws Exception {
        aRequestWhoseUnlockFailsShouldGiveBackTheRangeItPlaced(context, BlockPoolAllocator.BufferMode.OWN_BUFFER);
    }

    /**
     * The request frees the waiting c (emptying Y, taken out of the arena) and a, meanwhile the other thread releases
     * y, and the request's 4 KiB go into X where a was: all of that succeeds. Unlocking finishes y, whose free throws,
     * so the request fails with that: the range it placed must go back, not stay placed for a buffer no one holds.
     */
    private void aRequestWhoseUnlockFailsShouldGiveBackTheRangeItPlaced(VulkanContext context,
                                                                        BlockPoolAllocator.BufferMode mode)
            throws Exception {
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context)) {
            TwoBlocks t = twoBlocksWithTwoWaitingReleases(context, vma, frees);
            frees.failAfter(2, 1);
            frees.beforeFree(1, () -> releaseYOnTheOtherThread(t));
            assertThatThrownBy(() -> on(first, () -> t.pool().allocate(request(4 * KIB).withBufferMode(mode))))
                    .isSameAs(frees.thrown().get(0));
            // X holds keep and z, and y, whose free the suballocator refused; no range of the request.
            assertThat(t.pool().statistics(0).allocationCount()).isEqualTo(3);
            assertYWentBackAndCloseFreesTheRest(t, vma);
            assertThat(t.pool().liveBuffersAtClose()).as("keep and z").isEqualTo(2);
        }
    }

    @Test
    void aSubRangeRequestWhoseUnlockThrowsAnErrorShouldGiveBackTheRangeItPlaced(VulkanContext context)
            throws Exception {
        aRequestWhoseUnlockThrowsAnErrorShouldGiveBackTheRangeItPlaced(context,
                BlockPoolAllocator.BufferMode.SUB_RANGE);
    }

    @Test
    void anOwnBufferRequestWhoseUnlockThrowsAnErrorShouldGiveBackTheRangeItPlaced(VulkanContext context)
            throws Exception {
        aRequestWhoseUnlockThrowsAnErrorShouldGiveBackTheRangeItPlaced(context,
                BlockPoolAllocator.BufferMode.OWN_BUFFER);
    }

    /**
     * The first thread's arena holds block X (keep, a, z) and block Y (c alone); a waits on the arena's stack, released
     * by the other thread. A 4 KiB request frees a (meanwhile the other thread releases c, which waits in turn) and
     * goes into X where a was. Unlocking finishes c, which empties Y, and the pool does not keep it (maxEmptyBlocks
     * 0): destroying Y throws an Error (a DeviceMemoryListener's, which VMA lets through once the memory is freed), so
     * the request fails with it. The range it placed must go back, not stay placed in X for a buffer no one holds.
     */
    private void aRequestWhoseUnlockThrowsAnErrorShouldGiveBackTheRangeItPlaced(VulkanContext context,
                                                                              BlockPoolAllocator.BufferMode mode)
            throws Exception {
        FailingFrees frees = new FailingFrees();
        Error injected = new Error("freed() failed (injected by the test, Y)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).maxEmptyBlocks(0)
                    .suballocatorFactory(frees).build());
            PooledBuffer keep = on(first, () -> pool.allocate(request(112 * KIB)));
            PooledBuffer a = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer z = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer c = on(first, () -> pool.allocate(request(16 * KIB)));
            int home = on(first, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, home)).containsExactly(128 * KIB, 256 * KIB);
            releaseOn(second, a);
            assertThat(pool.pendingReleases(0, home)).isEqualTo(1);
            frees.beforeFree(0, () -> releaseOnTheOtherThread(c));
            FailingListeners.failFreedCall(vma, 1, injected);
            Throwable failure = on(first, () -> catchThrowable(
                    () -> pool.allocate(request(4 * KIB).withBufferMode(mode))));
            assertThat(failure).isSameAs(injected);
            assertThat(pool.pendingReleases(0, home)).isZero();
            assertThat(pool.blockSizes(0, home)).as("Y left the pool").containsExactly(128 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).as("so Y went back to VMA").isEqualTo(1);
            // X holds keep and z; no range of the request.
            assertThat(pool.statistics(0).allocationCount()).isEqualTo(2);
            assertThat(z.isReleased()).isFalse();
            pool.close();
            assertThat(pool.liveBuffersAtClose()).as("keep and z").isEqualTo(2);
            assertThat(keep.isReleased()).isTrue();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
        }
    }

    @Test
    void anArenaThatTakesOverAnEmptyBlockShouldGiveItsRangeBackWhenUnlockingTheOtherArenaFails(
            VulkanContext context) throws Exception {
        // The second thread's arena has block B1 (p, u) and keeps B2 empty; p waits on its stack, released by the
        // first thread. The first thread's arena must grow for 100 KiB: it takes the other arena's lock, frees p
        // (meanwhile the second thread releases u, which waits in turn), and takes over B2, placing the request there.
        // Unlocking the other arena finishes u, whose free throws: the request fails with that, and B2 must not keep
        // the range of a buffer that was never made (it would hold B2 for good), but be an empty block again.
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2)
                     .suballocatorFactory(frees).build())) {
            PooledBuffer p = on(second, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer u = on(second, () -> pool.allocate(request(4 * KIB)));
            releaseOn(second, on(second, () -> pool.allocate(request(200 * KIB))));
            int homeA = on(first, () -> pool.homeArena(0));
            int homeB = on(second, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, homeB)).containsExactly(128 * KIB, 256 * KIB);
            assertThat(pool.statistics(0).emptyBlockCount()).as("B2").isEqualTo(1);
            // Last: statistics and blockSizes finish the releases waiting in the arenas they lock.
            releaseOn(first, p);
            assertThat(pool.pendingReleases(0, homeB)).as("p").isEqualTo(1);

            frees.failAfter(1, 1);
            frees.beforeFree(0, () -> releaseOnTheOtherThread(u));
            assertThatThrownBy(() -> on(first, () -> pool.allocate(request(100 * KIB))))
                    .isSameAs(frees.thrown().get(0));
            assertThat(frees.thrown()).as("u's free alone").hasSize(1);
            assertThat(pool.pendingReleases(0, homeB)).isZero();
            assertThat(pool.blockSizes(0, homeA)).as("B2 moved").containsExactly(256 * KIB);
            BlockPoolAllocator.TypeStatistics after = pool.statistics(0);
            assertThat(after.emptyBlockCount()).as("B2, empty again").isEqualTo(1);
            assertThat(after.allocationCount()).as("u, whose free the suballocator refused").isEqualTo(1);
            assertThat(vma.deviceMemoryAllocationCount()).as("no block made").isEqualTo(2);
        }
    }

    @Test
    void anArenaThatTakesOverAnEmptyBlockShouldGiveItsRangeBackWhenUnlockingTheOtherArenaThrowsAnError(
            VulkanContext context) throws Exception {
        // The second thread's arena has block B1 (p alone) and keeps B2 empty; p waits on its stack, released by the
        // first thread. The first thread's arena must grow for 100 KiB: it takes the other arena's lock, frees p,
        // which empties B1 (one empty block is kept already: B1 leaves the arena), and takes over B2, placing the
        // request there. Unlocking the other arena destroys B1, which throws an Error (a DeviceMemoryListener's,
        // which VMA lets through once the memory is freed): the request fails with it, and B2 must not keep the range
        // of a buffer that was never made, but be an empty block again.
        Error injected = new Error("freed() failed (injected by the test, B1)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).build());
            PooledBuffer p = on(second, () -> pool.allocate(request(4 * KIB)));
            releaseOn(second, on(second, () -> pool.allocate(request(200 * KIB))));
            int homeA = on(first, () -> pool.homeArena(0));
            int homeB = on(second, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, homeB)).containsExactly(128 * KIB, 256 * KIB);
            assertThat(pool.statistics(0).emptyBlockCount()).as("B2").isEqualTo(1);
            // Last: statistics and blockSizes finish the releases waiting in the arenas they lock.
            releaseOn(first, p);
            assertThat(pool.pendingReleases(0, homeB)).as("p").isEqualTo(1);

            FailingListeners.failFreedCall(vma, 1, injected);
            Throwable failure = on(first, () -> catchThrowable(() -> pool.allocate(request(100 * KIB))));
            assertThat(failure).isSameAs(injected);
            assertThat(pool.pendingReleases(0, homeB)).isZero();
            assertThat(pool.blockSizes(0, homeB)).as("B1 left the pool, B2 moved").isEmpty();
            assertThat(pool.blockSizes(0, homeA)).as("B2").containsExactly(256 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).as("B1 went back to VMA").isEqualTo(1);
            BlockPoolAllocator.TypeStatistics after = pool.statistics(0);
            assertThat(after.emptyBlockCount()).as("B2, empty again").isEqualTo(1);
            assertThat(after.allocationCount()).as("no range of the request").isZero();
            pool.checkInvariants();
            pool.close();
            assertThat(pool.liveBuffersAtClose()).isZero();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
        }
    }

    @Test
    void aSubRangeFromTheThreadCacheWhoseUnlockFailsShouldGiveTheRangeBack(VulkanContext context) throws Exception {
        // The first thread's cache keeps q, a range made for a buffer of its own, in block X, which has no block-wide
        // buffer yet; p (16 KiB, never cached) waits on the arena's stack, released by the other thread. A sub-range
        // request takes q from the cache and makes X's block-wide buffer under the lock; unlocking finishes p, whose
        // free throws. The request fails with that, and q must go back to X, not be lost between cache and buffer.
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, BlockPoolTesting.config(context, MIB).arenas(2)
                     .bufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).suballocatorFactory(frees).build())) {
            PooledBuffer keep = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer q = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer p = on(first, () -> pool.allocate(request(16 * KIB)));
            int home = on(first, () -> pool.homeArena(0));
            releaseOn(first, q);
            assertThat(pool.statistics(0).cachedRanges()).as("q").isEqualTo(1);
            releaseOn(second, p);
            assertThat(pool.pendingReleases(0, home)).as("p").isEqualTo(1);

            frees.failNext(1);
            assertThatThrownBy(() -> on(first, () -> pool.allocate(request(4 * KIB)
                    .withBufferMode(BlockPoolAllocator.BufferMode.SUB_RANGE)))).isSameAs(frees.thrown().get(0));
            assertThat(frees.thrown()).as("p's free alone").hasSize(1);
            BlockPoolAllocator.TypeStatistics after = pool.statistics(0);
            assertThat(after.cachedRanges()).as("q left the cache").isZero();
            assertThat(after.allocationCount()).as("keep, and p, whose free the suballocator refused")
                    .isEqualTo(2);
            keep.release();
        }
    }

    @Test
    void aSubRangeFromTheThreadCacheWhoseUnlockThrowsAnErrorShouldGiveTheRangeBack(VulkanContext context)
            throws Exception {
        // As above, but p alone holds block Y, and the pool keeps no empty block (maxEmptyBlocks 0): unlocking
        // finishes p, which empties Y, and destroying Y throws an Error (a DeviceMemoryListener's, which VMA lets
        // through once the memory is freed). The request fails with it, and q must go back to X, not be lost between
        // cache and buffer.
        Error injected = new Error("freed() failed (injected by the test, Y)");
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, BlockPoolTesting.config(context, MIB).arenas(2)
                     .maxEmptyBlocks(0).bufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).build())) {
            PooledBuffer keep = on(first, () -> pool.allocate(request(112 * KIB)));
            PooledBuffer q = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer p = on(first, () -> pool.allocate(request(16 * KIB)));
            int home = on(first, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, home)).containsExactly(128 * KIB, 256 * KIB);
            releaseOn(first, q);
            assertThat(pool.statistics(0).cachedRanges()).as("q").isEqualTo(1);
            releaseOn(second, p);
            assertThat(pool.pendingReleases(0, home)).as("p").isEqualTo(1);
            FailingListeners.failFreedCall(vma, 1, injected);

            Throwable failure = on(first, () -> catchThrowable(() -> pool.allocate(request(4 * KIB)
                    .withBufferMode(BlockPoolAllocator.BufferMode.SUB_RANGE))));

            assertThat(failure).isSameAs(injected);
            assertThat(pool.pendingReleases(0, home)).isZero();
            assertThat(pool.blockSizes(0, home)).as("Y left the pool").containsExactly(128 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).as("so Y went back to VMA").isEqualTo(1);
            BlockPoolAllocator.TypeStatistics after = pool.statistics(0);
            assertThat(after.cachedRanges()).as("q left the cache").isZero();
            assertThat(after.allocationCount()).as("keep alone: q went back to X").isEqualTo(1);
            keep.release();
        }
    }

    @Test
    void aNewBlockOutOfMemoryWhoseUnlockFailsShouldEndTheRequestAsOutOfMemoryWithThatFailure(VulkanContext context)
            throws Exception {
        // The first thread's arena has X (128 KiB: keep, r1, r2) and keeps Y (256 KiB) empty; r1 waits on its stack,
        // released by the other thread. A 500 KiB heap limit leaves 116 KiB. A request for 300 KiB frees r1
        // (meanwhile the other thread releases r2, which waits in turn) and finds no room: blocks of 512 and 320 KiB
        // do not fit the heap. Unlocking finishes r2, whose free throws. Out of device memory is what the request
        // recovers from (giving Y back makes room for a 320 KiB block): the failure must not ride on it and be lost
        // when the retry succeeds, but end the request as OUT_OF_DEVICE_MEMORY, suppressed on it.
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context, 500 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2)
                     .suballocatorFactory(frees).build())) {
            PooledBuffer keep = on(first, () -> pool.allocate(request(64 * KIB)));
            PooledBuffer r1 = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer r2 = on(first, () -> pool.allocate(request(4 * KIB)));
            on(first, () -> pool.allocate(request(200 * KIB))).release();
            int home = on(first, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, home)).containsExactly(128 * KIB, 256 * KIB);
            assertThat(pool.statistics(0).emptyBlockCount()).as("Y").isEqualTo(1);
            // Last: statistics and blockSizes finish the releases waiting in the arenas they lock.
            releaseOn(second, r1);
            assertThat(pool.pendingReleases(0, home)).as("r1").isEqualTo(1);

            frees.failAfter(1, 1);
            frees.beforeFree(0, () -> releaseOnTheOtherThread(r2));
            Throwable failure = catchThrowable(() -> on(first, () -> pool.allocate(request(300 * KIB))));
            assertThat(frees.thrown()).as("r2's free").hasSize(1);
            assertThat(failure).isInstanceOfSatisfying(PoolException.class, e -> {
                assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY);
                assertThat(e.getSuppressed()).containsExactly(frees.thrown().get(0));
            });
            assertThat(pool.pendingReleases(0, home)).isZero();
            assertThat(pool.blockSizes(0, home)).as("no block made").containsExactly(128 * KIB, 256 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(2);
            keep.release();
        }
    }

    /** A pool and the buffers of {@link #twoBlocksWithTwoWaitingReleases} that are still open. */
    private record TwoBlocks(BlockPoolAllocator pool, int home, PooledBuffer keep, PooledBuffer y, PooledBuffer z) {
    }

    /**
     * The first thread's arena holds block X (keep, a, y, z) and block Y (c alone); a and then c are released on the
     * other thread, so they wait on the arena's stack (c on top). maxEmptyBlocks 0.
     */
    private TwoBlocks twoBlocksWithTwoWaitingReleases(VulkanContext context, VulkanMemoryAllocator vma,
                                                      FailingFrees frees) throws Exception {
        BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).maxEmptyBlocks(0)
                .suballocatorFactory(frees).build());
        PooledBuffer keep = on(first, () -> pool.allocate(request(112 * KIB)));
        PooledBuffer a = on(first, () -> pool.allocate(request(4 * KIB)));
        PooledBuffer y = on(first, () -> pool.allocate(request(4 * KIB)));
        PooledBuffer z = on(first, () -> pool.allocate(request(4 * KIB)));
        PooledBuffer c = on(first, () -> pool.allocate(request(16 * KIB)));
        int home = on(first, () -> pool.homeArena(0));
        assertThat(pool.blockSizes(0, home)).containsExactly(128 * KIB, 256 * KIB);
        releaseOn(second, List.of(a, c));
        assertThat(pool.pendingReleases(0, home)).isEqualTo(2);
        assertThat(vma.liveDeviceMemoryCount()).isEqualTo(2);
        return new TwoBlocks(pool, home, keep, y, z);
    }

    /** Releases y on the other thread, whose home is another arena: it waits on y's arena's stack. */
    private void releaseYOnTheOtherThread(TwoBlocks t) {
        releaseOnTheOtherThread(t.y());
    }

    /** Releases a buffer on the second thread, from inside a free's hook ({@link FailingFrees#beforeFree}). */
    private void releaseOnTheOtherThread(PooledBuffer buffer) {
        try {
            releaseOn(second, buffer);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void assertYWentBackAndCloseFreesTheRest(TwoBlocks t, VulkanMemoryAllocator vma) {
        assertThat(t.pool().pendingReleases(0, t.home())).isZero();
        assertThat(t.pool().blockSizes(0, t.home())).as("Y left the pool").containsExactly(128 * KIB);
        assertThat(vma.liveDeviceMemoryCount()).as("so Y went back to VMA").isEqualTo(1);
        assertThat(t.pool().deviceMemoryCount()).isEqualTo(1);
        t.pool().close();
        assertThat(t.keep().isReleased()).isTrue();
        assertThat(vma.liveDeviceMemoryCount()).isZero();
        assertThat(vma.statistics().total().allocationCount()).isZero();
    }

    @Test
    void givingBackAfterOutOfMemoryShouldGoOnPastAFailedFlushToTheWaitingReleasesAndEmptyBlocks(
            VulkanContext context) throws Exception {
        releaseUnusedShouldGoOnPastAFailedFlush(context, false);
    }

    @Test
    void givingBackAfterOutOfMemoryShouldGoOnPastEveryFailureAndThrowTheFirst(VulkanContext context)
            throws Exception {
        releaseUnusedShouldGoOnPastAFailedFlush(context, true);
    }

    /**
     * The first thread's cache keeps sixteen 8 KiB ranges that fill its arena's first block X1; its arena also keeps
     * X2 empty. The second thread's arena has block Y1, whose one buffer w the first thread released: w waits on that
     * arena's stack. Dedicated memory for the first thread does not fit the heap, so the memory type gives back what no
     * buffer uses (releaseUnused): the flush of the thread's cache fails on its first range. X2 must still go back,
     * and w be freed, leaving Y1 empty to go back too; when w's free fails as well, X2 still goes back and w's failure
     * rides on the first. The request fails as OUT_OF_DEVICE_MEMORY with the first failure suppressed on it.
     */
    private void releaseUnusedShouldGoOnPastAFailedFlush(VulkanContext context, boolean waitingFails)
            throws Exception {
        FailingFrees frees = new FailingFrees();
        // 128 + 256 + 128 KiB of blocks, and room for 48 KiB more: not the 100 KiB of dedicated memory.
        try (VulkanMemoryAllocator vma = vma(context, 560 * KIB)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, BlockPoolTesting.config(context, MIB).arenas(2)
                    .suballocatorFactory(frees).build());
            List<PooledBuffer> ranges = on(first, () -> {
                List<PooledBuffer> buffers = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    buffers.add(pool.allocate(request(8 * KIB)));
                }
                return buffers;
            });
            // w before v: the second thread's arena would take over X2, kept empty, rather than make Y1.
            PooledBuffer w = on(second, () -> pool.allocate(request(20 * KIB)));
            PooledBuffer v = on(first, () -> pool.allocate(request(20 * KIB)));
            releaseOn(first, v);
            releaseOn(first, ranges);
            int homeA = on(first, () -> pool.homeArena(0));
            int homeB = on(second, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, homeA)).containsExactly(128 * KIB, 256 * KIB);
            assertThat(pool.blockSizes(0, homeB)).containsExactly(128 * KIB);
            assertThat(pool.statistics(0).cachedRanges()).isEqualTo(16);
            assertThat(pool.statistics(0).emptyBlockCount()).as("X2").isEqualTo(1);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(3);
            // Last: statistics and blockSizes finish the releases waiting in the arenas they lock.
            releaseOn(first, w);
            assertThat(pool.pendingReleases(0, homeB)).as("w").isEqualTo(1);

            frees.failNext(1);
            if (waitingFails) {
                // The flush frees the sixteen ranges (the first fails); w's free comes next.
                frees.beforeFree(16, () -> frees.failNext(1));
            }
            Throwable failure = catchThrowable(() -> on(first, () -> pool.allocate(request(100 * KIB)
                    .withPreference(AllocatePreference.ALWAYS_ALLOCATE))));
            assertThat(frees.thrown()).hasSize(waitingFails ? 2 : 1);
            assertThat(failure).isInstanceOfSatisfying(PoolException.class, e -> {
                assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY);
                assertThat(e.getSuppressed()).as("the first failure").containsExactly(frees.thrown().get(0));
            });
            if (waitingFails) {
                assertThat(frees.thrown().get(0).getSuppressed()).as("w's failure rides on the first")
                        .containsExactly(frees.thrown().get(1));
            }
            assertThat(pool.pendingReleases(0, homeB)).as("w was taken off the stack").isZero();
            assertThat(pool.blockSizes(0, homeA)).as("X2 went back").containsExactly(128 * KIB);
            assertThat(pool.blockSizes(0, homeB)).as("Y1 went back once w was freed")
                    .hasSize(waitingFails ? 1 : 0);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(waitingFails ? 2 : 1);
            assertThat(pool.deviceMemoryCount()).isEqualTo(waitingFails ? 2 : 1);
            BlockPoolAllocator.TypeStatistics after = pool.statistics(0);
            assertThat(after.cachedRanges()).isZero();
            assertThat(after.emptyBlockCount()).isZero();
            assertThat(after.dedicatedCount()).isZero();
            pool.close();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
        }
    }

    @Test
    void releaseUnusedShouldGoOnToTheOtherArenasPastAnErrorFromTheDrainOfAnArenasUnlock(VulkanContext context)
            throws Exception {
        // Arena 0's block X holds a1 and a2, arena 1's block Y holds b; a1 waits on arena 0's stack, b on arena 1's
        // (each released by the other arena's thread). maxEmptyBlocks 0. releaseUnusedMemory() frees a1 under arena
        // 0's lock, meanwhile a2 is released (it waits in turn); unlocking arena 0 frees a2, X empties, and
        // destroying it throws an Error. The walk must go on to arena 1: b freed, Y gone back, the Error thrown.
        FailingFrees frees = new FailingFrees();
        Error injected = new Error("freed() failed (injected by the test)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).maxEmptyBlocks(0)
                    .suballocatorFactory(frees).build());
            boolean firstAtZero = on(first, () -> pool.homeArena(0)) == 0;
            ExecutorService zero = firstAtZero ? first : second;
            ExecutorService one = firstAtZero ? second : first;
            PooledBuffer a1 = on(zero, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer a2 = on(zero, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer b = on(one, () -> pool.allocate(request(4 * KIB)));
            assertThat(pool.blockSizes(0, 0)).containsExactly(128 * KIB);
            assertThat(pool.blockSizes(0, 1)).containsExactly(128 * KIB);
            // Last: statistics and blockSizes finish the releases waiting in the arenas they lock.
            releaseOn(one, a1);
            releaseOn(zero, b);
            assertThat(pool.pendingReleases(0, 0)).as("a1").isEqualTo(1);
            assertThat(pool.pendingReleases(0, 1)).as("b").isEqualTo(1);
            frees.beforeFree(0, () -> {
                try {
                    releaseOn(one, a2);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            FailingListeners.failFreedCall(vma, 1, injected);

            assertThatThrownBy(pool::releaseUnusedMemory).isSameAs(injected);

            assertThat(pool.pendingReleases(0, 0)).as("a2").isZero();
            assertThat(pool.pendingReleases(0, 1)).as("b").isZero();
            assertThat(pool.blockSizes(0, 0)).as("X went back").isEmpty();
            assertThat(pool.blockSizes(0, 1)).as("Y went back").isEmpty();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            pool.close();
        }
    }

    @Test
    void closeShouldGoOnPastAFailureFreeEverythingAndThrowTheFirst(VulkanContext context) throws Exception {
        // Each arena has a release waiting for its lock whose free throws: close() finishes the waiting releases
        // first, and a failure there must not leave the blocks, the other arena or the live buffers behind.
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2)
                    .suballocatorFactory(frees).build());
            PooledBuffer keptA = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer givenA = on(first, () -> pool.allocate(request(4 * KIB)));
            PooledBuffer keptB = on(second, () -> pool.allocate(request(4 * KIB)
                    .withBufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER)));
            PooledBuffer givenB = on(second, () -> pool.allocate(request(4 * KIB)));
            releaseOn(second, givenA);
            releaseOn(first, givenB);
            int homeA = on(first, () -> pool.homeArena(0));
            assertThat(pool.pendingReleases(0, homeA)).isEqualTo(1);
            assertThat(pool.pendingReleases(0, 1 - homeA)).isEqualTo(1);
            assertThat(pool.deviceMemoryCount()).isEqualTo(2);
            frees.failNext(2);
            Throwable failure = catchThrowable(pool::close);
            assertThat(frees.thrown()).as("both arenas' waiting releases were tried").hasSize(2);
            assertThat(failure).as("the first failure").isSameAs(frees.thrown().get(0));
            assertThat(failure.getSuppressed()).containsExactly(frees.thrown().get(1));
            assertThat(pool.isClosed()).isTrue();
            assertThat(pool.liveBuffersAtClose()).as("the buffers never released").isEqualTo(2);
            assertThat(keptA.isReleased()).isTrue();
            assertThat(keptB.isReleased()).isTrue();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
            pool.close();
        }
    }

    @Test
    void anArenaThatMustGrowShouldTakeOverAnEmptyBlockAnotherArenaKeeps(VulkanContext context) throws Exception {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).build())) {
            on(first, () -> {
                pool.allocate(request(64 * KIB)).release();
                return null;
            });
            int homeA = on(first, () -> pool.homeArena(0));
            int homeB = on(second, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, homeA)).containsExactly(128 * KIB);
            assertThat(pool.statistics(0).emptyBlockCount()).isEqualTo(1);

            PooledBuffer b = on(second, () -> pool.allocate(request(64 * KIB)));
            assertThat(pool.deviceMemoryCount()).as("no new block: the empty one moved").isEqualTo(1);
            assertThat(pool.blockSizes(0, homeA)).isEmpty();
            assertThat(pool.blockSizes(0, homeB)).containsExactly(128 * KIB);
            assertThat(pool.statistics(0).emptyBlockCount()).isZero();
            pool.checkInvariants();
            b.release();
            pool.checkInvariants();
        }
    }

    @Test
    void anArenaThatCannotGrowShouldPlaceInAnotherArenasBlock(VulkanContext context) throws Exception {
        // Room for one 128 KiB block and a little more: the second arena's first block does not fit.
        try (VulkanMemoryAllocator vma = vma(context, 160 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).build())) {
            PooledBuffer a = on(first, () -> pool.allocate(request(16 * KIB)));
            PooledBuffer b = on(second, () -> pool.allocate(request(16 * KIB)));
            assertThat(b.pool()).as("the first arena's block").isSameAs(a.pool());
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            // When no arena has room, the failure is the device's.
            assertThatThrownBy(() -> on(second, () -> pool.allocate(request(120 * KIB))))
                    .isInstanceOfSatisfying(PoolException.class,
                            e -> assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY));
            a.release();
            b.release();
            pool.checkInvariants();
        }
    }

    @Test
    void blocksEmptiedByWaitingReleasesShouldBeFreedBeforeTheArenaAsksForANewOne(VulkanContext context)
            throws Exception {
        // Room for one 256 KiB block: the second can only come once the first is freed.
        try (VulkanMemoryAllocator vma = vma(context, 300 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, 4 * MIB, 2).maxEmptyBlocks(0)
                     .build())) {
            PooledBuffer a = on(first, () -> pool.allocate(request(200 * KIB)));
            releaseOn(second, a);
            int homeA = on(first, () -> pool.homeArena(0));
            assertThat(pool.pendingReleases(0, homeA)).isEqualTo(1);
            // The drain empties the block (none is kept) and frees it before the new block is asked for.
            PooledBuffer again = on(first, () -> pool.allocate(request(200 * KIB)));
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            again.release();
            pool.checkInvariants();
        }
    }

    @Test
    void anArenaThatCannotGrowShouldFirstFreeTheReleasesWaitingInOtherArenas(VulkanContext context)
            throws Exception {
        try (VulkanMemoryAllocator vma = vma(context, 160 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).maxEmptyBlocks(0)
                     .build())) {
            PooledBuffer a = on(first, () -> pool.allocate(request(100 * KIB)));
            // Released by the second thread: it waits in the first thread's arena, holding the only block.
            PooledBuffer b = on(second, () -> {
                a.release();
                return pool.allocate(request(100 * KIB));
            });
            assertThat(pool.deviceMemoryCount()).as("the first block was freed, the second made").isEqualTo(1);
            int homeB = on(second, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, homeB)).containsExactly(128 * KIB);
            releaseOn(second, b);
            pool.checkInvariants();
        }
    }

    @Test
    void anArenaThatCannotGrowShouldFreeTheOtherArenasWaitingReleasesPastAFailedFree(VulkanContext context)
            throws Exception {
        otherArenasWaitingReleasesShouldAllBeFreedWhenOneFails(context, false);
    }

    @Test
    void anArenaThatCannotGrowShouldThrowTheFirstFailureOfTheOtherArenasWaitingReleases(VulkanContext context)
            throws Exception {
        otherArenasWaitingReleasesShouldAllBeFreedWhenOneFails(context, true);
    }

    /**
     * Three arenas of one 128 KiB block each under a 448 KiB heap limit: arena 0 holds keep, h and g, arena 1 r1,
     * arena 2 r2; h waits on arena 0's stack, released by arena 1's thread. A 100 KiB request of arena 0's thread
     * frees h (meanwhile that thread releases g, which waits in turn) and finds no room, and neither a 256 nor a
     * 128 KiB block fits the heap. Unlocking finishes g (meanwhile r1 and r2 are released, so they wait in arenas 1
     * and 2), and an arena that cannot grow frees the other arenas' waiting releases: r1's free throws. r2 must still
     * be freed and its block, empty now (maxEmptyBlocks 0), go back to VMA; when r2's free fails too, its failure
     * rides on r1's. The request ends as OUT_OF_DEVICE_MEMORY, r1's failure suppressed on it.
     */
    private void otherArenasWaitingReleasesShouldAllBeFreedWhenOneFails(VulkanContext context, boolean bothFail)
            throws Exception {
        List<ExecutorService> threads = threadsInThreeArenas();
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context, 448 * KIB)) {
            ThreeArenas t = threeArenasWithAWaitingRelease(context, vma, frees, threads);
            BlockPoolAllocator pool = t.pool();
            PooledBuffer keep = t.keep();
            PooledBuffer g = t.g();
            PooledBuffer r1 = t.r1();
            PooledBuffer r2 = t.r2();

            // The hooks run on arena 0's thread, under arena 0's lock.
            frees.beforeFree(0, () -> {
                g.release();
                frees.beforeFree(0, () -> {
                    r1.release();
                    r2.release();
                    // g's own free succeeds.
                    frees.failAfter(1, bothFail ? 2 : 1);
                });
            });
            Throwable failure = catchThrowable(() -> on(threads.get(0), () -> pool.allocate(request(100 * KIB))));
            assertThat(frees.thrown()).as(bothFail ? "r1's free and r2's" : "r1's free").hasSize(bothFail ? 2 : 1);
            assertThat(failure).isInstanceOfSatisfying(PoolException.class, e -> {
                assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY);
                assertThat(e.getSuppressed()).as("the first failure").containsExactly(frees.thrown().get(0));
            });
            if (bothFail) {
                assertThat(frees.thrown().get(0).getSuppressed()).as("r2's failure rides on r1's")
                        .containsExactly(frees.thrown().get(1));
            }
            assertThat(pool.pendingReleases(0, 0)).as("g").isZero();
            assertThat(pool.pendingReleases(0, 1)).as("r1 was taken off the stack").isZero();
            assertThat(pool.pendingReleases(0, 2)).as("r2 too").isZero();
            assertThat(vma.liveDeviceMemoryCount()).as(bothFail ? "r2's block still holds r2" : "r2's block went back")
                    .isEqualTo(bothFail ? 3 : 2);
            assertThat(pool.deviceMemoryCount()).isEqualTo(bothFail ? 3 : 2);
            assertThat(pool.blockSizes(0, 2)).hasSize(bothFail ? 1 : 0);
            pool.close();
            assertThat(keep.isReleased()).isTrue();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
        } finally {
            threads.forEach(ExecutorService::shutdownNow);
        }
    }

    @Test
    void anArenaThatCannotGrowShouldFreeTheOtherArenasWaitingReleasesPastErrorsFromDestroyingTheirBlocks(
            VulkanContext context) throws Exception {
        // As above, but r1's and r2's frees succeed and each empties its block (maxEmptyBlocks 0), and destroying
        // each throws an Error (a DeviceMemoryListener's, which VMA lets through once the memory is freed). r2 must
        // still be freed once r1's block failed, and its block go back; the request ends with r1's Error, r2's
        // suppressed on it.
        List<ExecutorService> threads = threadsInThreeArenas();
        FailingFrees frees = new FailingFrees();
        Error r1Error = new Error("freed() failed (injected by the test, r1's block)");
        Error r2Error = new Error("freed() failed (injected by the test, r2's block)");
        try (VulkanMemoryAllocator vma = vma(context, 448 * KIB)) {
            ThreeArenas t = threeArenasWithAWaitingRelease(context, vma, frees, threads);
            BlockPoolAllocator pool = t.pool();
            PooledBuffer keep = t.keep();
            PooledBuffer g = t.g();
            PooledBuffer r1 = t.r1();
            PooledBuffer r2 = t.r2();

            // The hooks run on arena 0's thread, under arena 0's lock.
            frees.beforeFree(0, () -> {
                g.release();
                frees.beforeFree(0, () -> {
                    r1.release();
                    r2.release();
                });
            });
            // No block is destroyed before the other arenas' drains: r1's is the first, r2's the second.
            FailingListeners.failFreedCalls(vma, r1Error, r2Error);
            Throwable failure = catchThrowable(() -> on(threads.get(0), () -> pool.allocate(request(100 * KIB))));
            assertThat(failure).isInstanceOf(ExecutionException.class);
            assertThat(failure.getCause()).isSameAs(r1Error);
            assertThat(r1Error.getSuppressed()).as("r2's Error rides on r1's, then why the request failed")
                    .satisfiesExactly(e -> assertThat(e).isSameAs(r2Error),
                            e -> assertThat(e).isInstanceOfSatisfying(VulkanException.class, v ->
                                    assertThat(v.resultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY")));
            assertThat(pool.pendingReleases(0, 0)).as("g").isZero();
            assertThat(pool.pendingReleases(0, 1)).as("r1").isZero();
            assertThat(pool.pendingReleases(0, 2)).as("r2, past r1's Error").isZero();
            assertThat(pool.blockSizes(0, 1)).isEmpty();
            assertThat(pool.blockSizes(0, 2)).isEmpty();
            assertThat(vma.liveDeviceMemoryCount()).as("both blocks went back").isEqualTo(1);
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            pool.close();
            assertThat(keep.isReleased()).isTrue();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
        } finally {
            threads.forEach(ExecutorService::shutdownNow);
        }
    }

    /** A pool of three arenas that {@link #threeArenasWithAWaitingRelease} set up, and its buffers. */
    private record ThreeArenas(BlockPoolAllocator pool, PooledBuffer keep, PooledBuffer g, PooledBuffer r1,
                               PooledBuffer r2) {
    }

    /**
     * A pool of three arenas (maxEmptyBlocks 0, {@code frees} as the suballocators) whose homes are the three threads'
     * (0, 1, 2): arena 0 holds keep (112 KiB) and g in a 128 KiB block, with h released on the second thread and
     * waiting on its stack; arenas 1 and 2 hold r1 and r2 in a block each.
     */
    private static ThreeArenas threeArenasWithAWaitingRelease(VulkanContext context, VulkanMemoryAllocator vma,
                                                              FailingFrees frees, List<ExecutorService> threads)
            throws Exception {
        BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 3).maxEmptyBlocks(0)
                .suballocatorFactory(frees).build());
        PooledBuffer keep = on(threads.get(0), () -> pool.allocate(request(112 * KIB)));
        PooledBuffer h = on(threads.get(0), () -> pool.allocate(request(4 * KIB)));
        PooledBuffer g = on(threads.get(0), () -> pool.allocate(request(4 * KIB)));
        PooledBuffer r1 = on(threads.get(1), () -> pool.allocate(request(20 * KIB)));
        PooledBuffer r2 = on(threads.get(2), () -> pool.allocate(request(20 * KIB)));
        for (int i = 0; i < 3; i++) {
            assertThat(on(threads.get(i), () -> pool.homeArena(0))).isEqualTo(i);
            assertThat(pool.blockSizes(0, i)).containsExactly(128 * KIB);
        }
        // Last: statistics and blockSizes finish the releases waiting in the arenas they lock.
        releaseOn(threads.get(1), h);
        assertThat(pool.pendingReleases(0, 0)).as("h").isEqualTo(1);
        return new ThreeArenas(pool, keep, g, r1, r2);
    }

    /**
     * @return three threads whose homes in a pool of three arenas are arenas 0, 1 and 2, in that order (threads are
     *         numbered as they first ask, so three that ask one after the other have different homes; another thread
     *         asking in between is retried)
     */
    private static List<ExecutorService> threadsInThreeArenas() throws Exception {
        for (int attempt = 0; attempt < 10; attempt++) {
            ExecutorService[] byHome = new ExecutorService[3];
            List<ExecutorService> made = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ExecutorService thread = Executors.newSingleThreadExecutor();
                made.add(thread);
                byHome[thread.submit(BlockPoolArenaTest::threadNumber).get() % 3] = thread;
            }
            if (byHome[0] != null && byHome[1] != null && byHome[2] != null) {
                return List.of(byHome);
            }
            made.forEach(ExecutorService::shutdownNow);
        }
        throw new IllegalStateException("no three threads with different home arenas in 10 attempts");
    }

    @Test
    void blocksAGrowingArenaDestroysShouldEachBeDestroyedOnceWhenOneFails(VulkanContext context) throws Exception {
        // The first thread's arena holds X (keep) and Y1, Y2, Y3, each with one 4 KiB range placed at an alignment no
        // earlier block has room at (128, 256, 512 KiB); the three were released on the other thread and wait on the
        // arena's stack. A 100 KiB request frees them (maxEmptyBlocks 0: the blocks leave the arena) and finds no
        // room, so the blocks are destroyed before the arena grows, and destroying the second fails. Every other
        // block must still be destroyed, and none twice (each destroy counts its memory out of the pool): the
        // request fails with that failure, and the pool's counts are VMA's.
        Error injected = new Error("freed() failed (injected by the test)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).maxEmptyBlocks(0).build());
            PooledBuffer keep = on(first, () -> pool.allocate(request(112 * KIB)));
            List<PooledBuffer> aligned = new ArrayList<>();
            for (long alignment = 128 * KIB; alignment <= 512 * KIB; alignment <<= 1) {
                BlockRequest request = request(4 * KIB).withAlignment(alignment);
                aligned.add(on(first, () -> pool.allocate(request)));
            }
            int home = on(first, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, home)).containsExactly(128 * KIB, 256 * KIB, 512 * KIB, MIB);
            releaseOn(second, aligned);
            assertThat(pool.pendingReleases(0, home)).isEqualTo(3);

            FailingListeners.failFreedCall(vma, 2, injected);
            Throwable failure = catchThrowable(() -> on(first, () -> pool.allocate(request(100 * KIB))));
            assertThat(failure).isInstanceOf(ExecutionException.class);
            assertThat(failure.getCause()).isSameAs(injected);
            assertThat(vma.liveDeviceMemoryCount()).as("X alone").isEqualTo(1);
            assertThat(pool.deviceMemoryCount()).as("each block counted out once").isEqualTo(1);
            assertThat(pool.committedBytes()).isEqualTo(128 * KIB);
            assertThat(pool.blockSizes(0, home)).containsExactly(128 * KIB);
            on(first, () -> pool.allocate(request(100 * KIB))).release();
            pool.checkInvariants();
            pool.close();
            assertThat(keep.isReleased()).isTrue();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
        }
    }

    @Test
    void blocksStatisticsEmptiedShouldAllBeDestroyedWhenDestroyingOneFails(VulkanContext context) throws Exception {
        // Each arena has one block holding one range, released on the other arena's thread, so it waits on its
        // arena's stack. statistics() finishes both (maxEmptyBlocks 0: both blocks leave their arenas) and then
        // destroys the two blocks: destroying the first fails. The second must not stay allocated, out of every list.
        Error injected = new Error("freed() failed (injected by the test)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).maxEmptyBlocks(0).build());
            PooledBuffer x = on(first, () -> pool.allocate(request(20 * KIB)));
            PooledBuffer y = on(second, () -> pool.allocate(request(20 * KIB)));
            releaseOn(second, x);
            releaseOn(first, y);
            assertThat(pool.pendingReleases(0, 0)).isEqualTo(1);
            assertThat(pool.pendingReleases(0, 1)).isEqualTo(1);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(2);

            FailingListeners.failFreedCall(vma, 1, injected);
            assertThatThrownBy(() -> pool.statistics(0)).isSameAs(injected);
            assertThat(vma.liveDeviceMemoryCount()).as("both blocks went back to VMA").isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(pool.statistics(0).blockCount()).isZero();
            pool.close();
        }
    }

    @Test
    void closeShouldDestroyEveryBlockPastOnesWhoseDestroyThrowsAnError(VulkanContext context) throws Exception {
        // Five memory objects: the first thread's arena grew three blocks, the second thread's one, and a buffer has
        // dedicated memory. Destroying the first and the third of them throws an Error (a DeviceMemoryListener's,
        // which VMA lets through once the memory is freed): close() must still free every one and count each out,
        // then throw the first Error, the second suppressed on it.
        Error firstError = new Error("freed() failed (injected by the test, first call)");
        Error thirdError = new Error("freed() failed (injected by the test, third call)");
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).build());
            List<PooledBuffer> live = new ArrayList<>();
            for (long size = 100 * KIB; size <= 400 * KIB; size <<= 1) {
                long bytes = size;
                live.add(on(first, () -> pool.allocate(request(bytes))));
            }
            live.add(on(second, () -> pool.allocate(request(4 * KIB))));
            live.add(on(second, () -> pool.allocate(request(4 * KIB)
                    .withPreference(AllocatePreference.ALWAYS_ALLOCATE))));
            int home = on(first, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, home)).containsExactly(128 * KIB, 256 * KIB, 512 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(5);
            assertThat(pool.deviceMemoryCount()).isEqualTo(5);

            FailingListeners.failFreedCalls(vma, firstError, null, thirdError);
            Throwable failure = catchThrowable(pool::close);
            assertThat(failure).isSameAs(firstError);
            assertThat(failure.getSuppressed()).containsExactly(thirdError);
            assertThat(pool.isClosed()).isTrue();
            assertThat(live).allMatch(PooledBuffer::isReleased);
            assertThat(vma.liveDeviceMemoryCount()).as("every block went back to VMA").isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            pool.close();
        }
    }

    @Test
    void remoteReleasesOfAnEighthOfABlockShouldBeFreedByTheReleasingThread(VulkanContext context) throws Exception {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).build())) {
            List<PooledBuffer> three = on(first, () -> List.of(pool.allocate(request(64 * KIB)),
                    pool.allocate(request(64 * KIB)), pool.allocate(request(64 * KIB))));
            int homeA = on(first, () -> pool.homeArena(0));
            releaseOn(second, three.get(0));
            assertThat(pool.pendingReleases(0, homeA)).isEqualTo(1);
            // 128 KiB waiting: an eighth of the 1 MiB block size, so the releasing thread frees them.
            releaseOn(second, three.get(1));
            assertThat(pool.pendingReleases(0, homeA)).isZero();
            assertThat(pool.statistics(0).allocationCount()).isEqualTo(1);
            three.get(2).release();
            pool.checkInvariants();
        }
    }

    @Test
    void aDeviceMemoryListenerThatCallsBackIntoThePoolShouldFailAloneNotHang(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 2).build())) {
            List<Throwable> seen = new ArrayList<>();
            vma.addDeviceMemoryListener(new VulkanMemoryAllocator.DeviceMemoryListener() {
                @Override
                public void allocated(int memoryTypeIndex, long memory, long size) {
                    try {
                        pool.statistics(memoryTypeIndex);
                    } catch (RuntimeException e) {
                        seen.add(e);
                        throw e;
                    }
                }

                @Override
                public void freed(int memoryTypeIndex, long memory, long size) {
                }
            });
            PooledBuffer b = pool.allocate(request(4 * KIB));
            assertThat(seen).singleElement().isInstanceOf(IllegalStateException.class)
                    .satisfies(e -> assertThat(e.getMessage()).contains("locked by this thread already"));
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            b.release();
            pool.checkInvariants();
        }
    }

    @Test
    void oneArenaShouldBeOneListOfBlocksWhateverTheThread(VulkanContext context) throws Exception {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB, 1).build())) {
            PooledBuffer a = on(first, () -> pool.allocate(request(16 * KIB)));
            PooledBuffer b = on(second, () -> pool.allocate(request(16 * KIB)));
            assertThat(b.pool()).isSameAs(a.pool());
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            b.release();
            assertThat(pool.statistics(0).allocationCount()).isEqualTo(1);
            a.release();
            pool.checkInvariants();
        }
    }

    @Test
    void arenaCountsOutsideOneToSixtyFourShouldBeRefused() {
        assertThatThrownBy(() -> BlockPoolAllocator.Config.builder().arenas(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessage("arenas: 0 (expected: 1..64)");
        assertThatThrownBy(() -> BlockPoolAllocator.Config.builder().arenas(65).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessage("arenas: 65 (expected: 1..64)");
        int processors = Runtime.getRuntime().availableProcessors();
        assertThat(BlockPoolAllocator.Config.defaults().arenas())
                .isEqualTo(Math.min(processors, BlockPoolAllocator.Config.DEFAULT_MAX_ARENAS));
    }

    /**
     * A miss takes the ranges waiting on its home arena's stack into the thread's cache; when the blocks still have no
     * room, those go back to their blocks before the pool grows (here, under a heap limit, growing would fail).
     */
    @Test
    void rangesTakenFromTheArenasStackShouldGoBackBeforeThePoolGrows(VulkanContext context) throws Exception {
        // 160 KiB: the first 128 KiB block fits, no second block of 64 KiB or more does.
        try (VulkanMemoryAllocator vma = vma(context, 160 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma,
                     BlockPoolTesting.config(context, MIB).arenas(2).build())) {
            List<PooledBuffer> mine = on(first, () -> {
                List<PooledBuffer> list = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    list.add(pool.allocate(request(8 * KIB)));
                }
                return list;
            });
            int homeA = on(first, () -> pool.homeArena(0));
            assertThat(pool.blockSizes(0, homeA)).containsExactly(128 * KIB);
            // The other thread releases 15 of them and flushes its cache: the batch it filled for the first thread
            // goes back to the blocks, so the 15 ranges wait on the first thread's arena's stack.
            on(second, () -> {
                for (int i = 0; i < 15; i++) {
                    mine.get(i).release();
                }
                pool.flushThreadCache();
                return null;
            });
            assertThat(pool.pendingReleases(0, homeA)).isEqualTo(15);
            // 120 KiB of the block are only waiting to be freed: a 4 KiB request fits once they are.
            PooledBuffer small = on(first, () -> pool.allocate(request(4 * KIB)));
            assertThat(small.pool()).isSameAs(mine.get(15).pool());
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            pool.checkInvariants();
        }
    }

    /**
     * Out of memory on one thread asks every other thread to give its cached ranges back at its next request or
     * release, of any size: also a request too large for the cache, which never looks at the cache's bins.
     */
    @Test
    void aFlushRequestShouldBeHonouredByTheNextRequestOfAnySize(VulkanContext context) throws Exception {
        try (VulkanMemoryAllocator vma = vma(context, 2 * MIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma,
                     BlockPoolTesting.config(context, MIB).arenas(1).build())) {
            // This thread keeps four 4 KiB ranges in its cache.
            List<PooledBuffer> small = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                small.add(pool.allocate(request(4 * KIB)));
            }
            small.forEach(PooledBuffer::release);
            assertThat(pool.statistics(0).cachedRanges()).isEqualTo(4);
            // Another thread runs out of device memory (3 MiB of dedicated memory under a 2 MiB heap).
            assertThatThrownBy(() -> on(second, () -> pool.allocate(request(3 * MIB))))
                    .isInstanceOfSatisfying(PoolException.class, e -> assertThat(e.kind())
                            .isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY));
            // This thread's next request, 32 KiB (above the 8 KiB its cache keeps), fits in its block.
            PooledBuffer large = pool.allocate(request(32 * KIB));
            assertThat(pool.statistics(0).cachedRanges()).as("ranges given back at the next request").isZero();
            large.release();
        }
    }
}
