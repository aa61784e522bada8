package io.github.solvk.memory.suballocator;

import java.util.Arrays;

/**
 * A binary buddy suballocator: power-of-two nodes of at least {@value #MIN_NODE_SIZE} bytes, split on allocation and
 * merged with their buddy on free, in O(log n).
 *
 * <p><b>When to use it.</b> When allocations are of few, roughly power-of-two sizes and the predictable placement
 * matters more than memory: every allocation is rounded up to a power of two (up to half of it can be waste, a quarter
 * on average for random sizes), so {@link TlsfSuballocator} is the better general choice. Alignment comes for free:
 * a node is aligned to its own size.
 *
 * <p><b>Algorithm.</b> Every node of order {@code k} is {@code 2^k} bytes and starts at an absolute offset that is a
 * multiple of {@code 2^k}; its buddy is the node at {@code offset ^ 2^k}. Only the leaves exist as records: they tile
 * the usable part of the region, linked in address order, and the free ones sit in one list per order, with a
 * {@code long} bitmap of non-empty orders. An allocation of {@code size} at {@code alignment} needs order
 * {@code k = max(4, ceil(log2 size), log2 alignment)}; it takes the first free leaf of the lowest non-empty order
 * {@code j >= k} and splits it {@code j - k} times, filing each right half as free. A free marks the leaf free and,
 * while its buddy is a free leaf of the same order, merges the two into their parent.
 * <p><b>Regions that are not a power of two.</b> The usable part is the region with its ends rounded inwards to
 * multiples of 16. It is cut, from the low end, into <em>roots</em>: each root is the largest power of two that fits
 * in what is left and to which the current offset is aligned (fewer than 120 roots). Buddies never merge across
 * roots, so no
 * allocation is larger than the largest root. For example the region [4096, 4096 + 7168) becomes the roots
 * [4096, 8192) of order 12, [8192, 10240) of order 11 and [10240, 11264) of order 10. An allocation of 3000 bytes
 * takes order 12, the whole first root; then one of 600 bytes needs order 10, finds the first root taken and the
 * order-10 root free, and takes it without a split. A region of 100 bytes at offset 8 keeps [16, 96): roots of 16, 32
 * and 32 bytes; the 20 bytes outside are neither free nor taken.
 * <p><b>Buffer-image granularity.</b> Nodes smaller than the granularity share pages. When a live allocation of a
 * conflicting type exists, a placement is checked against the leaves on the same pages (at most
 * {@code granularity / 16} on each side); if one conflicts, the allocation is retried at order
 * {@code log2 granularity}, whose nodes own whole pages.
 *
 * <p><b>Handle layout</b> (see {@link SuballocatorHandles}):
 * <pre>
 *  63            48 47            32 31                             0
 * +----------------+----------------+--------------------------------+
 * |  instance tag  |   generation   |           node index           |
 * +----------------+----------------+--------------------------------+
 * </pre>
 * Leaves live in a pool of nodes held in primitive arrays, grown by doubling; once big enough, allocation and free
 * allocate nothing on the Java heap.
 *
 * <p><b>Complexity.</b> Allocation: O(log(region / 16)) splits, at most 58; free: as many merges. With a conflicting
 * granularity, up to {@code 2 * granularity / 16} more leaves are looked at. {@link #reset()} and
 * {@link #checkInvariants()}: O(nodes); {@link #largestFreeRange()}: O(1).
 *
 * <p><b>Invariants</b> ({@link #checkInvariants()} asserts exactly these):
 * <ol>
 *   <li>the leaves, walked in address order, tile the roots without gaps, each back link mirroring its forward one;
 *       each leaf's order lies between 4 and its root's order and its offset is a multiple of its size;</li>
 *   <li>no free leaf has a free buddy leaf of the same order (free merges are complete);</li>
 *   <li>an allocation's size is positive and at most its leaf's size;</li>
 *   <li>every free leaf is in the list of its order and nothing else is; back links mirror forward ones; a bitmap bit
 *       is set exactly when its list is non-empty;</li>
 *   <li>{@link #freeBytes()} is the sum of the free leaves, {@link #liveCount()} the number of allocations, and the
 *       per-type counts match;</li>
 *   <li>every node is exactly one of: a free leaf, an allocation, unused.</li>
 * </ol>
 *
 * <p><b>Reference.</b> K. C. Knowlton, "A fast storage allocator", CACM 8(10), 1965; D. E. Knuth, TAOCP vol. 1,
 * 2.5; vulkano's {@code BuddyAllocator}.
 */
