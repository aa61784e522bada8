package io.github.solvk.memory.pool;

import static io.github.solvk.memory.pool.BlockPoolTesting.KIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.MIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.config;
import static io.github.solvk.memory.pool.BlockPoolTesting.request;
import static io.github.solvk.memory.pool.BlockPoolTesting.vma;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.suballocator.Suballocator;
import io.github.solvk.memory.suballocator.SuballocatorFactory;
import io.github.solvk.memory.suballocator.SuballocatorKind;
import io.github.solvk.memory.suballocator.Suballocators;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanException;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/** Block sizes under VMA heap limits, and new blocks that fail: what a failed request leaves behind. */
@ExtendWith(VulkanExtension.class)
class BlockPoolBlockSizingTest {

    @Test
    void aRetryBlockTooSmallForTheSuballocatorShouldFailAsOutOfMemoryAndLeaveNoBlock(VulkanContext context) {
        // Buddy: 300 KiB takes a 512 KiB node. The first block (1/8 of 1 MiB, doubled to 512 KiB) does not fit under
        // a 400 KiB heap limit; the retry at 1/2 (floored at the request, 320 KiB) fits the heap but holds buddy roots
        // of 256 and 64 KiB only, so it can never take the request: the heap is what is short.
        try (VulkanMemoryAllocator vma = vma(context, 400 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).threadCacheBytes(0)
                     .suballocatorFactory(SuballocatorFactory.of(SuballocatorKind.BUDDY)).build())) {
            assertThatThrownBy(() -> pool.allocate(request(300 * KIB))).isInstanceOfSatisfying(PoolException.class,
                    e -> {
                        assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY);
                        assertThat(e.vkResultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY");
                    });
            assertThat(pool.deviceMemoryCount()).as("no block left by the failed request").isZero();
            assertThat(vma.deviceMemoryAllocationCount()).as("nor made: the 320 KiB retry was refused first")
                    .isZero();
            assertThat(pool.committedBytes()).isZero();
            assertThat(vma.statistics().total().blockCount()).isZero();
            // What fits the heap still works, from a first block of 1/8.
            pool.allocate(request(100 * KIB)).release();
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB);
            pool.checkInvariants();
        }
    }

    @Test
    void aRequestTheArenasNextBlockCannotHoldShouldGetALargerBlockAndNoMemoryForTheSmallerOne(
            VulkanContext context) {
        // Buddy on 1 MiB blocks: the first block would be 128 KiB, whose one root cannot give 4 KiB an offset aligned
        // to 256 KiB. An empty 256 KiB block can: that one is made, and no 128 KiB block is made and freed first.
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).threadCacheBytes(0)
                     .suballocatorFactory(SuballocatorFactory.of(SuballocatorKind.BUDDY)).build())) {
            PooledBuffer aligned = pool.allocate(request(4 * KIB).withAlignment(256 * KIB));
            assertThat(vma.deviceMemoryAllocationCount()).as("one vkAllocateMemory").isEqualTo(1);
            assertThat(pool.blockSizes(0)).containsExactly(256 * KIB);
            assertThat(aligned.buffer().offset() % (256 * KIB)).isZero();
            // It was the arena's first block: the next is the second step, 1/4 of the block size.
            PooledBuffer next = pool.allocate(request(256 * KIB));
            assertThat(pool.blockSizes(0)).containsExactly(256 * KIB, 256 * KIB);
            assertThat(vma.deviceMemoryAllocationCount()).isEqualTo(2);
            pool.checkInvariants();
            next.release();
            aligned.release();
        }
    }

    @Test
    void anAlignmentBeyondTheBlockShouldGetDedicatedMemoryWithEitherSuballocator(VulkanContext context) {
        // On 1 MiB blocks, only a block's offset 0 is aligned to 2 MiB: each such buffer would take a block of its
        // own (TLSF made a new block for a 100-byte buffer while the first had room; the buddy refused it). It gets
        // memory of its own instead, as a request larger than a block does, and no block is made or taken for it.
        for (SuballocatorKind kind : new SuballocatorKind[] {SuballocatorKind.TLSF, SuballocatorKind.BUDDY}) {
            try (VulkanMemoryAllocator vma = vma(context);
                 BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1)
                         .threadCacheBytes(0).suballocatorFactory(SuballocatorFactory.of(kind)).build())) {
                PooledBuffer small = pool.allocate(request(4 * KIB));
                for (long alignment : new long[] {2 * MIB, 1L << 40}) {
                    PooledBuffer aligned = pool.allocate(request(100).withAlignment(alignment));
                    assertThat(aligned.buffer().offset() % alignment).as(kind + "").isZero();
                    assertThat(pool.statistics(0).dedicatedCount()).as(kind + "").isEqualTo(1);
                    assertThat(pool.blockSizes(0)).as(kind + ": no block made for it").containsExactly(128 * KIB);
                    aligned.release();
                }
                small.release();
                PooledBuffer again = pool.allocate(request(100).withAlignment(2 * MIB));
                assertThat(pool.statistics(0).dedicatedCount()).as(kind + ": nor the empty block taken").isEqualTo(1);
                again.release();
                pool.checkInvariants();
            }
        }
    }

    @Test
    void dedicatedMemoryForALargeAlignmentShouldGetTheKeptEmptyBlockGivenBackWhenTheHeapIsFull(
            VulkanContext context) {
        // A 1 MiB heap holding a kept empty 512 KiB block: 600 KiB of memory of its own fits only once that block
        // goes back, at an alignment beyond the block size as without one.
        for (long alignment : new long[] {0, 2 * MIB}) {
            try (VulkanMemoryAllocator vma = vma(context, MIB);
                 BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1)
                         .threadCacheBytes(0).build())) {
                pool.allocate(request(400 * KIB)).release();
                assertThat(pool.blockSizes(0)).containsExactly(512 * KIB);
                BlockRequest r = alignment == 0 ? request(600 * KIB) : request(600 * KIB).withAlignment(alignment);
                PooledBuffer large = pool.allocate(r);
                assertThat(pool.blockSizes(0)).as("alignment " + alignment).isEmpty();
                assertThat(pool.statistics(0).dedicatedCount()).isEqualTo(1);
                large.release();
            }
        }
    }

    @Test
    void aNewBlockThatRefusesItsFirstRangeShouldBeFreedAndLeaveTheCountersAsTheyWere(VulkanContext context) {
        // Buddy on 1.5 MiB blocks: the largest root is 1 MiB, so 1.2 MiB fits no block. It is more than half a block,
        // but with the device crowded (one memory object of at most one) dedicated memory is not preferred.
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, 3 * MIB / 2).arenas(1)
                     .threadCacheBytes(0).suballocatorFactory(SuballocatorFactory.of(SuballocatorKind.BUDDY))
                     .build())) {
            PooledBuffer small = pool.allocate(request(4 * KIB));
            pool.overrideMaxMemoryAllocationCount(1);
            BlockPoolAllocator.TypeStatistics before = pool.statistics(0);
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(() -> pool.allocate(request(1200 * KIB)))
                        .isInstanceOfSatisfying(PoolException.class, e -> assertThat(e.kind())
                                .isEqualTo(PoolException.Kind.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED));
                assertThat(pool.deviceMemoryCount()).as("failure %d makes no block that stays", i).isEqualTo(1);
                assertThat(vma.deviceMemoryAllocationCount()).as("failure %d makes no memory", i).isEqualTo(1);
                assertThat(pool.statistics(0)).as("failure %d", i).isEqualTo(before);
            }
            pool.checkInvariants();
            small.release();
        }
    }

    @Test
    void aNewBlockThatThrowsOnItsFirstRangeShouldBeFreedAndNotCountAsAGrowthStep(VulkanContext context) {
        // Fixed-size slots of 4 KiB: the suballocator refuses an 8 KiB request with IllegalArgumentException (its
        // contract for a bad size), from a new block too.
        SuballocatorFactory slots = (offset, size, granularity) -> Suballocators.fixedSize(offset, size, 4 * KIB,
                256);
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).threadCacheBytes(0)
                     .suballocatorFactory(slots).build())) {
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(() -> pool.allocate(request(8 * KIB)))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slot size");
                assertThat(pool.deviceMemoryCount()).as("failure %d leaves no memory", i).isZero();
                assertThat(vma.deviceMemoryAllocationCount()).as("failure %d makes none", i).isZero();
            }
            pool.checkInvariants();
            // The failures were no growth steps: the arena still starts at 1/8, then 1/4.
            java.util.List<PooledBuffer> buffers = new java.util.ArrayList<>();
            for (int i = 0; i < 32 + 1; i++) {
                buffers.add(pool.allocate(request(4 * KIB)));
            }
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB, 256 * KIB);
            pool.checkInvariants();
            buffers.forEach(PooledBuffer::release);
            pool.checkInvariants();
            assertThat(pool.statistics(0).emptyBlockCount()).isEqualTo(1);
        }
    }

    /**
     * A factory of TLSF suballocators that refuses regions smaller than {@code minSize} with
     * {@code IllegalArgumentException}, as its contract allows for a bad value, and records the sizes it was asked for
     * and what it threw.
     */
    private static final class RefusingSmallRegions implements SuballocatorFactory {
        private final long minSize;
        final List<Long> asked = new CopyOnWriteArrayList<>();
        final List<IllegalArgumentException> refusals = new CopyOnWriteArrayList<>();

        RefusingSmallRegions(long minSize) {
            this.minSize = minSize;
        }

        @Override
        public Suballocator create(long regionOffset, long regionSize, long bufferImageGranularity) {
            asked.add(regionSize);
            if (regionSize < minSize) {
                IllegalArgumentException e = new IllegalArgumentException("regionSize: " + regionSize
                        + " (expected: at least " + minSize + ", refused by the test)");
                refusals.add(e);
                throw e;
            }
            return Suballocators.create(SuballocatorKind.TLSF, regionOffset, regionSize, bufferImageGranularity);
        }
    }

    @Test
    void aFactoryThatRefusesSmallRegionsShouldStillGetThreadCachesForItsTlsfBlocks(VulkanContext context) {
        // Whether released ranges may be cached is learned from one suballocator the factory makes; one that refuses
        // the smallest block size (64 KiB) is asked again for larger ones, and caches its TLSF blocks' ranges.
        RefusingSmallRegions factory = new RefusingSmallRegions(512 * KIB);
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1)
                     .suballocatorFactory(factory).build())) {
            assertThat(factory.asked).as("64 KiB to 256 KiB refused, 512 KiB taken")
                    .containsExactly(64 * KIB, 128 * KIB, 256 * KIB, 512 * KIB);
            pool.allocate(request(4 * KIB)).release();
            PooledBuffer again = pool.allocate(request(4 * KIB));
            assertThat(pool.statistics(0).cacheHits()).as("the second request served by the thread's cache")
                    .isEqualTo(1);
            again.release();
            pool.checkInvariants();
        }
    }

    @Test
    void aBlockSizeTheFactoryRefusesShouldGiveWayToALargerBlockAndMakeNoMemoryForIt(VulkanContext context) {
        // The factory takes regions of 512 KiB and more: the arena's first block (128 KiB) and its second (256 KiB)
        // are refused, so each is doubled until the factory takes it, and only those blocks are made.
        RefusingSmallRegions factory = new RefusingSmallRegions(512 * KIB);
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).threadCacheBytes(0)
                     .suballocatorFactory(factory).build())) {
            factory.asked.clear();
            PooledBuffer small = pool.allocate(request(4 * KIB));
            assertThat(factory.asked).as("128 KiB refused, then 256 KiB, then 512 KiB taken")
                    .containsExactly(128 * KIB, 256 * KIB, 512 * KIB);
            assertThat(pool.blockSizes(0)).containsExactly(512 * KIB);
            assertThat(vma.deviceMemoryAllocationCount()).as("one vkAllocateMemory").isEqualTo(1);
            PooledBuffer a = pool.allocate(request(256 * KIB));
            PooledBuffer b = pool.allocate(request(256 * KIB));
            assertThat(pool.blockSizes(0)).as("the second step, 256 KiB, doubled too").containsExactly(512 * KIB,
                    512 * KIB);
            assertThat(vma.deviceMemoryAllocationCount()).isEqualTo(2);
            pool.checkInvariants();
            b.release();
            a.release();
            small.release();
            pool.checkInvariants();
        }
    }

    @Test
    void aRequestForWhichTheFactoryRefusesEveryBlockSizeShouldFailAsSuballocatorBlockSizeExceeded(
            VulkanContext context) {
        // The factory takes no region under 2 MiB, and blocks are 1 MiB: no block can be made, which is the pool's
        // SUBALLOCATOR_BLOCK_SIZE_EXCEEDED (the factory's exception its cause), not a raw IllegalArgumentException,
        // and no memory is made or left.
        RefusingSmallRegions factory = new RefusingSmallRegions(2 * MIB);
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).threadCacheBytes(0)
                     .suballocatorFactory(factory).build())) {
            BlockPoolAllocator.TypeStatistics before = pool.statistics(0);
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(() -> pool.allocate(request(4 * KIB))).as("failure %d", i)
                        .isInstanceOfSatisfying(PoolException.class, e -> {
                            assertThat(e.kind()).isEqualTo(PoolException.Kind.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED);
                            assertThat(e.getCause()).as("the refusal of the block size")
                                    .isSameAs(factory.refusals.get(factory.refusals.size() - 1))
                                    .hasMessageContaining("regionSize: " + MIB);
                        });
                assertThat(factory.asked.get(factory.asked.size() - 1)).as("up to the block size").isEqualTo(MIB);
                assertThat(vma.deviceMemoryAllocationCount()).as("failure %d makes no memory", i).isZero();
                assertThat(pool.deviceMemoryCount()).isZero();
                assertThat(pool.committedBytes()).isZero();
                assertThat(vma.statistics().total().allocationCount()).isZero();
                assertThat(pool.statistics(0)).as("failure %d", i).isEqualTo(before);
            }
            pool.checkInvariants();
        }
    }

    @Test
    void aRetryBlockTheFactoryRefusesShouldEndTheRetriesAsOutOfMemory(VulkanContext context) {
        // The factory takes regions of 256 KiB and more: the first block, 128 KiB, becomes 256 KiB, which a 200 KiB
        // heap limit refuses. The retry at 1/2, 128 KiB, would fit the heap, but the factory refuses it: the request
        // ends as OUT_OF_DEVICE_MEMORY, the failure it met, with the refusal suppressed on it, and makes no memory.
        RefusingSmallRegions factory = new RefusingSmallRegions(256 * KIB);
        try (VulkanMemoryAllocator vma = vma(context, 200 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).threadCacheBytes(0)
                     .suballocatorFactory(factory).build())) {
            BlockPoolAllocator.TypeStatistics before = pool.statistics(0);
            factory.asked.clear();
            factory.refusals.clear();
            assertThatThrownBy(() -> pool.allocate(request(64 * KIB))).isInstanceOfSatisfying(PoolException.class,
                    e -> {
                        assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY);
                        assertThat(e.vkResultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY");
                        assertThat(e.getCause()).isInstanceOfSatisfying(VulkanException.class, out -> {
                            assertThat(out.resultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY");
                            assertThat(out.getSuppressed()).as("the retry's refusal")
                                    .containsExactly(factory.refusals.get(factory.refusals.size() - 1));
                        });
                    });
            assertThat(factory.asked).as("128 KiB refused, 256 KiB taken (and refused by the heap), 128 KiB refused")
                    .containsExactly(128 * KIB, 256 * KIB, 128 * KIB);
            assertThat(vma.deviceMemoryAllocationCount()).as("no block of a refused size was made").isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(pool.committedBytes()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
            assertThat(pool.statistics(0)).isEqualTo(before);
            pool.checkInvariants();
        }
    }

    @Test
    void theDefaultBlockSizeShouldFollowTheHeapAsVmaLimitsIt(VulkanContext context) {
        // VMA reports a limited heap at its limit and sizes its own blocks from that: 64 MiB is a heap below 1 GiB,
        // so its blocks are 1/8 of it, not the 256 MiB of a large heap (whose first block alone would be half of it).
        try (VulkanMemoryAllocator vma = vma(context, 64 * MIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, BlockPoolAllocator.Config.defaults())) {
            assertThat(context.memoryProperties().heaps().get(0).size()).isGreaterThanOrEqualTo(1L << 30);
            assertThat(pool.blockSize(0)).isEqualTo(8 * MIB);
            PooledBuffer b = pool.allocate(request(64 * KIB));
            assertThat(pool.blockSizes(0)).containsExactly(MIB);
            b.release();
        }
        // A limit above the heap changes nothing; a configured size wins.
        try (VulkanMemoryAllocator vma = vma(context, 1L << 50);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, BlockPoolAllocator.Config.defaults())) {
            assertThat(pool.blockSize(0)).isEqualTo(BlockPoolAllocator.Config.LARGE_HEAP_BLOCK_SIZE);
        }
        try (VulkanMemoryAllocator vma = vma(context, 64 * MIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            assertThat(pool.blockSize(0)).isEqualTo(MIB);
        }
    }
}
