package io.github.solvk.memory.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

import io.github.solvk.memory.internal.Failures;

/**
 * One thread's released ranges in one {@link BlockPoolAllocator}, kept for that thread's next requests of the same
 * size, so that a buffer made and freed again and again by one thread takes no lock and no suballocator call (the
 * idea of jemalloc's tcache and Netty's {@code PoolThreadCache}; no code of theirs is used).
 *
 * <p><b>Size classes.</b> Ranges that may be cached are placed rounded up to a size class ({@link #sizeClass}):
 * multiples of 16 bytes up to 64, then four classes per power of two (for sizes in {@code (2^k, 2^(k+1)]}, multiples of
 * {@code 2^(k-2)}), so at most a quarter of a range is padding and buffers of nearby sizes share ranges. Per memory
 * type the cache has one bin per class, each for one alignment at a time and holding at most {@value #ENTRIES} ranges,
 * and at most {@link TypeBlockPool#cacheBytes()} bytes in all. A released range goes back to the cache of the thread
 * that <em>handed it out</em>: straight into its bins, while they have room, when that thread releases it; through a
 * {@link Batch} of up to {@value #BATCH} ranges and that thread's {@link Inbox} when another thread does (batches for
 * up to {@value #DESTINATIONS} threads are filled at once, holding at most the releasing thread's budget in all; the
 * owner takes its inbox at its next request). A range that finds no room goes back to its block; a batch the inbox
 * refuses (its thread ended, or the inbox holds the owner's whole budget) stays with the releasing thread, in its bins
 * while they have room. A kept range stays placed in its block's suballocator and listed in its block
 * ({@link RangeSlot}), so it counts as used memory and keeps its block from being freed until it leaves the cache:
 * <ul>
 *   <li>when its thread asks for the same size again (ranges in batches and inboxes count as kept, and go back
 *       with the cache that holds them in each case below);</li>
 *   <li>every {@value #SWEEP_INTERVAL} requests and releases through a memory type's bins, the ranges of each bin
 *       beyond those taken out since the last sweep go back to their blocks, so sizes a thread stopped using do not
 *       stay;</li>
 *   <li>when its thread's request finds no room in the existing blocks, before a block is made, and when the heap
 *       has no room for its thread's dedicated memory, before that is tried again;</li>
 *   <li>on {@link BlockPoolAllocator#flushThreadCache()} and {@link BlockPoolAllocator#checkInvariants()} for the
 *       calling thread;</li>
 *   <li>at its thread's next request or release after another thread ran out of device memory;</li>
 *   <li>after its thread ended: when another thread first uses the allocator, and at the next statistics, invariant
 *       check, or out-of-memory of any thread;</li>
 *   <li>a range waiting in its thread's {@link Inbox}, while that thread lives: at another thread's
 *       {@link BlockPoolAllocator#releaseUnusedMemory()} or out-of-memory ({@link #giveBackInbox}), so that a thread
 *       that stopped calling does not keep the ranges others sent home to it.</li>
 * </ul>
 * Only TLSF and buddy blocks are cached: they free in any order, while a stack's or ring's order would break and a
 * fixed-size suballocator takes no other size.
 *
 * <p>Only its thread uses a cache, except that other threads push batches onto its inboxes, another thread may set
 * {@link #flushRequested}, take what its inboxes hold back to the blocks, read the counts for statistics (without
 * synchronization: figures of a moment), and close the inboxes and empty the cache of a thread that has ended.
 *
 * <p><b>Why ranges go home.</b> When each thread kept what it released, a thread that freed another's buffers filled
 * its bins with that thread's sizes while its own ran dry: with two threads and half the frees made by the other,
 * 3.6-5.1 % of requests missed and 5.8-8.4 % of releases overflowed (W8 on the H200 host), and handing a range out on
 * the releasing core wrote {@link RangeSlot#current}, a line the other core wrote last. Sent home, the ranges keep each
 * thread's bins as they would be with no other thread (0.3-0.4 % missed), and the releasing thread writes only its own
 * batch.
 */
final class ThreadRangeCache extends ThreadRangeCacheFields {

