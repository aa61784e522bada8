package io.github.solvk.memory.pool;

import io.github.solvk.memory.HostAccess;
import io.github.solvk.memory.MemoryUsage;
import io.github.solvk.memory.vulkan.MemoryProperties;
import java.util.Objects;

/**
 * Which memory property flags a request requires, prefers and would rather avoid: the input of
 * {@link MemoryTypeSelector}.
 *
 * <p>Build one from a {@link MemoryUsage} and a {@link HostAccess} with
 * {@link #of(MemoryUsage, HostAccess, int, int)} (the usual way: the usage table is in {@link MemoryUsage}), or from
 * raw flags with {@link #ofFlags(int, int, int)}. A filter also knows which <em>opt-in</em> flags it leaves
 * {@linkplain #excludedFlags() excluded}: memory types carrying {@code LAZILY_ALLOCATED}, {@code PROTECTED} or the AMD
 * {@code DEVICE_COHERENT} / {@code DEVICE_UNCACHED} flags are unusable, or much slower, for ordinary resources, so a
 * type with one of them is only acceptable when the filter requires or prefers a flag of the same group. The rule
 * and its diagram are in the {@linkplain io.github.solvk.memory.pool package documentation}.
 *
 * <p>Instances are immutable values: equal flags make equal filters.
 */
public final class MemoryTypeFilter {

    /**
     * Every {@code VkMemoryPropertyFlagBits} bit this library knows, up to
     * {@code VK_MEMORY_PROPERTY_RDMA_CAPABLE_BIT_NV} (0x100). A request with a higher bit is rejected.
     */
    public static final int KNOWN_FLAGS = 0x1FF;

    /** The AMD device-coherence group: opting into one of the two bits opts into both. */
    static final int AMD_FLAGS = MemoryProperties.DEVICE_COHERENT_AMD | MemoryProperties.DEVICE_UNCACHED_AMD;

    /** Flags whose types are excluded unless the filter requires or prefers a flag of the same group. */
    public static final int OPT_IN_FLAGS = MemoryProperties.LAZILY_ALLOCATED | MemoryProperties.PROTECTED | AMD_FLAGS;

    private static final int HOST_FLAGS =
            MemoryProperties.HOST_VISIBLE | MemoryProperties.HOST_COHERENT | MemoryProperties.HOST_CACHED;

    /**
     * The buffer usage to give {@link #of(MemoryUsage, HostAccess, int, int, int)} when it is not known: the memory
     * is then taken to be read by the device directly, which is what {@link #of(MemoryUsage, HostAccess, int, int)}
     * assumes.
     */
    public static final int UNKNOWN_BUFFER_USAGE = -1;

    /**
     * {@code VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT}: a buffer with no other usage is
     * only copied from and to, never read by a shader or as a vertex, index or indirect buffer.
     */
    private static final int TRANSFER_USAGE = 0x1 | 0x2;

    private final int requiredFlags;
    private final int preferredFlags;
    private final int notPreferredFlags;
    private final int excludedFlags;

    private MemoryTypeFilter(int requiredFlags, int preferredFlags, int notPreferredFlags) {
        this.requiredFlags = requiredFlags;
        this.preferredFlags = preferredFlags;
        this.notPreferredFlags = notPreferredFlags;
        this.excludedFlags = excludedFor(requiredFlags | preferredFlags);
    }

    /**
     * {@link #of(MemoryUsage, HostAccess, int, int, int)} for memory the device reads directly (a buffer usage not
     * known, {@link #UNKNOWN_BUFFER_USAGE}).
     *
     * @param usage          what the memory is for
     * @param access         how the host maps it; see {@link MemoryUsage} for which values each usage accepts
     * @param requiredFlags  {@code VkMemoryPropertyFlags} the caller requires on top of the usage's, or 0
     * @param preferredFlags {@code VkMemoryPropertyFlags} the caller prefers on top of the usage's, or 0
     * @return the filter
     * @throws NullPointerException     if {@code usage} or {@code access} is null
     * @throws IllegalArgumentException as {@link #of(MemoryUsage, HostAccess, int, int, int)}
     */
    public static MemoryTypeFilter of(MemoryUsage usage, HostAccess access, int requiredFlags, int preferredFlags) {
        return of(usage, access, requiredFlags, preferredFlags, UNKNOWN_BUFFER_USAGE);
    }

