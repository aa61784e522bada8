package io.github.solvk.memory.suballocator;

import java.util.Arrays;

/**
 * A two-level segregated fit (TLSF) free-list suballocator: O(1) allocation and free in any order; the default.
 *
 * <p><b>When to use it.</b> For blocks whose allocations live and die in no particular order (meshes, textures,
 * long-lived buffers). It wastes less than {@link BuddySuballocator} (no rounding to powers of two) at about the same
 * speed; a stack, ring or fixed-size pool is faster only when the order of frees or the size is known in advance.
 *
 * <p><b>Algorithm.</b> The region is cut into blocks that tile it exactly, linked in address order; a block is free or
 * holds one allocation, and two free blocks are never neighbours (a free merges at once). Every free block sits in
 * one of {@value #FL_COUNT} &times; {@value #SL_COUNT} free lists, its <em>size class</em>: the first level is the
 * power of two below the size, the second splits that range into {@value #SL_COUNT} equal steps (sizes below
 * {@value #SL_COUNT} have a class each). A {@code long} bitmap of non-empty first levels and one per first level of
 * non-empty second levels find the next non-empty class with two bit scans.
 * <p>An allocation of {@code size} at {@code alignment} may need up to {@code alignment - 1} bytes of padding in front,
 * plus up to {@code 2 * (granularity - 1)} when a live allocation of a conflicting {@link AllocationType} exists (see
 * the package documentation). Call the sum the <em>search size</em>. The allocation
 * <ol>
 *   <li>tries the head of each non-empty class from {@code size}'s own class up to, not including, the search size's
 *       rounded-up class (at most {@value #HEAD_PROBES} heads): the first that fits is a good fit;</li>
 *   <li>else takes the head of the first non-empty class at or above the search size rounded up to the next class
 *       bound: every block there is at least the search size, so it fits without a look;</li>
 *   <li>else, before giving up, looks further down the lists of step 1 (at most {@value #SCAN_LIMIT} blocks), which
 *       lifts the heap efficiency at the first failure by a point or two.</li>
 * </ol>
 * The chosen block is cut into up to three: the front padding becomes a free block of its own only if it is at least
 * {@value #FRONT_SPLIT_MIN} bytes, else the allocation keeps it; the tail becomes a free block if it is at least
 * {@value #TAIL_SPLIT_MIN} bytes, else the allocation keeps it. Keeping small padding is what stops the churn of
 * aligned allocations whose sizes are not multiples of the alignment from strewing the lists with fragments no
 * aligned request can use. A free merges the block with a free neighbour on each side and files the result.
 * <p>Example, 64 {@code SL} steps: 1000 bytes at alignment 256. Class of 1000: first level {@code 9 - 6 + 1 = 4}
 * (sizes 512 to 1023 in steps of 8), second level {@code 1000 / 8 - 64 = 61}: class [1000, 1008). Search size
 * {@code 1000 + 255 = 1255}, rounded up to the next class bound of its step of 16: 1264, class (5, 15). Step 1 looks
 * at the heads of the non-empty classes from [1000, 1008) to [1248, 1264); a free block [4000, 5100) (class
 * [1088, 1104)) fits at 4096, and the whole block becomes the allocation's: the 96 bytes of front padding are below
 * {@value #FRONT_SPLIT_MIN} and the 4-byte tail below {@value #TAIL_SPLIT_MIN}. Step 2 would take any block of 1264
 * bytes or more.
 *
 * <p><b>Handle layout</b> (see {@link SuballocatorHandles}):
 * <pre>
 *  63            48 47            32 31                             0
 * +----------------+----------------+--------------------------------+
 * |  instance tag  |   generation   |           node index           |
 * +----------------+----------------+--------------------------------+
 * </pre>
 * Blocks live in a pool of nodes held in primitive arrays ({@code int} links, {@code long} offsets), grown by
 * doubling; once the pool is big enough, allocation and free allocate nothing on the Java heap.
 *
 * <p><b>Complexity.</b> Allocation: O(1), at most {@value #HEAD_PROBES} + 1 + {@value #SCAN_LIMIT} blocks looked at
 * (a failing allocation looks at the most). Free: O(1). {@link #reset()} and {@link #checkInvariants()}: O(nodes).
 * {@link #largestFreeRange()}: O(length of the highest non-empty list). {@link #visit}: O(blocks). Growing the node
 * pool: O(nodes), amortised O(1).
 *
 * <p><b>Invariants</b> ({@link #checkInvariants()} asserts exactly these):
 * <ol>
 *   <li>the blocks, walked in address order, tile {@code [regionOffset, regionOffset + regionSize)}: each starts
 *       where the previous ends, each is non-empty, and the back links mirror the forward ones;</li>
 *   <li>no two free blocks are neighbours;</li>
 *   <li>an allocation's {@code [offset, offset + size)} lies inside its block;</li>
 *   <li>every free block is in the list of its size class and nothing else is; the lists' back links mirror the
 *       forward ones; a bitmap bit is set exactly when its list or level is non-empty;</li>
 *   <li>{@link #freeBytes()} is the sum of the free blocks, {@link #liveCount()} the number of allocations, and the
 *       per-type counts match;</li>
 *   <li>every node is exactly one of: a free block, an allocation, unused.</li>
 * </ol>
 *
 * <p><b>Reference.</b> M. Masmano, I. Ripoll, A. Crespo, J. Real, "TLSF: a new dynamic memory allocator for
 * real-time systems", ECRTS 2004; VMA's TLSF virtual block, whose tiny padding fragments this class avoids.
 */
