package io.github.solvk.memory.suballocator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * Random sequences of allocations, frees and resets, checked after every step against a model of the live
 * allocations, a {@link TreeMap} of intervals by offset: no overlap, inside the region, aligned, buffer-image
 * granularity between conflicting neighbours, visit reporting exactly the model's allocations in offset order, byte
 * accounting, counts, {@link Suballocator#checkInvariants()}, and that a failed or rejected call changes nothing.
 *
 * <p>Each algorithm is one {@link Algorithm} and one {@code @Property} method, all five of them; an algorithm that
 * accepts frees only in an order (stack: newest first, ring: oldest first) says so with its {@link FreeOrder}, and one
 * that takes only requests up to a bound (the fixed-size pool: its slot) says so with its {@link RequestBound}. The
 * fixed-size pool has a second property, on regions that leave its last slot shorter than a stride.
 */
class SuballocatorModelProperties {

    /**
     * Steps per sequence; with {@link #TRIES} sequences, 100 000 steps per algorithm. Edge cases are off: they would
     * spend tries on sequences of one repeated action, and the sizes and regions already reach their bounds.
     */
    static final int STEPS = 1000;
    static final int TRIES = 100;

    /** Picks which live allocation a free step frees. */
    @FunctionalInterface
    interface FreeOrder {
        /**
         * @param liveCount the number of live allocations, {@code > 0}
         * @param random    a random int
         * @return the index, in allocation order (oldest first), of the allocation to free
         */
        int pick(int liveCount, int random);
    }

    /** Any allocation may be freed. */
    static final FreeOrder ANY_ORDER = (liveCount, random) -> Math.floorMod(random, liveCount);
    /** Stack order. */
    static final FreeOrder NEWEST_FIRST = (liveCount, random) -> liveCount - 1;
    /** Ring order. */
    static final FreeOrder OLDEST_FIRST = (liveCount, random) -> 0;

    /** What an algorithm promises: a free range at least this large means an allocation must succeed. */
    @FunctionalInterface
    interface FitGuarantee {
        /** @return the free-range size that guarantees success, or {@code Long.MAX_VALUE} for no promise */
        long guaranteedBy(Suballocator s, long size, long alignment, long granularity);
    }

    /** How many bytes beyond its size one allocation may take (padding, slack, rounding). */
    @FunctionalInterface
    interface OverheadBound {
        /** @return the most bytes that an allocation of {@code size} at {@code alignment} takes beyond its size */
        long overhead(Suballocator s, long size, long alignment, long granularity);
    }

    /** The largest request an instance takes; larger ones are caller bugs there, so the run never makes them. */
    interface RequestBound {
        /** @return the largest size {@code s} accepts */
        long maxSize(Suballocator s);

        /** @return the largest alignment {@code s} accepts */
        long maxAlignment(Suballocator s);
    }

    /** Every size and alignment the contract allows. */
    static final RequestBound UNBOUNDED = new RequestBound() {
        @Override
        public long maxSize(Suballocator s) {
            return Suballocator.MAX_REGION_END;
        }

        @Override
        public long maxAlignment(Suballocator s) {
            return Suballocator.MAX_REGION_END;
        }
    };

    /**
     * One algorithm under test.
     *
     * <p>Byte accounting, precisely: the ranges that {@code visit} reports do not overlap; the free ones sum to
     * {@code freeBytes()}; what lies between them is <em>taken</em> overhead, and
     * {@code regionSize = freeBytes + sum of live sizes + overhead}, where {@code 0 <= overhead <= unusableBytes +
     * sum over live allocations of overheadBound + (wraps ? the largest wrapSlack of a live allocation : 0)}. With
     * nothing live, {@code freeBytes >= regionSize - unusableBytes}.
     *
     * @param factory               makes an instance
     * @param freeOrder             which allocation a free step may free
     * @param fitGuarantee          when a failed allocation is a bug
     * @param overheadBound         the most an allocation takes beyond its size
     * @param unusableBytes         bytes of the region the algorithm may never use
     * @param exactLargestFreeRange whether {@code largestFreeRange()} is the largest free range that visit reports
     * @param wraps                 whether one allocation at a time may also hold the skipped end of the region (a
     *                              ring's wrapping entry), its <em>wrapSlack</em>: less than its size plus its
     *                              overhead bound plus one
     * @param requestBound          the largest size and alignment the run asks for
     */
    record Algorithm(SuballocatorFactory factory, FreeOrder freeOrder, FitGuarantee fitGuarantee,
                     OverheadBound overheadBound, long unusableBytes, boolean exactLargestFreeRange, boolean wraps,
                     RequestBound requestBound) {
    }

    /**
     * TLSF: the guaranteed-fit search size, rounded to a class bound (less than twice it), always finds room; padding
     * and tail each stay with the allocation only below {@link TlsfSuballocator#FRONT_SPLIT_MIN}.
     */
    static final Algorithm TLSF = new Algorithm(TlsfSuballocator::new, ANY_ORDER,
            (s, size, alignment, granularity) -> 2 * (size + alignment + 2 * granularity),
            (s, size, alignment, granularity) -> 2 * (TlsfSuballocator.FRONT_SPLIT_MIN - 1), 0, true, false,
            UNBOUNDED);
    /**
     * Buddy: a free node of the needed order, or of the granularity's order, always serves; an allocation takes its
     * node; the region's ends are rounded inwards to multiples of 16.
     */
    static final Algorithm BUDDY = new Algorithm(BuddySuballocator::new, ANY_ORDER,
            (s, size, alignment, granularity) -> Math.max(Math.max(16, 2 * size), Math.max(alignment, granularity)),
            (s, size, alignment, granularity) -> Math.max(Math.max(16, 2 * size), Math.max(alignment, granularity))
                    - size,
            2 * 15, true, false, UNBOUNDED);
    /**
     * Stack, freed newest first as it demands: the free range is {@code [head, regionEnd)}, and an allocation starts
     * at the head rounded up to its alignment or, next to a conflicting type, to the granularity: less than
     * {@code max(alignment, granularity)} bytes of padding, which stay with it.
     */
    static final Algorithm STACK = new Algorithm(StackSuballocator::new, NEWEST_FIRST,
            (s, size, alignment, granularity) -> size + Math.max(alignment, granularity),
            (s, size, alignment, granularity) -> Math.max(alignment, granularity) - 1, 0, true, false, UNBOUNDED);
    /**
     * Ring, freed oldest first as it demands: at the head, or wrapped to the region's start, an allocation takes less
     * than {@code max(alignment, granularity)} bytes of padding, and must end a granularity page before a conflicting
     * oldest allocation; so a free range of {@code size + max(alignment, granularity) + granularity} always serves.
     * The wrapping entry also holds the skipped end of the region, which was too small for it.
     */
    static final Algorithm RING = new Algorithm(RingSuballocator::new, OLDEST_FIRST,
            (s, size, alignment, granularity) -> size + Math.max(alignment, granularity) + granularity,
            (s, size, alignment, granularity) -> Math.max(alignment, granularity) - 1, 0, true, true, UNBOUNDED);
    /**
     * Fixed-size pool, freed in any order. Its slot size follows from the region's size (1 to 2048 bytes) and its slot
     * alignment is at least the granularity, the pool's documented way to keep conflicting slots off each other's
     * pages. A free range of one stride means a free slot, which every accepted request fits; an allocation takes its
     * slot's stride. The bytes before the first slot and after the last count as free (and are reported so), hence
     * no exact largest free range: it reports the slot size.
     */
    static final Algorithm POOL = new Algorithm((offset, size, granularity) -> new FixedSizeSuballocator(offset, size,
            1 + size % 2048, Math.max(granularity, Math.min(256, Long.lowestOneBit(size)))), ANY_ORDER,
            (s, size, alignment, granularity) -> pool(s).slotStride(),
            (s, size, alignment, granularity) -> pool(s).slotStride() - size, 0, false, false,
            new RequestBound() {
                @Override
                public long maxSize(Suballocator s) {
                    return pool(s).slotSize();
                }

                @Override
                public long maxAlignment(Suballocator s) {
                    return pool(s).slotAlignment();
                }
            });

    private static FixedSizeSuballocator pool(Suballocator s) {
        return (FixedSizeSuballocator) s;
    }

    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void tlsfShouldAgreeWithTheModelAfterEveryStep(@ForAll("regions") Region region,
                                                   @ForAll("actions") List<Action> actions) {
        run(TLSF, region, actions);
    }

    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void buddyShouldAgreeWithTheModelAfterEveryStep(@ForAll("regions") Region region,
                                                    @ForAll("actions") List<Action> actions) {
        run(BUDDY, region, actions);
    }

    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void stackShouldAgreeWithTheModelAfterEveryStep(@ForAll("regions") Region region,
                                                    @ForAll("actions") List<Action> actions) {
        run(STACK, region, actions);
    }

    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void ringShouldAgreeWithTheModelAfterEveryStep(@ForAll("regions") Region region,
                                                   @ForAll("actions") List<Action> actions) {
        run(RING, region, actions);
    }

    /** Pool regions start at 16 KiB, so that a slot of up to 2 KiB at an alignment of up to 4 KiB always fits. */
    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void poolShouldAgreeWithTheModelAfterEveryStep(@ForAll("poolRegions") Region region,
                                                   @ForAll("actions") List<Action> actions) {
        run(POOL, region, actions);
    }

    /**
     * Pools whose region ends inside the last slot's stride, past its slot size: the last slot is shorter than a
     * stride. Each run first fills every slot and tries one more (the pool must hand out exactly the slots that fit,
     * the last one included), then goes on at random; after every step visit must stay inside the region, the free
     * bytes must be the region less what the live slots take (never negative), and the invariants must hold.
     */
    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void poolWithALastSlotShorterThanAStrideShouldAgreeWithTheModelAfterEveryStep(
            @ForAll("shortLastSlotPools") ShortLastSlotPool pool, @ForAll("actions") List<Action> actions) {
        Region region = pool.region();
        FixedSizeSuballocator probe = (FixedSizeSuballocator) pool.algorithm().factory().create(region.offset(),
                region.size(), region.granularity());
        if (probe.slotCount() != pool.slots() || probe.slotStride() != pool.stride()) {
            fail("%s: %d slots every %d (expected: %d every %d)", pool, probe.slotCount(), probe.slotStride(),
                    pool.slots(), pool.stride());
        }
        List<Action> steps = new ArrayList<>();
        for (int i = 0; i <= pool.slots(); i++) {
            Action a = actions.get(i % actions.size());
            steps.add(new Action(0, a.sizeLog2(), a.sizeBits(), a.alignmentLog2(), a.type(), a.pick()));
        }
        steps.addAll(actions);
        int maxLive = run(pool.algorithm(), region, steps);
        if (maxLive != pool.slots()) {
            fail("%s: at most %d live (expected: every one of the %d slots, and never more)", pool, maxLive,
                    pool.slots());
        }
    }

    // ---- generators ----

    /** A region and its granularity; a third of them end at 2^62, the end of the address space. */
    record Region(long offset, long size, long granularity) {
    }

    /**
     * One step: {@code op} (0 to 999) below 620 allocates, 999 resets, else frees; {@code pick} chooses the
     * allocation to free (through the algorithm's {@link FreeOrder}) and whether to try a stale handle first. The
     * size is log-uniform: {@code 2^sizeLog2} plus {@code sizeBits} modulo that.
     */
    record Action(int op, int sizeLog2, long sizeBits, int alignmentLog2, AllocationType type, int pick) {
        boolean allocates() {
            return op < 620;
        }

        boolean resets() {
            return op == 999;
        }

        long size() {
            return (1L << sizeLog2) + Long.remainderUnsigned(sizeBits, 1L << sizeLog2);
        }
    }

    @Provide
    Arbitrary<Region> regions() {
        return regionsOf(12);
    }

    @Provide
    Arbitrary<Region> poolRegions() {
        return regionsOf(14);
    }

    private static Arbitrary<Region> regionsOf(int minLog2) {
        Arbitrary<Integer> sizeLog2s = Arbitraries.integers().between(minLog2, 22);
        Arbitrary<Long> sizeBits = Arbitraries.longs();
        Arbitrary<Long> granularities = Arbitraries.of(1L, 1L, 16L, 64L, 1024L, 4096L);
        Arbitrary<Integer> placements = Arbitraries.integers().between(0, 2);
        Arbitrary<Long> smallOffsets = Arbitraries.longs().between(0, 1 << 16);
        return Combinators.combine(sizeLog2s, sizeBits, granularities, placements, smallOffsets).as((log2, bits,
                granularity, placement, small) -> {
            long size = (1L << log2) + Long.remainderUnsigned(bits, 1L << log2);
            long offset = placement == 0 ? 0 : placement == 1 ? small : Suballocator.MAX_REGION_END - size;
            return new Region(offset, size, granularity);
        });
    }

    /**
     * A fixed-size pool of {@code slots} slots whose region ends {@code tail} bytes after the last slot's
     * {@code slotSize} bytes, {@code tail < stride - slotSize}: the last slot takes {@code slotSize + tail} bytes,
     * less than a stride. The region starts {@code lead} bytes before the first slot (less than the alignment); a
     * third of the regions end near 2^62.
     */
    record ShortLastSlotPool(long slotSize, long slotAlignment, int slots, long lead, long tail, boolean nearMax,
                             long firstSlotUnits) {
        long stride() {
            return (slotSize + slotAlignment - 1) & -slotAlignment;
        }

        Region region() {
            long span = (slots - 1) * stride() + slotSize + tail;
            long firstSlot = nearMax ? (Suballocator.MAX_REGION_END - span) & -slotAlignment
                    : firstSlotUnits * slotAlignment;
            if (firstSlot < lead) {
                firstSlot += slotAlignment;
            }
            // The slot alignment is at least the granularity, the pool's way to keep slots on their own pages.
            return new Region(firstSlot - lead, lead + span, slotAlignment);
        }

        Algorithm algorithm() {
            return new Algorithm((offset, size, granularity) -> new FixedSizeSuballocator(offset, size, slotSize,
                    slotAlignment), ANY_ORDER, POOL.fitGuarantee(), POOL.overheadBound(), 0, false, false,
                    POOL.requestBound());
        }
    }

    @Provide
    Arbitrary<ShortLastSlotPool> shortLastSlotPools() {
        // slotSize = units * alignment - short, 0 < short < alignment: the stride is units * alignment, longer than
        // the slot, so a region can end inside the last stride.
        Arbitrary<Integer> alignmentLog2s = Arbitraries.integers().between(1, 12);
        Arbitrary<Integer> units = Arbitraries.integers().between(1, 8);
        Arbitrary<Long> bits = Arbitraries.longs();
        Arbitrary<Integer> slotCounts = Arbitraries.integers().between(1, 64);
        Arbitrary<Integer> placements = Arbitraries.integers().between(0, 2);
        return Combinators.combine(alignmentLog2s, units, bits, slotCounts, placements).as((log2, unit, random,
                slots, placement) -> {
            long alignment = 1L << log2;
            long shortBy = 1 + Long.remainderUnsigned(random, alignment - 1);
            long slotSize = unit * alignment - shortBy;
            long tail = Long.remainderUnsigned(random >>> 13, shortBy);
            long lead = Long.remainderUnsigned(random >>> 29, alignment);
            long firstSlotUnits = placement == 0 ? 0 : Long.remainderUnsigned(random >>> 41, 1 << 10);
            return new ShortLastSlotPool(slotSize, alignment, slots, lead, tail, placement == 2, firstSlotUnits);
        });
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Action> action = Combinators.combine(Arbitraries.integers().between(0, 999),
                Arbitraries.integers().between(0, 16), Arbitraries.longs(), Arbitraries.integers().between(0, 12),
                Arbitraries.of(AllocationType.class), Arbitraries.integers()).as(Action::new);
        return action.list().ofSize(STEPS);
    }

    // ---- the model ----

    /** A live allocation as the model knows it. */
    private record Live(long handle, long offset, long size, long alignment, AllocationType type) {
        long end() {
            return offset + size;
        }
    }

    /**
     * The live allocations by offset, the simplest picture of a region, by handle, and in allocation order (for the
     * free order rules).
     */
    private static final class Model {
        final TreeMap<Long, Live> byOffset = new TreeMap<>();
        final Map<Long, Live> byHandle = new HashMap<>();
        final List<Long> inAllocationOrder = new ArrayList<>();

        int size() {
            return byHandle.size();
        }

        /** Adds an allocation that {@code s} just made, after checking that it lies alone, inside, aligned. */
        void allocated(Suballocator s, Region region, long handle, long size, long alignment, AllocationType type) {
            if (byHandle.containsKey(handle)) {
                fail("handle %x is already live", handle);
            }
            Live live = new Live(handle, s.offset(handle), size, alignment, type);
            if (s.size(handle) != size || s.type(handle) != type) {
                fail("%x has size %d and type %s (expected: %d, %s)", handle, s.size(handle), s.type(handle), size,
                        type);
            }
            if (live.offset() % alignment != 0) {
                fail("offset %d at alignment %d", live.offset(), alignment);
            }
            if (live.offset() < region.offset() || size > region.offset() + region.size() - live.offset()) {
                fail("[%d, +%d) outside the region [%d, +%d)", live.offset(), size, region.offset(), region.size());
            }
            Map.Entry<Long, Live> below = byOffset.floorEntry(live.offset());
            Map.Entry<Long, Live> above = byOffset.ceilingEntry(live.offset());
            if (below != null && below.getValue().end() > live.offset()) {
                fail("%s overlaps %s", live, below.getValue());
            }
            if (above != null && live.end() > above.getKey()) {
                fail("%s overlaps %s", live, above.getValue());
            }
            byOffset.put(live.offset(), live);
            byHandle.put(handle, live);
            inAllocationOrder.add(handle);
        }

        void freed(long handle, int index) {
            Live live = byHandle.remove(handle);
            byOffset.remove(live.offset());
            inAllocationOrder.remove(index);
        }

        void cleared() {
            byOffset.clear();
            byHandle.clear();
            inAllocationOrder.clear();
        }
    }

    // ---- the run ----

    /** @return the most allocations live at once during the run */
    private static int run(Algorithm algorithm, Region region, List<Action> actions) {
        Suballocator s = algorithm.factory().create(region.offset(), region.size(), region.granularity());
        long maxSize = algorithm.requestBound().maxSize(s);
        int maxAlignmentLog2 = Long.numberOfTrailingZeros(algorithm.requestBound().maxAlignment(s));
        long emptyFreeBytes = s.freeBytes();
        Model model = new Model();
        List<Long> dead = new ArrayList<>();
        Trace before = new Trace();
        Trace after = new Trace();
        check(algorithm, region, s, model, emptyFreeBytes, before);
        int maxLive = 0;
        int failures = 0;
        for (Action action : actions) {
            if (action.resets()) {
                dead.addAll(model.inAllocationOrder);
                model.cleared();
                s.reset();
            } else if (action.allocates()) {
                // Within the bound, the generated sizes and alignments stay as they are.
                long size = action.size() <= maxSize ? action.size() : 1 + (action.size() - 1) % maxSize;
                int alignmentLog2 = action.alignmentLog2() <= maxAlignmentLog2 ? action.alignmentLog2()
                        : action.alignmentLog2() % (maxAlignmentLog2 + 1);
                long alignment = 1L << alignmentLog2;
                long h = s.tryAllocate(size, alignment, action.type());
                if (h == Suballocator.NULL_HANDLE) {
                    failures++;
                    after.record(s);
                    if (!after.sameAs(before)) {
                        fail("a failed allocation of %d at alignment %d changed the state", size, alignment);
                    }
                    long guarantee = algorithm.fitGuarantee().guaranteedBy(s, size, alignment, region.granularity());
                    if (before.largestFree >= guarantee) {
                        fail("%d bytes at alignment %d failed with a free range of %d (guaranteed from %d)", size,
                                alignment, before.largestFree, guarantee);
                    }
                } else {
                    model.allocated(s, region, h, size, alignment, action.type());
                }
            } else if (model.size() != 0) {
                if (!dead.isEmpty() && Math.floorMod(action.pick(), 8) == 0) {
                    long stale = dead.get(Math.floorMod(action.pick() >> 3, dead.size()));
                    SuballocatorContractTest.assertRejected(s, () -> s.free(stale), Long.toHexString(stale));
                }
                int index = algorithm.freeOrder().pick(model.size(), action.pick());
                long victim = model.inAllocationOrder.get(index);
                s.free(victim);
                model.freed(victim, index);
                dead.add(victim);
            }
            if (dead.size() > 64) {
                dead.subList(0, dead.size() - 64).clear();
            }
            check(algorithm, region, s, model, emptyFreeBytes, before);
            maxLive = Math.max(maxLive, model.size());
        }
        // Shows that the runs reach full regions and many live allocations, not only the easy cases.
        Statistics.label("most live allocations")
                .collect(maxLive < 10 ? "< 10" : maxLive < 100 ? "10 to 99" : ">= 100");
        Statistics.label("failed allocations").collect(failures == 0 ? "none" : failures < 50 ? "1 to 49" : ">= 50");
        return maxLive;
    }

    /**
     * Checks {@code s} against the model and records what visit reported into {@code trace}, the state the next
     * step's failed allocation must leave unchanged.
     */
    private static void check(Algorithm algorithm, Region region, Suballocator s, Model model, long emptyFreeBytes,
                              Trace trace) {
        if (s.liveCount() != model.size()) {
            fail("liveCount %d (expected: %d)", s.liveCount(), model.size());
        }
        trace.record(s);
        long regionEnd = region.offset() + region.size();
        long cursor = region.offset();
        long freeSum = 0;
        Iterator<Live> expected = model.byOffset.values().iterator();
        long[] ranges = trace.ranges;
        for (int i = 0; i < trace.length; i += Trace.LONGS_PER_RANGE) {
            long handle = ranges[i];
            long offset = ranges[i + 1];
            long size = ranges[i + 2];
            if (size <= 0 || offset < cursor || size > regionEnd - offset) {
                fail("range [%d, +%d) after the previous range's end %d, in region [%d, %d)", offset, size, cursor,
                        region.offset(), regionEnd);
            }
            cursor = offset + size;
            if (handle == Suballocator.NULL_HANDLE) {
                freeSum += size;
                continue;
            }
            Live live = expected.hasNext() ? expected.next() : null;
            AllocationType type = SuballocatorHandles.TYPES[(int) ranges[i + 3]];
            if (live == null || live.handle() != handle || live.offset() != offset || live.size() != size
                    || live.type() != type) {
                fail("visit reports %x at [%d, +%d) %s where the model has %s", handle, offset, size, type, live);
            }
            if (s.offset(handle) != offset || s.size(handle) != size || s.type(handle) != type) {
                fail("%x: offset, size, type %d, %d, %s disagree with visit", handle, s.offset(handle),
                        s.size(handle), s.type(handle));
            }
        }
        if (expected.hasNext()) {
            fail("visit misses %s", expected.next());
        }
        // Granularity: neighbours in offset order of conflicting types lie on different pages.
        long pageMask = -region.granularity();
        Live previous = null;
        long liveBytes = 0;
        long overheadBound = algorithm.unusableBytes();
        long wrapSlack = 0;
        for (Live live : model.byOffset.values()) {
            if (previous != null && previous.type().conflictsWith(live.type())
                    && ((previous.end() - 1) & pageMask) == (live.offset() & pageMask)) {
                fail("%s and %s share a granularity page of %d", previous, live, region.granularity());
            }
            previous = live;
            liveBytes += live.size();
            long bound = algorithm.overheadBound().overhead(s, live.size(), live.alignment(), region.granularity());
            overheadBound += bound;
            if (algorithm.wraps()) {
                // The skipped end was too small for the allocation and its padding: less than size + bound + 1.
                wrapSlack = Math.max(wrapSlack, live.size() + bound + 1);
            }
        }
        // Byte accounting, as Algorithm defines it.
        if (s.freeBytes() < 0 || s.freeBytes() != freeSum) {
            fail("freeBytes %d (expected: the sum of the visited free ranges, %d)", s.freeBytes(), freeSum);
        }
        long taken = region.size() - s.freeBytes() - liveBytes;
        if (taken < 0 || taken > overheadBound + wrapSlack) {
            fail("%d bytes taken beyond the live sizes (expected: 0 to %d)", taken, overheadBound + wrapSlack);
        }
        if (model.size() == 0 && (s.freeBytes() != emptyFreeBytes
                || s.freeBytes() < region.size() - algorithm.unusableBytes())) {
            fail("freeBytes %d with nothing live (expected: %d, all again)", s.freeBytes(), emptyFreeBytes);
        }
        if (s.largestFreeRange() < 0 || s.largestFreeRange() > s.freeBytes()) {
            fail("largestFreeRange %d (expected: 0 to freeBytes %d)", s.largestFreeRange(), s.freeBytes());
        }
        if (algorithm.exactLargestFreeRange() && s.largestFreeRange() != trace.largestFree) {
            fail("largestFreeRange %d (expected: the largest visited free range, %d)", s.largestFreeRange(),
                    trace.largestFree);
        }
        s.checkInvariants();
    }

    /**
     * Everything observable about a suballocator's state: what visit reports, in order, and the counters; cheap to
     * record and compare after every step.
     */
    private static final class Trace {
        /** Per range: the handle (0 for a free range), offset, size, type ordinal. */
        static final int LONGS_PER_RANGE = 4;

        long[] ranges = new long[64 * LONGS_PER_RANGE];
        int length;
        long freeBytes;
        long largestFreeRange;
        int liveCount;
        long largestFree;

        void record(Suballocator s) {
            length = 0;
            largestFree = 0;
            freeBytes = s.freeBytes();
            largestFreeRange = s.largestFreeRange();
            liveCount = s.liveCount();
            s.visit(new Suballocator.Visitor() {
                @Override
                public void allocation(long handle, long offset, long size, AllocationType type) {
                    add(handle, offset, size, type.ordinal());
                }

                @Override
                public void free(long offset, long size) {
                    add(Suballocator.NULL_HANDLE, offset, size, -1);
                    largestFree = Math.max(largestFree, size);
                }
            });
        }

        private void add(long handle, long offset, long size, long type) {
            if (length + LONGS_PER_RANGE > ranges.length) {
                ranges = Arrays.copyOf(ranges, ranges.length * 2);
            }
            ranges[length] = handle;
            ranges[length + 1] = offset;
            ranges[length + 2] = size;
            ranges[length + 3] = type;
            length += LONGS_PER_RANGE;
        }

        boolean sameAs(Trace other) {
            return length == other.length && freeBytes == other.freeBytes
                    && largestFreeRange == other.largestFreeRange && liveCount == other.liveCount
                    && Arrays.equals(ranges, 0, length, other.ranges, 0, length);
        }
    }

    private static void fail(String format, Object... args) {
        throw new AssertionError(String.format(format, args));
    }
}
