package io.github.solvk.memory.suballocator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 * allocations: no overlap, inside the region, aligned, buffer-image granularity between conflicting neighbours, byte
 * accounting, counts, {@link Suballocator#checkInvariants()}, and that a failed or rejected call changes nothing.
 *
 * <p>Each algorithm is one {@link Algorithm} and one {@code @Property} method; an algorithm that accepts frees only in
 * an order (stack: newest first, ring: oldest first) says so with its {@link FreeOrder}.
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
        long guaranteedBy(long size, long alignment, long granularity);
    }

    /** How many bytes beyond its size one allocation may take (padding, slack, rounding). */
    @FunctionalInterface
    interface OverheadBound {
        /** @return the most bytes that an allocation of {@code size} at {@code alignment} takes beyond its size */
        long overhead(long size, long alignment, long granularity);
    }

    /**
     * One algorithm under test.
     *
     * <p>Byte accounting, precisely: the ranges that {@code visit} reports do not overlap; the free ones sum to
     * {@code freeBytes()}; what lies between them is <em>taken</em> overhead, and
     * {@code regionSize = freeBytes + sum of live sizes + overhead}, where {@code 0 <= overhead <= unusableBytes +
     * sum over live allocations of overheadBound}. With nothing live, {@code freeBytes >= regionSize - unusableBytes}.
     *
     * @param factory               makes an instance
     * @param freeOrder             which allocation a free step may free
     * @param fitGuarantee          when a failed allocation is a bug
     * @param overheadBound         the most an allocation takes beyond its size
     * @param unusableBytes         bytes of the region the algorithm may never use
     * @param exactLargestFreeRange whether {@code largestFreeRange()} is the largest free range that visit reports
     */
    record Algorithm(SuballocatorFactory factory, FreeOrder freeOrder, FitGuarantee fitGuarantee,
                     OverheadBound overheadBound, long unusableBytes, boolean exactLargestFreeRange) {
    }

    /**
     * TLSF: the guaranteed-fit search size, rounded to a class bound (less than twice it), always finds room; padding
     * and tail each stay with the allocation only below {@link TlsfSuballocator#FRONT_SPLIT_MIN}.
     */
    static final Algorithm TLSF = new Algorithm(TlsfSuballocator::new, ANY_ORDER,
            (size, alignment, granularity) -> 2 * (size + alignment + 2 * granularity),
            (size, alignment, granularity) -> 2 * (TlsfSuballocator.FRONT_SPLIT_MIN - 1), 0, true);
    /**
     * Buddy: a free node of the needed order, or of the granularity's order, always serves; an allocation takes its
     * node; the region's ends are rounded inwards to multiples of 16.
     */
    static final Algorithm BUDDY = new Algorithm(BuddySuballocator::new, ANY_ORDER,
            (size, alignment, granularity) -> Math.max(Math.max(16, 2 * size), Math.max(alignment, granularity)),
            (size, alignment, granularity) -> Math.max(Math.max(16, 2 * size), Math.max(alignment, granularity))
                    - size,
            2 * 15, true);

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

    // ---- generators ----

    /** A region and its granularity; a third of them end at 2^62, the end of the address space. */
    record Region(long offset, long size, long granularity) {
    }

    /**
     * One step: {@code op} (0 to 999) below 620 allocates, 999 resets, else frees; {@code pick} chooses the
     * allocation to free (through the algorithm's {@link FreeOrder}) and whether to try a stale handle first.
     */
    record Action(int op, long size, int alignmentLog2, AllocationType type, int pick) {
        boolean allocates() {
            return op < 620;
        }

        boolean resets() {
            return op == 999;
        }
    }

    @Provide
    Arbitrary<Region> regions() {
        Arbitrary<Long> sizes = Arbitraries.integers().between(12, 22)
                .flatMap(log2 -> Arbitraries.longs().between(1L << log2, (2L << log2) - 1));
        Arbitrary<Long> granularities = Arbitraries.of(1L, 1L, 16L, 64L, 1024L, 4096L);
        Arbitrary<Integer> placements = Arbitraries.integers().between(0, 2);
        Arbitrary<Long> smallOffsets = Arbitraries.longs().between(0, 1 << 16);
        return Combinators.combine(sizes, granularities, placements, smallOffsets).as((size, granularity, placement,
                small) -> new Region(placement == 0 ? 0 : placement == 1 ? small : Suballocator.MAX_REGION_END - size,
                size, granularity));
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Long> sizes = Arbitraries.integers().between(0, 16)
                .flatMap(log2 -> Arbitraries.longs().between(1L << log2, (2L << log2) - 1));
        Arbitrary<Action> action = Combinators.combine(Arbitraries.integers().between(0, 999), sizes,
                Arbitraries.integers().between(0, 12), Arbitraries.of(AllocationType.class),
                Arbitraries.integers()).as(Action::new);
        return action.list().ofSize(STEPS);
    }

    // ---- the run ----

    /** A live allocation as the model knows it. */
    private record Live(long offset, long size, long alignment, AllocationType type) {
    }

    private static void run(Algorithm algorithm, Region region, List<Action> actions) {
        Suballocator s = algorithm.factory().create(region.offset(), region.size(), region.granularity());
        long emptyFreeBytes = s.freeBytes();
        Map<Long, Live> model = new LinkedHashMap<>();
        List<Long> dead = new ArrayList<>();
        check(algorithm, region, s, model, emptyFreeBytes);
        int maxLive = 0;
        int failures = 0;
        for (Action action : actions) {
            if (action.resets()) {
                dead.addAll(model.keySet());
                model.clear();
                s.reset();
            } else if (action.allocates()) {
                long alignment = 1L << action.alignmentLog2();
                long largestBefore = largestVisitedFree(s);
                String before = SuballocatorContractTest.snapshot(s);
                long h = s.tryAllocate(action.size(), alignment, action.type());
                if (h == Suballocator.NULL_HANDLE) {
                    failures++;
                    assertThat(SuballocatorContractTest.snapshot(s)).as("a failed allocation changes nothing")
                            .isEqualTo(before);
                    assertThat(largestBefore).as("largest free range when %d bytes at alignment %d failed",
                            action.size(), alignment).isLessThan(
                            algorithm.fitGuarantee().guaranteedBy(action.size(), alignment, region.granularity()));
                } else {
                    assertThat(model).doesNotContainKey(h);
                    model.put(h, new Live(s.offset(h), action.size(), alignment, action.type()));
                }
            } else if (!model.isEmpty()) {
                if (!dead.isEmpty() && Math.floorMod(action.pick(), 8) == 0) {
                    long stale = dead.get(Math.floorMod(action.pick() >> 3, dead.size()));
                    SuballocatorContractTest.assertRejected(s, () -> s.free(stale), Long.toHexString(stale));
                }
                List<Long> handles = new ArrayList<>(model.keySet());
                long victim = handles.get(algorithm.freeOrder().pick(handles.size(), action.pick()));
                s.free(victim);
                model.remove(victim);
                dead.add(victim);
            }
            if (dead.size() > 64) {
                dead.subList(0, dead.size() - 64).clear();
            }
            check(algorithm, region, s, model, emptyFreeBytes);
            maxLive = Math.max(maxLive, model.size());
        }
        // Shows that the runs reach full regions and many live allocations, not only the easy cases.
        Statistics.label("most live allocations")
                .collect(maxLive < 10 ? "< 10" : maxLive < 100 ? "10 to 99" : ">= 100");
        Statistics.label("failed allocations").collect(failures == 0 ? "none" : failures < 50 ? "1 to 49" : ">= 50");
    }

    private static void check(Algorithm algorithm, Region region, Suballocator s, Map<Long, Live> model,
                              long emptyFreeBytes) {
        assertThat(s.liveCount()).isEqualTo(model.size());
        long regionEnd = region.offset() + region.size();
        List<long[]> allocations = new ArrayList<>();
        long[] cursor = {region.offset()};
        long[] free = {0, 0};
        s.visit(new Suballocator.Visitor() {
            @Override
            public void allocation(long handle, long offset, long size, AllocationType type) {
                Live live = model.get(handle);
                assertThat(live).as("visited allocation %x is live in the model", handle).isNotNull();
                assertThat(offset).isEqualTo(live.offset()).isEqualTo(s.offset(handle));
                assertThat(size).isEqualTo(live.size()).isEqualTo(s.size(handle));
                assertThat(type).isEqualTo(live.type()).isEqualTo(s.type(handle));
                assertThat(offset % live.alignment()).as("offset %d at alignment %d", offset, live.alignment())
                        .isZero();
                inOrder(offset, size);
                allocations.add(new long[] {offset, size, type.ordinal()});
            }

            @Override
            public void free(long offset, long size) {
                inOrder(offset, size);
                free[0] += size;
                free[1] = Math.max(free[1], size);
            }

            private void inOrder(long offset, long size) {
                assertThat(size).isPositive();
                assertThat(offset).as("range at %d after the previous range's end %d", offset, cursor[0])
                        .isGreaterThanOrEqualTo(cursor[0]);
                assertThat(offset + size).as("range end inside the region").isLessThanOrEqualTo(regionEnd);
                cursor[0] = offset + size;
            }
        });
        assertThat(allocations).hasSize(model.size());
        long pageMask = -region.granularity();
        for (int i = 1; i < allocations.size(); i++) {
            long[] a = allocations.get(i - 1);
            long[] b = allocations.get(i);
            AllocationType ta = SuballocatorHandles.TYPES[(int) a[2]];
            AllocationType tb = SuballocatorHandles.TYPES[(int) b[2]];
            if (ta.conflictsWith(tb)) {
                assertThat((a[0] + a[1] - 1) & pageMask).as("%s at [%d, +%d) and %s at %d share a page", ta, a[0],
                        a[1], tb, b[0]).isNotEqualTo(b[0] & pageMask);
            }
        }
        // Byte accounting, as Algorithm defines it.
        long liveBytes = 0;
        long overheadBound = algorithm.unusableBytes();
        for (Live live : model.values()) {
            liveBytes += live.size();
            overheadBound += algorithm.overheadBound().overhead(live.size(), live.alignment(), region.granularity());
        }
        assertThat(s.freeBytes()).as("freeBytes is the sum of the visited free ranges").isEqualTo(free[0]);
        assertThat(region.size() - s.freeBytes() - liveBytes).as("bytes taken beyond the live sizes")
                .isBetween(0L, overheadBound);
        if (model.isEmpty()) {
            assertThat(s.freeBytes()).as("with nothing live, all is free again").isEqualTo(emptyFreeBytes)
                    .isGreaterThanOrEqualTo(region.size() - algorithm.unusableBytes());
        }
        assertThat(s.largestFreeRange()).isBetween(0L, s.freeBytes());
        if (algorithm.exactLargestFreeRange()) {
            assertThat(s.largestFreeRange()).isEqualTo(free[1]);
        }
        s.checkInvariants();
    }

    private static long largestVisitedFree(Suballocator s) {
        long[] largest = {0};
        s.visit(new Suballocator.Visitor() {
            @Override
            public void allocation(long handle, long offset, long size, AllocationType type) {
            }

            @Override
            public void free(long offset, long size) {
                largest[0] = Math.max(largest[0], size);
            }
        });
        return largest[0];
    }
}
