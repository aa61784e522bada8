package io.github.solvk.memory.pool;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * How a test makes freeing device memory fail: a {@code DeviceMemoryListener} whose {@code freed} calls throw. VMA
 * calls its listeners before {@code vkFreeMemory} and frees the memory all the same; a listener's
 * {@code RuntimeException} is logged and ignored, but an {@code Error} comes out of {@code vmaFreeMemory}. Making it
 * fail likewise: one whose {@code allocated} call throws, which VMA calls once {@code vkAllocateMemory} succeeded.
 */
public final class FailingListeners {

    private FailingListeners() {
    }

    /** Makes the {@code n}th {@code freed} call (from 1) of a listener added now throw {@code error}. */
    public static void failFreedCall(VulkanMemoryAllocator vma, int n, Error error) {
        Error[] errors = new Error[n];
        errors[n - 1] = error;
        failFreedCalls(vma, errors);
    }

    /**
     * Makes the {@code n}th {@code allocated} call (from 1) of a listener added now throw {@code error}: the memory is
     * made all the same, and the {@code Error} comes out of the VMA call that made it.
     */
    public static void failAllocatedCall(VulkanMemoryAllocator vma, int n, Error error) {
        AtomicInteger calls = new AtomicInteger();
        vma.addDeviceMemoryListener(new VulkanMemoryAllocator.DeviceMemoryListener() {
            @Override
            public void allocated(int memoryTypeIndex, long memory, long size) {
                if (calls.incrementAndGet() == n) {
                    throw error;
                }
            }

            @Override
            public void freed(int memoryTypeIndex, long memory, long size) {
            }
        });
    }

    /**
     * Makes a listener added now throw {@code errors[i - 1]} from its {@code i}th {@code freed} call (from 1) where
     * there is one and it is not {@code null}.
     */
    public static void failFreedCalls(VulkanMemoryAllocator vma, Error... errors) {
        Error[] planned = Arrays.copyOf(errors, errors.length);
        AtomicInteger calls = new AtomicInteger();
        vma.addDeviceMemoryListener(new VulkanMemoryAllocator.DeviceMemoryListener() {
            @Override
            public void allocated(int memoryTypeIndex, long memory, long size) {
            }

            @Override
            public void freed(int memoryTypeIndex, long memory, long size) {
                int call = calls.incrementAndGet();
                if (call <= planned.length && planned[call - 1] != null) {
                    throw planned[call - 1];
                }
            }
        });
    }

    /**
     * Runs {@code action} from the first {@code allocated} call of a listener added now, inside the VMA call that
     * made the memory, and keeps what it threw.
     *
     * @return where what {@code action} threw is kept (element 0), or {@code null} there when it threw nothing
     */
    public static Throwable[] onFirstAllocated(VulkanMemoryAllocator vma, Runnable action) {
        Throwable[] thrown = new Throwable[1];
        AtomicInteger calls = new AtomicInteger();
        vma.addDeviceMemoryListener(new VulkanMemoryAllocator.DeviceMemoryListener() {
            @Override
            public void allocated(int memoryTypeIndex, long memory, long size) {
                if (calls.incrementAndGet() == 1) {
                    try {
                        action.run();
                    } catch (Throwable t) {
                        thrown[0] = t;
                    }
                }
            }

            @Override
            public void freed(int memoryTypeIndex, long memory, long size) {
            }
        });
        return thrown;
    }
}
