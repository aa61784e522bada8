package io.github.solvk.memory.bench;

/**
 * The floor for a fixed-size pool: a LIFO stack of free slot indices in an {@code int[]}, no checks at all. The
 * handle is {@code slot + 1}; size and alignment are ignored (every slot is {@code slotSize}).
 */
final class JavaPool implements BenchAllocator {

    private final long slotSize;
    private final int[] freeSlots;
    private int freeCount;

    JavaPool(long regionSize, long slotSize) {
        this.slotSize = slotSize;
        this.freeSlots = new int[Math.toIntExact(regionSize / slotSize)];
        reset();
    }

    @Override
    public long allocate(long size, long alignment) {
        if (freeCount == 0) {
            return 0;
        }
        return freeSlots[--freeCount] + 1L;
    }

    @Override
    public void free(long handle) {
        freeSlots[freeCount++] = (int) (handle - 1);
    }

    @Override
    public void reset() {
        int n = freeSlots.length;
        // Slot 0 on top, so that a fresh pool hands out ascending offsets.
        for (int i = 0; i < n; i++) {
            freeSlots[i] = n - 1 - i;
        }
        freeCount = n;
    }

    @Override
    public long offset(long handle) {
        return (handle - 1) * slotSize;
    }

    @Override
    public long largestFreeRange() {
        return freeCount == 0 ? 0 : slotSize;
    }

    @Override
    public long freeBytes() {
        return freeCount * slotSize;
    }

    @Override
    public void close() {
    }
}
