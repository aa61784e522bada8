package io.github.solvk.memory;

import io.github.solvk.memory.pool.MemoryTypeFilter;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

/**
 * Something that makes buffers: the {@link MemoryManager} and every memory pool. SOL's {@code IBufferAllocator}.
 *
 * <p>Failures: a request that breaks a rule (size 0, alignment 24, no usage...) is a caller bug and throws
 * {@link IllegalArgumentException} whatever the {@link OnAllocationFailure}; a valid request that cannot be met throws
 * {@link MemoryAllocationException} under {@link OnAllocationFailure#THROW}, returns {@code null} under
 * {@link OnAllocationFailure#EMPTY}, and blocks under {@link OnAllocationFailure#WAIT} on allocators whose
 * {@link #getCapabilities()} contain {@link Capability#WAIT}. Nothing is left allocated by a failed call.
 */
public interface IBufferAllocator {

    /** What an allocator can do beyond allocating. */
    enum Capability {
        /** {@link OnAllocationFailure#WAIT}: block until another thread frees enough space. */
        WAIT
    }

    /** What to do when a valid request cannot be met. */
    enum OnAllocationFailure {
        /** Throw {@link MemoryAllocationException} (the default). */
        THROW,
        /** Return {@code null}. */
        EMPTY,
        /**
         * Block until other threads free enough space; only on allocators with {@link Capability#WAIT}, others throw
         * {@link UnsupportedOperationException}.
         */
        WAIT
    }

    /** {@code VkSharingMode}. */
    enum SharingMode {
        /** {@code VK_SHARING_MODE_EXCLUSIVE}: one queue family at a time; ownership transfers are explicit. */
        EXCLUSIVE,
        /** {@code VK_SHARING_MODE_CONCURRENT}: the listed queue families (two or more) may use it at once. */
        CONCURRENT
    }

    /**
     * Allocates a buffer, throwing when the request cannot be met.
     *
     * @param info what to allocate
     * @return the buffer; the caller closes it
     * @throws IllegalArgumentException   for a bad request
     * @throws MemoryAllocationException when a valid request cannot be met
     */
    default IBuffer allocateBuffer(AllocationInfo info) {
        return allocateBuffer(info, OnAllocationFailure.THROW);
    }

    /**
     * Allocates a buffer.
     *
     * @param info      what to allocate
     * @param onFailure what to do when a valid request cannot be met
     * @return the buffer, or {@code null} when it failed under {@link OnAllocationFailure#EMPTY}
     * @throws IllegalArgumentException      for a bad request
     * @throws MemoryAllocationException     when it failed under {@link OnAllocationFailure#THROW}
     * @throws UnsupportedOperationException for {@link OnAllocationFailure#WAIT} without {@link Capability#WAIT}
     */
    IBuffer allocateBuffer(AllocationInfo info, OnAllocationFailure onFailure);

    /** @return what this allocator can do; SOL's {@code getCapabilities()} */
    Set<Capability> getCapabilities();