    /** Ranges per bin. */
    static final int ENTRIES = 64;
    /** The counts {@link #counts} gives per memory type: hits, misses, overflows. */
    static final int COUNTS = 3;
    /** Requests through a memory type's bins between two sweeps. */
    static final int SWEEP_INTERVAL = 4096;
    /** Ranges a batch carries back to the thread that handed them out ({@link #offer}). */
    static final int BATCH = 32;
    /** Threads a cache collects batches for at once, per memory type; a batch for another sends one early. */
    static final int DESTINATIONS = 4;

    /** 128 bytes after the cache's fields ({@link ThreadRangeCacheFields}); see {@link ThreadRangeCachePad}. */
    @SuppressWarnings("unused")
    private long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;

    /** One memory type's bins, one per size class; padded as the cache is ({@link ThreadRangeCachePad}). */
    static final class Bins extends BinsFields {
        @SuppressWarnings("unused")
        private long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;

        Bins(long maxBytes, int classes) {
            super(maxBytes, classes);
        }
    }

    /** What {@link Bins} holds, after 128 bytes of padding. */
    private abstract static class BinsFields extends ThreadRangeCachePad {
        final long maxBytes;
        final long[] alignment;
        final int[] count;
        /** Ranges taken out of each bin since the last sweep. */
        final int[] taken;
        final RangeSlot[][] slots;
        /** Where other threads send back the ranges of the buffers this thread hands out. */
        final Inbox inbox;
        /** Batches being filled for other threads' inboxes, at most one per thread. */
        final Batch[] outgoing = new Batch[DESTINATIONS];
        /** Ranges and bytes held in the bins; read racily by statistics. */
        int ranges;
        long bytes;
        /**
         * Batches their inboxes refused (linked through {@link Batch#next}), kept or freed by this thread at its next
         * request or release ({@link ThreadRangeCache#settle}).
         */
        Batch refused;
        /** Ranges and bytes in {@link #outgoing} and {@link #refused}; read racily by statistics. */
        int outgoingRanges;
        long outgoingBytes;
        int requests;
        /**
         * Requests this cache answered and did not, and releases it could not keep (its bin or its bytes full), since
         * it was made; read racily by statistics.
         */
        long hits;
        long misses;
        long overflows;

        BinsFields(long maxBytes, int classes) {
            this.maxBytes = maxBytes;
            this.alignment = new long[classes];
            this.count = new int[classes];
            this.taken = new int[classes];
            this.slots = new RangeSlot[classes][];
            this.inbox = new Inbox(maxBytes);
        }
    }

    /**
     * Ranges another thread released, on their way back to the thread that handed them out: filled by the releasing
     * thread alone, then pushed onto the other's {@link Inbox} whole.
     */
    static final class Batch {
        final RangeSlot[] slots;
        /** The inbox it is filled for. */
        final Inbox to;
        int count;
        long bytes;
        /** The batch pushed before it, and the ranges and bytes of this one and all below it. */
        Batch next;
        int depth;
        long depthBytes;

        Batch(Inbox to, int capacity) {
            this.to = to;
            this.slots = new RangeSlot[capacity];
        }
    }

    /**
     * One thread's ranges of one memory type that other threads released: a lock-free stack of {@link Batch}es that
     * the releasing threads push and the owning thread takes whole ({@link #poll} when a bin runs dry, a sweep, a
     * flush). So a range goes back to the cache that handed it out, whichever thread releases its buffer: the owner's
     * bins stay fed with the sizes it asks for, and handing the range out again writes only lines its own core wrote.
     * Padded like the cache: its head is written by other threads, once per batch.
     */
    static final class Inbox extends InboxFields {
        @SuppressWarnings("unused")
        private long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;

        Inbox(long maxBytes) {
            super(maxBytes);
        }
    }

    /** What {@link Inbox} holds, after 128 bytes of padding. */
    abstract static class InboxFields extends ThreadRangeCachePad {
        private static final VarHandle HEAD;
        /** The head of a closed inbox: its thread ended or its allocator closed; nothing more is taken in. */
        private static final Batch CLOSED = new Batch(null, 0);

