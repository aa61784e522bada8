package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.IMemoryPool.CreateInfo;
import io.github.solvk.memory.diagnostics.GuardMargins;
import io.github.solvk.memory.diagnostics.HeapInfo;
import io.github.solvk.memory.diagnostics.Json;
import io.github.solvk.memory.diagnostics.MemoryMap;
import io.github.solvk.memory.diagnostics.MemoryMapHtml;
import io.github.solvk.memory.diagnostics.MemoryMapJson;
import io.github.solvk.memory.diagnostics.MemoryMapPng;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.pool.MemoryTypeFilter;
import io.github.solvk.memory.pool.PoolException;
import io.github.solvk.memory.suballocator.Suballocator;
import io.github.solvk.memory.suballocator.SuballocatorKind;
import io.github.solvk.memory.suballocator.Suballocators;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemory;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * Bad input through the public API gets an exception naming the value and what was expected (docs/errors.md), not a
 * NullPointerException from deep inside, a message of just a name, or a silently wrong result; and changes nothing.
 * Each case here failed once.
 */
@ExtendWith(VulkanExtension.class)
class ErrorMessagesTest {

    private static final int USAGE = 0x3;

    @Test
    void aNullCreateInfoShouldBeNamedByEveryPoolCreator(MemoryManager manager) {
        // createNonLinearMemoryPool read info.createFlags() and createRingBufferMemoryPool called info.withBlocks()
        // before the check in createPool: a bare NullPointerException.
        assertThatThrownBy(() -> manager.createNonLinearMemoryPool("p", null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("info: null (expected: an IMemoryPool.CreateInfo)");
        assertThatThrownBy(() -> manager.createRingBufferMemoryPool("p", null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("info: null (expected: an IMemoryPool.CreateInfo)");
        assertThatThrownBy(() -> manager.createStackMemoryPool("p", null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("info: null (expected: an IMemoryPool.CreateInfo)");
        // The name is checked first, as createPool does.
        assertThatThrownBy(() -> manager.createRingBufferMemoryPool(" ", null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("name: ' ' (expected: ");
        assertThat(manager.memoryPools()).isEmpty();
    }

    @Test
    void aNullPoolAllocationInfoShouldBeNamed(MemoryManager manager) {
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("p", CreateInfo.of(USAGE, MemoryUsage.UPLOAD,
                64 * 1024));
             IMemoryPool ring = manager.createRingBufferMemoryPool("r", CreateInfo.of(USAGE, MemoryUsage.UPLOAD,
                     64 * 1024))) {
            String expected = "info: null (expected: an IMemoryPool.AllocationInfo)";
            assertThatThrownBy(() -> pool.allocateBuffer((IMemoryPool.AllocationInfo) null))
                    .isInstanceOf(NullPointerException.class).hasMessage(expected);
            assertThatThrownBy(() -> ring.allocateBufferWithWait(null))
                    .isInstanceOf(NullPointerException.class).hasMessage(expected);
            assertThatThrownBy(() -> ring.allocateBufferWithWait(null, 10))
                    .isInstanceOf(NullPointerException.class).hasMessage(expected);
            assertThat(pool.liveBufferCount()).isZero();
            assertThat(ring.liveBufferCount()).isZero();
        }
    }

    @Test
    void nullArgumentsOfTheManagerShouldBeNamedWithAnExpectation(MemoryManager manager, VulkanContext context) {
        assertThatThrownBy(() -> MemoryManager.create(context, null))
                .isInstanceOf(NullPointerException.class).hasMessageStartingWith("settings: null (expected: ");
        assertThatThrownBy(() -> manager.allocateBuffer(null))
                .isInstanceOf(NullPointerException.class).hasMessage("info: null (expected: an AllocationInfo)");
        assertThatThrownBy(() -> manager.allocateBuffer(AllocationInfo.builder().size(16).bufferUsage(USAGE).build(),
                null)).isInstanceOf(NullPointerException.class)
                .hasMessage("onFailure: null (expected: THROW, EMPTY or WAIT)");
        assertThatThrownBy(() -> manager.createBlockPoolAllocator("b", null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("config: null (expected: a BlockPoolAllocator.Config)");
        assertThatThrownBy(() -> manager.findAllocators(null, USAGE, null))
                .isInstanceOf(NullPointerException.class).hasMessageStartingWith("capabilities: null (expected: ");
        // The folder was used only after the whole map was built, deep inside java.nio.file.Files.
        assertThatThrownBy(() -> manager.writeMemoryMap(null, "device"))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("folder: null (expected: a folder to write into)");
        assertThatThrownBy(() -> VulkanMemoryAllocator.Settings.forContext(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("context: null (expected: an open VulkanContext)");
        assertThatThrownBy(() -> manager.allocator().createBuffer(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("request: null (expected: a BufferRequest)");
        assertThatThrownBy(() -> VulkanMemory.bufferRequirements(null, 16, USAGE))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("allocator: null (expected: an open VulkanMemoryAllocator)");
        assertThat(manager.liveBufferCount()).isZero();
    }

    @Test
    void requestBuildersShouldNameNulls() {
        assertThatThrownBy(() -> AllocationInfo.builder().size(16).bufferUsage(USAGE).concurrent((int[]) null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("families: null (expected: two or more distinct queue families)");
        assertThatThrownBy(() -> AllocationInfo.builder().size(16).bufferUsage(USAGE).memoryUsage(null).build())
                .isInstanceOf(NullPointerException.class).hasMessage("memoryUsage: null (expected: a MemoryUsage)");
        assertThatThrownBy(() -> AllocationInfo.builder().size(16).bufferUsage(USAGE).hostAccess(null).build())
                .isInstanceOf(NullPointerException.class)
                .hasMessage("hostAccess: null (expected: a HostAccess, NONE for none)");
        assertThatThrownBy(() -> CreateInfo.of(USAGE, null, 1024))
                .isInstanceOf(NullPointerException.class).hasMessage("memoryUsage: null (expected: a MemoryUsage)");
        assertThatThrownBy(() -> BlockPoolAllocator.Config.builder().suballocatorFactory(null).build())
                .isInstanceOf(NullPointerException.class)
                .hasMessage("suballocatorFactory: null (expected: a SuballocatorFactory)");
        assertThatThrownBy(() -> MemoryTypeFilter.of(null, HostAccess.NONE, 0, 0))
                .isInstanceOf(NullPointerException.class).hasMessage("usage: null (expected: a MemoryUsage)");
    }

    @Test
    void nullSourcesAndDestinationsOfBufferCopiesShouldBeNamed(MemoryManager manager) {
        try (IBuffer buffer = manager.allocateBuffer(AllocationInfo.builder().size(64).bufferUsage(USAGE)
                .memoryUsage(MemoryUsage.UPLOAD).build())) {
            assertThatThrownBy(() -> buffer.write(0, (byte[]) null))
                    .isInstanceOf(NullPointerException.class).hasMessage("src: null (expected: a byte[] to write)");
            assertThatThrownBy(() -> buffer.write(0, (ByteBuffer) null))
                    .isInstanceOf(NullPointerException.class)
                    .hasMessage("src: null (expected: a ByteBuffer to write)");
            assertThatThrownBy(() -> buffer.write(0, (int[]) null))
                    .isInstanceOf(NullPointerException.class).hasMessage("src: null (expected: an int[] to write)");
            assertThatThrownBy(() -> buffer.write(0, (float[]) null))
                    .isInstanceOf(NullPointerException.class).hasMessage("src: null (expected: a float[] to write)");
            assertThatThrownBy(() -> buffer.read(0, (byte[]) null))
                    .isInstanceOf(NullPointerException.class)
                    .hasMessage("dst: null (expected: a byte[] to read into)");
            assertThatThrownBy(() -> buffer.read(0, (ByteBuffer) null))
                    .isInstanceOf(NullPointerException.class)
                    .hasMessage("dst: null (expected: a ByteBuffer to read into)");
            assertThatThrownBy(() -> buffer.read(0, (int[]) null))
                    .isInstanceOf(NullPointerException.class)
                    .hasMessage("dst: null (expected: an int[] to read into)");
            assertThatThrownBy(() -> buffer.read(0, (float[]) null))
                    .isInstanceOf(NullPointerException.class)
                    .hasMessage("dst: null (expected: a float[] to read into)");
        }
    }

    @Test
    void subRangeShouldNameANullBlockRatherThanBlameTheBlockBuffer(MemoryManager manager) {
        try (VulkanMemory block = VulkanMemory.allocate(manager.allocator(), 4096, 0, 0, false, "block");
             VulkanBuffer blockBuffer = block.createBlockBuffer(USAGE)) {
            // Said "blockBuffer: VulkanBuffer[...] (expected: the block-wide buffer of null)".
            assertThatThrownBy(() -> VulkanBuffer.subRange(blockBuffer, null, 0, 16))
                    .isInstanceOf(NullPointerException.class)
                    .hasMessage("block: null (expected: the VulkanMemory the block buffer is bound to)");
            assertThatThrownBy(() -> VulkanBuffer.subRange(null, block, 0, 16))
                    .isInstanceOf(NullPointerException.class)
                    .hasMessage("blockBuffer: null (expected: the block-wide buffer of a VulkanMemory)");
        }
    }

    @Test
    void atomAlignedRangeShouldRefuseWhatItCannotAlignInsteadOfReturningAWrongRange() {
        assertThat(VulkanBuffer.atomAlignedRange(70, 10, 64, 256)).containsExactly(64, 64);
        // An atom of 0 gave {0, 0}, a range of no bytes; an atom of 3 a range that does not hold the bytes.
        assertThatThrownBy(() -> VulkanBuffer.atomAlignedRange(0, 16, 0, 64))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("atom: 0 (expected: a power of two, nonCoherentAtomSize)");
        assertThatThrownBy(() -> VulkanBuffer.atomAlignedRange(0, 16, 3, 64))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("atom: 3 (expected: ");
        assertThatThrownBy(() -> VulkanBuffer.atomAlignedRange(-5, 16, 4, 64))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("range: offset -5, length 16, limit 64 (expected: offset >= 0, length >= 0, "
                        + "offset + length <= limit <= 2^62)");
        assertThatThrownBy(() -> VulkanBuffer.atomAlignedRange(60, 16, 4, 64))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("range: offset 60, length 16");
        assertThatThrownBy(() -> VulkanBuffer.atomAlignedRange(0, 16, 4, Long.MAX_VALUE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("range: offset 0, length 16");
    }

    @Test
    void aNullVisitorShouldBeNamedBeforeTheWalkStarts() {
        for (SuballocatorKind kind : SuballocatorKind.values()) {
            Suballocator s = kind == SuballocatorKind.POOL ? Suballocators.fixedSize(0, 1024, 16, 16)
                    : Suballocators.create(kind, 0, 1024, 1);
            // Failed inside the walk, at the first range it handed over.
            assertThatThrownBy(() -> s.visit(null)).as(kind.name())
                    .isInstanceOf(NullPointerException.class)
                    .hasMessage("visitor: null (expected: a Suballocator.Visitor)");
            // And the suballocator is still usable: no visit is left counted as running.
            long handle = s.tryAllocate(16, 1, io.github.solvk.memory.suballocator.AllocationType.values()[0]);
            assertThat(handle).as(kind.name()).isNotEqualTo(Suballocator.NULL_HANDLE);
            s.free(handle);
            s.checkInvariants();
        }
    }

    @Test
    void memoryMapsShouldNameANullElementAndNullMaps() {
        // List.copyOf threw a NullPointerException whose message was "null".
        assertThatThrownBy(() -> new MemoryMap("d", Arrays.asList((HeapInfo) null), List.of(), List.of()))
                .isInstanceOf(NullPointerException.class).hasMessage("heaps[0]: null (expected: a HeapInfo)");
        assertThatThrownBy(() -> new MemoryMap("d", List.of(), List.of(), Arrays.asList(null, null)))
                .isInstanceOf(NullPointerException.class).hasMessage("blocks[0]: null (expected: a BlockInfo)");
        String map = "map: null (expected: a MemoryMap)";
        assertThatThrownBy(() -> MemoryMapJson.write(null)).isInstanceOf(NullPointerException.class).hasMessage(map);
        assertThatThrownBy(() -> MemoryMapHtml.write(null)).isInstanceOf(NullPointerException.class).hasMessage(map);
        assertThatThrownBy(() -> MemoryMapPng.write(null, 400)).isInstanceOf(NullPointerException.class)
                .hasMessage(map);
        assertThatThrownBy(() -> MemoryMapJson.mergeVma(null, "{}")).isInstanceOf(NullPointerException.class)
                .hasMessage("ours: null (expected: a MemoryMap)");
        assertThatThrownBy(() -> Json.quote(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("s: null (expected: a string to quote)");
        assertThatThrownBy(() -> GuardMargins.fill(null)).isInstanceOf(NullPointerException.class)
                .hasMessageStartingWith("margin: null (expected: ");
        assertThatThrownBy(() -> GuardMargins.firstCorruptByte(null)).isInstanceOf(NullPointerException.class)
                .hasMessageStartingWith("margin: null (expected: ");
    }

    @Test
    void ownsShouldNameANullBuffer(MemoryManager manager) {
        BlockPoolAllocator blocks = new BlockPoolAllocator(manager.allocator(), BlockPoolAllocator.Config.defaults());
        try {
            assertThatThrownBy(() -> blocks.owns(null)).isInstanceOf(NullPointerException.class)
                    .hasMessage("buffer: null (expected: a PooledBuffer)");
        } finally {
            blocks.close();
        }
    }

    @Test
    void aFailedVulkanCallShouldGetTheSameReasonFromTheManagerAndTheBlockPools() {
        // Both facades map a VulkanException through this one table (the block pools' own out-of-memory comes as a
        // PoolException instead); lavapipe cannot be made to fail with these results, so the table is checked here.
        assertThat(MemoryAllocationException.reasonOf("VK_ERROR_OUT_OF_DEVICE_MEMORY"))
                .isEqualTo(MemoryAllocationException.Reason.OUT_OF_DEVICE_MEMORY);
        assertThat(MemoryAllocationException.reasonOf("VK_ERROR_OUT_OF_HOST_MEMORY"))
                .isEqualTo(MemoryAllocationException.Reason.OUT_OF_HOST_MEMORY);
        assertThat(MemoryAllocationException.reasonOf("VK_ERROR_TOO_MANY_OBJECTS"))
                .isEqualTo(MemoryAllocationException.Reason.TOO_MANY_OBJECTS);
        assertThat(MemoryAllocationException.reasonOf("VK_ERROR_FEATURE_NOT_PRESENT"))
                .isEqualTo(MemoryAllocationException.Reason.NO_COMPATIBLE_MEMORY_TYPE);
        assertThat(MemoryAllocationException.reasonOf("VK_ERROR_DEVICE_LOST"))
                .isEqualTo(MemoryAllocationException.Reason.VULKAN_ERROR);
    }

    @Test
    void aPoolFailureFromAVulkanCallShouldGetThatCallsReasonUnlessTheDeviceRanOutOfMemory() {
        // SOL's pools report a block the driver could not make as the nearest pool kind; every facade gives it the
        // reason of the Vulkan call's result instead, as the manager does. Lavapipe cannot be made to fail so.
        assertThat(MemoryAllocationException.reasonOf(new PoolException(PoolException.Kind.OUT_OF_DEVICE_MEMORY,
                "VK_ERROR_OUT_OF_HOST_MEMORY", "block", null)))
                .isEqualTo(MemoryAllocationException.Reason.OUT_OF_HOST_MEMORY);
        assertThat(MemoryAllocationException.reasonOf(new PoolException(PoolException.Kind.OUT_OF_POOL_MEMORY,
                "VK_ERROR_TOO_MANY_OBJECTS", "block", null)))
                .isEqualTo(MemoryAllocationException.Reason.TOO_MANY_OBJECTS);
        assertThat(MemoryAllocationException.reasonOf(new PoolException(PoolException.Kind.OUT_OF_POOL_MEMORY,
                "VK_ERROR_DEVICE_LOST", "block", null))).isEqualTo(MemoryAllocationException.Reason.VULKAN_ERROR);
        // Out of device memory keeps the pool's kind, which may say more (a never-allocate request the driver refuses).
        assertThat(MemoryAllocationException.reasonOf(new PoolException(PoolException.Kind.BLOCK_SIZE_EXCEEDED,
                "VK_ERROR_OUT_OF_DEVICE_MEMORY", "too large", null)))
                .isEqualTo(MemoryAllocationException.Reason.BLOCK_SIZE_EXCEEDED);
        for (PoolException.Kind kind : PoolException.Kind.values()) {
            assertThat(MemoryAllocationException.reasonOf(new PoolException(kind, null, "no call", null)).name())
                    .isEqualTo(kind.name());
        }
    }
}
