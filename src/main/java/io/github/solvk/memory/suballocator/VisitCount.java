package io.github.solvk.memory.suballocator;

import java.util.function.Consumer;

/**
 * The walks of a suballocator's {@code visit} in progress: while one runs, its {@code tryAllocate}, {@code free} and
 * {@code reset} throw ({@link SuballocatorHandles#changeDuringVisit}), so a visitor cannot change what is being walked.
 * Nested read-only visits are allowed. Not thread-safe, as the suballocators are not.
 */
final class VisitCount {

    private int visits;

    /**
     * @param call  the call that would change the suballocator, for the message
     * @param owner the suballocator's class, for the message
     * @throws IllegalStateException while a walk is in progress
     */
    void checkIdle(String call, String owner) {
        if (visits != 0) {
            throw SuballocatorHandles.changeDuringVisit(call, owner);
        }
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
