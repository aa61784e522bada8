package io.github.solvk.memory.suballocator;

import java.util.Objects;

/**
 * What {@link SuballocatorFactory#of} returns: a value, so that two factories of one kind are equal and a
 * configuration holding one prints the kind rather than a lambda's name.
 *
 * @param kind an algorithm that needs nothing but the region
 */
record KindFactory(SuballocatorKind kind) implements SuballocatorFactory {

    KindFactory {
        Objects.requireNonNull(kind, "kind: null (expected: a SuballocatorKind)");
    }

    @Override
    public Suballocator create(long regionOffset, long regionSize, long bufferImageGranularity) {
        return Suballocators.create(kind, regionOffset, regionSize, bufferImageGranularity);
    }

    @Override
    public String toString() {
        return "SuballocatorFactory.of(" + kind + ")";
    }
}