public final class BuddySuballocator implements Suballocator {

    /** log2 of the smallest node. */
    static final int MIN_ORDER = 4;
    /** The smallest node, in bytes. */
    static final int MIN_NODE_SIZE = 1 << MIN_ORDER;
    /** The largest order: a node of 2^62 bytes, the largest region. */
    static final int MAX_ORDER = 62;

    private static final int NIL = -1;

    private static final int I_PREV_PHYS = 0;
    private static final int I_NEXT_PHYS = 1;
    private static final int I_PREV_FREE = 2;
    /** The next free leaf of the order, or for an unused node the next unused node. */
    private static final int I_NEXT_FREE = 3;
    /** {@code state | type.ordinal() << STATE_BITS}. */
    private static final int I_STATE = 4;
    /** {@code order | rootOrder << ORDER_BITS}. */
    private static final int I_ORDER = 5;
    private static final int I_GENERATION = 6;
    private static final int I_STRIDE_SHIFT = 3;

    private static final int L_START = 0;
    private static final int L_USER_SIZE = 1;
    private static final int L_STRIDE_SHIFT = 1;

    private static final int STATE_BITS = 2;
    private static final int STATE_MASK = (1 << STATE_BITS) - 1;
    private static final int UNUSED = 0;
    private static final int FREE = 1;
    private static final int TAKEN = 2;

    private static final int ORDER_BITS = 8;
    private static final int ORDER_MASK = (1 << ORDER_BITS) - 1;

    private static final int INITIAL_NODES = 64;
    private static final int MAX_NODES = 1 << 27;

    private final long regionOffset;
    private final long regionSize;
    private final long granularity;
    private final int tag;

    /** Walks of {@link #visit} in progress; while one runs, calls that change the state throw. */
    private final VisitCount visits = new VisitCount();
    /** The usable part: the region with both ends rounded inwards to multiples of 16. */
    private final long usableStart;
    private final long usableEnd;

    private int[] ints;
    private long[] longs;
    private int capacity;
    private int unusedHead;
    private int unusedCount;
    private int firstLeaf;

    private final int[] heads = new int[MAX_ORDER + 1];
    private long freeOrders;

    private long freeBytes;
    private int liveCount;
    private final int[] liveByType = new int[SuballocatorHandles.TYPES.length];

    /**
     * Creates a suballocator whose whole usable region is free (see the class documentation for regions that are not
     * a power of two).
     *
     * @param regionOffset           the region's first byte, {@code >= 0}
     * @param regionSize             the region's size, {@code > 0}, with {@code regionOffset + regionSize <= 2^62}
     * @param bufferImageGranularity a power of two; 1 when no granularity applies
     * @throws IllegalArgumentException naming the first bad value
     */
    public BuddySuballocator(long regionOffset, long regionSize, long bufferImageGranularity) {
        SuballocatorHandles.checkRegion(regionOffset, regionSize, bufferImageGranularity);
        this.regionOffset = regionOffset;
        this.regionSize = regionSize;
        this.granularity = bufferImageGranularity;
        this.tag = SuballocatorHandles.nextTag();
        // Cannot overflow: both ends are at most 2^62.
        long start = (regionOffset + MIN_NODE_SIZE - 1) & -MIN_NODE_SIZE;
        long end = (regionOffset + regionSize) & -MIN_NODE_SIZE;
        this.usableStart = start;
        this.usableEnd = Math.max(start, end);
        this.capacity = INITIAL_NODES;
        this.ints = new int[capacity << I_STRIDE_SHIFT];
        this.longs = new long[capacity << L_STRIDE_SHIFT];
        reset();
    }

    /** @return the order that an allocation of {@code size} at {@code alignment} needs */
    static int orderFor(long size, long alignment) {
        // ceil(log2 size): 64 - nlz(size - 1) for size >= 1, at most 62 as size <= 2^62.
        int sizeOrder = 64 - Long.numberOfLeadingZeros(size - 1);
        return Math.max(MIN_ORDER, Math.max(sizeOrder, Long.numberOfTrailingZeros(alignment)));
    }