    /**
     * Builds the filter for a usage, following the table in {@link MemoryUsage}, plus the caller's own flags.
     *
     * <p>The buffer usage matters in one case, as in VMA: {@link MemoryUsage#AUTO} with sequential host writes for a
     * buffer that is only copied from or to ({@code TRANSFER_SRC} and {@code TRANSFER_DST} alone, a staging buffer)
     * avoids {@code DEVICE_LOCAL} instead of preferring it, since the device never reads such a buffer where it lies:
     * on a GPU whose host-visible video memory is a 256 MiB BAR window, staging buffers would otherwise fill it.
     * {@link MemoryUsage#AUTO_PREFER_DEVICE} and {@link MemoryUsage#UPLOAD} still prefer it.
     *
     * <p>The caller's required and preferred flags are added to the usage's, and removed from its not-preferred set
     * (what the caller asks for explicitly wins over what the usage guesses). When the caller requires
     * {@code DEVICE_COHERENT_AMD} and does not ask for {@code DEVICE_UNCACHED_AMD}, uncached types are not preferred,
     * since they are slower for the device; a caller that only prefers coherence gets a coherent type where one fits
     * (on AMD those are uncached too, so avoiding uncached types would cancel the preference out), as with VMA.
     *
     * @param usage          what the memory is for
     * @param access         how the host maps it; see {@link MemoryUsage} for which values each usage accepts
     * @param requiredFlags  {@code VkMemoryPropertyFlags} the caller requires on top of the usage's, or 0
     * @param preferredFlags {@code VkMemoryPropertyFlags} the caller prefers on top of the usage's, or 0
     * @param bufferUsage    the {@code VkBufferUsageFlags} of the buffer the memory is for, or
     *                       {@link #UNKNOWN_BUFFER_USAGE}
     * @return the filter
     * @throws NullPointerException     if {@code usage} or {@code access} is null
     * @throws IllegalArgumentException if {@code bufferUsage} is 0, a flag is not a known
     *                                  {@code VkMemoryPropertyFlagBits} bit, the host access
     *                                  does not fit the usage, {@code DEVICE_ONLY} or {@code GPU_LAZILY_ALLOCATED} is
     *                                  asked for host-side flags, {@code UNKNOWN} is mapped without requiring
     *                                  {@code HOST_VISIBLE}, or the required flags are a combination no memory type
     *                                  may have
     */
    public static MemoryTypeFilter of(MemoryUsage usage, HostAccess access, int requiredFlags, int preferredFlags,
                                      int bufferUsage) {
        return of(usage, access, false, false, requiredFlags, preferredFlags, bufferUsage);
    }

