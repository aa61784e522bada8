package io.github.solvk.memory.suballocator;

import static io.github.solvk.memory.suballocator.IndexedHandles.GENERATION_MASK;
import static io.github.solvk.memory.suballocator.IndexedHandles.GENERATION_SHIFT;
import static io.github.solvk.memory.suballocator.IndexedHandles.INDEX_MASK;
import static io.github.solvk.memory.suballocator.IndexedHandles.MAX_ENTRIES;
import static io.github.solvk.memory.suballocator.IndexedHandles.PAYLOAD_MASK;
import static io.github.solvk.memory.suballocator.IndexedHandles.alignUp;
import static io.github.solvk.memory.suballocator.IndexedHandles.conflicts;
import static io.github.solvk.memory.suballocator.IndexedHandles.hasTag;
import static io.github.solvk.memory.suballocator.IndexedHandles.hex;
import static io.github.solvk.memory.suballocator.IndexedHandles.samePage;
import static io.github.solvk.memory.suballocator.IndexedHandles.typeCode;

/**
 * A FIFO suballocator that wraps around within its region: allocations are freed in the order they were made.
 *
 * <p><b>When to use it.</b> For streaming data whose lifetimes end in order: per-frame upload and uniform data freed
 * when the frame retires, command staging, SOL's ring-buffer pool. It is nearly as cheap as
 * {@link StackSuballocator} but reuses the space of the oldest allocations while newer ones are live. When lifetimes
 * nest use {@link StackSuballocator}; in any order, the TLSF suballocator; for one size,
 * {@link FixedSizeSuballocator}.
 *
 * <p><b>Algorithm.</b> Entries form a queue in allocation order. Entry {@code e} covers the bytes from its
 * {@code start} (the previous entry's end, or the region's start for an entry made in an empty ring) to its
 * allocation's end; the bytes before its {@code offset} are padding that belongs to it. The {@code tail} is the oldest
 * entry's start and the {@code head} the newest entry's end. While the ring is not wrapped ({@code tail < head}) an
 * allocation is tried at the head, rounded up to the alignment and, when it would share a granularity page with the
 * newest entry of a conflicting {@link AllocationType} (the package documentation draws it), further up to the
 * granularity; if it does not fit before the region's end, it wraps: it is placed at the region's start (rounded up to
 * the alignment) if it then ends at or before the tail, and the skipped bytes {@code [head, regionEnd)} become padding
 * of this entry, freed with it. While wrapped ({@code head <= tail}) the only space is {@code [head, tail)}. An
 * allocation that would end on the granularity page where the oldest entry's allocation starts, with a conflicting
 * type, does not fit there. No fit returns {@link Suballocator#NULL_HANDLE}: the ring is full. Freeing the oldest entry
 * moves the tail to the next live entry's start; when the ring becomes empty, head and tail go back to the region's
 * start.
 *
 * <p>SOL's ring rule: freeing an entry that is not the oldest is accepted and recorded (its bytes count as free in
 * {@link #freeBytes()}, it leaves {@link #liveCount()}, its handle becomes stale), but its space cannot be used
 * before the older entries are gone, so every {@link #tryAllocate} throws {@link IllegalStateException}, naming the
 * first entry freed out of order and the oldest live entry, until the older entries are freed; freeing the oldest
 * then advances the tail past every entry already freed. Frees themselves never throw for their order. Argument errors
 * are reported first, then the order error, before any fit is tried; only plain exhaustion returns
 * {@link Suballocator#NULL_HANDLE}.
 * Worked example, region {@code [0, 1000)}:
 * <pre>
 *   A, B, C = tryAllocate(300, 1, LINEAR) x 3   [0, 300), [300, 600), [600, 900); head 900, tail 0
 *   free(A)                                     tail 300
 *   D = tryAllocate(200, 1, LINEAR)             900 + 200 &gt; 1000: wraps to [0, 200) since 200 &lt;= tail 300;
 *                                               D's entry takes [900, 1000) + [0, 200) = 300 bytes; freeBytes 100
 *   free(C)                                     accepted, out of order: freeBytes 400, but tryAllocate throws
 *                                               IllegalStateException naming C at 600 and the oldest, B at 300
 *   free(B)                                     pops B, then the freed C: tail 900 (D's start), head 200
 *   E = tryAllocate(700, 1, LINEAR)             [200, 900): fits exactly
 * </pre>
 *
 * <p><b>Handle layout</b> (see {@link IndexedHandles}): each entry has a sequence number {@code seq}, counted from 0
 * per instance; index and generation hold its low 48 bits, and its slot in the entry arrays is {@code seq} modulo
 * their capacity (a power of two up to 2<sup>26</sup>), so that handles survive the arrays' growth:
 * <pre>
 *  63  62           48 47                        26 25                          0
 * +---+---------------+----------------------------+----------------------------+
 * | 0 |  tag (15)     |  seq bits 47..26 (22)      |  seq bits 25..0 (26)       |
 * +---+---------------+----------------------------+----------------------------+
 * </pre>
 * A handle is live while its sequence number lies between the oldest and newest entries' and that entry is not
 * freed. At most 2<sup>26</sup> entries fit; beyond that {@link #tryAllocate} returns
 * {@link Suballocator#NULL_HANDLE}.
 *
 * <p><b>Complexity.</b> {@link #tryAllocate}: O(1), amortized over the doubling of the entry arrays (steady state
 * allocates nothing). {@link #free}: O(1) amortized; freeing the oldest entry pops every entry freed out of order
 * behind it (O(n) worst case), each entry once. {@link #reset()}: O(1). {@link #visit} and
 * {@link #checkInvariants()}: O(n). Memory: 33 bytes per entry of the fullest ring so far.
 *
 * <p><b>Invariants</b> ({@link #checkInvariants()}):
 * <ul>
 *   <li>the queue holds at most the arrays' capacity, every slot holds its sequence number, and the oldest entry is
 *       live; an empty ring has its head at the region's start and no bytes taken;</li>
 *   <li>every entry starts where the previous one ends, lies within the region, and at most one entry wraps
 *       ({@code start > offset}); the head is the newest entry's end, {@code head <= tail} exactly when an entry
 *       wraps;</li>
 *   <li>the freed entries number {@code outOfOrderCount} and take {@code outOfOrderBytes}, {@code liveCount()} is
 *       the rest, and the bytes taken (live entries' padding and allocation) plus {@link #freeBytes()} equal the
 *       region's size;</li>
 *   <li>neighbours in address order with conflicting types do not share a granularity page.</li>
 * </ul>
 *
 * <p><b>Reference.</b> The ring-buffer use of the linear algorithm in AMD's Vulkan Memory Allocator (an allocation
 * that does not fit at the end goes to the beginning, before the oldest one); the out-of-order rule is SOL's
 * ring-buffer memory pool (see {@code DESIGN.md}).
 */
