package io.github.solvk.memory.pool;

import java.util.HashMap;
import java.util.Map;

import io.github.solvk.memory.suballocator.Suballocator;
import io.github.solvk.memory.vulkan.VulkanBuffer;
import io.github.solvk.memory.vulkan.VulkanMemory;

/**
 * One {@code VkDeviceMemory} of a {@link TypeBlockPool}: a block that a suballocator shares out, or dedicated memory
 * that holds one buffer. It is the {@link PooledBuffer#pool()} and the {@link PooledBuffer.Releaser} of every buffer
 * placed in it, so a release finds its block without a look-up.
 *
 * <p>Every field but {@link #memory} and {@link #pool} is guarded by the pool's lock.
 */
final class PoolBlock implements PooledBuffer.Releaser {

    final TypeBlockPool pool;
    final VulkanMemory memory;
    /** Shares the block out; {@code null} for dedicated memory. */
    final Suballocator suballocator;
    /** The block-wide buffer that sub-ranges borrow, made on the first sub-range; {@code null} until then. */
    VulkanBuffer blockBuffer;
    /** The live buffers by suballocator handle (dedicated memory: its one buffer under handle 0). */
    final Map<Long, PooledBuffer> live = new HashMap<>();

    PoolBlock(TypeBlockPool pool, VulkanMemory memory, Suballocator suballocator) {
        this.pool = pool;
        this.memory = memory;
        this.suballocator = suballocator;
    }

    boolean isDedicated() {
        return suballocator == null;
    }

    /** @return whether no range is taken: a reserved range whose buffer is still being made counts as taken */
    boolean isEmpty() {
        return suballocator != null ? suballocator.liveCount() == 0 : live.isEmpty();
    }

    @Override
    public void release(PooledBuffer buffer) {
        pool.release(this, buffer);
    }

    @Override
    public String toString() {
        return (isDedicated() ? "dedicated " : "block ") + memory + ", " + live.size() + " live";
    }
}