    /**
     * {@link #of(MemoryUsage, HostAccess, int, int, int)} for a request that may give its host access up
     * ({@code AllocationFlags.HOST_ACCESS_ALLOW_TRANSFER_INSTEAD}): the caller then copies through a staging buffer
     * where the memory turns out not host-visible. For the automatic usages ({@link MemoryUsage#AUTO},
     * {@link MemoryUsage#AUTO_PREFER_DEVICE}, {@link MemoryUsage#AUTO_PREFER_HOST}) with a host access, as VMA
     * chooses: {@code HOST_VISIBLE} is preferred rather than required; and on a GPU that is not integrated, for a
     * buffer the device reads directly (not only copied from and to) and a usage other than
     * {@code AUTO_PREFER_HOST}, {@code DEVICE_LOCAL} is preferred too, so that memory the device reads fast wins
     * over host access: with random access ({@code HOST_CACHED} preferred as well) a type that is
     * {@code DEVICE_LOCAL} alone ties with cached system memory, and the first listed is chosen. Other usages
     * ({@code UPLOAD} and {@code DOWNLOAD} are host-visible by definition) and requests without host access are
     * built as without it.
     *
     * @param transferInstead whether the request allows a transfer instead of host access
     * @param integratedGpu   whether the device is an integrated GPU ({@code VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU}),
     *                        whose memory the host sees anyway: there host access is only preferred
     * @return the filter
     * @throws NullPointerException     if {@code usage} or {@code access} is null
     * @throws IllegalArgumentException as {@link #of(MemoryUsage, HostAccess, int, int, int)}
     */
    public static MemoryTypeFilter of(MemoryUsage usage, HostAccess access, boolean transferInstead,
                                      boolean integratedGpu, int requiredFlags, int preferredFlags, int bufferUsage) {
        Objects.requireNonNull(usage, "usage: null (expected: a MemoryUsage)");
        Objects.requireNonNull(access, "access: null (expected: a HostAccess, NONE for none)");
        if (bufferUsage == 0) {
            throw new IllegalArgumentException("bufferUsage: 0 (expected: the buffer's VkBufferUsageFlags, or "
                    + "UNKNOWN_BUFFER_USAGE when not known)");
        }
        requireKnown("requiredFlags", requiredFlags);
        requireKnown("preferredFlags", preferredFlags);

        int required = requiredFlags;
        int preferred = preferredFlags;
        int notPreferred = 0;
        switch (usage) {
            case UNKNOWN:
                if (access != HostAccess.NONE && (requiredFlags & MemoryProperties.HOST_VISIBLE) == 0) {
                    throw new IllegalArgumentException("requiredFlags: " + MemoryProperties.describeFlags(requiredFlags)
                            + " (expected: HOST_VISIBLE among them, since usage UNKNOWN with host access " + access
                            + " maps the memory and adds no flag of its own)");
                }
                break;
            case AUTO:
            case AUTO_PREFER_DEVICE:
            case AUTO_PREFER_HOST:
                boolean deviceAccess = (bufferUsage & ~TRANSFER_USAGE) != 0;
                // Allowed a transfer instead, a buffer the device reads on a discrete GPU: its fast memory first.
                boolean deviceFirst = transferInstead && access != HostAccess.NONE && !integratedGpu && deviceAccess
                        && usage != MemoryUsage.AUTO_PREFER_HOST;
                if (access != HostAccess.NONE && !transferInstead) {
                    required |= MemoryProperties.HOST_VISIBLE;
                } else if (access != HostAccess.NONE && !(deviceFirst && access == HostAccess.RANDOM)) {
                    // With random access and the device first, host visibility is left out on purpose (as in VMA):
                    // a DEVICE_LOCAL type then ties with cached system memory rather than losing to it.
                    preferred |= MemoryProperties.HOST_VISIBLE;
                }
                if (access == HostAccess.SEQUENTIAL_WRITE) {
                    notPreferred |= MemoryProperties.HOST_CACHED;
                } else if (access == HostAccess.RANDOM) {
                    preferred |= MemoryProperties.HOST_CACHED;
                }
                boolean staging = access == HostAccess.SEQUENTIAL_WRITE && !deviceAccess;
                if (deviceFirst) {
                    preferred |= MemoryProperties.DEVICE_LOCAL;
                } else if (usage == MemoryUsage.AUTO_PREFER_HOST || (usage == MemoryUsage.AUTO && staging)) {
                    // A staging buffer that the device only copies from: system RAM, as VMA chooses when it sees
                    // the buffer usage, rather than a small BAR window that device-read data needs more.
                    notPreferred |= MemoryProperties.DEVICE_LOCAL;
                } else if (access != HostAccess.RANDOM) {
                    // AUTO and AUTO_PREFER_DEVICE stay neutral about DEVICE_LOCAL for random host access, as VMA
                    // does: there the cached bit decides the speed of host reads, and preferring DEVICE_LOCAL too
                    // would let an uncached DEVICE_LOCAL|HOST_VISIBLE type (a ReBAR or a 256 MiB BAR window) tie
                    // with the cached system-memory type and win whenever the device lists it first.
                    preferred |= MemoryProperties.DEVICE_LOCAL;
                }
                break;
            case DEVICE_ONLY:
                requireNoHostAccess(usage, access, requiredFlags, preferredFlags);
                preferred |= MemoryProperties.DEVICE_LOCAL;
                notPreferred |= MemoryProperties.HOST_VISIBLE;
                break;
            case UPLOAD:
                requireAccess(usage, access, HostAccess.SEQUENTIAL_WRITE);
                required |= MemoryProperties.HOST_VISIBLE;
                preferred |= MemoryProperties.DEVICE_LOCAL;
                notPreferred |= MemoryProperties.HOST_CACHED;
                break;
            case DOWNLOAD:
                requireAccess(usage, access, HostAccess.RANDOM);
                required |= MemoryProperties.HOST_VISIBLE;
                preferred |= MemoryProperties.HOST_CACHED;
                notPreferred |= MemoryProperties.DEVICE_LOCAL;
                break;
            case GPU_LAZILY_ALLOCATED:
                requireNoHostAccess(usage, access, requiredFlags, preferredFlags);
                required |= MemoryProperties.LAZILY_ALLOCATED;
                preferred |= MemoryProperties.DEVICE_LOCAL;
                break;
            default:
                throw new AssertionError("unhandled usage " + usage);
        }
        if ((requiredFlags & MemoryProperties.DEVICE_COHERENT_AMD) != 0
                && ((requiredFlags | preferredFlags) & MemoryProperties.DEVICE_UNCACHED_AMD) == 0) {
            // Only when coherence is required: every AMD DEVICE_COHERENT type is also DEVICE_UNCACHED, so avoiding
            // uncached types as well as preferring coherence would cancel the preference out.
            notPreferred |= MemoryProperties.DEVICE_UNCACHED_AMD;
        }
        requirePossible(required);
        // A required flag in the preferred set costs every candidate the same nothing; keep the sets disjoint so that
        // toString() reads cleanly.
        preferred &= ~required;
        notPreferred &= ~(required | preferred);
        return new MemoryTypeFilter(required, preferred, notPreferred);
    }