public final class TlsfSuballocator implements Suballocator {

    /** log2 of the number of second-level classes per first level. */
    static final int SL_BITS = 6;
    static final int SL_COUNT = 1 << SL_BITS;
    static final int SL_MASK = SL_COUNT - 1;
    /** First levels: 0 for sizes below {@code SL_COUNT}, then one per power of two up to 2^62. */
    static final int FL_COUNT = 62 - SL_BITS + 2;
    static final int CLASS_COUNT = FL_COUNT << SL_BITS;

    /** Front padding below this stays with the allocation rather than becoming a free block. */
    static final long FRONT_SPLIT_MIN = 256;
    /** A tail below this stays with the allocation rather than becoming a free block. */
    static final long TAIL_SPLIT_MIN = 16;
    /** Heads of the good-fit classes looked at before the guaranteed-fit class. */
    static final int HEAD_PROBES = 4;
    /** Further blocks of the good-fit classes looked at before an allocation fails. */
    static final int SCAN_LIMIT = 32;

    private static final int NIL = -1;

    // The int fields of node i are at ints[(i << I_STRIDE_SHIFT) + I_...].
    private static final int I_PREV_PHYS = 0;
    private static final int I_NEXT_PHYS = 1;
    private static final int I_PREV_FREE = 2;
    /** The next free block in the list, or for an unused node the next unused node. */
    private static final int I_NEXT_FREE = 3;
    /** {@code state | type.ordinal() << STATE_BITS}. */
    private static final int I_STATE = 4;
    private static final int I_GENERATION = 5;
    private static final int I_STRIDE_SHIFT = 3;

    // The long fields of node i are at longs[(i << L_STRIDE_SHIFT) + L_...].
    private static final int L_START = 0;
    private static final int L_SIZE = 1;
    private static final int L_USER_OFFSET = 2;
    private static final int L_USER_SIZE = 3;
    private static final int L_STRIDE_SHIFT = 2;

    private static final int STATE_BITS = 2;
    private static final int STATE_MASK = (1 << STATE_BITS) - 1;
    private static final int UNUSED = 0;
    private static final int FREE = 1;
    private static final int TAKEN = 2;

