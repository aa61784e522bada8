package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT;
import static org.lwjgl.vulkan.VK12.VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.lwjgl.util.vma.Vma;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.IBufferAllocator.Capability;
import io.github.solvk.memory.IBufferAllocator.OnAllocationFailure;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.pool.FailingListeners;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.MemoryProperties;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;
import io.github.solvk.memory.vulkan.VulkanObjects;

@ExtendWith(VulkanExtension.class)
class MemoryManagerTest {

    private static AllocationInfo.Builder upload(long size) {
        return AllocationInfo.builder().size(size).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT
                | VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT).memoryUsage(MemoryUsage.UPLOAD);
    }

    /** Runs {@code badCall}, expects {@code type} with {@code messagePart}, and checks VMA saw no change. */
    private static void assertRejectedWithoutChange(MemoryManager manager, Runnable badCall,
                                                    Class<? extends Throwable> type, String messagePart) {
        VulkanMemoryAllocator.Statistics before = manager.statistics().total();
        int liveBefore = manager.liveBufferCount();
        assertThatThrownBy(badCall::run).isInstanceOf(type).hasMessageContaining(messagePart);
        assertThat(manager.statistics().total()).isEqualTo(before);
        assertThat(manager.liveBufferCount()).isEqualTo(liveBefore);
    }

    @Test
    void bufferShouldReportWhatItIs(MemoryManager manager) {
        try (IBuffer buffer = manager.allocateBuffer(upload(1000).name("uniforms").build())) {
            MemoryProperties props = manager.allocator().memoryProperties();
            assertThat(buffer.buffer()).isNotZero();
            assertThat(buffer.offset()).isZero();
            assertThat(buffer.size()).isEqualTo(1000);
            assertThat(buffer.name()).isEqualTo("uniforms");
            assertThat(buffer.allocator()).isSameAs(manager);
            assertThat(buffer.memoryTypeIndex()).isBetween(0, props.types().size() - 1);
            assertThat(buffer.memoryPropertyFlags()).isEqualTo(props.propertyFlags(buffer.memoryTypeIndex()));
            assertThat(buffer.memoryPropertyFlags() & MemoryProperties.HOST_VISIBLE).isNotZero();
            assertThat(buffer.isHostVisible()).isTrue();
            assertThat(manager.liveBufferCount()).isEqualTo(1);
            assertThat(manager.liveBuffers()).containsExactly("'uniforms' of 1000 bytes");
            assertThat(manager.statistics().total().allocationCount()).isEqualTo(1);
            assertThat(manager.statistics().total().allocationBytes()).isGreaterThanOrEqualTo(1000);
        }
        assertThat(manager.liveBufferCount()).isZero();
    }

    @Test
    void persistentlyMappedBufferShouldKeepOneAddressAndShareItWithMap(MemoryManager manager) {
        try (IBuffer buffer = manager.allocateBuffer(upload(256).mapped().build())) {
            long address = buffer.mappedAddress();
            assertThat(address).isNotZero();
            assertThat(buffer.mappedAddress()).isEqualTo(address);
            ByteBuffer view = buffer.map();
            assertThat(view.capacity()).isEqualTo(256);
            view.putInt(8, 0xCAFEBABE);
            int[] back = new int[1];
            buffer.read(8, back);
            assertThat(back[0]).isEqualTo(0xCAFEBABE);
        }
    }

    @Test
    void lazilyMappedBufferShouldMapOnFirstUse(MemoryManager manager) {
        try (IBuffer buffer = manager.allocateBuffer(upload(64).build())) {
            assertThat(buffer.mappedAddress()).isNotZero().isEqualTo(buffer.mappedAddress());
        }
    }

    @Test
    void writeAndReadShouldRoundTripEveryKindOfSource(MemoryManager manager) {
        try (IBuffer buffer = manager.allocateBuffer(upload(4096).build())) {
            buffer.write(100, new byte[] {1, 2, 3});
            buffer.write(200, new int[] {7, -8});
            buffer.write(300, new float[] {1.5f, -2.25f});
            ByteBuffer direct = ByteBuffer.allocateDirect(4).put(new byte[] {9, 8, 7, 6}).flip();
            buffer.write(400, direct);
            assertThat(direct.position()).isZero();
            ByteBuffer heap = ByteBuffer.wrap(new byte[] {5, 4});
            buffer.write(500, heap);

            byte[] bytes = new byte[3];
            buffer.read(100, bytes);
            assertThat(bytes).containsExactly(1, 2, 3);
            int[] ints = new int[2];
            buffer.read(200, ints);
            assertThat(ints).containsExactly(7, -8);
            float[] floats = new float[2];
            buffer.read(300, floats);
            assertThat(floats).containsExactly(1.5f, -2.25f);
            ByteBuffer out = ByteBuffer.allocate(4);
            buffer.read(400, out);
            assertThat(out.position()).isZero();
            assertThat(out.array()).containsExactly(9, 8, 7, 6);
            ByteBuffer out2 = ByteBuffer.allocateDirect(2).order(ByteOrder.nativeOrder());
            buffer.read(500, out2);
            assertThat(out2.get(0)).isEqualTo((byte) 5);
            assertThat(out2.get(1)).isEqualTo((byte) 4);
        }
    }

    @Test
    void writingOrReadingPastTheEndShouldThrowAndLeaveTheBytesAlone(MemoryManager manager) {
        try (IBuffer buffer = manager.allocateBuffer(upload(64).build())) {
            buffer.write(0, new byte[64]);
            assertRejectedWithoutChange(manager, () -> buffer.write(60, new byte[] {1, 1, 1, 1, 1}),
                    IllegalArgumentException.class, "write of 5 bytes at offset 60");
            assertRejectedWithoutChange(manager, () -> buffer.write(-1, new byte[1]),
                    IllegalArgumentException.class, "offset -1");
            assertRejectedWithoutChange(manager, () -> buffer.write(0, new int[17]),
                    IllegalArgumentException.class, "size 64");
            assertRejectedWithoutChange(manager, () -> buffer.read(1, new byte[64]),
                    IllegalArgumentException.class, "read of 64 bytes at offset 1");
            assertRejectedWithoutChange(manager, () -> buffer.flush(0, 65),
                    IllegalArgumentException.class, "flush of 65 bytes");
            assertRejectedWithoutChange(manager, () -> buffer.invalidate(64, 1),
                    IllegalArgumentException.class, "invalidate of 1 bytes");
            byte[] back = new byte[64];
            buffer.read(0, back);
            assertThat(back).containsOnly(0);
            buffer.flush(0, 64);
            buffer.invalidate(10, 20);
        }
    }

    @Test
    void flushRangesShouldBeWidenedToWholeAtomsWithinTheMemory() {
        assertThat(VulkanBuffer.atomAlignedRange(0, 1, 64, 1024)).containsExactly(0, 64);
        assertThat(VulkanBuffer.atomAlignedRange(65, 10, 64, 1024)).containsExactly(64, 64);
        assertThat(VulkanBuffer.atomAlignedRange(63, 2, 64, 1024)).containsExactly(0, 128);
        assertThat(VulkanBuffer.atomAlignedRange(1000, 20, 64, 1020)).containsExactly(960, 60);
        assertThat(VulkanBuffer.atomAlignedRange(128, 128, 64, 1024)).containsExactly(128, 128);
        assertThat(VulkanBuffer.atomAlignedRange(5, 3, 1, 100)).containsExactly(5, 3);
        assertThat(VulkanBuffer.atomAlignedRange(300, 1, 256, 1L << 62)).containsExactly(256, 256);
    }

    @Test
    void deviceAddressShouldBeGivenOnlyToBuffersThatAskedForIt(VulkanContext context, MemoryManager manager) {
        assertThat(context.features().bufferDeviceAddress())
                .as("lavapipe supports bufferDeviceAddress, and the context enables it").isTrue();
        try (IBuffer a = manager.allocateBuffer(AllocationInfo.builder().size(256)
                     .bufferUsage(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT)
                     .memoryUsage(MemoryUsage.DEVICE_ONLY).build());
             IBuffer b = manager.allocateBuffer(AllocationInfo.builder().size(256)
                     .bufferUsage(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT)
                     .memoryUsage(MemoryUsage.DEVICE_ONLY).build());
             IBuffer plain = manager.allocateBuffer(upload(256).build())) {
            assertThat(a.deviceAddress()).isNotZero().isNotEqualTo(b.deviceAddress());
            assertThatThrownBy(plain::deviceAddress).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT");
        }
    }

    @Test
    void aPoolWithDeviceAddressUsageShouldBeRefusedWhenTheAllocatorHasNoDeviceAddresses(VulkanContext context) {
        // The pool's blocks would lack VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT: its buffers could not be bound
        // (VUID-vkBindBufferMemory-bufferDeviceAddress-03339). Refused at creation, before any block is made.
        int usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
        try (MemoryManager noAddresses = MemoryManager.create(context, s -> s.withFlags(s.flags()
                & ~org.lwjgl.util.vma.Vma.VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT))) {
            assertThatThrownBy(() -> noAddresses.createNonLinearMemoryPool("addresses",
                    IMemoryPool.CreateInfo.of(usage, MemoryUsage.DEVICE_ONLY, 1 << 20)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("bufferUsage: 0x" + Integer.toHexString(usage))
                    .hasMessageContaining("VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT");
            assertThat(noAddresses.memoryPools()).isEmpty();
            assertThat(noAddresses.allocator().deviceMemoryAllocationCount()).as("no block made").isZero();
            noAddresses.createNonLinearMemoryPool("plain", IMemoryPool.CreateInfo.of(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                    MemoryUsage.DEVICE_ONLY, 1 << 20)).close();
        }
    }

    @Test
    void closeShouldFreeExactlyOnceWhenManyThreadsRace(MemoryManager manager) throws Exception {
        IBuffer keep = manager.allocateBuffer(upload(64).build());
        IBuffer buffer = manager.allocateBuffer(upload(64).build());
        assertThat(manager.statistics().total().allocationCount()).isEqualTo(2);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                futures.add(pool.submit(() -> {
                    start.await();
                    buffer.close();
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        assertThat(buffer.isClosed()).isTrue();
        assertThat(manager.statistics().total().allocationCount()).isEqualTo(1);
        buffer.close();
        assertThat(manager.statistics().total().allocationCount()).isEqualTo(1);
        keep.close();
    }

    @Test
    void everyUseAfterCloseShouldThrow(MemoryManager manager) {
        IBuffer buffer = manager.allocateBuffer(upload(64).build());
        buffer.close();
        List<Consumer<IBuffer>> uses = List.of(IBuffer::buffer, IBuffer::offset, IBuffer::memoryTypeIndex,
                IBuffer::memoryPropertyFlags, IBuffer::isHostVisible, IBuffer::map, IBuffer::mappedAddress,
                IBuffer::deviceAddress, b -> b.write(0, new byte[1]), b -> b.write(0, new int[1]),
                b -> b.write(0, new float[1]), b -> b.write(0, ByteBuffer.allocate(1)), b -> b.read(0, new byte[1]),
                b -> b.read(0, new int[1]), b -> b.read(0, new float[1]), b -> b.read(0, ByteBuffer.allocate(1)),
                b -> b.flush(0, 1), b -> b.invalidate(0, 1));
        for (Consumer<IBuffer> use : uses) {
            assertRejectedWithoutChange(manager, () -> use.accept(buffer), IllegalStateException.class,
                    "is closed (expected: an open buffer)");
        }
        assertThat(buffer.size()).isEqualTo(64);
        assertThat(buffer.allocator()).as("which allocator made it, still known after close").isSameAs(manager);
    }

    @Test
    void aWrappedBufferShouldNeverFreeWhatItBorrows(VulkanContext context, MemoryManager manager) {
        try (IBuffer owner = manager.allocateBuffer(upload(1024).build())) {
            VulkanBuffer borrowed = VulkanBuffer.wrap(context.device(), owner.buffer(), 256, 512,
                    VK_BUFFER_USAGE_TRANSFER_SRC_BIT, owner.memoryTypeIndex(), owner.memoryPropertyFlags(), 0, 0,
                    owner.mappedAddress() + 256, context.memoryProperties().nonCoherentAtomSize());
            assertThat(borrowed.isOwned()).isFalse();
            borrowed.write(0, new int[] {42});
            borrowed.close();
            borrowed.close();
            assertThatThrownBy(() -> borrowed.write(0, new int[1])).isInstanceOf(IllegalStateException.class);
            assertThat(manager.statistics().total().allocationCount()).isEqualTo(1);
            int[] back = new int[1];
            owner.read(256, back);
            assertThat(back[0]).isEqualTo(42);
        }
    }

    @Test
    void badRequestsShouldThrowNamingTheValueAndChangeNothing(MemoryManager manager) {
        assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(upload(0).build()),
                IllegalArgumentException.class, "size: 0 (expected: > 0");
        assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(upload(-5).build()),
                IllegalArgumentException.class, "size: -5");
        assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(upload(64).alignment(24).build()),
                IllegalArgumentException.class, "alignment: 24 (expected: 0 or a power of two)");
        assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(upload(64).bufferUsage(0).build()),
                IllegalArgumentException.class, "bufferUsage: 0");
        assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(upload(64).concurrent(0).build()),
                IllegalArgumentException.class, "two or more distinct families");
        assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(upload(64).concurrent(0, 0).build()),
                IllegalArgumentException.class, "queueFamilies: [0, 0]");
        int families = manager.allocator().queueFamilyCount();
        assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(upload(64).concurrent(0, families)
                .build()), IllegalArgumentException.class, "queue family: " + families);
        assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(upload(64).allocationFlags(1 << 30)
                .build()), IllegalArgumentException.class, "allocationFlags: 0x40000000");
        assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(upload(64)
                .hostAccess(HostAccess.RANDOM).build()), IllegalArgumentException.class, "RANDOM");
        assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(upload(64).build(),
                OnAllocationFailure.WAIT), UnsupportedOperationException.class, "onFailure: WAIT");
    }

    @Test
    void requiredFlagsNoMemoryTypeHasShouldFailAsNoCompatibleMemoryType(MemoryManager manager) {
        int missing = MemoryProperties.PROTECTED;
        for (MemoryProperties.Type type : manager.allocator().memoryProperties().types()) {
            assertThat(type.has(missing)).as("lavapipe has no protected memory").isFalse();
        }
        AllocationInfo info = AllocationInfo.builder().size(64).bufferUsage(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT)
                .memoryUsage(MemoryUsage.DEVICE_ONLY).requiredMemoryFlags(missing).build();
        assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(info), MemoryAllocationException.class,
                "no memory type has the required flags PROTECTED");
        try {
            manager.allocateBuffer(info);
        } catch (MemoryAllocationException e) {
            assertThat(e.reason()).isEqualTo(MemoryAllocationException.Reason.NO_COMPATIBLE_MEMORY_TYPE);
        }
        assertThat(manager.allocateBuffer(info, OnAllocationFailure.EMPTY)).isNull();
        assertThat(manager.statistics().total().allocationCount()).isZero();
    }

    /**
     * A manager on the context's device whose memory layout is simulated as one device-local type, not host-visible
     * (lavapipe's one type is host-visible); VMA still places memory by the real layout.
     */
    static MemoryManager deviceLocalOnly(VulkanContext context) {
        MemoryProperties real = context.memoryProperties();
        MemoryProperties deviceLocalOnly = new MemoryProperties(real.heaps(),
                List.of(new MemoryProperties.Type(0, MemoryProperties.DEVICE_LOCAL)), real.bufferImageGranularity(),
                real.nonCoherentAtomSize());
        return MemoryManager.create(context, s -> s.withSimulatedMemoryProperties(deviceLocalOnly));
    }

    @Test
    void assertingNothingLiveOfAClosedManagerShouldSayItIsClosed(VulkanContext context) {
        MemoryManager closed = MemoryManager.create(context);
        closed.close();
        assertThatThrownBy(() -> VulkanExtension.assertNothingLive(closed))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("manager: closed (expected: an open manager; a closed one freed everything at its close,"
                        + " and nothing of it can be counted any more)");
    }

    @Test
    void mappingMemoryThatIsNotHostVisibleShouldThrow(VulkanContext context) {
        try (MemoryManager manager = deviceLocalOnly(context)) {
            try (IBuffer buffer = manager.allocateBuffer(AllocationInfo.builder().size(256)
                    .bufferUsage(VK_BUFFER_USAGE_TRANSFER_DST_BIT).memoryUsage(MemoryUsage.DEVICE_ONLY).build())) {
                assertThat(buffer.isHostVisible()).isFalse();
                assertRejectedWithoutChange(manager, buffer::map, IllegalStateException.class,
                        "is DEVICE_LOCAL (expected: HOST_VISIBLE");
                assertRejectedWithoutChange(manager, () -> buffer.write(0, new byte[4]),
                        IllegalStateException.class, "expected: HOST_VISIBLE");
            }
            assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(upload(64).build()),
                    MemoryAllocationException.class, "required flags HOST_VISIBLE");
            VulkanExtension.assertNothingLive(manager);
        }
    }

    @Test
    void anExhaustedHeapShouldFailAsOutOfDeviceMemoryAndTheManagerShouldGoOn(VulkanContext context) {
        int heaps = context.memoryProperties().heaps().size();
        long[] limits = new long[heaps];
        java.util.Arrays.fill(limits, 4L << 20);
        try (MemoryManager manager = MemoryManager.create(context, s -> s.withHeapSizeLimits(limits))) {
            AllocationInfo tooBig = AllocationInfo.builder().size(8L << 20)
                    .bufferUsage(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT).memoryUsage(MemoryUsage.DEVICE_ONLY).build();
            VulkanMemoryAllocator.Statistics before = manager.statistics().total();
            assertThatThrownBy(() -> manager.allocateBuffer(tooBig))
                    .isInstanceOfSatisfying(MemoryAllocationException.class, e -> {
                        assertThat(e.reason()).isEqualTo(MemoryAllocationException.Reason.OUT_OF_DEVICE_MEMORY);
                        assertThat(e.vkResultName()).isEqualTo("VK_ERROR_OUT_OF_DEVICE_MEMORY");
                        assertThat(e.getMessage()).contains("vmaCreateBuffer").contains("size=8388608")
                                .contains("memory types that fit, best first: [0 DEVICE_LOCAL")
                                .contains("heap 0: ").contains("of budget");
                    });
            assertThat(manager.allocateBuffer(tooBig, OnAllocationFailure.EMPTY)).isNull();
            assertThat(manager.statistics().total()).isEqualTo(before);
            try (IBuffer small = manager.allocateBuffer(upload(1024).build())) {
                small.write(0, new int[] {1});
            }
            VulkanExtension.assertNothingLive(manager);
        }
    }

    @Test
    void closingTheManagerShouldFreeAndReportWhatUsersLeftOpen(VulkanContext context) {
        List<String> logged = new ArrayList<>();
        Logger jul = Logger.getLogger(MemoryManager.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(handler);
        try {
            MemoryManager manager = MemoryManager.create(context);
            IBuffer a = manager.allocateBuffer(upload(64).name("forgotten-a").build());
            manager.allocateBuffer(upload(128).name("forgotten-b").build());
            manager.close();
            manager.close();
            assertThat(manager.isClosed()).isTrue();
            assertThat(logged).anySatisfy(m -> assertThat(m).contains("2 buffer(s) still open")
                    .contains("'forgotten-a' of 64 bytes").contains("'forgotten-b' of 128 bytes"));
            assertThatThrownBy(a::buffer).isInstanceOf(IllegalStateException.class);
            a.close();
            assertThatThrownBy(() -> manager.allocateBuffer(upload(64).build()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("MemoryManager is closed");
            assertThatThrownBy(manager::allocator).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("MemoryManager is closed");
            assertThatThrownBy(() -> manager.findAllocators(EnumSet.noneOf(Capability.class), 0x1, null))
                    .as("a closed manager offers no allocator, itself included")
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("MemoryManager is closed");
            assertThatThrownBy(() -> manager.destroyMemoryPool("x")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("MemoryManager is closed");
        } finally {
            jul.removeHandler(handler);
        }
    }

    @Test
    void theLiveCheckShouldNameWhatATestLeftOpen(VulkanContext context) {
        try (MemoryManager manager = MemoryManager.create(context)) {
            IBuffer forgotten = manager.allocateBuffer(upload(64).name("forgotten").build());
            IMemoryPool pool = manager.createNonLinearMemoryPool("left", IMemoryPool.CreateInfo.of(
                    VK_BUFFER_USAGE_TRANSFER_SRC_BIT, MemoryUsage.UPLOAD, 64 * 1024));
            assertThatThrownBy(() -> VulkanExtension.assertNothingLive(manager)).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("'forgotten' of 64 bytes").hasMessageContaining("pool 'left' open")
                    .hasMessageContaining("live allocation(s)");
            forgotten.close();
            pool.close();
            VulkanExtension.assertNothingLive(manager);
        }
    }

    @Test
    void theManagerShouldHaveNoWaitCapabilityAndKnowItsQueues(VulkanContext context, MemoryManager manager) {
        assertThat(manager.getCapabilities()).isEmpty();
        assertThat(manager.getGraphicsQueue()).isEqualTo(context.graphicsQueue());
        assertThat(manager.getComputeQueue()).isEqualTo(context.computeQueue());
        assertThat(manager.getTransferQueue()).isEqualTo(context.transferQueue());
        manager.setTransferQueue(context.graphicsQueue());
        assertThat(manager.getTransferQueue()).isEqualTo(context.graphicsQueue());
        manager.setComputeQueue(null);
        assertThat(manager.getComputeQueue()).isNull();
    }

    @Test
    void findAllocatorsShouldOfferOnlyAllocatorsThatCanServeTheRequestOnThisDevice(VulkanContext context,
                                                                                   MemoryManager manager) {
        for (MemoryProperties.Type type : manager.allocator().memoryProperties().types()) {
            assertThat(type.has(MemoryProperties.LAZILY_ALLOCATED)).as("lavapipe has no lazily allocated memory")
                    .isFalse();
        }
        Set<Capability> any = EnumSet.noneOf(Capability.class);
        int storage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
        BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("blocks",
                BlockPoolAllocator.Config.defaults());
        assertThat(manager.findAllocators(any, storage, MemoryUsage.DEVICE_ONLY)).containsExactly(blocks, manager);
        // Every allocator offered must be able to serve the request; here none can, so none is offered.
        AllocationInfo lazy = AllocationInfo.builder().size(256).bufferUsage(storage)
                .memoryUsage(MemoryUsage.GPU_LAZILY_ALLOCATED).build();
        assertThatThrownBy(() -> manager.allocateBuffer(lazy)).isInstanceOf(MemoryAllocationException.class);
        assertThatThrownBy(() -> blocks.allocateBuffer(lazy)).isInstanceOf(MemoryAllocationException.class);
        assertThat(manager.findAllocators(any, storage, MemoryUsage.GPU_LAZILY_ALLOCATED))
                .as("no memory type fits GPU_LAZILY_ALLOCATED on this device").isEmpty();

        int addresses = storage | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
        try (MemoryManager noAddresses = MemoryManager.create(context, s -> s.withFlags(s.flags()
                & ~org.lwjgl.util.vma.Vma.VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT))) {
            assertThatThrownBy(() -> noAddresses.allocateBuffer(AllocationInfo.builder().size(256)
                    .bufferUsage(addresses).memoryUsage(MemoryUsage.DEVICE_ONLY).build()))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(noAddresses.findAllocators(any, addresses, null))
                    .as("an allocator without device addresses cannot bind such buffers").isEmpty();
            assertThat(noAddresses.findAllocators(any, storage, null)).containsExactly(noAddresses);
        }
        assertThat(manager.findAllocators(any, addresses, MemoryUsage.DEVICE_ONLY)).containsExactly(blocks, manager);

        // Bad input is refused, naming the value.
        assertThatThrownBy(() -> manager.findAllocators(any, 0x4000_0000, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bufferUsage: 0x40000000 (expected: VkBufferUsageFlagBits");
        Set<Capability> withNull = new HashSet<>();
        withNull.add(null);
        assertThatThrownBy(() -> manager.findAllocators(withNull, storage, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capabilities: [null] (expected: no null element)");
    }

    @Test
    void allocationFlagsShouldHaveVmasValues() {
        assertThat(AllocationFlags.DEDICATED_MEMORY).isEqualTo(Vma.VMA_ALLOCATION_CREATE_DEDICATED_MEMORY_BIT);
        assertThat(AllocationFlags.NEVER_ALLOCATE).isEqualTo(Vma.VMA_ALLOCATION_CREATE_NEVER_ALLOCATE_BIT);
        assertThat(AllocationFlags.MAPPED).isEqualTo(Vma.VMA_ALLOCATION_CREATE_MAPPED_BIT);
        assertThat(AllocationFlags.WITHIN_BUDGET).isEqualTo(Vma.VMA_ALLOCATION_CREATE_WITHIN_BUDGET_BIT);
        assertThat(AllocationFlags.HOST_ACCESS_SEQUENTIAL_WRITE)
                .isEqualTo(Vma.VMA_ALLOCATION_CREATE_HOST_ACCESS_SEQUENTIAL_WRITE_BIT);
        assertThat(AllocationFlags.HOST_ACCESS_RANDOM).isEqualTo(Vma.VMA_ALLOCATION_CREATE_HOST_ACCESS_RANDOM_BIT);
        assertThat(AllocationFlags.HOST_ACCESS_ALLOW_TRANSFER_INSTEAD)
                .isEqualTo(Vma.VMA_ALLOCATION_CREATE_HOST_ACCESS_ALLOW_TRANSFER_INSTEAD_BIT);
        assertThat(AllocationFlags.STRATEGY_MIN_MEMORY).isEqualTo(Vma.VMA_ALLOCATION_CREATE_STRATEGY_MIN_MEMORY_BIT);
        assertThat(AllocationFlags.STRATEGY_MIN_TIME).isEqualTo(Vma.VMA_ALLOCATION_CREATE_STRATEGY_MIN_TIME_BIT);
        assertThat(AllocationFlags.STRATEGY_MIN_OFFSET).isEqualTo(Vma.VMA_ALLOCATION_CREATE_STRATEGY_MIN_OFFSET_BIT);
    }
    @Test
    void infosAskedAgainShouldGiveBuffersOfTheirOwnSizeAndName(MemoryManager manager) {
        // More infos than the manager remembers, taken in turn: each buffer is its own info's, remembered or not.
        AllocationInfo[] infos = new AllocationInfo[RememberedRequests.PLACES + 3];
        for (int i = 0; i < infos.length; i++) {
            infos[i] = upload(64L + 16 * i).name("info-" + i).build();
        }
        List<IBuffer> open = new ArrayList<>();
        try {
            for (int round = 0; round < 40; round++) {
                for (int i = 0; i < infos.length; i++) {
                    IBuffer b = manager.allocateBuffer(infos[i]);
                    open.add(b);
                    assertThat(b.size()).as("info %d, round %d", i, round).isEqualTo(infos[i].size());
                    assertThat(b.name()).isEqualTo("info-" + i);
                }
                if (round % 2 == 1) {
                    open.forEach(IBuffer::close);
                    open.clear();
                }
            }
            assertThat(manager.liveBufferCount()).isZero();
        } finally {
            open.forEach(IBuffer::close);
        }
    }

    @Test
    void anInfoTheDeviceRefusesShouldBeRefusedEveryTimeItIsAsked(MemoryManager manager) {
        int families = manager.allocator().queueFamilyCount();
        AllocationInfo badFamily = upload(256).concurrent(0, families).build();
        AllocationInfo deviceAddress = AllocationInfo.builder().size(256)
                .bufferUsage(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT)
                .memoryUsage(MemoryUsage.AUTO).build();
        for (int i = 0; i < 3; i++) {
            assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(badFamily),
                    IllegalArgumentException.class, "queue family: " + families);
            if (!manager.allocator().bufferDeviceAddressEnabled()) {
                assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(deviceAddress),
                        IllegalArgumentException.class, "SHADER_DEVICE_ADDRESS");
            }
        }
        // A good info between them is remembered; the bad one still is not.
        AllocationInfo good = upload(256).build();
        manager.allocateBuffer(good).close();
        manager.allocateBuffer(good).close();
        assertRejectedWithoutChange(manager, () -> manager.allocateBuffer(badFamily),
                IllegalArgumentException.class, "queue family: " + families);
    }

    @Test
    void aBufferWhoseAllocatedListenerThrowsAnErrorShouldGoBackToVmaAndNotBeListed(VulkanContext context) {
        // A DeviceMemoryListener's Error from allocated() comes out of vmaCreateBuffer once VMA made the buffer and its
        // memory: both must go, nothing be listed, and the manager (with its allocator) close.
        Error injected = new Error("allocated() failed (injected by the test)");
        try (MemoryManager own = new MemoryManager(VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context)))) {
            FailingListeners.failAllocatedCall(own.allocator(), 1, injected);
            long buffers = VulkanObjects.liveBuffers();
            AllocationInfo info = upload(1000).allocationFlags(AllocationFlags.DEDICATED_MEMORY).build();
            assertThatThrownBy(() -> own.allocateBuffer(info)).isSameAs(injected);
            assertThat(VulkanObjects.liveBuffers()).as("its VkBuffer destroyed").isEqualTo(buffers);
            assertThat(own.allocator().liveDeviceMemoryCount()).as("its memory went back to VMA").isZero();
            assertThat(own.statistics().total().allocationCount()).isZero();
            assertThat(own.liveBufferCount()).isZero();
            // Without the flag VMA places the buffer in a block it makes, which may stay empty and kept: the
            // allocation and the buffer must go all the same.
            Error again = new Error("allocated() failed (injected by the test, again)");
            FailingListeners.failAllocatedCall(own.allocator(), 1, again);
            assertThatThrownBy(() -> own.allocateBuffer(upload(1000).build())).isSameAs(again);
            assertThat(VulkanObjects.liveBuffers()).isEqualTo(buffers);
            assertThat(own.statistics().total().allocationCount()).isZero();
            assertThat(own.liveBufferCount()).isZero();
            own.allocateBuffer(info).close();
        }
    }

    @Test
    void aBufferWhoseFreedListenerThrowsAnErrorShouldBeCountedOutAsDestroyed(VulkanContext context) {
        // A DeviceMemoryListener's Error from freed() comes out of vmaDestroyBuffer once VMA destroyed the buffer and
        // freed its dedicated memory: the buffer is gone, and the count of live VkBuffers must say so.
        Error injected = new Error("freed() failed (injected by the test)");
        try (MemoryManager own = new MemoryManager(VulkanMemoryAllocator.create(
                VulkanMemoryAllocator.Settings.forContext(context)))) {
            long buffers = VulkanObjects.liveBuffers();
            IBuffer buffer = own.allocateBuffer(upload(1000).allocationFlags(AllocationFlags.DEDICATED_MEMORY).build());
            assertThat(VulkanObjects.liveBuffers()).isEqualTo(buffers + 1);
            FailingListeners.failFreedCall(own.allocator(), 1, injected);
            assertThatThrownBy(buffer::close).isSameAs(injected);
            assertThat(own.allocator().liveDeviceMemoryCount()).as("its memory went back to VMA").isZero();
            assertThat(VulkanObjects.liveBuffers()).as("its VkBuffer counted out").isEqualTo(buffers);
            assertThat(own.liveBufferCount()).isZero();
        }
    }

    @Test
    void closeFromADeviceMemoryListenerInsideAllocateBufferShouldThrowInsteadOfWaitingForever(VulkanContext context)
            throws Exception {
        closeFromAListenerShouldChangeNothing(context, false);
    }

    @Test
    void closeFromADeviceMemoryListenerInsideABlockPoolsAllocateBufferShouldThrowAndChangeNothing(
            VulkanContext context) throws Exception {
        closeFromAListenerShouldChangeNothing(context, true);
    }

    /**
     * A {@code DeviceMemoryListener} whose first {@code allocated} call closes the manager, during an allocation of
     * the manager (which holds its read lock) or of one of its block pool allocators (which holds none): the close
     * throws, and the allocation, the manager and its pools go on as if nothing happened.
     */
    private static void closeFromAListenerShouldChangeNothing(VulkanContext context, boolean blockPools)
            throws Exception {
        VulkanMemoryAllocator vma = VulkanMemoryAllocator.create(VulkanMemoryAllocator.Settings.forContext(context));
        MemoryManager manager = new MemoryManager(vma);
        BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("blocks",
                BlockPoolAllocator.Config.defaults());
        Throwable[] fromListener = FailingListeners.onFirstAllocated(vma, manager::close);
        AllocationInfo info = AllocationInfo.builder().size(1 << 20).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                .memoryUsage(MemoryUsage.UPLOAD).allocationFlags(blockPools ? 0 : AllocationFlags.DEDICATED_MEMORY)
                .build();
        IBuffer[] made = new IBuffer[1];
        // On a thread of its own, so that a close that waits for the write lock holds up only that thread.
        Thread allocating = new Thread(() -> made[0] = (blockPools ? blocks : manager).allocateBuffer(info));
        allocating.setDaemon(true);
        allocating.start();
        allocating.join(10_000);
        assertThat(allocating.isAlive()).as("the allocation whose listener called close()").isFalse();
        assertThat(fromListener[0]).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("MemoryManager.close() called from inside one of its own calls");
        assertThat(manager.isClosed()).as("nothing changed").isFalse();
        assertThat(blocks.isClosed()).isFalse();
        assertThat(made[0]).isNotNull();
        made[0].close();
        manager.close();
        assertThat(vma.isClosed()).isTrue();
    }
}