        static {
            try {
                HEAD = MethodHandles.lookup().findVarHandle(InboxFields.class, "head", Batch.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** The bytes it may hold: its owner's cache budget ({@link Bins#maxBytes}). */
        final long maxBytes;
        private volatile Batch head;

        InboxFields(long maxBytes) {
            this.maxBytes = maxBytes;
        }

        /**
         * @return whether the batch was taken; not when the inbox is closed or would hold more than {@link #maxBytes}
         *         (its owner does not ask for these sizes now), and then the caller keeps the ranges
         */
        boolean push(Batch batch) {
            while (true) {
                Batch top = head;
                if (top == CLOSED) {
                    return false;
                }
                int depth = batch.count + (top == null ? 0 : top.depth);
                long depthBytes = batch.bytes + (top == null ? 0 : top.depthBytes);
                if (depthBytes > maxBytes) {
                    return false;
                }
                batch.next = top;
                batch.depth = depth;
                batch.depthBytes = depthBytes;
                if (HEAD.compareAndSet(this, top, batch)) {
                    return true;
                }
            }
        }

        /** @return whether a batch waits; one volatile read of a line other threads write once per batch */
        boolean hasRanges() {
            Batch top = head;
            return top != null && top != CLOSED;
        }

        /**
         * @return every batch waiting, newest first (linked through {@link Batch#next}), or {@code null}. The owner
         *         takes them into its bins; another thread may take them to give their ranges back to their blocks
         *         ({@link ThreadRangeCache#giveBackInbox}). A compare-and-set, so that a take racing a
         *         {@link #close} never reopens the inbox
         */
        Batch take() {
            while (true) {
                Batch top = head;
                if (top == null || top == CLOSED) {
                    return null;
                }
                if (HEAD.compareAndSet(this, top, null)) {
                    return top;
                }
            }
        }

        /** @return every batch waiting, as {@link #take}; from now on {@link #push} takes nothing */
        Batch close() {
            Batch top = (Batch) HEAD.getAndSet(this, CLOSED);
            return top == CLOSED ? null : top;
        }

        /** @return the ranges waiting (read racily) */
        int ranges() {
            Batch top = head;
            return top == null || top == CLOSED ? 0 : top.depth;
        }

        /** @return their bytes (read racily) */
        long bytes() {
            Batch top = head;
            return top == null || top == CLOSED ? 0 : top.depthBytes;
        }
    }

    /**
     * The size class a cacheable range is placed at: {@code size} rounded up to a multiple of 16 up to 64 bytes, and
     * for sizes in {@code (2^k, 2^(k+1)]} above, to a multiple of {@code 2^(k-2)}.
     *
     * @param size bytes, {@code >= 1}
     * @return the class's size, {@code >= size}, less than {@code 1.25 * size + 16}
     */
    static long sizeClass(long size) {
        if (size <= 64) {
            return (size + 15) & -16L;
        }
        long step = 1L << (61 - Long.numberOfLeadingZeros(size - 1));
        return (size + step - 1) & -step;
    }

    /**
     * @param classSize a value of {@link #sizeClass}
     * @return its bin: 0..3 for 16..64 bytes, then four per power of two
     */
    static int classIndex(long classSize) {
        if (classSize <= 64) {
            return (int) (classSize >>> 4) - 1;
        }
        int k = 63 - Long.numberOfLeadingZeros(classSize - 1);
        return 4 + (k - 6) * 4 + (int) (classSize >>> (k - 2)) - 5;
    }

    ThreadRangeCache(int memoryTypes, Thread thread, int threadNumber) {
        super(thread, threadNumber, new Bins[memoryTypes]);
    }

    /**
     * Takes a kept range of a size class at an alignment.
     *
     * @param classSize a value of {@link #sizeClass}, at most the memory type's largest cached range
     * @return the range, or {@code null} when none is kept
     */
    RangeSlot poll(TypeBlockPool pool, long classSize, long alignment) {
        // A flush another thread asked for ran at the start of this request (BlockPoolAllocator.place).
        Bins b = types[pool.memoryTypeIndex()];
        if (b == null) {
            return null;
        }
        if (++b.requests >= SWEEP_INTERVAL) {
            sweep(pool, b);
        }
        if (b.refused != null) {
            settle(pool, b, true);
        }
        if (b.inbox.hasRanges()) {
            // Other threads sent ranges of this thread's buffers back: into the bins as soon as they arrive, as if
            // this thread had released them, so that the bins see what they would with no other thread.
            takeInbox(pool, b);
        }
        RangeSlot slot = take(b, classSize, alignment);
        if (slot != null) {
            b.hits++;
        } else {
            b.misses++;
        }
        return slot;
    }

    private static RangeSlot take(Bins b, long classSize, long alignment) {
        int bin = classIndex(classSize);
        int n = b.count[bin];
        if (n == 0 || b.alignment[bin] != alignment) {
            return null;
        }
        RangeSlot[] slots = b.slots[bin];
        RangeSlot slot = slots[--n];
        slots[n] = null;
        b.count[bin] = n;
        b.taken[bin]++;
        b.ranges--;
        b.bytes -= classSize;
        return slot;
    }

    /**
     * @param bin a value of {@link #classIndex}
     * @return the size class of that bin
     */
    static long classSizeOf(int bin) {
        if (bin < 4) {
            return (bin + 1) * 16L;
        }
        int k = (bin - 4) / 4 + 6;
        return (long) ((bin - 4) % 4 + 5) << (k - 2);
    }

    /**
     * Keeps a released range: in a batch for the thread that handed it out, when that is another thread
     * ({@link Inbox}) and the batches have room in this thread's budget once the largest are sent, else in this cache
     * when its bin and the byte budget have room. Reads nothing of the slot, which may have been last written on
     * another core.
     *
     * @param slot      a range placed at a size class ({@link #sizeClass}) no larger than the memory type's largest
     *                  cached range
     * @param bin       its size class's {@link #classIndex}
     * @param alignment the alignment it was placed at
     * @param home      the inbox of the cache that handed the range out ({@link #inbox}), or {@code null}
     * @return whether it was kept; if not, the caller gives it back to its block
     */
    boolean offer(TypeBlockPool pool, RangeSlot slot, int bin, long alignment, Inbox home) {
        if (flushRequested) {
            flushAll(pool.owner().pools());
        }
        Bins b = bins(pool);
        // Releases count towards the sweep too, so a thread that only releases (a consumer) gives back what it
        // never asks for again.
        if (++b.requests >= SWEEP_INTERVAL) {
            sweep(pool, b);
        }
        if (b.refused != null) {
            // Before this range joins a batch, so that a failure here leaves the range with the caller.
            settle(pool, b, true);
        }
        if (home != null && home != b.inbox && sendHome(b, home, slot, bin)) {
            return true;
        }
        // This thread's range, or one whose home refused what this thread holds for it: kept here if there is room.
        if (keep(b, slot, bin, alignment)) {
            return true;
        }
        b.overflows++;
        return false;
    }

    /**
     * @return the inbox through which other threads give this thread's ranges of the pool's memory type back; made
     *         with the bins
     */
    Inbox inbox(TypeBlockPool pool) {
        return bins(pool).inbox;
    }

    /**
     * Adds a range to the batch for its home, and pushes the batch when it is full (or one batch early, when batches
     * for four other homes are being filled already). The batches being filled, with those refused since the last
     * call, hold at most this thread's budget ({@link Bins#maxBytes}): a range that would take them over it first sends
     * the largest, however few ranges they hold, and when even that leaves no room (the inboxes refused them) the range
     * does not join a batch. So a thread that stops calling holds no more for others than for itself, and no batch is
     * larger than an inbox takes: with budgets of 1 MiB or less, a full batch of the largest cached ranges (1/16 of the
     * budget each) would be twice that. Throws nothing: a batch the inbox refuses waits in {@link Bins#refused}, so
     * that a failure in giving its ranges back (a block freed) comes at the next call, before that call's range joins
     * a batch.
     *
     * @return whether the range joined a batch; if not, the caller keeps it or gives it back as its own
     */
    private static boolean sendHome(Bins b, Inbox home, RangeSlot slot, int bin) {
        long size = classSizeOf(bin);
        while (b.outgoingBytes + size > b.maxBytes) {
            if (!sendLargest(b)) {
                return false;
            }
        }
        Batch[] out = b.outgoing;
        int at = -1;
        int free = -1;
        for (int i = 0; i < out.length; i++) {
            Batch o = out[i];
            if (o == null) {
                free = free < 0 ? i : free;
            } else if (o.to == home) {
                at = i;
                break;
            }
        }
        if (at < 0) {
            at = free >= 0 ? free : 0;
            Batch first = out[at];
            if (first != null) {
                out[at] = null;
                send(b, first);
            }
            out[at] = new Batch(home, BATCH);
        }
        Batch batch = out[at];
        batch.slots[batch.count++] = slot;
        batch.bytes += size;
        b.outgoingRanges++;
        b.outgoingBytes += size;
        if (batch.count == BATCH) {
            out[at] = null;
            send(b, batch);
        }
        return true;
    }

    /**
     * Sends the batch being filled that holds the most bytes.
     *
     * @return whether there was one; {@code false} when no batch is being filled (what is over the budget then is
     *         batches the inboxes refused, which wait in {@link Bins#refused} for the next call)
     */
    private static boolean sendLargest(Bins b) {
        Batch[] out = b.outgoing;
        int largest = -1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] != null && (largest < 0 || out[i].bytes > out[largest].bytes)) {
                largest = i;
            }
        }
        if (largest < 0) {
            return false;
        }
        Batch batch = out[largest];
        out[largest] = null;
        send(b, batch);
        return true;
    }

