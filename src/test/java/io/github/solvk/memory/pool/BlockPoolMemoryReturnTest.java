package io.github.solvk.memory.pool;

import static io.github.solvk.memory.pool.BlockPoolTesting.KIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.MIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.on;
import static io.github.solvk.memory.pool.BlockPoolTesting.request;
import static io.github.solvk.memory.pool.BlockPoolTesting.vma;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * Cached ranges go back before a pool grows, also those a miss just took in from its arena's stack of releases, and a
 * thread gives its ranges back at its next request or release of any size after another thread ran out of memory.
 */
@ExtendWith(VulkanExtension.class)
class BlockPoolMemoryReturnTest {

    private ExecutorService first;
    private ExecutorService second;

    @BeforeEach
    void twoThreadsWithDifferentHomes() throws Exception {
        for (int attempt = 0; attempt < 10; attempt++) {
            first = Executors.newSingleThreadExecutor();
            second = Executors.newSingleThreadExecutor();
            int a = first.submit(TypeBlockPool::threadNumber).get();
            int b = second.submit(TypeBlockPool::threadNumber).get();
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

    /**
     * Ranges waiting on the home arena's stack are taken into the requesting thread's cache by its miss, and then
     * the pool grows (or, under a heap limit, fails) while that cache holds them, although the docs promise that
     * cached ranges go back before the pool grows.
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
     * Out of memory on one thread asks every other thread to give its cached ranges back "at its next request or
     * release" (ThreadRangeCache, docs/block-pool.md). Only requests and releases of cacheable sizes look at the
     * request: a thread whose next calls are a larger buffer or dedicated memory keeps its ranges.
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
