package io.github.solvk.memory.internal;

/**
 * The failures of a walk that goes on past each one (closing an allocator, a pool or the manager, giving a cache's
 * ranges back): the first is thrown at the end, the later ones ride on it as suppressed exceptions.
 */
public final class Failures {

    private Failures() {
    }

    /**
     * @param first the failure kept so far, or {@code null}
     * @param next  a later failure
     * @return {@code first} with {@code next} added to it as suppressed, or {@code next} when there was none
     */
    public static RuntimeException add(RuntimeException first, RuntimeException next) {
        // One of the two comes back, so the cast holds.
        return (RuntimeException) add((Throwable) first, next);
    }

    /**
     * {@link #add(RuntimeException, RuntimeException)} for a walk that goes on past an {@link Error} too (one that
     * frees memory: a {@code DeviceMemoryListener}'s {@code Error} comes out of VMA's free once the memory is freed).
     *
     * @param first the failure kept so far, or {@code null}
     * @param next  a later failure, a {@link RuntimeException} or an {@link Error}
     * @return {@code first} with {@code next} added to it as suppressed, or {@code next} when there was none
     */
    public static Throwable add(Throwable first, Throwable next) {
        if (first == null) {
            return next;
        }
        if (first != next) {
            first.addSuppressed(next);
        }
        return first;
    }

    /**
     * Runs one step of a walk that goes on past a failure: a {@link RuntimeException}, or an {@link Error} (a
     * {@code DeviceMemoryListener}'s comes out of VMA's free once the memory is freed, and must not keep what comes
     * after the step allocated).
     *
     * @param failure the first failure so far, or {@code null}
     * @param step    what to run
     * @return {@code failure} with the step's failure suppressed on it, or the step's failure when there was none
     */
    public static Throwable attempt(Throwable failure, Runnable step) {
        try {
            step.run();
            return failure;
        } catch (RuntimeException | Error e) {
            return add(failure, e);
        }
    }

    /**
     * Throws what {@link #add(Throwable, Throwable)} kept, as itself, where a statement must end in a {@code throw}:
     * {@code throw Failures.propagate(failure)}. Never returns.
     *
     * @param failure a {@link RuntimeException} or an {@link Error}, not {@code null}
     * @return nothing: the return type only lets the caller write {@code throw}
     */
    public static RuntimeException propagate(Throwable failure) {
        throwIfAny(failure);
        throw new IllegalStateException("failure: null (expected: a RuntimeException or an Error)");
    }

    /**
     * Throws what {@link #add(Throwable, Throwable)} and {@link #attempt} kept; does nothing for {@code null}.
     *
     * @param failure a {@link RuntimeException}, an {@link Error}, or {@code null}
     */
    public static void throwIfAny(Throwable failure) {
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            // add() and attempt() are given only what a catch of RuntimeException and Error caught.
            throw new IllegalStateException("failure: " + failure + " (expected: a RuntimeException or an Error)",
                    failure);
        }
    }
}