    /**
     * Pushes a batch, taken out of {@link Bins#outgoing}, to its inbox; one the inbox refuses (its thread ended, or
     * does not ask for these sizes now) waits in {@link Bins#refused}.
     */
    private static void send(Bins b, Batch batch) {
        int count = batch.count;
        long bytes = batch.bytes;
        if (batch.to.push(batch)) {
            b.outgoingRanges -= count;
            b.outgoingBytes -= bytes;
        } else {
            batch.next = b.refused;
            b.refused = batch;
        }
    }

    /**
     * Takes the refused batches out of this thread's lists and gives their ranges back ({@link #unloadAll}): into the
     * bins while there is room when {@code keep}, else to their blocks.
     */
    private static void settle(TypeBlockPool pool, Bins b, boolean keep) {
        Batch chain = b.refused;
        b.refused = null;
        for (Batch batch = chain; batch != null; batch = batch.next) {
            b.outgoingRanges -= batch.count;
            b.outgoingBytes -= batch.bytes;
        }
        unloadAll(pool, b, chain, keep);
    }

    /** Sends every batch being filled, however full, and settles those refused. */
    private static void sendAll(TypeBlockPool pool, Bins b) {
        Batch[] out = b.outgoing;
        for (int i = 0; i < out.length; i++) {
            Batch o = out[i];
            if (o != null) {
                out[i] = null;
                send(b, o);
            }
        }
        settle(pool, b, true);
    }