    /**
     * Builds a filter from raw flags, for callers that know exactly what they want.
     *
     * @param requiredFlags     flags a type must have
     * @param preferredFlags    flags that cost a point each when a type lacks them
     * @param notPreferredFlags flags that cost a point each when a type has them
     * @return the filter
     * @throws IllegalArgumentException if a flag is not a known {@code VkMemoryPropertyFlagBits} bit, the
     *                                  not-preferred flags overlap the required or preferred ones, or the required
     *                                  flags are a combination no memory type may have
     */
    public static MemoryTypeFilter ofFlags(int requiredFlags, int preferredFlags, int notPreferredFlags) {
        requireKnown("requiredFlags", requiredFlags);
        requireKnown("preferredFlags", preferredFlags);
        requireKnown("notPreferredFlags", notPreferredFlags);
        int overlap = notPreferredFlags & (requiredFlags | preferredFlags);
        if (overlap != 0) {
            throw new IllegalArgumentException("notPreferredFlags: " + MemoryProperties.describeFlags(notPreferredFlags)
                    + " (expected: none of the required or preferred flags, but "
                    + MemoryProperties.describeFlags(overlap) + " are among them)");
        }
        requirePossible(requiredFlags);
        return new MemoryTypeFilter(requiredFlags, preferredFlags & ~requiredFlags, notPreferredFlags);
    }

    /** @return the flags a memory type must have to be acceptable */
    public int requiredFlags() {
        return requiredFlags;
    }

    /** @return the flags of which each one a type lacks adds one to its cost; disjoint from the required flags */
    public int preferredFlags() {
        return preferredFlags;
    }

    /** @return the flags of which each one a type has adds one to its cost; disjoint from required and preferred */
    public int notPreferredFlags() {
        return notPreferredFlags;
    }

    /**
     * The opt-in flags this filter did not opt into: a type carrying any of them is not acceptable. Derived from
     * the required and preferred flags: {@code LAZILY_ALLOCATED} and {@code PROTECTED} each opt themselves in, and
     * either AMD flag opts both AMD flags in.
     *
     * @return a subset of {@link #OPT_IN_FLAGS}
     */
    public int excludedFlags() {
        return excludedFlags;
    }

