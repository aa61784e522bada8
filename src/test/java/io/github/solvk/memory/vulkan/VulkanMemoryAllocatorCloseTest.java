package io.github.solvk.memory.vulkan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.testing.VulkanExtension;

/**
 * {@link VulkanMemoryAllocator#close()} racing the library's own VMA calls on the same allocator, without a
 * {@code MemoryManager} around them: close waits for the calls in flight, and the calls that start after it destroyed
 * the allocator throw {@link IllegalStateException} and leave nothing made.
 */
@ExtendWith(VulkanExtension.class)
class VulkanMemoryAllocatorCloseTest {

    private static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
            | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    private static final String CLOSED = "VulkanMemoryAllocator is closed";
    private static final int WORKERS = 4;

    /** What one worker of the race came to. */
    private static final class Worker {
        final AtomicLong rounds = new AtomicLong();
        volatile Throwable end;
        /** Something the worker still held when it stopped: a leak, since nothing is closed after the race. */
        volatile String heldAtEnd;
    }

    @Test
    void closeRacingBufferAndBlockCallsShouldWaitForThemAndRefuseTheRest(VulkanContext context)
            throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            race(context, round);
        }
    }

    private static void race(VulkanContext context, long seed) throws InterruptedException {
        VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context));
        int blockType = Integer.numberOfTrailingZeros(
                VulkanMemory.bufferRequirements(allocator, 4096, USAGE).memoryTypeBits());
        List<Worker> workers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch started = new CountDownLatch(WORKERS);
        for (int t = 0; t < WORKERS; t++) {
            Worker worker = new Worker();
            boolean blocks = t % 2 == 1;
            Random random = new Random(seed * 31 + t);
            Thread thread = new Thread(() -> {
                started.countDown();
                try {
                    while (true) {
                        if (blocks) {
                            blockRound(allocator, blockType, random, worker);
                        } else {
                            bufferRound(allocator, random, worker);
                        }
                        worker.rounds.incrementAndGet();
                    }
                } catch (Throwable e) {
                    worker.end = e;
                }
            }, "close-race-" + t);
            thread.setDaemon(true);
            workers.add(worker);
            threads.add(thread);
            thread.start();
        }
        started.await();
        // Let every worker make a few rounds, so that close() meets calls in flight and live buffers.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (workers.stream().anyMatch(w -> w.rounds.get() < 20) && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        int refused = 0;
        while (true) {
            try {
                allocator.close();
                break;
            } catch (IllegalStateException e) {
                assertThat(e).hasMessageContaining("live allocation");
                refused++;
                assertThat(System.nanoTime()).as("close() succeeded within 30 s (%d refusals)", refused)
                        .isLessThan(deadline + TimeUnit.SECONDS.toNanos(20));
            }
        }
        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(thread.isAlive()).as("%s stopped", thread.getName()).isFalse();
        }
        for (int t = 0; t < WORKERS; t++) {
            Worker worker = workers.get(t);
            assertThat(worker.rounds.get()).as("worker %d's rounds", t).isPositive();
            assertThat(worker.end).as("worker %d's end", t).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(CLOSED);
            assertThat(worker.heldAtEnd).as("worker %d held nothing when refused", t).isNull();
        }
        assertThat(allocator.isClosed()).isTrue();
        allocator.close();
    }

    /** A buffer with its own allocation, read back through the allocator's statistics, then closed. */
    private static void bufferRound(VulkanMemoryAllocator allocator, Random random, Worker worker) {
        VulkanBuffer buffer = allocator.createBuffer(new VulkanMemoryAllocator.BufferRequest(
                256 + random.nextInt(64 * 1024), USAGE, null, VulkanMemoryAllocator.USAGE_AUTO, 0, 0, 0, 0,
                random.nextBoolean() ? "race buffer" : null));
        try {
            assertThat(allocator.statistics().total().allocationCount()).isPositive();
            if (random.nextInt(8) == 0) {
                assertThat(allocator.budgets()).isNotEmpty();
            }
        } catch (IllegalStateException e) {
            worker.heldAtEnd = buffer.toString();
            throw e;
        }
        buffer.close();
    }

    /** A block in VMA's own memory, a buffer bound in it through VMA, both closed. */
    private static void blockRound(VulkanMemoryAllocator allocator, int type, Random random, Worker worker) {
        VulkanMemory block = VulkanMemory.allocate(allocator, 64 * 1024, 256, type, random.nextInt(4) == 0,
                random.nextBoolean() ? "race block" : null);
        try {
            VulkanBuffer bound = block.createBuffer(0, 4096, USAGE);
            bound.close();
            allocator.setCurrentFrameIndex(random.nextInt(1000));
        } catch (IllegalStateException e) {
            worker.heldAtEnd = block.toString();
            throw e;
        }
        block.close();
    }

    @Test
    void everyCallAfterCloseShouldThrowNamingTheClosedAllocator(VulkanContext context) {
        VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context));
        allocator.close();
        List<ThrowingCallable> calls = List.of(
                () -> allocator.createBuffer(new VulkanMemoryAllocator.BufferRequest(4096, USAGE, null,
                        VulkanMemoryAllocator.USAGE_AUTO, 0, 0, 0, 0, "after close")),
                allocator::statistics,
                allocator::budgets,
                () -> allocator.statsJson(true),
                () -> allocator.setCurrentFrameIndex(1),
                allocator::handle,
                () -> VulkanMemory.allocate(allocator, 4096, 256, 0, true, null),
                () -> VulkanMemory.allocateDedicatedBuffer(allocator, 4096, USAGE, 0, null));
        for (ThrowingCallable call : calls) {
            assertThatThrownBy(call).isInstanceOf(IllegalStateException.class)
                    .hasMessage(CLOSED + " (expected: an open allocator)");
        }
        allocator.close();
        assertThat(allocator.isClosed()).isTrue();
    }

    @Test
    void aListenerCallingTheAllocatorWhileCloseWaitsShouldNotDeadlock(VulkanContext context)
            throws InterruptedException {
        VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context));
        CountDownLatch inUpcall = new CountDownLatch(1);
        CountDownLatch closing = new CountDownLatch(1);
        AtomicReference<Object> fromListener = new AtomicReference<>();
        allocator.addDeviceMemoryListener(new VulkanMemoryAllocator.DeviceMemoryListener() {
            @Override
            public void allocated(int type, long memory, long size) {
                inUpcall.countDown();
                try {
                    closing.await();
                    // A dedicated allocation holds none of VMA's own locks here, so the call is VMA-safe; the guard
                    // must let it pass, though close() has begun and waits for the call around this upcall.
                    fromListener.set(allocator.statistics().total());
                } catch (InterruptedException | RuntimeException e) {
                    fromListener.set(e);
                }
            }

            @Override
            public void freed(int type, long memory, long size) {
            }
        });
        AtomicReference<VulkanMemory> made = new AtomicReference<>();
        Thread allocating = new Thread(() -> made.set(VulkanMemory.allocate(allocator, 64 * 1024, 256, 0, true,
                null)), "allocating");
        allocating.setDaemon(true);
        allocating.start();
        assertThat(inUpcall.await(10, TimeUnit.SECONDS)).isTrue();
        closeWhileTheListenerHoldsACall(allocator, closing, allocating, fromListener);
        assertThat(allocator.isClosed()).isFalse();
        made.get().close();
        allocator.close();
        assertThat(allocator.isClosed()).isTrue();
    }

    @Test
    void anInterruptedCloseShouldWaitForTheCallsInFlightWithoutSpinningAndKeepItsInterrupt(VulkanContext context)
            throws InterruptedException {
        // LockSupport.park returns at once while the thread's interrupt is set: a close() that waits by parking, and
        // leaves the interrupt set, would burn a core until the call in flight returns.
        VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context));
        CountDownLatch inUpcall = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        allocator.addDeviceMemoryListener(new VulkanMemoryAllocator.DeviceMemoryListener() {
            @Override
            public void allocated(int type, long memory, long size) {
                inUpcall.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void freed(int type, long memory, long size) {
            }
        });
        AtomicReference<VulkanMemory> made = new AtomicReference<>();
        Thread allocating = new Thread(() -> made.set(VulkanMemory.allocate(allocator, 64 * 1024, 256, 0, true,
                null)), "allocating");
        allocating.setDaemon(true);
        allocating.start();
        assertThat(inUpcall.await(10, TimeUnit.SECONDS)).isTrue();
        AtomicReference<Throwable> closeResult = new AtomicReference<>();
        AtomicReference<Boolean> interruptedAfter = new AtomicReference<>();
        Thread closer = new Thread(() -> {
            Thread.currentThread().interrupt();
            try {
                allocator.close();
            } catch (Throwable e) {
                closeResult.set(e);
            }
            interruptedAfter.set(Thread.currentThread().isInterrupted());
        }, "interrupted closer");
        closer.setDaemon(true);
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        closer.start();
        // Let it begin and find the allocating call in flight.
        Thread.sleep(50);
        long cpuBefore = threads.getThreadCpuTime(closer.getId());
        Thread.sleep(500);
        long cpuDuring = threads.getThreadCpuTime(closer.getId()) - cpuBefore;
        assertThat(closer.isAlive()).as("close() waits for the call in flight").isTrue();
        release.countDown();
        allocating.join(TimeUnit.SECONDS.toMillis(10));
        closer.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(closer.isAlive()).as("close() returned").isFalse();
        assertThat(cpuDuring).as("CPU time of the waiting close() over 500 ms, in ns")
                .isLessThan(TimeUnit.MILLISECONDS.toNanos(150));
        assertThat(interruptedAfter.get()).as("the interrupt stays set for the caller").isTrue();
        assertThat(closeResult.get()).as("refused: the block just made is live")
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("1 live allocation");
        made.get().close();
        allocator.close();
        assertThat(allocator.isClosed()).isTrue();
    }

    @Test
    void aListenerCallingBackThroughAnotherAllocatorsUpcallShouldNotDeadlockAgainstClose(VulkanContext context)
            throws InterruptedException {
        // A's listener allocates on B, and B's listener, inside that, calls A: the thread is still inside A's call
        // (two upcalls down), which a racing A.close() waits for, so this call must pass A's closing guard as a call
        // from A's own listener does; and A.close() from there must throw, not wait for its own thread.
        VulkanMemoryAllocator a = VulkanMemoryAllocator.create(VulkanMemoryAllocator.Settings.forContext(context));
        VulkanMemoryAllocator b = VulkanMemoryAllocator.create(VulkanMemoryAllocator.Settings.forContext(context));
        CountDownLatch inUpcall = new CountDownLatch(1);
        CountDownLatch closing = new CountDownLatch(1);
        AtomicReference<Object> fromListener = new AtomicReference<>();
        AtomicReference<Throwable> closeFromListener = new AtomicReference<>();
        AtomicReference<VulkanMemory> madeOnB = new AtomicReference<>();
        a.addDeviceMemoryListener(new VulkanMemoryAllocator.DeviceMemoryListener() {
            @Override
            public void allocated(int type, long memory, long size) {
                madeOnB.set(VulkanMemory.allocate(b, 64 * 1024, 256, 0, true, null));
            }

            @Override
            public void freed(int type, long memory, long size) {
            }
        });
        b.addDeviceMemoryListener(new VulkanMemoryAllocator.DeviceMemoryListener() {
            @Override
            public void allocated(int type, long memory, long size) {
                try {
                    a.close();
                } catch (RuntimeException e) {
                    closeFromListener.set(e);
                }
                inUpcall.countDown();
                try {
                    closing.await();
                    fromListener.set(a.statistics().total());
                } catch (InterruptedException | RuntimeException e) {
                    fromListener.set(e);
                }
            }

            @Override
            public void freed(int type, long memory, long size) {
            }
        });
        AtomicReference<VulkanMemory> madeOnA = new AtomicReference<>();
        Thread allocating = new Thread(() -> madeOnA.set(VulkanMemory.allocate(a, 64 * 1024, 256, 0, true, null)),
                "allocating");
        allocating.setDaemon(true);
        allocating.start();
        assertThat(inUpcall.await(10, TimeUnit.SECONDS)).as("B's listener ran (A.close() from it returned)").isTrue();
        assertThat(closeFromListener.get()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("from its own device-memory listener");
        closeWhileTheListenerHoldsACall(a, closing, allocating, fromListener);
        madeOnB.get().close();
        madeOnA.get().close();
        b.close();
        a.close();
        assertThat(a.isClosed()).isTrue();
    }

    @Test
    void closeFromItsOwnListenerShouldThrowAndLeaveTheAllocatorOpen(VulkanContext context) {
        VulkanMemoryAllocator allocator = VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context));
        AtomicReference<Throwable> fromListener = new AtomicReference<>();
        allocator.addDeviceMemoryListener(new VulkanMemoryAllocator.DeviceMemoryListener() {
            @Override
            public void allocated(int type, long memory, long size) {
                try {
                    allocator.close();
                } catch (RuntimeException e) {
                    fromListener.set(e);
                }
            }

            @Override
            public void freed(int type, long memory, long size) {
            }
        });
        VulkanMemory block = VulkanMemory.allocate(allocator, 64 * 1024, 256, 0, true, null);
        assertThat(fromListener.get()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("from its own device-memory listener");
        assertThat(allocator.isClosed()).isFalse();
        block.close();
        allocator.close();
        assertThat(allocator.isClosed()).isTrue();
    }

    /**
     * Calls {@code allocator.close()} on a thread of its own while a listener holds an allocation inside VMA, waits
     * until that close() parks for the call in flight, lets the listener return ({@code closing}), and checks that
     * both threads returned, the listener's own guarded call answered, and close() was refused for the block just made.
     */
    private static void closeWhileTheListenerHoldsACall(VulkanMemoryAllocator allocator, CountDownLatch closing,
                                                        Thread allocating, AtomicReference<Object> fromListener)
            throws InterruptedException {
        AtomicReference<Throwable> closeResult = new AtomicReference<>();
        Thread closer = new Thread(() -> {
            try {
                allocator.close();
            } catch (Throwable e) {
                closeResult.set(e);
            }
        }, "closer");
        closer.setDaemon(true);
        closer.start();
        // close() parks once it has begun and found the allocating call in flight.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (closer.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(closer.getState()).isEqualTo(Thread.State.WAITING);
        closing.countDown();
        allocating.join(TimeUnit.SECONDS.toMillis(10));
        closer.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(allocating.isAlive()).as("the allocating thread returned").isFalse();
        assertThat(closer.isAlive()).as("close() returned").isFalse();
        assertThat(fromListener.get()).isInstanceOf(VulkanMemoryAllocator.Statistics.class);
        assertThat(closeResult.get()).as("refused: the block just made is live")
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("1 live allocation");
    }
}
