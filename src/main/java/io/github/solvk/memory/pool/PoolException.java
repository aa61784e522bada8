package io.github.solvk.memory.pool;

/**
 * A pool could not place a valid request. The facade turns it into
 * {@code io.github.solvk.memory.MemoryAllocationException} with the {@code Reason} of the same name.
 */
public final class PoolException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why; each constant has a {@code MemoryAllocationException.Reason} of the same name. */
    public enum Kind {
        /** The pool's blocks are full and it may not make another ({@code maxBlocks}, or never-allocate). */
        OUT_OF_POOL_MEMORY,
        /** The request is larger than the pool's block size. */
        BLOCK_SIZE_EXCEEDED,
        /** The driver requires dedicated memory but the request forbade allocating it. */
        DEDICATED_ALLOCATION_REQUIRED,
        /**
         * No empty block's suballocator could place the request, so no free would make room: larger than its region
         * or than a buddy's largest node, an alignment beyond the block, or a block size the pool's suballocator
         * factory refuses.
         */
        SUBALLOCATOR_BLOCK_SIZE_EXCEEDED,
        /** No memory type fits the request. */
        NO_COMPATIBLE_MEMORY_TYPE,
        /** A block could not be allocated: the heap is full. */
        OUT_OF_DEVICE_MEMORY
    }

    private final Kind kind;
    private final String vkResultName;
    /**
     * Whether the allocator must not give threads' ranges back and try again: no memory given back could change the
     * answer (the driver refuses the size outright), or giving back failed already on the way to this failure.
     */
    private final boolean permanent;

    /**
     * @param kind         why
     * @param vkResultName the {@code VkResult} behind it, or {@code null}
     * @param message      what was asked and what was available
     * @param cause        the underlying exception, or {@code null}
     */
    public PoolException(Kind kind, String vkResultName, String message, Throwable cause) {
        this(kind, vkResultName, message, cause, false);
    }

    PoolException(Kind kind, String vkResultName, String message, Throwable cause, boolean permanent) {
        super(message, cause);
        this.kind = kind;
        this.vkResultName = vkResultName;
        this.permanent = permanent;
    }

    /** @return whether the allocator does not take back the threads' cached ranges and try again */
    boolean permanent() {
        return permanent;
    }

    /** @return why */
    public Kind kind() {
        return kind;
    }

    /** @return the {@code VkResult} behind it, or {@code null} */
    public String vkResultName() {
        return vkResultName;
    }
}
