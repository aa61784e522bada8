package io.github.solvk.memory.vulkan;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.system.MemoryUtil.NULL;
import static org.lwjgl.util.vma.Vma.vmaDestroyBuffer;
import static org.lwjgl.util.vma.Vma.vmaFlushAllocations;
import static org.lwjgl.util.vma.Vma.vmaInvalidateAllocations;
import static org.lwjgl.util.vma.Vma.vmaMapMemory;
import static org.lwjgl.util.vma.Vma.vmaUnmapMemory;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE;
import static org.lwjgl.vulkan.VK10.VK_WHOLE_SIZE;
import static org.lwjgl.vulkan.VK10.vkFlushMappedMemoryRanges;
import static org.lwjgl.vulkan.VK10.vkInvalidateMappedMemoryRanges;
import static org.lwjgl.vulkan.VK12.VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
import static org.lwjgl.vulkan.VK12.VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO;
import static org.lwjgl.vulkan.VK12.vkGetBufferDeviceAddress;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.LongBuffer;
import java.util.Objects;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;
import org.lwjgl.vulkan.VkBufferDeviceAddressInfo;
import org.lwjgl.vulkan.VkDevice;
import org.lwjgl.vulkan.VkMappedMemoryRange;

/**
 * A range {@code [offset, offset + size)} of a {@code VkBuffer} and the memory behind it.
 *
 * <p>Ownership (see the package documentation): a buffer made by {@link VulkanMemoryAllocator#createBuffer} owns its
 * {@code VkBuffer} and {@code VmaAllocation} and frees both, exactly once, in {@link #close()}. One made by
 * {@link VulkanMemory#createBuffer} owns its {@code VkBuffer} only; the block's owner frees the memory. One made by
 * {@link #subRange} or {@link #wrap} borrows a range of someone else's buffer and memory: closing it frees nothing.
 * After close, every
 * method but {@link #close()}, {@link #isClosed()}, {@link #size()} and {@link #isOwned()} throws
 * {@link IllegalStateException}.
 *
 * <p>Host access: {@link #write} and {@link #read} copy through a mapping and check bounds; on memory that is not
 * {@code HOST_COHERENT} they flush after writing and invalidate before reading, with ranges widened to
 * {@code nonCoherentAtomSize} ({@link #atomAlignedRange}). Code that writes through {@link #map()} itself calls
 * {@link #flush} and {@link #invalidate}.
 *
 * <p>Thread-safety: {@code close()} may race with itself (one caller frees); other calls must not race with
 * {@code close()}. Concurrent writes to disjoint ranges are fine.
 */
public sealed class VulkanBuffer implements AutoCloseable {

    /**
     * Every {@code VkBufferUsageFlagBits} bit that LWJGL 3.4.3 defines: Vulkan 1.0's nine (0x1 to 0x100), 1.2's
     * {@code SHADER_DEVICE_ADDRESS} (0x20000), and the extensions' {@code CONDITIONAL_RENDERING_EXT} (0x200),
     * {@code SHADER_BINDING_TABLE_KHR} (0x400), {@code TRANSFORM_FEEDBACK_BUFFER_EXT} and {@code _COUNTER_BUFFER_EXT}
     * (0x800, 0x1000), {@code VIDEO_DECODE_SRC/DST_KHR} and {@code VIDEO_ENCODE_DST/SRC_KHR} (0x2000 to 0x10000),
     * {@code ACCELERATION_STRUCTURE_BUILD_INPUT_READ_ONLY_KHR} and {@code _STORAGE_KHR} (0x80000, 0x100000),
     * {@code SAMPLER_/RESOURCE_DESCRIPTOR_BUFFER_EXT} (0x200000, 0x400000), {@code MICROMAP_BUILD_INPUT_READ_ONLY_EXT}
     * and {@code MICROMAP_STORAGE_EXT} (0x800000, 0x1000000), {@code EXECUTION_GRAPH_SCRATCH_AMDX} (0x2000000),
     * {@code PUSH_DESCRIPTORS_DESCRIPTOR_BUFFER_EXT} (0x4000000), {@code TILE_MEMORY_QCOM} (0x8000000) and
     * {@code DESCRIPTOR_HEAP_EXT} (0x10000000). Bit 0x40000 has no name there.
     *
     * <p>A usage with another bit is refused where it is given ({@link #checkKnownUsage}); whether the device enables
     * the extension of a bit is its own business, which the validation layer checks when the buffer is made. The set
     * grows as extensions are added: a test compares it with LWJGL's constants, so that a newer LWJGL names what to
     * add here.
     */
    public static final int KNOWN_USAGE_FLAGS = 0x1FFB_FFFF;

