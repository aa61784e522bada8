package io.github.solvk.memory.suballocator;

/**
 * The handle layout of the stack, ring and fixed-size suballocators, and the argument checks they share.
 *
 * <p>A handle packs an entry index, the generation the entry had when it was handed out, and the tag of the
 * suballocator instance that made it:
 * <pre>
 *  63  62           48 47                        26 25                          0
 * +---+---------------+----------------------------+----------------------------+
 * | 0 |  tag (15)     |  generation (22)           |  index (26)                |
 * +---+---------------+----------------------------+----------------------------+
 * </pre>
 * The tag is never 0, so no handle is {@link Suballocator#NULL_HANDLE}, and bit 63 is 0, so every handle is positive.
 * A handle is live while its index names a live entry whose stored generation equals the handle's. Stale handles
 * are therefore detected unless the same entry was reused a multiple of 2<sup>22</sup> times since, and foreign
 * handles unless the two instances share a tag, which happens only among more than 2<sup>15</sup> - 1 instances.
 * Tags come from {@link InstanceTags}, which the TLSF and buddy suballocators' {@link SuballocatorHandles} draw from
 * too, with the tag in the same bits, so a handle of any other suballocator is foreign here as well.
 */
final class IndexedHandles {

    /** Bits of the entry index. */
    static final int INDEX_BITS = 26;
    /** Bits of the generation. */
    static final int GENERATION_BITS = 22;
    /** Bits of the instance tag. */
    static final int TAG_BITS = 15;

    /** Where the index starts. */
    static final int INDEX_SHIFT = 0;
    /** Where the generation starts. */
    static final int GENERATION_SHIFT = INDEX_SHIFT + INDEX_BITS;
    /** Where the tag starts. */
    static final int TAG_SHIFT = GENERATION_SHIFT + GENERATION_BITS;

    /** The index, once shifted down. */
    static final int INDEX_MASK = (1 << INDEX_BITS) - 1;
    /** The generation, once shifted down. */
    static final int GENERATION_MASK = (1 << GENERATION_BITS) - 1;
    /** The tag, once shifted down. */
    static final int TAG_MASK = (1 << TAG_BITS) - 1;
    /** Index and generation together: the low bits below the tag. */
    static final long PAYLOAD_MASK = (1L << TAG_SHIFT) - 1;

    /** The most entries one instance can index: 2<sup>26</sup>. */
    static final int MAX_ENTRIES = 1 << INDEX_BITS;

    /*
     * An entry's stamp, the int that the stack and the fixed-size pool keep per entry, packs what the hot paths read
     * together: the generation in the low bits, the type code above it, and a freed mark in bit 31.
     */

    /** Bits of the type code in a stamp. */
    static final int STAMP_TYPE_BITS = 2;
    /** Where the type code starts in a stamp: above the generation. */
    static final int STAMP_TYPE_SHIFT = GENERATION_BITS;
    /** The type code, once shifted down. */
    static final int STAMP_TYPE_MASK = (1 << STAMP_TYPE_BITS) - 1;
    /**
     * Marks the stamp of an entry that was freed but is still kept; outside the generation, so that a freed entry
     * never matches a handle.
     */
    static final int FREED_BIT = 1 << 31;
    /** The bits of a stamp that must equal a handle's generation for the handle to be live. */
    static final int STAMP_MATCH_MASK = GENERATION_MASK | FREED_BIT;

    /** The largest power of two that {@link Suballocator} accepts as an alignment or granularity. */
    static final long MAX_ALIGNMENT = Suballocator.MAX_REGION_END;

    private static final AllocationType[] TYPES = AllocationType.values();

    private IndexedHandles() {
    }

    static long encode(int tag, int generation, int index) {
        return (long) tag << TAG_SHIFT | (long) generation << GENERATION_SHIFT | (long) index << INDEX_SHIFT;
    }

    static int tag(long handle) {
        return (int) (handle >>> TAG_SHIFT) & TAG_MASK;
    }

    static int generation(long handle) {
        return (int) (handle >>> GENERATION_SHIFT) & GENERATION_MASK;
    }

    static int index(long handle) {
        return (int) (handle >>> INDEX_SHIFT) & INDEX_MASK;
    }

    /** @return whether {@code handle} carries {@code tag} and nothing in bit 63 */
    static boolean hasTag(long handle, int tag) {
        return handle >>> TAG_SHIFT == tag;
    }

    /** @return the generation that follows a stored stamp, freed or not */
    static int nextGeneration(int stamp) {
        return (stamp + 1) & GENERATION_MASK;
    }

    /** @return the stamp of a live entry */
    static int stamp(int generation, byte typeCode) {
        return generation | typeCode << STAMP_TYPE_SHIFT;
    }