    /**
     * Whether a memory type with these property flags is acceptable, memory type bits aside.
     *
     * @param propertyFlags a memory type's {@code VkMemoryPropertyFlags}
     * @return true if it has every required flag and no excluded one
     */
    public boolean accepts(int propertyFlags) {
        return (propertyFlags & requiredFlags) == requiredFlags && (propertyFlags & excludedFlags) == 0;
    }

    /**
     * How far a memory type is from what this filter would like: preferred flags it lacks plus not-preferred flags it
     * has. Zero is a perfect match.
     *
     * @param propertyFlags a memory type's {@code VkMemoryPropertyFlags}
     * @return the cost, 0 to 9
     */
    public int cost(int propertyFlags) {
        return Integer.bitCount(preferredFlags & ~propertyFlags) + Integer.bitCount(notPreferredFlags & propertyFlags);
    }

    private static int excludedFor(int asked) {
        int optedIn = asked & (MemoryProperties.LAZILY_ALLOCATED | MemoryProperties.PROTECTED);
        if ((asked & AMD_FLAGS) != 0) {
            // On AMD every DEVICE_UNCACHED type is also DEVICE_COHERENT, so the two bits only make sense together.
            optedIn |= AMD_FLAGS;
        }
        return OPT_IN_FLAGS & ~optedIn;
    }

    private static void requireKnown(String name, int flags) {
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw new IllegalArgumentException(name + ": 0x" + Integer.toHexString(flags)
                    + " (expected: only VkMemoryPropertyFlagBits within 0x" + Integer.toHexString(KNOWN_FLAGS) + ")");
        }
    }

    private static void requireAccess(MemoryUsage usage, HostAccess access, HostAccess implied) {
        if (access != HostAccess.NONE && access != implied) {
            throw new IllegalArgumentException("host access: " + access + " (expected: " + implied
                    + " or NONE for usage " + usage + ", which implies " + implied + ")");
        }
    }

    private static void requireNoHostAccess(MemoryUsage usage, HostAccess access, int requiredFlags,
                                            int preferredFlags) {
        if (access != HostAccess.NONE) {
            throw new IllegalArgumentException("host access: " + access + " (expected: NONE for usage " + usage
                    + ", whose memory is never mapped)");
        }
        int host = (requiredFlags | preferredFlags) & HOST_FLAGS;
        if (host != 0) {
            throw new IllegalArgumentException("required or preferred flags: " + MemoryProperties.describeFlags(host)
                    + " (expected: no host-side flag for usage " + usage + ", whose memory is never mapped)");
        }
    }

    /**
     * Rejects required flags that the Vulkan specification forbids on any one memory type (see "Memory Heaps" in
     * the specification: neither a lazily allocated nor a protected type has any host flag).
     */
    private static void requirePossible(int required) {
        boolean hostSide = (required & HOST_FLAGS) != 0;
        if (hostSide && (required & (MemoryProperties.LAZILY_ALLOCATED | MemoryProperties.PROTECTED)) != 0) {
            throw new IllegalArgumentException("required flags: " + MemoryProperties.describeFlags(required)
                    + " (expected: a combination a memory type may have; LAZILY_ALLOCATED and PROTECTED exclude every"
                    + " HOST_* flag)");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MemoryTypeFilter f && f.requiredFlags == requiredFlags
                && f.preferredFlags == preferredFlags && f.notPreferredFlags == notPreferredFlags;
    }

    @Override
    public int hashCode() {
        return (requiredFlags * 31 + preferredFlags) * 31 + notPreferredFlags;
    }

    /** @return for example {@code MemoryTypeFilter[required=HOST_VISIBLE, preferred=DEVICE_LOCAL, ...]} */
    @Override
    public String toString() {
        return "MemoryTypeFilter[required=" + MemoryProperties.describeFlags(requiredFlags)
                + ", preferred=" + MemoryProperties.describeFlags(preferredFlags)
                + ", notPreferred=" + MemoryProperties.describeFlags(notPreferredFlags)
                + ", excluded=" + MemoryProperties.describeFlags(excludedFlags) + "]";
    }
}
