package io.github.solvk.memory.diagnostics;

/** Where a block of device memory comes from. */
public enum BlockKind {
    /** A block of one of VMA's default pools (VMA suballocates it itself). */
    VMA_BLOCK,
    /** A block of one of our named memory pools, suballocated by a {@code Suballocator}. */
    POOL_BLOCK,
    /** Memory that holds exactly one resource. */
    DEDICATED
}