    /**
     * What to allocate: SOL's {@code IBufferAllocator::AllocationInfo}, plus a name and the host access that VMA's
     * automatic usages need. Build one with {@link #builder()}; the checks that need no device run in the
     * constructor.
     *
     * <p>An info is immutable: keep the ones a hot path asks for and pass the same objects again. The
     * {@link MemoryManager} and the block pools' facade remember what they made from up to eight info objects (found
     * by identity, not by equality), and skip their checks against the device and the request they would build.
     *
     * @param size                 bytes, {@code > 0}
     * @param bufferUsage          {@code VkBufferUsageFlags}, not 0
     * @param sharingMode          exclusive or concurrent
     * @param queueFamilies        for {@link SharingMode#CONCURRENT}: two or more distinct queue families; empty
     *                             for exclusive
     * @param memoryUsage          what the memory is for
     * @param hostAccess           how the host touches the memory
     * @param requiredMemoryFlags  {@code VkMemoryPropertyFlags} the memory type must have
     * @param preferredMemoryFlags {@code VkMemoryPropertyFlags} the memory type should have
     * @param allocationFlags      {@link AllocationFlags} bits
     * @param alignment            minimum alignment of the buffer's memory offset: 0 for the driver's, else a power
     *                             of two
     * @param name                 shown in statistics, dumps and errors; may be {@code null}
     */
    record AllocationInfo(long size, int bufferUsage, SharingMode sharingMode, int[] queueFamilies,
                          MemoryUsage memoryUsage, HostAccess hostAccess, int requiredMemoryFlags,
                          int preferredMemoryFlags, int allocationFlags, long alignment, String name) {

        /**
         * Checks everything that needs no device.
         *
         * @throws IllegalArgumentException naming the bad value and what was expected
         */
        public AllocationInfo {
            Objects.requireNonNull(sharingMode, "sharingMode: null (expected: EXCLUSIVE or CONCURRENT)");
            Objects.requireNonNull(memoryUsage, "memoryUsage: null (expected: a MemoryUsage)");
            Objects.requireNonNull(hostAccess, "hostAccess: null (expected: a HostAccess, NONE for none)");
            queueFamilies = queueFamilies == null ? new int[0] : queueFamilies.clone();
            if (size <= 0) {
                throw new IllegalArgumentException("size: " + size
                        + " (expected: > 0, VUID-VkBufferCreateInfo-size-00912)");
            }
            if (bufferUsage == 0) {
                throw new IllegalArgumentException("bufferUsage: 0 (expected: at least one VkBufferUsageFlagBits, "
                        + "VUID-VkBufferCreateInfo-None-09500)");
            }
            VulkanBuffer.checkKnownUsage("bufferUsage", bufferUsage);
            if (alignment < 0 || (alignment & (alignment - 1)) != 0) {
                throw new IllegalArgumentException("alignment: " + alignment + " (expected: 0 or a power of two)");
            }
            AllocationFlags.check(allocationFlags);
            if (sharingMode == SharingMode.CONCURRENT) {
                long distinct = Arrays.stream(queueFamilies).distinct().count();
                if (queueFamilies.length < 2 || distinct != queueFamilies.length) {
                    throw new IllegalArgumentException("queueFamilies: " + Arrays.toString(queueFamilies)
                            + " for CONCURRENT sharing (expected: two or more distinct families, "
                            + "VUID-VkBufferCreateInfo-sharingMode-00914 and -01419)");
                }
                for (int family : queueFamilies) {
                    if (family < 0) {
                        throw new IllegalArgumentException("queue family: " + family + " (expected: >= 0)");
                    }
                }
            } else if (queueFamilies.length != 0) {
                throw new IllegalArgumentException("queueFamilies: " + Arrays.toString(queueFamilies)
                        + " for EXCLUSIVE sharing (expected: none; use CONCURRENT to share)");
            }
            if (memoryUsage == MemoryUsage.DEVICE_ONLY && hostAccess != HostAccess.NONE) {
                throw new IllegalArgumentException("hostAccess: " + hostAccess + " with memoryUsage DEVICE_ONLY "
                        + "(expected: NONE, or a host-visible usage such as UPLOAD or DOWNLOAD)");
            }
            // The memory flags and the usage/host access rules need no device either: unknown flag bits, UPLOAD
            // with RANDOM access, a host access named by both field and flag differently, DEVICE_ONLY with a
            // HOST_ACCESS_* flag or a host-side flag. Checked here as every allocator checks them later.
            MemoryTypeFilter.of(memoryUsage, AllocationFlags.hostAccess(hostAccess, allocationFlags),
                    requiredMemoryFlags, preferredMemoryFlags);
        }

        /**
         * The memory types this request fits, best first, as every allocator chooses them: its memory usage, host
         * access (by field or {@code HOST_ACCESS_*} flag, and whether it allows a transfer instead), memory flags and
         * buffer usage.
         *
         * @param integratedGpu whether the device is an integrated GPU ({@link MemoryTypeFilter})
         */
        MemoryTypeFilter memoryTypeFilter(boolean integratedGpu) {
            return MemoryTypeFilter.of(memoryUsage, AllocationFlags.hostAccess(hostAccess, allocationFlags),
                    AllocationFlags.allowsTransferInstead(allocationFlags), integratedGpu, requiredMemoryFlags,
                    preferredMemoryFlags, bufferUsage);
        }

        /** @return a builder for a 0-byte buffer with no usage, which must be set */
        public static Builder builder() {
            return new Builder();
        }

        /** @return a builder holding this request's values */
        public Builder toBuilder() {
            Builder b = new Builder();
            b.size = size;
            b.bufferUsage = bufferUsage;
            b.sharingMode = sharingMode;
            b.queueFamilies = queueFamilies.clone();
            b.memoryUsage = memoryUsage;
            b.hostAccess = hostAccess;
            b.requiredMemoryFlags = requiredMemoryFlags;
            b.preferredMemoryFlags = preferredMemoryFlags;
            b.allocationFlags = allocationFlags;
            b.alignment = alignment;
            b.name = name;
            return b;
        }

        @Override
        public int[] queueFamilies() {
            return queueFamilies.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof AllocationInfo a && a.size == size && a.bufferUsage == bufferUsage
                    && a.sharingMode == sharingMode && Arrays.equals(a.queueFamilies, queueFamilies)
                    && a.memoryUsage == memoryUsage && a.hostAccess == hostAccess
                    && a.requiredMemoryFlags == requiredMemoryFlags && a.preferredMemoryFlags == preferredMemoryFlags
                    && a.allocationFlags == allocationFlags && a.alignment == alignment && Objects.equals(a.name, name);
        }

        @Override
        public int hashCode() {
            return Objects.hash(size, bufferUsage, sharingMode, Arrays.hashCode(queueFamilies), memoryUsage,
                    hostAccess, requiredMemoryFlags, preferredMemoryFlags, allocationFlags, alignment, name);
        }

        @Override
        public String toString() {
            return "AllocationInfo[" + (name != null ? "name=" + name + ", " : "") + "size=" + size
                    + ", bufferUsage=0x" + Integer.toHexString(bufferUsage) + ", sharingMode=" + sharingMode
                    + (queueFamilies.length > 0 ? Arrays.toString(queueFamilies) : "") + ", memoryUsage="
                    + memoryUsage + ", hostAccess=" + hostAccess + ", required=0x"
                    + Integer.toHexString(requiredMemoryFlags) + ", preferred=0x"
                    + Integer.toHexString(preferredMemoryFlags) + ", allocationFlags=0x"
                    + Integer.toHexString(allocationFlags) + ", alignment=" + alignment + "]";
        }

        /**
         * Builds an {@link AllocationInfo}. Defaults: exclusive sharing, {@link MemoryUsage#AUTO}, no host access,
         * no flags, the driver's alignment, no name. Size and usage must be set.
         */
        public static final class Builder {
            private long size;
            private int bufferUsage;
            private SharingMode sharingMode = SharingMode.EXCLUSIVE;
            private int[] queueFamilies = new int[0];
            private MemoryUsage memoryUsage = MemoryUsage.AUTO;
            private HostAccess hostAccess = HostAccess.NONE;
            private int requiredMemoryFlags;
            private int preferredMemoryFlags;
            private int allocationFlags;
            private long alignment;
            private String name;

            private Builder() {
            }

            /**
             * @param bytes the size
             * @return this
             */
            public Builder size(long bytes) {
                this.size = bytes;
                return this;
            }

            /**
             * @param usage {@code VkBufferUsageFlags}
             * @return this
             */
            public Builder bufferUsage(int usage) {
                this.bufferUsage = usage;
                return this;
            }

            /**
             * Exclusive sharing.
             *
             * @return this
             */
            public Builder exclusive() {
                this.sharingMode = SharingMode.EXCLUSIVE;
                this.queueFamilies = new int[0];
                return this;
            }

            /**
             * @param families two or more distinct queue families that use the buffer at once
             * @return this
             */
            public Builder concurrent(int... families) {
                Objects.requireNonNull(families, "families: null (expected: two or more distinct queue families)");
                this.sharingMode = SharingMode.CONCURRENT;
                this.queueFamilies = families.clone();
                return this;
            }

            /**
             * @param usage what the memory is for
             * @return this
             */
            public Builder memoryUsage(MemoryUsage usage) {
                this.memoryUsage = usage;
                return this;
            }

            /**
             * @param access how the host touches the memory
             * @return this
             */
            public Builder hostAccess(HostAccess access) {
                this.hostAccess = access;
                return this;
            }

            /**
             * @param flags {@code VkMemoryPropertyFlags} the memory type must have
             * @return this
             */
            public Builder requiredMemoryFlags(int flags) {
                this.requiredMemoryFlags = flags;
                return this;
            }

            /**
             * @param flags {@code VkMemoryPropertyFlags} the memory type should have
             * @return this
             */
            public Builder preferredMemoryFlags(int flags) {
                this.preferredMemoryFlags = flags;
                return this;
            }

            /**
             * @param flags {@link AllocationFlags} bits
             * @return this
             */
            public Builder allocationFlags(int flags) {
                this.allocationFlags = flags;
                return this;
            }

            /**
             * Keeps the memory persistently mapped ({@link AllocationFlags#MAPPED}).
             *
             * @return this
             */
            public Builder mapped() {
                this.allocationFlags |= AllocationFlags.MAPPED;
                return this;
            }

            /**
             * @param bytes 0 for the driver's alignment, else a power of two
             * @return this
             */
            public Builder alignment(long bytes) {
                this.alignment = bytes;
                return this;
            }

            /**
             * @param name shown in statistics, dumps and errors
             * @return this
             */
            public Builder name(String name) {
                this.name = name;
                return this;
            }

            /**
             * @return the request
             * @throws IllegalArgumentException when a value breaks a rule
             */
            public AllocationInfo build() {
                return new AllocationInfo(size, bufferUsage, sharingMode, queueFamilies, memoryUsage, hostAccess,
                        requiredMemoryFlags, preferredMemoryFlags, allocationFlags, alignment, name);
            }
        }
    }
}
