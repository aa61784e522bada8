package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_INDEX_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.IBufferAllocator.OnAllocationFailure;
import io.github.solvk.memory.diagnostics.LeakReport;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.pool.FailingListeners;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

@ExtendWith(VulkanExtension.class)
class BlockPoolBufferAllocatorTest {

    @Test
    void blockPoolsShouldGiveSubRangesAndOwnBuffersThatCarryDataThroughTheGpu(VulkanContext context,
                                                                             MemoryManager manager) {
        int subRangeUsage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
        long vkAllocationsBefore = manager.allocator().deviceMemoryAllocationCount();
        try (BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("general",
                BlockPoolAllocator.Config.builder().subRangeUsage(subRangeUsage).build());
             IBuffer staging = blocks.allocateBuffer(AllocationInfo.builder().name("staging").size(5000)
                     .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.UPLOAD).build());
             IBuffer mesh = blocks.allocateBuffer(AllocationInfo.builder().name("mesh").size(5000)
                     .bufferUsage(VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT
                             | VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                     .memoryUsage(MemoryUsage.DEVICE_ONLY).build());
             IBuffer back = blocks.allocateBuffer(AllocationInfo.builder().name("back").size(5000)
                     .bufferUsage(VK_BUFFER_USAGE_TRANSFER_DST_BIT).memoryUsage(MemoryUsage.DOWNLOAD).build())) {
            assertThat(mesh.offset()).as("own VkBuffer: its range starts at 0 of its own buffer").isZero();
            assertThat(mesh.buffer()).isNotEqualTo(staging.buffer());
            assertThat(staging.allocator()).isSameAs(blocks);
            byte[] data = new byte[5000];
            new Random(5).nextBytes(data);
            staging.write(0, data);
            GpuRoundTripTest.copy(context, staging, 0, mesh, 0, 5000);
            GpuRoundTripTest.copy(context, mesh, 0, back, 0, 5000);
            byte[] read = new byte[5000];
            back.read(0, read);
            assertThat(read).isEqualTo(data);
            assertThat(manager.allocator().deviceMemoryAllocationCount() - vkAllocationsBefore)
                    .as("one block for lavapipe's one memory type, not one per buffer").isEqualTo(1);
        }
    }

    @Test
    void neverAllocateWithoutABlockShouldFailAndConcurrentSharingIsRefused(MemoryManager manager) {
        BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("strict",
                BlockPoolAllocator.Config.defaults());
        AllocationInfo never = AllocationInfo.builder().size(256).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                .memoryUsage(MemoryUsage.UPLOAD).allocationFlags(AllocationFlags.NEVER_ALLOCATE).build();
        assertThatThrownBy(() -> blocks.allocateBuffer(never)).isInstanceOfSatisfying(
                MemoryAllocationException.class, e -> assertThat(e.reason())
                        .isEqualTo(MemoryAllocationException.Reason.OUT_OF_POOL_MEMORY));
        assertThat(blocks.allocateBuffer(never, OnAllocationFailure.EMPTY)).isNull();
        assertThatThrownBy(() -> blocks.allocateBuffer(never, OnAllocationFailure.WAIT))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThat(manager.statistics().total().blockCount()).isZero();
        blocks.close();
    }

