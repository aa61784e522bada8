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
 *   <li>tries the head of the first non-empty class from {@code size}'s own class up to, not including, the search
 *       size's rounded-up class (the first {@value #HEAD_PROBES} such classes, in general): if it fits, it is a good
 *       fit, and what the lists hold most often;</li>
 *   <li>else takes the head of the first non-empty class at or above the search size rounded up to the next class
 *       bound: every block there is at least the search size, so it fits without a look;</li>
 *   <li>else, before giving up, walks the lists of the classes of step 1 (at most {@value #SCAN_LIMIT} blocks):
 *       near exhaustion a block there may still fit.</li>
 * </ol>
 * The chosen block is cut into up to three: the front padding becomes a free block of its own only if it is at least
 * {@value #FRONT_SPLIT_MIN} bytes, else the allocation keeps it; the tail becomes a free block only if it is at least
 * the request's alignment, clamped to [{@value #TAIL_SPLIT_MIN}, {@value #FRONT_SPLIT_MIN}], else the allocation keeps
 * it. Keeping small padding and tails is what stops the churn of aligned allocations whose sizes are not multiples of
 * the alignment from strewing the lists with fragments that no aligned request can use (each would also cost a list
 * insertion now and a look later). A free merges the block with a free neighbour on each side and files the result.
 * Where a free block keeps part of its old extent, its node stays in its list unless its class changes.
 * <p>Example, 64 {@code SL} steps: 1000 bytes at alignment 256. Class of 1000: first level {@code 9 - 6 + 1 = 4}
 * (sizes 512 to 1023 in steps of 8), second level {@code 1000 / 8 - 64 = 61}: class [1000, 1008). Search size
 * {@code 1000 + 255 = 1255}, rounded up to the next class bound of its step of 16: 1264, class (5, 15). Step 1 looks
 * at the head of the first non-empty class from [1000, 1008) to [1248, 1264); say it is a free block [4000, 5100)
 * (class [1088, 1104)): it fits at 4096, and the whole block becomes the allocation's, as the 96 bytes of front
 * padding are below {@value #FRONT_SPLIT_MIN} and the 4-byte tail below the alignment. Step 2 would take any block of
 * 1264 bytes or more.
 *
 * <p><b>Handle layout</b> (see {@link SuballocatorHandles}):
 * <pre>
 *  63            48 47            32 31                             0
 * +----------------+----------------+--------------------------------+
 * |  instance tag  |   generation   |           node index           |
 * +----------------+----------------+--------------------------------+
 * </pre>
 * Blocks live in a pool of nodes, 8 {@code long}s (64 bytes) each in one array, with {@code int} indices, grown by
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
 *   <li>every free block is in the list of its size class, records that class in its node, and nothing else is in
 *       a list; the lists' back links mirror the forward ones; a bitmap bit is set exactly when its list or level
 *       is non-empty;</li>
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
    /** A tail below this, or below the request's alignment up to {@link #FRONT_SPLIT_MIN}, stays allocated. */
    static final long TAIL_SPLIT_MIN = 16;
    /** Heads of the good-fit classes looked at before the guaranteed-fit class. */
    static final int HEAD_PROBES = 1;
    /** Further blocks of the good-fit classes looked at before an allocation fails. */
    static final int SCAN_LIMIT = 32;

    private static final int NIL = -1;

    // Node i is the 8 longs at nodes[(i << NODE_SHIFT) + F_...]: 64 bytes, so a block's fields share one or two
    // cache lines. Free blocks and allocations use slots 2 and 3 for different things.
    private static final int F_START = 0;
    private static final int F_SIZE = 1;
    /** A free block's previous block in its list. */
    private static final int F_PREV_FREE = 2;
    /** An allocation's offset. */
    private static final int F_USER_OFFSET = 2;
    /** A free block's next block in its list; an unused node's next unused node. */
    private static final int F_NEXT_FREE = 3;
    /** An allocation's size. */
    private static final int F_USER_SIZE = 3;
    private static final int F_PREV_PHYS = 4;
    private static final int F_NEXT_PHYS = 5;
    /** {@code state | type.ordinal() << META_TYPE_SHIFT | generation << META_GENERATION_SHIFT}. */
    private static final int F_META = 6;
    /** A free block's size class, kept so that taking it out of its list needs no {@link #classOf}. */
    private static final int F_CLASS = 7;
    private static final int NODE_SHIFT = 3;

    private static final int STATE_BITS = 2;
    private static final int TYPE_BITS = 2;
    private static final int META_TYPE_SHIFT = STATE_BITS;
    private static final int META_GENERATION_SHIFT = META_TYPE_SHIFT + TYPE_BITS;
    private static final long STATE_MASK = (1L << STATE_BITS) - 1;
    private static final long TYPE_MASK = (1L << TYPE_BITS) - 1;
    private static final long META_GENERATION_MASK =
            (long) SuballocatorHandles.GENERATION_MASK << META_GENERATION_SHIFT;
    private static final long UNUSED = 0;
    private static final long FREE = 1;
    private static final long TAKEN = 2;
    /** The meta bits that a live allocation's handle must match: its state and generation. */
    private static final long LIVE_MATCH_MASK = STATE_MASK | META_GENERATION_MASK;

    private static final int INITIAL_NODES = 64;
    /** Keeps {@code capacity << NODE_SHIFT} an array length. */
    private static final int MAX_NODES = 1 << 27;

    private final long regionOffset;
    private final long regionSize;
    private final long granularity;
    private final int tag;

    /** Walks of {@link #visit} in progress; while one runs, calls that change the state throw. */
    private final VisitCount visits = new VisitCount();

    private long[] nodes;
    private int capacity;
    private int unusedHead;
    private int unusedCount;
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
        this.nodes = new long[capacity << NODE_SHIFT];
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

    // ---- allocation ----

    @Override
    public long tryAllocate(long size, long alignment, AllocationType type) {
        // One test for the three argument rules: size - 1 and alignment - 1 both in [0, 2^62) and alignment a power
        // of two; the exact message comes from the shared check, which throws for every request that fails here.
        if (((size - 1) | (alignment - 1)) >>> 62 != 0 || (alignment & (alignment - 1)) != 0 || type == null) {
            throw SuballocatorHandles.badRequest(size, alignment, type);
        }
        visits.checkIdle("tryAllocate", "TlsfSuballocator");
        if (size > regionSize) {
            return NULL_HANDLE;
        }
        // Size <= 2^62 and alignment <= 2^62, so the sum fits.
        long search = size + (alignment - 1);
        if (granularity > 1 && SuballocatorHandles.conflictsWithLive(type, liveByType)) {
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
        if (c != NIL && c >= searchClass) {
            // The common case: no good-fit class holds anything, and every block of class c is at least the search
            // size, so without a granularity it fits at the aligned start without a look.
            int n = heads[c];
            long at = granularity == 1 ? (nodes[(n << NODE_SHIFT) + F_START] + alignment - 1) & -alignment
                    : placement(n, size, alignment, type);
            return at >= 0 ? take(n, at, size, alignment, type) : NULL_HANDLE;
        }
        return allocateSearching(c, ownClass, searchClass, size, alignment, type);
    }

    /** Steps 1 to 3 of the class documentation, from {@code c}, the first non-empty class at or above own class. */
    private long allocateSearching(int c, int ownClass, int searchClass, long size, long alignment,
                                   AllocationType type) {
        for (int probes = 0; c != NIL && c < searchClass; probes++) {
            if (probes == HEAD_PROBES) {
                c = firstNonEmpty(searchClass);
                break;
            }
            int n = heads[c];
            long at = placement(n, size, alignment, type);
            if (at >= 0) {
                return take(n, at, size, alignment, type);
            }
            c = firstNonEmpty(c + 1);
        }
        // Here c is the first non-empty class at or above searchClass, or none.
        if (c != NIL) {
            int n = heads[c];
            long at = placement(n, size, alignment, type);
            if (at >= 0) {
                return take(n, at, size, alignment, type);
            }
        }
        int scanned = 0;
        for (c = firstNonEmpty(ownClass); c != NIL && c < searchClass; c = firstNonEmpty(c + 1)) {
            for (int n = heads[c]; n != NIL; n = (int) nodes[(n << NODE_SHIFT) + F_NEXT_FREE]) {
                if (++scanned > SCAN_LIMIT) {
                    return NULL_HANDLE;
                }
                long at = placement(n, size, alignment, type);
                if (at >= 0) {
                    return take(n, at, size, alignment, type);
                }
            }
        }
        return NULL_HANDLE;
    }

    /**
     * @return where an allocation would start in free block {@code n}, or -1 when it does not fit there; the
     *         neighbours of a free block are allocations (or the region's ends), because free blocks merge
     */
    private long placement(int n, long size, long alignment, AllocationType type) {
        int b = n << NODE_SHIFT;
        long start = nodes[b + F_START];
        long blockSize = nodes[b + F_SIZE];
        if (blockSize < size) {
            return -1;
        }
        // Cannot overflow: start < 2^62 and alignment <= 2^62.
        long at = (start + alignment - 1) & -alignment;
        if (at - start > blockSize - size) {
            return -1;
        }
        if (granularity > 1) {
            long pageMask = -granularity;
            int prev = (int) nodes[b + F_PREV_PHYS];
            if (prev != NIL && conflicts(prev, type) && ((start - 1) & pageMask) == (at & pageMask)) {
                // at < start + blockSize <= 2^62 here, so rounding up cannot overflow.
                at = (at + granularity - 1) & pageMask;
                if (at - start > blockSize - size) {
                    return -1;
                }
            }
            int next = (int) nodes[b + F_NEXT_PHYS];
            if (next != NIL && conflicts(next, type)
                    && ((at + size - 1) & pageMask) == ((start + blockSize) & pageMask)) {
                return -1;
            }
        }
        return at;
    }

    private boolean conflicts(int allocation, AllocationType type) {
        return typeOf(nodes[(allocation << NODE_SHIFT) + F_META]).conflictsWith(type);
    }

    /**
     * Places an allocation at {@code at} in free block {@code n}. Front padding of {@link #FRONT_SPLIT_MIN} bytes or
     * more and a tail of at least the alignment (clamped as the class documentation says) stay free; the free block's
     * node keeps one of them, so that carving from a large block leaves it in its list when its class does not change.
     */
    private long take(int n, long at, long size, long alignment, AllocationType type) {
        // Two spare nodes first, so that growing (the only step that can fail) comes before any change.
        if (unusedCount < 2) {
            grow();
        }
        long[] nd = nodes;
        int b = n << NODE_SHIFT;
        long start = nd[b + F_START];
        long end = start + nd[b + F_SIZE];
        long userEnd = at + size;
        boolean splitFront = at - start >= FRONT_SPLIT_MIN;
        boolean splitTail = end - userEnd >= Math.min(FRONT_SPLIT_MIN, Math.max(TAIL_SPLIT_MIN, alignment));
        int a;
        if (splitTail) {
            // The free block keeps the tail; a new node before it takes the allocation and, unless split, the front.
            a = newNode();
            linkBefore(a, n);
            resizeFree(n, userEnd, end - userEnd);
            if (splitFront) {
                int front = newNode();
                linkBefore(front, a);
                nd[(front << NODE_SHIFT) + F_START] = start;
                nd[(front << NODE_SHIFT) + F_SIZE] = at - start;
                insertFree(front);
            }
        } else if (splitFront) {
            // The free block keeps the front; a new node after it takes the allocation and the tail.
            a = newNode();
            linkAfter(a, n);
            resizeFree(n, start, at - start);
        } else {
            removeFree(n);
            a = n;
        }
        long blockStart = splitFront ? at : start;
        long blockEnd = splitTail ? userEnd : end;
        int ab = a << NODE_SHIFT;
        nd[ab + F_START] = blockStart;
        nd[ab + F_SIZE] = blockEnd - blockStart;
        nd[ab + F_USER_OFFSET] = at;
        nd[ab + F_USER_SIZE] = size;
        int generation = SuballocatorHandles.nextGeneration(generationOf(nd[ab + F_META]));
        nd[ab + F_META] = TAKEN | (long) type.ordinal() << META_TYPE_SHIFT
                | (long) generation << META_GENERATION_SHIFT;
        freeBytes -= blockEnd - blockStart;
        liveCount++;
        liveByType[type.ordinal()]++;
        return SuballocatorHandles.encode(tag, generation, a);
    }

    // ---- free ----

    @Override
    public void free(long handle) {
        visits.checkIdle("free", "TlsfSuballocator");
        int n = liveNode(handle);
        long[] nd = nodes;
        int b = n << NODE_SHIFT;
        long size = nd[b + F_SIZE];
        freeBytes += size;
        liveCount--;
        liveByType[(int) ((nd[b + F_META] >>> META_TYPE_SHIFT) & TYPE_MASK)]--;
        int prev = (int) nd[b + F_PREV_PHYS];
        int next = (int) nd[b + F_NEXT_PHYS];
        boolean prevFree = prev != NIL && stateOf(nd[(prev << NODE_SHIFT) + F_META]) == FREE;
        boolean nextFree = next != NIL && stateOf(nd[(next << NODE_SHIFT) + F_META]) == FREE;
        if (prevFree) {
            int pb = prev << NODE_SHIFT;
            long merged = nd[pb + F_SIZE] + size;
            unlink(n);
            if (nextFree) {
                merged += nd[(next << NODE_SHIFT) + F_SIZE];
                removeFree(next);
                unlink(next);
            }
            resizeFree(prev, nd[pb + F_START], merged);
        } else if (nextFree) {
            unlink(n);
            resizeFree(next, nd[b + F_START], nd[(next << NODE_SHIFT) + F_SIZE] + size);
        } else {
            insertFree(n);
        }
    }

    @Override
    public void reset() {
        visits.checkIdle("reset", "TlsfSuballocator");
        for (int i = 0; i < capacity; i++) {
            int b = i << NODE_SHIFT;
            nodes[b + F_META] &= META_GENERATION_MASK;
            nodes[b + F_NEXT_FREE] = i + 1 < capacity ? i + 1 : NIL;
        }
        unusedHead = 0;
        unusedCount = capacity;
        Arrays.fill(heads, NIL);
        Arrays.fill(slBitmaps, 0);
        flBitmap = 0;
        int n = newNode();
        int b = n << NODE_SHIFT;
        nodes[b + F_PREV_PHYS] = NIL;
        nodes[b + F_NEXT_PHYS] = NIL;
        nodes[b + F_START] = regionOffset;
        nodes[b + F_SIZE] = regionSize;
        insertFree(n);
        firstBlock = n;
        freeBytes = regionSize;
        liveCount = 0;
        Arrays.fill(liveByType, 0);
    }

    // ---- queries ----

    @Override
    public long offset(long handle) {
        return nodes[(liveNode(handle) << NODE_SHIFT) + F_USER_OFFSET];
    }

    @Override
    public long size(long handle) {
        return nodes[(liveNode(handle) << NODE_SHIFT) + F_USER_SIZE];
    }

    @Override
    public AllocationType type(long handle) {
        return typeOf(nodes[(liveNode(handle) << NODE_SHIFT) + F_META]);
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
        for (int n = heads[c]; n != NIL; n = (int) nodes[(n << NODE_SHIFT) + F_NEXT_FREE]) {
            largest = Math.max(largest, nodes[(n << NODE_SHIFT) + F_SIZE]);
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
        visits.run(this::walk, visitor);
    }

    private void walk(Visitor visitor) {
        for (int n = firstBlock; n != NIL; n = (int) nodes[(n << NODE_SHIFT) + F_NEXT_PHYS]) {
            int b = n << NODE_SHIFT;
            long meta = nodes[b + F_META];
            if (stateOf(meta) == FREE) {
                visitor.free(nodes[b + F_START], nodes[b + F_SIZE]);
            } else {
                visitor.allocation(SuballocatorHandles.encode(tag, generationOf(meta), n), nodes[b + F_USER_OFFSET],
                        nodes[b + F_USER_SIZE], typeOf(meta));
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
        for (int n = firstBlock; n != NIL; n = (int) nodes[(n << NODE_SHIFT) + F_NEXT_PHYS]) {
            if (++steps > capacity) {
                throw broken("the block list has a cycle");
            }
            int b = n << NODE_SHIFT;
            long start = nodes[b + F_START];
            long size = nodes[b + F_SIZE];
            if ((int) nodes[b + F_PREV_PHYS] != prev) {
                throw broken("block " + n + " links back to " + nodes[b + F_PREV_PHYS] + ", not " + prev);
            }
            if (start != expectedStart || size <= 0) {
                throw broken("block " + n + " is [" + start + ", +" + size + "), expected to start at "
                        + expectedStart + " and be non-empty");
            }
            long state = stateOf(nodes[b + F_META]);
            if (state == FREE) {
                if (prevFree) {
                    throw broken("free blocks " + prev + " and " + n + " are neighbours");
                }
                freeBlocks++;
                sumFree += size;
            } else if (state == TAKEN) {
                long userOffset = nodes[b + F_USER_OFFSET];
                long userSize = nodes[b + F_USER_SIZE];
                if (userOffset < start || userSize <= 0 || userOffset - start > size - userSize) {
                    throw broken("allocation [" + userOffset + ", +" + userSize + ") is not inside its block ["
                            + start + ", +" + size + ")");
                }
                taken++;
                byType[typeOf(nodes[b + F_META]).ordinal()]++;
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
                for (int n = heads[c]; n != NIL; n = (int) nodes[(n << NODE_SHIFT) + F_NEXT_FREE]) {
                    if (++listed > freeBlocks) {
                        throw broken("the free lists hold more than the " + freeBlocks + " free blocks");
                    }
                    int b = n << NODE_SHIFT;
                    if (stateOf(nodes[b + F_META]) != FREE || (int) nodes[b + F_PREV_FREE] != back
                            || classOf(nodes[b + F_SIZE]) != c || (int) nodes[b + F_CLASS] != c) {
                        throw broken("node " + n + " in the list of class " + c
                                + " is not a free block of that class, does not record it, or has a wrong back link");
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
        for (int n = unusedHead; n != NIL; n = (int) nodes[(n << NODE_SHIFT) + F_NEXT_FREE]) {
            if (++unused > capacity || stateOf(nodes[(n << NODE_SHIFT) + F_META]) != UNUSED) {
                throw broken("the unused-node list holds a used node or has a cycle");
            }
        }
        if (unused != unusedCount || unused + freeBlocks + taken != capacity) {
            throw broken(unused + " unused (counted " + unusedCount + ") + " + freeBlocks + " free + " + taken
                    + " allocated nodes, not the " + capacity + " nodes");
        }
    }

    private static IllegalStateException broken(String what) {
        return new IllegalStateException("TLSF invariant broken: " + what);
    }

    // ---- nodes, links and lists ----

    private static long stateOf(long meta) {
        return meta & STATE_MASK;
    }

    private static AllocationType typeOf(long meta) {
        return SuballocatorHandles.TYPES[(int) ((meta >>> META_TYPE_SHIFT) & TYPE_MASK)];
    }

    private static int generationOf(long meta) {
        return (int) ((meta & META_GENERATION_MASK) >>> META_GENERATION_SHIFT);
    }

    /** @return the node of a live allocation */
    private int liveNode(long handle) {
        int n = SuballocatorHandles.index(handle);
        // The tag is never 0, so a matching tag also rules out NULL_HANDLE; the unsigned compare rules out n < 0.
        if (SuballocatorHandles.tag(handle) != tag || Integer.compareUnsigned(n, capacity) >= 0
                || (nodes[(n << NODE_SHIFT) + F_META] & LIVE_MATCH_MASK)
                != (TAKEN | (long) SuballocatorHandles.generation(handle) << META_GENERATION_SHIFT)) {
            throw SuballocatorHandles.badHandle(handle, tag, "TlsfSuballocator");
        }
        return n;
    }

    private int newNode() {
        if (unusedHead == NIL) {
            grow();
        }
        int n = unusedHead;
        unusedHead = (int) nodes[(n << NODE_SHIFT) + F_NEXT_FREE];
        unusedCount--;
        return n;
    }

    private void grow() {
        if (capacity >= MAX_NODES) {
            throw new IllegalStateException("TLSF nodes: " + capacity + " (expected: fewer than " + MAX_NODES
                    + " blocks in one region)");
        }
        int old = capacity;
        capacity = old * 2;
        nodes = Arrays.copyOf(nodes, capacity << NODE_SHIFT);
        for (int i = capacity - 1; i >= old; i--) {
            nodes[(i << NODE_SHIFT) + F_NEXT_FREE] = unusedHead;
            unusedHead = i;
        }
        unusedCount += capacity - old;
    }

    /** Takes {@code n} out of the block list and makes it unused, keeping its generation. */
    private void unlink(int n) {
        long[] nd = nodes;
        int b = n << NODE_SHIFT;
        int prev = (int) nd[b + F_PREV_PHYS];
        int next = (int) nd[b + F_NEXT_PHYS];
        if (prev != NIL) {
            nd[(prev << NODE_SHIFT) + F_NEXT_PHYS] = next;
        } else {
            firstBlock = next;
        }
        if (next != NIL) {
            nd[(next << NODE_SHIFT) + F_PREV_PHYS] = prev;
        }
        nd[b + F_META] &= META_GENERATION_MASK;
        nd[b + F_NEXT_FREE] = unusedHead;
        unusedHead = n;
        unusedCount++;
    }

    /** Puts unused node {@code a} into the block list right before {@code n}. */
    private void linkBefore(int a, int n) {
        long[] nd = nodes;
        int prev = (int) nd[(n << NODE_SHIFT) + F_PREV_PHYS];
        nd[(a << NODE_SHIFT) + F_PREV_PHYS] = prev;
        nd[(a << NODE_SHIFT) + F_NEXT_PHYS] = n;
        if (prev != NIL) {
            nd[(prev << NODE_SHIFT) + F_NEXT_PHYS] = a;
        } else {
            firstBlock = a;
        }
        nd[(n << NODE_SHIFT) + F_PREV_PHYS] = a;
    }

    /** Puts unused node {@code a} into the block list right after {@code n}. */
    private void linkAfter(int a, int n) {
        long[] nd = nodes;
        int next = (int) nd[(n << NODE_SHIFT) + F_NEXT_PHYS];
        nd[(a << NODE_SHIFT) + F_PREV_PHYS] = n;
        nd[(a << NODE_SHIFT) + F_NEXT_PHYS] = next;
        if (next != NIL) {
            nd[(next << NODE_SHIFT) + F_PREV_PHYS] = a;
        }
        nd[(n << NODE_SHIFT) + F_NEXT_PHYS] = a;
    }

    /** Gives free block {@code n} a new extent, moving it to another list only when its class changes. */
    private void resizeFree(int n, long start, long size) {
        long[] nd = nodes;
        int b = n << NODE_SHIFT;
        nd[b + F_START] = start;
        nd[b + F_SIZE] = size;
        int c = classOf(size);
        if (c != (int) nd[b + F_CLASS]) {
            removeFree(n);
            insertFree(n, c);
        }
    }

    /** Files {@code n}, whose size is set, as a free block at the head of its class's list. */
    private void insertFree(int n) {
        insertFree(n, classOf(nodes[(n << NODE_SHIFT) + F_SIZE]));
    }

    /** Files {@code n} as a free block at the head of the list of class {@code c}, the class of its size. */
    private void insertFree(int n, int c) {
        long[] nd = nodes;
        int b = n << NODE_SHIFT;
        int head = heads[c];
        nd[b + F_META] = (nd[b + F_META] & META_GENERATION_MASK) | FREE;
        nd[b + F_PREV_FREE] = NIL;
        nd[b + F_NEXT_FREE] = head;
        nd[b + F_CLASS] = c;
        if (head != NIL) {
            nd[(head << NODE_SHIFT) + F_PREV_FREE] = n;
        }
        heads[c] = n;
        int fl = c >>> SL_BITS;
        slBitmaps[fl] |= 1L << c;
        flBitmap |= 1L << fl;
    }

    /** Takes free block {@code n} out of the list of its class; it stays in the block list. */
    private void removeFree(int n) {
        long[] nd = nodes;
        int b = n << NODE_SHIFT;
        int prev = (int) nd[b + F_PREV_FREE];
        int next = (int) nd[b + F_NEXT_FREE];
        if (next != NIL) {
            nd[(next << NODE_SHIFT) + F_PREV_FREE] = prev;
        }
        if (prev != NIL) {
            nd[(prev << NODE_SHIFT) + F_NEXT_FREE] = next;
        } else {
            int c = (int) nd[b + F_CLASS];
            heads[c] = next;
            if (next == NIL) {
                // Shifts of a long use only the low 6 bits, so 1L << c is the bit of c & SL_MASK.
                int fl = c >>> SL_BITS;
                long sl = slBitmaps[fl] & ~(1L << c);
                slBitmaps[fl] = sl;
                if (sl == 0) {
                    flBitmap &= ~(1L << fl);
                }
            }
        }
    }
}
