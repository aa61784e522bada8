package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import java.lang.reflect.Field;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.IBufferAllocator.OnAllocationFailure;
import io.github.solvk.memory.IMemoryPool.CreateInfo;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.pool.BlockMemoryPool;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanContext;

/** Contracts of SOL's pools and the facade that each failed once: timed waits, requests no block holds, flags. */
@ExtendWith(VulkanExtension.class)
class MemoryPoolContractTest {

    private static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    private static final long KIB = 1024;

    private static CreateInfo info(long blockSize, int min, int max) {
        return CreateInfo.of(USAGE, MemoryUsage.UPLOAD, blockSize).withBlocks(min, max);
    }

    private static Object field(Object o, String name) throws ReflectiveOperationException {
        Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }

    /**
     * A free signalled before the deadline of a timed wait must not be lost because the waiter gets the pool's lock
     * back only after the deadline (another thread held it: a statistics call, a free, a scheduler delay).
     */
    @Test
    void aTimedWaitShouldGetSpaceFreedBeforeItsDeadlineEvenWhenTheLockComesBackLate(MemoryManager manager)
            throws Exception {
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try (IMemoryPool ring = manager.createRingBufferMemoryPool("ring", info(8 * KIB, 1, 1))) {
            BlockMemoryPool core = ((MemoryPool) ring).core();
            ReentrantLock lock = (ReentrantLock) field(core, "lock");
            Condition freed = (Condition) field(core, "freed");
            IBuffer full = ring.allocateBuffer(8 * KIB);
            Future<IBuffer> waiter = executor.submit(
                    () -> ring.allocateBufferWithWait(IMemoryPool.AllocationInfo.of(4 * KIB), 300));
            while (true) {
                lock.lock();
                try {
                    if (lock.hasWaiters(freed)) {
                        break;
                    }
                } finally {
                    lock.unlock();
                }
                Thread.sleep(1);
            }
            lock.lock();
            try {
                full.close(); // frees the whole ring and signals the waiter, long before its 300 ms deadline
                Thread.sleep(600); // the waiter gets the lock back only after its deadline
            } finally {
                lock.unlock();
            }
            try (IBuffer got = waiter.get(10, TimeUnit.SECONDS)) {
                assertThat(got.size()).isEqualTo(4 * KIB);
            }
        } finally {
            executor.shutdownNow();
        }
    }

