package io.github.solvk.memory.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import io.github.solvk.memory.vulkan.VulkanBuffer;

/**
 * A buffer placed by a pool: a {@link VulkanBuffer} (a sub-range of a block-wide buffer, or a buffer of its own bound
 * into a block, or a dedicated block) and the action that gives its range back to the pool.
 *
 * <p>{@link #release()} runs that action once, whichever thread calls first; the facade's {@code IBuffer} calls it
 * from {@code close()}. Sealed: the one subclass is how a {@link BlockMemoryPool} lists its live buffers without an
 * object beside each.
 */
public sealed class PooledBuffer permits BlockMemoryPool.Placed {

    /** Sets {@link #released} once; a field of this object rather than an {@code AtomicBoolean} beside it. */
    private static final VarHandle RELEASED;

    static {
        try {
            RELEASED = MethodHandles.lookup().findVarHandle(PooledBuffer.class, "released", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Gives a placed range back to its pool. */
    @FunctionalInterface
    public interface Releaser {
        /**
         * @param buffer the buffer being released; its view is already closed, so use {@link #handle()}
         */
        void release(PooledBuffer buffer);
    }

    private final VulkanBuffer buffer;
    /** Gives the range back: a block pool's {@link PoolBlock}, which is also its {@link #pool()}. */
    private final Releaser releaser;
    private volatile boolean released;
    /** The range it holds in a {@link BlockPoolAllocator}'s block; {@code null} for other pools' buffers. */
    RangeSlot slot;
    /** {@link RangeSlotFields#cacheBin} of {@link #slot}, copied so that a release need not read the slot. */
    int cacheBin;
    /** The log2 of {@link #slot}'s alignment, copied for the same reason. */
    byte alignmentLog2;
    /**
     * The inbox of the thread cache that handed {@link #slot} out, where a release on another thread sends the range
     * back ({@link ThreadRangeCache#offer}); {@code null} when the range is never cached.
     */
    ThreadRangeCache.Inbox home;

    /**
     * A pooled buffer. A block pool's has its {@link #slot} set before it is handed out, and its releaser (its
     * {@link PoolBlock}) is its pool; what one of SOL's pools adds (its pool, handle and guard margin) is in
     * {@link BlockMemoryPool.Placed}, so that a block pool's buffer holds only what its release needs (40 bytes).
     *
     * @param buffer   the placed buffer
     * @param releaser gives the range back
     */
    PooledBuffer(VulkanBuffer buffer, Releaser releaser) {
        this.buffer = Objects.requireNonNull(buffer, "buffer");
        this.releaser = Objects.requireNonNull(releaser, "releaser");
    }

    /** @return the placed buffer */
    public final VulkanBuffer buffer() {
        return buffer;
    }

    /** @return the guard margin right after the buffer, or {@code null} when the pool has none */
    public final VulkanBuffer margin() {
        return this instanceof BlockMemoryPool.Placed p ? p.margin : null;
    }

    /** @return the pool that placed it: a block pool's block, or one of SOL's pools */
    public final Object pool() {
        return this instanceof BlockMemoryPool.Placed p ? p.pool : releaser;
    }

    /** @return the pool's handle for the range (a suballocator handle, or 0 for dedicated memory) */
    public final long handle() {
        return this instanceof BlockMemoryPool.Placed p ? p.handle : slot.handle;
    }

    /** @return whether {@link #release()} has run */
    public final boolean isReleased() {
        return released;
    }

    /** Closes the buffer view, then gives the range back to the pool; only the first call does anything. */
    public final void release() {
        if (RELEASED.compareAndSet(this, false, true)) {
            // Destroy the buffer view before its range can be handed out again.
            try {
                buffer.close();
                VulkanBuffer margin = margin();
                if (margin != null) {
                    margin.close();
                }
            } finally {
                releaser.release(this);
            }
        }
    }
}
