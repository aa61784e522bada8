package io.github.solvk.memory.vulkan;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.system.MemoryUtil.NULL;
import static org.lwjgl.util.vma.Vma.VMA_ALLOCATION_CREATE_DEDICATED_MEMORY_BIT;
import static org.lwjgl.util.vma.Vma.VMA_ALLOCATION_CREATE_MAPPED_BIT;
import static org.lwjgl.util.vma.Vma.VMA_ALLOCATION_CREATE_WITHIN_BUDGET_BIT;
import static org.lwjgl.util.vma.Vma.vmaAllocateMemory;
import static org.lwjgl.util.vma.Vma.vmaAllocateMemoryForBuffer;
import static org.lwjgl.util.vma.Vma.vmaBindBufferMemory2;
import static org.lwjgl.util.vma.Vma.vmaFreeMemory;
import static org.lwjgl.util.vma.Vma.vmaSetAllocationName;
import static org.lwjgl.vulkan.VK10.VK_ERROR_OUT_OF_DEVICE_MEMORY;
import static org.lwjgl.vulkan.VK10.VK_SHARING_MODE_EXCLUSIVE;
import static org.lwjgl.vulkan.VK10.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
import static org.lwjgl.vulkan.VK10.vkCreateBuffer;
import static org.lwjgl.vulkan.VK10.vkBindBufferMemory;
import static org.lwjgl.vulkan.VK10.vkDestroyBuffer;
import static org.lwjgl.vulkan.VK10.vkGetBufferMemoryRequirements;
import static org.lwjgl.vulkan.VK11.VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2;
import static org.lwjgl.vulkan.VK11.VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS;
import static org.lwjgl.vulkan.VK11.VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2;
import static org.lwjgl.vulkan.VK11.vkGetBufferMemoryRequirements2;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.util.vma.Vma;
import org.lwjgl.util.vma.VmaAllocationCreateInfo;
import org.lwjgl.util.vma.VmaAllocationInfo;
import org.lwjgl.vulkan.VkBufferCreateInfo;
import org.lwjgl.vulkan.VkBufferMemoryRequirementsInfo2;
import org.lwjgl.vulkan.VkDevice;
import org.lwjgl.vulkan.VkMemoryDedicatedRequirements;
import org.lwjgl.vulkan.VkMemoryRequirements;
import org.lwjgl.vulkan.VkMemoryRequirements2;

/**
 * One block of device memory from VMA ({@code vmaAllocateMemory}, by default as its own {@code VkDeviceMemory}):
 * what a memory pool suballocates. VMA keeps counting it in its budget and statistics.
 *
 * <p>It owns the allocation and frees it in {@link #close()}; host-visible blocks are persistently mapped. Buffers are
 * placed in it with {@link #createBuffer} (a {@code VkBuffer} bound at a local offset with
 * {@code vkBindBufferMemory}) or as sub-ranges of one block-wide buffer ({@link VulkanBuffer#subRange}).
 */
public final class VulkanMemory implements AutoCloseable {

    private final VulkanMemoryAllocator allocator;
    private final long allocation;
    private final long deviceMemory;
    private final long memoryOffset;
    private final long size;
    private final int memoryTypeIndex;
    private final int propertyFlags;
    private final long mapped;
    /** What every view bound into this block shares; made once, so that a view made on a hot path copies nothing. */
    private final VulkanBuffer.Backing viewBacking;
    /** Whether the allocation is a {@code VkDeviceMemory} of its own, which nothing but this object binds or maps. */
    private final boolean ownsDeviceMemory;
    private final AtomicBoolean closed = new AtomicBoolean();

    private VulkanMemory(VulkanMemoryAllocator allocator, long allocation, VmaAllocationInfo info, int propertyFlags,
                         boolean ownsDeviceMemory) {
        this.ownsDeviceMemory = ownsDeviceMemory;
        this.allocator = allocator;
        this.allocation = allocation;
        this.deviceMemory = info.deviceMemory();
        this.memoryOffset = info.offset();
        this.size = info.size();
        this.memoryTypeIndex = info.memoryType();
        this.propertyFlags = propertyFlags;
        this.mapped = info.pMappedData();
        this.viewBacking = VulkanBuffer.Backing.of(this);
    }

