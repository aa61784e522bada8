package io.github.solvk.memory.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One range that a {@link PoolBlock} placed (a suballocation, or dedicated memory's one buffer), from the moment it
 * is placed until its memory is given back: the buffer that holds it now ({@link #current}) changes each time a
 * thread's {@link ThreadRangeCache} hands the range out again, while the slot stays in its block's list of ranges.
 * So {@code close()} finds every buffer still open without a buffer ever being listed or unlisted under a lock.
 *
 * <p><b>Layout.</b> A range freed on one core is often handed out again on another (a buffer made by one thread and
 * released by another). What a thread reads to hand a range out ({@link RangeSlotFields}) is written once, or only
 * when its kept {@code VkBuffer} changes; what changes with every buffer and every list operation (this class's
 * fields) sits 128 bytes further on ({@link RangeSlotPad}), so that writing it does not take the read part away from
 * the other cores' caches.
 */
final class RangeSlot extends RangeSlotPad {

    /**
     * The buffer that holds the range, or the last one that did while the range waits in a cache; {@code null} only
     * while the first buffer is being made. Written by the thread that hands the range out; read by {@code close()},
     * which must not race with an allocation.
     */
    PooledBuffer current;
    /** The neighbours in the block's list, guarded by its arena's lock (dedicated memory: the dedicated lock). */
    RangeSlot livePrev;
    RangeSlot liveNext;
    /** The next range on an arena's stack of releases that wait for its lock ({@code TypeBlockPool.Arena}). */
    RangeSlot pendingNext;
    /** How many ranges that stack held with this one on top. */
    int pendingDepth;
    /** The bytes of the ranges that stack held with this one on top. */
    long pendingBytes;

    /**
     * @param cacheBin the thread caches' bin for the range ({@link ThreadRangeCache#classIndex}), or -1 when it is
     *                 never cached
     */
    RangeSlot(PoolBlock block, long handle, long offset, long rangeSize, long alignment, int cacheBin) {
        super(block, handle, offset, rangeSize, alignment, cacheBin);
    }

    @Override
    public String toString() {
        return "range [" + offset + ", +" + rangeSize + ") of " + block;
    }
}

/** The part of a {@link RangeSlot} that is read when the range is handed out, and seldom written. */
abstract class RangeSlotFields {

    private static final VarHandle KEPT;

    static {
        try {
            KEPT = MethodHandles.lookup().findVarHandle(RangeSlotFields.class, "keptBuffer", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final PoolBlock block;
    /** The suballocator's handle, or {@code Suballocator.NULL_HANDLE} for dedicated memory. */
    final long handle;
    /** Where the range starts in the block. */
    final long offset;
    /** The bytes the suballocator placed. */
    final long rangeSize;
    /** The alignment it was placed at. */
    final long alignment;
    /** The thread caches' bin for the range, or -1 when it is never cached. */
    final int cacheBin;
    /**
     * The {@code VkBuffer} of its own that the range keeps for the next buffer of {@link #keptSize} bytes and
     * {@link #keptUsage} (see {@code BlockPoolAllocator.Config.recycleBuffers}), or 0. Written by the thread that
     * makes the buffer; taken (set to 0, then destroyed) at most once through {@link #takeKeptBuffer}, by whichever
     * thread gives the range back to its block or hands it out for another size, or by {@code close()}.
     */
    private volatile long keptBuffer;
    /** The size {@link #keptBuffer} was made with. */
    long keptSize;
    /** The usage {@link #keptBuffer} was made with. */
    int keptUsage;

    RangeSlotFields(PoolBlock block, long handle, long offset, long rangeSize, long alignment, int cacheBin) {
        this.block = block;
        this.handle = handle;
        this.offset = offset;
        this.rangeSize = rangeSize;
        this.alignment = alignment;
        this.cacheBin = cacheBin;
    }

    /** @return the kept {@code VkBuffer}, or 0 */
    long keptBuffer() {
        return keptBuffer;
    }

    /** Keeps a {@code VkBuffer} made for the range; none is kept now. */
    void keepBuffer(long buffer, long size, int usage) {
        keptSize = size;
        keptUsage = usage;
        KEPT.setRelease(this, buffer);
    }

    /** @return the kept {@code VkBuffer}, which the caller now destroys, or 0 when none is kept (any longer) */
    long takeKeptBuffer() {
        return keptBuffer == 0 ? 0 : (long) KEPT.getAndSet(this, 0L);
    }
}

/**
 * 128 bytes between a {@link RangeSlot}'s read part and its written part: two cache lines, as the adjacent-line
 * prefetcher fetches lines in pairs. The read part has no gap that the written fields could be laid out in (six
 * longs, two ints and a reference after the 12-byte header: 72 bytes).
 */
abstract class RangeSlotPad extends RangeSlotFields {
    @SuppressWarnings("unused")
    private long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;

    RangeSlotPad(PoolBlock block, long handle, long offset, long rangeSize, long alignment, int cacheBin) {
        super(block, handle, offset, rangeSize, alignment, cacheBin);
    }
}