    private static final int INITIAL_NODES = 64;
    /** Keeps {@code capacity << I_STRIDE_SHIFT} an int array length. */
    private static final int MAX_NODES = 1 << 27;

    private final long regionOffset;
    private final long regionSize;
    private final long granularity;
    private final int tag;

    private int[] ints;
    private long[] longs;
    private int capacity;
    private int unusedHead;
    private int firstBlock;

    private final int[] heads = new int[CLASS_COUNT];
    private long flBitmap;
    private final long[] slBitmaps = new long[FL_COUNT];

    private long freeBytes;
    private int liveCount;
    private final int[] liveByType = new int[SuballocatorHandles.TYPES.length];

    /**
     * Creates a suballocator whose whole region is free.
     *
     * @param regionOffset           the region's first byte, {@code >= 0}
     * @param regionSize             the region's size, {@code > 0}, with {@code regionOffset + regionSize <= 2^62}
     * @param bufferImageGranularity a power of two; 1 when no granularity applies
     * @throws IllegalArgumentException naming the first bad value
     */
    public TlsfSuballocator(long regionOffset, long regionSize, long bufferImageGranularity) {
        SuballocatorHandles.checkRegion(regionOffset, regionSize, bufferImageGranularity);
        this.regionOffset = regionOffset;
        this.regionSize = regionSize;
        this.granularity = bufferImageGranularity;
        this.tag = SuballocatorHandles.nextTag();
        this.capacity = INITIAL_NODES;
        this.ints = new int[capacity << I_STRIDE_SHIFT];
        this.longs = new long[capacity << L_STRIDE_SHIFT];
        reset();
    }

    // ---- size classes ----

    /** @return the class whose range holds {@code size}: {@code lowerBound(c) <= size < lowerBound(c + 1)} */
    static int classOf(long size) {
        int log2 = 63 - Long.numberOfLeadingZeros(size);
        if (log2 < SL_BITS) {
            return (int) size;
        }
        int fl = log2 - SL_BITS + 1;
        int sl = (int) (size >>> (log2 - SL_BITS)) - SL_COUNT;
        return (fl << SL_BITS) | sl;
    }

    /** @return the smallest class all of whose blocks are at least {@code size} bytes, for {@code size <= 2^62} */
    static int searchClassOf(long size) {
        int log2 = 63 - Long.numberOfLeadingZeros(size);
        if (log2 < SL_BITS) {
            return (int) size;
        }
        // Rounds up to the next step of the size's first level; cannot overflow as size <= 2^62.
        return classOf(size + (1L << (log2 - SL_BITS)) - 1);
    }

    /** @return the smallest size in class {@code c} */
    static long classLowerBound(int c) {
        int fl = c >>> SL_BITS;
        int sl = c & SL_MASK;
        return fl == 0 ? sl : (long) (SL_COUNT + sl) << (fl - 1);
    }

    /** @return the first non-empty class at or above {@code c}, or -1 */
    private int firstNonEmpty(int c) {
        if (c >= CLASS_COUNT) {
            return NIL;
        }
        int fl = c >>> SL_BITS;
        long sl = slBitmaps[fl] & (-1L << (c & SL_MASK));
        if (sl != 0) {
            return (fl << SL_BITS) | Long.numberOfTrailingZeros(sl);
        }
        // fl + 1 <= FL_COUNT <= 63, so the shift is well defined.
        long fls = flBitmap & (-1L << (fl + 1));
        if (fls == 0) {
            return NIL;
        }
        fl = Long.numberOfTrailingZeros(fls);
        return (fl << SL_BITS) | Long.numberOfTrailingZeros(slBitmaps[fl]);
    }

    // ---- the Suballocator API ----

