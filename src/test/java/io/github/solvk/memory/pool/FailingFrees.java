package io.github.solvk.memory.pool;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.github.solvk.memory.suballocator.AllocationType;
import io.github.solvk.memory.suballocator.Suballocator;
import io.github.solvk.memory.suballocator.SuballocatorFactory;
import io.github.solvk.memory.suballocator.SuballocatorKind;
import io.github.solvk.memory.suballocator.Suballocators;

/**
 * A factory of TLSF suballocators whose next {@link #failNext(int) n} frees (or those after a few that succeed,
 * {@link #failAfter}) throw, changing nothing (as a suballocator
 * refuses a caller's bad handle): for tests of what a failure in giving a range back leaves behind. The pools reach a
 * suballocator only through {@link BlockPoolAllocator.Config#suballocatorFactory()}, so that is where it goes in. A
 * hook ({@link #beforeFree}) runs before a given free, under the arena's lock: what another thread does while the
 * pool frees.
 */
final class FailingFrees implements SuballocatorFactory {

    private final AtomicInteger failuresLeft = new AtomicInteger();
    private final AtomicInteger freesBeforeFailures = new AtomicInteger();
    private final List<RuntimeException> thrown = new CopyOnWriteArrayList<>();
    private final AtomicReference<Runnable> hook = new AtomicReference<>();
    private final AtomicInteger freesBeforeHook = new AtomicInteger(-1);

    /** Makes the next {@code n} frees of any of its suballocators throw. */
    void failNext(int n) {
        failAfter(0, n);
    }

    /** Lets the next {@code frees} frees of any of its suballocators succeed, then makes {@code n} throw. */
    void failAfter(int frees, int n) {
        freesBeforeFailures.set(frees);
        failuresLeft.set(n);
    }

    /**
     * Runs {@code action} once, on the freeing thread, right before the free that comes after the next {@code frees}
     * frees (whether that free then succeeds or throws).
     */
    void beforeFree(int frees, Runnable action) {
        hook.set(action);
        freesBeforeHook.set(frees);
    }

    /** @return what the frees threw, in order */
    List<RuntimeException> thrown() {
        return thrown;
    }

    @Override
    public Suballocator create(long regionOffset, long regionSize, long bufferImageGranularity) {
        return new Failing(Suballocators.create(SuballocatorKind.TLSF, regionOffset, regionSize,
                bufferImageGranularity));
    }

    private final class Failing implements Suballocator {
        private final Suballocator delegate;

        Failing(Suballocator delegate) {
            this.delegate = delegate;
        }

        @Override
        public void free(long handle) {
            if (freesBeforeHook.get() >= 0 && freesBeforeHook.getAndDecrement() == 0) {
                Runnable action = hook.getAndSet(null);
                if (action != null) {
                    action.run();
                }
            }
            if (failuresLeft.get() > 0 && freesBeforeFailures.getAndUpdate(n -> Math.max(0, n - 1)) == 0
                    && failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                RuntimeException e = new IllegalStateException("free of handle 0x" + Long.toHexString(handle)
                        + " failed (injected by the test)");
                thrown.add(e);
                throw e;
            }
            delegate.free(handle);
        }

        @Override
        public long tryAllocate(long size, long alignment, AllocationType type) {
            return delegate.tryAllocate(size, alignment, type);
        }

        @Override
        public void reset() {
            delegate.reset();
        }

        @Override
        public long offset(long handle) {
            return delegate.offset(handle);
        }

        @Override
        public long size(long handle) {
            return delegate.size(handle);
        }

        @Override
        public AllocationType type(long handle) {
            return delegate.type(handle);
        }

        @Override
        public long regionOffset() {
            return delegate.regionOffset();
        }

        @Override
        public long regionSize() {
            return delegate.regionSize();
        }

        @Override
        public long freeBytes() {
            return delegate.freeBytes();
        }

        @Override
        public long largestFreeRange() {
            return delegate.largestFreeRange();
        }

        @Override
        public int liveCount() {
            return delegate.liveCount();
        }

        @Override
        public SuballocatorKind kind() {
            return delegate.kind();
        }

        @Override
        public void visit(Visitor visitor) {
            delegate.visit(visitor);
        }

        @Override
        public void checkInvariants() {
            delegate.checkInvariants();
        }
    }
}
