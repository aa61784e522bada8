package io.github.solvk.memory.suballocator;

import static io.github.solvk.memory.suballocator.IndexedHandles.FREED_BIT;
import static io.github.solvk.memory.suballocator.IndexedHandles.MAX_ENTRIES;
import static io.github.solvk.memory.suballocator.IndexedHandles.alignUp;
import static io.github.solvk.memory.suballocator.IndexedHandles.encode;
import static io.github.solvk.memory.suballocator.IndexedHandles.hasTag;
import static io.github.solvk.memory.suballocator.IndexedHandles.index;
import static io.github.solvk.memory.suballocator.IndexedHandles.nextGeneration;
import static io.github.solvk.memory.suballocator.IndexedHandles.stamp;
import static io.github.solvk.memory.suballocator.IndexedHandles.stampGeneration;
import static io.github.solvk.memory.suballocator.IndexedHandles.stampMatches;
import static io.github.solvk.memory.suballocator.IndexedHandles.stampType;
import static io.github.solvk.memory.suballocator.IndexedHandles.typeCode;

import java.util.Arrays;

/**
 * A pool of equal slots, any of which is handed out for an allocation of up to the slot size, freed in any order.
 *
 * <p><b>When to use it.</b> For many objects of one size class: uniform or instance buffers, descriptor-sized
 * records, the small-object pools of vulkano's pool allocator. It is the fastest allocator that takes frees in any
 * order and never fragments, at the price of rounding every allocation up to a slot. For mixed sizes use the TLSF or
 * buddy suballocator; for lifetimes that nest or end in order, {@link StackSuballocator} or {@link RingSuballocator}.
 *
 * <p><b>Algorithm.</b> The slot stride is {@code slotSize} rounded up to {@code slotAlignment}; slot {@code i} starts
 * at {@code firstSlot + i * stride}, where {@code firstSlot} is the region's start rounded up to
 * {@code slotAlignment}. A slot needs only its {@code slotSize} bytes inside the region, not a whole stride (the
 * padding up to the next slot is there only to align that slot), so there are
 * {@code (regionEnd - firstSlot - slotSize) / stride + 1} slots, and the last may be shorter than a stride: a slot
 * <em>takes</em> {@code min(stride, regionEnd - its offset)} bytes, a whole stride for all but possibly the last.
 * The bytes before the first slot and after the last one's taken bytes are never used. Free slots that were used
 * before sit on a LIFO free list of slot indices in an {@code int} array; slots never used yet are handed out in index
 * order above a watermark, so that the arrays grow (by doubling) only as far as the pool is used and {@link #reset()}
 * is O(1). An allocation takes the most recently freed slot (warm in caches), else the next slot above the watermark,
 * else returns {@link Suballocator#NULL_HANDLE}. An allocation larger than {@code slotSize}, or with an alignment
 * above {@code slotAlignment}, can never succeed and is a caller bug: it throws {@link IllegalArgumentException}
 * naming the value and the limit. Worked example, region {@code [1000, 1900)},
 * slot size 100, slot alignment 64:
 * <pre>
 *   stride 128 (100 rounded up to 64), firstSlot 1024, slots (1900 - 1024 - 100) / 128 + 1 = 7: 1024, ..., 1792
 *     (the last, at 1792, ends its 100 bytes at 1892 &lt;= 1900 and takes 1900 - 1792 = 108 bytes, not a stride;
 *     whole strides alone would give (1900 - 1024) / 128 = 6 slots)
 *   A = tryAllocate(100, 64, LINEAR)   slot 0 at 1024          B = tryAllocate(1, 1, LINEAR)   slot 1 at 1152
 *   free(A); C = tryAllocate(30, 16, NON_LINEAR)   slot 0 again, at 1024; freeBytes 900 - 2 * 128 = 644
 *   five more allocations              slots 2 to 6; freeBytes 900 - 6 * 128 - 108 = 24 (the 24 bytes before 1024)
 *   tryAllocate(1, 1, LINEAR)          NULL_HANDLE: every slot is live
 *   tryAllocate(101, 1, LINEAR)        throws: size: 101 (expected: &lt;= the slot size 100)
 *   tryAllocate(8, 128, LINEAR)        throws: alignment: 128 (expected: &lt;= the slot alignment 64)
 * </pre>
 *
 * <p><b>Buffer-image granularity</b> (see the package documentation). The pool does not take a granularity: keeping one
 * {@link AllocationType} per pool, or choosing {@code slotAlignment >= bufferImageGranularity} (then every slot starts
 * on a page of its own, because the first slot and the stride are multiples of the granularity), is the caller's
 * responsibility. The type is recorded for {@link #type} and {@link #visit}.
 *
 * <p><b>Handle layout</b> (see {@link IndexedHandles}):
 * <pre>
 *  63  62           48 47                        26 25                          0
 * +---+---------------+----------------------------+----------------------------+
 * | 0 |  tag (15)     |  generation (22)           |  slot index (26)           |
 * +---+---------------+----------------------------+----------------------------+
 * </pre>
 * A slot's generation is advanced each time it is handed out, so handles of freed or reset slots are stale. A pool
 * has at most 2<sup>26</sup> slots.
 *
 * <p><b>Complexity.</b> {@link #tryAllocate} and {@link #free}: O(1), worst case included, apart from the doubling of
 * the arrays while the watermark first rises (steady state allocates nothing). {@link #reset()}: O(1).
 * {@link #visit} and {@link #checkInvariants()}: O(slots). Memory: 16 bytes per slot up to the highest slot used.
 *
 * <p><b>Invariants</b> ({@link #checkInvariants()}):
 * <ul>
 *   <li>the first slot and the stride are multiples of the slot alignment, the stride holds the slot size, and the
 *       slot count is {@code (regionEnd - firstSlot - slotSize) / stride + 1}: every slot's first {@code slotSize}
 *       bytes lie within the region, and one more slot's would not;</li>
 *   <li>{@code 0 <= free list length <= watermark <= slots}; {@code liveCount()} is {@code watermark - free list
 *       length};</li>
 *   <li>the free list holds distinct slots below the watermark, each freed; every other slot below the watermark
 *       is live with a size in {@code [1, slotSize]};</li>
 *   <li>{@link #freeBytes()} is the region's size minus the bytes the live slots take (a stride each, the last slot
 *       {@code min(stride, regionEnd - its offset)}), so never negative; {@link #visit} reports no range past the
 *       region's end.</li>
 * </ul>
 *
 * <p><b>Reference.</b> vulkano's pool suballocator (fixed-size blocks with a free list of indices); the same idea
 * as a classic free-list object pool, with Netty-style generation-stamped {@code long} handles.
 */