    @Override
    public long tryAllocate(long size, long alignment, AllocationType type) {
        SuballocatorHandles.checkRequest(size, alignment, type);
        if (size > regionSize) {
            return NULL_HANDLE;
        }
        // Size <= 2^62 and alignment <= 2^62, so the sum fits.
        long search = size + (alignment - 1);
        if (granularity > 1 && conflictingLive(type)) {
            // Each addition starts from at most regionSize <= 2^62 and adds less than 2^62.
            if (search <= regionSize) {
                search += granularity - 1;
            }
            if (search <= regionSize) {
                search += granularity - 1;
            }
        }
        int searchClass = search <= regionSize ? searchClassOf(search) : CLASS_COUNT;
        int ownClass = classOf(size);

        int c = firstNonEmpty(ownClass);
        for (int probes = 0; c != NIL && c < searchClass && probes < HEAD_PROBES; probes++) {
            int n = heads[c];
            long at = placement(n, size, alignment, type);
            if (at >= 0) {
                return take(n, at, size, type);
            }
            c = firstNonEmpty(c + 1);
        }
        c = firstNonEmpty(searchClass);
        if (c != NIL) {
            int n = heads[c];
            long at = placement(n, size, alignment, type);
            if (at >= 0) {
                return take(n, at, size, type);
            }
        }
        int scanned = 0;
        for (c = firstNonEmpty(ownClass); c != NIL && c < searchClass; c = firstNonEmpty(c + 1)) {
            for (int n = ints[(heads[c] << I_STRIDE_SHIFT) + I_NEXT_FREE]; n != NIL;
                    n = ints[(n << I_STRIDE_SHIFT) + I_NEXT_FREE]) {
                if (++scanned > SCAN_LIMIT) {
                    return NULL_HANDLE;
                }
                long at = placement(n, size, alignment, type);
                if (at >= 0) {
                    return take(n, at, size, type);
                }
            }
        }
        return NULL_HANDLE;
    }

    /** @return whether a live allocation has a type that conflicts with {@code type} */
    private boolean conflictingLive(AllocationType type) {
        switch (type) {
            case LINEAR:
                return liveByType[AllocationType.NON_LINEAR.ordinal()] + liveByType[AllocationType.UNKNOWN.ordinal()]
                        > 0;
            case NON_LINEAR:
                return liveByType[AllocationType.LINEAR.ordinal()] + liveByType[AllocationType.UNKNOWN.ordinal()] > 0;
            default:
                return liveCount > 0;
        }
    }

    /**
     * @return where an allocation would start in free block {@code n}, or -1 when it does not fit there; the
     *         neighbours of a free block are allocations (or the region's ends), because free blocks merge
     */
    private long placement(int n, long size, long alignment, AllocationType type) {
        int li = n << L_STRIDE_SHIFT;
        long start = longs[li + L_START];
        long blockSize = longs[li + L_SIZE];
        if (blockSize < size) {
            return -1;
        }
        // Cannot overflow: start < 2^62 and alignment <= 2^62.
        long at = (start + alignment - 1) & -alignment;
        if (at - start > blockSize - size) {
            return -1;
        }
        if (granularity > 1) {
            int ii = n << I_STRIDE_SHIFT;
            long pageMask = -granularity;
            int prev = ints[ii + I_PREV_PHYS];
            if (prev != NIL && conflicts(prev, type) && ((start - 1) & pageMask) == (at & pageMask)) {
                // at < start + blockSize <= 2^62 here, so rounding up cannot overflow.
                at = (at + granularity - 1) & pageMask;
                if (at - start > blockSize - size) {
                    return -1;
                }
            }
            int next = ints[ii + I_NEXT_PHYS];
            if (next != NIL && conflicts(next, type)
                    && ((at + size - 1) & pageMask) == ((start + blockSize) & pageMask)) {
                return -1;
            }
        }
        return at;
    }

    private boolean conflicts(int allocationNode, AllocationType type) {
        int ordinal = ints[(allocationNode << I_STRIDE_SHIFT) + I_STATE] >>> STATE_BITS;
        return SuballocatorHandles.TYPES[ordinal].conflictsWith(type);
    }