    @Override
    public long tryAllocate(long size, long alignment, AllocationType type) {
        SuballocatorHandles.checkRequest(size, alignment, type);
        visits.checkIdle("tryAllocate", "BuddySuballocator");
        if (size > regionSize) {
            return NULL_HANDLE;
        }
        int order = orderFor(size, alignment);
        boolean check = granularity > 1 && (1L << order) < granularity
                && SuballocatorHandles.conflictsWithLive(type, liveByType);
        int n = candidate(order);
        if (n == NIL) {
            return NULL_HANDLE;
        }
        if (check && conflictsAround(n, size, type)) {
            order = Long.numberOfTrailingZeros(granularity);
            n = candidate(order);
            if (n == NIL) {
                return NULL_HANDLE;
            }
        }
        return take(n, order, size, type);
    }

    /** @return the first free leaf of the lowest non-empty order at or above {@code order}, or -1 */
    private int candidate(int order) {
        if (order > MAX_ORDER) {
            return NIL;
        }
        long mask = freeOrders & (-1L << order);
        return mask == 0 ? NIL : heads[Long.numberOfTrailingZeros(mask)];
    }

    /**
     * @return whether {@code [start(n), start(n) + size)} would share a granularity page with an allocation of a
     *         conflicting type; the leaves split off {@code n} are free, so only the leaves outside {@code n} count
     */
    private boolean conflictsAround(int n, long size, AllocationType type) {
        long pageMask = -granularity;
        long start = longs[(n << L_STRIDE_SHIFT) + L_START];
        long firstPage = start & pageMask;
        int ii = n << I_STRIDE_SHIFT;
        for (int p = ints[ii + I_PREV_PHYS]; p != NIL; p = ints[(p << I_STRIDE_SHIFT) + I_PREV_PHYS]) {
            if (longs[(p << L_STRIDE_SHIFT) + L_START] + nodeSize(p) <= firstPage) {
                break;
            }
            if (conflicts(p, type)) {
                return true;
            }
        }
        // The last byte's page ends at most at 2^62 + granularity - 1 < 2^63: no overflow.
        long pagesEnd = ((start + size - 1) & pageMask) + granularity;
        for (int q = ints[ii + I_NEXT_PHYS]; q != NIL; q = ints[(q << I_STRIDE_SHIFT) + I_NEXT_PHYS]) {
            if (longs[(q << L_STRIDE_SHIFT) + L_START] >= pagesEnd) {
                break;
            }
            if (conflicts(q, type)) {
                return true;
            }
        }
        return false;
    }

    private boolean conflicts(int node, AllocationType type) {
        int state = ints[(node << I_STRIDE_SHIFT) + I_STATE];
        return (state & STATE_MASK) == TAKEN && SuballocatorHandles.TYPES[state >>> STATE_BITS].conflictsWith(type);
    }

    private long nodeSize(int n) {
        return 1L << (ints[(n << I_STRIDE_SHIFT) + I_ORDER] & ORDER_MASK);
    }

    /** Splits free leaf {@code n} down to {@code order} and makes its left-most part the allocation. */
    private long take(int n, int order, long size, AllocationType type) {
        int ii = n << I_STRIDE_SHIFT;
        int nodeOrder = ints[ii + I_ORDER] & ORDER_MASK;
        // Growing, the only step that can fail, comes before any change.
        while (unusedCount < nodeOrder - order) {
            grow();
        }
        removeFree(n, nodeOrder);
        int rootBits = ints[ii + I_ORDER] & ~ORDER_MASK;
        long start = longs[(n << L_STRIDE_SHIFT) + L_START];
        while (nodeOrder > order) {
            nodeOrder--;
            int right = newNode();
            int ri = right << I_STRIDE_SHIFT;
            int next = ints[ii + I_NEXT_PHYS];
            ints[ri + I_PREV_PHYS] = n;
            ints[ri + I_NEXT_PHYS] = next;
            if (next != NIL) {
                ints[(next << I_STRIDE_SHIFT) + I_PREV_PHYS] = right;
            }
            ints[ii + I_NEXT_PHYS] = right;
            ints[ri + I_ORDER] = rootBits | nodeOrder;
            longs[(right << L_STRIDE_SHIFT) + L_START] = start + (1L << nodeOrder);
            insertFree(right, nodeOrder);
        }
        ints[ii + I_ORDER] = rootBits | order;
        ints[ii + I_STATE] = TAKEN | type.ordinal() << STATE_BITS;
        int generation = SuballocatorHandles.nextGeneration(ints[ii + I_GENERATION]);
        ints[ii + I_GENERATION] = generation;
        longs[(n << L_STRIDE_SHIFT) + L_USER_SIZE] = size;
        freeBytes -= 1L << order;
        liveCount++;
        liveByType[type.ordinal()]++;
        return SuballocatorHandles.encode(tag, generation, n);
    }

