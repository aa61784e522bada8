package io.github.solvk.memory.suballocator;

/**
 * Forwards a walk in offset order to a {@link Suballocator.Visitor}, merging free ranges that touch into one and
 * dropping empty ones, so that the linear suballocators can report their free bytes piece by piece.
 */
final class FreeRangeMerger {

    private final Suballocator.Visitor visitor;
    private long pendingOffset;
    private long pendingEnd;

    FreeRangeMerger(Suballocator.Visitor visitor) {
        this.visitor = visitor;
    }

    /** Adds the free range {@code [offset, end)}; {@code offset} is at or after everything reported before. */
    void free(long offset, long end) {
        if (end <= offset) {
            return;
        }
        if (pendingEnd > pendingOffset && offset == pendingEnd) {
            pendingEnd = end;
            return;
        }
        flush();
        pendingOffset = offset;
        pendingEnd = end;
    }

    void allocation(long handle, long offset, long size, AllocationType type) {
        flush();
        visitor.allocation(handle, offset, size, type);
    }

    /** Reports the last pending free range; call once at the end of the walk. */
    void flush() {
        if (pendingEnd > pendingOffset) {
            visitor.free(pendingOffset, pendingEnd - pendingOffset);
            pendingOffset = pendingEnd;
        }
    }
}
