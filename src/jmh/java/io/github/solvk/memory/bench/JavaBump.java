package io.github.solvk.memory.bench;

/**
 * The floor for a stack: a bump pointer in plain Java with no checks beyond the end of the region. Frees must come
 * in reverse order (not checked). The handle is {@code offset + 1}.
 */
final class JavaBump implements BenchAllocator {

    private final long regionSize;
    private long top;

    JavaBump(long regionSize) {
        this.regionSize = regionSize;
    }

    @Override
    public long allocate(long size, long alignment) {
        long offset = (top + alignment - 1) & -alignment;
        if (offset + size > regionSize) {
            return 0;
        }
        top = offset + size;
        return offset + 1;
    }

    @Override
    public void free(long handle) {
        top = handle - 1;
    }

    @Override
    public void reset() {
        top = 0;
    }

    @Override
    public long offset(long handle) {
        return handle - 1;
    }

    @Override
    public long largestFreeRange() {
        return regionSize - top;
    }

    @Override
    public long freeBytes() {
        return regionSize - top;
    }

    @Override
    public void close() {
    }
}
