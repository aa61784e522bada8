package io.github.solvk.memory.bench;

import io.github.solvk.memory.suballocator.AllocationType;
import io.github.solvk.memory.suballocator.Suballocator;

/**
 * Ours: a {@link Suballocator} made by the {@code Suballocators} factory, every allocation {@link AllocationType#LINEAR}
 * and the region at offset 0 with a granularity of 1 (VMA's virtual block knows no granularity either).
 */
final class SuballocatorContender implements BenchAllocator {

    private final Suballocator suballocator;

    private SuballocatorContender(Suballocator suballocator) {
        this.suballocator = suballocator;
    }

    static BenchAllocator create(Contender contender, long regionSize, long slotSize) {
        throw new UnsupportedOperationException(contender + ": the suballocators have not landed on this branch yet");
    }

    @Override
    public long allocate(long size, long alignment) {
        return suballocator.tryAllocate(size, alignment, AllocationType.LINEAR);
    }

    @Override
    public void free(long handle) {
        suballocator.free(handle);
    }

    @Override
    public void reset() {
        suballocator.reset();
    }

    @Override
    public long offset(long handle) {
        return suballocator.offset(handle);
    }

    @Override
    public long largestFreeRange() {
        return suballocator.largestFreeRange();
    }

    @Override
    public long freeBytes() {
        return suballocator.freeBytes();
    }

    /** @return the wrapped suballocator */
    Suballocator suballocator() {
        return suballocator;
    }

    @Override
    public void close() {
    }
}
