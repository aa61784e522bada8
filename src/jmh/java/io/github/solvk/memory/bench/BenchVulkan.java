package io.github.solvk.memory.bench;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.util.vma.Vma.VMA_MEMORY_USAGE_AUTO;
import static org.lwjgl.util.vma.Vma.vmaCreateBuffer;
import static org.lwjgl.util.vma.Vma.vmaDestroyBuffer;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_SHARING_MODE_EXCLUSIVE;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.VK_SUCCESS;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.util.vma.VmaAllocationCreateInfo;
import org.lwjgl.vulkan.VkBufferCreateInfo;

import io.github.solvk.memory.pool.AllocatePreference;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.pool.BlockRequest;
import io.github.solvk.memory.pool.MemoryTypeFilter;
import io.github.solvk.memory.pool.MemoryTypeSelector;
import io.github.solvk.memory.vulkan.MemoryProperties;
import io.github.solvk.memory.vulkan.VulkanContext;

/** Shared pieces of the device benchmarks: the usage, the filter, raw VMA buffer calls. */
final class BenchVulkan {

    /** The usage every benchmark buffer gets. */
    static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
            | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    /** Device-local preferred, as a mesh or storage buffer would ask. */
    static final MemoryTypeFilter FILTER = MemoryTypeFilter.ofFlags(0, MemoryProperties.DEVICE_LOCAL, 0);

    private BenchVulkan() {
    }

    static BlockRequest request(long size, BlockPoolAllocator.BufferMode mode) {
        return new BlockRequest(size, USAGE, FILTER, AllocatePreference.UNKNOWN, 0, null, mode);
    }

    /**
     * The memory type that the pools (and VMA, for these buffers) bind a benchmark buffer to: {@link #FILTER} over
     * the types the buffer allows, as {@link MemoryTypeSelector} picks. The raw Vulkan contenders (N, dedicated, the
     * buffer layer) must use it too: the lowest allowed index is no stand-in, since on NVIDIA type 0 is system memory
     * with no property flags (heap 1 of the H200's recorded layout), where the pools and VMA use type 1, device-local.
     *
     * @param context        the device
     * @param memoryTypeBits a probe buffer's {@code VkMemoryRequirements::memoryTypeBits}
     * @return the memory type index
     */
    static int memoryType(VulkanContext context, int memoryTypeBits) {
        int type = MemoryTypeSelector.findMemoryTypeIndex(context.memoryProperties(), memoryTypeBits, FILTER);
        if (type < 0) {
            throw new IllegalStateException("no memory type in 0x" + Integer.toHexString(memoryTypeBits)
                    + " (expected: one that " + FILTER + " accepts)");
        }
        return type;
    }

    static void check(int result, String call) {
        if (result != VK_SUCCESS) {
            throw new IllegalStateException(call + " failed: " + result + " (expected: VK_SUCCESS)");
        }
    }

    /** {@code vmaCreateBuffer} with {@code VMA_MEMORY_USAGE_AUTO}; writes {@code {buffer, allocation}} to out. */
    static void vmaCreate(long vma, long size, long[] out) {
        try (MemoryStack stack = stackPush()) {
            var pBuffer = stack.mallocLong(1);
            PointerBuffer pAllocation = stack.mallocPointer(1);
            check(vmaCreateBuffer(vma, VkBufferCreateInfo.calloc(stack)
                            .sType(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO).size(size).usage(USAGE)
                            .sharingMode(VK_SHARING_MODE_EXCLUSIVE),
                    VmaAllocationCreateInfo.calloc(stack).usage(VMA_MEMORY_USAGE_AUTO), pBuffer, pAllocation, null),
                    "vmaCreateBuffer");
            out[0] = pBuffer.get(0);
            out[1] = pAllocation.get(0);
        }
    }

    static void vmaDestroy(long vma, long buffer, long allocation) {
        vmaDestroyBuffer(vma, buffer, allocation);
    }
}
