package io.github.solvk.memory;

/**
 * Bits of {@link IBufferAllocator.AllocationInfo#allocationFlags()}: VMA's {@code VmaAllocationCreateFlagBits}, with
 * VMA's values, so that code written against VMA keeps its meaning (a test checks that the values match lwjgl-vma).
 */
public final class AllocationFlags {

    /** Give the buffer its own {@code VkDeviceMemory}. */
    public static final int DEDICATED_MEMORY = 0x1;
    /** Only place the buffer in existing memory blocks; fail rather than allocate a new one. */
    public static final int NEVER_ALLOCATE = 0x2;
    /** Keep the memory persistently mapped from creation. */
    public static final int MAPPED = 0x4;
    /** Fail rather than exceed the heap's budget. */
    public static final int WITHIN_BUDGET = 0x100;
    /** The host writes the memory sequentially (with {@code memcpy}); never reads it. */
    public static final int HOST_ACCESS_SEQUENTIAL_WRITE = 0x400;
    /** The host reads and writes the memory in any order. */
    public static final int HOST_ACCESS_RANDOM = 0x800;
    /** With a host access bit: accept non-host-visible memory when it is faster, and copy through staging. */
    public static final int HOST_ACCESS_ALLOW_TRANSFER_INSTEAD = 0x1000;
    /** Choose the placement that wastes the least memory. */
    public static final int STRATEGY_MIN_MEMORY = 0x10000;
    /** Choose the placement that is found fastest. */
    public static final int STRATEGY_MIN_TIME = 0x20000;
    /** Choose the lowest offset. */
    public static final int STRATEGY_MIN_OFFSET = 0x40000;

    /** Every bit above. */
    public static final int ALL = DEDICATED_MEMORY | NEVER_ALLOCATE | MAPPED | WITHIN_BUDGET
            | HOST_ACCESS_SEQUENTIAL_WRITE | HOST_ACCESS_RANDOM | HOST_ACCESS_ALLOW_TRANSFER_INSTEAD
            | STRATEGY_MIN_MEMORY | STRATEGY_MIN_TIME | STRATEGY_MIN_OFFSET;

    private AllocationFlags() {
    }

    /**
     * Checks a set of flags: only these bits, not both {@link #DEDICATED_MEMORY} and {@link #NEVER_ALLOCATE}, and at
     * most one of the two host access patterns.
     *
     * @param flags {@code AllocationFlags} bits
     * @throws IllegalArgumentException naming the bad bits
     */
    static void check(int flags) {
        if ((flags & ~ALL) != 0) {
            throw new IllegalArgumentException("allocationFlags: 0x" + Integer.toHexString(flags)
                    + " (expected: AllocationFlags bits, unknown: 0x" + Integer.toHexString(flags & ~ALL) + ")");
        }
        if ((flags & DEDICATED_MEMORY) != 0 && (flags & NEVER_ALLOCATE) != 0) {
            throw new IllegalArgumentException("allocationFlags: DEDICATED_MEMORY and NEVER_ALLOCATE (expected: at"
                    + " most one; dedicated memory is always a new allocation, which NEVER_ALLOCATE forbids)");
        }
        if ((flags & HOST_ACCESS_SEQUENTIAL_WRITE) != 0 && (flags & HOST_ACCESS_RANDOM) != 0) {
            throw new IllegalArgumentException("allocationFlags: HOST_ACCESS_SEQUENTIAL_WRITE and HOST_ACCESS_RANDOM"
                    + " (expected: at most one)");
        }
    }
    /**
     * @param flags {@code AllocationFlags} bits
     * @return whether they allow a transfer instead of host access ({@link #HOST_ACCESS_ALLOW_TRANSFER_INSTEAD})
     */
    static boolean allowsTransferInstead(int flags) {
        return (flags & HOST_ACCESS_ALLOW_TRANSFER_INSTEAD) != 0;
    }

    /**
     * The host access pattern a request asks for, through its {@code hostAccess} or its {@code HOST_ACCESS_*} flags
     * (VMA's way): the two must not name different patterns.
     *
     * @param access the request's {@code HostAccess}
     * @param flags  its {@code AllocationFlags} bits
     * @return the pattern asked for, {@link HostAccess#NONE} when neither names one
     * @throws IllegalArgumentException when {@code access} and the flags name different patterns
     */
    static HostAccess hostAccess(HostAccess access, int flags) {
        HostAccess fromFlags = (flags & HOST_ACCESS_RANDOM) != 0 ? HostAccess.RANDOM
                : (flags & HOST_ACCESS_SEQUENTIAL_WRITE) != 0 ? HostAccess.SEQUENTIAL_WRITE : HostAccess.NONE;
        if (access != HostAccess.NONE && fromFlags != HostAccess.NONE && access != fromFlags) {
            throw new IllegalArgumentException("hostAccess: " + access + " with allocationFlags 0x"
                    + Integer.toHexString(flags) + " naming " + fromFlags + " (expected: one host access pattern)");
        }
        return access != HostAccess.NONE ? access : fromFlags;
    }
}
