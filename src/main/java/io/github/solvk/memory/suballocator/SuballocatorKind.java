package io.github.solvk.memory.suballocator;

/** The suballocation algorithms, for factories and statistics. */
public enum SuballocatorKind {
    /** Two-level segregated fit free list: O(1), any order of frees; the default. */
    TLSF,
    /** Binary buddy: power-of-two nodes, 16-byte minimum. */
    BUDDY,
    /** Bump pointer, frees in LIFO order, {@code reset()} frees all at once. */
    STACK,
    /** FIFO ring that wraps around. */
    RING,
    /** Equal fixed-size slots. */
    POOL
}
