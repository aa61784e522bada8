package io.github.solvk.memory.pool;

import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/** What the block-pool tests share: a usage, sizes, a filter that takes any type, and small helpers. */
final class BlockPoolTesting {

    static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
            | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;
    /** Anything goes: lavapipe has one memory type. */
    static final MemoryTypeFilter ANY = MemoryTypeFilter.ofFlags(0, 0, 0);

    private BlockPoolTesting() {
    }

    /** @return a config builder with {@code blockSize} on every heap of the device */
    static BlockPoolAllocator.Config.Builder config(VulkanContext context, long blockSize) {
        BlockPoolAllocator.Config.Builder builder = BlockPoolAllocator.Config.builder();
        for (int heap = 0; heap < context.memoryProperties().heaps().size(); heap++) {
            builder.blockSize(heap, blockSize);
        }
        return builder;
    }

    static VulkanMemoryAllocator vma(VulkanContext context) {
        return VulkanMemoryAllocator.create(VulkanMemoryAllocator.Settings.forContext(context));
    }

    /** @return a VMA allocator whose every heap is limited to {@code heapLimit} bytes */
    static VulkanMemoryAllocator vma(VulkanContext context, long heapLimit) {
        long[] limits = new long[context.memoryProperties().heaps().size()];
        Arrays.fill(limits, heapLimit);
        return VulkanMemoryAllocator.create(VulkanMemoryAllocator.Settings.forContext(context)
                .withHeapSizeLimits(limits));
    }

    static BlockRequest request(long size) {
        return BlockRequest.of(size, USAGE, ANY);
    }

    /** Releases a buffer on another thread and waits for it. */
    static void releaseOn(ExecutorService thread, PooledBuffer buffer) throws Exception {
        on(thread, () -> {
            buffer.release();
            return null;
        });
    }

    /** Makes {@code count} buffers of {@code size} bytes on the executor's thread, as a loader thread would. */
    static List<PooledBuffer> allocateOn(ExecutorService thread, BlockPoolAllocator pool, int count, long size)
            throws Exception {
        return on(thread, () -> {
            List<PooledBuffer> made = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                made.add(pool.allocate(request(size)));
            }
            return made;
        });
    }

    /** Releases buffers, in order, on the executor's thread. */
    static void releaseOn(ExecutorService thread, List<PooledBuffer> buffers) throws Exception {
        on(thread, () -> {
            buffers.forEach(PooledBuffer::release);
            return null;
        });
    }

    /** Runs a task on a thread of one's own and waits for it, rethrowing what it threw. */
    static <T> T on(ExecutorService thread, Callable<T> task) throws Exception {
        try {
            return thread.submit(task).get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }
}
