package io.github.solvk.memory;

/**
 * Placeholder until the memory-type-selection branch lands; replaced by its version at merge.
 */
public enum HostAccess {
    /** None. */
    NONE,
    /** Sequential write. */
    SEQUENTIAL_WRITE,
    /** Random. */
    RANDOM
}
