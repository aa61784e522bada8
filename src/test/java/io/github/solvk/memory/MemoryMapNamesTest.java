package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.github.solvk.memory.IMemoryPool.CreateInfo;
import io.github.solvk.memory.diagnostics.BlockInfo;
import io.github.solvk.memory.diagnostics.BlockKind;
import io.github.solvk.memory.diagnostics.MemoryMap;
import io.github.solvk.memory.diagnostics.MemoryMapJson;
import io.github.solvk.memory.diagnostics.Suballocation;
import io.github.solvk.memory.testing.VulkanExtension;

/** Names in the memory map: any characters written, a pool block shown once, VMA's default pool name kept for VMA. */
@ExtendWith(VulkanExtension.class)
class MemoryMapNamesTest {

    private static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;

    @Test
    void writeMemoryMapShouldWriteABufferNameWithALoneSurrogate(MemoryManager manager, @TempDir Path folder)
            throws Exception {
        String name = "half an emoji \uD83D";
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("pool", CreateInfo.of(USAGE, MemoryUsage.UPLOAD,
                64 * 1024));
             IBuffer buffer = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(100, name))) {
            List<Path> files = manager.writeMemoryMap(folder, "dev");
            MemoryMap back = MemoryMapJson.read(Files.readString(files.get(0)));
            assertThat(back.blocks()).flatExtracting(BlockInfo::suballocations).extracting(Suballocation::name)
                    .contains(name);
        }
    }

    @Test
    void aPoolNamedLikeVmasDefaultPoolShouldBeRefusedRatherThanBreakTheMemoryMap(MemoryManager manager) {
        assertThatThrownBy(() -> manager.createNonLinearMemoryPool(BlockInfo.VMA_DEFAULT_POOL,
                CreateInfo.of(USAGE, MemoryUsage.UPLOAD, 64 * 1024)).close())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(BlockInfo.VMA_DEFAULT_POOL);
        assertThat(manager.memoryMap("dev").blocks()).noneMatch(b -> b.kind() == BlockKind.POOL_BLOCK);
    }

    @Test
    void aPoolBlockShouldAppearOnceWhateverCharactersThePoolNameHas(MemoryManager manager) {
        for (String name : new String[] {"tab\tok", "bell\u0007", "escape\u001b[0m", "half \uDE00"}) {
            try (IMemoryPool pool = manager.createNonLinearMemoryPool(name, CreateInfo.of(USAGE, MemoryUsage.UPLOAD,
                    64 * 1024));
                 IBuffer buffer = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(100, "b"))) {
                MemoryMap map = manager.memoryMap("dev");
                assertThat(map.blocks()).as("pool %s: our block, and no VMA dedicated allocation for it", name)
                        .filteredOn(b -> b.kind() == BlockKind.DEDICATED).isEmpty();
                assertThat(map.blocks()).filteredOn(b -> b.pool().equals(name)).hasSize(1);
            }
        }
    }

    @Test
    void aDedicatedBufferNamedLikeAPoolBlockShouldStayOnTheMap(MemoryManager manager) {
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("meshes", CreateInfo.of(USAGE, MemoryUsage.UPLOAD,
                64 * 1024));
             IBuffer inPool = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(100, "b"));
             IBuffer own = manager.allocateBuffer(IBufferAllocator.AllocationInfo.builder().name("meshes block 0")
                     .size(4096).bufferUsage(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT).memoryUsage(MemoryUsage.UPLOAD)
                     .allocationFlags(AllocationFlags.DEDICATED_MEMORY).build())) {
            MemoryMap map = manager.memoryMap("dev");
            assertThat(map.blocks()).as("the user's dedicated buffer of 4096 bytes, named like the pool's block")
                    .anyMatch(b -> b.kind() == BlockKind.DEDICATED && b.size() == 4096);
        }
    }
}