    /** @return what every view bound into this block shares ({@link VulkanBuffer}) */
    VulkanBuffer.Backing viewBacking() {
        return viewBacking;
    }

    /**
     * What the driver needs for a buffer of a given size and usage.
     *
     * @param size               the size in bytes the memory must have
     * @param alignment          the alignment of its offset
     * @param memoryTypeBits     the memory types it may live in
     * @param prefersDedicated   {@code VkMemoryDedicatedRequirements::prefersDedicatedAllocation}
     * @param requiresDedicated  {@code VkMemoryDedicatedRequirements::requiresDedicatedAllocation}
     */
    public record Requirements(long size, long alignment, int memoryTypeBits, boolean prefersDedicated,
                               boolean requiresDedicated) {
    }

    /**
     * Allocates a block.
     *
     * @param allocator       the VMA allocator
     * @param size            bytes
     * @param alignment       alignment of the block's start: a power of two, or 0 for none
     * @param memoryTypeIndex the memory type
     * @param dedicated       whether it must be its own {@code VkDeviceMemory} (pools' blocks are)
     * @param name            recorded by VMA, or {@code null}
     * @return the block
     * @throws VulkanException when VMA fails, for example {@code VK_ERROR_OUT_OF_DEVICE_MEMORY}
     * @throws IllegalArgumentException for a size that is not positive or an alignment that is not 0 or a power of two
     */
    public static VulkanMemory allocate(VulkanMemoryAllocator allocator, long size, long alignment,
                                        int memoryTypeIndex, boolean dedicated, String name) {
        return allocate(allocator, size, alignment, memoryTypeIndex, dedicated, false, name);
    }

    /**
     * {@link #allocate(VulkanMemoryAllocator, long, long, int, boolean, String)}, optionally only within the heap's
     * budget.
     *
     * @param withinBudget whether VMA refuses the block, with {@code VK_ERROR_OUT_OF_DEVICE_MEMORY}, when the heap's
     *                     usage plus its size would pass the heap's budget ({@link VulkanMemoryAllocator#budgets()};
     *                     {@code VMA_ALLOCATION_CREATE_WITHIN_BUDGET_BIT})
     */
    public static VulkanMemory allocate(VulkanMemoryAllocator allocator, long size, long alignment,
                                        int memoryTypeIndex, boolean dedicated, boolean withinBudget, String name) {
        Objects.requireNonNull(allocator, "allocator: null (expected: an open VulkanMemoryAllocator)");
        if (size <= 0) {
            throw new IllegalArgumentException("size: " + size + " (expected: > 0)");
        }
        if (alignment < 0 || (alignment & (alignment - 1)) != 0) {
            // VMA aligns offsets with bit masks: any other value would place the block at a misaligned offset.
            throw new IllegalArgumentException("alignment: " + alignment + " (expected: 0 or a power of two)");
        }
        try (MemoryStack stack = stackPush()) {
            VkMemoryRequirements requirements = VkMemoryRequirements.calloc(stack)
                    .size(size).alignment(Math.max(1, alignment)).memoryTypeBits(1 << memoryTypeIndex);
            return allocateThroughVma(allocator, stack, memoryTypeIndex, dedicated, withinBudget, name,
                    "vmaAllocateMemory", (vma, create, pAllocation, info) -> vmaAllocateMemory(vma, requirements,
                            create, pAllocation, info));
        }
    }

    /** One of VMA's calls that make memory, given the create info and the out-parameters. */
    @FunctionalInterface
    private interface VmaAllocation {
        int make(long vma, VmaAllocationCreateInfo create, PointerBuffer pAllocation, VmaAllocationInfo info);
    }

