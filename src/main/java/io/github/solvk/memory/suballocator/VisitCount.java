package io.github.solvk.memory.suballocator;

import java.util.function.Consumer;

/**
 * The walks of a suballocator's {@code visit} in progress: while one runs, its {@code tryAllocate}, {@code free} and
 * {@code reset} throw ({@link SuballocatorHandles#changeDuringVisit}), so a visitor cannot change what is being walked.
 * Nested read-only visits are allowed. Not thread-safe, as the suballocators are not.
 */
final class VisitCount {

    private int visits;

    /** @return whether a walk is in progress */
    boolean active() {
        return visits != 0;
    }

    /** Runs a walk with the visitor, counted while it runs, whatever it throws. */
    void run(Consumer<Suballocator.Visitor> walk, Suballocator.Visitor visitor) {
        // Checked here, not at the first range the walk hands over: a null visitor would fail deep inside the walk.
        java.util.Objects.requireNonNull(visitor, "visitor: null (expected: a Suballocator.Visitor)");
        visits++;
        try {
            walk.accept(visitor);
        } finally {
            visits--;
        }
    }
}
