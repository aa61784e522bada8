package io.github.solvk.memory.pool;

import java.util.Collection;

import io.github.solvk.memory.suballocator.Suballocator;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanMemory;

/**
 * One {@code VkDeviceMemory} of a {@link TypeBlockPool}: a block that a suballocator shares out, or dedicated memory
 * that holds one buffer. It is the {@link PooledBuffer#pool()} and the {@link PooledBuffer.Releaser} of every buffer
 * placed in it, so a release finds its block without a look-up.
 *
 * <p>Every field but {@link #memory}, {@link #pool} and {@link #arena} is guarded by its arena's lock (dedicated
 * memory: the pool's dedicated lock).
 */
final class PoolBlock implements PooledBuffer.Releaser {

    final TypeBlockPool pool;
    /**
     * The arena whose lock guards this block and whose list holds it; {@code null} for dedicated memory. It changes
     * only while the block is empty, under both arenas' locks ({@code TypeBlockPool.adoptEmptyBlock}), so whoever
     * holds one of its ranges reads the right arena.
     */
    volatile TypeBlockPool.Arena arena;
    final VulkanMemory memory;
    /** Shares the block out; {@code null} for dedicated memory. */
    final Suballocator suballocator;
    /** The block-wide buffer that sub-ranges borrow, made on the first sub-range; {@code null} until then. */
    VulkanBuffer blockBuffer;
    /**
     * The first of the live buffers (dedicated memory: its one buffer), linked through
     * {@link PooledBuffer#liveNext} and {@link PooledBuffer#livePrev}; {@code null} when none.
     */
    private PooledBuffer liveHead;
    /** The number of buffers in that list. */
    private int liveBuffers;

    PoolBlock(TypeBlockPool pool, TypeBlockPool.Arena arena, VulkanMemory memory, Suballocator suballocator) {
        this.pool = pool;
        this.arena = arena;
        this.memory = memory;
        this.suballocator = suballocator;
    }

    boolean isDedicated() {
        return suballocator == null;
    }

    /** @return whether no range is taken: a reserved range whose buffer is still being made counts as taken */
    boolean isEmpty() {
        return suballocator != null ? suballocator.liveCount() == 0 : liveBuffers == 0;
    }

    /** Adds a live buffer to the list; O(1), the lock is held. */
    void link(PooledBuffer buffer) {
        PooledBuffer head = liveHead;
        buffer.livePrev = null;
        buffer.liveNext = head;
        if (head != null) {
            head.livePrev = buffer;
        }
        liveHead = buffer;
        liveBuffers++;
    }

    /** Takes a buffer out of the list; O(1), does nothing for one not in it; the lock is held. */
    void unlink(PooledBuffer buffer) {
        PooledBuffer prev = buffer.livePrev;
        PooledBuffer next = buffer.liveNext;
        if (prev == null && liveHead != buffer) {
            return;
        }
        if (prev != null) {
            prev.liveNext = next;
        } else {
            liveHead = next;
        }
        if (next != null) {
            next.livePrev = prev;
        }
        buffer.livePrev = null;
        buffer.liveNext = null;
        liveBuffers--;
    }

    /** @return the number of live buffers in the list; the lock is held */
    int liveBufferCount() {
        return liveBuffers;
    }

    /** Adds every live buffer to {@code into}; the lock is held. */
    void addLiveBuffersTo(Collection<PooledBuffer> into) {
        for (PooledBuffer b = liveHead; b != null; b = b.liveNext) {
            into.add(b);
        }
    }

    @Override
    public void release(PooledBuffer buffer) {
        pool.release(this, buffer);
    }

    @Override
    public String toString() {
        return (isDedicated() ? "dedicated " : "block ") + memory + ", " + liveBuffers + " live";
    }
}
