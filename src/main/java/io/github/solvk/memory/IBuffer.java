package io.github.solvk.memory;

import java.nio.ByteBuffer;

/**
 * A buffer handed out by an {@link IBufferAllocator}: a range {@code [offset(), offset() + size())} of a
 * {@code VkBuffer}, SOL's {@code IBuffer}.
 *
 * <p>It hides who owns the underlying {@code VkBuffer}: the range may be a buffer of its own or a part of a pool's
 * block buffer; either way {@link #close()} gives it back to the allocator that made it, which is how pools enforce
 * their order of frees. Bind and copy with {@link #buffer()} and {@link #offset()}.
 *
 * <p>Ownership: {@code close()} frees exactly once and is thread-safe (the first caller frees, later calls do
 * nothing); every other method throws {@link IllegalStateException} after close, except {@link #isClosed()},
 * {@link #size()}, {@link #name()} and {@link #allocator()}, which describe the buffer rather than use it.
 */
public interface IBuffer extends AutoCloseable {

    /** @return the {@code VkBuffer} handle */
    long buffer();

    /** @return where this range starts in {@link #buffer()}, in bytes */
    long offset();

    /** @return the range's size in bytes: the size that was asked for */
    long size();

    /** @return the memory type the buffer's memory comes from */
    int memoryTypeIndex();

    /** @return that memory type's {@code VkMemoryPropertyFlags} */
    int memoryPropertyFlags();

    /** @return whether the memory is {@code HOST_VISIBLE}, so {@link #map()} works */
    boolean isHostVisible();

    /** @return the name given at allocation, or {@code null} */
    String name();

    /**
     * @return the allocator that made this buffer and takes it back on close; still answers after close, so that a
     *         closed buffer can be traced to where it came from
     */
    IBufferAllocator allocator();

    /**
     * Maps the memory and returns a native-order view of this range. The mapping stays until close.
     *
     * @return a buffer of {@link #size()} bytes
     * @throws IllegalStateException when the memory is not host-visible or the range exceeds 2 GiB
     */
    ByteBuffer map();

    /**
     * @return the host address of this range's first byte, mapping the memory if needed
     * @throws IllegalStateException when the memory is not host-visible
     */
    long mappedAddress();

    /**
     * Copies {@code src}'s remaining bytes to {@code offset} in this range (position unchanged), flushing on memory
     * that is not host-coherent.
     *
     * @param offset offset in this range
     * @param src    the bytes
     * @throws IllegalArgumentException when they would pass the end
     */
    void write(long offset, ByteBuffer src);

    /**
     * Copies {@code src} to {@code offset} in this range, flushing on non-coherent memory.
     *
     * @param offset offset in this range
     * @param src    the bytes
     * @throws IllegalArgumentException when they would pass the end
     */
    void write(long offset, byte[] src);

    /**
     * Copies {@code src} in native order to {@code offset} (bytes) in this range, flushing on non-coherent memory.
     *
     * @param offset offset in this range
     * @param src    the values
     * @throws IllegalArgumentException when they would pass the end
     */
    void write(long offset, int[] src);

    /**
     * Copies {@code src} in native order to {@code offset} (bytes) in this range, flushing on non-coherent memory.
     *
     * @param offset offset in this range
     * @param src    the values
     * @throws IllegalArgumentException when they would pass the end
     */
    void write(long offset, float[] src);

    /**
     * Copies bytes at {@code offset} into {@code dst}'s remaining space (position unchanged), invalidating first on
     * non-coherent memory.
     *
     * @param offset offset in this range
     * @param dst    receives the bytes
     * @throws IllegalArgumentException when the range would pass the end, or {@code dst} is read-only
     */
    void read(long offset, ByteBuffer dst);

    /**
     * Copies bytes at {@code offset} into {@code dst}, invalidating first on non-coherent memory.
     *
     * @param offset offset in this range
     * @param dst    receives the bytes
     * @throws IllegalArgumentException when the range would pass the end
     */
    void read(long offset, byte[] dst);

    /**
     * Copies native-order values at {@code offset} (bytes) into {@code dst}.
     *
     * @param offset offset in this range
     * @param dst    receives the values
     * @throws IllegalArgumentException when the range would pass the end
     */
    void read(long offset, int[] dst);

    /**
     * Copies native-order values at {@code offset} (bytes) into {@code dst}.
     *
     * @param offset offset in this range
     * @param dst    receives the values
     * @throws IllegalArgumentException when the range would pass the end
     */
    void read(long offset, float[] dst);

    /**
     * Makes host writes visible to the device; a no-op on host-coherent memory. Ranges are widened to
     * {@code nonCoherentAtomSize}.
     *
     * @param offset offset in this range
     * @param length bytes
     * @throws IllegalArgumentException when the range is negative or would pass the end
     * @throws io.github.solvk.memory.vulkan.VulkanException when the driver's flush fails, naming its
     *                                                        {@code VkResult}
     */
    void flush(long offset, long length);

    /**
     * Makes device writes visible to the host; a no-op on host-coherent memory. Ranges are widened to
     * {@code nonCoherentAtomSize}.
     *
     * @param offset offset in this range
     * @param length bytes
     * @throws IllegalArgumentException when the range is negative or would pass the end
     * @throws io.github.solvk.memory.vulkan.VulkanException when the driver's invalidate fails, naming its
     *                                                        {@code VkResult}
     */
    void invalidate(long offset, long length);

    /**
     * @return the device address of this range's first byte
     * @throws IllegalStateException when the buffer was not made with
     *                               {@code VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT} on a device with it enabled
     */
    long deviceAddress();

    /** @return whether {@link #close()} has run */
    boolean isClosed();

    /** Gives the buffer back to its allocator. Only the first call, from any thread, does anything. */
    @Override
    void close();
}
