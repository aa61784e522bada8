package io.github.solvk.memory;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What an allocator made from an {@link AllocationInfo} (its checked request), remembered for up to {@value #PLACES}
 * infos, so that an application asking again with the same (immutable) info object skips the checks and the request
 * it built before. Looked up by identity, one place after another: no hash, since an info made for one call would pay
 * for its identity hash, and an equal info of another object is simply a miss.
 *
 * <p>Written racily: an entry is an immutable record with final fields, so a thread sees either a whole entry or an
 * older one (or none), and a miss only costs building the request again. Threads asking with ever new infos would
 * write the shared table on every call and take its cache line from each other: once every place is taken, one miss
 * in {@value #REPLACE_ONE_IN} replaces a remembered entry, so a thread that repeats an info has it remembered within
 * about that many calls.
 *
 * @param <R> the request type
 */
final class RememberedRequests<R> {

    /** Infos remembered at once. */
    static final int PLACES = 8;
    /** A request made for another info replaces a remembered one once in so many calls, when every place is taken. */
    static final int REPLACE_ONE_IN = 16;

    private record Entry<R>(AllocationInfo info, R request) {
    }

    private final Entry<?>[] table = new Entry<?>[PLACES];

    /**
     * @param info an info
     * @return the request remembered for this very object, or {@code null}
     */
    @SuppressWarnings("unchecked")
    R find(AllocationInfo info) {
        Entry<?>[] t = table;
        for (int i = 0; i < PLACES; i++) {
            Entry<?> e = t[i];
            if (e != null && e.info() == info) {
                return (R) e.request();
            }
        }
        return null;
    }

    /**
     * Remembers a request made for {@code info}: in a free place, else, once in {@value #REPLACE_ONE_IN} calls, in
     * place of a remembered one.
     *
     * @param info    the info it was made from, checked
     * @param request the request
     */
    void remember(AllocationInfo info, R request) {
        Entry<?>[] t = table;
        for (int i = 0; i < PLACES; i++) {
            if (t[i] == null) {
                // Two threads may both take this place: one entry is lost, which only costs a later miss.
                t[i] = new Entry<>(info, request);
                return;
            }
        }
        int victim = ThreadLocalRandom.current().nextInt(REPLACE_ONE_IN * PLACES);
        if (victim < PLACES) {
            t[victim] = new Entry<>(info, request);
        }
    }
}