    @Test
    void closingTheManagerShouldFreeTheBlockPools(VulkanContext context) {
        MemoryManager manager = MemoryManager.create(context);
        IBufferAllocator blocks = manager.createBlockPoolAllocator("closing", BlockPoolAllocator.Config.defaults());
        IBuffer leftOpen = blocks.allocateBuffer(AllocationInfo.builder().size(100)
                .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.UPLOAD).build());
        assertThat(manager.statistics().total().blockCount()).isEqualTo(1);
        manager.close();
        assertThatThrownBy(manager::releaseUnusedMemory).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThat(leftOpen.isClosed()).isTrue();
        assertThatThrownBy(leftOpen::buffer).isInstanceOf(IllegalStateException.class);
    }

    private static final AllocationInfo SMALL = AllocationInfo.builder().size(300)
            .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.UPLOAD).build();

    @Test
    void liveBuffersShouldBeCountedWithoutTheRangesThreadsKeepAndNoneOnceClosed(MemoryManager manager) {
        BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("counted",
                BlockPoolAllocator.Config.defaults());
        IBuffer a = blocks.allocateBuffer(SMALL);
        IBuffer b = blocks.allocateBuffer(SMALL);
        assertThat(blocks.liveBufferCount()).isEqualTo(2);
        a.close();
        a.close();
        assertThat(blocks.liveBufferCount()).as("closed twice, counted once; its range waits in a cache")
                .isEqualTo(1);
        assertThat(blocks.statistics().get(0).cachedRanges()).isEqualTo(1);
        blocks.close();
        assertThat(blocks.liveBufferCount()).isZero();
        assertThat(b.isClosed()).as("released by the block pools' close").isTrue();
        b.close();
        assertThatThrownBy(() -> blocks.allocateBuffer(SMALL)).isInstanceOf(IllegalStateException.class)
                .hasMessage("block pools 'counted' are closed (expected: open block pools)");
    }

    @Test
    void releasingUnusedMemoryShouldFreeTheBlocksNoBufferUsesInEveryBlockPoolOfTheManager(MemoryManager manager) {
        BlockPoolBufferAllocator first = manager.createBlockPoolAllocator("first",
                BlockPoolAllocator.Config.defaults());
        BlockPoolBufferAllocator second = manager.createBlockPoolAllocator("second",
                BlockPoolAllocator.Config.defaults());
        long blocksBefore = manager.statistics().total().blockCount();
        IBuffer kept = first.allocateBuffer(SMALL);
        first.allocateBuffer(SMALL).close();
        second.allocateBuffer(SMALL).close();
        long firstCommitted = first.committedBytes();
        long secondCommitted = second.committedBytes();
        assertThat(manager.statistics().total().blockCount() - blocksBefore).isEqualTo(2);

        assertThat(manager.releaseUnusedMemory()).as("the second pools' block; the first holds a live buffer")
                .isEqualTo(secondCommitted);

        assertThat(second.committedBytes()).isZero();
        assertThat(first.committedBytes()).isEqualTo(firstCommitted);
        assertThat(manager.statistics().total().blockCount() - blocksBefore).isEqualTo(1);
        byte[] data = {1, 2, 3, 4};
        kept.write(0, data);
        byte[] back = new byte[4];
        kept.read(0, back);
        assertThat(back).isEqualTo(data);
        kept.close();
        assertThat(first.releaseUnusedMemory()).isEqualTo(firstCommitted);
        assertThat(manager.statistics().total().blockCount() - blocksBefore).isZero();
        first.close();
        assertThatThrownBy(first::releaseUnusedMemory).isInstanceOf(IllegalStateException.class)
                .hasMessage("block pools 'first' are closed (expected: open block pools)");
        assertThat(manager.releaseUnusedMemory()).as("closed pools are left out, the others hold nothing").isZero();
        second.close();
    }

    @Test
    void aThreadThatFlushesItsCacheShouldLetTheBlocksOnlyItsCacheHeldBeFreed(MemoryManager manager) throws Exception {
        // A loader thread makes and closes buffers: their ranges wait in its cache and hold their block, which
        // releaseUnusedMemory() on another thread cannot take while the loader lives. Once the loader flushes its
        // cache, through its allocator or through the manager for all of them, the block goes.
        BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("loader",
                BlockPoolAllocator.Config.defaults());
        ExecutorService loader = Executors.newSingleThreadExecutor();
        try {
            Runnable load = () -> {
                List<IBuffer> level = new ArrayList<>();
                for (int i = 0; i < 64; i++) {
                    level.add(blocks.allocateBuffer(SMALL));
                }
                level.forEach(IBuffer::close);
            };
            loader.submit(load).get();
            long committed = blocks.committedBytes();
            assertThat(committed).isPositive();
            assertThat(blocks.statistics().get(0).cachedRanges()).as("in the loader's cache").isEqualTo(64);
            assertThat(blocks.releaseUnusedMemory()).as("the loader's cache holds the block").isZero();
            assertThat(blocks.committedBytes()).isEqualTo(committed);
            blocks.flushThreadCache();
            assertThat(blocks.committedBytes()).as("a thread that never called has nothing to flush")
                    .isEqualTo(committed);

            loader.submit(blocks::flushThreadCache).get();

            assertThat(blocks.statistics().get(0).cachedRanges()).isZero();
            assertThat(blocks.releaseUnusedMemory()).isEqualTo(committed);
            assertThat(blocks.committedBytes()).isZero();

            loader.submit(load).get();
            long again = blocks.committedBytes();
            assertThat(again).isPositive();
            loader.submit(manager::flushThreadCaches).get();
            assertThat(manager.releaseUnusedMemory()).isEqualTo(again);
            assertThat(blocks.liveBufferCount()).isZero();

            blocks.close();
            assertThatThrownBy(() -> loader.submit(blocks::flushThreadCache).get())
                    .hasCauseInstanceOf(IllegalStateException.class)
                    .hasRootCauseMessage("block pools 'loader' are closed (expected: open block pools)");
            loader.submit(manager::flushThreadCaches).get();
        } finally {
            loader.shutdownNow();
        }
    }

    @Test
    void aCloseOnAnotherThreadShouldWaitForTheManagersReleaseOfUnusedMemory(VulkanContext context) throws Exception {
        long[] committed = {0};
        long released = closeWhileFreeing(context, (manager, blocks) -> {
            committed[0] = blocks.committedBytes();
            return manager.releaseUnusedMemory();
        });
        assertThat(released).isEqualTo(committed[0]);
    }

    @Test
    void theManagersCloseShouldWaitForTheBlockPoolsOwnCloseOnAnotherThread(VulkanContext context) throws Exception {
        closeWhileFreeing(context, (manager, blocks) -> {
            blocks.close();
            return 0L;
        });
    }

    @Test
    void theManagersCloseShouldWaitForTheBlockPoolsOwnReleaseOfUnusedMemory(VulkanContext context) throws Exception {
        long[] committed = {0};
        long released = closeWhileFreeing(context, (manager, blocks) -> {
            committed[0] = blocks.committedBytes();
            return blocks.releaseUnusedMemory();
        });
        assertThat(released).isEqualTo(committed[0]);
    }

    @Test
    void theBlockPoolsOwnCloseShouldWaitForTheirReleaseOfUnusedMemory(VulkanContext context) throws Exception {
        long[] committed = {0};
        long released = closeWhileFreeing(context, (manager, blocks) -> {
            committed[0] = blocks.committedBytes();
            return blocks.releaseUnusedMemory();
        }, (manager, blocks) -> blocks.close());
        assertThat(released).isEqualTo(committed[0]);
    }

    @Test
    void closeFromADeviceMemoryListenerInsideItsOwnAllocateBufferShouldThrowAndChangeNothing(MemoryManager manager) {
        BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("listener closes",
                BlockPoolAllocator.Config.defaults());
        Throwable[] fromListener = FailingListeners.onFirstAllocated(manager.allocator(), blocks::close);
        IBuffer made = blocks.allocateBuffer(AllocationInfo.builder().size(1000)
                .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.UPLOAD).build());
        assertThat(fromListener[0]).isInstanceOf(IllegalStateException.class)
                .hasMessage("block pools 'listener closes': close() called from a DeviceMemoryListener (expected: "
                        + "close() once the call that runs the listener has returned)");
        assertThat(blocks.isClosed()).isFalse();
        assertThat(blocks.liveBufferCount()).isEqualTo(1);
        made.close();
        blocks.close();
        assertThat(blocks.committedBytes()).isZero();
    }

    @Test
    void callsThatFreeBlocksFromADeviceMemoryListenerShouldThrowAndChangeNothing(MemoryManager manager) {
        // A listener runs inside a call, for a new block under its arena's lock. flushThreadCache() or
        // releaseUnusedMemory() from it waited for the allocator's monitor, held by a releaseUnusedMemory() on another
        // thread that waited for that arena's lock: a deadlock. They are refused there, as close() is (here inside
        // the allocation of dedicated memory).
        BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("listener flushes",
                BlockPoolAllocator.Config.defaults());
        AllocationInfo info = AllocationInfo.builder().size(1000).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                .memoryUsage(MemoryUsage.UPLOAD).build();
        blocks.allocateBuffer(info).close();
        long committed = blocks.committedBytes();
        assertThat(blocks.statistics().get(0).cachedRanges()).as("kept in this thread's cache").isOne();
        Throwable[] flush = FailingListeners.onFirstAllocated(manager.allocator(), blocks::flushThreadCache);
        Throwable[] release = FailingListeners.onFirstAllocated(manager.allocator(), blocks::releaseUnusedMemory);
        Throwable[] flushAll = FailingListeners.onFirstAllocated(manager.allocator(), manager::flushThreadCaches);
        Throwable[] releaseAll = FailingListeners.onFirstAllocated(manager.allocator(), manager::releaseUnusedMemory);
        IBuffer own = blocks.allocateBuffer(info.toBuilder().allocationFlags(AllocationFlags.DEDICATED_MEMORY).build());
        assertThat(flush[0]).isInstanceOf(IllegalStateException.class)
                .hasMessage("block pools 'listener flushes': flushThreadCache() called from a DeviceMemoryListener"
                        + " (expected: flushThreadCache() once the call that runs the listener has returned)");
        assertThat(release[0]).isInstanceOf(IllegalStateException.class)
                .hasMessage("block pools 'listener flushes': releaseUnusedMemory() called from a DeviceMemoryListener"
                        + " (expected: releaseUnusedMemory() once the call that runs the listener has returned)");
        assertThat(flushAll[0]).isInstanceOf(IllegalStateException.class)
                .hasMessage("MemoryManager.flushThreadCaches() called from a DeviceMemoryListener (expected:"
                        + " flushThreadCaches() once the call that runs the listener has returned)");
        assertThat(releaseAll[0]).isInstanceOf(IllegalStateException.class)
                .hasMessage("MemoryManager.releaseUnusedMemory() called from a DeviceMemoryListener (expected:"
                        + " releaseUnusedMemory() once the call that runs the listener has returned)");
        assertThat(blocks.statistics().get(0).cachedRanges()).as("nothing flushed").isOne();
        assertThat(blocks.committedBytes()).as("the block and the dedicated memory").isGreaterThan(committed);
        own.close();
        blocks.flushThreadCache();
        assertThat(blocks.statistics().get(0).cachedRanges()).isZero();
        assertThat(blocks.releaseUnusedMemory()).isEqualTo(committed);
        blocks.close();
    }

    @Test
    void closingClosedBlockPoolsAgainFromADeviceMemoryListenerShouldDoNothing(MemoryManager manager) {
        BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("closed",
                BlockPoolAllocator.Config.defaults());
        blocks.close();
        Throwable[] fromListener = FailingListeners.onFirstAllocated(manager.allocator(), blocks::close);
        manager.allocateBuffer(AllocationInfo.builder().size(1000).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                .memoryUsage(MemoryUsage.UPLOAD).allocationFlags(AllocationFlags.DEDICATED_MEMORY).build()).close();
        assertThat(fromListener[0]).as("\"calling it again does nothing\"").isNull();
    }

    /**
     * Runs {@code call} on another thread over a manager with block pools that keep two empty blocks, holds that
     * thread in the free of the first block, and closes the manager meanwhile: the close must wait for the call, and
     * then destroy the VMA allocator with nothing left in it.
     *
     * @return what {@code call} returned
     */
    private static long closeWhileFreeing(VulkanContext context,
                                          BiFunction<MemoryManager, BlockPoolBufferAllocator, Long> call)
            throws Exception {
        return closeWhileFreeing(context, call, (manager, blocks) -> manager.close());
    }

    /**
     * {@link #closeWhileFreeing(VulkanContext, BiFunction)} with another close ({@code close}):
     * it must wait for the call too, and when it closed the block pools only, they must have given every block back.
     */
    private static long closeWhileFreeing(VulkanContext context,
                                          BiFunction<MemoryManager, BlockPoolBufferAllocator, Long> call,
                                          BiConsumer<MemoryManager, BlockPoolBufferAllocator> close)
            throws Exception {
        CountDownLatch inFree = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        boolean[] armed = {false};
        VulkanMemoryAllocator vma = VulkanMemoryAllocator.create(VulkanMemoryAllocator.Settings.forContext(context));
        MemoryManager manager = new MemoryManager(vma);
        vma.addDeviceMemoryListener(new VulkanMemoryAllocator.DeviceMemoryListener() {
            @Override
            public void allocated(int memoryTypeIndex, long memory, long size) {
            }

            @Override
            public void freed(int memoryTypeIndex, long memory, long size) {
                if (armed[0]) {
                    armed[0] = false;
                    inFree.countDown();
                    try {
                        proceed.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        });
        BlockPoolAllocator.Config.Builder config = BlockPoolAllocator.Config.builder().arenas(1).maxEmptyBlocks(2)
                .threadCacheBytes(0);
        for (int heap = 0; heap < context.memoryProperties().heaps().size(); heap++) {
            config.blockSize(heap, 1L << 20);
        }
        BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("two empty", config.build());
        // Two blocks of one memory type, both left empty and kept: the call frees them one after the other.
        List<IBuffer> buffers = new ArrayList<>();
        AllocationInfo info = AllocationInfo.builder().size(64 << 10).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                .memoryUsage(MemoryUsage.UPLOAD).build();
        while (blocks.deviceMemoryCount() < 2 && buffers.size() < 64) {
            buffers.add(blocks.allocateBuffer(info));
        }
        buffers.forEach(IBuffer::close);
        assertThat(blocks.deviceMemoryCount()).isEqualTo(2);

        armed[0] = true;
        long[] result = {-1};
        Throwable[] thrown = new Throwable[2];
        AtomicInteger order = new AtomicInteger();
        int[] finished = new int[2];
        Thread calling = new Thread(() -> {
            try {
                result[0] = call.apply(manager, blocks);
            } catch (Throwable t) {
                thrown[0] = t;
            }
        });
        calling.start();
        assertThat(inFree.await(10, TimeUnit.SECONDS)).as("the first block being freed").isTrue();
        Thread closing = new Thread(() -> {
            try {
                close.accept(manager, blocks);
            } catch (Throwable t) {
                thrown[1] = t;
            }
            finished[1] = order.incrementAndGet();
        });
        closing.start();
        // The close waits (for the manager's lock, or for the VMA call in flight): let it get there.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (closing.getState() != Thread.State.WAITING && closing.getState() != Thread.State.BLOCKED
                && closing.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        Thread.sleep(100);
        // The order of two events: the held free let go here, and the close returning.
        finished[0] = order.incrementAndGet();
        proceed.countDown();
        calling.join(10_000);
        closing.join(10_000);
        assertThat(finished[1]).as("the close returned after the free it waited for was let go")
                .isGreaterThan(finished[0]);
        if (blocks.isClosed() && !manager.isClosed()) {
            assertThat(blocks.committedBytes()).isZero();
            assertThat(vma.liveDeviceMemoryCount()).as("every block given back").isZero();
            manager.close();
        }
        boolean destroyed = vma.isClosed();
        if (!destroyed) {
            // So that the run goes on: a second close finds nothing live any more.
            manager.close();
        }
        assertThat(thrown[0]).as("the call").isNull();
        assertThat(thrown[1]).as("the close, which must not find the second block still being freed").isNull();
        assertThat(destroyed).as("the VMA allocator destroyed by the manager's one close()").isTrue();
        return result[0];
    }

    @Test
    void aBufferDroppedWithoutCloseShouldBeReportedUnlessItsBlockPoolsClosed(MemoryManager manager)
            throws Exception {
        LinkedBlockingQueue<LeakReport> reports = new LinkedBlockingQueue<>();
        Consumer<LeakReport> listener = reports::add;
        ManagedBuffer.LEAKS.addListener(listener);
        try {
            BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("leaky",
                    BlockPoolAllocator.Config.defaults());
            allocateAndForget(blocks, "dropped while open");
            LeakReport report = awaitReport(reports, 100);
            assertThat(report).as("a leak report within 10 s").isNotNull();
            assertThat(report.description()).contains("'dropped while open'").contains("block pools 'leaky'");
            assertThat(blocks.liveBufferCount()).as("reported, never freed").isEqualTo(1);

            allocateAndForget(blocks, "freed by close");
            blocks.close();
            assertThat(awaitReport(reports, 20)).as("its memory was freed when the block pools closed: not a leak")
                    .isNull();
        } finally {
            ManagedBuffer.LEAKS.removeListener(listener);
        }
    }

    private static void allocateAndForget(BlockPoolBufferAllocator blocks, String name) {
        blocks.allocateBuffer(AllocationInfo.builder().name(name).size(300)
                .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.UPLOAD).build());
    }

    private static LeakReport awaitReport(LinkedBlockingQueue<LeakReport> reports, int tries) throws Exception {
        LeakReport report = null;
        for (int i = 0; i < tries && report == null; i++) {
            System.gc();
            report = reports.poll(100, TimeUnit.MILLISECONDS);
        }
        return report;
    }

    @Test
    void fourThreadsShouldShareTheBlockPoolsWithoutLosingABuffer(MemoryManager manager) throws Exception {
        BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("shared",
                BlockPoolAllocator.Config.defaults());
        // One AllocationInfo per size, shared by the threads, as an engine's would be.
        AllocationInfo[] infos = new AllocationInfo[8];
        for (int i = 0; i < infos.length; i++) {
            infos[i] = AllocationInfo.builder().size(256L << i).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                    .memoryUsage(MemoryUsage.UPLOAD).build();
        }
        ConcurrentLinkedQueue<IBuffer> handedOver = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            long seed = t;
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                    Random random = new Random(seed);
                    List<IBuffer> mine = new ArrayList<>();
                    for (int op = 0; op < 3000; op++) {
                        IBuffer b = blocks.allocateBuffer(infos[random.nextInt(infos.length)]);
                        b.write(0, new byte[] {(byte) seed, (byte) op});
                        mine.add(b);
                        if (mine.size() > 32) {
                            IBuffer old = mine.remove(random.nextInt(mine.size()));
                            if (random.nextInt(3) == 0) {
                                handedOver.add(old);
                            } else {
                                old.close();
                            }
                        }
                        IBuffer other = handedOver.poll();
                        if (other != null) {
                            other.close();
                        }
                    }
                    mine.forEach(IBuffer::close);
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            threads.add(thread);
            thread.start();
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        handedOver.forEach(IBuffer::close);
        assertThat(failures).isEmpty();
        assertThat(blocks.liveBufferCount()).isZero();
        blocks.close();
    }

    @Test
    void closeRacingAllocationsShouldOnlyEverThrowIllegalStateAndLeaveNoMemory(MemoryManager manager)
            throws Exception {
        for (int round = 0; round < 20; round++) {
            long before = manager.allocator().liveDeviceMemoryCount();
            BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("raced " + round,
                    BlockPoolAllocator.Config.builder().blockSize(0, 1 << 20).build());
            AllocationInfo[] infos = new AllocationInfo[13];
            for (int i = 0; i < infos.length; i++) {
                // 256 B to 1 MiB in 1 MiB blocks: sub-ranges, buffers of their own, new blocks, dedicated memory.
                infos[i] = AllocationInfo.builder().size(256L << i).bufferUsage(i % 2 == 0
                        ? VK_BUFFER_USAGE_TRANSFER_SRC_BIT : VK_BUFFER_USAGE_VERTEX_BUFFER_BIT)
                        .memoryUsage(MemoryUsage.UPLOAD).build();
            }
            CloseRace.run(round, random -> blocks.allocateBuffer(infos[random.nextInt(infos.length)]), 48,
                    blocks::close, 5 + round % 5);
            assertThat(blocks.liveBufferCount()).isZero();
            assertThat(manager.allocator().liveDeviceMemoryCount()).as("round %d: no memory left", round)
                    .isEqualTo(before);
        }
    }

    @Test
    void aBufferTooLargeForAnyVkBufferShouldFailAsOutOfDeviceMemoryAsWithTheManager(MemoryManager manager) {
        // Lavapipe refuses a VkBuffer of 4 GiB: VMA's path and the block pools' must give the same reason.
        AllocationInfo huge = AllocationInfo.builder().size(4L << 30).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                .memoryUsage(MemoryUsage.UPLOAD).build();
        assertThatThrownBy(() -> manager.allocateBuffer(huge)).isInstanceOfSatisfying(MemoryAllocationException.class,
                e -> assertThat(e.reason()).isEqualTo(MemoryAllocationException.Reason.OUT_OF_DEVICE_MEMORY));
        try (BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("huge",
                BlockPoolAllocator.Config.defaults())) {
            assertThatThrownBy(() -> blocks.allocateBuffer(huge)).isInstanceOfSatisfying(
                    MemoryAllocationException.class, e -> {
                        assertThat(e.reason()).isEqualTo(MemoryAllocationException.Reason.OUT_OF_DEVICE_MEMORY);
                        assertThat(e).hasMessageContaining("4294967296 bytes");
                    });
            assertThat(blocks.allocateBuffer(huge, OnAllocationFailure.EMPTY)).isNull();
        }
    }

    @Test
    void aClosedBlockPoolAllocatorShouldBeForgottenByItsManager(MemoryManager manager) throws Exception {
        WeakReference<BlockPoolBufferAllocator> closed = closedBlockPools(manager);
        for (int i = 0; i < 50 && closed.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertThat(manager.blockPoolAllocators()).isEmpty();
        assertThat(closed.get()).as("collected while its manager lives on").isNull();
    }

    private static WeakReference<BlockPoolBufferAllocator> closedBlockPools(MemoryManager manager) {
        BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("level 1",
                BlockPoolAllocator.Config.defaults());
        blocks.allocateBuffer(AllocationInfo.builder().size(256).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                .memoryUsage(MemoryUsage.UPLOAD).build()).close();
        blocks.close();
        return new WeakReference<>(blocks);
    }
    @Test
    void hostAccessGivenAsAllocationFlagsShouldRequireHostVisibleMemory(VulkanContext context) {
        // VMA's way of asking for mappable memory: AUTO plus a HOST_ACCESS_* allocation flag. On a device whose only
        // type is device-local (lavapipe's one type, simulated so) no memory fits: the manager and the block pools
        // must say so, as they do for the hostAccess field, rather than hand out a buffer the caller cannot map.
        try (MemoryManager manager = MemoryManagerTest.deviceLocalOnly(context)) {
            BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("general",
                    BlockPoolAllocator.Config.defaults());
            for (int flag : new int[] {AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE,
                AllocationFlags.HOST_ACCESS_RANDOM}) {
                AllocationInfo staging = AllocationInfo.builder().name("staging").size(4096)
                        .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.AUTO)
                        .allocationFlags(flag).build();
                for (IBufferAllocator allocator : new IBufferAllocator[] {manager, blocks}) {
                    assertThatThrownBy(() -> allocator.allocateBuffer(staging)).as("flag 0x%x, %s", flag, allocator)
                            .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                                    .isEqualTo(MemoryAllocationException.Reason.NO_COMPATIBLE_MEMORY_TYPE));
                }
            }
            assertThat(blocks.liveBufferCount()).isZero();
            try (IBuffer plain = blocks.allocateBuffer(AllocationInfo.builder().size(4096)
                    .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.AUTO).build())) {
                assertThat(plain.isHostVisible()).as("without host access the device-local type is fine").isFalse();
            }
            VulkanExtension.assertNothingLive(manager);
        }
    }
    @Test
    void aBudgetCheckShouldKeepNewMemoryWithinTheHeapsBudget(VulkanContext context) {
        long limit = 4L << 20;
        long[] limits = new long[context.memoryProperties().heaps().size()];
        java.util.Arrays.fill(limits, limit);
        try (MemoryManager limited = new MemoryManager(VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context).withHeapSizeLimits(limits)))) {
            BlockPoolBufferAllocator blocks = limited.createBlockPoolAllocator("budgeted",
                    BlockPoolAllocator.Config.defaults());
            VulkanMemoryAllocator.Budget budget = limited.allocator().budgets().get(0);
            assertThat(budget.budgetBytes()).as("VMA's budget of the limited heap").isLessThan(limit);
            // More than the budget allows and less than the heap limit: dedicated memory (over half a block).
            long size = (budget.budgetBytes() + limit) / 2;
            AllocationInfo.Builder info = AllocationInfo.builder().size(size)
                    .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.AUTO);
            AllocationInfo withinBudget = info.allocationFlags(AllocationFlags.WITHIN_BUDGET).build();
            assertThatThrownBy(() -> blocks.allocateBuffer(withinBudget)).isInstanceOfSatisfying(
                    MemoryAllocationException.class, e -> assertThat(e.reason())
                            .isEqualTo(MemoryAllocationException.Reason.OUT_OF_DEVICE_MEMORY));
            assertThat(blocks.liveBufferCount()).isZero();
            assertThat(blocks.deviceMemoryCount()).as("nothing made for the refused request").isZero();
            try (IBuffer over = blocks.allocateBuffer(info.allocationFlags(0).build())) {
                assertThat(over.size()).as("without the check, the heap limit alone decides").isEqualTo(size);
            }
            try (IBuffer small = blocks.allocateBuffer(AllocationInfo.builder().size(4096)
                    .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.AUTO)
                    .allocationFlags(AllocationFlags.WITHIN_BUDGET).build())) {
                assertThat(small.size()).as("within the budget").isEqualTo(4096);
            }
            // The hints the block pools may ignore are taken (MAPPED with AUTO needs a host access, as in VMA).
            try (IBuffer hinted = blocks.allocateBuffer(AllocationInfo.builder().size(4096)
                    .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.AUTO)
                    .allocationFlags(AllocationFlags.STRATEGY_MIN_TIME | AllocationFlags.MAPPED
                            | AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE).build())) {
                assertThat(hinted.size()).isEqualTo(4096);
            }
        }
    }

    @Test
    void theRequestsOfUpToEightInfosTakenInTurnShouldBeRemembered(MemoryManager manager) {
        BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("general",
                BlockPoolAllocator.Config.defaults());
        AllocationInfo[] infos = new AllocationInfo[8];
        for (int i = 0; i < infos.length; i++) {
            infos[i] = AllocationInfo.builder().size(256L << i).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                    .memoryUsage(MemoryUsage.AUTO).build();
        }
        io.github.solvk.memory.pool.BlockRequest[] first = new io.github.solvk.memory.pool.BlockRequest[8];
        for (int i = 0; i < infos.length; i++) {
            first[i] = blocks.request(infos[i]);
            assertThat(first[i].size()).isEqualTo(infos[i].size());
        }
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < infos.length; i++) {
                assertThat(blocks.request(infos[i])).as("info %d, round %d", i, round).isSameAs(first[i]);
            }
        }
        AllocationInfo equalCopy = infos[0].toBuilder().build();
        assertThat(blocks.request(equalCopy)).as("remembered by identity, not by equality").isNotSameAs(first[0]);
    }
}
