package io.github.solvk.memory.suballocator;

import static io.github.solvk.memory.suballocator.IndexedHandles.FREED_BIT;
import static io.github.solvk.memory.suballocator.IndexedHandles.MAX_ENTRIES;
import static io.github.solvk.memory.suballocator.IndexedHandles.alignUp;
import static io.github.solvk.memory.suballocator.IndexedHandles.conflicts;
import static io.github.solvk.memory.suballocator.IndexedHandles.encode;
import static io.github.solvk.memory.suballocator.IndexedHandles.hasTag;
import static io.github.solvk.memory.suballocator.IndexedHandles.hex;
import static io.github.solvk.memory.suballocator.IndexedHandles.index;
import static io.github.solvk.memory.suballocator.IndexedHandles.nextGeneration;
import static io.github.solvk.memory.suballocator.IndexedHandles.samePage;
import static io.github.solvk.memory.suballocator.IndexedHandles.stamp;
import static io.github.solvk.memory.suballocator.IndexedHandles.stampGeneration;
import static io.github.solvk.memory.suballocator.IndexedHandles.stampMatches;
import static io.github.solvk.memory.suballocator.IndexedHandles.stampType;
import static io.github.solvk.memory.suballocator.IndexedHandles.typeCode;

import java.util.Arrays;

/**
 * A bump-pointer suballocator whose allocations are freed in LIFO order, or all at once by {@link #reset()}.
 *
 * <p><b>When to use it.</b> For memory whose lifetimes nest: per-frame or per-pass scratch, a level that is loaded
 * and unloaded as a whole, SOL's stack pool, and SOL's free-at-once pool (allocate, then {@link #reset()}). It is the
 * cheapest algorithm (one aligned add per allocation) and wastes nothing but alignment and granularity padding. When
 * frees come in allocation order use {@link RingSuballocator}; in any order, the TLSF suballocator; for one size,
 * {@link FixedSizeSuballocator}.
 *
 * <p><b>Algorithm.</b> Entries form a stack in offset order. Entry {@code i} covers {@code [start, end)}, where
 * {@code start} is the previous entry's {@code end} (the region's start for the bottom entry) and the allocation
 * itself is {@code [offset, end)}; {@code [start, offset)} is padding that belongs to the entry. An allocation starts
 * at the {@code head} (the top entry's end), rounded up to the alignment, and, when the top entry's type conflicts
 * with the new type (see {@link AllocationType#conflictsWith}) and the two would share a granularity page (the
 * package documentation draws it), further up to the granularity. It fails with {@link Suballocator#NULL_HANDLE}
 * when it does not fit below the region's end. Freeing the top entry pops it, and then pops every entry below it
 * that was already freed, moving the head down.
 *
 * <p>SOL's stack rule: freeing an entry that is not the top is accepted and recorded (its bytes count as free in
 * {@link #freeBytes()}, it leaves {@link #liveCount()}, its handle becomes stale), but the stack is then <em>out of
 * order</em>, and every {@link #tryAllocate} throws {@link IllegalStateException}, naming the highest freed entry and
 * the live top entry above it, until frees have "fixed" the order: that happens exactly when every entry above the
 * freed ones has been freed too, because freeing the top then pops the whole run of freed entries. {@link #reset()}
 * also fixes it. Frees themselves never throw for their order. Worked example, region {@code [1000, 2000)} with
 * granularity 64:
 * <pre>
 *   A = tryAllocate(100, 16, LINEAR)      offset 1008 (1000 rounded up to 16), entry [1000, 1108)
 *   B = tryAllocate(50, 1, NON_LINEAR)    1108 shares page [1088, 1152) with A's last byte 1107 and the types
 *                                         conflict: offset 1152, entry [1108, 1202)
 *   C = tryAllocate(10, 1, NON_LINEAR)    offset 1202, entry [1202, 1212)
 *   free(B)                               accepted; freeBytes 1000 - 108 - 10 = 882; the stack is out of order
 *   tryAllocate(...)                      throws IllegalStateException naming B (1152) and the live top C (1202)
 *   free(C)                               pops C, then the freed B: head 1108, the order is fixed
 *   tryAllocate(8, 1, LINEAR)             offset 1108
 * </pre>
 *
 * <p><b>Handle layout</b> (see {@link IndexedHandles}), the index being the entry's depth in the stack:
 * <pre>
 *  63  62           48 47                        26 25                          0
 * +---+---------------+----------------------------+----------------------------+
 * | 0 |  tag (15)     |  generation (22)           |  depth (26)                |
 * +---+---------------+----------------------------+----------------------------+
 * </pre>
 * A depth's generation is advanced each time an entry is pushed there, so handles of popped or reset entries are
 * stale. At most 2<sup>26</sup> entries fit; beyond that {@link #tryAllocate} returns {@link Suballocator#NULL_HANDLE}.
 *
 * <p><b>Complexity.</b> {@link #tryAllocate}: O(1), amortized over the doubling of the entry arrays (steady state
 * allocates nothing). {@link #free}: O(1) amortized; one free pops at most every entry (O(n) worst case), but each
 * entry is popped once. {@link #reset()}: O(1). {@link #visit} and {@link #checkInvariants()}: O(n). Memory: 20 bytes
 * per entry of the deepest stack so far.
 *
 * <p><b>Invariants</b> ({@link #checkInvariants()}):
 * <ul>
 *   <li>the entries tile {@code [regionOffset, head)}: the bottom starts at the region's start, each starts at the
 *       previous one's end, {@code start <= offset < end <= regionOffset + regionSize}, and the head is the top's
 *       end (the region's start when empty);</li>
 *   <li>the top entry, if any, is live; the freed entries below it number {@code outOfOrderCount}, and
 *       {@code liveCount() == depth - outOfOrderCount};</li>
 *   <li>the bytes taken (live entries' {@code end - start}) plus {@link #freeBytes()} equal the region's size, and
 *       the freed entries' bytes equal {@code outOfOrderBytes};</li>
 *   <li>neighbouring entries of conflicting types do not share a granularity page.</li>
 * </ul>
 *
 * <p><b>Reference.</b> The linear algorithm of AMD's Vulkan Memory Allocator (its "stack" use of a linear pool) and
 * vulkano's bump allocator; the out-of-order rule is SOL's stack memory pool (see {@code DESIGN.md}).
 */