    @Override
    public void free(long handle) {
        visits.checkIdle("free", "BuddySuballocator");
        int n = liveNode(handle);
        int ii = n << I_STRIDE_SHIFT;
        int order = ints[ii + I_ORDER] & ORDER_MASK;
        int rootOrder = ints[ii + I_ORDER] >>> ORDER_BITS;
        freeBytes += 1L << order;
        liveCount--;
        liveByType[ints[ii + I_STATE] >>> STATE_BITS]--;
        long start = longs[(n << L_STRIDE_SHIFT) + L_START];
        while (order < rootOrder) {
            // Nodes are aligned to their size, so bit 'order' of the offset says which half of the parent this is,
            // and the parent (order + 1 <= rootOrder) lies inside the same root.
            boolean left = (start & (1L << order)) == 0;
            int buddy = ints[(n << I_STRIDE_SHIFT) + (left ? I_NEXT_PHYS : I_PREV_PHYS)];
            if (buddy == NIL || (ints[(buddy << I_STRIDE_SHIFT) + I_STATE] & STATE_MASK) != FREE
                    || (ints[(buddy << I_STRIDE_SHIFT) + I_ORDER] & ORDER_MASK) != order) {
                break;
            }
            removeFree(buddy, order);
            if (left) {
                absorbNext(n);
            } else {
                absorbNext(buddy);
                n = buddy;
                start = longs[(n << L_STRIDE_SHIFT) + L_START];
            }
            order++;
            ints[(n << I_STRIDE_SHIFT) + I_ORDER] = rootOrder << ORDER_BITS | order;
        }
        insertFree(n, order);
    }

    /** Unlinks the leaf after {@code n} and makes its node unused; the caller fixes {@code n}'s order. */
    private void absorbNext(int n) {
        int ii = n << I_STRIDE_SHIFT;
        int next = ints[ii + I_NEXT_PHYS];
        int ni = next << I_STRIDE_SHIFT;
        int after = ints[ni + I_NEXT_PHYS];
        ints[ii + I_NEXT_PHYS] = after;
        if (after != NIL) {
            ints[(after << I_STRIDE_SHIFT) + I_PREV_PHYS] = n;
        }
        ints[ni + I_STATE] = UNUSED;
        ints[ni + I_NEXT_FREE] = unusedHead;
        unusedHead = next;
        unusedCount++;
    }

    @Override
    public void reset() {
        visits.checkIdle("reset", "BuddySuballocator");
        for (int i = 0; i < capacity; i++) {
            int ii = i << I_STRIDE_SHIFT;
            ints[ii + I_STATE] = UNUSED;
            ints[ii + I_NEXT_FREE] = i + 1 < capacity ? i + 1 : NIL;
        }
        unusedHead = 0;
        unusedCount = capacity;
        Arrays.fill(heads, NIL);
        freeOrders = 0;
        freeBytes = 0;
        liveCount = 0;
        Arrays.fill(liveByType, 0);
        firstLeaf = NIL;
        int prev = NIL;
        for (long at = usableStart; usableEnd - at >= MIN_NODE_SIZE; ) {
            // The largest node that is aligned at 'at' and fits; at == 0 is aligned to anything.
            int alignOrder = at == 0 ? MAX_ORDER : Math.min(MAX_ORDER, Long.numberOfTrailingZeros(at));
            int order = Math.min(alignOrder, 63 - Long.numberOfLeadingZeros(usableEnd - at));
            int n = newNode();
            int ii = n << I_STRIDE_SHIFT;
            ints[ii + I_PREV_PHYS] = prev;
            ints[ii + I_NEXT_PHYS] = NIL;
            if (prev != NIL) {
                ints[(prev << I_STRIDE_SHIFT) + I_NEXT_PHYS] = n;
            } else {
                firstLeaf = n;
            }
            ints[ii + I_ORDER] = order << ORDER_BITS | order;
            longs[(n << L_STRIDE_SHIFT) + L_START] = at;
            insertFree(n, order);
            freeBytes += 1L << order;
            prev = n;
            at += 1L << order;
        }
    }