public final class FixedSizeSuballocator implements Suballocator {

    private static final String NAME = "FixedSizeSuballocator";
    private static final int INITIAL_CAPACITY = 16;

    private final long regionOffset;
    private final long regionSize;
    private final long slotSize;
    private final long slotAlignment;
    private final long stride;
    private final long firstSlot;
    private final int slotCount;
    private final int tag = IndexedHandles.nextTag();

    /** Walks of {@link #visit} in progress; while one runs, calls that change the state throw. */
    private final VisitCount visits = new VisitCount();

    /** Per slot: its stamp (generation and type, see {@link IndexedHandles#stamp}), freed bit included. */
    private int[] stamps;
    private long[] sizes;
    /** Free slots below the watermark, the most recently freed last. */
    private int[] freeList;
    private int freeTop;
    /** Slots at or above it were never handed out since construction or the last reset. */
    private int watermark;

    /**
     * Creates a pool of equal slots over {@code [regionOffset, regionOffset + regionSize)}.
     *
     * @param regionOffset  the region's first byte, {@code >= 0}
     * @param regionSize    bytes, {@code > 0}, with {@code regionOffset + regionSize <= 2^62}
     * @param slotSize      the largest allocation, {@code > 0}
     * @param slotAlignment the alignment of every slot and the largest alignment honoured, a power of two
     * @throws IllegalArgumentException for a bad region, slot size or alignment, when not even one slot fits, or when
     *                                  more than 2<sup>26</sup> would
     */
    public FixedSizeSuballocator(long regionOffset, long regionSize, long slotSize, long slotAlignment) {
        IndexedHandles.checkRegion(regionOffset, regionSize);
        if (slotSize <= 0 || slotSize > regionSize) {
            throw new IllegalArgumentException("slotSize: " + slotSize + " (expected: in [1, regionSize " + regionSize
                    + "])");
        }
        IndexedHandles.checkPowerOfTwo("slotAlignment", slotAlignment);
        long regionEnd = regionOffset + regionSize;
        // slotSize, slotAlignment and regionOffset are all <= 2^62 here, so neither rounding can overflow, and both
        // results are at most 2^62 (a multiple of every alignment up to 2^62).
        long stride = alignUp(slotSize, slotAlignment);
        long firstSlot = alignUp(regionOffset, slotAlignment);
        long slots = slotCount(firstSlot, regionEnd, slotSize, stride);
        if (slots == 0) {
            throw new IllegalArgumentException("slotSize: " + slotSize + " with slotAlignment " + slotAlignment
                    + " (expected: at least one slot in [" + regionOffset + ", " + regionEnd + "))");
        }
        if (slots > MAX_ENTRIES) {
            throw new IllegalArgumentException("slots: " + slots + " (expected: <= 2^26 = " + MAX_ENTRIES
                    + "; use a larger slotSize or a smaller region)");
        }
        this.regionOffset = regionOffset;
        this.regionSize = regionSize;
        this.slotSize = slotSize;
        this.slotAlignment = slotAlignment;
        this.stride = stride;
        this.firstSlot = firstSlot;
        this.slotCount = (int) slots;
        int capacity = Math.min(INITIAL_CAPACITY, slotCount);
        this.stamps = new int[capacity];
        this.sizes = new long[capacity];
        this.freeList = new int[capacity];
    }

