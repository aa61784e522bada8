package io.github.solvk.memory.bench;

import io.github.solvk.memory.suballocator.AllocationType;
import io.github.solvk.memory.suballocator.FixedSizeSuballocator;
import io.github.solvk.memory.suballocator.RingSuballocator;
import io.github.solvk.memory.suballocator.StackSuballocator;
import io.github.solvk.memory.suballocator.Suballocator;
import io.github.solvk.memory.suballocator.SuballocatorKind;
import io.github.solvk.memory.suballocator.Suballocators;

/**
 * Ours: a {@link Suballocator} made by the {@code Suballocators} factory, every allocation {@link AllocationType#LINEAR}
 * and the region at offset 0 with a granularity of 1 (VMA's virtual block knows no granularity either).
 */
final class SuballocatorContender implements BenchAllocator {

    private final Suballocator suballocator;

    private SuballocatorContender(Suballocator suballocator) {
        this.suballocator = suballocator;
    }

    /**
     * @param contender  one of ours
     * @param regionSize bytes, the region at offset 0
     * @param slotSize   the slot size (and alignment) of {@link Contender#POOL}
     * @return a fresh suballocator made by the {@code Suballocators} factory
     * @throws UnsupportedOperationException while the factory cannot make it yet
     */
    static BenchAllocator create(Contender contender, long regionSize, long slotSize) {
        try {
            if (contender == Contender.POOL) {
                return new SuballocatorContender(Suballocators.fixedSize(0, regionSize, slotSize, slotSize));
            }
            return new SuballocatorContender(
                    Suballocators.create(SuballocatorKind.valueOf(contender.name()), 0, regionSize, 1));
        } catch (UnsupportedOperationException notWired) {
            // The linear branch landed these classes before the factory knew them; their public constructors make
            // the same objects the factory will return.
            switch (contender) {
                case STACK:
                    return new SuballocatorContender(new StackSuballocator(0, regionSize, 1));
                case RING:
                    return new SuballocatorContender(new RingSuballocator(0, regionSize, 1));
                case POOL:
                    return new SuballocatorContender(new FixedSizeSuballocator(0, regionSize, slotSize, slotSize));
                default:
                    throw notWired;
            }
        }
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