    @Override
    public long offset(long handle) {
        return longs[(liveNode(handle) << L_STRIDE_SHIFT) + L_START];
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
        return freeOrders == 0 ? 0 : 1L << (63 - Long.numberOfLeadingZeros(freeOrders));
    }

    @Override
    public int liveCount() {
        return liveCount;
    }

    @Override
    public SuballocatorKind kind() {
        return SuballocatorKind.BUDDY;
    }

    @Override
    public void visit(Visitor visitor) {
        visits.run(this::walk, visitor);
    }

    private void walk(Visitor visitor) {
        for (int n = firstLeaf; n != NIL; n = ints[(n << I_STRIDE_SHIFT) + I_NEXT_PHYS]) {
            int ii = n << I_STRIDE_SHIFT;
            int li = n << L_STRIDE_SHIFT;
            int state = ints[ii + I_STATE];
            if ((state & STATE_MASK) == FREE) {
                visitor.free(longs[li + L_START], nodeSize(n));
            } else {
                visitor.allocation(SuballocatorHandles.encode(tag, ints[ii + I_GENERATION], n), longs[li + L_START],
                        longs[li + L_USER_SIZE], SuballocatorHandles.TYPES[state >>> STATE_BITS]);
            }
        }
    }

    @Override
    public void checkInvariants() {
        int freeLeaves = 0;
        int taken = 0;
        long sumFree = 0;
        int[] byType = new int[liveByType.length];
        long expectedStart = usableStart;
        int prev = NIL;
        int steps = 0;
        for (int n = firstLeaf; n != NIL; n = ints[(n << I_STRIDE_SHIFT) + I_NEXT_PHYS]) {
            if (++steps > capacity) {
                throw broken("the leaf list has a cycle");
            }
            int ii = n << I_STRIDE_SHIFT;
            long start = longs[(n << L_STRIDE_SHIFT) + L_START];
            int order = ints[ii + I_ORDER] & ORDER_MASK;
            int rootOrder = ints[ii + I_ORDER] >>> ORDER_BITS;
            long size = 1L << order;
            if (ints[ii + I_PREV_PHYS] != prev) {
                throw broken("leaf " + n + " links back to " + ints[ii + I_PREV_PHYS] + ", not " + prev);
            }
            if (start != expectedStart || order < MIN_ORDER || order > rootOrder || (start & (size - 1)) != 0) {
                throw broken("leaf " + n + " of order " + order + " (root order " + rootOrder + ") at " + start
                        + ", expected at " + expectedStart + ", aligned to its size");
            }
            int state = ints[ii + I_STATE] & STATE_MASK;
            if (state == FREE) {
                if (order < rootOrder) {
                    boolean left = (start & size) == 0;
                    int buddy = ints[ii + (left ? I_NEXT_PHYS : I_PREV_PHYS)];
                    if (buddy != NIL && (ints[(buddy << I_STRIDE_SHIFT) + I_STATE] & STATE_MASK) == FREE
                            && (ints[(buddy << I_STRIDE_SHIFT) + I_ORDER] & ORDER_MASK) == order) {
                        throw broken("free leaves " + n + " and " + buddy + " are buddies of order " + order);
                    }
                }
                freeLeaves++;
                sumFree += size;
            } else if (state == TAKEN) {
                long userSize = longs[(n << L_STRIDE_SHIFT) + L_USER_SIZE];
                if (userSize <= 0 || userSize > size) {
                    throw broken("allocation of " + userSize + " bytes in leaf " + n + " of " + size + " bytes");
                }
                taken++;
                byType[ints[ii + I_STATE] >>> STATE_BITS]++;
            } else {
                throw broken("unused node " + n + " is in the leaf list");
            }
            prev = n;
            expectedStart = start + size;
        }
        if (expectedStart != usableEnd) {
            throw broken("the leaves end at " + expectedStart + ", not at the usable end " + usableEnd);
        }
        int listed = 0;
        for (int order = 0; order <= MAX_ORDER; order++) {
            if (((freeOrders >>> order) & 1) != (heads[order] != NIL ? 1 : 0)) {
                throw broken("bitmap bit of order " + order + " disagrees with its list");
            }
            int back = NIL;
            for (int n = heads[order]; n != NIL; n = ints[(n << I_STRIDE_SHIFT) + I_NEXT_FREE]) {
                if (++listed > freeLeaves) {
                    throw broken("the free lists hold more than the " + freeLeaves + " free leaves");
                }
                int ii = n << I_STRIDE_SHIFT;
                if ((ints[ii + I_STATE] & STATE_MASK) != FREE || ints[ii + I_PREV_FREE] != back
                        || (ints[ii + I_ORDER] & ORDER_MASK) != order) {
                    throw broken("node " + n + " in the list of order " + order
                            + " is not a free leaf of that order or has a wrong back link");
                }
                back = n;
            }
        }
        if (listed != freeLeaves) {
            throw broken("the free lists hold " + listed + " leaves, not the " + freeLeaves + " free leaves");
        }
        if (sumFree != freeBytes || taken != liveCount || !Arrays.equals(byType, liveByType)) {
            throw broken("counters: freeBytes " + freeBytes + " liveCount " + liveCount + " by type "
                    + Arrays.toString(liveByType) + ", leaves say " + sumFree + ", " + taken + ", "
                    + Arrays.toString(byType));
        }
        int unused = 0;
        for (int n = unusedHead; n != NIL; n = ints[(n << I_STRIDE_SHIFT) + I_NEXT_FREE]) {
            if (++unused > capacity || (ints[(n << I_STRIDE_SHIFT) + I_STATE] & STATE_MASK) != UNUSED) {
                throw broken("the unused-node list holds a used node or has a cycle");
            }
        }
        if (unused != unusedCount || unused + freeLeaves + taken != capacity) {
            throw broken(unused + " unused (counted " + unusedCount + ") + " + freeLeaves + " free + " + taken
                    + " allocated nodes, not the " + capacity + " nodes");
        }
    }