public final class RingSuballocator implements Suballocator {

    private static final String NAME = "RingSuballocator";
    private static final int INITIAL_CAPACITY = 16;
    /** Marks a stored sequence number whose entry was freed; sequence numbers stay below 2^63. */
    private static final long FREED_SEQ_BIT = Long.MIN_VALUE;

    /** The longs per entry in {@link #entries}, and their positions. */
    private static final int ENTRY_LONGS_SHIFT = 2;
    private static final int SEQ = 0;
    private static final int START = 1;
    private static final int OFFSET = 2;
    private static final int END = 3;

    private final long regionOffset;
    private final long regionSize;
    private final long regionEnd;
    private final long granularity;
    private final int tag = IndexedHandles.nextTag();

    /** Walks of {@link #visit} in progress; while one runs, calls that change the state throw. */
    private final VisitCount visits = new VisitCount();

    /**
     * Per slot, four longs: the entry's sequence number (with {@link #FREED_SEQ_BIT} once it was freed out of order),
     * its start, its allocation's offset and its end.
     */
    private long[] entries = new long[INITIAL_CAPACITY << ENTRY_LONGS_SHIFT];
    private byte[] types = new byte[INITIAL_CAPACITY];
    /** The capacity in entries minus one; the capacity is a power of two. */
    private int mask = INITIAL_CAPACITY - 1;

    /** The oldest entry's sequence number. */
    private long tailSeq;
    /** The next entry's sequence number. */
    private long headSeq;
    /** Entries behind the oldest that were freed out of FIFO order and are not popped yet. */
    private int outOfOrderCount;
    /** The bytes of those entries: they are inside the occupied span but count as free. */
    private long outOfOrderBytes;
    /** The newest entry's end, or the region's start when empty. */
    private long head;

    /**
     * Creates a ring over {@code [regionOffset, regionOffset + regionSize)} with no granularity constraint.
     *
     * @param regionOffset the region's first byte, {@code >= 0}
     * @param regionSize   bytes, {@code > 0}, with {@code regionOffset + regionSize <= 2^62}
     * @throws IllegalArgumentException for a bad region
     */
    public RingSuballocator(long regionOffset, long regionSize) {
        this(regionOffset, regionSize, 1);
    }