public final class StackSuballocator implements Suballocator {

    private static final String NAME = "StackSuballocator";
    private static final int INITIAL_CAPACITY = 16;

    private final long regionOffset;
    private final long regionSize;
    private final long regionEnd;
    private final long granularity;
    private final int tag = IndexedHandles.nextTag();

    /** Walks of {@link #visit} in progress; while one runs, calls that change the state throw. */
    private final VisitCount visits = new VisitCount();

    /**
     * Entry {@code d}'s offset at {@code [2d + 1]} and end at {@code [2d + 2]}; {@code [0]} holds the region's start,
     * so that every entry's start, the previous end, is at {@code [2d]}.
     */
    private long[] bounds = new long[2 * INITIAL_CAPACITY + 1];
    /** Each depth's entry's stamp (generation and type, see {@link IndexedHandles#stamp}), freed bit included. */
    private int[] stamps = new int[INITIAL_CAPACITY];

    /** Entries on the stack, freed-but-not-popped ones included. */
    private int depth;
    /** Entries below the top that were freed out of LIFO order and are not popped yet. */
    private int outOfOrderCount;
    /** The top entry's end, or the region's start. */
    private long head;
    /** Sum of {@code end - start} over the entries freed out of order; the rest of {@code [start, head)} is taken. */
    private long outOfOrderBytes;

    /**
     * Creates a stack over {@code [regionOffset, regionOffset + regionSize)} with no granularity constraint.
     *
     * @param regionOffset the region's first byte, {@code >= 0}
     * @param regionSize   bytes, {@code > 0}, with {@code regionOffset + regionSize <= 2^62}
     * @throws IllegalArgumentException for a bad region
     */
    public StackSuballocator(long regionOffset, long regionSize) {
        this(regionOffset, regionSize, 1);
    }

    /**
     * Creates a stack over {@code [regionOffset, regionOffset + regionSize)}.
     *
     * @param regionOffset           the region's first byte, {@code >= 0}
     * @param regionSize             bytes, {@code > 0}, with {@code regionOffset + regionSize <= 2^62}
     * @param bufferImageGranularity the page size that conflicting neighbours must not share, a power of two
     *                               ({@code 1} for none)
     * @throws IllegalArgumentException for a bad region or granularity
     */
    public StackSuballocator(long regionOffset, long regionSize, long bufferImageGranularity) {
        IndexedHandles.checkRegion(regionOffset, regionSize);
        IndexedHandles.checkPowerOfTwo("bufferImageGranularity", bufferImageGranularity);
        this.regionOffset = regionOffset;
        this.regionSize = regionSize;
        this.regionEnd = regionOffset + regionSize;
        this.granularity = bufferImageGranularity;
        this.head = regionOffset;
        this.bounds[0] = regionOffset;
    }

