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
        if (handle == Suballocator.NULL_HANDLE || byHandle.containsKey(handle)) {
            fail("handle " + handle + " is null or already live");
        }
        long offset = sub.offset(handle);
        if (sub.size(handle) != size || sub.type(handle) != type) {
            fail("size " + sub.size(handle) + ", type " + sub.type(handle) + " (expected " + size + ", " + type + ")");
        }
        if (offset % alignment != 0) {
            fail("offset " + offset + " not aligned to " + alignment);
        }
        if (offset < sub.regionOffset() || size > sub.regionOffset() + sub.regionSize() - offset) {
            fail("[" + offset + ", +" + size + ") outside the region");
        }
        Interval interval = new Interval(handle, offset, size, type);
        Map.Entry<Long, Interval> below = byOffset.floorEntry(offset);
        Map.Entry<Long, Interval> above = byOffset.ceilingEntry(offset);
        if (below != null && below.getValue().end() > offset) {
            fail("overlaps " + below.getValue() + ": " + interval);
        }
        if (above != null && interval.end() > above.getKey()) {
            fail("overlaps " + above.getValue() + ": " + interval);
        }
        byOffset.put(offset, interval);
        byHandle.put(handle, interval);
        return interval;
    }

    Interval freed(long handle) {
        Interval interval = byHandle.remove(handle);
        if (interval == null) {
            fail("freed unknown handle " + handle);
        }
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
        if (sub.liveCount() != byHandle.size()) {
            fail("liveCount " + sub.liveCount() + " != " + byHandle.size());
        }
        long liveBytes = 0;
        Interval previous = null;
        for (Interval interval : byOffset.values()) {
            liveBytes += interval.size();
            if (sub.offset(interval.handle()) != interval.offset()) {
                fail("offset moved: " + interval);
            }
            if (previous != null && granularity > 1 && previous.type().conflictsWith(interval.type())
                    && (previous.end() - 1) / granularity == interval.offset() / granularity) {
                fail("granularity page shared: " + previous + " and " + interval);
            }
            previous = interval;
        }
        if (sub.freeBytes() != expectedFreeBytes || sub.freeBytes() > sub.regionSize() - liveBytes) {
            fail("freeBytes " + sub.freeBytes() + " (expected " + expectedFreeBytes + ", at most region - live)");
        }
        if (sub.largestFreeRange() < 0 || sub.largestFreeRange() > sub.freeBytes()) {
            fail("largestFreeRange " + sub.largestFreeRange() + " vs freeBytes " + sub.freeBytes());
        }
        verifyVisit();
    }

    /**
     * Visit must report the model's allocations and free ranges in increasing offset order, without overlap, inside
     * the region, with touching free ranges merged, the free ranges summing to {@link Suballocator#freeBytes()}; what
     * lies between is padding of live allocations.
     */
    private void verifyVisit() {
        List<Interval> expected = live();
        long[] cursor = {sub.regionOffset()};
        long[] freeSum = {0};
        long[] lastFreeEnd = {-1};
        int[] index = {0};
        sub.visit(new Suballocator.Visitor() {
            @Override
            public void allocation(long handle, long offset, long size, AllocationType type) {
                if (index[0] >= expected.size()) {
                    fail("visit reports an extra allocation at " + offset);
                }
                Interval interval = expected.get(index[0]++);
                if (interval.handle() != handle || interval.offset() != offset || interval.size() != size
                        || interval.type() != type) {
                    fail("visit reports " + handle + " at " + offset + " +" + size + " " + type + ", model "
                            + interval);
                }
                if (offset < cursor[0]) {
                    fail("visit goes back to allocation at " + offset + " (cursor " + cursor[0] + ")");
                }
                cursor[0] = offset + size;
            }

            @Override
            public void free(long offset, long size) {
                if (size <= 0 || offset < cursor[0]) {
                    fail("visit free range at " + offset + " +" + size + " (cursor " + cursor[0] + ")");
                }
                if (offset == lastFreeEnd[0]) {
                    fail("visit reports two touching free ranges at " + offset);
                }
                cursor[0] = offset + size;
                lastFreeEnd[0] = cursor[0];
                freeSum[0] += size;
            }
        });
        if (index[0] != expected.size()) {
            fail("visit reported " + index[0] + " of " + expected.size() + " allocations");
        }
        if (cursor[0] > sub.regionOffset() + sub.regionSize()) {
            fail("visit ends at " + cursor[0] + ", past the region");
        }
        if (freeSum[0] != sub.freeBytes()) {
            fail("visit reports " + freeSum[0] + " free bytes, freeBytes() " + sub.freeBytes());
        }
    }

    private static void fail(String message) {
        throw new AssertionError(message);
    }
}