    /** Takes the ranges other threads sent back into the bins; those without room go back to their blocks. */
    private static void takeInbox(TypeBlockPool pool, Bins b) {
        unloadAll(pool, b, b.inbox.take(), true);
    }

    /**
     * {@link #unload} for every batch of a chain (linked through {@link Batch#next}), taken out of the lists that held
     * it: goes on past a failure, so that no batch is left behind, and throws the first at the end, the others
     * suppressed on it.
     */
    private static void unloadAll(TypeBlockPool pool, Bins b, Batch chain, boolean keep) {
        Throwable failure = null;
        for (Batch batch = chain; batch != null; batch = batch.next) {
            try {
                unload(pool, b, batch, keep);
            } catch (RuntimeException | Error e) {
                failure = Failures.add(failure, e);
            }
        }
        Failures.throwIfAny(failure);
    }

    /**
     * Gives a batch's ranges back: into the bins while they have room when {@code keep}, else to their blocks. Goes
     * on past a failure, an {@link Error} too (a {@code DeviceMemoryListener}'s, from destroying a block a range
     * emptied, which VMA lets through once the memory is freed), so that no range taken out of an inbox or a list is
     * left behind, and throws the first at the end, the others suppressed on it.
     */
    private static void unload(TypeBlockPool pool, Bins b, Batch batch, boolean keep) {
        Throwable failure = null;
        for (int i = 0; i < batch.count; i++) {
            RangeSlot slot = batch.slots[i];
            batch.slots[i] = null;
            if (keep) {
                if (keep(b, slot, slot.cacheBin, slot.alignment)) {
                    continue;
                }
                b.overflows++;
            }
            try {
                pool.releaseToBlock(slot);
            } catch (RuntimeException | Error e) {
                failure = Failures.add(failure, e);
            }
        }
        batch.count = 0;
        Failures.throwIfAny(failure);
    }

    /**
     * {@link #offer} without a flush or a sweep, which would give ranges back to their blocks: for the caller that
     * holds an arena's lock.
     */
    boolean offerQuietly(TypeBlockPool pool, RangeSlot slot, int bin, long alignment) {
        return keep(bins(pool), slot, bin, alignment);
    }

