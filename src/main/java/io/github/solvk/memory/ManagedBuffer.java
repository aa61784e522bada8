package io.github.solvk.memory;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import io.github.solvk.memory.diagnostics.LeakDetector;
import io.github.solvk.memory.vulkan.VulkanBuffer;

/**
 * The {@link IBuffer} that allocators hand out: a {@link VulkanBuffer} (owned, or a borrowed sub-range of a pool's
 * block) plus the action that gives it back to its allocator, run once by the first {@link #close()}.
 */
final class ManagedBuffer implements IBuffer {

    private final VulkanBuffer buffer;
    private final IBufferAllocator allocator;
    private final String name;
    private final Consumer<ManagedBuffer> release;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final LeakDetector.Tracker leakTracker;

    /** Reports buffers collected without close(), at the level of {@value LeakDetector#LEVEL_PROPERTY}. */
    static final LeakDetector<IBuffer> LEAKS = new LeakDetector<>(IBuffer.class);

    ManagedBuffer(VulkanBuffer buffer, IBufferAllocator allocator, String name, Consumer<ManagedBuffer> release) {
        this.buffer = Objects.requireNonNull(buffer, "buffer");
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        this.name = name;
        this.release = Objects.requireNonNull(release, "release");
        // The description is built before tracking and holds no reference to this buffer.
        this.leakTracker = LEAKS.track(this, "buffer " + describe() + " from " + allocatorName(allocator));
    }

    private static String allocatorName(IBufferAllocator allocator) {
        if (allocator instanceof IMemoryPool pool) {
            return "pool '" + pool.name() + "'";
        }
        if (allocator instanceof BlockPoolBufferAllocator blocks) {
            return "block pools '" + blocks.name() + "'";
        }
        return "the MemoryManager";
    }

    /** @return this buffer's leak tracker, or null when leak detection does not track it */
    LeakDetector.Tracker leakTracker() {
        return leakTracker;
    }

    VulkanBuffer vulkanBuffer() {
        return buffer;
    }

    private VulkanBuffer open() {
        if (closed.get()) {
            throw new IllegalStateException("buffer " + describe() + " is closed (expected: an open buffer)");
        }
        return buffer;
    }

    String describe() {
        return (name != null ? "'" + name + "' " : "") + "of " + buffer.size() + " bytes";
    }

    @Override
    public long buffer() {
        return open().buffer();
    }

    @Override
    public long offset() {
        return open().offset();
    }

    @Override
    public long size() {
        return buffer.size();
    }

    @Override
    public int memoryTypeIndex() {
        return open().memoryTypeIndex();
    }

    @Override
    public int memoryPropertyFlags() {
        return open().memoryPropertyFlags();
    }

    @Override
    public boolean isHostVisible() {
        return open().isHostVisible();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public IBufferAllocator allocator() {
        return allocator;
    }

    @Override
    public ByteBuffer map() {
        return open().map();
    }

    @Override
    public long mappedAddress() {
        return open().mappedAddress();
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        open().write(offset, src);
    }

    @Override
    public void write(long offset, byte[] src) {
        open().write(offset, src);
    }

    @Override
    public void write(long offset, int[] src) {
        open().write(offset, src);
    }

    @Override
    public void write(long offset, float[] src) {
        open().write(offset, src);
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        open().read(offset, dst);
    }

    @Override
    public void read(long offset, byte[] dst) {
        open().read(offset, dst);
    }

    @Override
    public void read(long offset, int[] dst) {
        open().read(offset, dst);
    }

    @Override
    public void read(long offset, float[] dst) {
        open().read(offset, dst);
    }

    @Override
    public void flush(long offset, long length) {
        open().flush(offset, length);
    }

    @Override
    public void invalidate(long offset, long length) {
        open().invalidate(offset, length);
    }

    @Override
    public long deviceAddress() {
        return open().deviceAddress();
    }

    @Override
    public boolean isClosed() {
        // Also closed when its pool or manager was closed under it.
        return closed.get() || buffer.isClosed();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            if (leakTracker != null) {
                leakTracker.close();
            }
            release.accept(this);
        }
    }

    @Override
    public String toString() {
        return "IBuffer[" + describe() + ", " + buffer + "]";
    }
}
