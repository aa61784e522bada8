package io.github.solvk.memory;

/**
 * What an allocation's memory is for, from which a memory type is chosen.
 *
 * <p>A usage turns into three sets of {@code VkMemoryPropertyFlags}: <em>required</em> (a type without one of them is
 * never chosen), <em>preferred</em> (each one a type lacks costs a point) and <em>not preferred</em> (each one a type
 * has costs a point); the cheapest allowed type wins, the lowest index breaking ties. The caller's own required and
 * preferred flags are added to the usage's, and a flag the caller requires or prefers is never "not preferred".
 * Whatever the usage, types with {@code LAZILY_ALLOCATED}, {@code PROTECTED} or the AMD {@code DEVICE_COHERENT} /
 * {@code DEVICE_UNCACHED} flags are only chosen when the caller asks for those flags (or, for lazily allocated
 * memory, uses {@link #GPU_LAZILY_ALLOCATED}). The rule, with a diagram, is explained once in
 * {@link io.github.solvk.memory.pool}; {@code io.github.solvk.memory.pool.MemoryTypeFilter#of} implements this table:
 * <pre>
 *  usage                 host access        required       preferred               not preferred
 *  UNKNOWN               (ignored)          -              -                       -
 *  AUTO                  NONE               -              DEVICE_LOCAL            -
 *                        SEQUENTIAL_WRITE   HOST_VISIBLE   DEVICE_LOCAL            HOST_CACHED
 *                        SEQUENTIAL_WRITE,  HOST_VISIBLE   -                       DEVICE_LOCAL, HOST_CACHED
 *                        transfer-only buffer (*)
 *                        RANDOM             HOST_VISIBLE   HOST_CACHED             -
 *  AUTO_PREFER_DEVICE    NONE               -              DEVICE_LOCAL            -
 *                        SEQUENTIAL_WRITE   HOST_VISIBLE   DEVICE_LOCAL            HOST_CACHED
 *                        RANDOM             HOST_VISIBLE   HOST_CACHED             -
 *  AUTO_PREFER_HOST      NONE               -              -                       DEVICE_LOCAL
 *                        SEQUENTIAL_WRITE   HOST_VISIBLE   -                       DEVICE_LOCAL, HOST_CACHED
 *                        RANDOM             HOST_VISIBLE   HOST_CACHED             DEVICE_LOCAL
 *  DEVICE_ONLY           NONE only          -              DEVICE_LOCAL            HOST_VISIBLE
 *  UPLOAD                SEQUENTIAL_WRITE   HOST_VISIBLE   DEVICE_LOCAL            HOST_CACHED
 *  DOWNLOAD              RANDOM             HOST_VISIBLE   HOST_CACHED             DEVICE_LOCAL
 *  GPU_LAZILY_ALLOCATED  NONE only          LAZILY_ALLOC.  DEVICE_LOCAL            -
 * </pre>
 * The {@code AUTO*} usages follow VMA's {@code VMA_MEMORY_USAGE_AUTO*}, which read the buffer usage in one case
 * (*): a buffer whose only usages are {@code TRANSFER_SRC} and {@code TRANSFER_DST} (a staging buffer) is never read
 * by the device where it lies, so {@code AUTO} with sequential writes keeps it out of device-local memory, and out
 * of a small BAR window that device-read data needs more. Every allocator of this library passes the buffer usage;
 * a filter made without one takes the memory to be read by the device directly. The last four usages follow
 * vulkano's {@code MemoryTypeFilter} presets.
 */
public enum MemoryUsage {
    /**
     * Only the caller's required and preferred flags count; nothing is added. The host access is not consulted,
     * but a request that maps the memory ({@link HostAccess} other than {@code NONE}) must require
     * {@code HOST_VISIBLE} itself, or it is rejected.
     */
    UNKNOWN,
    /**
     * Let the library decide from the {@link HostAccess}. Not mapped: prefers {@code DEVICE_LOCAL}. Sequential
     * writes: requires {@code HOST_VISIBLE}, prefers {@code DEVICE_LOCAL} (so that ReBAR or unified memory is used
     * when the device has it, and the GPU reads the data without a copy), avoids {@code HOST_CACHED}; for a buffer
     * the device only copies from or to (transfer usages alone), avoids {@code DEVICE_LOCAL} instead. Random access:
     * requires {@code HOST_VISIBLE}, prefers {@code HOST_CACHED}, and is neutral about {@code DEVICE_LOCAL}.
     */
    AUTO,
    /**
     * As {@link #AUTO}: {@code DEVICE_LOCAL} is preferred without host access and for sequential writes. For random
     * host access, as with VMA, only {@code HOST_CACHED} is preferred: reading uncached memory is an order of
     * magnitude slower, and preferring {@code DEVICE_LOCAL} as well would let an uncached host-visible VRAM type (a
     * ReBAR or a 256 MiB BAR window) win over cached system memory whenever the device lists it first. Device-local
     * memory is still chosen where it is cached (unified memory).
     */
    AUTO_PREFER_DEVICE,
    /**
     * As {@link #AUTO}, but {@code DEVICE_LOCAL} is avoided (not preferred) whatever the host access: the memory
     * lands in system RAM when the device has any, and device-local memory is left to resources that need it.
     */
    AUTO_PREFER_HOST,
    /**
     * Memory only the device touches (render targets, vertex and index buffers filled by copies, storage buffers).
     * Prefers {@code DEVICE_LOCAL} and avoids {@code HOST_VISIBLE}, so that a scarce host-visible device-local
     * window (a 256 MiB BAR) is left to uploads. Never mapped: the host access must be {@code NONE}, and
     * host-side flags may not be required or preferred.
     */
    DEVICE_ONLY,
    /**
     * Memory the host fills with sequential writes and the device then reads: staging buffers and per-frame
     * uniform or vertex data. Requires {@code HOST_VISIBLE}, prefers {@code DEVICE_LOCAL} (ReBAR, unified memory or
     * a BAR window, where the device reads it at full speed), avoids {@code HOST_CACHED}. Exactly
     * {@link #AUTO_PREFER_DEVICE} with {@link HostAccess#SEQUENTIAL_WRITE}; the host access may be given as
     * {@code NONE} or {@code SEQUENTIAL_WRITE}. On a device whose only host-visible device-local memory is a small
     * BAR window, that window is chosen first and the caller falls back to the next candidate when it is full; use
     * {@link #AUTO_PREFER_HOST} with {@code SEQUENTIAL_WRITE} to keep staging in system RAM instead.
     */
    UPLOAD,
    /**
     * Memory the device writes and the host reads back in any order. Requires {@code HOST_VISIBLE}, prefers
     * {@code HOST_CACHED}, avoids {@code DEVICE_LOCAL}. Exactly {@link #AUTO_PREFER_HOST} with
     * {@link HostAccess#RANDOM}; the host access may be given as {@code NONE} or {@code RANDOM}.
     */
    DOWNLOAD,
    /**
     * Transient attachments on tile-based GPUs, backed by memory that may never be committed. Requires
     * {@code LAZILY_ALLOCATED}, prefers {@code DEVICE_LOCAL}; never mapped, so the host access must be {@code NONE}.
     * A device without a lazily allocated type has no acceptable type: selection reports none, and the caller decides
     * whether to fall back to {@link #DEVICE_ONLY} (silently doing so would hide real memory use).
     */
    GPU_LAZILY_ALLOCATED
}
