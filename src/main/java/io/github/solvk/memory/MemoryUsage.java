package io.github.solvk.memory;

/**
 * Placeholder until the memory-type-selection branch lands; replaced by its version at merge.
 */
public enum MemoryUsage {
    /** Only the request's flags. */
    UNKNOWN,
    /** VMA's AUTO. */
    AUTO,
    /** VMA's AUTO_PREFER_DEVICE. */
    AUTO_PREFER_DEVICE,
    /** VMA's AUTO_PREFER_HOST. */
    AUTO_PREFER_HOST,
    /** Device only. */
    DEVICE_ONLY,
    /** Upload. */
    UPLOAD,
    /** Download. */
    DOWNLOAD,
    /** Lazily allocated. */
    GPU_LAZILY_ALLOCATED
}