    /**
     * Creates a ring over {@code [regionOffset, regionOffset + regionSize)}.
     *
     * @param regionOffset           the region's first byte, {@code >= 0}
     * @param regionSize             bytes, {@code > 0}, with {@code regionOffset + regionSize <= 2^62}
     * @param bufferImageGranularity the page size that conflicting neighbours must not share, a power of two
     *                               ({@code 1} for none)
     * @throws IllegalArgumentException for a bad region or granularity
     */
    public RingSuballocator(long regionOffset, long regionSize, long bufferImageGranularity) {
        IndexedHandles.checkRegion(regionOffset, regionSize);
        IndexedHandles.checkPowerOfTwo("bufferImageGranularity", bufferImageGranularity);
        this.regionOffset = regionOffset;
        this.regionSize = regionSize;
        this.regionEnd = regionOffset + regionSize;
        this.granularity = bufferImageGranularity;
        this.head = regionOffset;
    }

    /** @return the granularity given at construction */
    public long bufferImageGranularity() {
        return granularity;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException when an allocation was freed before an older one that is still live (see the
     *                               class documentation)
     */
    @Override
    public long tryAllocate(long size, long alignment, AllocationType type) {
        IndexedHandles.checkRequest(size, alignment, type);
        visits.checkIdle("tryAllocate", NAME);
        if (outOfOrderCount != 0) {
            throw outOfOrder();
        }
        byte code = typeCode(type);
        long offset = place(size, alignment, code);
        // place returns an offset below 2^62 or -1.
        if (offset < 0) {
            return NULL_HANDLE;
        }
        long start = head;
        long seq = headSeq;
        int i = at((int) seq & mask, SEQ);
        long end = offset + size;
        long[] e = entries;
        e[i + SEQ] = seq;
        e[i + START] = start;
        e[i + OFFSET] = offset;
        e[i + END] = end;
        types[(int) seq & mask] = code;
        head = end;
        headSeq = seq + 1;
        return handle(seq);
    }

    /**
     * Finds where the next entry goes, growing the entry arrays when they are full.
     *
     * @return the allocation's offset, or -1 when it does not fit
     */
    private long place(long size, long alignment, byte code) {
        long count = headSeq - tailSeq;
        if (count == 0) {
            long offset = alignUp(regionOffset, alignment);
            // offset and regionEnd are <= 2^62, so differences of them cannot overflow here and below.
            return size > regionEnd - offset ? -1 : offset;
        }
        if (count == MAX_ENTRIES) {
            return -1;
        }
        int oldest = (int) tailSeq & mask;
        long tail = entries[at(oldest, START)];
        long start = head;
        long offset = alignUp(start, alignment);
        if (granularity > 1 && conflicts(types[(int) (headSeq - 1) & mask], code)
                && samePage(start - 1, offset, granularity)) {
            offset = alignUp(offset, granularity);
        }
        if (start <= tail) {
            // Wrapped: the only room is [head, tail).
            if (size > tail - offset || touchesOldest(offset + size, code, oldest)) {
                return -1;
            }
        } else if (size > regionEnd - offset) {
            offset = alignUp(regionOffset, alignment);
            if (size > tail - offset || touchesOldest(offset + size, code, oldest)) {
                return -1;
            }
        }
        if (count == mask + 1) {
            grow();
        }
        return offset;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Freeing an entry other than the oldest is accepted; it makes every {@link #tryAllocate} throw until the
     * older entries are freed (see the class documentation).
     */
    @Override
    public void free(long handle) {
        visits.checkIdle("free", NAME);
        int slot = liveSlot(handle);
        long seq = entries[at(slot, SEQ)];
        if (seq == tailSeq && outOfOrderCount == 0) {
            // A popped entry needs no mark: its sequence number is now below tailSeq, which liveSlot rejects.
            tailSeq = seq + 1;
            if (tailSeq == headSeq) {
                head = regionOffset;
            }
        } else {
            freeSlow(slot, seq);
        }
    }

    private void freeSlow(int slot, long seq) {
        if (seq != tailSeq) {
            entries[at(slot, SEQ)] = seq | FREED_SEQ_BIT;
            outOfOrderCount++;
            outOfOrderBytes += extent(slot);
            return;
        }
        long t = seq + 1;
        // Pop the run of entries that were freed out of order behind the oldest; each is popped once.
        for (int next; t != headSeq && entries[at(next = (int) t & mask, SEQ)] < 0; t++) {
            outOfOrderCount--;
            outOfOrderBytes -= extent(next);
        }
        tailSeq = t;
        if (t == headSeq) {
            head = regionOffset;
        }
    }

    @Override
    public void reset() {
        visits.checkIdle("reset", NAME);
        // Every outstanding handle's sequence number is now below tailSeq, which liveSlot rejects.
        tailSeq = headSeq;
        outOfOrderCount = 0;
        outOfOrderBytes = 0;
        head = regionOffset;
    }

    @Override
    public long offset(long handle) {
        return entries[at(liveSlot(handle), OFFSET)];
    }

    @Override
    public long size(long handle) {
        int i = at(liveSlot(handle), SEQ);
        return entries[i + END] - entries[i + OFFSET];
    }

    @Override
    public AllocationType type(long handle) {
        return IndexedHandles.type(types[liveSlot(handle)]);
    }

    @Override
    public long regionOffset() {
        return regionOffset;
    }

    @Override
    public long regionSize() {
        return regionSize;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Entries freed out of order count as free although no allocation can use them before they are popped.
     */
    @Override
    public long freeBytes() {
        return regionSize - occupiedBytes() + outOfOrderBytes;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: the larger of the ranges where the next allocation can go, {@code [head, regionEnd)} and
     * {@code [regionOffset, tail)}, or {@code [head, tail)} while wrapped.
     */
    @Override
    public long largestFreeRange() {
        if (headSeq == tailSeq) {
            return regionSize;
        }
        long tail = entries[at((int) tailSeq & mask, START)];
        return head <= tail ? tail - head : Math.max(regionEnd - head, tail - regionOffset);
    }

    @Override
    public int liveCount() {
        return (int) (headSeq - tailSeq) - outOfOrderCount;
    }

    @Override
    public SuballocatorKind kind() {
        return SuballocatorKind.RING;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The free ranges are exactly the bytes that {@link #freeBytes()} counts, entries freed out of order included,
     * with touching ones merged; the padding of live entries (the skipped end of the region included) is taken, so it
     * is reported as neither.
     */
    @Override
    public void visit(Visitor visitor) {
        visits.run(this::walk, visitor);
    }

    private void walk(Visitor visitor) {
        FreeRangeMerger out = new FreeRangeMerger(visitor);
        if (headSeq == tailSeq) {
            out.free(regionOffset, regionEnd);
            out.flush();
            return;
        }
        long wrap = headSeq;
        for (long s = tailSeq; s != headSeq; s++) {
            int i = at((int) s & mask, SEQ);
            if (entries[i + START] > entries[i + OFFSET]) {
                wrap = s;
                break;
            }
        }
        long tail = entries[at((int) tailSeq & mask, START)];
        if (wrap == headSeq) {
            // Not wrapped: the entries tile [tail, head).
            out.free(regionOffset, tail);
            visitRun(out, tailSeq, headSeq);
            out.free(head, regionEnd);
        } else {
            // Wrapped: the wrapping entry and the newer ones tile [regionOffset, head), the older ones [tail,
            // the wrapping entry's start), and the wrapping entry also takes [its start, regionEnd).
            int w = (int) wrap & mask;
            int i = at(w, SEQ);
            boolean freed = entries[i + SEQ] < 0;
            if (freed) {
                out.free(regionOffset, entries[i + END]);
            } else {
                out.allocation(handle(wrap), entries[i + OFFSET], entries[i + END] - entries[i + OFFSET],
                        IndexedHandles.type(types[w]));
            }
            visitRun(out, wrap + 1, headSeq);
            out.free(head, tail);
            visitRun(out, tailSeq, wrap);
            if (freed) {
                out.free(entries[i + START], regionEnd);
            }
        }
        out.flush();
    }

    @Override
    public void checkInvariants() {
        long count = headSeq - tailSeq;
        if (count < 0 || count > mask + 1 || count > MAX_ENTRIES || Integer.bitCount(mask + 1) != 1
                || entries.length != (mask + 1) << ENTRY_LONGS_SHIFT || types.length != mask + 1) {
            throw new IllegalStateException("entries: " + count + " in capacity " + (mask + 1)
                    + " (expected: 0 to the capacity, a power of two <= 2^26)");
        }
        if (count == 0) {
            if (head != regionOffset || outOfOrderCount != 0 || outOfOrderBytes != 0) {
                throw new IllegalStateException("empty ring: head " + head + ", outOfOrderCount " + outOfOrderCount
                        + ", outOfOrderBytes " + outOfOrderBytes + " (expected: " + regionOffset + ", 0, 0)");
            }
            return;
        }
        int oldest = (int) tailSeq & mask;
        if (entries[at(oldest, SEQ)] < 0) {
            throw new IllegalStateException("oldest entry " + tailSeq + " is freed (expected: popped)");
        }
        long taken = 0;
        long freedBytes = 0;
        int freed = 0;
        int wraps = 0;
        for (long s = tailSeq; s != headSeq; s++) {
            int slot = (int) s & mask;
            int i = at(slot, SEQ);
            long start = entries[i + START];
            long offset = entries[i + OFFSET];
            long end = entries[i + END];
            if ((entries[i + SEQ] & ~FREED_SEQ_BIT) != s) {
                throw new IllegalStateException("slot " + slot + ": seq " + (entries[i + SEQ] & ~FREED_SEQ_BIT)
                        + " (expected: " + s + ")");
            }
            if (offset < regionOffset || end <= offset || end > regionEnd || start < regionOffset
                    || start > regionEnd) {
                throw new IllegalStateException("entry " + s + ": start " + start + ", [" + offset + ", " + end
                        + ") (expected: within [" + regionOffset + ", " + regionEnd + ") and not empty)");
            }
            if (start > offset) {
                wraps++;
            }
            if (s != tailSeq) {
                int previous = (int) (s - 1) & mask;
                long previousEnd = entries[at(previous, END)];
                if (start != previousEnd) {
                    throw new IllegalStateException("entry " + s + ": start " + start + " (expected: " + previousEnd
                            + ", the previous entry's end)");
                }
                if (start <= offset) {
                    checkGranularity(previous, slot);
                }
            }
            if (entries[i + SEQ] < 0) {
                freed++;
                freedBytes += extent(slot);
            } else {
                taken += extent(slot);
            }
        }
        int newest = (int) (headSeq - 1) & mask;
        long tail = entries[at(oldest, START)];
        if (head != entries[at(newest, END)]) {
            throw new IllegalStateException("head: " + head + " (expected: " + entries[at(newest, END)]
                    + ", the newest's end)");
        }
        if (wraps > 1 || (wraps == 1) != (head <= tail)) {
            throw new IllegalStateException("wrapping entries: " + wraps + " with head " + head + ", tail " + tail
                    + " (expected: one exactly when head <= tail)");
        }
        if (wraps == 1 && tail <= entries[at(oldest, OFFSET)]) {
            checkGranularity(newest, oldest);
        }
        if (freed != outOfOrderCount || freedBytes != outOfOrderBytes) {
            throw new IllegalStateException("outOfOrderCount: " + outOfOrderCount + ", outOfOrderBytes "
                    + outOfOrderBytes + " (expected: " + freed + " freed entries of " + freedBytes + " bytes)");
        }
        if (freeBytes() != regionSize - taken) {
            throw new IllegalStateException("freeBytes: " + freeBytes() + " (expected: " + (regionSize - taken)
                    + ", the region less the live entries)");
        }
    }

    @Override
    public String toString() {
        return NAME + "[region " + regionOffset + "+" + regionSize + ", head " + head + ", entries "
                + (headSeq - tailSeq) + ", live " + liveCount() + "]";
    }

    /** @return the index in {@link #entries} of one of a slot's longs */
    private static int at(int slot, int field) {
        return (slot << ENTRY_LONGS_SHIFT) + field;
    }

    private long handle(long seq) {
        return IndexedHandles.encode(tag, (int) (seq >>> GENERATION_SHIFT) & GENERATION_MASK, (int) seq & INDEX_MASK);
    }

    /** @return the span from the oldest entry's start to the newest's end, the skipped end of the region included */
    private long occupiedBytes() {
        if (headSeq == tailSeq) {
            return 0;
        }
        long tail = entries[at((int) tailSeq & mask, START)];
        return head > tail ? head - tail : (regionEnd - tail) + (head - regionOffset);
    }

    /** @return the bytes an entry takes: its padding (the skipped end of the region included when it wraps) and more */
    private long extent(int slot) {
        int i = at(slot, SEQ);
        long start = entries[i + START];
        long offset = entries[i + OFFSET];
        long end = entries[i + END];
        return start <= offset ? end - start : (regionEnd - start) + (end - regionOffset);
    }

    /**
     * @return whether an allocation ending before {@code end} would share a granularity page with the oldest entry's
     *     allocation, which follows it in address order unless that entry wraps
     */
    private boolean touchesOldest(long end, byte code, int oldest) {
        int i = at(oldest, SEQ);
        return granularity > 1 && entries[i + START] <= entries[i + OFFSET] && conflicts(types[oldest], code)
                && samePage(end - 1, entries[i + OFFSET], granularity);
    }

    private void checkGranularity(int lower, int upper) {
        long lowerEnd = entries[at(lower, END)];
        long upperOffset = entries[at(upper, OFFSET)];
        if (granularity > 1 && conflicts(types[lower], types[upper])
                && samePage(lowerEnd - 1, upperOffset, granularity)) {
            throw new IllegalStateException("allocation at " + upperOffset + " shares a granularity page with the "
                    + "one ending at " + lowerEnd + " (expected: conflicting types on pages of " + granularity
                    + " bytes apart)");
        }
    }

    /** Reports entries {@code [from, to)}, none of which wraps: live ones as allocations, freed ones as free. */
    private void visitRun(FreeRangeMerger out, long from, long to) {
        for (long s = from; s != to; s++) {
            int slot = (int) s & mask;
            int i = at(slot, SEQ);
            if (entries[i + SEQ] < 0) {
                out.free(entries[i + START], entries[i + END]);
            } else {
                out.allocation(handle(s), entries[i + OFFSET], entries[i + END] - entries[i + OFFSET],
                        IndexedHandles.type(types[slot]));
            }
        }
    }

    /** @return the slot of a live entry, or throws for any other handle */
    private int liveSlot(long handle) {
        if (hasTag(handle, tag)) {
            long payload = handle & PAYLOAD_MASK;
            // The capacity divides 2^26, so the slot is the low bits of the sequence number that the handle keeps.
            int slot = (int) payload & mask;
            long seq = entries[at(slot, SEQ)];
            if (seq >= tailSeq && seq < headSeq && (seq & PAYLOAD_MASK) == payload) {
                return slot;
            }
        }
        throw IndexedHandles.badHandle(NAME, handle, tag);
    }

    /**
     * The allocations freed out of FIFO order that the oldest's free has not passed yet: while there is one,
     * {@link #tryAllocate} throws.
     *
     * @return their number, 0 when the order is whole
     */
    public int outOfOrderCount() {
        return outOfOrderCount;
    }

    /**
     * Where the oldest allocation freed out of FIFO order is, for messages that name it: O(n) in the entries.
     *
     * @return its offset, or -1 when the order is whole
     */
    public long firstOutOfOrderOffset() {
        long seq = firstOutOfOrderSeq();
        return seq < 0 ? -1 : entries[at((int) seq & mask, OFFSET)];
    }

    /** @return the sequence number of the oldest entry freed out of order, or -1 when the order is whole */
    private long firstOutOfOrderSeq() {
        if (outOfOrderCount == 0) {
            return -1;
        }
        for (long s = tailSeq + 1; s != headSeq; s++) {
            if (entries[at((int) s & mask, SEQ)] < 0) {
                return s;
            }
        }
        throw new IllegalStateException("outOfOrderCount: " + outOfOrderCount + " (expected: a freed entry among "
                + (headSeq - tailSeq) + ")");
    }

    private IllegalStateException outOfOrder() {
        int oldest = (int) tailSeq & mask;
        long freed = firstOutOfOrderSeq();
        return new IllegalStateException("ring out of FIFO order: " + outOfOrderCount + " allocation(s) were freed "
                + "while an older one is live, the first at offset " + entries[at((int) freed & mask, OFFSET)]
                + " (handle " + hex(handle(freed)) + "); the oldest, at offset " + entries[at(oldest, OFFSET)]
                + " (handle " + hex(handle(tailSeq)) + "), is live (expected: free the allocations in the order they"
                + " were made, or reset())");
    }

    private void grow() {
        int newCapacity = (mask + 1) * 2;
        int newMask = newCapacity - 1;
        long[] newEntries = new long[newCapacity << ENTRY_LONGS_SHIFT];
        byte[] newTypes = new byte[newCapacity];
        for (long s = tailSeq; s != headSeq; s++) {
            int from = (int) s & mask;
            int to = (int) s & newMask;
            System.arraycopy(entries, at(from, SEQ), newEntries, at(to, SEQ), 1 << ENTRY_LONGS_SHIFT);
            newTypes[to] = types[from];
        }
        entries = newEntries;
        types = newTypes;
        mask = newMask;
    }
}