    /** docs/pools.md: a request that not even an empty block takes fails with SUBALLOCATOR_BLOCK_SIZE_EXCEEDED. */
    @Test
    void aRequestNoEmptyBlockTakesShouldSaySoAlsoWhenThePoolHasAllItsBlocks(MemoryManager manager) {
        // A 48 KiB buddy block is a 32 KiB and a 16 KiB root: 40 KiB never fits, however much is freed.
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("buddy48", info(48 * KIB, 1, 1)
                .withCreateFlags(CreateInfo.BUDDY_ALGORITHM))) {
            BlockMemoryPool.Statistics before = pool.statistics();
            assertThatThrownBy(() -> pool.allocateBuffer(40 * KIB))
                    .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                            .isEqualTo(MemoryAllocationException.Reason.SUBALLOCATOR_BLOCK_SIZE_EXCEEDED))
                    .hasMessageContaining("size 40960");
            assertThat(pool.statistics()).isEqualTo(before);
            try (IBuffer a = pool.allocateBuffer(32 * KIB)) {
                // With a live buffer and no block left to make, a request that fits an empty block is plain
                // OUT_OF_POOL_MEMORY, as before.
                assertThatThrownBy(() -> pool.allocateBuffer(32 * KIB))
                        .isInstanceOfSatisfying(MemoryAllocationException.class, e -> assertThat(e.reason())
                                .isEqualTo(MemoryAllocationException.Reason.OUT_OF_POOL_MEMORY));
            }
        }
    }

    /** DEDICATED_MEMORY with NEVER_ALLOCATE is a caller bug, not an allocation failure swallowed by EMPTY. */
    @Test
    void dedicatedMemoryWithNeverAllocateShouldBeRefusedAsABadRequest(MemoryManager manager) {
        for (OnAllocationFailure onFailure : new OnAllocationFailure[] {OnAllocationFailure.THROW,
                OnAllocationFailure.EMPTY}) {
            assertThatThrownBy(() -> manager.allocateBuffer(AllocationInfo.builder().size(1000).bufferUsage(USAGE)
                    .memoryUsage(MemoryUsage.UPLOAD)
                    .allocationFlags(AllocationFlags.DEDICATED_MEMORY | AllocationFlags.NEVER_ALLOCATE).build(),
                    onFailure))
                    .as(onFailure.toString()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("DEDICATED_MEMORY and NEVER_ALLOCATE");
            assertThat(manager.liveBufferCount()).isZero();
            assertThat(manager.statistics().total().allocationCount()).isZero();
        }
    }

    /** BUDDY_ALGORITHM means something only to a non-linear pool; elsewhere it was silently ignored. */
    @Test
    void theBuddyFlagOnAPoolThatIsNotNonLinearShouldBeRefused(MemoryManager manager) {
        CreateInfo buddy = info(64 * KIB, 1, 1).withCreateFlags(CreateInfo.BUDDY_ALGORITHM);
        assertThatThrownBy(() -> manager.createRingBufferMemoryPool("ring", buddy))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("BUDDY_ALGORITHM")
                .hasMessageContaining("RING_BUFFER");
        assertThatThrownBy(() -> manager.createStackMemoryPool("stack", buddy))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("BUDDY_ALGORITHM");
        assertThat(manager.memoryPools()).isEmpty();
        assertThat(manager.statistics().total().allocationCount()).isZero();
    }

    /** docs/ownership.md: any use after close throws naming the buffer ('mesh'), also when its pool closed it. */
    @Test
    void aBufferClosedByItsPoolShouldBeNamedWhenUsed(MemoryManager manager) {
        IMemoryPool pool = manager.createNonLinearMemoryPool("meshes", info(64 * KIB, 1, 1));
        IBuffer mesh = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(4096, "mesh"));
        pool.close();
        assertThat(mesh.isClosed()).isTrue();
        assertThatThrownBy(mesh::offset).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("buffer 'mesh' of 4096 bytes is closed")
                .hasMessageContaining("pool 'meshes'");
        mesh.close();
    }

    /**
     * VMA's preconditions that the manager checks (MAPPED with an automatic usage, and ALLOW_TRANSFER_INSTEAD, each
     * need a host access): neither a pool nor the block pools may take what it refuses, on any device.
     */
    @Test
    void requestsBreakingVmasFlagRulesShouldBeRefusedByEveryAllocatorAsByTheManager(MemoryManager manager) {
        AllocationInfo mappedNoAccess = AllocationInfo.builder().size(1000).bufferUsage(USAGE)
                .memoryUsage(MemoryUsage.AUTO).allocationFlags(AllocationFlags.MAPPED).build();
        AllocationInfo transferNoAccess = mappedNoAccess.toBuilder()
                .allocationFlags(AllocationFlags.HOST_ACCESS_ALLOW_TRANSFER_INSTEAD).build();
        try (IMemoryPool auto = manager.createNonLinearMemoryPool("auto",
                CreateInfo.of(USAGE, MemoryUsage.AUTO, 64 * KIB));
             BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("blocks",
                     BlockPoolAllocator.Config.defaults())) {
            for (AllocationInfo info : List.of(mappedNoAccess, transferNoAccess)) {
                String flag = info == mappedNoAccess ? "(MAPPED)" : "(HOST_ACCESS_ALLOW_TRANSFER_INSTEAD)";
                assertThatThrownBy(() -> manager.allocateBuffer(info)).as("the manager")
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(flag)
                        .hasMessageContaining("and no host access");
                for (OnAllocationFailure onFailure : new OnAllocationFailure[] {OnAllocationFailure.THROW,
                        OnAllocationFailure.EMPTY}) {
                    assertThatThrownBy(() -> auto.allocateBuffer(info, onFailure)).as("a pool, %s", onFailure)
                            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(flag)
                            .hasMessageContaining("and no host access");
                    assertThatThrownBy(() -> blocks.allocateBuffer(info, onFailure)).as("block pools, %s", onFailure)
                            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(flag)
                            .hasMessageContaining("and no host access");
                }
            }
            assertThat(auto.liveBufferCount()).isZero();
            assertThat(blocks.liveBufferCount()).isZero();
            assertThat(blocks.committedBytes()).as("nothing made").isZero();
        }
    }

    /** A generic request that the manager refuses as contradictory must not be taken by a pool. */
    @Test
    void aGenericRequestWhoseHostAccessContradictsThePoolShouldThrow(MemoryManager manager) {
        try (IMemoryPool upload = manager.createNonLinearMemoryPool("upload", info(64 * KIB, 1, 1));
             IMemoryPool sequential = manager.createNonLinearMemoryPool("sequential",
                     new CreateInfo(0, USAGE, MemoryUsage.AUTO, 0, 0, AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE,
                             64 * KIB, 1, 1))) {
            // UPLOAD with RANDOM access contradicts itself without any device: refused as the request is built, so
            // neither the manager nor a pool can be handed one.
            assertThatThrownBy(() -> AllocationInfo.builder().size(1000).bufferUsage(USAGE)
                    .memoryUsage(MemoryUsage.UPLOAD).hostAccess(HostAccess.RANDOM).build())
                    .as("the request").isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("RANDOM");
            AllocationInfo autoRandom = AllocationInfo.builder().size(1000).bufferUsage(USAGE)
                    .memoryUsage(MemoryUsage.AUTO).hostAccess(HostAccess.RANDOM).build();
            assertThatThrownBy(() -> sequential.allocateBuffer(autoRandom, OnAllocationFailure.THROW))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("host access: RANDOM does not match pool 'sequential'");
            try (IBuffer ok = sequential.allocateBuffer(autoRandom.toBuilder()
                    .hostAccess(HostAccess.SEQUENTIAL_WRITE).build(), OnAllocationFailure.THROW)) {
                assertThat(ok.size()).isEqualTo(1000);
            }
            assertThat(upload.liveBufferCount()).isZero();
            assertThat(sequential.liveBufferCount()).isZero();
        }
    }

    @Test
    void hostAccessThatAllowsATransferInsteadShouldBeTakenByAPoolOfMemoryTheHostCannotSee(VulkanContext context) {
        // HOST_ACCESS_ALLOW_TRANSFER_INSTEAD: the caller writes through a staging copy where the memory is not
        // host-visible. The manager serves such a request with DEVICE_LOCAL memory, so a pool of it must take it too,
        // and refuse the same request without the flag, as the manager does.
        AllocationInfo transferInstead = AllocationInfo.builder().size(1000).bufferUsage(USAGE)
                .memoryUsage(MemoryUsage.AUTO).allocationFlags(AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE
                        | AllocationFlags.HOST_ACCESS_ALLOW_TRANSFER_INSTEAD).build();
        AllocationInfo hostOnly = transferInstead.toBuilder()
                .allocationFlags(AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE).build();
        try (MemoryManager deviceLocal = MemoryManagerTest.deviceLocalOnly(context);
             IMemoryPool auto = deviceLocal.createNonLinearMemoryPool("auto",
                     CreateInfo.of(USAGE, MemoryUsage.AUTO, 64 * KIB))) {
            try (IBuffer fromManager = deviceLocal.allocateBuffer(transferInstead)) {
                assertThat(fromManager.isHostVisible()).as("the manager's").isFalse();
            }
            try (IBuffer pooled = auto.allocateBuffer(transferInstead, OnAllocationFailure.THROW)) {
                assertThat(pooled.isHostVisible()).isFalse();
                assertThat(auto.liveBufferCount()).isOne();
            }
            // MAPPED with it, the usual way to ask for a mapping where there is one: taken, and nothing mapped here
            // (as VMA ignores MAPPED on memory the host cannot see).
            AllocationInfo mappedIfVisible = transferInstead.toBuilder()
                    .allocationFlags(transferInstead.allocationFlags() | AllocationFlags.MAPPED).build();
            try (IBuffer pooled = auto.allocateBuffer(mappedIfVisible, OnAllocationFailure.THROW)) {
                assertThat(pooled.isHostVisible()).isFalse();
                assertThatThrownBy(pooled::mappedAddress).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("is DEVICE_LOCAL (expected: HOST_VISIBLE");
            }
            // And the block pools choose a memory type by the same rule.
            try (BlockPoolBufferAllocator blocks = deviceLocal.createBlockPoolAllocator("blocks",
                    BlockPoolAllocator.Config.defaults());
                 IBuffer fromBlocks = blocks.allocateBuffer(transferInstead)) {
                assertThat(fromBlocks.isHostVisible()).isFalse();
            }
            assertThatThrownBy(() -> deviceLocal.allocateBuffer(hostOnly)).as("the manager, without the flag")
                    .isInstanceOf(MemoryAllocationException.class);
            assertThatThrownBy(() -> auto.allocateBuffer(hostOnly, OnAllocationFailure.THROW))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("host access: SEQUENTIAL_WRITE does not match pool 'auto' (expected: NONE, the pool's"
                            + " memory type is DEVICE_LOCAL)");
            assertThat(auto.liveBufferCount()).isZero();
        }
    }

    /**
     * MAPPED asks for memory the host can map: a pool whose memory type is not host-visible cannot honour it, and
     * DEVICE_ONLY memory is never mapped (the manager refuses that pair on every device). The pool took both and
     * handed out a buffer whose map() then failed, or, on a GPU whose only type is host-visible, worked.
     */
    @Test
    void aGenericMappedRequestShouldBeRefusedByAPoolThatCannotMapIt(VulkanContext context, MemoryManager manager) {
        AllocationInfo mapped = AllocationInfo.builder().size(1000).bufferUsage(USAGE)
                .memoryUsage(MemoryUsage.DEVICE_ONLY).allocationFlags(AllocationFlags.MAPPED).build();
        assertThatThrownBy(() -> manager.allocateBuffer(mapped)).as("the manager")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("MAPPED");
        try (IMemoryPool deviceOnly = manager.createNonLinearMemoryPool("device-only",
                CreateInfo.of(USAGE, MemoryUsage.DEVICE_ONLY, 64 * KIB))) {
            for (OnAllocationFailure onFailure : new OnAllocationFailure[] {OnAllocationFailure.THROW,
                    OnAllocationFailure.EMPTY}) {
                assertThatThrownBy(() -> deviceOnly.allocateBuffer(mapped, onFailure)).as(onFailure.toString())
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessage("allocationFlags: MAPPED with memoryUsage DEVICE_ONLY does not match pool"
                                + " 'device-only' (expected: no MAPPED; DEVICE_ONLY memory is never mapped)");
            }
            assertThat(deviceOnly.liveBufferCount()).isZero();
        }
        // A device whose one memory type is DEVICE_LOCAL only, as a discrete GPU's video memory.
        try (MemoryManager deviceLocal = MemoryManagerTest.deviceLocalOnly(context);
             IMemoryPool auto = deviceLocal.createNonLinearMemoryPool("auto",
                     CreateInfo.of(USAGE, MemoryUsage.AUTO, 64 * KIB))) {
            AllocationInfo autoMapped = mapped.toBuilder().memoryUsage(MemoryUsage.AUTO).build();
            assertThatThrownBy(() -> auto.allocateBuffer(autoMapped, OnAllocationFailure.THROW))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("allocationFlags: MAPPED does not match pool 'auto' (expected: no MAPPED, the pool's"
                            + " memory type is DEVICE_LOCAL)");
            assertThat(auto.liveBufferCount()).isZero();
            assertThat(auto.statistics().usedBytes()).isZero();
            // HOST_ACCESS_ALLOW_TRANSFER_INSTEAD gives a host access up, so it excuses MAPPED only with one (VMA
            // requires one, and the manager refuses the flag without): it let this MAPPED request through.
            AllocationInfo noAccess = autoMapped.toBuilder().allocationFlags(AllocationFlags.MAPPED
                    | AllocationFlags.HOST_ACCESS_ALLOW_TRANSFER_INSTEAD).build();
            assertThatThrownBy(() -> deviceLocal.allocateBuffer(noAccess)).as("the manager")
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no host access");
            assertThatThrownBy(() -> auto.allocateBuffer(noAccess, OnAllocationFailure.THROW))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("allocationFlags: MAPPED does not match pool 'auto' (expected: no MAPPED, the pool's"
                            + " memory type is DEVICE_LOCAL)");
            assertThat(auto.liveBufferCount()).isZero();
        }
        // Where the pool's memory is host-visible, MAPPED is honoured.
        try (IMemoryPool upload = manager.createNonLinearMemoryPool("upload", info(64 * KIB, 1, 1));
             IBuffer buffer = upload.allocateBuffer(mapped.toBuilder().memoryUsage(MemoryUsage.UPLOAD).build(),
                     OnAllocationFailure.THROW)) {
            buffer.write(0, new byte[] {1, 2, 3});
            assertThat(buffer.mappedAddress()).isNotZero();
        }
    }
}