    /**
     * Makes memory of one memory type through one of VMA's calls (mapped when host-visible, dedicated and within the
     * budget as asked) and names it. When the call or the naming fails, what the call made and handed out goes back
     * first ({@link #freeMade}), so that nothing is left allocated.
     *
     * @param callName the VMA call's name, for the exception
     */
    private static VulkanMemory allocateThroughVma(VulkanMemoryAllocator allocator, MemoryStack stack,
                                                   int memoryTypeIndex, boolean dedicated, boolean withinBudget,
                                                   String name, String callName, VmaAllocation call) {
        int propertyFlags = allocator.memoryProperties().propertyFlags(memoryTypeIndex);
        int flags = (dedicated ? VMA_ALLOCATION_CREATE_DEDICATED_MEMORY_BIT : 0)
                | (withinBudget ? VMA_ALLOCATION_CREATE_WITHIN_BUDGET_BIT : 0)
                | ((propertyFlags & MemoryProperties.HOST_VISIBLE) != 0 ? VMA_ALLOCATION_CREATE_MAPPED_BIT : 0);
        VmaAllocationCreateInfo create = VmaAllocationCreateInfo.calloc(stack)
                .flags(flags).memoryTypeBits(1 << memoryTypeIndex);
        // Zeroed: an allocation found in it after a failure is one that VMA made and handed out.
        PointerBuffer pAllocation = stack.callocPointer(1);
        VmaAllocationInfo info = VmaAllocationInfo.malloc(stack);
        // A closed allocator throws here, before any memory is made.
        long vma = allocator.enter();
        try {
            VkResults.check(call.make(vma, create, pAllocation, info), callName);
            if (name != null) {
                vmaSetAllocationName(vma, pAllocation.get(0), name);
            }
        } catch (RuntimeException | Error e) {
            freeMade(vma, pAllocation.get(0), e);
            throw e;
        } finally {
            allocator.exit();
        }
        return new VulkanMemory(allocator, pAllocation.get(0), info, propertyFlags, dedicated);
    }

    /**
     * A buffer with memory of its own, allocated for that buffer.
     *
     * @param memory the memory, which frees the {@code VkDeviceMemory} on close
     * @param buffer the buffer, bound at offset 0, which destroys the {@code VkBuffer} on close
     */
    public record DedicatedBuffer(VulkanMemory memory, VulkanBuffer buffer) {
    }

    /**
     * Creates a buffer and gives it dedicated memory made for it ({@code vmaAllocateMemoryForBuffer} with the
     * dedicated flag, so that the driver gets {@code VkMemoryDedicatedAllocateInfo} naming the buffer, as drivers
     * that prefer or require dedicated memory expect), then binds it. On failure nothing is left.
     *
     * @param allocator       the VMA allocator
     * @param size            the buffer's size
     * @param usage           {@code VkBufferUsageFlags}
     * @param memoryTypeIndex the memory type
     * @param name            recorded by VMA, or {@code null}
     * @return the memory and the buffer; close the buffer first, then the memory
     * @throws VulkanException when VMA fails. When the bind fails, the memory is freed and the buffer destroyed before
     *                         the bind's failure is thrown; a {@code DeviceMemoryListener}'s {@link Error} from
     *                         freeing the memory (which VMA lets through once the memory is freed) is suppressed on
     *                         it: the first failure wins
     * @throws Error           a {@code DeviceMemoryListener}'s, from freeing the memory after the bind failed with
     *                         {@code VK_ERROR_OUT_OF_DEVICE_MEMORY}, the bind's failure suppressed on it: callers
     *                         recover from running out of device memory, and the {@code Error} would be lost with it
     */
    public static DedicatedBuffer allocateDedicatedBuffer(VulkanMemoryAllocator allocator, long size, int usage,
                                                          int memoryTypeIndex, String name) {
        return allocateDedicatedBuffer(allocator, size, usage, memoryTypeIndex, false, name);
    }

    /**
     * {@link #allocateDedicatedBuffer(VulkanMemoryAllocator, long, int, int, String)}, optionally only within the
     * heap's budget.
     *
     * @param withinBudget whether VMA refuses the memory, with {@code VK_ERROR_OUT_OF_DEVICE_MEMORY}, when the heap's
     *                     usage plus its size would pass the heap's budget
     *                     ({@code VMA_ALLOCATION_CREATE_WITHIN_BUDGET_BIT})
     */
    public static DedicatedBuffer allocateDedicatedBuffer(VulkanMemoryAllocator allocator, long size, int usage,
                                                          int memoryTypeIndex, boolean withinBudget, String name) {
        return allocateDedicatedBuffer(allocator, size, usage, memoryTypeIndex, withinBudget, name,
                Vma::vmaBindBufferMemory);
    }

