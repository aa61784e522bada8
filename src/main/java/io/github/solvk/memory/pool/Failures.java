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
}