    /** @return whether a stamp belongs to the live entry that {@code handle} names */
    static boolean stampMatches(int stamp, long handle) {
        return (stamp & STAMP_MATCH_MASK) == generation(handle);
    }

    static int stampGeneration(int stamp) {
        return stamp & GENERATION_MASK;
    }

    static byte stampType(int stamp) {
        return (byte) (stamp >>> STAMP_TYPE_SHIFT & STAMP_TYPE_MASK);
    }

    /** @return a tag in {@code [1, 2^15 - 1]} from the source that every algorithm shares */
    static int nextTag() {
        return InstanceTags.next();
    }

    /** The code of {@link AllocationType#UNKNOWN}. */
    static final byte UNKNOWN_CODE = (byte) AllocationType.UNKNOWN.ordinal();

    /** @return {@link AllocationType#conflictsWith} on type codes, without touching the enum on the hot path */
    static boolean conflicts(byte a, byte b) {
        return a != b || a == UNKNOWN_CODE;
    }

    static byte typeCode(AllocationType type) {
        return (byte) type.ordinal();
    }

    static AllocationType type(byte code) {
        return TYPES[code];
    }

    static boolean isPowerOfTwo(long value) {
        return value > 0 && (value & (value - 1)) == 0;
    }

    /**
     * @return {@code value} rounded up to a multiple of {@code alignment}; cannot overflow for {@code value} and
     *     {@code alignment} up to 2<sup>62</sup>, because their sum minus one is below 2<sup>63</sup>
     */
    static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    /** @return whether the bytes at {@code a} and {@code b} lie on the same page of {@code granularity} bytes */
    static boolean samePage(long a, long b, long granularity) {
        return (a & -granularity) == (b & -granularity);
    }

    /** Checks the region bounds that every constructor takes. */
    static void checkRegion(long regionOffset, long regionSize) {
        if (regionOffset < 0) {
            throw new IllegalArgumentException("regionOffset: " + regionOffset + " (expected: >= 0)");
        }
        if (regionSize <= 0) {
            throw new IllegalArgumentException("regionSize: " + regionSize + " (expected: > 0)");
        }
        if (regionOffset > Suballocator.MAX_REGION_END || regionSize > Suballocator.MAX_REGION_END - regionOffset) {
            // Both are >= 0 here, so their sum fits in 64 unsigned bits.
            throw new IllegalArgumentException("regionOffset + regionSize: " + regionOffset + " + " + regionSize
                    + " = " + Long.toUnsignedString(regionOffset + regionSize) + " (expected: <= 2^62 = "
                    + Suballocator.MAX_REGION_END + ")");
        }
    }

    static void checkPowerOfTwo(String name, long value) {
        if (!isPowerOfTwo(value) || value > MAX_ALIGNMENT) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: a power of two in [1, 2^62])");
        }
    }

    /** Checks the arguments of {@link Suballocator#tryAllocate} that every algorithm checks the same way. */
    static void checkRequest(long size, long alignment, AllocationType type) {
        if (isBadRequest(size, alignment, type)) {
            throw badRequest(size, alignment, type);
        }
    }

    /**
     * One test for the three argument rules, for the hot paths: {@code size - 1} and {@code alignment - 1} both in
     * {@code [0, 2^62)}, {@code alignment} a power of two, {@code type} not null.
     *
     * @return whether {@link #badRequest} has an exception for these arguments
     */
    static boolean isBadRequest(long size, long alignment, AllocationType type) {
        return ((size - 1) | (alignment - 1)) >>> 62 != 0 || (alignment & (alignment - 1)) != 0 || type == null;
    }

    /**
     * @return the exception naming the first bad argument, for arguments that {@link #isBadRequest} rejects: the same
     *     one every suballocator gives ({@link SuballocatorHandles#badRequest})
     */
    static IllegalArgumentException badRequest(long size, long alignment, AllocationType type) {
        return SuballocatorHandles.badRequest(size, alignment, type);
    }

    /** @return the exception for a handle that this instance did not make or no longer holds */
    static IllegalArgumentException badHandle(String owner, long handle, int tag) {
        if (handle == Suballocator.NULL_HANDLE) {
            return new IllegalArgumentException("handle: 0x0 (expected: a live handle of this " + owner
                    + ", not NULL_HANDLE)");
        }
        if (!hasTag(handle, tag)) {
            return new IllegalArgumentException("handle: " + hex(handle) + " (expected: a handle of this " + owner
                    + ", tag " + tag + "; it has tag " + (handle >>> TAG_SHIFT) + ")");
        }
        return new IllegalArgumentException("handle: " + hex(handle) + " (expected: a live handle of "
                + "this " + owner + "; index " + index(handle) + " generation " + generation(handle)
                + " was freed, reset or never handed out)");
    }

    static String hex(long handle) {
        return "0x" + Long.toHexString(handle);
    }
}