    /** Turns free block {@code n} into an allocation at {@code at}, splitting off front and tail when worth it. */
    private long take(int n, long at, long size, AllocationType type) {
        // Two spare nodes first, so that growing (the only step that can fail) comes before any change.
        if (unusedHead == NIL || ints[(unusedHead << I_STRIDE_SHIFT) + I_NEXT_FREE] == NIL) {
            grow();
        }
        removeFree(n);
        int ii = n << I_STRIDE_SHIFT;
        int li = n << L_STRIDE_SHIFT;
        long start = longs[li + L_START];
        long end = start + longs[li + L_SIZE];
        if (at - start >= FRONT_SPLIT_MIN) {
            int front = newNode();
            int fi = front << I_STRIDE_SHIFT;
            int prev = ints[ii + I_PREV_PHYS];
            ints[fi + I_PREV_PHYS] = prev;
            ints[fi + I_NEXT_PHYS] = n;
            if (prev != NIL) {
                ints[(prev << I_STRIDE_SHIFT) + I_NEXT_PHYS] = front;
            } else {
                firstBlock = front;
            }
            ints[ii + I_PREV_PHYS] = front;
            longs[(front << L_STRIDE_SHIFT) + L_START] = start;
            longs[(front << L_STRIDE_SHIFT) + L_SIZE] = at - start;
            insertFree(front);
            start = at;
        }
        long userEnd = at + size;
        if (end - userEnd >= TAIL_SPLIT_MIN) {
            int tail = newNode();
            int ti = tail << I_STRIDE_SHIFT;
            int next = ints[ii + I_NEXT_PHYS];
            ints[ti + I_PREV_PHYS] = n;
            ints[ti + I_NEXT_PHYS] = next;
            if (next != NIL) {
                ints[(next << I_STRIDE_SHIFT) + I_PREV_PHYS] = tail;
            }
            ints[ii + I_NEXT_PHYS] = tail;
            longs[(tail << L_STRIDE_SHIFT) + L_START] = userEnd;
            longs[(tail << L_STRIDE_SHIFT) + L_SIZE] = end - userEnd;
            insertFree(tail);
            end = userEnd;
        }
        longs[li + L_START] = start;
        longs[li + L_SIZE] = end - start;
        longs[li + L_USER_OFFSET] = at;
        longs[li + L_USER_SIZE] = size;
        ints[ii + I_STATE] = TAKEN | type.ordinal() << STATE_BITS;
        int generation = SuballocatorHandles.nextGeneration(ints[ii + I_GENERATION]);
        ints[ii + I_GENERATION] = generation;
        freeBytes -= end - start;
        liveCount++;
        liveByType[type.ordinal()]++;
        return SuballocatorHandles.encode(tag, generation, n);
    }

    @Override
    public void free(long handle) {
        int n = liveNode(handle);
        int ii = n << I_STRIDE_SHIFT;
        freeBytes += longs[(n << L_STRIDE_SHIFT) + L_SIZE];
        liveCount--;
        liveByType[ints[ii + I_STATE] >>> STATE_BITS]--;
        int prev = ints[ii + I_PREV_PHYS];
        if (prev != NIL && (ints[(prev << I_STRIDE_SHIFT) + I_STATE] & STATE_MASK) == FREE) {
            removeFree(prev);
            absorbNext(prev);
            n = prev;
        }
        int next = ints[(n << I_STRIDE_SHIFT) + I_NEXT_PHYS];
        if (next != NIL && (ints[(next << I_STRIDE_SHIFT) + I_STATE] & STATE_MASK) == FREE) {
            removeFree(next);
            absorbNext(n);
        }
        insertFree(n);
    }