    /**
     * {@link #poll} without a flush or a sweep: for the caller that holds an arena's lock.
     */
    RangeSlot pollQuietly(TypeBlockPool pool, long classSize, long alignment) {
        Bins b = types[pool.memoryTypeIndex()];
        return b == null ? null : take(b, classSize, alignment);
    }

    private Bins bins(TypeBlockPool pool) {
        int memoryType = pool.memoryTypeIndex();
        Bins b = types[memoryType];
        if (b == null) {
            b = new Bins(pool.cacheBytes(), classIndex(pool.cacheMaxRange()) + 1);
            types[memoryType] = b;
        }
        return b;
    }

    private static boolean keep(Bins b, RangeSlot slot, int bin, long alignment) {
        long size = classSizeOf(bin);
        if (b.bytes + size > b.maxBytes) {
            return false;
        }
        int n = b.count[bin];
        if (n == 0) {
            b.alignment[bin] = alignment;
            if (b.slots[bin] == null) {
                b.slots[bin] = new RangeSlot[ENTRIES];
            }
        } else if (n == ENTRIES || b.alignment[bin] != alignment) {
            return false;
        }
        b.slots[bin][n] = slot;
        b.count[bin] = n + 1;
        b.ranges++;
        b.bytes += size;
        return true;
    }

    /**
     * Sends the batches being filled, takes in what other threads sent back, then gives back, bin by bin, the ranges
     * beyond those taken out since the last sweep.
     */
    private void sweep(TypeBlockPool pool, Bins b) {
        b.requests = 0;
        sendAll(pool, b);
        takeInbox(pool, b);
        for (int i = 0; i < b.count.length; i++) {
            int excess = b.count[i] - b.taken[i];
            b.taken[i] = 0;
            giveBack(pool, b, i, excess);
        }
    }

    /**
     * Gives the top {@code n} ranges of a bin back to their blocks, one at a time: each leaves its bin before it goes,
     * so a failure part way leaves the others kept and counted.
     */
    private static void giveBack(TypeBlockPool pool, Bins b, int bin, int n) {
        for (; n > 0; n--) {
            int top = --b.count[bin];
            RangeSlot slot = b.slots[bin][top];
            b.slots[bin][top] = null;
            b.ranges--;
            b.bytes -= slot.rangeSize;
            pool.releaseToBlock(slot);
        }
    }

    /**
     * Gives every kept range of one memory type back to its block ({@link #giveBack}): the bins', those sent back by
     * other threads, and those in batches for other threads. Goes on past a failure (a block's suballocator that
     * throws, or a {@code DeviceMemoryListener}'s {@link Error} from destroying a block a range emptied, which VMA lets
     * through once the memory is freed), so that no range is left behind, each leaving the cache before it goes;
     * throws the first at the end, the others suppressed on it.
     */
    void flush(TypeBlockPool pool) {
        Bins b = types[pool.memoryTypeIndex()];
        if (b == null) {
            return;
        }
        Batch[] out = b.outgoing;
        for (int i = 0; i < out.length; i++) {
            Batch o = out[i];
            if (o != null) {
                out[i] = null;
                o.next = b.refused;
                b.refused = o;
            }
        }
        Throwable failure = null;
        try {
            settle(pool, b, false);
        } catch (RuntimeException | Error e) {
            failure = Failures.add(failure, e);
        }
        try {
            unloadAll(pool, b, b.inbox.take(), false);
        } catch (RuntimeException | Error e) {
            failure = Failures.add(failure, e);
        }
        if (b.ranges > 0) {
            for (int i = 0; i < b.count.length; i++) {
                b.taken[i] = 0;
                // Each call takes at least one range out of the bin before it can throw, so this ends.
                while (b.count[i] > 0) {
                    try {
                        giveBack(pool, b, i, b.count[i]);
                    } catch (RuntimeException | Error e) {
                        failure = Failures.add(failure, e);
                    }
                }
            }
        }
        Failures.throwIfAny(failure);
    }

