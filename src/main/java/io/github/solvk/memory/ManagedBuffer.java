package io.github.solvk.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.Consumer;

import io.github.solvk.memory.diagnostics.LeakDetector;
import io.github.solvk.memory.pool.PooledBuffer;
import io.github.solvk.memory.vulkan.VulkanBuffer;

/**
 * The {@link IBuffer} that allocators hand out: a {@link VulkanBuffer} (owned, or a borrowed sub-range of a pool's
 * block) plus the action that gives it back to its allocator, run once by the first {@link #close()}.
 */
final class ManagedBuffer implements IBuffer {

    /**
     * Gives a pool's buffer back: one object per allocator, so a pooled buffer carries no release action of its own.
     */
    @FunctionalInterface
    interface PooledRelease {
        /** @param placed the pool's buffer behind a closed {@code IBuffer} */
        void release(PooledBuffer placed);
    }

    /** Sets {@link #closed} once; a field of this object rather than an {@code AtomicBoolean} beside it. */
    private static final VarHandle CLOSED;

    static {
        try {
            CLOSED = MethodHandles.lookup().findVarHandle(ManagedBuffer.class, "closed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final VulkanBuffer buffer;
    private final IBufferAllocator allocator;
    private final String name;
    /** The release action of a buffer that is not a pool's; {@code null} for a pool's. */
    private final Consumer<ManagedBuffer> release;
    /** A pool's buffer and its allocator's release; {@code null} for other buffers. */
    private final PooledBuffer placed;
    private final PooledRelease pooledRelease;
    private volatile boolean closed;
    private final LeakDetector.Tracker leakTracker;

    /** Reports buffers collected without close(), at the level of {@value LeakDetector#LEVEL_PROPERTY}. */
    static final LeakDetector<IBuffer> LEAKS = new LeakDetector<>(IBuffer.class);

    ManagedBuffer(VulkanBuffer buffer, IBufferAllocator allocator, String name, Consumer<ManagedBuffer> release) {
        this.buffer = Objects.requireNonNull(buffer, "buffer");
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        this.name = name;
        this.release = Objects.requireNonNull(release, "release");
        this.placed = null;
        this.pooledRelease = null;
        // The description is built before tracking, only when tracked, and holds no reference to this buffer.
        this.leakTracker = LEAKS.track(this, ManagedBuffer::leakDescription);
    }

    /**
     * A pool's buffer: {@code close()} calls {@code release.release(placed)}.
     *
     * @param placed    the pool's buffer; its view is what this buffer shows
     * @param allocator the facade object that placed it
     * @param name      the buffer's name, or {@code null}
     * @param release   the allocator's release, shared by all its buffers
     */
    ManagedBuffer(PooledBuffer placed, IBufferAllocator allocator, String name, PooledRelease release) {
        this.buffer = placed.buffer();
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        this.name = name;
        this.release = null;
        this.placed = placed;
        this.pooledRelease = Objects.requireNonNull(release, "release");
        this.leakTracker = LEAKS.track(this, ManagedBuffer::leakDescription);
        if (leakTracker != null) {
            // The pool releases what is still open when it closes: that memory is freed, not leaked.
            leakTracker.freedWhen(placed::isReleased);
        }
    }

    private static String leakDescription(IBuffer buffer) {
        ManagedBuffer b = (ManagedBuffer) buffer;
        return "buffer " + b.describe() + " from " + allocatorName(b.allocator);
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
        if (closed) {
            throw new IllegalStateException("buffer " + describe() + " is closed (expected: an open buffer)");
        }
        if (buffer.isClosed()) {
            // Closed under it: its pool was destroyed, or its manager closed.
            throw new IllegalStateException("buffer " + describe() + " is closed, freed by the close of "
                    + allocatorName(allocator) + " (expected: an open buffer)");
        }
        return buffer;
    }

    String describe() {
        return describe(name, buffer.size());
    }

    /** @return how a buffer of this name and size is described in messages: {@code 'name' of N bytes} */
    static String describe(String name, long size) {
        return (name != null ? "'" + name + "' " : "") + "of " + size + " bytes";
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
        return closed || buffer.isClosed();
    }

    @Override
    public void close() {
        if (CLOSED.compareAndSet(this, false, true)) {
            if (leakTracker != null) {
                leakTracker.close();
            }
            if (placed != null) {
                pooledRelease.release(placed);
            } else {
                release.accept(this);
            }
        }
    }

    @Override
    public String toString() {
        return "IBuffer[" + describe() + ", " + buffer + "]";
    }
}
