package io.github.solvk.memory.pool;

import static io.github.solvk.memory.pool.BlockPoolAllocatorTest.verifyAndFree;
import static io.github.solvk.memory.pool.BlockPoolTesting.KIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.MIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.request;
import static io.github.solvk.memory.pool.BlockPoolTesting.vma;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * Short-lived threads churn buffers of one block pool allocator under a VMA heap limit, with remote releases, cache
 * flushes, {@code releaseUnusedMemory()}, statistics, {@code NEVER_ALLOCATE} and own buffers mixed in: no range is
 * handed out twice or lost, and at the end nothing is live or cached, at most one empty block stays (which
 * {@code releaseUnusedMemory()} gives back), and VMA holds nothing after close. The seed and
 * rounds can be set with {@code solvk.test.churnSeed} and {@code solvk.test.churnRounds}.
 */
@ExtendWith(VulkanExtension.class)
class BlockPoolChurnStressTest {

    @Test
    void churn(VulkanContext context) throws Exception {
        long seed = Long.getLong("solvk.test.churnSeed", 7);
        int rounds = Integer.getInteger("solvk.test.churnRounds", 6);
        try (VulkanMemoryAllocator vma = vma(context, 3 * MIB)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, BlockPoolTesting.config(context, MIB)
                    .arenas(2).threadCacheBytes(64 * KIB).build());
            ConcurrentLinkedQueue<PooledBuffer> shared = new ConcurrentLinkedQueue<>();
            Map<PooledBuffer, Long> stamps = new ConcurrentHashMap<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong ooms = new AtomicLong();
            for (int round = 0; round < rounds; round++) {
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    long s = seed * 1000 + round * 10 + t;
                    Thread th = new Thread(() -> {
                        Random random = new Random(s);
                        List<PooledBuffer> mine = new ArrayList<>();
                        try {
                            for (int op = 0; op < 1500; op++) {
                                int r = random.nextInt(100);
                                if (r < 45 || mine.isEmpty()) {
                                    long size = (long) Math.exp(Math.log(64) + random.nextDouble()
                                            * (Math.log(40 * KIB) - Math.log(64)));
                                    BlockRequest req = request(size).withBufferMode(random.nextInt(4) == 0
                                            ? BlockPoolAllocator.BufferMode.OWN_BUFFER
                                            : BlockPoolAllocator.BufferMode.SUB_RANGE);
                                    if (random.nextInt(10) == 0) {
                                        req = req.withPreference(AllocatePreference.NEVER_ALLOCATE);
                                    }
                                    PooledBuffer b;
                                    try {
                                        b = pool.allocate(req);
                                    } catch (PoolException e) {
                                        ooms.incrementAndGet();
                                        // give memory back
                                        while (mine.size() > 4) {
                                            verifyAndFree(mine.remove(mine.size() - 1), stamps);
                                        }
                                        continue;
                                    }
                                    long stamp = s << 20 | op;
                                    b.buffer().write(0, new int[] {(int) stamp, (int) (stamp >>> 32)});
                                    stamps.put(b, stamp);
                                    mine.add(b);
                                } else if (r < 75) {
                                    verifyAndFree(mine.remove(random.nextInt(mine.size())), stamps);
                                } else if (r < 90) {
                                    shared.add(mine.remove(random.nextInt(mine.size())));
                                } else if (r < 97) {
                                    PooledBuffer b = shared.poll();
                                    if (b != null) {
                                        verifyAndFree(b, stamps);
                                    }
                                } else if (r < 98) {
                                    pool.flushThreadCache();
                                } else if (r < 99) {
                                    // Every block no buffer uses goes back while the other threads churn.
                                    pool.releaseUnusedMemory();
                                } else {
                                    pool.statistics(0);
                                }
                            }
                            // leave some live for the next round's threads
                            shared.addAll(mine);
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    });
                    threads.add(th);
                    th.start();
                }
                for (Thread th : threads) {
                    th.join(120_000);
                }
                if (failure.get() != null) {
                    throw new AssertionError(failure.get());
                }
            }
            PooledBuffer b;
            while ((b = shared.poll()) != null) {
                verifyAndFree(b, stamps);
            }
            pool.flushThreadCache();
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            System.out.println("[churn] out-of-memory failures: " + ooms + "; " + stats);
            pool.checkInvariants();
            stats = pool.statistics(0);
            assertThat(stats.allocationCount()).isZero();
            assertThat(stats.cachedRanges()).isZero();
            assertThat(stats.keptBuffers()).isZero();
            assertThat(stats.blockCount()).isEqualTo(stats.emptyBlockCount());
            assertThat(stats.blockCount()).isLessThanOrEqualTo(1);
            assertThat(pool.releaseUnusedMemory()).isEqualTo(stats.committedBytes());
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
            pool.close();
            assertThat(pool.liveBuffersAtClose()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
        }
    }
}