    /**
     * Closes the inboxes of a cache whose thread ended, so that no thread sends it ranges any more, and gives back
     * every range it kept ({@link #flushAll}); by the thread that finds it ended. Nobody gives this cache's ranges
     * back after it, so it goes on past a failure, every memory type and every range, and throws the first at the
     * end, the others suppressed on it.
     */
    void retire(TypeBlockPool[] pools) {
        Throwable failure = null;
        for (TypeBlockPool pool : pools) {
            Bins b = types[pool.memoryTypeIndex()];
            if (b != null) {
                try {
                    unloadAll(pool, b, b.inbox.close(), false);
                } catch (RuntimeException | Error e) {
                    failure = Failures.add(failure, e);
                }
            }
        }
        try {
            flushAll(pools);
        } catch (RuntimeException | Error e) {
            failure = Failures.add(failure, e);
        }
        Failures.throwIfAny(failure);
    }

    /**
     * Gives every kept range back to its block; goes on past a failure, an {@link Error} too, to the other memory
     * types, and throws the first at the end, the others suppressed on it.
     */
    void flushAll(TypeBlockPool[] pools) {
        flushRequested = false;
        // The recorded request goes too: a flushed cache keeps nothing of its thread's requests.
        forgetPlan();
        Throwable failure = null;
        for (TypeBlockPool pool : pools) {
            try {
                flush(pool);
            } catch (RuntimeException | Error e) {
                failure = Failures.add(failure, e);
            }
        }
        Failures.throwIfAny(failure);
    }

    /**
     * Gives the ranges that other threads sent home to this cache's thread ({@link Inbox}) back to their blocks, from
     * any thread: for a thread that stopped calling (a loader whose buffers another thread released), whose inbox
     * would otherwise keep their blocks allocated until its next call. Touches nothing else of the cache, which only
     * its thread uses. Goes on past a failure, an {@link Error} too, to the other ranges and memory types, and throws
     * the first at the end, the others suppressed on it.
     *
     * @return whether any range was waiting
     */
    boolean giveBackInbox(TypeBlockPool[] pools) {
        boolean any = false;
        Throwable failure = null;
        for (TypeBlockPool pool : pools) {
            // Racy read of the owner's array: a Bins is seen whole or not at all (its inbox is a final field).
            Bins b = types[pool.memoryTypeIndex()];
            Batch chain = b == null ? null : b.inbox.take();
            if (chain != null) {
                any = true;
                try {
                    // keep == false: straight to the blocks, without touching the owner's bins.
                    unloadAll(pool, b, chain, false);
                } catch (RuntimeException | Error e) {
                    failure = Failures.add(failure, e);
                }
            }
        }
        Failures.throwIfAny(failure);
        return any;
    }

    /** Forgets every kept range, without giving it back: their allocator closed and freed the blocks. */
    void clear() {
        for (Bins b : types) {
            if (b != null) {
                b.inbox.close();
            }
        }
        Arrays.fill(types, null);
        forgetPlan();
    }

    /** @return the ranges kept for a memory type now (read racily from another thread) */
    int cachedRanges(int memoryType) {
        Bins b = types[memoryType];
        return b == null ? 0 : b.ranges + b.outgoingRanges + b.inbox.ranges();
    }

    /**
     * @return a memory type's requests answered, requests not answered and releases not kept, since the cache was
     *         made (read racily from another thread)
     */
    long[] counts(int memoryType) {
        Bins b = types[memoryType];
        return b == null ? new long[COUNTS] : new long[] {b.hits, b.misses, b.overflows};
    }

    /**
     * @return the bytes of a memory type in batches this thread is filling for other threads and in batches their
     *         inboxes refused since its last call (for tests; on the cache's own thread)
     */
    long outgoingBytes(int memoryType) {
        Bins b = types[memoryType];
        return b == null ? 0 : b.outgoingBytes;
    }

    /** @return the bytes kept for a memory type now (read racily from another thread) */
    long cachedBytes(int memoryType) {
        Bins b = types[memoryType];
        return b == null ? 0 : b.bytes + b.outgoingBytes + b.inbox.bytes();
    }
}

/**
 * 128 bytes of padding, two cache lines as the adjacent-line prefetcher fetches lines in pairs, before the fields a
 * thread writes on each request in its own {@link ThreadRangeCache} and bins. Each thread makes its cache and bins on
 * its own, but a garbage collection copies objects where it likes: two threads' caches, both reachable from one
 * allocator, may land side by side, and then each thread's writes would take the line from the other's core.
 */