    /** Merges the block after {@code n} into {@code n} and makes its node unused. */
    private void absorbNext(int n) {
        int ii = n << I_STRIDE_SHIFT;
        int next = ints[ii + I_NEXT_PHYS];
        int ni = next << I_STRIDE_SHIFT;
        int after = ints[ni + I_NEXT_PHYS];
        ints[ii + I_NEXT_PHYS] = after;
        if (after != NIL) {
            ints[(after << I_STRIDE_SHIFT) + I_PREV_PHYS] = n;
        }
        longs[(n << L_STRIDE_SHIFT) + L_SIZE] += longs[(next << L_STRIDE_SHIFT) + L_SIZE];
        ints[ni + I_STATE] = UNUSED;
        ints[ni + I_NEXT_FREE] = unusedHead;
        unusedHead = next;
    }

    @Override
    public void reset() {
        for (int i = 0; i < capacity; i++) {
            int ii = i << I_STRIDE_SHIFT;
            ints[ii + I_STATE] = UNUSED;
            ints[ii + I_NEXT_FREE] = i + 1 < capacity ? i + 1 : NIL;
        }
        unusedHead = 0;
        Arrays.fill(heads, NIL);
        Arrays.fill(slBitmaps, 0);
        flBitmap = 0;
        int n = newNode();
        int ii = n << I_STRIDE_SHIFT;
        ints[ii + I_PREV_PHYS] = NIL;
        ints[ii + I_NEXT_PHYS] = NIL;
        longs[(n << L_STRIDE_SHIFT) + L_START] = regionOffset;
        longs[(n << L_STRIDE_SHIFT) + L_SIZE] = regionSize;
        insertFree(n);
        firstBlock = n;
        freeBytes = regionSize;
        liveCount = 0;
        Arrays.fill(liveByType, 0);
    }

    @Override
    public long offset(long handle) {
        return longs[(liveNode(handle) << L_STRIDE_SHIFT) + L_USER_OFFSET];
    }

    @Override
    public long size(long handle) {
        return longs[(liveNode(handle) << L_STRIDE_SHIFT) + L_USER_SIZE];
    }

    @Override
    public AllocationType type(long handle) {
        return SuballocatorHandles.TYPES[ints[(liveNode(handle) << I_STRIDE_SHIFT) + I_STATE] >>> STATE_BITS];
    }

    @Override
    public long regionOffset() {
        return regionOffset;
    }

    @Override
    public long regionSize() {
        return regionSize;
    }

    @Override
    public long freeBytes() {
        return freeBytes;
    }

    @Override
    public long largestFreeRange() {
        if (flBitmap == 0) {
            return 0;
        }
        int fl = 63 - Long.numberOfLeadingZeros(flBitmap);
        int c = (fl << SL_BITS) | (63 - Long.numberOfLeadingZeros(slBitmaps[fl]));
        long largest = 0;
        for (int n = heads[c]; n != NIL; n = ints[(n << I_STRIDE_SHIFT) + I_NEXT_FREE]) {
            largest = Math.max(largest, longs[(n << L_STRIDE_SHIFT) + L_SIZE]);
        }
        return largest;
    }

    @Override
    public int liveCount() {
        return liveCount;
    }

    @Override
    public SuballocatorKind kind() {
        return SuballocatorKind.TLSF;
    }

    @Override
    public void visit(Visitor visitor) {
        for (int n = firstBlock; n != NIL; n = ints[(n << I_STRIDE_SHIFT) + I_NEXT_PHYS]) {
            int ii = n << I_STRIDE_SHIFT;
            int li = n << L_STRIDE_SHIFT;
            int state = ints[ii + I_STATE];
            if ((state & STATE_MASK) == FREE) {
                visitor.free(longs[li + L_START], longs[li + L_SIZE]);
            } else {
                visitor.allocation(SuballocatorHandles.encode(tag, ints[ii + I_GENERATION], n),
                        longs[li + L_USER_OFFSET], longs[li + L_USER_SIZE],
                        SuballocatorHandles.TYPES[state >>> STATE_BITS]);
            }
        }
    }

