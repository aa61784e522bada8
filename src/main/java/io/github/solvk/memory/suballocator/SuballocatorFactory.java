package io.github.solvk.memory.suballocator;

/**
 * Makes a suballocator for a region; block pools take one so that the algorithm is chosen once, per pool.
 */
@FunctionalInterface
public interface SuballocatorFactory {

    /**
     * Makes a suballocator whose whole region is free.
     *
     * @param regionOffset           the region's first byte, {@code >= 0}
     * @param regionSize             the region's size, {@code > 0}, with {@code regionOffset + regionSize <= 2^62}
     * @param bufferImageGranularity a power of two; 1 when no granularity applies
     * @return a new suballocator
     * @throws IllegalArgumentException naming the first bad value
     */
    Suballocator create(long regionOffset, long regionSize, long bufferImageGranularity);

    /**
     * @param kind an algorithm that needs nothing but the region: not {@link SuballocatorKind#POOL}
     * @return a factory that calls {@link Suballocators#create} with {@code kind}; factories of the same kind are
     *         equal (so are configurations that hold them), and its {@code toString()} names the kind
     * @throws IllegalArgumentException for {@link SuballocatorKind#POOL}, which needs a slot size (see
     *                                  {@link Suballocators#fixedSize})
     */
    static SuballocatorFactory of(SuballocatorKind kind) {
        Suballocators.checkRegionKind(kind);
        return new KindFactory(kind);
    }
}