    /** Sets {@link #closed} once; a field of this object rather than an {@code AtomicBoolean} beside it. */
    private static final VarHandle CLOSED;

    static {
        try {
            CLOSED = MethodHandles.lookup().findVarHandle(VulkanBuffer.class, "closed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * What the views of one memory share, so that each view holds only its own range: a block's (one per
     * {@link VulkanMemory}, made with it), the owned buffers' of one memory type of an allocator (one per type, made on
     * its first buffer), or a wrapped range's (the memory it was given).
     */
    static final class Backing {
        /** The allocator, or {@code null} for a wrapped range. */
        final VulkanMemoryAllocator allocator;
        final VkDevice device;
        /** The block a view is bound into, or {@code null}. */
        final VulkanMemory block;
        final int memoryTypeIndex;
        final int memoryPropertyFlags;
        final long nonCoherentAtomSize;
        /** A wrapped range's {@code VkDeviceMemory} (or 0 when unknown), its buffer's offset in it, its end. */
        final long memory;
        final long memoryOffset;
        /** Where the memory ends, for widening flush ranges to whole atoms; {@code Long.MAX_VALUE / 2} when unknown. */
        final long memoryEnd;

        private Backing(VulkanMemoryAllocator allocator, VkDevice device, VulkanMemory block, int memoryTypeIndex,
                        int memoryPropertyFlags, long nonCoherentAtomSize, long memory, long memoryOffset,
                        long memoryEnd) {
            this.allocator = allocator;
            this.device = device;
            this.block = block;
            this.memoryTypeIndex = memoryTypeIndex;
            this.memoryPropertyFlags = memoryPropertyFlags;
            this.nonCoherentAtomSize = nonCoherentAtomSize;
            this.memory = memory;
            this.memoryOffset = memoryOffset;
            this.memoryEnd = memoryEnd;
        }

        /** @return what the views bound into {@code block} share */
        static Backing of(VulkanMemory block) {
            VulkanMemoryAllocator allocator = block.allocator();
            return new Backing(allocator, allocator.device(), block, block.memoryTypeIndex(), block.propertyFlags(),
                    allocator.memoryProperties().nonCoherentAtomSize(), NULL, 0, UNKNOWN_END);
        }

        /** @return what the buffers {@code allocator} makes with their own memory of a memory type share */
        static Backing owned(VulkanMemoryAllocator allocator, int memoryTypeIndex) {
            return new Backing(allocator, allocator.device(), null, memoryTypeIndex,
                    allocator.memoryProperties().propertyFlags(memoryTypeIndex),
                    allocator.memoryProperties().nonCoherentAtomSize(), NULL, 0, UNKNOWN_END);
        }
    }

    /** A buffer made by {@link VulkanMemoryAllocator#createBuffer}: its own {@code VmaAllocation} and mapping. */
    private static final class Owned extends VulkanBuffer {
        final long allocation;
        /** The host address {@link #mappedAddress()} mapped later (not mapped at creation), or 0. */
        volatile long mappedLater;

        Owned(Backing backing, long buffer, long allocation, long size, int usage, long mapped) {
            super(backing, buffer, 0, size, usage, mapped, true, 0);
            this.allocation = allocation;
        }
    }

    /** The end of a memory whose size is not known. */
    private static final long UNKNOWN_END = Long.MAX_VALUE / 2;

    private final Backing backing;
    private final long buffer;
    private final long offset;
    private final long size;
    private final int usage;
    /** Whether close() destroys the {@code VkBuffer}: an {@link Owned} buffer, or one bound into a pool's block. */
    private final boolean ownsBuffer;
    /** Where the range starts in its block ({@link Backing#block}), or 0. */
    private final long blockOffset;
    private volatile boolean closed;
    /** The host address given at creation (a persistently mapped block), or 0; final, so no fence to set it. */
    private final long mappedAtCreation;

    private VulkanBuffer(Backing backing, long buffer, long offset, long size, int usage, long mapped,
                         boolean ownsBuffer, long blockOffset) {
        this.backing = backing;
        this.buffer = buffer;
        this.offset = offset;
        this.size = size;
        this.usage = usage;
        this.ownsBuffer = ownsBuffer;
        this.blockOffset = blockOffset;
        this.mappedAtCreation = mapped;
    }

    static VulkanBuffer owned(VulkanMemoryAllocator allocator, long buffer, long allocation, long size, int usage,
                              int memoryTypeIndex, long mapped) {
        return new Owned(allocator.ownedBacking(memoryTypeIndex), buffer, allocation, size, usage, mapped);
    }

    static VulkanBuffer boundTo(VulkanMemory block, long buffer, long blockOffset, long size, int usage,
                                boolean ownsBuffer) {
        long blockMapped = block.mappedAddress();
        long mapped = blockMapped == NULL ? NULL : blockMapped + blockOffset;
        return new VulkanBuffer(block.viewBacking(), buffer, 0, size, usage, mapped, ownsBuffer, blockOffset);
    }

    /**
     * A borrowed sub-range of a block-wide buffer made by {@link VulkanMemory#createBlockBuffer}: the cheapest way to
     * hand out a buffer, with no Vulkan call. Closing it frees nothing; the pool that placed the range frees it.
     *
     * @param blockBuffer the block-wide buffer
     * @param block       the block it is bound to, at offset 0
     * @param offset      the range's offset in the buffer (and the block)
     * @param size        the range's size
     * @return a borrowed range
     */
    public static VulkanBuffer subRange(VulkanBuffer blockBuffer, VulkanMemory block, long offset, long size) {
        Objects.requireNonNull(blockBuffer, "blockBuffer: null (expected: the block-wide buffer of a VulkanMemory)");
        Objects.requireNonNull(block, "block: null (expected: the VulkanMemory the block buffer is bound to)");
        if (blockBuffer.backing.block != block || blockBuffer.blockOffset != 0) {
            throw new IllegalArgumentException("blockBuffer: " + blockBuffer + " (expected: the block-wide buffer of "
                    + block + ")");
        }
        if (offset < 0 || size <= 0 || offset > blockBuffer.size - size) {
            throw new IllegalArgumentException("range: offset " + offset + ", size " + size
                    + " (expected: inside the block buffer of " + blockBuffer.size + " bytes)");
        }
        // A range of a destroyed block buffer would name a destroyed VkBuffer and, once the block is freed, memory
        // that is no longer mapped.
        blockBuffer.checkOpen();
        // Everything but the range is the block buffer's already (boundTo took it from this block): copying it
        // costs no look-up through the allocator and its memory properties on this hot path.
        long blockMapped = block.mappedAddress();
        long mapped = blockMapped == NULL ? NULL : blockMapped + offset;
        return new VulkanBuffer(blockBuffer.backing, blockBuffer.buffer, offset, size, blockBuffer.usage, mapped,
                false, offset);
    }

    /**
     * Wraps a range of a buffer that someone else owns. Closing the result frees nothing.
     *
     * <p>Without the memory's size, flush and invalidate ranges on non-coherent memory are widened to whole atoms as
     * if the memory's size were a multiple of {@code nonCoherentAtomSize}; where it is not, a range that ends in the
     * memory's last atom would pass its end (VUID-VkMappedMemoryRange-size-00685). Use
     * {@link #wrap(VkDevice, long, long, long, int, int, int, long, long, long, long, long)}, which takes the size.
     *
     * @param device              the device of the buffer
     * @param buffer              the {@code VkBuffer}
     * @param offset              the range's offset in the buffer
     * @param size                the range's size
     * @param usage               the buffer's {@code VkBufferUsageFlags}
     * @param memoryTypeIndex     the memory type the buffer is bound to
     * @param memoryPropertyFlags that type's property flags
     * @param memory              the {@code VkDeviceMemory} bound to the buffer, for flush and invalidate; or
     *                            {@code VK_NULL_HANDLE} when unknown
     * @param memoryOffset        where {@code buffer} starts in {@code memory}
     * @param mappedAddress       the host address of the range's first byte, or 0 when not mapped
     * @param nonCoherentAtomSize the device's {@code nonCoherentAtomSize}
     * @return a borrowed buffer
     */
    public static VulkanBuffer wrap(VkDevice device, long buffer, long offset, long size, int usage,
                                    int memoryTypeIndex, int memoryPropertyFlags, long memory, long memoryOffset,
                                    long mappedAddress, long nonCoherentAtomSize) {
        return wrap(device, buffer, offset, size, usage, memoryTypeIndex, memoryPropertyFlags, memory, memoryOffset,
                VK_WHOLE_SIZE, mappedAddress, nonCoherentAtomSize);
    }

    /**
     * Wraps a range of a buffer that someone else owns, knowing the size of the memory behind it, so that flush and
     * invalidate ranges on non-coherent memory are widened to whole atoms without passing the memory's end
     * ({@link #atomAlignedRange}). Closing the result frees nothing.
     *
     * @param device              the device of the buffer
     * @param buffer              the {@code VkBuffer}
     * @param offset              the range's offset in the buffer
     * @param size                the range's size
     * @param usage               the buffer's {@code VkBufferUsageFlags}
     * @param memoryTypeIndex     the memory type the buffer is bound to
     * @param memoryPropertyFlags that type's property flags
     * @param memory              the {@code VkDeviceMemory} bound to the buffer, for flush and invalidate; or
     *                            {@code VK_NULL_HANDLE} when unknown
     * @param memoryOffset        where {@code buffer} starts in {@code memory}
     * @param memorySize          {@code memory}'s {@code allocationSize}, or {@code VK_WHOLE_SIZE} (-1) when unknown
     * @param mappedAddress       the host address of the range's first byte, or 0 when not mapped
     * @param nonCoherentAtomSize the device's {@code nonCoherentAtomSize}
     * @return a borrowed buffer
     * @throws IllegalArgumentException when the range does not lie inside {@code memorySize}
     */
    public static VulkanBuffer wrap(VkDevice device, long buffer, long offset, long size, int usage,
                                    int memoryTypeIndex, int memoryPropertyFlags, long memory, long memoryOffset,
                                    long memorySize, long mappedAddress, long nonCoherentAtomSize) {
        Objects.requireNonNull(device, "device: null (expected: the VkDevice of the buffer)");
        if (buffer == NULL) {
            throw new IllegalArgumentException("buffer: VK_NULL_HANDLE (expected: a VkBuffer)");
        }
        if (offset < 0 || size <= 0) {
            throw new IllegalArgumentException("range: offset " + offset + ", size " + size
                    + " (expected: offset >= 0, size > 0)");
        }
        if (nonCoherentAtomSize <= 0 || Long.bitCount(nonCoherentAtomSize) != 1) {
            throw new IllegalArgumentException("nonCoherentAtomSize: " + nonCoherentAtomSize
                    + " (expected: a power of two)");
        }
        if (memoryOffset < 0) {
            throw new IllegalArgumentException("memoryOffset: " + memoryOffset + " (expected: >= 0)");
        }
        long memoryEnd = UNKNOWN_END;
        if (memorySize != VK_WHOLE_SIZE) {
            if (memorySize <= 0 || memoryOffset > memorySize || offset > memorySize - memoryOffset
                    || size > memorySize - memoryOffset - offset) {
                throw new IllegalArgumentException("range: offset " + offset + ", size " + size + " of a buffer at "
                        + memoryOffset + " in memory of " + memorySize + " bytes (expected: inside the memory, or "
                        + "memorySize VK_WHOLE_SIZE (-1) when unknown)");
            }
            memoryEnd = memorySize;
        }
        Backing backing = new Backing(null, device, null, memoryTypeIndex, memoryPropertyFlags, nonCoherentAtomSize,
                memory, memoryOffset, memoryEnd);
        return new VulkanBuffer(backing, buffer, offset, size, usage, mappedAddress, false, 0);
    }

    /**
     * Refuses {@code VkBufferUsageFlags} with a bit outside {@link #KNOWN_USAGE_FLAGS}: a typo or a value of another
     * flag type, which the driver would otherwise meet undefined (the validation layer, when it is on, reports it as
     * {@code VUID-VkBufferCreateInfo-None-09499} when the buffer is made). 0 passes: callers that need a usage
     * check that themselves.
     *
     * @param name  the value's name, for the message
     * @param usage the flags
     * @throws IllegalArgumentException naming the value and its unknown bits
     */
    public static void checkKnownUsage(String name, int usage) {
        if ((usage & ~KNOWN_USAGE_FLAGS) != 0) {
            throw new IllegalArgumentException(name + ": 0x" + Integer.toHexString(usage) + " (expected: "
                    + "VkBufferUsageFlagBits within 0x" + Integer.toHexString(KNOWN_USAGE_FLAGS) + ", unknown: 0x"
                    + Integer.toHexString(usage & ~KNOWN_USAGE_FLAGS) + ")");
        }
    }

    /** @return the {@code VkBuffer} */
    public long buffer() {
        checkOpen();
        return buffer;
    }

    /** @return the {@code VmaAllocation}, or {@code VK_NULL_HANDLE} for a wrapped buffer */
    public long allocation() {
        checkOpen();
        return this instanceof Owned o ? o.allocation : NULL;
    }

    /** @return where this range starts in {@link #buffer()} */
    public long offset() {
        checkOpen();
        return offset;
    }

    /** @return the range's size in bytes */
    public long size() {
        return size;
    }

    /** @return the buffer's {@code VkBufferUsageFlags} */
    public int usage() {
        checkOpen();
        return usage;
    }

    /** @return the memory type the buffer is bound to */
    public int memoryTypeIndex() {
        checkOpen();
        return backing.memoryTypeIndex;
    }

    /** @return the {@code VkMemoryPropertyFlags} of that memory type */
    public int memoryPropertyFlags() {
        checkOpen();
        return backing.memoryPropertyFlags;
    }

    /** @return whether the memory can be mapped */
    public boolean isHostVisible() {
        checkOpen();
        return (backing.memoryPropertyFlags & MemoryProperties.HOST_VISIBLE) != 0;
    }

    /** @return whether this object frees its buffer and memory on close */
    public boolean isOwned() {
        return this instanceof Owned;
    }

    /** @return whether this object destroys its {@code VkBuffer} on close (owned, or bound into a pool's block) */
    public boolean ownsBuffer() {
        return ownsBuffer;
    }

    /**
     * Maps the memory (once; it stays mapped until close) and returns the host address of this range's first byte.
     *
     * @return the address
     * @throws IllegalStateException when the memory is not host-visible, or the buffer is closed
     */
    public long mappedAddress() {
        checkOpen();
        if (mappedAtCreation != NULL) {
            return mappedAtCreation;
        }
        Backing b = backing;
        Owned o = this instanceof Owned owner ? owner : null;
        long address = o != null ? o.mappedLater : NULL;
        if (address != NULL) {
            return address;
        }
        if (!isHostVisible()) {
            throw new IllegalStateException("cannot map buffer 0x" + Long.toHexString(buffer) + ": memory type "
                    + b.memoryTypeIndex + " is " + MemoryProperties.describeFlags(b.memoryPropertyFlags)
                    + " (expected: HOST_VISIBLE; ask for a host-visible memory usage such as UPLOAD or DOWNLOAD)");
        }
        synchronized (this) {
            if (o == null || o.mappedLater == NULL) {
                if (o == null) {
                    throw new IllegalStateException("borrowed buffer 0x" + Long.toHexString(buffer)
                            + " was given no mapped address (expected: wrap it with its mapped address)");
                }
                long vma = b.allocator.enter();
                try (MemoryStack stack = stackPush()) {
                    PointerBuffer pData = stack.mallocPointer(1);
                    VkResults.check(vmaMapMemory(vma, o.allocation, pData), "vmaMapMemory");
                    o.mappedLater = pData.get(0);
                } finally {
                    b.allocator.exit();
                }
            }
            return o.mappedLater;
        }
    }

    /**
     * Maps the memory and returns a view of this range, in native byte order; see {@link #mappedAddress()}.
     *
     * @return a buffer of {@link #size()} bytes
     * @throws IllegalStateException when the memory is not host-visible or the range exceeds 2 GiB
     */
    public ByteBuffer map() {
        if (size > Integer.MAX_VALUE) {
            throw new IllegalStateException("size: " + size + " (expected: <= 2^31-1 for a ByteBuffer view; use "
                    + "mappedAddress())");
        }
        return MemoryUtil.memByteBuffer(mappedAddress(), (int) size);
    }

    /**
     * Copies {@code src}'s remaining bytes to {@code dstOffset}, flushing them on non-coherent memory.
     * {@code src}'s position does not move.
     *
     * @param dstOffset where in this range to write
     * @param src       the bytes
     * @throws IllegalArgumentException when the bytes would not fit
     */
    public void write(long dstOffset, ByteBuffer src) {
        Objects.requireNonNull(src, "src: null (expected: a ByteBuffer to write)");
        int length = src.remaining();
        checkRange("write", dstOffset, length);
        long address = mappedAddress() + dstOffset;
        if (src.isDirect()) {
            MemoryUtil.memCopy(MemoryUtil.memAddress(src), address, length);
        } else {
            MemoryUtil.memByteBuffer(address, length).put(src.duplicate());
        }
        flushIfNonCoherent(dstOffset, length);
    }

    /**
     * Copies {@code src} to {@code dstOffset}, flushing on non-coherent memory.
     *
     * @param dstOffset where in this range to write
     * @param src       the bytes
     * @throws IllegalArgumentException when the bytes would not fit
     */
    public void write(long dstOffset, byte[] src) {
        Objects.requireNonNull(src, "src: null (expected: a byte[] to write)");
        checkRange("write", dstOffset, src.length);
        MemoryUtil.memByteBuffer(mappedAddress() + dstOffset, src.length).put(src);
        flushIfNonCoherent(dstOffset, src.length);
    }

    /**
     * Copies {@code src} to {@code dstOffset} in native byte order, flushing on non-coherent memory.
     *
     * @param dstOffset where in this range to write, in bytes
     * @param src       the values
     * @throws IllegalArgumentException when the values would not fit
     */
    public void write(long dstOffset, int[] src) {
        Objects.requireNonNull(src, "src: null (expected: an int[] to write)");
        // In long: 4 * src.length passes 2^31 - 1 for an array of 2^29 values or more (2 GiB).
        long bytes = 4L * src.length;
        checkRange("write", dstOffset, bytes);
        // Counts the copy in elements (an int) and bytes (a long), never a byte count cast to int.
        MemoryUtil.memCopy(src, mappedAddress() + dstOffset);
        flushIfNonCoherent(dstOffset, bytes);
    }

    /**
     * Copies {@code src} to {@code dstOffset} in native byte order, flushing on non-coherent memory.
     *
     * @param dstOffset where in this range to write, in bytes
     * @param src       the values
     * @throws IllegalArgumentException when the values would not fit
     */
    public void write(long dstOffset, float[] src) {
        Objects.requireNonNull(src, "src: null (expected: a float[] to write)");
        long bytes = 4L * src.length;
        checkRange("write", dstOffset, bytes);
        MemoryUtil.memCopy(src, mappedAddress() + dstOffset);
        flushIfNonCoherent(dstOffset, bytes);
    }

    /**
     * Copies bytes from {@code srcOffset} into {@code dst}'s remaining space, invalidating them first on
     * non-coherent memory. {@code dst}'s position does not move.
     *
     * @param srcOffset where in this range to read
     * @param dst       receives the bytes
     * @throws IllegalArgumentException when the range would pass the end, or {@code dst} is read-only
     */
    public void read(long srcOffset, ByteBuffer dst) {
        Objects.requireNonNull(dst, "dst: null (expected: a ByteBuffer to read into)");
        int length = dst.remaining();
        checkRange("read", srcOffset, length);
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: a read-only " + (dst.isDirect() ? "direct" : "heap")
                    + " ByteBuffer of " + length + " bytes remaining (expected: a writable ByteBuffer to read into)");
        }
        invalidateIfNonCoherent(srcOffset, length);
        dst.duplicate().put(MemoryUtil.memByteBuffer(mappedAddress() + srcOffset, length));
    }

    /**
     * Copies bytes from {@code srcOffset} into {@code dst}, invalidating them first on non-coherent memory.
     *
     * @param srcOffset where in this range to read
     * @param dst       receives the bytes
     * @throws IllegalArgumentException when the range would pass the end
     */
    public void read(long srcOffset, byte[] dst) {
        Objects.requireNonNull(dst, "dst: null (expected: a byte[] to read into)");
        checkRange("read", srcOffset, dst.length);
        invalidateIfNonCoherent(srcOffset, dst.length);
        MemoryUtil.memByteBuffer(mappedAddress() + srcOffset, dst.length).get(dst);
    }

    /**
     * Copies values from {@code srcOffset} into {@code dst} in native byte order.
     *
     * @param srcOffset where in this range to read, in bytes
     * @param dst       receives the values
     * @throws IllegalArgumentException when the range would pass the end
     */
    public void read(long srcOffset, int[] dst) {
        Objects.requireNonNull(dst, "dst: null (expected: an int[] to read into)");
        long bytes = 4L * dst.length;
        checkRange("read", srcOffset, bytes);
        invalidateIfNonCoherent(srcOffset, bytes);
        MemoryUtil.memCopy(mappedAddress() + srcOffset, dst);
    }

    /**
     * Copies values from {@code srcOffset} into {@code dst} in native byte order.
     *
     * @param srcOffset where in this range to read, in bytes
     * @param dst       receives the values
     * @throws IllegalArgumentException when the range would pass the end
     */
    public void read(long srcOffset, float[] dst) {
        Objects.requireNonNull(dst, "dst: null (expected: a float[] to read into)");
        long bytes = 4L * dst.length;
        checkRange("read", srcOffset, bytes);
        invalidateIfNonCoherent(srcOffset, bytes);
        MemoryUtil.memCopy(mappedAddress() + srcOffset, dst);
    }

    /**
     * Makes host writes to {@code [rangeOffset, rangeOffset + length)} of this range visible to the device; needed
     * only on memory that is not {@code HOST_COHERENT}, where it is a no-op otherwise.
     *
     * @param rangeOffset offset in this range
     * @param length      bytes
     * @throws IllegalArgumentException when the range passes the end
     * @throws VulkanException          when {@code vmaFlushAllocations} or {@code vkFlushMappedMemoryRanges} fails,
     *                                  naming the result
     */
    public void flush(long rangeOffset, long length) {
        checkRange("flush", rangeOffset, length);
        if (!isCoherent()) {
            syncRange(rangeOffset, length, true);
        }
    }

    /**
     * Makes device writes to {@code [rangeOffset, rangeOffset + length)} visible to the host; needed only on memory
     * that is not {@code HOST_COHERENT}, where it is a no-op otherwise.
     *
     * @param rangeOffset offset in this range
     * @param length      bytes
     * @throws IllegalArgumentException when the range passes the end
     * @throws VulkanException          when {@code vmaInvalidateAllocations} or
     *                                  {@code vkInvalidateMappedMemoryRanges} fails, naming the result
     */
    public void invalidate(long rangeOffset, long length) {
        checkRange("invalidate", rangeOffset, length);
        if (!isCoherent()) {
            syncRange(rangeOffset, length, false);
        }
    }

    /**
     * Widens a range to whole atoms of {@code nonCoherentAtomSize}, as {@code vkFlushMappedMemoryRanges} requires
     * (VUID-VkMappedMemoryRange-offset-00687, VUID-VkMappedMemoryRange-size-01390), without passing the end of the
     * memory: {@code [offset, offset + length)} becomes {@code [alignDown(offset), min(alignUp(end), limit))}.
     *
     * @param offset start in the memory
     * @param length bytes
     * @param atom   {@code nonCoherentAtomSize}, a power of two
     * @param limit  the end of the memory (or of the allocation), at most 2^62
     * @return {@code {start, size}} of the widened range
     * @throws IllegalArgumentException when {@code atom} is not a power of two, or the range is not inside
     *                                  {@code [0, limit)}
     */
    public static long[] atomAlignedRange(long offset, long length, long atom, long limit) {
        if (atom <= 0 || (atom & (atom - 1)) != 0) {
            throw new IllegalArgumentException("atom: " + atom + " (expected: a power of two, nonCoherentAtomSize)");
        }
        if (offset < 0 || length < 0 || limit < 0 || limit > 1L << 62 || offset > limit - length) {
            throw new IllegalArgumentException("range: offset " + offset + ", length " + length + ", limit " + limit
                    + " (expected: offset >= 0, length >= 0, offset + length <= limit <= 2^62)");
        }
        long start = offset & -atom;
        long end = offset + length;
        // end <= limit <= 2^62, checked above, so adding atom - 1 cannot overflow.
        long alignedEnd = Math.min((end + atom - 1) & -atom, limit);
        return new long[] {start, alignedEnd - start};
    }

    private void syncRange(long rangeOffset, long length, boolean flush) {
        if (length == 0) {
            // Nothing to make visible; a zero-sized range is invalid (VUID-VkMappedMemoryRange-size-00686).
            return;
        }
        Backing b = backing;
        if (b.block != null) {
            long[] range = atomAlignedRange(blockOffset + rangeOffset, length, b.nonCoherentAtomSize,
                    b.block.size());
            syncThroughVma(b.block.allocation(), range, flush);
            return;
        }
        if (this instanceof Owned o) {
            long[] range = atomAlignedRange(offset + rangeOffset, length, b.nonCoherentAtomSize, size + offset);
            syncThroughVma(o.allocation, range, flush);
            return;
        }
        if (b.memory == NULL) {
            throw new IllegalStateException("wrapped buffer 0x" + Long.toHexString(buffer) + " on non-coherent "
                    + "memory was given no VkDeviceMemory (expected: wrap it with its memory to flush or invalidate)");
        }
        long[] range = atomAlignedRange(b.memoryOffset + offset + rangeOffset, length, b.nonCoherentAtomSize,
                b.memoryEnd);
        try (MemoryStack stack = stackPush()) {
            VkMappedMemoryRange.Buffer ranges = VkMappedMemoryRange.calloc(1, stack)
                    .sType(VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE)
                    .memory(b.memory)
                    .offset(range[0])
                    .size(range[1]);
            if (flush) {
                VkResults.check(vkFlushMappedMemoryRanges(b.device, ranges), "vkFlushMappedMemoryRanges");
            } else {
                VkResults.check(vkInvalidateMappedMemoryRanges(b.device, ranges),
                        "vkInvalidateMappedMemoryRanges");
            }
        }
    }

    private void syncThroughVma(long vmaAllocation, long[] range, boolean flush) {
        // The plural calls, for one allocation: LWJGL binds vmaFlushAllocation and vmaInvalidateAllocation as void
        // and drops the VkResult that VMA returns, while the plural ones return it (same ranges, same atom widening).
        try (MemoryStack stack = stackPush()) {
            PointerBuffer allocations = stack.pointers(vmaAllocation);
            LongBuffer offsets = stack.longs(range[0]);
            LongBuffer sizes = stack.longs(range[1]);
            VulkanMemoryAllocator allocator = backing.allocator;
            long vma = allocator.enter();
            try {
                if (flush) {
                    VkResults.check(vmaFlushAllocations(vma, allocations, offsets, sizes), "vmaFlushAllocations");
                } else {
                    VkResults.check(vmaInvalidateAllocations(vma, allocations, offsets, sizes),
                            "vmaInvalidateAllocations");
                }
            } finally {
                allocator.exit();
            }
        }
    }

    private boolean isCoherent() {
        return (backing.memoryPropertyFlags & MemoryProperties.HOST_COHERENT) != 0;
    }

    private void flushIfNonCoherent(long rangeOffset, long length) {
        if (!isCoherent()) {
            syncRange(rangeOffset, length, true);
        }
    }

    private void invalidateIfNonCoherent(long rangeOffset, long length) {
        if (!isCoherent()) {
            syncRange(rangeOffset, length, false);
        }
    }

    /**
     * @return the buffer's device address plus this range's offset
     * @throws IllegalStateException when the buffer lacks {@code VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT} or the
     *                               allocator was made without buffer device address
     */
    public long deviceAddress() {
        checkOpen();
        if ((usage & VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT) == 0) {
            throw new IllegalStateException("buffer usage: 0x" + Integer.toHexString(usage)
                    + " (expected: VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT for a device address)");
        }
        if (backing.allocator != null && !backing.allocator.bufferDeviceAddressEnabled()) {
            throw new IllegalStateException("the allocator was made without VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_"
                    + "ADDRESS_BIT (expected: a device with bufferDeviceAddress, VulkanContext enables it)");
        }
        try (MemoryStack stack = stackPush()) {
            return vkGetBufferDeviceAddress(backing.device, VkBufferDeviceAddressInfo.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO)
                    .buffer(buffer)) + offset;
        }
    }

    private void checkRange(String what, long rangeOffset, long length) {
        checkOpen();
        if (rangeOffset < 0 || length < 0 || rangeOffset > size - length) {
            throw new IllegalArgumentException(what + " of " + length + " bytes at offset " + rangeOffset
                    + " (expected: offset >= 0 and offset + length <= size " + size + ")");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("buffer 0x" + Long.toHexString(buffer) + " of " + size
                    + " bytes is closed (expected: an open buffer)");
        }
    }

    /** @return whether {@link #close()} has run */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Frees the buffer and its memory when this object owns them; frees nothing for a wrapped buffer. Only the first
     * call, from any thread, does anything.
     */
    @Override
    public void close() {
        if (!ownsBuffer) {
            // A borrowed range frees nothing, so closing it twice at once is harmless: a plain store, which does not
            // wait for the object's cache line when another core made it (a buffer freed by another thread).
            CLOSED.setRelease(this, true);
            return;
        }
        if (!CLOSED.compareAndSet(this, false, true)) {
            return;
        }
        if (this instanceof Owned o) {
            // Cannot throw for a closed allocator: this allocation is live, so the allocator refused to close (and
            // a close() deciding now makes this wait for the refusal).
            long vma = backing.allocator.enter();
            try {
                if (o.mappedLater != NULL) {
                    vmaUnmapMemory(vma, o.allocation);
                }
                vmaDestroyBuffer(vma, buffer, o.allocation);
            } finally {
                backing.allocator.exit();
                // Destroyed even when vmaDestroyBuffer throws: a DeviceMemoryListener's Error from freed() comes out
                // of it once VMA destroyed the buffer and freed the memory.
                VulkanObjects.bufferDestroyed();
            }
        } else {
            VulkanMemory.destroy(backing.device, buffer);
        }
    }

    /**
     * A hash of the {@code VkBuffer} handle and the offset, consistent with the identity equality inherited from
     * {@code Object} (two views of one range are two buffers): the same object always gives the same hash. Not the
     * identity hash, whose first use writes the object's header (about 20 ns): a manager files every buffer it makes
     * in a hash map by this.
     *
     * @return the hash
     */
    @Override
    public int hashCode() {
        // Fibonacci hashing mixes handles that are aligned pointers, so their low bits vary too.
        long h = (buffer ^ offset * 0x9E3779B97F4A7C15L) * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    @Override
    public String toString() {
        return "VulkanBuffer[0x" + Long.toHexString(buffer) + ", offset " + offset + ", size " + size
                + ", memory type " + backing.memoryTypeIndex + " "
                + MemoryProperties.describeFlags(backing.memoryPropertyFlags)
                + (this instanceof Owned ? "" : ", borrowed") + (closed ? ", closed" : "") + "]";
    }
}
