package io.github.solvk.memory.bench;

import static org.lwjgl.system.MemoryUtil.memGetLong;
import static org.lwjgl.system.MemoryUtil.memPutInt;
import static org.lwjgl.system.MemoryUtil.memPutLong;
import static org.lwjgl.system.MemoryUtil.nmemCalloc;
import static org.lwjgl.system.MemoryUtil.nmemFree;
import static org.lwjgl.util.vma.Vma.VMA_VIRTUAL_ALLOCATION_CREATE_STRATEGY_MIN_MEMORY_BIT;
import static org.lwjgl.util.vma.Vma.VMA_VIRTUAL_ALLOCATION_CREATE_STRATEGY_MIN_TIME_BIT;
import static org.lwjgl.util.vma.Vma.VMA_VIRTUAL_BLOCK_CREATE_LINEAR_ALGORITHM_BIT;
import static org.lwjgl.util.vma.Vma.nvmaCalculateVirtualBlockStatistics;
import static org.lwjgl.util.vma.Vma.nvmaClearVirtualBlock;
import static org.lwjgl.util.vma.Vma.nvmaCreateVirtualBlock;
import static org.lwjgl.util.vma.Vma.nvmaDestroyVirtualBlock;
import static org.lwjgl.util.vma.Vma.nvmaGetVirtualAllocationInfo;
import static org.lwjgl.util.vma.Vma.nvmaVirtualAllocate;
import static org.lwjgl.util.vma.Vma.nvmaVirtualFree;

import org.lwjgl.util.vma.VmaDetailedStatistics;
import org.lwjgl.util.vma.VmaStatistics;
import org.lwjgl.util.vma.VmaVirtualAllocationCreateInfo;
import org.lwjgl.util.vma.VmaVirtualAllocationInfo;
import org.lwjgl.util.vma.VmaVirtualBlockCreateInfo;

/**
 * VMA's virtual block through lwjgl-vma, made as cheap to call from Java as honestly possible.
 *
 * <p>The {@code VmaVirtualAllocationCreateInfo} and the two output slots (allocation handle, offset) are malloc'ed once
 * at construction; each {@link #allocate} writes size and alignment with two plain stores and calls the unchecked
 * {@code nvmaVirtualAllocate} JNI entry point directly: no {@code MemoryStack} push, no struct wrapper, no
 * {@code PointerBuffer} and no LWJGL argument checks on the hot path. That leaves the JNI transition itself and VMA's
 * own work. Every result is checked: {@code VK_SUCCESS} returns the handle, {@code VK_ERROR_OUT_OF_DEVICE_MEMORY}
 * returns 0, anything else throws.
 *
 * <p>Algorithms: the default (TLSF), the linear algorithm (a stack when frees come back in reverse), and the TLSF
 * allocation strategies MIN_TIME and MIN_MEMORY set per allocation.
 */
final class VmaVirtualBlock implements BenchAllocator {

    /** {@code VK_SUCCESS}. */
    private static final int VK_SUCCESS = 0;
    /** {@code VK_ERROR_OUT_OF_DEVICE_MEMORY}: what a virtual block answers when it is full. */
    private static final int VK_ERROR_OUT_OF_DEVICE_MEMORY = -2;

    /** Which of VMA's algorithms and strategies. */
    enum Algorithm {
        /** The default TLSF algorithm, default strategy. */
        TLSF(0, 0),
        /** TLSF, {@code VMA_VIRTUAL_ALLOCATION_CREATE_STRATEGY_MIN_TIME_BIT} on every allocation. */
        MIN_TIME(0, VMA_VIRTUAL_ALLOCATION_CREATE_STRATEGY_MIN_TIME_BIT),
        /** TLSF, {@code VMA_VIRTUAL_ALLOCATION_CREATE_STRATEGY_MIN_MEMORY_BIT} on every allocation. */
        MIN_MEMORY(0, VMA_VIRTUAL_ALLOCATION_CREATE_STRATEGY_MIN_MEMORY_BIT),
        /** {@code VMA_VIRTUAL_BLOCK_CREATE_LINEAR_ALGORITHM_BIT}: stack or ring; space comes back only at the ends. */
        LINEAR(VMA_VIRTUAL_BLOCK_CREATE_LINEAR_ALGORITHM_BIT, 0);

        final int blockFlags;
        final int allocationFlags;

