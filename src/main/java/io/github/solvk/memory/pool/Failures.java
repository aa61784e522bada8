package io.github.solvk.memory.pool;

/**
 * The failures of a walk that goes on past each one (closing an allocator, giving a cache's ranges back): the first is
 * thrown at the end, the later ones ride on it as suppressed exceptions.
 */
final class Failures {

    private Failures() {
    }

    /**
     * @param first the failure kept so far, or {@code null}
     * @param next  a later failure
     * @return {@code first} with {@code next} added to it as suppressed, or {@code next} when there was none
     */
    static RuntimeException add(RuntimeException first, RuntimeException next) {
        if (first == null) {
            return next;
        }
        if (first != next) {
            first.addSuppressed(next);
        }
        return first;
    }

    /**
     * {@link #add(RuntimeException, RuntimeException)} for a walk that goes on past an {@link Error} too (one that
     * frees memory: a {@code DeviceMemoryListener}'s {@code Error} comes out of VMA's free once the memory is freed).
     *
     * @param first the failure kept so far, or {@code null}
     * @param next  a later failure, a {@link RuntimeException} or an {@link Error}
     * @return {@code first} with {@code next} added to it as suppressed, or {@code next} when there was none
     */
    static Throwable add(Throwable first, Throwable next) {
        if (first == null) {
            return next;
        }
        if (first != next) {
            first.addSuppressed(next);
        }
        return first;
    }

    /**
     * Throws what {@link #add(Throwable, Throwable)} kept; does nothing for {@code null}.
     *
     * @param failure a {@link RuntimeException}, an {@link Error}, or {@code null}
     */
    static void throwIfAny(Throwable failure) {
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            // add() is given only what a catch of RuntimeException and Error caught.
            throw new IllegalStateException("failure: " + failure + " (expected: a RuntimeException or an Error)",
                    failure);
        }
    }
}
