package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;

/**
 * Four threads allocating and closing buffers while the allocator closes under them: what an allocation racing
 * {@code close()} must come to. Each thread allocates until it gets an {@link IllegalStateException} (the one
 * exception such an allocation may see), closing a random one of its buffers once it holds more than a given count.
 */
final class CloseRace {

    private CloseRace() {
    }

    /**
     * Runs the race once and checks its end: no other exception on any thread, and every buffer a thread still held
     * reads as closed (released by the allocator's close), refuses its handle, and closes again quietly.
     *
     * @param seed      seeds the threads' choices
     * @param allocate  makes one buffer from the thread's random numbers
     * @param held      how many buffers a thread keeps open at most
     * @param close     closes the allocator
     * @param sleepMs   how long the threads run before the close
     */
    static void run(long seed, Function<Random, IBuffer> allocate, int held, Runnable close, long sleepMs)
            throws InterruptedException {
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<IBuffer> kept = new ConcurrentLinkedQueue<>();
        CountDownLatch running = new CountDownLatch(4);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            long threadSeed = seed * 10 + t;
            Thread thread = new Thread(() -> {
                Random random = new Random(threadSeed);
                List<IBuffer> mine = new ArrayList<>();
                running.countDown();
                try {
                    while (true) {
                        mine.add(allocate.apply(random));
                        if (mine.size() > held) {
                            mine.remove(random.nextInt(mine.size())).close();
                        }
                    }
                } catch (IllegalStateException e) {
                    // The allocator closed.
                } catch (Throwable e) {
                    failures.add(e);
                }
                kept.addAll(mine);
            });
            threads.add(thread);
            thread.start();
        }
        running.await();
        Thread.sleep(sleepMs);
        close.run();
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failures).as("race %d", seed).isEmpty();
        for (IBuffer b : kept) {
            assertThat(b.isClosed()).as("released by close()").isTrue();
            assertThatThrownBy(b::buffer).isInstanceOf(IllegalStateException.class);
            b.close();
        }
    }
}