        Algorithm(int blockFlags, int allocationFlags) {
            this.blockFlags = blockFlags;
            this.allocationFlags = allocationFlags;
        }
    }

    private static final long CI_SIZE = VmaVirtualAllocationCreateInfo.SIZE;
    private static final long CI_ALIGNMENT = VmaVirtualAllocationCreateInfo.ALIGNMENT;

    private final long regionSize;
    /** {@code VmaVirtualBlock}. */
    private long block;
    /** A malloc'ed {@code VmaVirtualAllocationCreateInfo}, flags set once. */
    private final long createInfo;
    /** Two malloc'ed 8-byte slots: {@code VmaVirtualAllocation} at +0 and the offset at +8. */
    private final long out;
    /** A malloc'ed {@code VmaVirtualAllocationInfo} or {@code VmaDetailedStatistics}, for the slow read-outs. */
    private final long scratch;

    /**
     * @param regionSize the virtual block's size in bytes
     * @param algorithm  which algorithm and strategy
     */
    VmaVirtualBlock(long regionSize, Algorithm algorithm) {
        this.regionSize = regionSize;
        long blockInfo = nmemCalloc(1, VmaVirtualBlockCreateInfo.SIZEOF);
        long pBlock = nmemCalloc(1, 8);
        try {
            memPutLong(blockInfo + VmaVirtualBlockCreateInfo.SIZE, regionSize);
            memPutInt(blockInfo + VmaVirtualBlockCreateInfo.FLAGS, algorithm.blockFlags);
            int result = nvmaCreateVirtualBlock(blockInfo, pBlock);
            if (result != VK_SUCCESS) {
                throw new IllegalStateException("vmaCreateVirtualBlock: " + result + " (expected: VK_SUCCESS)");
            }
            block = memGetLong(pBlock);
        } finally {
            nmemFree(pBlock);
            nmemFree(blockInfo);
        }
        createInfo = nmemCalloc(1, VmaVirtualAllocationCreateInfo.SIZEOF);
        memPutInt(createInfo + VmaVirtualAllocationCreateInfo.FLAGS, algorithm.allocationFlags);
        out = nmemCalloc(2, 8);
        scratch = nmemCalloc(1, Math.max(VmaDetailedStatistics.SIZEOF, VmaVirtualAllocationInfo.SIZEOF));
    }

    @Override
    public long allocate(long size, long alignment) {
        memPutLong(createInfo + CI_SIZE, size);
        memPutLong(createInfo + CI_ALIGNMENT, alignment);
        int result = nvmaVirtualAllocate(block, createInfo, out, out + 8);
        if (result == VK_SUCCESS) {
            return memGetLong(out);
        }
        if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
            return 0;
        }
        throw new IllegalStateException("vmaVirtualAllocate(size " + size + ", alignment " + alignment + "): "
                + result + " (expected: VK_SUCCESS or VK_ERROR_OUT_OF_DEVICE_MEMORY)");
    }

    /** @return the offset that the last successful {@link #allocate} got, with no native call */
    long lastOffset() {
        return memGetLong(out + 8);
    }

    @Override
    public void free(long handle) {
        nvmaVirtualFree(block, handle);
    }

    @Override
    public void reset() {
        nvmaClearVirtualBlock(block);
    }

    @Override
    public long offset(long handle) {
        nvmaGetVirtualAllocationInfo(block, handle, scratch);
        return memGetLong(scratch + VmaVirtualAllocationInfo.OFFSET);
    }

    @Override
    public long largestFreeRange() {
        nvmaCalculateVirtualBlockStatistics(block, scratch);
        return memGetLong(scratch + VmaDetailedStatistics.UNUSEDRANGESIZEMAX);
    }

    @Override
    public long freeBytes() {
        nvmaCalculateVirtualBlockStatistics(block, scratch);
        long stats = scratch + VmaDetailedStatistics.STATISTICS;
        return memGetLong(stats + VmaStatistics.BLOCKBYTES) - memGetLong(stats + VmaStatistics.ALLOCATIONBYTES);
    }

    /** @return the virtual block's size */
    long regionSize() {
        return regionSize;
    }

    @Override
    public void close() {
        if (block != 0) {
            // A virtual block must be empty when destroyed; benchmarks may stop with allocations live.
            nvmaClearVirtualBlock(block);
            nvmaDestroyVirtualBlock(block);
            block = 0;
            nmemFree(createInfo);
            nmemFree(out);
            nmemFree(scratch);
        }
    }
}