    @Override
    public void checkInvariants() {
        int freeBlocks = 0;
        int taken = 0;
        long sumFree = 0;
        int[] byType = new int[liveByType.length];
        long expectedStart = regionOffset;
        int prev = NIL;
        boolean prevFree = false;
        int steps = 0;
        for (int n = firstBlock; n != NIL; n = ints[(n << I_STRIDE_SHIFT) + I_NEXT_PHYS]) {
            if (++steps > capacity) {
                throw broken("the block list has a cycle");
            }
            int ii = n << I_STRIDE_SHIFT;
            int li = n << L_STRIDE_SHIFT;
            long start = longs[li + L_START];
            long size = longs[li + L_SIZE];
            if (ints[ii + I_PREV_PHYS] != prev) {
                throw broken("block " + n + " links back to " + ints[ii + I_PREV_PHYS] + ", not " + prev);
            }
            if (start != expectedStart || size <= 0) {
                throw broken("block " + n + " is [" + start + ", +" + size + "), expected to start at "
                        + expectedStart + " and be non-empty");
            }
            int state = ints[ii + I_STATE] & STATE_MASK;
            if (state == FREE) {
                if (prevFree) {
                    throw broken("free blocks " + prev + " and " + n + " are neighbours");
                }
                freeBlocks++;
                sumFree += size;
            } else if (state == TAKEN) {
                long userOffset = longs[li + L_USER_OFFSET];
                long userSize = longs[li + L_USER_SIZE];
                if (userOffset < start || userSize <= 0 || userOffset - start > size - userSize) {
                    throw broken("allocation [" + userOffset + ", +" + userSize + ") is not inside its block ["
                            + start + ", +" + size + ")");
                }
                taken++;
                byType[ints[ii + I_STATE] >>> STATE_BITS]++;
            } else {
                throw broken("unused node " + n + " is in the block list");
            }
            prevFree = state == FREE;
            prev = n;
            expectedStart = start + size;
        }
        if (expectedStart != regionOffset + regionSize) {
            throw broken("the blocks end at " + expectedStart + ", not at the region's end "
                    + (regionOffset + regionSize));
        }
        int listed = 0;
        for (int fl = 0; fl < FL_COUNT; fl++) {
            if (((flBitmap >>> fl) & 1) != (slBitmaps[fl] != 0 ? 1 : 0)) {
                throw broken("first-level bit " + fl + " disagrees with its second-level bitmap");
            }
            for (int sl = 0; sl < SL_COUNT; sl++) {
                int c = (fl << SL_BITS) | sl;
                if (((slBitmaps[fl] >>> sl) & 1) != (heads[c] != NIL ? 1 : 0)) {
                    throw broken("bitmap bit of class " + c + " disagrees with its list");
                }
                int back = NIL;
                for (int n = heads[c]; n != NIL; n = ints[(n << I_STRIDE_SHIFT) + I_NEXT_FREE]) {
                    if (++listed > freeBlocks) {
                        throw broken("the free lists hold more than the " + freeBlocks + " free blocks");
                    }
                    int ii = n << I_STRIDE_SHIFT;
                    if ((ints[ii + I_STATE] & STATE_MASK) != FREE || ints[ii + I_PREV_FREE] != back
                            || classOf(longs[(n << L_STRIDE_SHIFT) + L_SIZE]) != c) {
                        throw broken("node " + n + " in the list of class " + c
                                + " is not a free block of that class or has a wrong back link");
                    }
                    back = n;
                }
            }
        }
        if (listed != freeBlocks) {
            throw broken("the free lists hold " + listed + " blocks, not the " + freeBlocks + " free blocks");
        }
        if (sumFree != freeBytes || taken != liveCount || !Arrays.equals(byType, liveByType)) {
            throw broken("counters: freeBytes " + freeBytes + " liveCount " + liveCount + " by type "
                    + Arrays.toString(liveByType) + ", blocks say " + sumFree + ", " + taken + ", "
                    + Arrays.toString(byType));
        }
        int unused = 0;
        for (int n = unusedHead; n != NIL; n = ints[(n << I_STRIDE_SHIFT) + I_NEXT_FREE]) {
            if (++unused > capacity || (ints[(n << I_STRIDE_SHIFT) + I_STATE] & STATE_MASK) != UNUSED) {
                throw broken("the unused-node list holds a used node or has a cycle");
            }
        }
        if (unused + freeBlocks + taken != capacity) {
            throw broken(unused + " unused + " + freeBlocks + " free + " + taken + " allocated nodes, not the "
                    + capacity + " nodes");
        }
    }

