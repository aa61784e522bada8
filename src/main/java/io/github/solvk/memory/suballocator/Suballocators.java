package io.github.solvk.memory.suballocator;

/**
 * Creates suballocators by {@link SuballocatorKind}.
 */
public final class Suballocators {

    private Suballocators() {
    }

    /**
     * Creates a suballocator whose whole region is free.
     *
     * @param kind                   the algorithm: not {@link SuballocatorKind#POOL}, which needs a slot size (see
     *                               {@link #fixedSize})
     * @param regionOffset           the region's first byte, {@code >= 0}
     * @param regionSize             the region's size, {@code > 0}, with {@code regionOffset + regionSize <= 2^62}
     * @param bufferImageGranularity a power of two; 1 when no granularity applies
     * @return a new suballocator
     * @throws IllegalArgumentException naming the first bad value, or for {@link SuballocatorKind#POOL}
     * @throws UnsupportedOperationException for an algorithm not yet in this build
     */
    public static Suballocator create(SuballocatorKind kind, long regionOffset, long regionSize,
                                      long bufferImageGranularity) {
        checkRegionKind(kind);
        switch (kind) {
            case TLSF:
                return new TlsfSuballocator(regionOffset, regionSize, bufferImageGranularity);
            case BUDDY:
                return new BuddySuballocator(regionOffset, regionSize, bufferImageGranularity);
            default:
                SuballocatorHandles.checkRegion(regionOffset, regionSize, bufferImageGranularity);
                throw new UnsupportedOperationException(kind + " suballocator: not yet merged");
        }
    }

    /**
     * Creates a pool of equal slots: the suballocator for many allocations of one size.
     *
     * @param regionOffset  the region's first byte, {@code >= 0}
     * @param regionSize    the region's size, {@code > 0}, with {@code regionOffset + regionSize <= 2^62}
     * @param slotSize      the size of every slot, {@code > 0}
     * @param slotAlignment the alignment of every slot, a power of two
     * @return a new suballocator of kind {@link SuballocatorKind#POOL}
     * @throws IllegalArgumentException naming the first bad value
     * @throws UnsupportedOperationException while the pool is not yet in this build
     */
    public static Suballocator fixedSize(long regionOffset, long regionSize, long slotSize, long slotAlignment) {
        SuballocatorHandles.checkRegion(regionOffset, regionSize, 1);
        SuballocatorHandles.checkRequest(slotSize, slotAlignment, AllocationType.UNKNOWN);
        throw new UnsupportedOperationException("POOL suballocator (fixed-size slots): not yet merged");
    }

    /** @throws IllegalArgumentException for a null kind or {@link SuballocatorKind#POOL} */
    static void checkRegionKind(SuballocatorKind kind) {
        if (kind == null || kind == SuballocatorKind.POOL) {
            throw new IllegalArgumentException("kind: " + kind + " (expected: TLSF, BUDDY, STACK or RING; a POOL"
                    + " needs a slot size, see Suballocators.fixedSize)");
        }
    }
}