    /** How {@link #allocateDedicatedBuffer} binds the buffer: {@code vmaBindBufferMemory}, or a test's stand-in. */
    @FunctionalInterface
    interface BufferBinding {
        /** @return the {@code VkResult} */
        int bind(long vma, long allocation, long buffer);
    }

    /**
     * {@link #allocateDedicatedBuffer(VulkanMemoryAllocator, long, int, int, boolean, String)} with the bind given:
     * for tests of a bind that fails, which no driver can be made to do.
     */
    static DedicatedBuffer allocateDedicatedBuffer(VulkanMemoryAllocator allocator, long size, int usage,
                                                   int memoryTypeIndex, boolean withinBudget, String name,
                                                   BufferBinding binding) {
        Objects.requireNonNull(allocator, "allocator: null (expected: an open VulkanMemoryAllocator)");
        checkBuffer(size, usage);
        long buffer = createUnboundBuffer(allocator, size, usage);
        VulkanMemory memory;
        try (MemoryStack stack = stackPush()) {
            memory = allocateThroughVma(allocator, stack, memoryTypeIndex, true, withinBudget, name,
                    "vmaAllocateMemoryForBuffer", (vma, create, pAllocation, info) ->
                            vmaAllocateMemoryForBuffer(vma, buffer, create, pAllocation, info));
        } catch (RuntimeException | Error e) {
            // The memory is freed already (or was never made): nothing is bound to the buffer.
            destroy(allocator.device(), buffer);
            throw e;
        }
        try {
            // The allocator cannot close in between: the memory just made is live, so close() refuses.
            long vma = allocator.enter();
            try {
                VkResults.check(binding.bind(vma, memory.allocation, buffer), "vmaBindBufferMemory");
            } finally {
                allocator.exit();
            }
        } catch (RuntimeException e) {
            destroy(allocator.device(), buffer);
            try {
                memory.close();
            } catch (RuntimeException | Error later) {
                throwAfterFailedBind(e, later);
            }
            throw e;
        }
        return new DedicatedBuffer(memory, VulkanBuffer.boundTo(memory, buffer, 0, size, usage, true));
    }

    /**
     * Throws what {@link #allocateDedicatedBuffer} throws when freeing the memory failed ({@code later}: a
     * {@code DeviceMemoryListener}'s {@link Error}, which VMA lets through once the memory is freed) after the bind
     * failed ({@code bind}). The first failure wins: the bind's, with {@code later} suppressed on it. Unless the bind
     * failed with {@code VK_ERROR_OUT_OF_DEVICE_MEMORY} and {@code later} is an {@link Error}: callers recover from
     * running out of device memory (a block pool tries other memory, gives back what no buffer uses and tries again),
     * and the {@code Error} would be lost with it, so it is thrown, the bind's failure suppressed on it, as the block
     * pools end a request whose giving back after running out of memory got such an {@code Error}.
     */
    private static void throwAfterFailedBind(RuntimeException bind, Throwable later) {
        if (later instanceof Error e && bind instanceof VulkanException v
                && v.result() == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
            e.addSuppressed(bind);
            throw e;
        }
        bind.addSuppressed(later);
        throw bind;
    }

    /**
     * Frees an allocation that a VMA call made and handed out before it failed: a {@code DeviceMemoryListener}'s
     * {@link Error} from {@code allocated} comes out of the call once VMA made the memory, so without this nothing
     * would ever free it (and {@link VulkanMemoryAllocator#close()} would refuse while it is live). Its own failure (a
     * listener's {@code Error} from {@code freed}, which comes once the memory is freed) rides on {@code failure},
     * suppressed. The listeners hear of the free, those after the one that threw of memory they never heard made.
     *
     * @param vma        the {@code VmaAllocator}, inside the guarded call that made the allocation
     * @param allocation what the call wrote to its zeroed out-pointer: {@code NULL} when it made nothing
     * @param failure    what the call threw, which the caller throws next
     */
    static void freeMade(long vma, long allocation, Throwable failure) {
        if (allocation == NULL) {
            return;
        }
        try {
            vmaFreeMemory(vma, allocation);
        } catch (RuntimeException | Error e) {
            failure.addSuppressed(e);
        }
    }

