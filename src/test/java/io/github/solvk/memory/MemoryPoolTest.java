package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.IBufferAllocator.Capability;
import io.github.solvk.memory.IBufferAllocator.OnAllocationFailure;
import io.github.solvk.memory.IMemoryPool.CreateInfo;
import io.github.solvk.memory.pool.BlockMemoryPool;
import io.github.solvk.memory.pool.FailingListeners;
import io.github.solvk.memory.pool.PooledBuffer;
import io.github.solvk.memory.pool.MemoryTypeFilter;
import io.github.solvk.memory.pool.PoolException;
import io.github.solvk.memory.suballocator.SuballocatorKind;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.MemoryProperties;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;
import io.github.solvk.memory.vulkan.VulkanObjects;

@ExtendWith(VulkanExtension.class)
class MemoryPoolTest {

    private static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
            | VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;
    private static final long KIB = 1024;

    private static CreateInfo info(long blockSize, int min, int max) {
        return CreateInfo.of(USAGE, MemoryUsage.UPLOAD, blockSize).withBlocks(min, max);
    }

    @Test
    void nonLinearPoolShouldMakeMinBlocksAndFillGapsBeforeANewBlock(MemoryManager manager) {
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("meshes", info(64 * KIB, 2, 3))) {
            assertThat(manager.statistics().total().blockCount()).isEqualTo(2);
            assertThat(pool.statistics().blocks()).isEqualTo(2);
            IBuffer a = pool.allocateBuffer(16 * KIB);
            IBuffer b = pool.allocateBuffer(16 * KIB);
            IBuffer c = pool.allocateBuffer(16 * KIB);
            assertThat(List.of(a.buffer(), b.buffer(), c.buffer())).as("sub-ranges of one block buffer")
                    .containsOnly(a.buffer());
            long bOffset = b.offset();
            b.close();
            IBuffer d = pool.allocateBuffer(16 * KIB);
            assertThat(d.buffer()).isEqualTo(a.buffer());
            assertThat(d.offset()).as("the gap left by b is reused").isEqualTo(bOffset);
            assertThat(pool.statistics().blocks()).isEqualTo(2);
            List<IBuffer> more = new ArrayList<>();
            for (int i = 0; i < 9; i++) {
                more.add(pool.allocateBuffer(16 * KIB));
            }
            assertThat(pool.statistics().blocks()).isEqualTo(3);
            assertThatThrownBy(() -> pool.allocateBuffer(16 * KIB))
                    .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                            .isEqualTo(MemoryAllocationException.Reason.OUT_OF_POOL_MEMORY))
                    .hasMessageContaining("at most 3 block(s)");
            assertThat(pool.allocateBuffer(IBufferAllocator.AllocationInfo.builder().size(16 * KIB)
                    .bufferUsage(VK_BUFFER_USAGE_VERTEX_BUFFER_BIT).memoryUsage(MemoryUsage.UPLOAD).build(),
                    OnAllocationFailure.EMPTY)).isNull();
            assertThatThrownBy(() -> pool.allocateBuffer(64 * KIB + 1))
                    .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                            .isEqualTo(MemoryAllocationException.Reason.BLOCK_SIZE_EXCEEDED));
            for (IBuffer x : more) {
                x.close();
            }
            a.close();
            c.close();
            d.close();
            assertThat(pool.liveBufferCount()).isZero();
            assertThat(pool.statistics().blocks()).as("min 2 blocks kept, plus one spare").isBetween(2, 3);
        }
        assertThat(manager.statistics().total().blockCount()).isZero();
    }

    @Test
    void buddyPoolShouldHandOutPowerOfTwoPlacedBuffers(MemoryManager manager) {
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("buddy",
                info(64 * KIB, 1, 1).withCreateFlags(CreateInfo.BUDDY_ALGORITHM))) {
            IBuffer a = pool.allocateBuffer(3000);
            IBuffer b = pool.allocateBuffer(3000);
            assertThat(Math.abs(b.offset() - a.offset())).isEqualTo(4096);
            a.close();
            b.close();
        }
    }

    @Test
    void freeAtOncePoolShouldRefuseAllocationsUntilEveryBufferIsFreed(MemoryManager manager) {
        try (IMemoryPool pool = manager.createFreeAtOnceMemoryPool("scratch", info(64 * KIB, 1, 2))) {
            IBuffer a = pool.allocateBuffer(1000);
            IBuffer b = pool.allocateBuffer(1000);
            IBuffer c = pool.allocateBuffer(1000);
            assertThat(b.offset()).isGreaterThan(a.offset());
            assertThat(c.offset()).isGreaterThan(b.offset());
            long aOffset = a.offset();
            b.close();
            assertThatThrownBy(() -> pool.allocateBuffer(100)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("2 buffer(s) still live after a free");
            a.close();
            assertThatThrownBy(() -> pool.allocateBuffer(100)).isInstanceOf(IllegalStateException.class);
            c.close();
            try (IBuffer again = pool.allocateBuffer(1000)) {
                assertThat(again.offset()).as("the pool starts over").isEqualTo(aOffset);
            }
        }
    }

    @Test
    void stackPoolShouldThrowAfterAnOutOfOrderFreeUntilLaterFreesFixTheOrder(MemoryManager manager) {
        try (IMemoryPool pool = manager.createStackMemoryPool("stack", info(8 * KIB, 1, 2))) {
            IBuffer a = pool.allocateBuffer(3000);
            IBuffer b = pool.allocateBuffer(3000);
            IBuffer c = pool.allocateBuffer(3000);
            assertThat(pool.statistics().blocks()).as("c spilled into a second block").isEqualTo(2);
            long bOffset = b.offset();
            b.close();
            assertThatThrownBy(() -> pool.allocateBuffer(100)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("freed before newer ones").hasMessageContaining("free the 1 newer");
            c.close();
            IBuffer d = pool.allocateBuffer(3000);
            assertThat(d.offset()).as("b and c are popped; d goes where b was").isEqualTo(bOffset).isNotZero();
            assertThat(d.buffer()).isEqualTo(a.buffer());
            d.close();
            a.close();
            assertThat(pool.liveBufferCount()).isZero();
        }
    }

    @Test
    void ringPoolShouldFreeInFifoOrderAndRefuseAfterAnOutOfOrderFree(MemoryManager manager) {
        try (IMemoryPool ring = manager.createRingBufferMemoryPool("frames", info(8 * KIB, 1, 1))) {
            assertThat(ring.getCapabilities()).containsExactly(Capability.WAIT);
            IBuffer a = ring.allocateBuffer(2 * KIB);
            IBuffer b = ring.allocateBuffer(2 * KIB);
            IBuffer c = ring.allocateBuffer(2 * KIB);
            IBuffer d = ring.allocateBuffer(2 * KIB);
            assertThatThrownBy(() -> ring.allocateBuffer(2 * KIB))
                    .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                            .isEqualTo(MemoryAllocationException.Reason.OUT_OF_POOL_MEMORY));
            b.close();
            assertThatThrownBy(() -> ring.allocateBuffer(100)).isInstanceOf(IllegalStateException.class);
            a.close();
            IBuffer e = ring.allocateBuffer(4 * KIB);
            assertThat(e.offset()).as("wrapped to the start").isZero();
            c.close();
            d.close();
            e.close();
            assertThat(ring.statistics().blocks()).isEqualTo(1);
        }
    }

    @Test
    void aRingPoolFreedOutOfOrderShouldNameTheFreedBufferAndTheOldestOneToFreeFirst(MemoryManager manager) {
        try (IMemoryPool ring = manager.createRingBufferMemoryPool("frames", info(8 * KIB, 1, 1))) {
            IBuffer a = ring.allocateBuffer(IMemoryPool.AllocationInfo.of(2 * KIB, "frame 0"));
            IBuffer b = ring.allocateBuffer(IMemoryPool.AllocationInfo.of(2 * KIB, "frame 1"));
            IBuffer c = ring.allocateBuffer(2 * KIB);
            long aOffset = a.offset();
            long bOffset = b.offset();
            b.close();
            String expected = "(expected: FIFO order; free the oldest and every other buffer older than the freed"
                    + " ones to allocate again)";
            assertThatThrownBy(() -> ring.allocateBuffer(100)).isInstanceOf(IllegalStateException.class)
                    .hasMessage("ring buffer pool 'frames': 1 buffer(s) were freed before older ones, the first at"
                            + " offset " + bOffset + ", while the oldest buffer 'frame 0' of 2048 bytes at offset "
                            + aOffset + " is still open " + expected);
            c.close();
            assertThatThrownBy(() -> ring.allocateBuffer(IBufferAllocator.AllocationInfo.builder().size(100)
                    .bufferUsage(USAGE).memoryUsage(MemoryUsage.UPLOAD).build(), OnAllocationFailure.EMPTY))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("ring buffer pool 'frames': 2 buffer(s) were freed before older ones,"
                            + " the first at offset " + bOffset + ",");
            a.close();
            ring.allocateBuffer(100).close();

            // An unnamed oldest buffer is named by its size.
            IBuffer d = ring.allocateBuffer(KIB);
            IBuffer e = ring.allocateBuffer(KIB);
            long dOffset = d.offset();
            e.close();
            assertThatThrownBy(() -> ring.allocateBuffer(100)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("while the oldest buffer of 1024 bytes at offset " + dOffset
                            + " is still open");
            d.close();
            assertThat(ring.liveBufferCount()).isZero();
        }
    }

    @Test
    void ringPoolWaitShouldBlockUntilAnotherThreadFreesSpace(MemoryManager manager) throws Exception {
        try (IMemoryPool ring = manager.createRingBufferMemoryPool("uniforms", info(8 * KIB, 1, 1))) {
            IBuffer first = ring.allocateBuffer(4 * KIB);
            IBuffer second = ring.allocateBuffer(4 * KIB);
            ExecutorService executor = Executors.newSingleThreadExecutor();
            try {
                CountDownLatch waiting = new CountDownLatch(1);
                Future<IBuffer> waiter = executor.submit(() -> {
                    waiting.countDown();
                    return ring.allocateBufferWithWait(IMemoryPool.AllocationInfo.of(4 * KIB));
                });
                waiting.await();
                Thread.sleep(100);
                assertThat(waiter.isDone()).as("no space yet").isFalse();
                first.close();
                IBuffer third = waiter.get(10, TimeUnit.SECONDS);
                assertThat(third.offset()).isZero();
                assertThatThrownBy(() -> ring.allocateBufferWithWait(IMemoryPool.AllocationInfo.of(4 * KIB), 50))
                        .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                                .isEqualTo(MemoryAllocationException.Reason.OUT_OF_POOL_MEMORY))
                        .hasMessageContaining("waited 50 ms");
                Future<IBuffer> generic = executor.submit(() -> ring.allocateBuffer(IBufferAllocator.AllocationInfo
                        .builder().size(KIB).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                        .memoryUsage(MemoryUsage.UPLOAD).build(), OnAllocationFailure.WAIT));
                Thread.sleep(50);
                second.close();
                generic.get(10, TimeUnit.SECONDS).close();
                third.close();
            } finally {
                executor.shutdownNow();
            }
        }
    }

    @Test
    void aRingPoolWaiterShouldStopOnAnInterruptAndOnItsPoolsDestroyWithNothingMade(MemoryManager manager)
            throws Exception {
        // Interrupted: the wait ends as OUT_OF_POOL_MEMORY, the thread's interrupt kept, nothing placed.
        try (IMemoryPool ring = manager.createRingBufferMemoryPool("interrupted", info(8 * KIB, 1, 1));
             IBuffer full = ring.allocateBuffer(8 * KIB)) {
            Throwable[] thrown = new Throwable[1];
            boolean[] stillInterrupted = new boolean[1];
            Thread waiter = new Thread(() -> {
                thrown[0] = catchThrowable(() -> ring.allocateBufferWithWait(IMemoryPool.AllocationInfo.of(4 * KIB)));
                stillInterrupted[0] = Thread.currentThread().isInterrupted();
            });
            waiter.start();
            awaitWaiting(waiter);
            waiter.interrupt();
            waiter.join(10_000);
            assertThat(thrown[0]).isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                    .isEqualTo(MemoryAllocationException.Reason.OUT_OF_POOL_MEMORY))
                    .hasMessageContaining("interrupted while waiting for 4096 bytes");
            assertThat(stillInterrupted[0]).as("the interrupt is kept").isTrue();
            assertThat(ring.liveBufferCount()).as("the full buffer alone").isOne();
            assertThat(full.isClosed()).isFalse();
        }
        // Destroyed while a thread waits (maxBlocks 1, so no block can be made for it): the waiter wakes and fails as
        // a call on a closed pool does, and the pool's buffer and block are gone.
        IMemoryPool ring = manager.createRingBufferMemoryPool("destroyed", info(8 * KIB, 1, 1));
        IBuffer full = ring.allocateBuffer(8 * KIB);
        Throwable[] thrown = new Throwable[1];
        Thread waiter = new Thread(() -> thrown[0] = catchThrowable(
                () -> ring.allocateBufferWithWait(IMemoryPool.AllocationInfo.of(4 * KIB))));
        waiter.start();
        awaitWaiting(waiter);
        ring.close();
        waiter.join(10_000);
        assertThat(waiter.isAlive()).as("woken by the destroy").isFalse();
        assertThat(thrown[0]).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThat(full.isClosed()).isTrue();
        assertThat(manager.memoryPools()).isEmpty();
        VulkanExtension.assertNothingLive(manager);
    }

    /** Waits (up to 10 s) until {@code thread} parks, as a ring pool's waiter does while no space is freed. */
    private static void awaitWaiting(Thread thread) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (thread.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(thread.getState()).as("the waiter waits").isEqualTo(Thread.State.WAITING);
    }

    @Test
    void poolsWithoutWaitShouldThrowWhenAskedToWait(MemoryManager manager) {
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("nowait", info(8 * KIB, 1, 1))) {
            assertThat(pool.getCapabilities()).isEmpty();
            assertThatThrownBy(() -> pool.allocateBufferWithWait(IMemoryPool.AllocationInfo.of(64)))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("cannot wait");
            assertThatThrownBy(() -> pool.allocateBuffer(IBufferAllocator.AllocationInfo.builder().size(64)
                    .bufferUsage(USAGE).memoryUsage(MemoryUsage.UPLOAD).build(), OnAllocationFailure.WAIT))
                    .isInstanceOf(UnsupportedOperationException.class);
            assertThat(pool.liveBufferCount()).isZero();
        }
    }

    @Test
    void fixedSizePoolShouldHandOutEqualSlots(MemoryManager manager) {
        try (IMemoryPool pool = manager.createFixedSizeMemoryPool("particles", info(16 * KIB, 1, 1), 1000)) {
            IBuffer a = pool.allocateBuffer(1000);
            IBuffer b = pool.allocateBuffer(10);
            assertThat(Math.abs(b.offset() - a.offset())).isGreaterThanOrEqualTo(1000);
            assertThatThrownBy(() -> pool.allocateBuffer(1001))
                    .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                            .isEqualTo(MemoryAllocationException.Reason.BLOCK_SIZE_EXCEEDED));
            a.close();
            b.close();
        }
    }

    @Test
    void aFixedSizePoolsLargestFreeRangeShouldBeOneSlotWhileASlotIsFree(MemoryManager manager) {
        try (IMemoryPool pool = manager.createFixedSizeMemoryPool("slots", info(4 * KIB, 1, 1), 1024)) {
            BlockMemoryPool.Statistics empty = pool.statistics();
            assertThat(empty.freeBytes()).isEqualTo(4 * KIB);
            assertThat(empty.freeRanges()).as("the four free slots touch").isEqualTo(1);
            assertThat(empty.largestFreeRange()).as("one slot, not the 4 KiB of free slots").isEqualTo(KIB);
            List<IBuffer> slots = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                slots.add(pool.allocateBuffer(10));
            }
            assertThat(pool.statistics().largestFreeRange()).as("no slot free").isZero();
            slots.remove(1).close();
            assertThat(pool.statistics().largestFreeRange()).isEqualTo(KIB);
            slots.forEach(IBuffer::close);
        }
        // A slot is the slot size plus the guard margin: what its buffer and margin take. The slots lie that rounded
        // up to their alignment apart, but the last slot of a block may have no more than its own bytes.
        try (IMemoryPool pool = manager.createFixedSizeMemoryPool("guarded", info(16 * KIB, 1, 1)
                .withCreateFlags(CreateInfo.GUARD_MARGINS), 1000)) {
            assertThat(pool.statistics().largestFreeRange()).isEqualTo(1000 + CreateInfo.GUARD_MARGIN_BYTES);
        }
    }

    @Test
    void genericRequestsThatDoNotMatchThePoolShouldThrow(MemoryManager manager) {
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("strict", info(8 * KIB, 1, 1))) {
            IBufferAllocator.AllocationInfo.Builder ok = IBufferAllocator.AllocationInfo.builder().size(64)
                    .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.UPLOAD).name("ok");
            try (IBuffer named = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(64, "terrain tile"))) {
                assertThat(named.name()).isEqualTo("terrain tile");
                assertThat(pool.allocateBuffer(64)).satisfies(b -> {
                    assertThat(b.name()).isNull();
                    b.close();
                });
            }
            try (IBuffer b = pool.allocateBuffer(ok.build())) {
                assertThat(b.name()).isEqualTo("ok");
                assertThat(b.allocator()).isSameAs(pool);
            }
            assertThatThrownBy(() -> pool.allocateBuffer(ok.bufferUsage(VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT).build()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not match pool 'strict'");
            assertThatThrownBy(() -> pool.allocateBuffer(ok.bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                    .memoryUsage(MemoryUsage.DEVICE_ONLY).build())).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("memoryUsage: DEVICE_ONLY");
            assertThatThrownBy(() -> pool.allocateBuffer(ok.memoryUsage(MemoryUsage.UPLOAD)
                    .allocationFlags(AllocationFlags.DEDICATED_MEMORY).build()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("DEDICATED_MEMORY");
            assertThatThrownBy(() -> pool.allocateBuffer(new IMemoryPool.AllocationInfo(64,
                    VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, 0))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("expected: a subset");
            assertThatThrownBy(() -> new IMemoryPool.AllocationInfo(64, 0, 3))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alignment: 3");
            assertThat(pool.liveBufferCount()).isZero();
        }
    }

    @Test
    void pooledBuffersShouldCarryDataThroughTheGpu(VulkanContext context, MemoryManager manager) {
        try (IMemoryPool staging = manager.createRingBufferMemoryPool("staging", info(64 * KIB, 1, 1));
             IMemoryPool meshes = manager.createNonLinearMemoryPool("meshes", CreateInfo.of(USAGE,
                     MemoryUsage.DEVICE_ONLY, 64 * KIB))) {
            IBuffer padding = meshes.allocateBuffer(300);
            IBuffer src = staging.allocateBuffer(4000);
            IBuffer mesh = meshes.allocateBuffer(4000);
            IBuffer back = staging.allocateBuffer(4000);
            assertThat(mesh.offset()).isNotZero();
            int[] data = new Random(3).ints(1000).toArray();
            src.write(0, data);
            GpuRoundTripTest.copy(context, src, 0, mesh, 0, 4000);
            GpuRoundTripTest.copy(context, mesh, 0, back, 0, 4000);
            int[] read = new int[1000];
            back.read(0, read);
            assertThat(read).isEqualTo(data);
            padding.close();
            src.close();
            mesh.close();
            back.close();
        }
    }

    @Test
    void eightThreadsShouldNeverShareARangeWithAThirdOfFreesElsewhere(MemoryManager manager) throws Exception {
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("shared", info(256 * KIB, 1, 4))) {
            ConcurrentLinkedQueue<IBuffer> handoff = new ConcurrentLinkedQueue<>();
            AtomicInteger corrupt = new AtomicInteger();
            ExecutorService executor = Executors.newFixedThreadPool(8);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                futures.add(executor.submit(() -> {
                    Random random = new Random(thread);
                    List<IBuffer> mine = new ArrayList<>();
                    for (int op = 0; op < 400; op++) {
                        if (mine.isEmpty() || random.nextInt(3) > 0) {
                            IBuffer b = pool.allocateBuffer(IBufferAllocator.AllocationInfo.builder()
                                    .size(16 + random.nextInt(4000)).bufferUsage(USAGE)
                                    .memoryUsage(MemoryUsage.UPLOAD).build(), OnAllocationFailure.EMPTY);
                            if (b != null) {
                                b.write(0, new int[] {thread * 100_000 + op});
                                b.write(b.size() - 4, new int[] {thread * 100_000 + op});
                                mine.add(b);
                            }
                        } else {
                            IBuffer b = mine.remove(random.nextInt(mine.size()));
                            int[] head = new int[1];
                            int[] tail = new int[1];
                            b.read(0, head);
                            b.read(b.size() - 4, tail);
                            if (head[0] != tail[0] || head[0] / 100_000 != thread) {
                                corrupt.incrementAndGet();
                            }
                            if (random.nextInt(3) == 0) {
                                handoff.add(b);
                            } else {
                                b.close();
                            }
                        }
                        IBuffer other = handoff.poll();
                        if (other != null) {
                            other.close();
                        }
                    }
                    mine.forEach(IBuffer::close);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            executor.shutdown();
            handoff.forEach(IBuffer::close);
            assertThat(corrupt.get()).as("buffers whose bytes another buffer overwrote").isZero();
            assertThat(pool.liveBufferCount()).isZero();
            assertThat(pool.statistics().liveBuffers()).isZero();
            ((MemoryPool) pool).core().checkInvariants();
        }
    }

    @Test
    void closeRacingAllocationsShouldOnlyEverThrowIllegalStateAndReleaseEveryBuffer(MemoryManager manager)
            throws Exception {
        // Nothing writes out of bounds here: a corrupted guard margin reported (logged by close()) is a false one.
        AtomicInteger severe = new AtomicInteger();
        Handler counter = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()) {
                    severe.incrementAndGet();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(MemoryPool.class.getName());
        log.addHandler(counter);
        try {
            racePoolCloses(manager);
        } finally {
            log.removeHandler(counter);
        }
        assertThat(severe.get()).as("guard margins reported corrupted").isZero();
    }

    private static void racePoolCloses(MemoryManager manager) throws Exception {
        for (int round = 0; round < 20; round++) {
            long before = manager.allocator().liveDeviceMemoryCount();
            // Odd rounds with guard margins: their fill and check take the pool's lock, as close() does.
            CreateInfo createInfo = info(256 * KIB, 1, 8);
            IMemoryPool pool = manager.createNonLinearMemoryPool("raced " + round,
                    round % 2 == 0 ? createInfo : createInfo.withCreateFlags(CreateInfo.GUARD_MARGINS));
            CloseRace.run(round, random -> pool.allocateBuffer(16 + random.nextInt(8000)), 24, pool::close,
                    5 + round % 5);
            assertThat(pool.liveBufferCount()).isZero();
            assertThat(manager.allocator().liveDeviceMemoryCount()).as("round %d: no memory left", round)
                    .isEqualTo(before);
            assertThat(manager.getMemoryPool("raced " + round)).isEmpty();
        }
    }

    @Test
    void poolsShouldBeFoundByNameAndCapabilityAndDestroyedWithTheManager(VulkanContext context) {
        MemoryManager manager = MemoryManager.create(context);
        IMemoryPool ring = manager.createRingBufferMemoryPool("ring", info(8 * KIB, 1, 1));
        IMemoryPool meshes = manager.createNonLinearMemoryPool("meshes", CreateInfo.of(USAGE,
                MemoryUsage.DEVICE_ONLY, 8 * KIB));
        assertThatThrownBy(() -> manager.createStackMemoryPool("ring", info(8 * KIB, 1, 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pool name: 'ring'");
        long blocks = manager.statistics().total().blockCount();
        for (String blank : new String[] {"", " "}) {
            assertThatThrownBy(() -> manager.createNonLinearMemoryPool(blank, info(8 * KIB, 1, 1)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("name: '" + blank + "' (expected: a name that is not blank)");
            assertThatThrownBy(() -> manager.createBlockPoolAllocator(blank,
                    io.github.solvk.memory.pool.BlockPoolAllocator.Config.defaults()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not blank");
        }
        assertThat(manager.statistics().total().blockCount()).as("no block made for a refused name")
                .isEqualTo(blocks);
        assertThat(manager.getMemoryPool("ring")).containsSame(ring);
        assertThat(manager.memoryPools()).containsExactly(ring, meshes);
        assertThat(manager.findAllocators(EnumSet.of(Capability.WAIT), VK_BUFFER_USAGE_TRANSFER_SRC_BIT, null))
                .containsExactly(ring);
        assertThat(manager.findAllocators(EnumSet.noneOf(Capability.class), VK_BUFFER_USAGE_VERTEX_BUFFER_BIT,
                MemoryUsage.DEVICE_ONLY)).containsExactly(meshes, manager);
        assertThat(manager.findAllocators(EnumSet.of(Capability.WAIT), VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, null))
                .isEmpty();
        BlockPoolBufferAllocator blockPools = manager.createBlockPoolAllocator("blocks",
                io.github.solvk.memory.pool.BlockPoolAllocator.Config.defaults());
        assertThat(manager.findAllocators(EnumSet.noneOf(Capability.class), VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT,
                MemoryUsage.UPLOAD)).as("block pools pick a memory type per request, as the manager does")
                .containsExactly(blockPools, manager);
        assertThat(manager.findAllocators(EnumSet.of(Capability.WAIT), VK_BUFFER_USAGE_TRANSFER_SRC_BIT, null))
                .containsExactly(ring);
        assertThatThrownBy(() -> manager.findAllocators(EnumSet.noneOf(Capability.class), 0, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bufferUsage: 0");
        blockPools.close();
        assertThat(manager.findAllocators(EnumSet.noneOf(Capability.class), VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT,
                MemoryUsage.UPLOAD)).as("a closed block pool allocator is not offered").containsExactly(manager);
        manager.destroyMemoryPool("meshes");
        assertThat(meshes.isClosed()).isTrue();
        assertThat(manager.getMemoryPool("meshes")).isEmpty();
        assertThatThrownBy(() -> manager.destroyMemoryPool("meshes")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected: one of [ring]");
        IBuffer leftOpen = ring.allocateBuffer(100);
        manager.close();
        assertThat(ring.isClosed()).isTrue();
        assertThat(leftOpen.isClosed()).isTrue();
        assertThatThrownBy(() -> ring.allocateBuffer(10)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aPoolWhoseFirstBlockDoesNotFitTheHeapShouldFailAndLeaveNothing(VulkanContext context) {
        long[] limits = new long[context.memoryProperties().heaps().size()];
        java.util.Arrays.fill(limits, 4L << 20);
        try (MemoryManager manager = MemoryManager.create(context, s -> s.withHeapSizeLimits(limits))) {
            assertThatThrownBy(() -> manager.createNonLinearMemoryPool("huge", info(8L << 20, 1, 1)))
                    .isInstanceOfSatisfying(MemoryAllocationException.class, e -> {
                        assertThat(e.reason()).isEqualTo(MemoryAllocationException.Reason.OUT_OF_DEVICE_MEMORY);
                        assertThat(e.vkResultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY");
                    });
            assertThat(manager.memoryPools()).isEmpty();
            assertThat(manager.statistics().total().blockCount()).isZero();
            try (IMemoryPool small = manager.createNonLinearMemoryPool("small", info(1L << 20, 1, 1))) {
                small.allocateBuffer(1000).close();
            }
            VulkanExtension.assertNothingLive(manager);
        }
    }

    @Test
    void aWithinBudgetRequestShouldMakeANewBlockOnlyWithinTheHeapsBudget(VulkanContext context) {
        long limit = 4L << 20;
        long blockSize = 512 * KIB;
        try (MemoryManager limited = new MemoryManager(VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context).withHeapSizeLimits(heapLimits(context, limit))))) {
            VulkanMemoryAllocator allocator = limited.allocator();
            VulkanMemoryAllocator.Budget budget = allocator.budgets().get(0);
            assertThat(budget.budgetBytes()).as("VMA's budget of the limited heap").isLessThan(limit);
            // The blocks made at creation take what the budget has room for (they are made without the check).
            int fitting = (int) ((budget.budgetBytes() - budget.usageBytes()) / blockSize);
            assertThat(fitting).isPositive();
            try (IMemoryPool pool = limited.createNonLinearMemoryPool("budgeted", info(blockSize, fitting,
                    fitting + 2))) {
                VulkanMemoryAllocator.Budget made = allocator.budgets().get(0);
                assertThat(made.usageBytes() + blockSize).as("the next block passes the budget")
                        .isGreaterThan(made.budgetBytes()).as("but not the heap limit").isLessThanOrEqualTo(limit);
                IBufferAllocator.AllocationInfo large = IBufferAllocator.AllocationInfo.builder()
                        .size(3 * blockSize / 4).bufferUsage(USAGE).memoryUsage(MemoryUsage.UPLOAD)
                        .allocationFlags(AllocationFlags.WITHIN_BUDGET).build();
                List<IBuffer> buffers = new ArrayList<>();
                for (int i = 0; i < fitting; i++) {
                    buffers.add(pool.allocateBuffer(large));
                }
                assertThat(pool.statistics().blocks()).as("one buffer per existing block").isEqualTo(fitting);

                // The existing blocks are full: a new one would pass the budget.
                long allocations = allocator.deviceMemoryAllocationCount();
                assertThatThrownBy(() -> pool.allocateBuffer(large)).isInstanceOfSatisfying(
                        MemoryAllocationException.class, e -> {
                            assertThat(e.reason()).isEqualTo(MemoryAllocationException.Reason.OUT_OF_DEVICE_MEMORY);
                            assertThat(e.vkResultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY");
                        }).hasMessageContaining("within the heap's budget");
                assertThat(pool.allocateBuffer(large, OnAllocationFailure.EMPTY)).isNull();
                assertThat(allocator.deviceMemoryAllocationCount()).as("no block made").isEqualTo(allocations);
                assertThat(pool.statistics().blocks()).isEqualTo(fitting);
                assertThat(pool.liveBufferCount()).isEqualTo(fitting);

                // A request that an existing block has room for needs no new memory: the budget does not matter.
                IBufferAllocator.AllocationInfo small = IBufferAllocator.AllocationInfo.builder().size(blockSize / 8)
                        .bufferUsage(USAGE).memoryUsage(MemoryUsage.UPLOAD)
                        .allocationFlags(AllocationFlags.WITHIN_BUDGET).build();
                buffers.add(pool.allocateBuffer(small));
                assertThat(pool.statistics().blocks()).isEqualTo(fitting);

                // Without the flag the same request gets its block, past the budget (the heap limit alone decides).
                buffers.add(pool.allocateBuffer(IBufferAllocator.AllocationInfo.builder().size(3 * blockSize / 4)
                        .bufferUsage(USAGE).memoryUsage(MemoryUsage.UPLOAD).build()));
                assertThat(pool.statistics().blocks()).isEqualTo(fitting + 1);
                VulkanMemoryAllocator.Budget over = allocator.budgets().get(0);
                assertThat(over.usageBytes()).isGreaterThan(over.budgetBytes());
                buffers.forEach(IBuffer::close);
            }
            VulkanExtension.assertNothingLive(limited);
        }
    }

    @Test
    void aRingPoolAskedToWaitShouldFailWhenTheBudgetRefusesItsBlock(VulkanContext context) {
        // The manager makes a ring's one block at creation; the core may make it at the first request, and a wait
        // must not turn the budget's refusal (OUT_OF_DEVICE_MEMORY, which no free can change) into an endless wait.
        long limit = 4L << 20;
        try (MemoryManager limited = new MemoryManager(VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context).withHeapSizeLimits(heapLimits(context, limit))))) {
            VulkanMemoryAllocator allocator = limited.allocator();
            VulkanMemoryAllocator.Budget budget = allocator.budgets().get(0);
            long blockSize = (budget.budgetBytes() - budget.usageBytes() + 128 * KIB) & -(64 * KIB);
            assertThat(budget.usageBytes() + blockSize).as("the block passes the budget")
                    .isGreaterThan(budget.budgetBytes()).as("but not the heap limit").isLessThanOrEqualTo(limit);
            try (BlockMemoryPool ring = new BlockMemoryPool(allocator, new BlockMemoryPool.Config("ring",
                    BlockMemoryPool.Kind.RING_BUFFER, USAGE, MemoryTypeFilter.ofFlags(0, 0, 0), blockSize, 0, 1,
                    SuballocatorKind.TLSF, 0, 0))) {
                long allocations = allocator.deviceMemoryAllocationCount();
                Throwable refused = assertTimeoutPreemptively(Duration.ofSeconds(30),
                        () -> catchThrowable(() -> ring.allocate(1000, 0, 0, -1, null, true)));
                assertThat(refused).isInstanceOfSatisfying(PoolException.class, e -> {
                    assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY);
                    assertThat(e.vkResultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY");
                });
                assertThat(allocator.deviceMemoryAllocationCount()).as("no block made").isEqualTo(allocations);
                assertThat(ring.blockCount()).isZero();
                ring.allocate(1000, 0, 0, -1, null, false).release();
                assertThat(ring.blockCount()).as("without the check the heap limit alone decides").isOne();
            }
            VulkanExtension.assertNothingLive(limited);
        }
    }

    @Test
    void aFreeAtOncePoolShouldFreeEveryEmptyBlockPastOneWhoseFreeThrowsAnError(VulkanContext context) {
        // A free-at-once pool of four blocks, one buffer in each: releasing the last starts the pool again, and it
        // frees the empty blocks beyond its spare, three of them. Freeing the first of those throws an Error (a
        // DeviceMemoryListener's, which VMA lets through once the memory is freed): the other two must still go
        // back, and then the Error be thrown.
        Error injected = new Error("freed() failed (injected by the test)");
        try (VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context));
             BlockMemoryPool pool = new BlockMemoryPool(allocator, new BlockMemoryPool.Config("once",
                     BlockMemoryPool.Kind.FREE_AT_ONCE, USAGE, MemoryTypeFilter.ofFlags(0, 0, 0), 64 * KIB, 0, 4,
                     SuballocatorKind.TLSF, 0, 0))) {
            List<PooledBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                buffers.add(pool.allocate(40 * KIB, 0, 0, 0));
            }
            assertThat(pool.blockCount()).isEqualTo(4);
            for (int i = 0; i < 3; i++) {
                buffers.get(i).release();
            }
            FailingListeners.failFreedCall(allocator, 1, injected);

            assertThatThrownBy(buffers.get(3)::release).isSameAs(injected);

            assertThat(pool.blockCount()).as("the spare alone").isOne();
            assertThat(allocator.liveDeviceMemoryCount()).as("the other blocks went back to VMA").isOne();
            pool.allocate(40 * KIB, 0, 0, 0).release();
        }
    }

    @Test
    void aPoolWhoseBlockFreesThrowAnErrorShouldStillFreeEveryBlockAndBeUnregistered(VulkanContext context) {
        // Destroying the first and the third block throws an Error (a DeviceMemoryListener's, which VMA lets through
        // once the memory is freed): close() must still free every block, and the pool must leave its manager.
        Error firstError = new Error("freed() failed (injected by the test, first call)");
        Error thirdError = new Error("freed() failed (injected by the test, third call)");
        try (MemoryManager own = new MemoryManager(VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context)))) {
            IMemoryPool pool = own.createNonLinearMemoryPool("blocks", info(64 * KIB, 4, 4));
            IBuffer open = pool.allocateBuffer(1000);
            assertThat(own.allocator().liveDeviceMemoryCount()).isEqualTo(4);
            FailingListeners.failFreedCalls(own.allocator(), firstError, null, thirdError);
            Throwable failure = catchThrowable(pool::close);
            assertThat(failure).isSameAs(firstError);
            assertThat(failure.getSuppressed()).containsExactly(thirdError);
            assertThat(own.allocator().liveDeviceMemoryCount()).as("every block went back to VMA").isZero();
            assertThat(pool.isClosed()).isTrue();
            assertThat(open.isClosed()).isTrue();
            assertThat(own.memoryPools()).isEmpty();
            own.createNonLinearMemoryPool("blocks", info(64 * KIB, 1, 1)).close();
        }
    }

    @Test
    void closeFromADeviceMemoryListenerShouldThrowAndChangeNothing(VulkanContext context) {
        // A listener runs inside a call: here the pool's own allocation, making a block under the pool's lock. Its
        // close() (or destroyMemoryPool) closed the pool under that allocation, whose new block then stayed with
        // VMA, listed nowhere, and the manager's close() refused to destroy the allocator. Refused there, as the
        // manager's and the block pools' close() are.
        try (MemoryManager own = new MemoryManager(VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context)))) {
            IMemoryPool pool = own.createNonLinearMemoryPool("listener closes", info(64 * KIB, 0, 2));
            Throwable[] close = FailingListeners.onFirstAllocated(own.allocator(), pool::close);
            Throwable[] destroy = FailingListeners.onFirstAllocated(own.allocator(),
                    () -> own.destroyMemoryPool("listener closes"));
            IBuffer buffer = pool.allocateBuffer(1000);
            assertThat(close[0]).isInstanceOf(IllegalStateException.class)
                    .hasMessage("pool 'listener closes': close() called from a DeviceMemoryListener (expected: close()"
                            + " once the call that runs the listener has returned)");
            assertThat(destroy[0]).isInstanceOf(IllegalStateException.class)
                    .hasMessage(close[0].getMessage());
            assertThat(pool.isClosed()).isFalse();
            assertThat(own.memoryPools()).containsExactly(pool);
            assertThat(pool.statistics().blocks()).isOne();
            buffer.close();
            pool.close();
            assertThat(own.allocator().liveDeviceMemoryCount()).as("the block went back to VMA").isZero();
        }
    }

    @Test
    void aBlockWhoseAllocatedListenerThrowsAnErrorShouldGoBackToVmaAndThePoolCountNothing(VulkanContext context) {
        // A DeviceMemoryListener's Error from allocated() comes out of vmaAllocateMemory once VMA made the block: the
        // block must go back to VMA, the pool list nothing, and the manager (with its allocator) close.
        Error injected = new Error("allocated() failed (injected by the test)");
        try (MemoryManager own = new MemoryManager(VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context)))) {
            IMemoryPool pool = own.createNonLinearMemoryPool("blocks", info(64 * KIB, 0, 2));
            FailingListeners.failAllocatedCall(own.allocator(), 1, injected);
            assertThatThrownBy(() -> pool.allocateBuffer(1000)).isSameAs(injected);
            assertThat(own.allocator().liveDeviceMemoryCount()).as("the block went back to VMA").isZero();
            assertThat(own.statistics().total().allocationCount()).isZero();
            assertThat(pool.statistics().blocks()).isZero();
            assertThat(pool.statistics().committedBytes()).isZero();
            pool.allocateBuffer(1000).close();
            assertThat(pool.statistics().blocks()).isOne();
            pool.close();
        }
    }

    @Test
    void aBlockWhoseBlockListenerThrowsShouldGoBackToVmaWithItsBufferAndTheFirstFailureKept(VulkanContext context) {
        // The block listener (JFR's block events) hears of a block once its memory and block-wide buffer are made. An
        // Error from it must not leave them allocated. Then a RuntimeException from it, while freeing the memory
        // throws an Error (a DeviceMemoryListener's, which VMA lets through once the memory is freed): the listener's
        // failure is thrown, the Error suppressed on it, and nothing stays allocated either.
        Error first = new Error("blockAllocated failed (injected by the test)");
        IllegalStateException second = new IllegalStateException("blockAllocated failed again (injected by the test)");
        Error fromFree = new Error("freed() failed (injected by the test)");
        AtomicInteger calls = new AtomicInteger();
        BlockMemoryPool.BlockListener listener = new BlockMemoryPool.BlockListener() {
            @Override
            public void blockAllocated(String blockName, int memoryTypeIndex, long size) {
                int call = calls.incrementAndGet();
                if (call == 1) {
                    throw first;
                }
                if (call == 2) {
                    throw second;
                }
            }

            @Override
            public void blockFreed(String blockName, int memoryTypeIndex, long size) {
            }
        };
        long buffers = VulkanObjects.liveBuffers();
        try (VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context));
             BlockMemoryPool pool = new BlockMemoryPool(allocator, new BlockMemoryPool.Config("heard",
                     BlockMemoryPool.Kind.NON_LINEAR, USAGE, MemoryTypeFilter.ofFlags(0, 0, 0), 64 * KIB, 0, 2,
                     SuballocatorKind.TLSF, 0, 0), listener)) {
            assertThatThrownBy(() -> pool.allocate(1000, 0, 0, 0)).isSameAs(first);
            assertThat(allocator.liveDeviceMemoryCount()).as("the block went back to VMA").isZero();
            assertThat(VulkanObjects.liveBuffers()).as("its block-wide buffer destroyed").isEqualTo(buffers);
            assertThat(pool.blockCount()).isZero();

            FailingListeners.failFreedCall(allocator, 1, fromFree);
            Throwable failure = catchThrowable(() -> pool.allocate(1000, 0, 0, 0));
            assertThat(failure).isSameAs(second);
            assertThat(failure.getSuppressed()).containsExactly(fromFree);
            assertThat(allocator.liveDeviceMemoryCount()).as("the block went back to VMA").isZero();
            assertThat(VulkanObjects.liveBuffers()).as("its block-wide buffer destroyed").isEqualTo(buffers);
            assertThat(pool.blockCount()).isZero();

            pool.allocate(1000, 0, 0, 0).release();
            assertThat(pool.blockCount()).isOne();
        }
    }

    @Test
    void aPoolWhoseCreationMeetsAnErrorFromAllocatedShouldFreeTheBlocksItMade(VulkanContext context) {
        // minBlocks 3: the second block's allocated() throws an Error, and VMA's call frees that block before throwing
        // it. The creation must free the first block too, and throw the Error with no pool registered.
        Error injected = new Error("allocated() failed (injected by the test)");
        try (MemoryManager own = new MemoryManager(VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context)))) {
            VulkanMemoryAllocator allocator = own.allocator();
            FailingListeners.failAllocatedCall(allocator, 2, injected);
            assertThatThrownBy(() -> own.createNonLinearMemoryPool("three", info(64 * KIB, 3, 3))).isSameAs(injected);
            assertThat(allocator.deviceMemoryAllocationCount()).as("two blocks made").isEqualTo(2);
            assertThat(allocator.liveDeviceMemoryCount()).as("both freed").isZero();
            assertThat(own.memoryPools()).isEmpty();
            own.createNonLinearMemoryPool("three", info(64 * KIB, 3, 3)).close();
        }
    }

    @Test
    void aPoolWhoseCreationFailsShouldFreeTheBlocksItMadePastOneWhoseFreeThrowsAnError(VulkanContext context) {
        // Under a 4 MiB heap limit the third block of 1.5 MiB cannot be made, so creating the pool frees the two it
        // made, and freeing the first throws an Error: the second must not stay allocated, and the request still
        // fails as out of device memory, the Error suppressed on the pool's failure.
        Error injected = new Error("freed() failed (injected by the test)");
        long[] limits = heapLimits(context, 4L << 20);
        try (MemoryManager limited = new MemoryManager(VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context).withHeapSizeLimits(limits)))) {
            VulkanMemoryAllocator allocator = limited.allocator();
            FailingListeners.failFreedCalls(allocator, injected);
            assertThatThrownBy(() -> limited.createNonLinearMemoryPool("three", info(1536 * KIB, 3, 3)))
                    .isInstanceOfSatisfying(MemoryAllocationException.class, e -> {
                        assertThat(e.reason()).isEqualTo(MemoryAllocationException.Reason.OUT_OF_DEVICE_MEMORY);
                        assertThat(e.getCause().getSuppressed()).containsExactly(injected);
                    });
            assertThat(allocator.deviceMemoryAllocationCount()).as("two blocks made").isEqualTo(2);
            assertThat(allocator.liveDeviceMemoryCount()).as("both freed").isZero();
            assertThat(limited.memoryPools()).isEmpty();
        }
    }

    @Test
    void aGuardedPoolClosedWithOpenBuffersShouldFreeEveryBlockWhenAReleaseThrowsAnError(VulkanContext context) {
        // Three blocks, one open buffer in each. Closing the pool checks and releases each buffer first; the second
        // release empties a second block, and freeing one of the two empty ones throws an Error: the third buffer
        // must still be released and the core closed, its blocks freed.
        Error injected = new Error("freed() failed (injected by the test)");
        try (MemoryManager own = new MemoryManager(VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context)))) {
            IMemoryPool pool = own.createNonLinearMemoryPool("guarded", info(64 * KIB, 0, 3)
                    .withCreateFlags(CreateInfo.GUARD_MARGINS));
            List<IBuffer> open = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                open.add(pool.allocateBuffer(40 * KIB));
            }
            assertThat(pool.statistics().blocks()).isEqualTo(3);
            FailingListeners.failFreedCalls(own.allocator(), injected);
            assertThatThrownBy(pool::close).isSameAs(injected);
            assertThat(open).allMatch(IBuffer::isClosed);
            assertThat(own.allocator().liveDeviceMemoryCount()).as("every block went back to VMA").isZero();
            assertThat(own.memoryPools()).isEmpty();
        }
    }

    @Test
    void poolsDestroyedWithTheManagerShouldAllBeFreedPastAnError(VulkanContext context) {
        // The first pool's block free throws an Error: the manager must still close the second pool and destroy its
        // allocator, then throw the Error.
        Error injected = new Error("freed() failed (injected by the test)");
        VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context));
        MemoryManager own = new MemoryManager(allocator);
        IMemoryPool a = own.createNonLinearMemoryPool("a", info(64 * KIB, 1, 1));
        IMemoryPool b = own.createStackMemoryPool("b", info(64 * KIB, 1, 1));
        IBuffer open = b.allocateBuffer(1000);
        FailingListeners.failFreedCalls(allocator, injected);
        assertThatThrownBy(own::close).isSameAs(injected);
        assertThat(a.isClosed()).isTrue();
        assertThat(b.isClosed()).isTrue();
        assertThat(open.isClosed()).isTrue();
        assertThat(allocator.liveDeviceMemoryCount()).isZero();
        assertThat(allocator.isClosed()).as("nothing was left, so the allocator was destroyed").isTrue();
        own.close();
    }

    private static long[] heapLimits(VulkanContext context, long limit) {
        long[] limits = new long[context.memoryProperties().heaps().size()];
        java.util.Arrays.fill(limits, limit);
        return limits;
    }

    @Test
    void uniformPoolsShouldPlaceEveryBufferAtTheDescriptorAlignment(MemoryManager manager) {
        long alignment = manager.allocator().bufferLimits().minUniformBufferOffsetAlignment();
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("ubo", CreateInfo.of(
                VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, MemoryUsage.UPLOAD, 64 * KIB))) {
            List<IBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                buffers.add(pool.allocateBuffer(1 + i * 7));
            }
            for (IBuffer b : buffers) {
                assertThat(b.offset() % alignment).isZero();
            }
            Collections.reverse(buffers);
            buffers.forEach(IBuffer::close);
        }
    }

    @Test
    void memoryStatisticsShouldDescribeHeapsTypesAndPools(MemoryManager manager) {
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("stats", info(64 * KIB, 2, 2));
             IBuffer own = manager.allocateBuffer(IBufferAllocator.AllocationInfo.builder().size(1000)
                     .bufferUsage(USAGE).memoryUsage(MemoryUsage.UPLOAD).build())) {
            IBuffer a = pool.allocateBuffer(10 * KIB);
            IBuffer b = pool.allocateBuffer(20 * KIB);
            IBuffer c = pool.allocateBuffer(10 * KIB);
            b.close();
            MemoryStatistics stats = manager.memoryStatistics();
            assertThat(stats.liveBuffers()).isEqualTo(1);
            assertThat(stats.deviceMemoryAllocations()).isGreaterThanOrEqualTo(3);
            assertThat(stats.memoryTypes()).hasSize(manager.allocator().memoryProperties().types().size());
            MemoryStatistics.Heap heap = stats.heaps().get(0);
            assertThat(heap.budgetBytes()).isPositive();
            assertThat(heap.blocks()).isGreaterThanOrEqualTo(3);
            assertThat(heap.blockBytes()).isGreaterThanOrEqualTo(2 * 64 * KIB);
            assertThat(stats.committedBytes()).isEqualTo(heap.blockBytes());
            MemoryStatistics.Pool p = stats.pools().get(0);
            assertThat(p.name()).isEqualTo("stats");
            assertThat(p.kind()).isEqualTo("NON_LINEAR");
            assertThat(p.blocks()).isEqualTo(2);
            assertThat(p.liveBuffers()).isEqualTo(2);
            assertThat(p.committedBytes()).isEqualTo(2 * 64 * KIB);
            assertThat(p.usedBytes()).isGreaterThanOrEqualTo(20 * KIB);
            assertThat(p.freeBytes() + p.usedBytes()).isEqualTo(p.committedBytes());
            assertThat(p.freeRanges()).as("the hole left by b, the rest of block 0, and empty block 1")
                    .isEqualTo(3);
            assertThat(p.largestFreeRange()).isEqualTo(64 * KIB);
            a.close();
            c.close();
        }
    }

    @Test
    void anOutOfPoolMemoryFailureShouldDescribeTheMemory(MemoryManager manager) {
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("full", info(16 * KIB, 1, 1))) {
            IBuffer a = pool.allocateBuffer(12 * KIB);
            assertThatThrownBy(() -> pool.allocateBuffer(8 * KIB)).isInstanceOf(MemoryAllocationException.class)
                    .hasMessageContaining("size 8192").hasMessageContaining("heap 0:")
                    .hasMessageContaining("of budget").hasMessageContaining("pool 'full': 1 block(s), largest free");
            a.close();
        }
    }

    @Test
    void fixedSizeRequestsNoSlotCanHoldShouldFailBeforeAnyBlockIsMade(MemoryManager manager) {
        assertThatThrownBy(() -> manager.createFixedSizeMemoryPool("too big", info(64 * KIB, 1, 1)
                .withCreateFlags(CreateInfo.GUARD_MARGINS), 64 * KIB))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slotSize: 65536 with guard margin 64");
        assertThat(manager.memoryPools()).isEmpty();
        try (IMemoryPool pool = manager.createFixedSizeMemoryPool("lazy", info(64 * KIB, 0, 2), 1000)) {
            assertThatThrownBy(() -> pool.allocateBuffer(1001)).isInstanceOf(MemoryAllocationException.class)
                    .hasMessageContaining("size 1001 (expected: <= the slot size 1000)");
            assertThatThrownBy(() -> pool.allocateBuffer(new IMemoryPool.AllocationInfo(100, 0, 1L << 20)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alignment: 1048576");
            assertThat(pool.statistics().blocks()).as("no block was made for requests that cannot fit").isZero();
            assertThat(manager.statistics().total().blockCount()).isZero();
        }
    }

    @Test
    void aRequestNoEmptyBlockCanHoldShouldFailWithoutLeavingABlock(MemoryManager manager) {
        // A buddy block of 48 KiB is two roots, 32 and 16 KiB: 40 KiB never fits, however much is freed.
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("buddy48", info(48 * KIB, 1, 3)
                .withCreateFlags(CreateInfo.BUDDY_ALGORITHM))) {
            BlockMemoryPool.Statistics before = pool.statistics();
            long vmaBlocks = manager.statistics().total().blockCount();
            for (int i = 0; i < 2; i++) {
                assertThatThrownBy(() -> pool.allocateBuffer(40 * KIB))
                        .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                                .isEqualTo(MemoryAllocationException.Reason.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED))
                        .hasMessageContaining("size 40960 at alignment")
                        .hasMessageContaining("an empty BUDDY block of 49152 bytes");
                assertThat(pool.statistics()).as("a failed call leaves no block behind").isEqualTo(before);
                assertThat(manager.statistics().total().blockCount()).isEqualTo(vmaBlocks);
            }
            try (IBuffer fits = pool.allocateBuffer(32 * KIB)) {
                assertThat(fits.size()).isEqualTo(32 * KIB);
            }
        }
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("buddy64", info(64 * KIB, 1, 2)
                .withCreateFlags(CreateInfo.BUDDY_ALGORITHM))) {
            BlockMemoryPool.Statistics before = pool.statistics();
            assertThatThrownBy(() -> pool.allocateBuffer(new IMemoryPool.AllocationInfo(1000, 0, 1L << 20)))
                    .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                            .isEqualTo(MemoryAllocationException.Reason.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED))
                    .hasMessageContaining("alignment 1048576");
            assertThat(pool.statistics()).isEqualTo(before);
        }
        VulkanExtension.assertNothingLive(manager);
    }

    @Test
    void aRequestNoEmptyBlockCanHoldShouldBeRefusedWithoutMakingDeviceMemory(MemoryManager manager) {
        // A buddy block of 48 KiB is two roots, 32 and 16 KiB: 40 KiB never fits. Nor does an alignment of 1 MiB in a
        // 64 KiB block. Neither may make a block of device memory to find that out, whether the pool holds no block,
        // an empty one, or all it may hold with a buffer live.
        long allocations = manager.allocator().deviceMemoryAllocationCount();
        for (int minBlocks = 0; minBlocks <= 1; minBlocks++) {
            try (IMemoryPool pool = manager.createNonLinearMemoryPool("buddy48-" + minBlocks,
                    info(48 * KIB, minBlocks, 2).withCreateFlags(CreateInfo.BUDDY_ALGORITHM))) {
                long made = manager.allocator().deviceMemoryAllocationCount();
                assertThat(made - allocations).isEqualTo(minBlocks);
                assertThatThrownBy(() -> pool.allocateBuffer(40 * KIB))
                        .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                                .isEqualTo(MemoryAllocationException.Reason.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED));
                assertThatThrownBy(() -> pool.allocateBuffer(new IMemoryPool.AllocationInfo(1000, 0, 1L << 20)))
                        .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                                .isEqualTo(MemoryAllocationException.Reason.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED));
                assertThat(manager.allocator().deviceMemoryAllocationCount()).as("minBlocks %d: no vkAllocateMemory",
                        minBlocks).isEqualTo(made);
                allocations = made;
            }
        }
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("buddy48-full", info(48 * KIB, 0, 1)
                .withCreateFlags(CreateInfo.BUDDY_ALGORITHM));
             IBuffer live = pool.allocateBuffer(16 * KIB)) {
            long made = manager.allocator().deviceMemoryAllocationCount();
            // Not OUT_OF_POOL_MEMORY: freeing the live buffer would not make room either.
            assertThatThrownBy(() -> pool.allocateBuffer(40 * KIB))
                    .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                            .isEqualTo(MemoryAllocationException.Reason.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED));
            assertThat(manager.allocator().deviceMemoryAllocationCount()).isEqualTo(made);
            assertThat(live.size()).isEqualTo(16 * KIB);
        }
        // Below the facade: the pool's block listener (JFR's block events) hears of no block made and freed.
        AtomicInteger blockEvents = new AtomicInteger();
        BlockMemoryPool.BlockListener listener = new BlockMemoryPool.BlockListener() {
            @Override
            public void blockAllocated(String blockName, int memoryTypeIndex, long size) {
                blockEvents.incrementAndGet();
            }

            @Override
            public void blockFreed(String blockName, int memoryTypeIndex, long size) {
                blockEvents.incrementAndGet();
            }
        };
        try (BlockMemoryPool core = new BlockMemoryPool(manager.allocator(), new BlockMemoryPool.Config("core",
                BlockMemoryPool.Kind.NON_LINEAR, USAGE, MemoryTypeFilter.ofFlags(0, 0, 0), 48 * KIB, 0, 2,
                SuballocatorKind.BUDDY, 0, 0), listener)) {
            assertThatThrownBy(() -> core.allocate(40 * KIB, 0, 0, 0)).isInstanceOfSatisfying(PoolException.class,
                    e -> assertThat(e.kind()).isEqualTo(PoolException.Kind.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED));
            assertThat(blockEvents).as("no block event").hasValue(0);
            core.allocate(32 * KIB, 0, 0, 0).release();
            assertThat(blockEvents).as("a block that takes a request is made as before").hasValue(1);
        }
        VulkanExtension.assertNothingLive(manager);
    }

    @Test
    void aRingAttachmentWhoseToStringThrowsShouldNotHideTheOutOfOrderError(MemoryManager manager) {
        Object badAttachment = new Object() {
            @Override
            public String toString() {
                throw new IllegalStateException("no name today");
            }
        };
        try (BlockMemoryPool core = new BlockMemoryPool(manager.allocator(), new BlockMemoryPool.Config("ring",
                BlockMemoryPool.Kind.RING_BUFFER, USAGE, MemoryTypeFilter.ofFlags(0, 0, 0), 8 * KIB, 1, 1,
                SuballocatorKind.TLSF, 0, 0), null)) {
            PooledBuffer oldest = core.allocate(2 * KIB, 0, 0, 0, badAttachment);
            PooledBuffer newer = core.allocate(2 * KIB, 0, 0, 0, null);
            newer.release();
            assertThatThrownBy(() -> core.allocate(100, 0, 0, 0)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("while the oldest buffer of 2048 bytes (attachment ")
                    .hasMessageContaining("toString threw java.lang.IllegalStateException: no name today)")
                    .hasMessageContaining("(expected: FIFO order;");
            oldest.release();
            core.allocate(100, 0, 0, 0).release();
        }
        VulkanExtension.assertNothingLive(manager);
    }

    @Test
    void aFixedSizeSlotShouldBeRefusedAtCreationOnlyWhenNotEvenOneFitsTheBlock(MemoryManager manager) {
        // Slots start at the buffer alignment (64 on lavapipe, at least 2 anywhere), so 1001-byte slots lie 1024
        // apart; but the last slot of a block needs only its own 1001 bytes, so a block of 1001 bytes holds one.
        for (int minBlocks = 0; minBlocks <= 1; minBlocks++) {
            try (IMemoryPool pool = manager.createFixedSizeMemoryPool("odd", info(1001, minBlocks, 1), 1001)) {
                assertThat(((MemoryPool) pool).core().baseAlignment()).as("the slots' alignment")
                        .isGreaterThan(1).isLessThanOrEqualTo(1024);
                IBuffer only = pool.allocateBuffer(1001);
                assertThat(only.offset()).isZero();
                assertThat(only.size()).isEqualTo(1001);
                BlockMemoryPool.Statistics full = pool.statistics();
                assertThat(full.committedBytes()).isEqualTo(1001);
                assertThat(full.freeBytes()).as("the slot takes the block, not a 1024-byte stride").isZero();
                assertThatThrownBy(() -> pool.allocateBuffer(1))
                        .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                                .isEqualTo(MemoryAllocationException.Reason.OUT_OF_POOL_MEMORY));
                only.close();
                assertThat(pool.statistics().freeBytes()).isEqualTo(1001);
            }
        }
        // Three 1000-byte slots 1024 apart in 2 * 1024 + 1000 bytes: the third ends exactly at the block's end.
        try (IMemoryPool pool = manager.createFixedSizeMemoryPool("three", info(3048, 1, 1), 1000)) {
            List<IBuffer> slots = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                slots.add(pool.allocateBuffer(1000));
            }
            assertThat(slots.get(2).offset()).isEqualTo(2048);
            assertThat(pool.statistics().freeBytes()).isZero();
            slots.forEach(IBuffer::close);
        }
        // Still refused: a slot that not even an empty block holds, with or without its guard margin.
        assertThatThrownBy(() -> manager.createFixedSizeMemoryPool("odd", info(1001, 1, 1), 1002))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slotSize: 1002 (expected: 1..1001, the block size)");
        long margin = CreateInfo.GUARD_MARGIN_BYTES;
        assertThatThrownBy(() -> manager.createFixedSizeMemoryPool("odd", info(1001, 1, 1)
                .withCreateFlags(CreateInfo.GUARD_MARGINS), 1002 - margin))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slotSize: " + (1002 - margin) + " with guard margin " + margin)
                .hasMessageContaining("(expected: slot and margin within the block size 1001)");
        assertThat(manager.memoryPools()).isEmpty();
        assertThat(manager.statistics().total().blockCount()).isZero();
        try (IMemoryPool pool = manager.createFixedSizeMemoryPool("guarded", info(1001, 1, 1)
                .withCreateFlags(CreateInfo.GUARD_MARGINS), 1001 - margin)) {
            pool.allocateBuffer(1001 - margin).close();
        }
    }

    @Test
    void aBlockTheDeviceCannotMakeShouldFailAsAnAllocationFailureNeverAVulkanError(MemoryManager manager) {
        // Lavapipe refuses a VkBuffer of 1 TiB when the pool reads its requirements; a device that takes it
        // fails at vkAllocateMemory: either way the caller sees OUT_OF_DEVICE_MEMORY and the manager keeps working.
        for (int minBlocks = 0; minBlocks <= 1; minBlocks++) {
            IMemoryPool pool;
            try {
                pool = manager.createNonLinearMemoryPool("tera", info(1L << 40, minBlocks, 1));
            } catch (MemoryAllocationException e) {
                assertThat(e.reason()).isEqualTo(MemoryAllocationException.Reason.OUT_OF_DEVICE_MEMORY);
                assertThat(e).hasMessageContaining("pool 'tera'").hasMessageContaining("1099511627776 bytes");
                assertThat(manager.memoryPools()).isEmpty();
                continue;
            }
            try (pool) {
                assertThatThrownBy(() -> pool.allocateBuffer(64))
                        .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                                .isEqualTo(MemoryAllocationException.Reason.OUT_OF_DEVICE_MEMORY));
            }
        }
        try (IMemoryPool small = manager.createNonLinearMemoryPool("small", info(64 * KIB, 1, 1))) {
            small.allocateBuffer(1000).close();
        }
        VulkanExtension.assertNothingLive(manager);
    }

    @Test
    void aCreateInfoWithBothHostAccessPatternsShouldBeRefused() {
        int both = AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE | AllocationFlags.HOST_ACCESS_RANDOM;
        assertThatThrownBy(() -> new CreateInfo(0, USAGE, MemoryUsage.AUTO, 0, 0, both, 64 * KIB, 1, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("allocationFlags: HOST_ACCESS_SEQUENTIAL_WRITE and HOST_ACCESS_RANDOM (expected: at most"
                        + " one)");
        assertThatThrownBy(() -> new CreateInfo(0, USAGE, MemoryUsage.AUTO, 0, 0, 0x8, 64 * KIB, 1, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown: 0x8");
        assertThat(new CreateInfo(0, USAGE, MemoryUsage.AUTO, 0, 0, AllocationFlags.HOST_ACCESS_RANDOM, 64 * KIB,
                1, 1).allocationFlags()).isEqualTo(AllocationFlags.HOST_ACCESS_RANDOM);
    }

    @Test
    void anOrderBrokenByAnEarlierFreeShouldThrowEvenWhenFailuresReturnEmpty(MemoryManager manager) {
        IBufferAllocator.AllocationInfo small = IBufferAllocator.AllocationInfo.builder().size(100)
                .bufferUsage(USAGE).memoryUsage(MemoryUsage.UPLOAD).build();
        try (IMemoryPool scratch = manager.createFreeAtOnceMemoryPool("scratch", info(64 * KIB, 1, 1));
             IMemoryPool stack = manager.createStackMemoryPool("stack", info(64 * KIB, 1, 1))) {
            for (IMemoryPool pool : List.of(scratch, stack)) {
                IBuffer a = pool.allocateBuffer(1000);
                IBuffer b = pool.allocateBuffer(1000);
                a.close();
                int live = pool.liveBufferCount();
                assertThatThrownBy(() -> pool.allocateBuffer(small, OnAllocationFailure.EMPTY))
                        .as(pool.name()).isInstanceOf(IllegalStateException.class);
                assertThat(pool.liveBufferCount()).isEqualTo(live);
                b.close();
                try (IBuffer again = pool.allocateBuffer(small, OnAllocationFailure.EMPTY)) {
                    assertThat(again).as("the order is whole again").isNotNull();
                }
            }
            assertThat(scratch.allocateBuffer(IBufferAllocator.AllocationInfo.builder().size(128 * KIB)
                    .bufferUsage(USAGE).memoryUsage(MemoryUsage.UPLOAD).build(), OnAllocationFailure.EMPTY))
                    .as("a request that cannot be met still returns empty").isNull();
        }
    }

    @Test
    void anAlignmentBeyondTheBlockShouldBeRefusedByEveryKindOfPoolWithNothingMade(MemoryManager manager) {
        // An empty block would place it at offset 0, which any alignment divides, so TLSF, stack and free-at-once
        // pools made a block for it and the ring pool reported no room; refused instead, as the buddy refused it.
        refusesAnAlignmentBeyondTheBlock(manager.createNonLinearMemoryPool("tlsf", info(8 * KIB, 0, 2)));
        refusesAnAlignmentBeyondTheBlock(manager.createNonLinearMemoryPool("buddy", info(8 * KIB, 0, 2)
                .withCreateFlags(CreateInfo.BUDDY_ALGORITHM)));
        refusesAnAlignmentBeyondTheBlock(manager.createStackMemoryPool("stack", info(8 * KIB, 0, 2)));
        refusesAnAlignmentBeyondTheBlock(manager.createFreeAtOnceMemoryPool("free at once", info(8 * KIB, 0, 2)));
        refusesAnAlignmentBeyondTheBlock(manager.createRingBufferMemoryPool("ring", info(8 * KIB, 1, 1)));
    }

    private static void refusesAnAlignmentBeyondTheBlock(IMemoryPool pool) {
        try (pool; IBuffer keep = pool.allocateBuffer(100)) {
            BlockMemoryPool.Statistics before = pool.statistics();
            for (long alignment : new long[] {16 * KIB, 1L << 62}) {
                assertThatThrownBy(() -> pool.allocateBuffer(new IMemoryPool.AllocationInfo(100, 0, alignment)))
                        .as(pool.name()).isInstanceOfSatisfying(MemoryAllocationException.class, e -> {
                            assertThat(e.reason())
                                    .isEqualTo(MemoryAllocationException.Reason.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED);
                            assertThat(e.getMessage()).contains("at alignment " + alignment);
                        });
            }
            assertThat(pool.statistics()).as(pool.name() + ": no block made").isEqualTo(before);
            // A buffer the first block has room for still comes from it.
            try (IBuffer second = pool.allocateBuffer(new IMemoryPool.AllocationInfo(100, 0, 256))) {
                assertThat(pool.statistics().blocks()).isEqualTo(before.blocks());
            }
        }
    }

    @Test
    void guardMarginsShouldNotBePutOnMemoryThatIsNotHostCoherent(VulkanContext context) {
        // Lavapipe's one type simulated as host-visible but not coherent: the margins would be filled and checked
        // through the mapping with no flush or invalidate, so the pool is refused, with nothing made; without
        // margins the same pool is fine.
        MemoryProperties real = context.memoryProperties();
        MemoryProperties cachedOnly = new MemoryProperties(real.heaps(), List.of(new MemoryProperties.Type(0,
                MemoryProperties.HOST_VISIBLE | MemoryProperties.HOST_CACHED)), real.bufferImageGranularity(),
                real.nonCoherentAtomSize());
        try (MemoryManager manager = MemoryManager.create(context, s -> s.withSimulatedMemoryProperties(cachedOnly))) {
            assertThatThrownBy(() -> manager.createNonLinearMemoryPool("margins", info(64 * KIB, 1, 1)
                    .withCreateFlags(CreateInfo.GUARD_MARGINS)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("guard margins in pool 'margins': memory type 0 is HOST_VISIBLE")
                    .hasMessageContaining("HOST_COHERENT");
            assertThat(manager.memoryPools()).isEmpty();
            assertThat(manager.allocator().liveDeviceMemoryCount()).isZero();
            try (IMemoryPool plain = manager.createNonLinearMemoryPool("plain", info(64 * KIB, 1, 1))) {
                assertThat(plain.memoryTypeIndex()).isZero();
            }
        }
    }

    @Test
    void aPoolOfBlocksSmallerThanTheDevicesAlignmentShouldStillHoldABufferPerBlock(MemoryManager manager) {
        // The device's alignment for uniform and storage buffers (64 on lavapipe) is larger than these blocks: only
        // the caller's alignment is held against the block size, so each block still takes one buffer of its size.
        for (long blockSize : new long[] {4, 16, 64}) {
            try (IMemoryPool pool = manager.createNonLinearMemoryPool("tiny " + blockSize,
                    CreateInfo.of(VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                            MemoryUsage.UPLOAD, blockSize).withBlocks(1, 2));
                 IBuffer first = pool.allocateBuffer(blockSize);
                 IBuffer second = pool.allocateBuffer(blockSize)) {
                assertThat(pool.statistics().blocks()).as("block size " + blockSize).isEqualTo(2);
                assertThat(second.buffer()).isNotNull();
            }
        }
    }
}
