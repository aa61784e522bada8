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
 *
 * <p><b>Layout.</b> Every buffer handed out from a thread's cache reads the block ({@link #memory},
 * {@link #blockBuffer}), and every range listed or unlisted writes it ({@link #liveHead}); threads that share ranges
 * (buffers freed by another thread) do both on different cores. The read part ({@link PoolBlockFields}) sits 128 bytes
 * before the written part ({@link PoolBlockPad}), so that a write does not take it away from the readers' caches.
 */
final class PoolBlock extends PoolBlockPad implements PooledBuffer.Releaser {

    /**
     * The first of the placed ranges (dedicated memory: its one buffer's), linked through {@link RangeSlot#liveNext}
     * and {@link RangeSlot#livePrev}; {@code null} when none. A range stays listed while a thread's cache keeps it.
     */
    private RangeSlot liveHead;
    /** The number of ranges in that list. */
    private int liveRanges;

    PoolBlock(TypeBlockPool pool, TypeBlockPool.Arena arena, VulkanMemory memory, Suballocator suballocator) {
        super(pool, arena, memory, suballocator);
    }

    boolean isDedicated() {
        return suballocator == null;
    }

    /** @return whether no range is taken: a reserved range whose buffer is still being made counts as taken */
    boolean isEmpty() {
        return suballocator != null ? suballocator.liveCount() == 0 : liveRanges == 0;
    }

    /** Adds a placed range to the list; O(1), the lock is held. */
    void link(RangeSlot slot) {
        RangeSlot head = liveHead;
        slot.livePrev = null;
        slot.liveNext = head;
        if (head != null) {
            head.livePrev = slot;
        }
        liveHead = slot;
        liveRanges++;
    }

    /** Takes a range out of the list when its memory is given back; O(1), nothing for one not in it; locked. */
    void unlink(RangeSlot slot) {
        RangeSlot prev = slot.livePrev;
        RangeSlot next = slot.liveNext;
        if (prev == null && liveHead != slot) {
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
        slot.livePrev = null;
        slot.liveNext = null;
        liveRanges--;
    }

    /** @return the number of placed ranges in the list (open buffers plus ranges kept in caches); the lock is held */
    int liveRangeCount() {
        return liveRanges;
    }

    /**
     * Adds every open buffer to {@code into}; the lock is held, and no allocation runs.
     *
     * @return the ranges not kept in a cache: open buffers, and ranges whose buffer is still being made
     */
    int addOpenBuffersTo(Collection<PooledBuffer> into) {
        int open = 0;
        for (RangeSlot s = liveHead; s != null; s = s.liveNext) {
            PooledBuffer b = s.current;
            if (b == null) {
                open++;
            } else if (!b.isReleased()) {
                open++;
                into.add(b);
            }
        }
        return open;
    }

    /**
     * Destroys the {@code VkBuffer}s that ranges kept in threads' caches still hold; the pool is closed, its buffers
     * released, and the memory not yet freed.
     */
    void destroyKeptBuffers() {
        for (RangeSlot s = liveHead; s != null; s = s.liveNext) {
            pool.dropKeptBuffer(s);
        }
    }

    @Override
    public void release(PooledBuffer buffer) {
        pool.release(this, buffer);
    }

    @Override
    public String toString() {
        return (isDedicated() ? "dedicated " : "block ") + memory + ", " + liveRanges + " ranges";
    }
}

/** The part of a {@link PoolBlock} that handing out and releasing buffers reads, seldom written. */
abstract class PoolBlockFields {

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
    /**
     * The block-wide buffer that sub-ranges borrow, made on the first sub-range under the arena's lock; {@code null}
     * until then. Volatile: a range taken from a thread's cache reads it without the lock.
     */
    volatile VulkanBuffer blockBuffer;

    PoolBlockFields(TypeBlockPool pool, TypeBlockPool.Arena arena, VulkanMemory memory, Suballocator suballocator) {
        this.pool = pool;
        this.arena = arena;
        this.memory = memory;
        this.suballocator = suballocator;
    }
}

/**
 * 128 bytes between a {@link PoolBlock}'s read part and its written part (the read part has no gap the written fields
 * could be laid out in: five references after the 12-byte header).
 */
abstract class PoolBlockPad extends PoolBlockFields {
    @SuppressWarnings("unused")
    private long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;

    PoolBlockPad(TypeBlockPool pool, TypeBlockPool.Arena arena, VulkanMemory memory, Suballocator suballocator) {
        super(pool, arena, memory, suballocator);
    }
}