abstract class ThreadRangeCachePad {
    /** Fills the 4 bytes after the object header, where the layout would otherwise put a written int of a subclass. */
    @SuppressWarnings("unused")
    private int p;
    @SuppressWarnings("unused")
    private long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/**
 * The fields of a {@link ThreadRangeCache}, between its two paddings: what its thread writes on its requests (the
 * recorded request) and what it reads on each (its thread, its bins, the flush flag).
 */
abstract class ThreadRangeCacheFields extends ThreadRangeCachePad {
    /** The thread that owns the cache. */
    final Thread thread;
    /** The thread's number, from which its home arenas follow. */
    final int threadNumber;
    /**
     * Bins by memory type. The cache holds no reference to its allocator except through the ranges it keeps (which
     * {@link ThreadRangeCache#clear()} drops when the allocator closes), so a thread-local entry never keeps a closed
     * allocator alive; the recorded request names its memory type by index for the same reason.
     */
    final ThreadRangeCache.Bins[] types;
    /** Set by another thread that wants the ranges back; the owner empties the cache at its next call. */
    volatile boolean flushRequested;
    /**
     * The last requests this thread placed where they may take a cached range (at most {@value #PLANS}, so that an
     * engine that takes turns between a few request objects, a vertex, an index and a uniform buffer, has each
     * recorded), with what the allocator worked out for each ({@code BlockPoolAllocator.place}): when the thread asks
     * again with one of these request objects, the allocator goes straight to this cache. {@code null} where none;
     * dropped by {@link ThreadRangeCache#clear()} and every flush.
     */
    Plan plan0;
    Plan plan1;
    Plan plan2;
    Plan plan3;
    /** Which recorded request the next one replaces, once all four are taken. */
    int planNext;
    /** Requests that could have replaced a recorded one, counted so that only some do. */
    int planSkips;

    /** Requests recorded at once. */
    static final int PLANS = 4;

    /**
     * What the allocator worked out for a request: its first memory type (by index: the cache holds no reference to
     * its allocator), the bytes its range needs (before rounding to its size class) and its alignment, how its buffer
     * is made, and whether its size passed the driver's check.
     */
    record Plan(BlockRequest request, int type, long rangeSize, long alignment, BlockPoolAllocator.BufferMode mode,
                boolean verified) {
    }

    ThreadRangeCacheFields(Thread thread, int threadNumber, ThreadRangeCache.Bins[] types) {
        this.thread = thread;
        this.threadNumber = threadNumber;
        this.types = types;
    }

    /** @return what was recorded for this request object, or {@code null} */
    Plan planFor(BlockRequest request) {
        Plan p = plan0;
        if (p != null && p.request == request) {
            return p;
        }
        p = plan1;
        if (p != null && p.request == request) {
            return p;
        }
        p = plan2;
        if (p != null && p.request == request) {
            return p;
        }
        p = plan3;
        return p != null && p.request == request ? p : null;
    }

    /** @return whether all {@value #PLANS} places hold a recorded request */
    boolean plansFull() {
        return plan3 != null && plan2 != null && plan1 != null && plan0 != null;
    }

    /**
     * Records what the allocator worked out for a request whose ranges this cache may keep: in a free place, else in
     * place of the request recorded longest ago (or of the same request object, recorded before).
     */
    void plan(BlockRequest request, int memoryType, long rangeSize, long alignment,
              BlockPoolAllocator.BufferMode mode, boolean verified) {
        Plan p = new Plan(request, memoryType, rangeSize, alignment, mode, verified);
        Plan[] current = {plan0, plan1, plan2, plan3};
        int at = -1;
        for (int i = 0; i < PLANS && at < 0; i++) {
            if (current[i] != null && current[i].request == request) {
                at = i;
            }
        }
        for (int i = 0; i < PLANS && at < 0; i++) {
            if (current[i] == null) {
                at = i;
            }
        }
        if (at < 0) {
            at = planNext;
            planNext = (planNext + 1) % PLANS;
        }
        switch (at) {
            case 0 -> plan0 = p;
            case 1 -> plan1 = p;
            case 2 -> plan2 = p;
            default -> plan3 = p;
        }
    }

    /** Forgets the recorded requests. */
    void forgetPlan() {
        plan0 = null;
        plan1 = null;
        plan2 = null;
        plan3 = null;
        planNext = 0;
    }
}
