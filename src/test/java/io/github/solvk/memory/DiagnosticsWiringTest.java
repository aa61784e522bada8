package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.lwjgl.system.MemoryUtil;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.solvk.memory.IMemoryPool.CreateInfo;
import io.github.solvk.memory.diagnostics.BlockInfo;
import io.github.solvk.memory.diagnostics.BlockKind;
import io.github.solvk.memory.diagnostics.CorruptionException;
import io.github.solvk.memory.diagnostics.LeakReport;
import io.github.solvk.memory.diagnostics.MemoryMap;
import io.github.solvk.memory.diagnostics.Suballocation;
import io.github.solvk.memory.testing.VulkanExtension;
import io.github.solvk.memory.vulkan.VulkanContext;

@ExtendWith(VulkanExtension.class)
class DiagnosticsWiringTest {

    private static final int USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;

    @Test
    void aWritePastTheEndShouldBeCaughtByTheGuardMarginAndNameTheBuffer(MemoryManager manager) {
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("guarded", CreateInfo.of(USAGE,
                MemoryUsage.UPLOAD, 64 * 1024).withCreateFlags(CreateInfo.GUARD_MARGINS))) {
            IBuffer good = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(100, "good"));
            IBuffer bad = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(100, "overrunner"));
            good.write(0, new byte[100]);
            pool.checkCorruption();
            // Write 4 bytes past the end through the raw mapping, as a buggy shader or memcpy would.
            MemoryUtil.memPutInt(bad.mappedAddress() + 100, 0x12345678);
            assertThatThrownBy(pool::checkCorruption).isInstanceOfSatisfying(CorruptionException.class,
                    e -> assertThat(e.bufferName()).isEqualTo("overrunner (100 bytes, pool guarded)"));
            good.close();
            assertThatThrownBy(bad::close).isInstanceOf(CorruptionException.class)
                    .hasMessageContaining("overrunner");
            assertThat(bad.isClosed()).isTrue();
            assertThat(pool.liveBufferCount()).as("the overrun buffer was freed all the same").isZero();
            assertThatThrownBy(() -> pool.allocateBuffer(64 * 1024 - 63))
                    .isInstanceOf(MemoryAllocationException.class).hasMessageContaining("less the guard margin 64");
        }
    }

    @Test
    void guardMarginsShouldNeedHostVisibleMemoryAndPoolsWithoutThemCannotBeChecked(MemoryManager manager) {
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("plain", CreateInfo.of(USAGE, MemoryUsage.UPLOAD,
                64 * 1024))) {
            assertThatThrownBy(pool::checkCorruption).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no guard margins");
        }
    }

    @Test
    void theMemoryMapShouldShowPoolsAndVmaBuffersWithTheirNames(VulkanContext context, MemoryManager manager,
                                                                 @TempDir Path folder) throws Exception {
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("meshes", CreateInfo.of(USAGE,
                MemoryUsage.UPLOAD, 256 * 1024));
             IBuffer a = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(10_000, "rock mesh"));
             IBuffer b = pool.allocateBuffer(IMemoryPool.AllocationInfo.of(20_000, "tree mesh"));
             IBuffer own = manager.allocateBuffer(IBufferAllocator.AllocationInfo.builder().name("particles")
                     .size(4096).bufferUsage(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT).memoryUsage(MemoryUsage.UPLOAD)
                     .build())) {
            MemoryMap map = manager.memoryMap(context.deviceName());
            BlockInfo poolBlock = map.blocks().stream().filter(x -> x.pool().equals("meshes")).findFirst()
                    .orElseThrow();
            assertThat(poolBlock.kind()).isEqualTo(BlockKind.POOL_BLOCK);
            assertThat(poolBlock.size()).isEqualTo(256 * 1024);
            assertThat(poolBlock.suballocations()).filteredOn(x -> !x.isFree()).extracting(Suballocation::name)
                    .containsExactly("rock mesh", "tree mesh");
            Suballocation rock = poolBlock.suballocations().get(0);
            assertThat(rock.offset()).isEqualTo(a.offset());
            assertThat(rock.size()).isEqualTo(10_000);
            assertThat(rock.allocationSite()).as("tests run with PARANOID leak detection, which records sites")
                    .contains("theMemoryMapShouldShowPoolsAndVmaBuffersWithTheirNames");
            assertThat(map.blocks()).as("the pool block appears once, not again as a VMA dedicated allocation")
                    .filteredOn(x -> x.name() != null && x.name().equals(poolBlock.name())).hasSize(1);
            assertThat(map.blocks()).flatExtracting(BlockInfo::suballocations).extracting(Suballocation::name)
                    .contains("particles");

            List<Path> files = manager.writeMemoryMap(folder, context.deviceName());
            assertThat(files).extracting(p -> p.getFileName().toString())
                    .containsExactly("memory-map.json", "memory-map.html", "memory-map.png");
            JsonNode json = new ObjectMapper().readTree(Files.readString(files.get(0)));
            assertThat(json.toString()).contains("rock mesh").contains("tree mesh").contains("particles")
                    .contains("meshes");
            assertThat(Files.readString(files.get(1))).contains("rock mesh").contains("tree mesh");
            byte[] png = Files.readAllBytes(files.get(2));
            assertThat(png).startsWith(0x89, 'P', 'N', 'G');
        }
    }

    @Test
    void aBufferDroppedWithoutCloseShouldBeReportedWithItsNameAndSite(MemoryManager manager) throws Exception {
        LinkedBlockingQueue<LeakReport> reports = new LinkedBlockingQueue<>();
        Consumer<LeakReport> listener = reports::add;
        ManagedBuffer.LEAKS.addListener(listener);
        try (IMemoryPool pool = manager.createNonLinearMemoryPool("leaky", CreateInfo.of(USAGE, MemoryUsage.UPLOAD,
                64 * 1024))) {
            allocateAndForget(pool);
            LeakReport report = null;
            for (int i = 0; i < 100 && report == null; i++) {
                System.gc();
                report = reports.poll(100, TimeUnit.MILLISECONDS);
            }
            assertThat(report).as("a leak report within 10 s").isNotNull();
            assertThat(report.description()).contains("'forgotten texture'").contains("pool 'leaky'");
            assertThat(report.allocationSite()).contains("allocateAndForget");
            assertThat(pool.liveBufferCount()).as("reported, never freed").isEqualTo(1);
        } finally {
            ManagedBuffer.LEAKS.removeListener(listener);
        }
    }

    private static void allocateAndForget(IMemoryPool pool) {
        pool.allocateBuffer(IMemoryPool.AllocationInfo.of(512, "forgotten texture"));
    }

    @Test
    void aBufferFreedByItsPoolClosingShouldNotBeReportedAsALeak(MemoryManager manager) throws Exception {
        LinkedBlockingQueue<LeakReport> reports = new LinkedBlockingQueue<>();
        Consumer<LeakReport> listener = reports::add;
        ManagedBuffer.LEAKS.addListener(listener);
        try {
            IMemoryPool pool = manager.createNonLinearMemoryPool("closing", CreateInfo.of(USAGE, MemoryUsage.UPLOAD,
                    64 * 1024));
            allocateAndForgetNamed(pool, "freed by the pool");
            pool.close();
            LeakReport report = null;
            for (int i = 0; i < 20 && report == null; i++) {
                System.gc();
                report = reports.poll(50, TimeUnit.MILLISECONDS);
            }
            assertThat(report).as("the memory was freed when the pool closed: not a leak").isNull();
        } finally {
            ManagedBuffer.LEAKS.removeListener(listener);
        }
    }

    private static void allocateAndForgetNamed(IMemoryPool pool, String name) {
        pool.allocateBuffer(IMemoryPool.AllocationInfo.of(256, name));
    }
}
