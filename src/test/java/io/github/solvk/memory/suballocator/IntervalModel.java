package io.github.solvk.memory.suballocator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The simplest possible picture of a suballocator's live allocations, a {@link TreeMap} of intervals, checked against
 * the real thing after every step: no overlap, in bounds, alignment, granularity, counts, byte accounting, visit order
 * and {@link Suballocator#checkInvariants()}.
 */
final class IntervalModel {

    /** A live allocation as the model saw it made. */
    record Interval(long handle, long offset, long size, AllocationType type) {
        long end() {
            return offset + size;
        }
    }

    private final Suballocator sub;
    private final long granularity;
    private final TreeMap<Long, Interval> byOffset = new TreeMap<>();
    private final Map<Long, Interval> byHandle = new HashMap<>();

    IntervalModel(Suballocator sub, long granularity) {
        this.sub = sub;
        this.granularity = granularity;
    }

    int size() {
        return byHandle.size();
    }

    Interval get(long handle) {
        return byHandle.get(handle);
    }

    /** Records a successful allocation after checking where it landed. */
    Interval allocated(long handle, long size, long alignment, AllocationType type) {
        check(handle != Suballocator.NULL_HANDLE, "null handle recorded");
        check(!byHandle.containsKey(handle), "handle reused while live: " + handle);
        long offset = sub.offset(handle);
        check(sub.size(handle) == size, "size " + sub.size(handle) + " != " + size);
        check(sub.type(handle) == type, "type " + sub.type(handle) + " != " + type);
        check(offset % alignment == 0, "offset " + offset + " not aligned to " + alignment);
        check(offset >= sub.regionOffset() && size <= sub.regionOffset() + sub.regionSize() - offset,
                "[" + offset + ", +" + size + ") outside the region");
        Interval interval = new Interval(handle, offset, size, type);
        Map.Entry<Long, Interval> below = byOffset.floorEntry(offset);
        Map.Entry<Long, Interval> above = byOffset.ceilingEntry(offset);
        if (below != null) {
            check(below.getValue().end() <= offset, "overlaps " + below.getValue() + ": " + interval);
        }
        if (above != null) {
            check(interval.end() <= above.getKey(), "overlaps " + above.getValue() + ": " + interval);
        }
        byOffset.put(offset, interval);
        byHandle.put(handle, interval);
        return interval;
    }

    Interval freed(long handle) {
        Interval interval = byHandle.remove(handle);
        check(interval != null, "freed unknown handle " + handle);
        byOffset.remove(interval.offset());
        return interval;
    }

    void cleared() {
        byOffset.clear();
        byHandle.clear();
    }

    List<Interval> live() {
        return new ArrayList<>(byOffset.values());
    }

    /**
     * Checks everything the model knows.
     *
     * @param expectedFreeBytes the exact free bytes the algorithm should report
     */
    void verify(long expectedFreeBytes) {
        sub.checkInvariants();
        check(sub.liveCount() == byHandle.size(), "liveCount " + sub.liveCount() + " != " + byHandle.size());
        long liveBytes = 0;
        Interval previous = null;
        for (Interval interval : byOffset.values()) {
            liveBytes += interval.size();
            check(sub.offset(interval.handle()) == interval.offset(), "offset moved: " + interval);
            if (previous != null && granularity > 1 && previous.type().conflictsWith(interval.type())) {
                check((previous.end() - 1) / granularity != interval.offset() / granularity,
                        "granularity page shared: " + previous + " and " + interval);
            }
            previous = interval;
        }
        check(sub.freeBytes() == expectedFreeBytes, "freeBytes " + sub.freeBytes() + " != " + expectedFreeBytes);
        check(sub.freeBytes() <= sub.regionSize() - liveBytes, "freeBytes " + sub.freeBytes() + " > region - live");
        check(sub.largestFreeRange() >= 0 && sub.largestFreeRange() <= sub.freeBytes(),
                "largestFreeRange " + sub.largestFreeRange() + " vs freeBytes " + sub.freeBytes());
        verifyVisit();
    }

    private void verifyVisit() {
        List<Interval> expected = live();
        long[] cursor = {sub.regionOffset()};
        int[] index = {0};
        boolean[] lastWasFree = {false};
        sub.visit(new Suballocator.Visitor() {
            @Override
            public void allocation(long handle, long offset, long size, AllocationType type) {
                check(index[0] < expected.size(), "visit reports an extra allocation at " + offset);
                Interval interval = expected.get(index[0]++);
                check(interval.equals(new Interval(handle, offset, size, type)),
                        "visit reports " + handle + " at " + offset + " +" + size + " " + type + ", model " + interval);
                check(offset == cursor[0], "visit gap before allocation at " + offset + " (cursor " + cursor[0] + ")");
                cursor[0] = offset + size;
                lastWasFree[0] = false;
            }

            @Override
            public void free(long offset, long size) {
                check(size > 0 && offset == cursor[0], "visit free range at " + offset + " +" + size + " (cursor "
                        + cursor[0] + ")");
                check(!lastWasFree[0], "visit reports two adjacent free ranges at " + offset);
                cursor[0] = offset + size;
                lastWasFree[0] = true;
            }
        });
        check(index[0] == expected.size(), "visit reported " + index[0] + " of " + expected.size() + " allocations");
        check(cursor[0] == sub.regionOffset() + sub.regionSize(), "visit ends at " + cursor[0]);
    }

    static void check(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message);
        }
    }
}
