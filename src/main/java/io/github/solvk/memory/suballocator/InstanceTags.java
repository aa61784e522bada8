package io.github.solvk.memory.suballocator;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one source of instance tags for every suballocator, whichever handle layout it uses, so that a handle of one
 * instance given to any other instance, of the same algorithm or not, is recognised as foreign.
 *
 * <p>Both handle layouts ({@link SuballocatorHandles} for TLSF and buddy, {@link IndexedHandles} for stack, ring and
 * fixed-size pool) keep the tag from bit {@value #TAG_SHIFT} up and bit 63 clear, and every tag is in
 * {@code [1, 2^15 - 1]}, so a handle's tag reads the same in either layout:
 * <pre>
 *  63  62           48 47                                                       0
 * +---+---------------+---------------------------------------------------------+
 * | 0 |  tag (15)     |  the layout's own fields                                |
 * +---+---------------+---------------------------------------------------------+
 * </pre>
 * Two instances therefore share a tag only when 2<sup>15</sup> - 2 (32&nbsp;766) or more instances were made between
 * them: the tags of 2<sup>15</sup> - 1 consecutive instances differ. A tag
 * is drawn once per instance, at construction; the hot paths only compare it.
 */
final class InstanceTags {

    /** Bits of a tag; bit 63 above it stays clear, so handles are positive. */
    static final int TAG_BITS = 15;
    /** Where the tag starts in every handle layout. */
    static final int TAG_SHIFT = 48;
    /** The largest tag, and how many distinct tags there are: tag 0 is never handed out. */
    static final int MAX_TAG = (1 << TAG_BITS) - 1;

    private static final AtomicInteger NEXT = new AtomicInteger();

    private InstanceTags() {
    }

    /** @return a tag in {@code [1, 2^15 - 1]}, cycling through all of them across instances of every algorithm */
    static int next() {
        // floorMod keeps the cycle going after the counter passes Integer.MAX_VALUE and turns negative.
        return Math.floorMod(NEXT.getAndIncrement(), MAX_TAG) + 1;
    }
}
