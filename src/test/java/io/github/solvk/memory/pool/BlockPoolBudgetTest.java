package io.github.solvk.memory.pool;

import static io.github.solvk.memory.pool.BlockPoolTesting.KIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.MIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.config;
import static io.github.solvk.memory.pool.BlockPoolTesting.request;
import static io.github.solvk.memory.pool.BlockPoolTesting.vma;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * {@link BlockRequest#withinBudget()}: new blocks and dedicated memory only within the heap's budget, which VMA
 * computes from the heap size limit set here (lavapipe has one heap and one memory type).
 */
@ExtendWith(VulkanExtension.class)
class BlockPoolBudgetTest {

    /** The VMA heap size limit of these tests. */
    private static final long LIMIT = 4 * MIB;

    @Test
    void aBlockThatWouldPassTheBudgetShouldBeRetriedSmallerAndFailWhenNoneFits(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context, LIMIT);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1)
                     .threadCacheBytes(0).build())) {
            List<PooledBuffer> buffers = fill(pool);
            long room = room(vma);
            // The premise: the next full block (1 MiB) passes the budget, and so does half of it, while the heap
            // limit itself still has room for it.
            assertThat(room).as("budget left").isLessThan(448 * KIB).isGreaterThanOrEqualTo(128 * KIB);
            assertThat(LIMIT - pool.committedBytes()).isGreaterThanOrEqualTo(MIB);
            long committed = pool.committedBytes();
            int count = pool.deviceMemoryCount();

            // More than the budget has left: the retries (1 MiB, 512 KiB, then a block of the request's own size)
            // all pass it, so the request is refused and nothing is made. (Under half a block: no dedicated memory.)
            long tooLarge = room + 64 * KIB;
            assertThatThrownBy(() -> pool.allocate(request(tooLarge).withBudgetCheck(true)))
                    .isInstanceOfSatisfying(PoolException.class, e -> {
                        assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY);
                        assertThat(e.vkResultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY");
                    });
            assertThat(pool.committedBytes()).isEqualTo(committed);
            assertThat(pool.deviceMemoryCount()).isEqualTo(count);

            // A smaller one gets the largest retry (1/2, 1/4, 1/8 of the block) that stays within the budget.
            PooledBuffer within = pool.allocate(request(64 * KIB).withBudgetCheck(true));
            long made = pool.committedBytes() - committed;
            assertThat(made).as("a block of the largest retry that fits").isEqualTo(largestRetryWithin(room));
            assertThat(vma.budgets().get(0).usageBytes()).isLessThanOrEqualTo(vma.budgets().get(0).budgetBytes());
            within.release();

            // Without the check, the same request gets a block that takes the heap past its budget (only the heap
            // limit stops it).
            PooledBuffer over = pool.allocate(request(tooLarge));
            VulkanMemoryAllocator.Budget after = vma.budgets().get(0);
            assertThat(after.usageBytes()).isGreaterThan(after.budgetBytes());
            over.release();
            buffers.forEach(PooledBuffer::release);
            pool.checkInvariants();
        }
    }

    @Test
    void dedicatedMemoryShouldStayWithinTheBudgetWhenAsked(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context, LIMIT);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1)
                     .threadCacheBytes(0).build())) {
            List<PooledBuffer> buffers = fill(pool);
            long room = room(vma);
            BlockRequest dedicated = request(room + 64 * KIB).withPreference(AllocatePreference.ALWAYS_ALLOCATE);
            int count = pool.deviceMemoryCount();

            assertThatThrownBy(() -> pool.allocate(dedicated.withBudgetCheck(true)))
                    .isInstanceOfSatisfying(PoolException.class, e -> assertThat(e.kind())
                            .isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY));
            assertThat(pool.deviceMemoryCount()).isEqualTo(count);

            PooledBuffer made = pool.allocate(dedicated);
            assertThat(pool.statistics(0).dedicatedCount()).isEqualTo(1);
            made.release();
            PooledBuffer small = pool.allocate(request(64 * KIB).withPreference(AllocatePreference.ALWAYS_ALLOCATE)
                    .withBudgetCheck(true));
            assertThat(pool.statistics(0).dedicatedCount()).as("within the budget").isEqualTo(1);
            small.release();
            buffers.forEach(PooledBuffer::release);
        }
    }

    /**
     * Fills the 128, 256 and 512 KiB blocks and two full ones with 64 KiB buffers: 2.875 MiB of blocks, under
     * VMA's budget of a 4 MiB heap (80 % of it without {@code VK_EXT_memory_budget}, 3.2 MiB).
     */
    private static List<PooledBuffer> fill(BlockPoolAllocator pool) {
        List<PooledBuffer> buffers = new ArrayList<>();
        for (int i = 0; i < 2 + 4 + 8 + 16 + 16; i++) {
            buffers.add(pool.allocate(request(64 * KIB)));
        }
        assertThat(pool.blockSizes(0)).containsExactly(128 * KIB, 256 * KIB, 512 * KIB, MIB, MIB);
        return buffers;
    }

    /** @return the bytes the heap's budget has left */
    private static long room(VulkanMemoryAllocator vma) {
        VulkanMemoryAllocator.Budget b = vma.budgets().get(0);
        return b.budgetBytes() - b.usageBytes();
    }

    /** @return the largest of 1 MiB, 512, 256, 128 KiB that is at most {@code room} */
    private static long largestRetryWithin(long room) {
        for (long size = MIB; size >= 128 * KIB; size >>>= 1) {
            if (size <= room) {
                return size;
            }
        }
        return 0;
    }
}