    /**
     * Creates a buffer only to read its memory requirements, and destroys it.
     *
     * @param allocator the allocator whose device to ask
     * @param size      bytes
     * @param usage     {@code VkBufferUsageFlags}
     * @return the requirements
     */
    public static Requirements bufferRequirements(VulkanMemoryAllocator allocator, long size, int usage) {
        Objects.requireNonNull(allocator, "allocator: null (expected: an open VulkanMemoryAllocator)");
        checkBuffer(size, usage);
        long buffer = createUnboundBuffer(allocator, size, usage);
        try {
            return requirementsOf(allocator, buffer);
        } finally {
            destroy(allocator.device(), buffer);
        }
    }

    /** Rejects what {@code vkCreateBuffer} must not be given (VUID-VkBufferCreateInfo-size-00912, -None-09500). */
    private static void checkBuffer(long size, int usage) {
        if (size <= 0) {
            throw new IllegalArgumentException("size: " + size
                    + " (expected: > 0, VUID-VkBufferCreateInfo-size-00912)");
        }
        if (usage == 0) {
            throw new IllegalArgumentException("usage: 0 (expected: at least one VkBufferUsageFlagBits, "
                    + "VUID-VkBufferCreateInfo-None-09500)");
        }
    }

    static long createUnboundBuffer(VulkanMemoryAllocator allocator, long size, int usage) {
        try (MemoryStack stack = stackPush()) {
            return createUnboundBuffer(stack, allocator.device(), size, usage);
        }
    }

    private static long createUnboundBuffer(MemoryStack stack, VkDevice device, long size, int usage) {
        var pBuffer = stack.mallocLong(1);
        VkResults.check(vkCreateBuffer(device, VkBufferCreateInfo.malloc(stack)
                .sType$Default()
                .pNext(NULL)
                .flags(0)
                .size(size)
                .usage(usage)
                .sharingMode(VK_SHARING_MODE_EXCLUSIVE)
                .queueFamilyIndexCount(0)
                .pQueueFamilyIndices(null), null, pBuffer), "vkCreateBuffer");
        VulkanObjects.bufferMade();
        return pBuffer.get(0);
    }

    /** {@code vkDestroyBuffer}, counted ({@link VulkanObjects}). */
    static void destroy(VkDevice device, long buffer) {
        vkDestroyBuffer(device, buffer, null);
        VulkanObjects.bufferDestroyed();
    }