    /** @return the granularity given at construction */
    public long bufferImageGranularity() {
        return granularity;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException when an earlier free was out of LIFO order and not yet fixed (see the class
     *                               documentation)
     */
    @Override
    public long tryAllocate(long size, long alignment, AllocationType type) {
        if (IndexedHandles.isBadRequest(size, alignment, type)) {
            throw IndexedHandles.badRequest(size, alignment, type);
        }
        visits.checkIdle("tryAllocate", NAME);
        if (outOfOrderCount != 0) {
            throw outOfOrder();
        }
        int d = depth;
        long start = head;
        long offset = alignUp(start, alignment);
        byte code = typeCode(type);
        if (granularity > 1 && d > 0 && conflicts(stampType(stamps[d - 1]), code)
                && samePage(start - 1, offset, granularity)) {
            offset = alignUp(offset, granularity);
        }
        // offset <= 2^62 and regionEnd <= 2^62, so the difference cannot overflow; it is negative past the end.
        if (size > regionEnd - offset || d == MAX_ENTRIES) {
            return NULL_HANDLE;
        }
        if (d == stamps.length) {
            grow();
        }
        int generation = nextGeneration(stamps[d]);
        long end = offset + size;
        bounds[2 * d + 1] = offset;
        bounds[2 * d + 2] = end;
        stamps[d] = stamp(generation, code);
        head = end;
        depth = d + 1;
        return encode(tag, generation, d);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Freeing an entry other than the top is accepted; it makes the next {@link #tryAllocate} throw until the order
     * is fixed (see the class documentation).
     */
    @Override
    public void free(long handle) {
        visits.checkIdle("free", NAME);
        int d = liveDepth(handle);
        if (d == depth - 1 && outOfOrderCount == 0) {
            // A popped entry needs no mark: its depth is now >= depth, which liveDepth rejects.
            depth = d;
            head = bounds[2 * d];
        } else {
            freeSlow(d);
        }
    }

    private void freeSlow(int d) {
        if (d != depth - 1) {
            stamps[d] |= FREED_BIT;
            outOfOrderCount++;
            outOfOrderBytes += bounds[2 * d + 2] - bounds[2 * d];
            return;
        }
        int newDepth = d;
        // Pop the run of entries that were freed out of order and now lie on top; each is popped once.
        while (newDepth > 0 && (stamps[newDepth - 1] & FREED_BIT) != 0) {
            newDepth--;
            outOfOrderCount--;
            outOfOrderBytes -= bounds[2 * newDepth + 2] - bounds[2 * newDepth];
        }
        depth = newDepth;
        head = bounds[2 * newDepth];
    }

    @Override
    public void reset() {
        visits.checkIdle("reset", NAME);
        // Handles of the dropped entries name depths >= depth, which liveDepth rejects; a depth's generation is
        // advanced when it is pushed again, so they stay stale afterwards.
        depth = 0;
        outOfOrderCount = 0;
        head = regionOffset;
        outOfOrderBytes = 0;
    }

    @Override
    public long offset(long handle) {
        return bounds[2 * liveDepth(handle) + 1];
    }

    @Override
    public long size(long handle) {
        int d = liveDepth(handle);
        return bounds[2 * d + 2] - bounds[2 * d + 1];
    }

    @Override
    public AllocationType type(long handle) {
        return IndexedHandles.type(stampType(stamps[liveDepth(handle)]));
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
        // Everything below the head is taken but the entries freed out of order.
        return regionEnd - head + outOfOrderBytes;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: the bytes above the head, where the next allocation goes.
     */
    @Override
    public long largestFreeRange() {
        return regionEnd - head;
    }

    @Override
    public int liveCount() {
        return depth - outOfOrderCount;
    }

    @Override
    public SuballocatorKind kind() {
        return SuballocatorKind.STACK;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The free ranges are exactly the bytes that {@link #freeBytes()} counts, entries freed out of order included,
     * with touching ones merged; the padding of live entries is taken, so it is reported as neither.
     */
    @Override
    public void visit(Visitor visitor) {
        visits.run(this::walk, visitor);
    }

    private void walk(Visitor visitor) {
        FreeRangeMerger out = new FreeRangeMerger(visitor);
        for (int d = 0; d < depth; d++) {
            if ((stamps[d] & FREED_BIT) != 0) {
                out.free(bounds[2 * d], bounds[2 * d + 2]);
            } else {
                out.allocation(encode(tag, stampGeneration(stamps[d]), d), bounds[2 * d + 1],
                        bounds[2 * d + 2] - bounds[2 * d + 1], IndexedHandles.type(stampType(stamps[d])));
            }
        }
        out.free(head, regionEnd);
        out.flush();
    }

    @Override
    public void checkInvariants() {
        if (bounds[0] != regionOffset) {
            throw new IllegalStateException("bounds[0]: " + bounds[0] + " (expected: " + regionOffset + ")");
        }
        long expectedStart = regionOffset;
        long taken = 0;
        long freedBytes = 0;
        int freed = 0;
        for (int d = 0; d < depth; d++) {
            long offset = bounds[2 * d + 1];
            long end = bounds[2 * d + 2];
            if (offset < expectedStart || end <= offset || end > regionEnd) {
                throw new IllegalStateException("entry " + d + ": [" + offset + ", " + end + ") (expected: within ["
                        + expectedStart + ", " + regionEnd + ") and not empty)");
            }
            if ((stamps[d] & FREED_BIT) != 0) {
                freed++;
                freedBytes += end - expectedStart;
            } else {
                taken += end - expectedStart;
            }
            if (d > 0 && granularity > 1 && conflicts(stampType(stamps[d - 1]), stampType(stamps[d]))
                    && samePage(expectedStart - 1, offset, granularity)) {
                throw new IllegalStateException("entry " + d + " at " + offset + " shares a granularity page with "
                        + "entry " + (d - 1) + " ending at " + expectedStart + " (expected: conflicting types on "
                        + "pages of " + granularity + " bytes apart)");
            }
            expectedStart = end;
        }
        if (head != expectedStart) {
            throw new IllegalStateException("head: " + head + " (expected: " + expectedStart + ", the top's end)");
        }
        if (depth > 0 && (stamps[depth - 1] & FREED_BIT) != 0) {
            throw new IllegalStateException("top entry " + (depth - 1) + " is freed (expected: popped)");
        }
        if (freed != outOfOrderCount) {
            throw new IllegalStateException("outOfOrderCount: " + outOfOrderCount + " (expected: " + freed
                    + " freed entries)");
        }
        if (freedBytes != outOfOrderBytes || freeBytes() != regionSize - taken) {
            throw new IllegalStateException("outOfOrderBytes: " + outOfOrderBytes + ", freeBytes " + freeBytes()
                    + " (expected: " + freedBytes + ", " + (regionSize - taken) + ")");
        }
    }

    @Override
    public String toString() {
        return NAME + "[region " + regionOffset + "+" + regionSize + ", head " + head + ", depth " + depth + ", live "
                + liveCount() + "]";
    }

    /** @return the depth of a live entry, or throws for any other handle */
    private int liveDepth(long handle) {
        int d = index(handle);
        if (!hasTag(handle, tag) || d >= depth || !stampMatches(stamps[d], handle)) {
            throw IndexedHandles.badHandle(NAME, handle, tag);
        }
        return d;
    }

    private IllegalStateException outOfOrder() {
        int freed = depth - 2;
        while ((stamps[freed] & FREED_BIT) == 0) {
            freed--;
        }
        int top = depth - 1;
        long freedOffset = bounds[2 * freed + 1];
        return new IllegalStateException("stack out of LIFO order: the allocation at offset " + freedOffset
                + " (handle " + hex(encode(tag, stampGeneration(stamps[freed]), freed)) + ") was freed while "
                + (top - freed) + " allocation(s) above it are live, the top at offset " + bounds[2 * top + 1]
                + " (handle " + hex(encode(tag, stampGeneration(stamps[top]), top)) + ") (expected: free every "
                + "allocation above offset " + freedOffset + " before allocating again, or reset())");
    }

    private void grow() {
        int capacity = (int) Math.min((long) stamps.length * 2, MAX_ENTRIES);
        bounds = Arrays.copyOf(bounds, 2 * capacity + 1);
        stamps = Arrays.copyOf(stamps, capacity);
    }
}