    private static IllegalStateException broken(String what) {
        return new IllegalStateException("TLSF invariant broken: " + what);
    }

    // ---- nodes and lists ----

    /** @return the node of a live allocation */
    private int liveNode(long handle) {
        int n = SuballocatorHandles.index(handle);
        if (SuballocatorHandles.tag(handle) != tag || n < 0 || n >= capacity || handle == NULL_HANDLE
                || (ints[(n << I_STRIDE_SHIFT) + I_STATE] & STATE_MASK) != TAKEN
                || ints[(n << I_STRIDE_SHIFT) + I_GENERATION] != SuballocatorHandles.generation(handle)) {
            throw SuballocatorHandles.badHandle(handle, tag, "TlsfSuballocator");
        }
        return n;
    }

    private int newNode() {
        if (unusedHead == NIL) {
            grow();
        }
        int n = unusedHead;
        unusedHead = ints[(n << I_STRIDE_SHIFT) + I_NEXT_FREE];
        return n;
    }

    private void grow() {
        if (capacity >= MAX_NODES) {
            throw new IllegalStateException("TLSF nodes: " + capacity + " (expected: fewer than " + MAX_NODES
                    + " blocks in one region)");
        }
        int old = capacity;
        capacity = old * 2;
        ints = Arrays.copyOf(ints, capacity << I_STRIDE_SHIFT);
        longs = Arrays.copyOf(longs, capacity << L_STRIDE_SHIFT);
        for (int i = capacity - 1; i >= old; i--) {
            ints[(i << I_STRIDE_SHIFT) + I_NEXT_FREE] = unusedHead;
            unusedHead = i;
        }
    }

    private void insertFree(int n) {
        int ii = n << I_STRIDE_SHIFT;
        int c = classOf(longs[(n << L_STRIDE_SHIFT) + L_SIZE]);
        int head = heads[c];
        ints[ii + I_STATE] = FREE;
        ints[ii + I_PREV_FREE] = NIL;
        ints[ii + I_NEXT_FREE] = head;
        if (head != NIL) {
            ints[(head << I_STRIDE_SHIFT) + I_PREV_FREE] = n;
        }
        heads[c] = n;
        int fl = c >>> SL_BITS;
        slBitmaps[fl] |= 1L << (c & SL_MASK);
        flBitmap |= 1L << fl;
    }

    private void removeFree(int n) {
        int ii = n << I_STRIDE_SHIFT;
        int prev = ints[ii + I_PREV_FREE];
        int next = ints[ii + I_NEXT_FREE];
        if (next != NIL) {
            ints[(next << I_STRIDE_SHIFT) + I_PREV_FREE] = prev;
        }
        if (prev != NIL) {
            ints[(prev << I_STRIDE_SHIFT) + I_NEXT_FREE] = next;
        } else {
            int c = classOf(longs[(n << L_STRIDE_SHIFT) + L_SIZE]);
            heads[c] = next;
            if (next == NIL) {
                int fl = c >>> SL_BITS;
                slBitmaps[fl] &= ~(1L << (c & SL_MASK));
                if (slBitmaps[fl] == 0) {
                    flBitmap &= ~(1L << fl);
                }
            }
        }
    }
}