    static Requirements requirementsOf(VulkanMemoryAllocator allocator, long buffer) {
        try (MemoryStack stack = stackPush()) {
            VkMemoryDedicatedRequirements dedicated = VkMemoryDedicatedRequirements.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS);
            VkMemoryRequirements2 requirements = VkMemoryRequirements2.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2)
                    .pNext(dedicated.address());
            vkGetBufferMemoryRequirements2(allocator.device(), VkBufferMemoryRequirementsInfo2.calloc(stack)
                    .sType(VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2)
                    .buffer(buffer), requirements);
            VkMemoryRequirements r = requirements.memoryRequirements();
            return new Requirements(r.size(), r.alignment(), r.memoryTypeBits(),
                    dedicated.prefersDedicatedAllocation(), dedicated.requiresDedicatedAllocation());
        }
    }

    /**
     * Creates a {@code VkBuffer} and binds it at {@code localOffset} in this block. The caller has placed
     * {@code [localOffset, localOffset + size)} (with the buffer's alignment) where nothing else lives.
     *
     * @param localOffset where the buffer's memory starts in this block
     * @param size        bytes
     * @param usage       {@code VkBufferUsageFlags}
     * @return a buffer that owns its {@code VkBuffer} and borrows this block's memory
     * @throws IllegalArgumentException when the range is outside the block or misaligned for the buffer, or the
     *                                  driver's size for the buffer passes the block's end
     */
    public VulkanBuffer createBuffer(long localOffset, long size, int usage) {
        return createBuffer(localOffset, size, usage, this.size - Math.max(0, localOffset), false);
    }

    /**
     * Creates a {@code VkBuffer} and binds it at {@code localOffset} in this block, in the {@code reservedBytes} that
     * the caller placed there for it.
     *
     * <p>With {@code verified} false, the driver's requirements for the new buffer are read and checked first: its
     * size must fit in {@code reservedBytes}, its alignment divide the offset, its memory types include this block's.
     * With {@code verified} true that query is skipped: pass true only when a buffer of the same size and usage was
     * checked before against the same reservation and alignment. The Vulkan specification makes the requirements of
     * buffers created with the same parameters identical (which is what {@code vkGetDeviceBufferMemoryRequirements}
     * relies on), so the earlier check holds for this buffer too.
     *
     * @param localOffset   where the buffer's memory starts in this block
     * @param size          bytes
     * @param usage         {@code VkBufferUsageFlags}
     * @param reservedBytes the bytes placed for it at {@code localOffset}, {@code >= size}
     * @param verified      whether the requirements were checked before for this size and usage
     * @return a buffer that owns its {@code VkBuffer} and borrows this block's memory
     * @throws IllegalArgumentException when the reservation is outside the block, or (checked) the driver's
     *                                  requirements do not fit it; nothing is left made
     */
    public VulkanBuffer createBuffer(long localOffset, long size, int usage, long reservedBytes, boolean verified) {
        long buffer = createBoundBuffer(localOffset, size, usage, reservedBytes, verified);
        return VulkanBuffer.boundTo(this, buffer, localOffset, size, usage, true);
    }

    /**
     * {@link #createBuffer(long, long, int, long, boolean)} for a pool that keeps the {@code VkBuffer} itself, to
     * hand it out again: the caller owns the buffer, makes views of it with {@link #borrowBuffer} and destroys it
     * with {@link #destroyBuffer} before this memory is freed.
     *
     * @return the {@code VkBuffer}, bound at {@code localOffset}
     * @throws IllegalArgumentException as {@link #createBuffer(long, long, int, long, boolean)} does; nothing is left
     *                                  made
     */
    public long createBoundBuffer(long localOffset, long size, int usage, long reservedBytes, boolean verified) {
        checkOpen();
        if (localOffset < 0 || size <= 0 || reservedBytes < size || localOffset > this.size - reservedBytes) {
            throw new IllegalArgumentException("range: offset " + localOffset + ", size " + size + ", reserved "
                    + reservedBytes + " (expected: inside the block of " + this.size + " bytes, size <= reserved)");
        }
        if (usage == 0) {
            throw new IllegalArgumentException("usage: 0 (expected: at least one VkBufferUsageFlagBits, "
                    + "VUID-VkBufferCreateInfo-None-09500)");
        }
        VkDevice device = allocator.device();
        try (MemoryStack stack = stackPush()) {
            long buffer = createUnboundBuffer(stack, device, size, usage);
            try {
                bind(stack, device, buffer, localOffset, size, reservedBytes, verified);
            } catch (RuntimeException e) {
                destroy(device, buffer);
                throw e;
            }
            return buffer;
        }
    }

    /**
     * A view of a {@code VkBuffer} made by {@link #createBoundBuffer}, which closing does not destroy: the caller
     * that made the buffer still owns it. No Vulkan call.
     *
     * @param buffer      the {@code VkBuffer}, bound at {@code localOffset} in this memory
     * @param localOffset where it is bound
     * @param size        the size it was made with
     * @param usage       the usage it was made with
     * @return a view that borrows the buffer and this memory
     * @throws IllegalArgumentException when the range is not inside this block
     * @throws IllegalStateException    when this block is closed
     */
    public VulkanBuffer borrowBuffer(long buffer, long localOffset, long size, int usage) {
        checkOpen();
        // The view's reads and writes go through this block's mapping: a range past its end would reach past it.
        if (localOffset < 0 || size <= 0 || localOffset > this.size - size) {
            throw new IllegalArgumentException("range: offset " + localOffset + ", size " + size
                    + " (expected: inside the block of " + this.size + " bytes)");
        }
        return VulkanBuffer.boundTo(this, buffer, localOffset, size, usage, false);
    }

    /**
     * Destroys a {@code VkBuffer} made by {@link #createBoundBuffer}; its views must be closed already.
     *
     * @param buffer the {@code VkBuffer}
     */
    public void destroyBuffer(long buffer) {
        destroy(allocator.device(), buffer);
    }

    /** Checks (unless verified) and binds a new buffer at {@code localOffset}; the caller destroys it on failure. */
    private void bind(MemoryStack stack, VkDevice device, long buffer, long localOffset, long size,
                      long reservedBytes, boolean verified) {
        // The plain query: the dedicated-memory answer is not needed for memory that exists already.
        if (!verified) {
            VkMemoryRequirements r = VkMemoryRequirements.malloc(stack);
            vkGetBufferMemoryRequirements(device, buffer, r);
            if (localOffset % r.alignment() != 0 || (r.memoryTypeBits() & (1 << memoryTypeIndex)) == 0
                    || r.size() > reservedBytes) {
                throw new IllegalArgumentException("buffer of " + size + " bytes at offset " + localOffset
                        + " in " + reservedBytes + " reserved bytes of memory type " + memoryTypeIndex
                        + " (expected: alignment " + r.alignment() + ", memoryTypeBits 0x"
                        + Integer.toHexString(r.memoryTypeBits()) + ", " + r.size()
                        + " bytes of room; VUID-vkBindBufferMemory-memoryOffset-01036)");
            }
        }
        if (ownsDeviceMemory) {
            // Memory of its own (pools' blocks): bound directly, one call fewer than through VMA, which takes
            // no lock for such memory either; it was mapped when it was made, so no vkMapMemory races.
            VkResults.check(vkBindBufferMemory(device, buffer, deviceMemory, memoryOffset + localOffset),
                    "vkBindBufferMemory");
        } else {
            // Part of a VMA block that VMA may map at the same time: VMA synchronizes the two.
            long vma = allocator.enter();
            try {
                VkResults.check(vmaBindBufferMemory2(vma, allocation, localOffset, buffer, NULL),
                        "vmaBindBufferMemory2");
            } finally {
                allocator.exit();
            }
        }
    }

    /**
     * Creates one buffer over the whole block, for handing out sub-ranges ({@link VulkanBuffer#subRange}).
     *
     * @param usage {@code VkBufferUsageFlags}
     * @return a buffer that owns its {@code VkBuffer} and borrows this block's memory
     */
    public VulkanBuffer createBlockBuffer(int usage) {
        return createBuffer(0, size, usage);
    }

    VulkanMemoryAllocator allocator() {
        return allocator;
    }

    /** @return the {@code VmaAllocation} */
    public long allocation() {
        return allocation;
    }

    /** @return the {@code VkDeviceMemory} */
    public long deviceMemory() {
        return deviceMemory;
    }

    /** @return where this block starts in its {@code VkDeviceMemory} (0 for a dedicated block) */
    public long memoryOffset() {
        return memoryOffset;
    }

    /** @return the block's size in bytes */
    public long size() {
        return size;
    }

    /** @return the memory type */
    public int memoryTypeIndex() {
        return memoryTypeIndex;
    }

    /** @return the memory type's {@code VkMemoryPropertyFlags} (simulated ones where the allocator simulates) */
    public int propertyFlags() {
        return propertyFlags;
    }

    /** @return the host address of the block's first byte, or 0 when the block is not host-visible */
    public long mappedAddress() {
        return mapped;
    }

    /** @return whether {@link #close()} has run */
    public boolean isClosed() {
        return closed.get();
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("memory block of " + size + " bytes is closed (expected: an open block)");
        }
    }

    /**
     * Frees the block (once). Buffers bound to it must be destroyed first. It may race with the allocator's
     * {@link VulkanMemoryAllocator#close()}, which refuses while this block is live.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            // Cannot throw for a closed allocator: this allocation is live, so the allocator refused to close (and
            // a close() deciding now makes this wait for the refusal).
            long vma = allocator.enter();
            try {
                vmaFreeMemory(vma, allocation);
            } finally {
                allocator.exit();
            }
        }
    }

    @Override
    public String toString() {
        return "VulkanMemory[" + size + " bytes, memory type " + memoryTypeIndex + " "
                + MemoryProperties.describeFlags(propertyFlags) + (closed.get() ? ", closed" : "") + "]";
    }
}