    /**
     * How many slots of {@code slotSize} bytes, {@code stride} apart from {@code firstSlot}, fit before
     * {@code regionEnd}: the last needs only its {@code slotSize} bytes, not a whole stride.
     *
     * @return {@code (regionEnd - firstSlot - slotSize) / stride + 1}, or 0 when not even one slot fits
     */
    private static long slotCount(long firstSlot, long regionEnd, long slotSize, long stride) {
        // All four are in [0, 2^62] (stride >= 1), so the differences cannot overflow; the quotient is at most 2^62,
        // so adding 1 cannot either. Testing the room first keeps the dividend >= 0 (a negative one would round
        // towards zero and count a slot that does not fit).
        if (firstSlot > regionEnd || regionEnd - firstSlot < slotSize) {
            return 0;
        }
        return (regionEnd - firstSlot - slotSize) / stride + 1;
    }

    /** @return the largest allocation, as given */
    public long slotSize() {
        return slotSize;
    }

    /** @return the alignment of every slot, as given */
    public long slotAlignment() {
        return slotAlignment;
    }

    /** @return the distance between slots: the slot size rounded up to the slot alignment */
    public long slotStride() {
        return stride;
    }

    /**
     * @return how many slots the region holds: {@code (regionEnd - firstSlot - slotSize) / stride + 1}, the last
     *         needing only {@code slotSize} bytes of the region
     */
    public int slotCount() {
        return slotCount;
    }

    /**
     * @return the bytes that slot {@code slot} takes while live: a whole stride, except that the last slot ends at the
     *         region's end when that comes first; at least {@link #slotSize()}
     */
    private long slotExtent(int slot) {
        // slot < slotCount, so slot * stride <= regionEnd - firstSlot - slotSize: no overflow, and the difference
        // below is >= slotSize.
        return Math.min(stride, regionOffset + regionSize - (firstSlot + slot * stride));
    }