    private static IllegalStateException broken(String what) {
        return new IllegalStateException("buddy invariant broken: " + what);
    }

    private int liveNode(long handle) {
        int n = SuballocatorHandles.index(handle);
        if (SuballocatorHandles.tag(handle) != tag || n < 0 || n >= capacity || handle == NULL_HANDLE
                || (ints[(n << I_STRIDE_SHIFT) + I_STATE] & STATE_MASK) != TAKEN
                || ints[(n << I_STRIDE_SHIFT) + I_GENERATION] != SuballocatorHandles.generation(handle)) {
            throw SuballocatorHandles.badHandle(handle, tag, "BuddySuballocator");
        }
        return n;
    }

    private int newNode() {
        if (unusedHead == NIL) {
            grow();
        }
        int n = unusedHead;
        unusedHead = ints[(n << I_STRIDE_SHIFT) + I_NEXT_FREE];
        unusedCount--;
        return n;
    }

    private void grow() {
        if (capacity >= MAX_NODES) {
            throw new IllegalStateException("buddy nodes: " + capacity + " (expected: fewer than " + MAX_NODES
                    + " leaves in one region)");
        }
        int old = capacity;
        capacity = old * 2;
        ints = Arrays.copyOf(ints, capacity << I_STRIDE_SHIFT);
        longs = Arrays.copyOf(longs, capacity << L_STRIDE_SHIFT);
        for (int i = capacity - 1; i >= old; i--) {
            ints[(i << I_STRIDE_SHIFT) + I_NEXT_FREE] = unusedHead;
            unusedHead = i;
        }
        unusedCount += capacity - old;
    }

    private void insertFree(int n, int order) {
        int ii = n << I_STRIDE_SHIFT;
        int head = heads[order];
        ints[ii + I_STATE] = FREE;
        ints[ii + I_PREV_FREE] = NIL;
        ints[ii + I_NEXT_FREE] = head;
        if (head != NIL) {
            ints[(head << I_STRIDE_SHIFT) + I_PREV_FREE] = n;
        }
        heads[order] = n;
        freeOrders |= 1L << order;
    }

    private void removeFree(int n, int order) {
        int ii = n << I_STRIDE_SHIFT;
        int prev = ints[ii + I_PREV_FREE];
        int next = ints[ii + I_NEXT_FREE];
        if (next != NIL) {
            ints[(next << I_STRIDE_SHIFT) + I_PREV_FREE] = prev;
        }
        if (prev != NIL) {
            ints[(prev << I_STRIDE_SHIFT) + I_NEXT_FREE] = next;
        } else {
            heads[order] = next;
            if (next == NIL) {
                freeOrders &= ~(1L << order);
            }
        }
    }
}
