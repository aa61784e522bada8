package io.github.solvk.memory.pool;

import static io.github.solvk.memory.pool.BlockPoolTesting.ANY;
import static io.github.solvk.memory.pool.BlockPoolTesting.KIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.MIB;
import static io.github.solvk.memory.pool.BlockPoolTesting.USAGE;
import static io.github.solvk.memory.pool.BlockPoolTesting.config;
import static io.github.solvk.memory.pool.BlockPoolTesting.request;
import static io.github.solvk.memory.pool.BlockPoolTesting.vma;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.vkCmdCopyBuffer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferCopy;

import io.github.solvk.memory.suballocator.SuballocatorFactory;
import io.github.solvk.memory.suballocator.SuballocatorKind;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemory;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;
import io.github.solvk.memory.vulkan.VulkanObjects;

@ExtendWith(VulkanExtension.class)
class BlockPoolAllocatorTest {


    @Test
    void firstBlocksShouldBeAnEighthAQuarterAndAHalfThenFullAndOnlyOneEmptyBlockIsKept(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            List<PooledBuffer> buffers = new ArrayList<>();
            // 64 KiB each: 2 fill the 128 KiB block, 4 the 256 KiB one, 8 the 512 KiB one, 16 each full block.
            for (int i = 0; i < 2 + 4 + 8 + 16 + 1; i++) {
                buffers.add(pool.allocate(request(64 * KIB)));
            }
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB, 256 * KIB, 512 * KIB, MIB, MIB);
            VulkanMemoryAllocator.Statistics total = vma.statistics().total();
            assertThat(total.blockCount()).isEqualTo(5);
            assertThat(total.blockBytes()).isEqualTo(128 * KIB + 256 * KIB + 512 * KIB + 2 * MIB);
            assertThat(pool.committedBytes()).isEqualTo(total.blockBytes());
            assertThat(pool.deviceMemoryCount()).isEqualTo(5);
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.allocationCount()).isEqualTo(31);
            assertThat(stats.usedBytes()).isEqualTo(31 * 64 * KIB);
            assertThat(stats.largestFreeRange()).isEqualTo(MIB - 64 * KIB);
            pool.checkInvariants();

            // Empty the blocks one by one: the first emptied is kept, every later one is freed at once.
            buffers.get(0).release();
            buffers.get(1).release();
            assertThat(vma.statistics().total().blockCount()).as("one empty block kept").isEqualTo(5);
            assertThat(pool.statistics(0).emptyBlockCount()).isEqualTo(1);
            for (int i = 2; i < 6; i++) {
                buffers.get(i).release();
            }
            assertThat(vma.statistics().total().blockCount()).as("the second empty block is freed").isEqualTo(4);
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB, 512 * KIB, MIB, MIB);
            for (int i = 6; i < buffers.size(); i++) {
                buffers.get(i).release();
            }
            assertThat(vma.statistics().total().blockCount()).isEqualTo(1);
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            assertThat(pool.statistics(0).blocksReturned()).isEqualTo(4);
            assertThat(pool.statistics(0).allocationCount()).isZero();
            pool.checkInvariants();
        }
    }

    @Test
    void defaultBlockSizesShouldFollowTheHeapSize() {
        BlockPoolAllocator.Config config = BlockPoolAllocator.Config.builder().blockSize(2, 8 * MIB).build();
        assertThat(config.blockSizeFor(0, 24L << 30)).isEqualTo(256 * MIB);
        assertThat(config.blockSizeFor(0, 1L << 30)).isEqualTo(256 * MIB);
        assertThat(config.blockSizeFor(1, 256 * MIB)).isEqualTo(32 * MIB);
        assertThat(config.blockSizeFor(1, 100 * KIB)).isEqualTo(BlockPoolAllocator.Config.MIN_BLOCK_SIZE);
        assertThat(config.blockSizeFor(2, 24L << 30)).isEqualTo(8 * MIB);
    }

    @Test
    void anySuballocatorFactoryAndTheConfiguredBufferModeShouldBeUsed(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB)
                     .suballocatorFactory(SuballocatorFactory.of(SuballocatorKind.BUDDY))
                     .bufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER).build())) {
            List<PooledBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                buffers.add(pool.allocate(request(3 * KIB + i * 100)));
            }
            assertThat(((PoolBlock) buffers.get(0).pool()).suballocator.kind()).isEqualTo(SuballocatorKind.BUDDY);
            // A buffer of its own starts at offset 0 of its VkBuffer, and no two share one.
            assertThat(buffers).allSatisfy(b -> assertThat(b.buffer().offset()).isZero());
            assertThat(buffers.stream().map(b -> b.buffer().buffer()).distinct()).hasSize(buffers.size());
            assertThat(pool.owns(buffers.get(0))).isTrue();
            assertNoOverlap(buffers);
            pool.checkInvariants();
            buffers.forEach(pool::free);
            assertThat(pool.statistics(0).allocationCount()).isZero();
        }
    }

    @Test
    void allocationsShouldFillGapsBeforeANewBlockIsMade(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            List<PooledBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < 2 + 4; i++) {
                buffers.add(pool.allocate(request(64 * KIB)));
            }
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB, 256 * KIB);
            PooledBuffer gap = buffers.get(3);
            long gapBuffer = gap.buffer().buffer();
            long gapOffset = gap.buffer().offset();
            gap.release();
            PooledBuffer filler = pool.allocate(request(60 * KIB));
            assertThat(filler.buffer().buffer()).isEqualTo(gapBuffer);
            assertThat(filler.buffer().offset()).isEqualTo(gapOffset);
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB, 256 * KIB);
            assertThat(vma.statistics().total().blockCount()).isEqualTo(2);
            filler.release();
            buffers.forEach(PooledBuffer::release);
            pool.checkInvariants();
        }
    }

    @Test
    void largeRequestsAndAlwaysAllocateShouldGetDedicatedMemory(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            PooledBuffer large = pool.allocate(request(MIB / 2 + 1));
            PooledBuffer huge = pool.allocate(request(3 * MIB));
            PooledBuffer always = pool.allocate(request(256).withPreference(AllocatePreference.ALWAYS_ALLOCATE));
            assertThat(pool.statistics(0).dedicatedCount()).isEqualTo(3);
            assertThat(pool.statistics(0).blockCount()).isZero();
            assertThat(vma.statistics().total().blockCount()).isEqualTo(3);
            assertThat(large.buffer().ownsBuffer()).as("dedicated memory holds a buffer of its own").isTrue();
            assertThat(large.buffer().offset()).isZero();
            PooledBuffer half = pool.allocate(request(MIB / 2));
            assertThat(pool.statistics(0).blockCount()).as("exactly half a block is suballocated").isEqualTo(1);
            assertThat(pool.blockSizes(0)).containsExactly(MIB / 2);
            large.release();
            huge.release();
            always.release();
            half.release();
            assertThat(pool.statistics(0).dedicatedCount()).isZero();
            assertThat(vma.statistics().total().blockCount()).as("only the empty block is kept").isEqualTo(1);
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
        }
    }

    @Test
    void dedicatedMemoryShouldStopBeingPreferredAboveThreeQuartersOfTheAllocationCount(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            pool.overrideMaxMemoryAllocationCount(4);
            BlockRequest large = request(MIB * 3 / 4);
            List<PooledBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                buffers.add(pool.allocate(large));
            }
            assertThat(pool.deviceMemoryCount()).as("3 of 4 live is not above 3/4").isEqualTo(4);
            buffers.add(pool.allocate(large));
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.dedicatedCount()).isEqualTo(4);
            assertThat(stats.blockCount()).as("above 3/4, more than half a block is suballocated").isEqualTo(1);
            PooledBuffer always = pool.allocate(request(4 * KIB).withPreference(AllocatePreference.ALWAYS_ALLOCATE));
            assertThat(pool.statistics(0).dedicatedCount()).as("ALWAYS_ALLOCATE: dedicated anyway").isEqualTo(5);
            PooledBuffer tooLarge = pool.allocate(request(2 * MIB));
            assertThat(pool.statistics(0).dedicatedCount()).as("larger than a block: dedicated anyway").isEqualTo(6);
            assertThat(pool.statistics(0).blockCount()).isEqualTo(1);
            always.release();
            tooLarge.release();
            buffers.forEach(PooledBuffer::release);
            pool.checkInvariants();
        }
    }

    @Test
    void neverAllocateShouldOnlySuballocateExistingBlocks(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            BlockRequest never = request(4 * KIB).withPreference(AllocatePreference.NEVER_ALLOCATE);
            assertThatThrownBy(() -> pool.allocate(never)).isInstanceOfSatisfying(PoolException.class,
                    e -> assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_POOL_MEMORY));
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(vma.statistics().total().blockCount()).isZero();
            assertThatThrownBy(() -> pool.allocate(request(2 * MIB).withPreference(AllocatePreference.NEVER_ALLOCATE)))
                    .isInstanceOfSatisfying(PoolException.class,
                            e -> assertThat(e.kind()).isEqualTo(PoolException.Kind.BLOCK_SIZE_EXCEEDED));

            PooledBuffer first = pool.allocate(request(4 * KIB));
            PooledBuffer second = pool.allocate(never);
            assertThat(second.buffer().buffer()).isEqualTo(first.buffer().buffer());
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            BlockRequest neverLarge = request(128 * KIB).withPreference(AllocatePreference.NEVER_ALLOCATE);
            assertThatThrownBy(() -> pool.allocate(neverLarge))
                    .isInstanceOfSatisfying(PoolException.class,
                            e -> assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_POOL_MEMORY));
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            first.release();
            second.release();
        }
    }

    @Test
    void outOfDeviceMemoryShouldRetrySmallerBlocksThenFailAndTheAllocatorKeepsWorking(VulkanContext context) {
        // 128 + 256 + 512 KiB fit; a full 1 MiB block does not, a second 512 KiB one does; then nothing fits.
        try (VulkanMemoryAllocator vma = vma(context, 1400 * KIB + 32 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            List<PooledBuffer> buffers = new ArrayList<>();
            PoolException failure = null;
            for (int i = 0; i < 64 && failure == null; i++) {
                try {
                    buffers.add(pool.allocate(request(64 * KIB)));
                } catch (PoolException e) {
                    failure = e;
                }
            }
            assertThat(failure).isNotNull();
            assertThat(failure.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY);
            assertThat(failure.vkResultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY");
            assertThat(failure.getMessage()).contains("65536 bytes");
            assertThat(pool.blockSizes(0)).as("the 1 MiB block failed, 512 KiB was made instead")
                    .containsExactly(128 * KIB, 256 * KIB, 512 * KIB, 512 * KIB);
            assertThat(buffers).hasSize(2 + 4 + 8 + 8);
            assertThat(vma.statistics().total().blockBytes()).isEqualTo(1408 * KIB);
            assertThatThrownBy(() -> pool.allocate(request(MIB * 3 / 4))).isInstanceOfSatisfying(PoolException.class,
                    e -> assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY));
            assertThat(pool.deviceMemoryCount()).isEqualTo(4);

            buffers.remove(5).release();
            buffers.add(pool.allocate(request(64 * KIB)));
            assertThat(pool.deviceMemoryCount()).isEqualTo(4);
            buffers.forEach(PooledBuffer::release);
            pool.checkInvariants();
        }
    }

    @Test
    void aNewBlockOutOfMemoryShouldGetTheRoomOfAKeptEmptyBlockTooSmallForTheRequest(VulkanContext context) {
        // Heap limit 800 KiB, blocks of 1 MiB: six 64 KiB buffers fill blocks of 128 and 256 KiB, and the 128 KiB one,
        // emptied, is the empty block kept. 400 KiB fits neither; its block (the third step, 512 KiB) does not fit the
        // 416 KiB of heap left, nor does the retry at 448 KiB (1/2, floored at the request). With the kept block given
        // back, 544 KiB are left: the 512 KiB block is made.
        try (VulkanMemoryAllocator vma = vma(context, 800 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1)
                     .threadCacheBytes(0).build())) {
            List<PooledBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < 2 + 4; i++) {
                buffers.add(pool.allocate(request(64 * KIB)));
            }
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB, 256 * KIB);
            buffers.remove(0).release();
            buffers.remove(0).release();
            assertThat(pool.statistics(0).emptyBlockCount()).isEqualTo(1);
            PooledBuffer large = pool.allocate(request(400 * KIB));
            assertThat(large.buffer().ownsBuffer()).as("in a block").isFalse();
            assertThat(pool.blockSizes(0)).containsExactly(256 * KIB, 512 * KIB);
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.emptyBlockCount()).isZero();
            assertThat(stats.blocksReturned()).isEqualTo(1);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(2);
            assertThat(vma.statistics().total().blockBytes()).isEqualTo(768 * KIB);
            large.release();
            buffers.forEach(PooledBuffer::release);
            pool.checkInvariants();
        }
    }

    @Test
    void bothBufferModesShouldCarryDataThroughAGpuCopy(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            PooledBuffer a = pool.allocate(request(4 * KIB).withBufferMode(BlockPoolAllocator.BufferMode.SUB_RANGE));
            PooledBuffer b = pool.allocate(request(4 * KIB).withBufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER));
            PooledBuffer c = pool.allocate(request(4 * KIB).withBufferMode(BlockPoolAllocator.BufferMode.SUB_RANGE));
            assertThat(a.buffer().buffer()).as("sub-ranges share the block's buffer").isEqualTo(c.buffer().buffer());
            assertThat(b.buffer().buffer()).isNotEqualTo(a.buffer().buffer());
            assertThat(b.buffer().offset()).isZero();
            int[] data = new int[1024];
            for (int i = 0; i < data.length; i++) {
                data[i] = i * 31 + 7;
            }
            a.buffer().write(0, data);
            copy(context, a.buffer(), b.buffer(), 4 * KIB);
            copy(context, b.buffer(), c.buffer(), 4 * KIB);
            int[] viaOwn = new int[1024];
            b.buffer().read(0, viaOwn);
            assertThat(viaOwn).isEqualTo(data);
            int[] back = new int[1024];
            c.buffer().read(0, back);
            assertThat(back).isEqualTo(data);
            a.release();
            b.release();
            c.release();
            assertThat(pool.statistics(0).allocationCount()).isZero();
        }
    }

    private static void copy(VulkanContext context, VulkanBuffer src, VulkanBuffer dst, long size) {
        context.execute(context.transferQueue(), cmd -> {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                vkCmdCopyBuffer(cmd, src.buffer(), dst.buffer(), VkBufferCopy.calloc(1, stack)
                        .srcOffset(src.offset()).dstOffset(dst.offset()).size(size));
            }
        });
    }

    @Test
    @SuppressWarnings("try") // closes the allocator inside its try block on purpose
    void badInputShouldThrowNamingTheValueAndChangeNothing(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            PooledBuffer live = pool.allocate(request(4 * KIB));
            assertThatThrownBy(() -> request(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("size: 0");
            assertThatThrownBy(() -> new BlockRequest(64, 0, ANY, AllocatePreference.UNKNOWN, 0, null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("usage: 0");
            assertThatThrownBy(() -> request(64).withAlignment(24)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("alignment: 24 (expected: 0 or a power of two)");
            int conditionalRendering = 0x200;
            assertThatThrownBy(() -> pool.allocate(BlockRequest.of(64, conditionalRendering | USAGE, ANY)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("usage: 0x223")
                    .hasMessageContaining("subset");
            assertThatThrownBy(() -> BlockPoolAllocator.Config.builder().blockSize(0, 1000).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blockSizes[0]: 1000");
            assertThatThrownBy(() -> BlockPoolAllocator.Config.builder().maxEmptyBlocks(-1).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxEmptyBlocks: -1");
            assertThatThrownBy(() -> pool.statistics(7)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("memoryTypeIndex: 7");
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            assertThat(pool.statistics(0).allocationCount()).isEqualTo(1);
            assertThat(vma.statistics().total().blockCount()).isEqualTo(1);

            PooledBuffer other;
            try (BlockPoolAllocator second = new BlockPoolAllocator(vma, config(context, MIB).build())) {
                other = second.allocate(request(64));
                assertThatThrownBy(() -> pool.free(other)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("expected: a buffer of this BlockPoolAllocator");
                second.free(other);
            }
            pool.free(live);
            assertThatThrownBy(() -> pool.free(live)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("released already");
            live.release();
            assertThat(pool.statistics(0).allocationCount()).isZero();
            pool.checkInvariants();
            pool.close();
            assertThatThrownBy(() -> pool.allocate(request(64))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
        }
    }

    @Test
    void closeShouldFreeEveryBlockOnceAndCountTheLiveBuffers(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build());
            PooledBuffer sub = pool.allocate(request(4 * KIB));
            PooledBuffer own = pool.allocate(request(4 * KIB).withBufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER));
            PooledBuffer dedicated = pool.allocate(request(MIB));
            PooledBuffer freed = pool.allocate(request(4 * KIB));
            freed.release();
            assertThat(vma.statistics().total().blockCount()).isEqualTo(2);
            pool.close();
            assertThat(pool.liveBuffersAtClose()).isEqualTo(3);
            assertThat(vma.statistics().total().allocationCount()).isZero();
            assertThat(vma.statistics().total().blockCount()).isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(own.isReleased()).isTrue();
            assertThatThrownBy(() -> sub.buffer().buffer()).isInstanceOf(IllegalStateException.class);
            own.release();
            dedicated.release();
            pool.close();
            assertThat(pool.liveBuffersAtClose()).isEqualTo(3);
        }
    }

    @Test
    void eightThreadsAllocatingAndFreeingShouldNeverOverlap(VulkanContext context) throws Exception {
        int threads = 8;
        int opsPerThread = 1500;
        try (VulkanMemoryAllocator vma = vma(context)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, 512 * KIB).build());
            List<ConcurrentLinkedQueue<PooledBuffer>> handoff = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                handoff.add(new ConcurrentLinkedQueue<>());
            }
            List<List<PooledBuffer>> kept = new ArrayList<>();
            Map<PooledBuffer, Long> stamps = new ConcurrentHashMap<>();
            CyclicBarrier checkpoint = new CyclicBarrier(threads);
            CyclicBarrier resume = new CyclicBarrier(threads + 1);
            ExecutorService executor = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    List<PooledBuffer> mine = new ArrayList<>();
                    kept.add(mine);
                    futures.add(executor.submit(() -> {
                        Random random = new Random(1234 + id);
                        for (int op = 0; op < opsPerThread; op++) {
                            PooledBuffer given;
                            while ((given = handoff.get(id).poll()) != null) {
                                verifyAndFree(given, stamps);
                            }
                            if (op == opsPerThread / 2) {
                                // Everyone stops with their buffers live, for the overlap check.
                                checkpoint.await();
                                resume.await();
                                resume.await();
                            }
                            if (mine.isEmpty() || random.nextInt(100) < 55) {
                                long size = (long) Math.exp(Math.log(64) + random.nextDouble()
                                        * (Math.log(96 * KIB) - Math.log(64)));
                                BlockPoolAllocator.BufferMode mode = random.nextInt(4) == 0
                                        ? BlockPoolAllocator.BufferMode.OWN_BUFFER
                                        : BlockPoolAllocator.BufferMode.SUB_RANGE;
                                PooledBuffer b = pool.allocate(request(size).withBufferMode(mode));
                                long stamp = (long) id << 40 | op;
                                b.buffer().write(0, new int[] {(int) stamp, (int) (stamp >>> 32)});
                                stamps.put(b, stamp);
                                mine.add(b);
                            } else {
                                PooledBuffer victim = mine.remove(random.nextInt(mine.size()));
                                if (random.nextInt(3) == 0) {
                                    handoff.get((id + 1 + random.nextInt(threads - 1)) % threads).add(victim);
                                } else {
                                    verifyAndFree(victim, stamps);
                                }
                            }
                        }
                        return null;
                    }));
                }
                resume.await(60, TimeUnit.SECONDS);
                List<PooledBuffer> live = new ArrayList<>();
                kept.forEach(live::addAll);
                handoff.forEach(live::addAll);
                assertNoOverlap(live);
                pool.checkInvariants();
                assertThat(pool.statistics(0).blockCount()).as("the run spreads over several blocks")
                        .isGreaterThan(2);
                resume.await(60, TimeUnit.SECONDS);
                for (Future<?> f : futures) {
                    f.get(120, TimeUnit.SECONDS);
                }
            } finally {
                executor.shutdownNow();
            }
            List<PooledBuffer> live = new ArrayList<>();
            kept.forEach(live::addAll);
            handoff.forEach(live::addAll);
            assertNoOverlap(live);
            pool.checkInvariants();
            live.forEach(PooledBuffer::release);
            pool.checkInvariants();
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.allocationCount()).isZero();
            assertThat(stats.emptyBlockCount()).isLessThanOrEqualTo(1);
            assertThat(stats.dedicatedCount()).isZero();
            pool.close();
            assertThat(pool.liveBuffersAtClose()).isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
            assertThat(vma.statistics().total().blockCount()).isZero();
        }
    }

    /** Checks the stamp its thread wrote at allocation, so a range handed out twice shows up as a changed stamp. */
    static void verifyAndFree(PooledBuffer buffer, Map<PooledBuffer, Long> stamps) {
        int[] stamp = new int[2];
        buffer.buffer().read(0, stamp);
        long expected = stamps.remove(buffer);
        assertThat(stamp[1] & 0xFFFFFFFFL).as("stamp's high word").isEqualTo(expected >>> 32);
        assertThat(stamp[0]).as("stamp's low word").isEqualTo((int) expected);
        buffer.release();
    }

    private static void assertNoOverlap(List<PooledBuffer> live) {
        Map<Long, List<long[]>> byMemory = new HashMap<>();
        for (PooledBuffer b : live) {
            PoolBlock block = (PoolBlock) b.pool();
            long offset = block.isDedicated() ? 0 : block.suballocator.offset(b.handle());
            byMemory.computeIfAbsent(block.memory.deviceMemory(), k -> new ArrayList<>())
                    .add(new long[] {offset, b.buffer().size()});
        }
        for (Map.Entry<Long, List<long[]>> e : byMemory.entrySet()) {
            List<long[]> ranges = e.getValue();
            ranges.sort(Comparator.comparingLong(r -> r[0]));
            for (int i = 1; i < ranges.size(); i++) {
                long[] previous = ranges.get(i - 1);
                assertThat(ranges.get(i)[0]).as("memory 0x%x: range at %d after [%d, +%d)", e.getKey(),
                        ranges.get(i)[0], previous[0], previous[1]).isGreaterThanOrEqualTo(previous[0] + previous[1]);
            }
        }
    }

    @Test
    void alwaysAllocateShouldFailRatherThanFallBackToABlock(VulkanContext context) {
        // Heap limit 512 KiB, blocks of 1 MiB: a first block of 128 KiB, then 300 KiB of dedicated memory leaves
        // 84 KiB of heap, so 100 KiB of dedicated memory cannot be made while the block still has room for it.
        try (VulkanMemoryAllocator vma = vma(context, 512 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            PooledBuffer small = pool.allocate(request(KIB));
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB);
            PooledBuffer first = pool.allocate(request(300 * KIB).withPreference(AllocatePreference.ALWAYS_ALLOCATE));
            assertThat(pool.statistics(0).dedicatedCount()).isEqualTo(1);
            long used = pool.statistics(0).usedBytes();
            assertThatThrownBy(() -> pool.allocate(request(100 * KIB)
                    .withPreference(AllocatePreference.ALWAYS_ALLOCATE)))
                    .isInstanceOfSatisfying(PoolException.class, e -> {
                        assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY);
                        assertThat(e.vkResultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY");
                    });
            assertThat(pool.statistics(0).dedicatedCount()).isEqualTo(1);
            assertThat(pool.statistics(0).usedBytes()).as("nothing placed in the block for it").isEqualTo(used);
            PooledBuffer fits = pool.allocate(request(100 * KIB));
            assertThat(fits.buffer().ownsBuffer()).as("without the preference the block takes it").isFalse();
            fits.release();
            first.release();
            small.release();
            pool.checkInvariants();
        }
    }

    @Test
    void dedicatedMemoryShouldGetTheRoomOfTheThreadsCachedRangesAndTheKeptEmptyBlock(VulkanContext context) {
        // Heap limit 256 KiB, blocks of 1 MiB: the first block is 128 KiB, and sixteen 8 KiB ranges fill it. Released,
        // they stay in this thread's cache (its budget is 128 KiB here), so the block is not empty; given back, it is
        // the one empty block kept. Only those stand between 200 KiB of dedicated memory and the heap.
        try (VulkanMemoryAllocator vma = vma(context, 256 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).build())) {
            fillOneBlockAndCacheIt(pool);
            PooledBuffer always = pool.allocate(request(200 * KIB)
                    .withPreference(AllocatePreference.ALWAYS_ALLOCATE));
            BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
            assertThat(stats.dedicatedCount()).isEqualTo(1);
            assertThat(stats.cachedRanges()).as("the thread's ranges went back").isZero();
            assertThat(stats.blockCount()).as("the block they emptied was freed").isZero();
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            always.release();
            pool.checkInvariants();
        }
        // More than half a block (dedicated memory preferred, not required), with only the kept empty block of 128 KiB
        // in the way: it cannot hold 600 KiB, and 640 KiB of heap less that block cannot either.
        try (VulkanMemoryAllocator vma = vma(context, 640 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1)
                     .threadCacheBytes(0).build())) {
            pool.allocate(request(100 * KIB)).release();
            assertThat(pool.statistics(0).emptyBlockCount()).isEqualTo(1);
            PooledBuffer large = pool.allocate(request(600 * KIB));
            assertThat(large.buffer().ownsBuffer()).as("dedicated memory").isTrue();
            assertThat(pool.statistics(0).blockCount()).isZero();
            large.release();
            pool.checkInvariants();
        }
    }

    @Test
    void dedicatedMemoryThatFailsEvenSoShouldReportOutOfDeviceMemoryAndLeaveNothing(VulkanContext context) {
        // Nothing to give back (the block holds a live buffer, the cache nothing): the call changes nothing.
        try (VulkanMemoryAllocator vma = vma(context, 256 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).build())) {
            PooledBuffer live = pool.allocate(request(100 * KIB));
            BlockPoolAllocator.TypeStatistics before = pool.statistics(0);
            long vmaMemory = vma.liveDeviceMemoryCount();
            assertThatThrownBy(() -> pool.allocate(request(200 * KIB)
                    .withPreference(AllocatePreference.ALWAYS_ALLOCATE)))
                    .isInstanceOfSatisfying(PoolException.class, e -> {
                        assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY);
                        assertThat(e.vkResultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY");
                    });
            assertThat(pool.statistics(0)).isEqualTo(before);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(vmaMemory);
            live.release();
            pool.checkInvariants();
        }
        // The cached ranges and the empty block are given back, and still 300 KiB do not fit a heap of 256 KiB: no
        // buffer, no dedicated memory, and VMA holds nothing the pool does not count.
        try (VulkanMemoryAllocator vma = vma(context, 256 * KIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).build())) {
            fillOneBlockAndCacheIt(pool);
            assertThatThrownBy(() -> pool.allocate(request(300 * KIB)
                    .withPreference(AllocatePreference.ALWAYS_ALLOCATE)))
                    .isInstanceOfSatisfying(PoolException.class, e -> assertThat(e.kind())
                            .isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY));
            BlockPoolAllocator.TypeStatistics after = pool.statistics(0);
            assertThat(after.dedicatedCount()).isZero();
            assertThat(after.allocationCount()).isZero();
            assertThat(after.cachedRanges()).isZero();
            assertThat(pool.deviceMemoryCount()).isEqualTo(after.blockCount());
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(pool.deviceMemoryCount());
            assertThat(vma.statistics().total().blockBytes()).isEqualTo(pool.committedBytes());
            pool.allocate(request(8 * KIB)).release();
            pool.checkInvariants();
        }
    }

    // Heap limit 256 KiB, blocks of 1 MiB: sixteen cached 8 KiB ranges fill the first block (128 KiB). A request that
    // runs out of device memory gives them back, and the first free of that throws: the caller must still see
    // OUT_OF_DEVICE_MEMORY, with what the free threw suppressed on it (and the other ranges go back all the same).

    @Test
    void dedicatedMemoryShouldStayOutOfMemoryWhenGivingTheThreadsRangesBackFails(VulkanContext context)
            throws Exception {
        // ALWAYS_ALLOCATE: the memory type gives back the calling thread's ranges (releaseUnused).
        assertStaysOutOfMemoryWhenAFreeFails(context, BlockPoolAllocatorTest::fillOneBlockAndCacheIt,
                request(200 * KIB).withPreference(AllocatePreference.ALWAYS_ALLOCATE));
    }

    @Test
    void aNewBlockShouldStayOutOfMemoryWhenGivingAnEndedThreadsRangesBackFails(VulkanContext context)
            throws Exception {
        // 200 KiB needs a block of 256 KiB, and 128 KiB are left: the ranges of a thread that ended go back.
        assertStaysOutOfMemoryWhenAFreeFails(context, BlockPoolAllocatorTest::fillOneBlockAndCacheItOnAThreadThatEnds,
                request(200 * KIB));
    }

    @Test
    void dedicatedMemoryShouldStayOutOfMemoryWhenTakingBackAnEndedThreadsRangesFails(VulkanContext context)
            throws Exception {
        // ALWAYS_ALLOCATE again: the ended thread's ranges are taken back after the memory type's own (allocate()).
        assertStaysOutOfMemoryWhenAFreeFails(context, BlockPoolAllocatorTest::fillOneBlockAndCacheItOnAThreadThatEnds,
                request(200 * KIB).withPreference(AllocatePreference.ALWAYS_ALLOCATE));
    }

    @Test
    void aNewBlockThatRunsOutOfMemoryShouldFreeTheEmptyBlockKeptWhenTakingBackAnEndedThreadsRangesFails(
            VulkanContext context) throws Exception {
        // A thread that ended fills the first block (128 KiB) with cached ranges; this thread's 200 KiB buffer made a
        // 256 KiB block, kept empty once released. 300 KiB needs a block of 512 KiB, or 320 KiB at least, and a
        // 500 KiB heap limit leaves 116 KiB: the ended thread's ranges go back, the first free of that throws, and
        // the empty block must still go back to VMA before the request fails as OUT_OF_DEVICE_MEMORY.
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context, 500 * KIB)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1)
                    .suballocatorFactory(frees).build());
            fillOneBlockAndCacheItOnAThreadThatEnds(pool);
            pool.allocate(request(200 * KIB)).release();
            assertThat(pool.blockSizes(0)).containsExactly(128 * KIB, 256 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(2);
            frees.failNext(1);
            assertThatThrownBy(() -> pool.allocate(request(300 * KIB)))
                    .isInstanceOfSatisfying(PoolException.class, e -> assertOutOfMemoryWith(e, frees));
            assertThat(pool.blockSizes(0)).as("the empty block went back").containsExactly(128 * KIB);
            assertThat(vma.liveDeviceMemoryCount()).isEqualTo(1);
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            pool.close();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
        }
    }

    @Test
    void aReleaseWhoseCacheFlushFailsAndWhoseOwnFreeFailsShouldThrowTheFlushsFailureWithTheOtherSuppressed(
            VulkanContext context) throws Exception {
        // Out of memory on another thread asks this one to flush its cache at its next call, here a release: the
        // flush's free of the cached range throws, then the released range, which the cache could not take, goes
        // back to its block and its free throws too. The caller must see the first failure, the second on it.
        FailingFrees frees = new FailingFrees();
        ExecutorService other = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context, 2 * MIB)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1)
                    .suballocatorFactory(frees).build());
            PooledBuffer kept = pool.allocate(request(1000));
            pool.allocate(request(1000)).release();
            assertThat(pool.statistics(0).cachedRanges()).isEqualTo(1);
            assertThatThrownBy(() -> BlockPoolTesting.on(other, () -> pool.allocate(request(3 * MIB))))
                    .isInstanceOfSatisfying(PoolException.class, e -> assertThat(e.kind())
                            .isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY));
            frees.failNext(2);
            assertThatThrownBy(kept::release).satisfies(e -> {
                assertThat(frees.thrown()).hasSize(2);
                assertThat(e).as("the flush's failure").isSameAs(frees.thrown().get(0));
                assertThat(e.getSuppressed()).containsExactly(frees.thrown().get(1));
            });
            assertThat(kept.isReleased()).isTrue();
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            pool.close();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
        } finally {
            other.shutdownNow();
        }
    }

    /** How a test fills the first block with cached ranges. */
    @FunctionalInterface
    private interface Fill {
        void fill(BlockPoolAllocator pool) throws Exception;
    }

    private static void assertStaysOutOfMemoryWhenAFreeFails(VulkanContext context, Fill fill, BlockRequest request)
            throws Exception {
        FailingFrees frees = new FailingFrees();
        try (VulkanMemoryAllocator vma = vma(context, 256 * KIB)) {
            BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1)
                    .suballocatorFactory(frees).build());
            fill.fill(pool);
            frees.failNext(1);
            assertThatThrownBy(() -> pool.allocate(request))
                    .isInstanceOfSatisfying(PoolException.class, e -> assertOutOfMemoryWith(e, frees));
            assertThat(pool.statistics(0).cachedRanges()).isZero();
            pool.close();
            assertThat(vma.liveDeviceMemoryCount()).isZero();
        }
    }

    private static void assertOutOfMemoryWith(PoolException e, FailingFrees frees) {
        assertThat(e.kind()).isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY);
        assertThat(e.vkResultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY");
        assertThat(frees.thrown()).hasSize(1);
        assertThat(e.getSuppressed()).containsExactly(frees.thrown().get(0));
    }

    /** {@link #fillOneBlockAndCacheIt} on a thread that then ends, its ranges still cached. */
    private static void fillOneBlockAndCacheItOnAThreadThatEnds(BlockPoolAllocator pool) throws Exception {
        // A thread's first call takes back the caches of threads that ended: this thread makes its own first.
        pool.threadCache();
        Thread worker = new Thread(() -> fillOneBlockAndCacheIt(pool));
        worker.start();
        worker.join();
        assertThat(pool.blockSizes(0)).containsExactly(128 * KIB);
    }

    /** Sixteen 8 KiB ranges fill the first block (128 KiB) and, released, stay in the calling thread's cache. */
    private static void fillOneBlockAndCacheIt(BlockPoolAllocator pool) {
        List<PooledBuffer> buffers = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            buffers.add(pool.allocate(request(8 * KIB)));
        }
        buffers.forEach(PooledBuffer::release);
        BlockPoolAllocator.TypeStatistics stats = pool.statistics(0);
        assertThat(pool.blockSizes(0)).containsExactly(128 * KIB);
        assertThat(stats.cachedRanges()).isEqualTo(16);
        assertThat(stats.freeBytes()).as("the cached ranges fill the block").isZero();
    }

    @Test
    void aRequestTheDriverCannotMakeABufferForShouldFailAsAPoolFailure(VulkanContext context) {
        // Lavapipe refuses a VkBuffer of 4 GiB or more with VK_ERROR_OUT_OF_DEVICE_MEMORY when the requirements are
        // read; below that the heap is what fails. Either way a pool failure, never a raw VulkanException.
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            for (long size : new long[] {(4L << 30) - 1, 4L << 30, 1L << 40}) {
                assertThatThrownBy(() -> pool.allocate(request(size))).as("%d bytes", size)
                        .isInstanceOfSatisfying(PoolException.class, e -> assertThat(e.kind())
                                .isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY));
                assertThatThrownBy(() -> pool.allocate(request(size)
                        .withPreference(AllocatePreference.NEVER_ALLOCATE))).as("%d bytes", size)
                        .isInstanceOfSatisfying(PoolException.class, e -> assertThat(e.kind())
                                .isEqualTo(PoolException.Kind.BLOCK_SIZE_EXCEEDED));
            }
            assertThat(pool.deviceMemoryCount()).isZero();
            pool.allocate(request(KIB)).release();
            pool.checkInvariants();
        }
    }

    @Test
    void requirementsShouldBeMeasuredOncePerSizeClassOnADriverThatReportsTheExactSize(VulkanContext context) {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            VulkanMemory.Requirements exact = VulkanMemory.bufferRequirements(vma, 1000, USAGE);
            assertThat(exact.size()).as("lavapipe reports the size itself, or rounds it up").isIn(1000L,
                    (1000 + exact.alignment() - 1) / exact.alignment() * exact.alignment());
            for (long size : new long[] {1000, 1000, 999, 600, 1023}) {
                pool.allocate(request(size)).release();
            }
            assertThat(pool.requirementsMeasured()).as("one throw-away buffer for the class (512, 1024]")
                    .isEqualTo(1);
            pool.allocate(request(1025)).release();
            assertThat(pool.requirementsMeasured()).as("the next class").isEqualTo(2);
        }
    }

    @Test
    void aNeverAllocateRequestShouldFindTheRoomThatAnEndedThreadsCacheHeld(VulkanContext context) throws Exception {
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).build())) {
            // This thread's cache made first: a thread's first call takes back the caches of threads that ended.
            pool.threadCache();
            Thread worker = new Thread(() -> {
                List<PooledBuffer> buffers = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    buffers.add(pool.allocate(request(8 * KIB)));
                }
                buffers.forEach(PooledBuffer::release);
            });
            worker.start();
            worker.join();
            assertThat(pool.blockSizes(0)).as("the ended thread's ranges fill its one block")
                    .containsExactly(128 * KIB);
            PooledBuffer b = pool.allocate(request(100 * KIB).withPreference(AllocatePreference.NEVER_ALLOCATE));
            assertThat(pool.deviceMemoryCount()).isEqualTo(1);
            b.release();
            pool.checkInvariants();
        }
    }

    @Test
    void aRecordedSubRangeRequestShouldStayASubRangeAfterAnotherThreadRanOutOfMemory(VulkanContext context)
            throws Exception {
        ExecutorService other = Executors.newSingleThreadExecutor();
        try (VulkanMemoryAllocator vma = vma(context, 2 * MIB);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).arenas(1).build())) {
            BlockRequest mesh = request(1000);
            PooledBuffer first = pool.allocate(mesh);
            long blockBuffer = first.buffer().buffer();
            assertThat(first.buffer().ownsBuffer()).as("a sub-range of the block-wide buffer").isFalse();
            first.release();
            pool.allocate(mesh).release();
            // Out of memory on another thread asks this one to flush its cache at its next call.
            assertThatThrownBy(() -> BlockPoolTesting.on(other, () -> pool.allocate(request(3 * MIB))))
                    .isInstanceOfSatisfying(PoolException.class, e -> assertThat(e.kind())
                            .isEqualTo(PoolException.Kind.OUT_OF_DEVICE_MEMORY));
            PooledBuffer again = pool.allocate(mesh);
            assertThat(again.buffer().ownsBuffer()).as("still a sub-range").isFalse();
            assertThat(again.buffer().buffer()).isEqualTo(blockBuffer);
            again.release();
            assertThat(pool.statistics(0).keptBuffers()).isZero();
            pool.checkInvariants();
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void aDeviceAddressUsageShouldBeRejectedWhenTheVmaAllocatorHasNoBufferDeviceAddress(VulkanContext context) {
        // Block memory (and dedicated memory) of a VMA allocator made without BUFFER_DEVICE_ADDRESS lacks
        // VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT: binding a buffer with that usage to it is invalid
        // (VUID-vkBindBufferMemory-bufferDeviceAddress-03339), so the request must be refused, not placed.
        VulkanMemoryAllocator.Settings settings = VulkanMemoryAllocator.Settings.forContext(context);
        int usage = USAGE | 0x20000;
        try (VulkanMemoryAllocator vma = VulkanMemoryAllocator.create(settings.withFlags(settings.flags()
                & ~org.lwjgl.util.vma.Vma.VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT));
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            for (BlockRequest r : new BlockRequest[] {
                    BlockRequest.of(4 * KIB, usage, ANY).withBufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER),
                    BlockRequest.of(4 * KIB, usage, ANY).withBufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER)
                            .withPreference(AllocatePreference.ALWAYS_ALLOCATE)}) {
                assertThatThrownBy(() -> pool.allocate(r)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("usage: 0x" + Integer.toHexString(usage))
                        .hasMessageContaining("VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT");
            }
            assertThat(pool.deviceMemoryCount()).as("nothing made").isZero();
            assertThat(pool.requirementsMeasured()).isZero();
            pool.allocate(BlockRequest.of(4 * KIB, USAGE, ANY)
                    .withBufferMode(BlockPoolAllocator.BufferMode.OWN_BUFFER)).release();
            pool.checkInvariants();
        }
    }

    @Test
    void aBlockWhoseAllocatedListenerThrowsAnErrorShouldGoBackToVmaAndNotBeCounted(VulkanContext context) {
        // A DeviceMemoryListener's Error from allocated() comes out of vmaAllocateMemory once VMA made the block: the
        // block must go back to VMA, the pool count and list nothing, and the allocator close.
        Error injected = new Error("allocated() failed (injected by the test)");
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            FailingListeners.failAllocatedCall(vma, 1, injected);
            assertThatThrownBy(() -> pool.allocate(request(1000))).isSameAs(injected);
            assertThat(vma.liveDeviceMemoryCount()).as("the block went back to VMA").isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(pool.committedBytes()).isZero();
            assertThat(pool.blockSizes(0)).isEmpty();
            pool.checkInvariants();
            pool.allocate(request(1000)).release();
            assertThat(pool.blockSizes(0)).as("still the first block, an eighth").containsExactly(128 * KIB);
        }
    }

    @Test
    void dedicatedMemoryWhoseAllocatedListenerThrowsAnErrorShouldGoBackToVmaWithItsBuffer(VulkanContext context) {
        // The same from vmaAllocateMemoryForBuffer, which the VkBuffer made for the memory was given: both must go.
        Error injected = new Error("allocated() failed (injected by the test)");
        try (VulkanMemoryAllocator vma = vma(context);
             BlockPoolAllocator pool = new BlockPoolAllocator(vma, config(context, MIB).build())) {
            BlockRequest dedicated = request(256).withPreference(AllocatePreference.ALWAYS_ALLOCATE);
            pool.allocate(dedicated).release();
            FailingListeners.failAllocatedCall(vma, 1, injected);
            long buffers = VulkanObjects.liveBuffers();
            assertThatThrownBy(() -> pool.allocate(dedicated)).isSameAs(injected);
            assertThat(VulkanObjects.liveBuffers()).as("its VkBuffer destroyed").isEqualTo(buffers);
            assertThat(vma.liveDeviceMemoryCount()).as("its memory went back to VMA").isZero();
            assertThat(vma.statistics().total().allocationCount()).isZero();
            assertThat(pool.deviceMemoryCount()).isZero();
            assertThat(pool.committedBytes()).isZero();
            assertThat(pool.statistics(0).dedicatedCount()).isZero();
            pool.checkInvariants();
            pool.allocate(dedicated).release();
        }
    }
}