    /** @return the bytes the last slot does not take of a whole stride: 0 unless the region's end cuts it short */
    private long lastSlotShortfall() {
        return stride - slotExtent(slotCount - 1);
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException also for a size above {@link #slotSize()} or an alignment above
     *                                  {@link #slotAlignment()}
     */
    @Override
    public long tryAllocate(long size, long alignment, AllocationType type) {
        if (IndexedHandles.isBadRequest(size, alignment, type)) {
            throw IndexedHandles.badRequest(size, alignment, type);
        }
        if (size > slotSize) {
            throw new IllegalArgumentException("size: " + size + " (expected: <= the slot size " + slotSize + ")");
        }
        if (alignment > slotAlignment) {
            throw new IllegalArgumentException("alignment: " + alignment + " (expected: <= the slot alignment "
                    + slotAlignment + ")");
        }
        visits.checkIdle("tryAllocate", NAME);
        int slot;
        if (freeTop != 0) {
            slot = freeList[--freeTop];
        } else if (watermark != slotCount) {
            slot = watermark;
            if (slot == stamps.length) {
                grow();
            }
            watermark = slot + 1;
        } else {
            return NULL_HANDLE;
        }
        int generation = nextGeneration(stamps[slot]);
        stamps[slot] = stamp(generation, typeCode(type));
        sizes[slot] = size;
        return encode(tag, generation, slot);
    }

    @Override
    public void free(long handle) {
        visits.checkIdle("free", NAME);
        int slot = liveSlot(handle);
        stamps[slot] |= FREED_BIT;
        freeList[freeTop++] = slot;
    }

    @Override
    public void reset() {
        visits.checkIdle("reset", NAME);
        // Outstanding handles name slots >= watermark, which liveSlot rejects; a slot's generation is advanced when
        // it is handed out again, so they stay stale afterwards.
        freeTop = 0;
        watermark = 0;
    }

    @Override
    public long offset(long handle) {
        // slot < slotCount, so slot * stride <= regionEnd - firstSlot - slotSize: no overflow.
        return firstSlot + liveSlot(handle) * stride;
    }

    @Override
    public long size(long handle) {
        return sizes[liveSlot(handle)];
    }

    @Override
    public AllocationType type(long handle) {
        return IndexedHandles.type(stampType(stamps[liveSlot(handle)]));
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
     * <p>Here: the region's size minus the bytes the live slots take, a stride each except that a live last slot
     * takes only {@code min(stride, regionEnd - its offset)}; never negative. The bytes before the first slot and after
     * the last one's count as free although no allocation can use them.
     */
    @Override
    public long freeBytes() {
        // Every slot but the last ends its stride inside the region; a live last slot takes only what is left of it.
        long taken = liveCount() * stride;
        if (watermark == slotCount && stamps[slotCount - 1] >= 0) {
            taken -= lastSlotShortfall();
        }
        return regionSize - taken;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: {@link #slotSize()} while a slot is free, else 0, since no allocation can be larger than one slot.
     */
    @Override
    public long largestFreeRange() {
        return liveCount() < slotCount ? slotSize : 0;
    }

    @Override
    public int liveCount() {
        // Every slot below the watermark is either live or on the free list.
        return watermark - freeTop;
    }

    @Override
    public SuballocatorKind kind() {
        return SuballocatorKind.POOL;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The free ranges are exactly the bytes that {@link #freeBytes()} counts (free slots and the bytes outside the
     * slots), with touching ones merged, none past the region's end; the unused end of a live slot (up to the next
     * slot, or for the last slot up to {@code min(its offset + stride, regionEnd)}) is taken, so it is reported as
     * neither.
     */
    @Override
    public void visit(Visitor visitor) {
        visits.run(this::walk, visitor);
    }

    private void walk(Visitor visitor) {
        FreeRangeMerger out = new FreeRangeMerger(visitor);
        out.free(regionOffset, firstSlot);
        for (int slot = 0; slot < watermark; slot++) {
            long offset = firstSlot + slot * stride;
            if (stamps[slot] < 0) {
                out.free(offset, offset + slotExtent(slot));
            } else {
                out.allocation(encode(tag, stampGeneration(stamps[slot]), slot), offset, sizes[slot],
                        IndexedHandles.type(stampType(stamps[slot])));
            }
        }
        // From the end of the last slot handed out (or the first slot), but never past the region's end, which cuts
        // a short last slot. No overflow: the slot before the watermark starts at most at regionEnd - slotSize, and
        // stride <= slotSize + slotAlignment - 1, so the sum is at most regionEnd + slotAlignment - 1 < 2^63.
        long end = regionOffset + regionSize;
        out.free(Math.min(firstSlot + watermark * stride, end), end);
        out.flush();
    }

    @Override
    public void checkInvariants() {
        long regionEnd = regionOffset + regionSize;
        long fitting = stride < 1 ? -1 : slotCount(firstSlot, regionEnd, slotSize, stride);
        if (firstSlot % slotAlignment != 0 || stride % slotAlignment != 0 || stride < slotSize
                || firstSlot < regionOffset || slotCount < 1 || slotCount > MAX_ENTRIES || slotCount != fitting) {
            throw new IllegalStateException("slots: " + slotCount + " from " + firstSlot + " every " + stride
                    + " (expected: aligned to " + slotAlignment + ", holding " + slotSize + " bytes, as many as"
                    + " fit their slot size before the region's end " + regionEnd + ": " + fitting + ")");
        }
        if (watermark < 0 || watermark > slotCount || freeTop < 0 || freeTop > watermark) {
            throw new IllegalStateException("watermark: " + watermark + ", free list " + freeTop
                    + " (expected: 0 <= free list <= watermark <= " + slotCount + ")");
        }
        boolean[] listed = new boolean[watermark];
        for (int i = 0; i < freeTop; i++) {
            int slot = freeList[i];
            if (slot < 0 || slot >= watermark || listed[slot] || stamps[slot] >= 0) {
                throw new IllegalStateException("free list entry " + i + ": slot " + slot + " (expected: a distinct "
                        + "freed slot below the watermark " + watermark + ")");
            }
            listed[slot] = true;
        }
        for (int slot = 0; slot < watermark; slot++) {
            if (!listed[slot] && (stamps[slot] < 0 || sizes[slot] < 1 || sizes[slot] > slotSize)) {
                throw new IllegalStateException("slot " + slot + ": stamp " + stamps[slot] + ", size " + sizes[slot]
                        + " (expected: live with a size in [1, " + slotSize + "] or on the free list)");
            }
        }
        int live = 0;
        long taken = 0;
        for (int slot = 0; slot < watermark; slot++) {
            if (stamps[slot] >= 0) {
                live++;
                taken += slotExtent(slot);
            }
        }
        if (live != liveCount() || freeBytes() != regionSize - taken || freeBytes() < 0) {
            throw new IllegalStateException("liveCount: " + liveCount() + ", freeBytes " + freeBytes() + " (expected: "
                    + live + ", " + (regionSize - taken) + " >= 0: the region less what the live slots take)");
        }
    }

    @Override
    public String toString() {
        return NAME + "[region " + regionOffset + "+" + regionSize + ", " + slotCount + " slots of " + slotSize
                + " every " + stride + ", live " + liveCount() + "]";
    }

    /** @return the slot of a live allocation, or throws for any other handle */
    private int liveSlot(long handle) {
        int slot = index(handle);
        if (!hasTag(handle, tag) || slot >= watermark || !stampMatches(stamps[slot], handle)) {
            throw IndexedHandles.badHandle(NAME, handle, tag);
        }
        return slot;
    }

    private void grow() {
        int capacity = (int) Math.min((long) stamps.length * 2, slotCount);
        stamps = Arrays.copyOf(stamps, capacity);
        sizes = Arrays.copyOf(sizes, capacity);
        freeList = Arrays.copyOf(freeList, capacity);
    }
}
