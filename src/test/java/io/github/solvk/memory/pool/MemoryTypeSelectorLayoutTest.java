package io.github.solvk.memory.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.solvk.memory.HostAccess;
import io.github.solvk.memory.MemoryUsage;
import io.github.solvk.memory.vulkan.MemoryProperties;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The memory type each usage gets on each recorded GPU layout, with every memory type allowed.
 *
 * <p>The expected indices were worked out by hand from the layouts file, not by running the selector; the comment on
 * each row gives the reasoning. Flag shorthand: DL = DEVICE_LOCAL, HV = HOST_VISIBLE, HC = HOST_COHERENT,
 * CA = HOST_CACHED, LZ = LAZILY_ALLOCATED, PR = PROTECTED, AMD = DEVICE_COHERENT_AMD|DEVICE_UNCACHED_AMD. The
 * columns' filters (from {@link MemoryUsage}):
 * <pre>
 *  DEVICE_ONLY       preferred DL, not preferred HV
 *  AUTO_DEVICE       AUTO_PREFER_DEVICE, no host access: preferred DL
 *  UPLOAD            required HV, preferred DL, not preferred CA
 *  AUTO_WRITE        AUTO + SEQUENTIAL_WRITE: the same flags as UPLOAD
 *  DOWNLOAD          required HV, preferred CA, not preferred DL
 *  AUTO_RANDOM       AUTO + RANDOM: required HV, preferred CA
 *  LAZY              GPU_LAZILY_ALLOCATED: required LZ, preferred DL; -1 where no type is lazily allocated
 *  HOST_WRITE        AUTO_PREFER_HOST + SEQUENTIAL_WRITE (staging kept in system RAM):
 *                    required HV, not preferred DL, CA
 *  AUTO_STAGING      AUTO + SEQUENTIAL_WRITE for a TRANSFER_SRC-only buffer (a staging buffer): the same flags as
 *                    HOST_WRITE, as VMA derives them from the buffer usage
 * </pre>
 * Types with LZ, PR or AMD flags are never acceptable for these columns except LZ for LAZY.
 */
class MemoryTypeSelectorLayoutTest {

    /** One column of the table: a usage and a host access. */
    enum Column {
        DEVICE_ONLY(MemoryUsage.DEVICE_ONLY, HostAccess.NONE),
        AUTO_DEVICE(MemoryUsage.AUTO_PREFER_DEVICE, HostAccess.NONE),
        UPLOAD(MemoryUsage.UPLOAD, HostAccess.SEQUENTIAL_WRITE),
        AUTO_WRITE(MemoryUsage.AUTO, HostAccess.SEQUENTIAL_WRITE),
        DOWNLOAD(MemoryUsage.DOWNLOAD, HostAccess.RANDOM),
        AUTO_RANDOM(MemoryUsage.AUTO, HostAccess.RANDOM),
        LAZY(MemoryUsage.GPU_LAZILY_ALLOCATED, HostAccess.NONE),
        HOST_WRITE(MemoryUsage.AUTO_PREFER_HOST, HostAccess.SEQUENTIAL_WRITE),
        AUTO_STAGING(MemoryUsage.AUTO, HostAccess.SEQUENTIAL_WRITE, 0x1);

        final MemoryUsage usage;
        final HostAccess access;
        final int bufferUsage;

        Column(MemoryUsage usage, HostAccess access) {
            this(usage, access, MemoryTypeFilter.UNKNOWN_BUFFER_USAGE);
        }

        Column(MemoryUsage usage, HostAccess access, int bufferUsage) {
            this.usage = usage;
            this.access = access;
            this.bufferUsage = bufferUsage;
        }

        MemoryTypeFilter filter() {
            return MemoryTypeFilter.of(usage, access, 0, 0, bufferUsage);
        }
    }

    /**
     * A row: a unique prefix of the layout's name and the expected index per {@link Column}, in column order.
     */
    record Row(String layoutPrefix, int... expected) {
    }

    private static final List<Row> TABLE = List.of(
            //                         DEV_ONLY AUTO_DEV UPLOAD AUTO_WR DOWNLD AUTO_RND LAZY HOST_WR AUTO_STAGING
            // Types: 0 NONE(sys) 1 DL 2 HV|HC(sys) 3 HV|HC|CA(sys) 4 DL|HV|HC (whole VRAM, full BAR).
            // Device-only: 1 is the only cost-0 type. Upload: 4 is the only HV type with DL and without CA; with a
            // full BAR it is all of VRAM, so this is the ReBAR win. Read-back: 3 is the only CA type. Host write: 2
            // has neither DL nor CA, and so is where AUTO puts a staging buffer, which the device only copies from.
            new Row("NVIDIA H200", 1, 1, 4, 4, 3, 3, -1, 2, 2),
            // Types 0-6 flag-less (sys), 7 DL, 8 HV|HC, 9 HV|HC|CA, 10 DL|HV|HC on the 246 MiB BAR heap.
            // Upload picks the BAR type 10 (cost 0 against 1 for type 8): debatable for big staging buffers, but the
            // pool falls back to 8 when the BAR heap is full, and HOST_WRITE and AUTO_STAGING keep staging in RAM.
            new Row("NVIDIA desktop GPU", 7, 7, 10, 10, 9, 9, -1, 8, 8),
            // Types 0 DL 1 HV|HC(sys) 2 DL|HV|HC (ReBAR, all VRAM) 3 HV|HC|CA(sys), 4-7 the same with AMD flags,
            // which are excluded. The AMD duplicates would otherwise tie with nothing better, so the gate matters
            // only for the fallback lists.
            new Row("AMD Radeon RX 6600 XT", 0, 0, 2, 2, 3, 3, -1, 1, 1),
            // Types 0,1 DL 2 HV|HC(GTT) 3,4 DL|HV|HC (256 MiB visible VRAM) 5,6 HV|HC|CA(GTT), 7-10 AMD (excluded).
            // The 32-bit duplicates 1, 4, 6 lose the tie to 0, 3, 5. Upload takes the small window 3 (as NVIDIA).
            new Row("AMD discrete GPU on RADV (Linux/Mesa), 8 GiB, no ReBAR", 0, 0, 3, 3, 5, 5, -1, 2, 2),
            // Same type flags and order as without ReBAR; only the heaps differ (type 3 now covers all VRAM).
            new Row("AMD discrete GPU on RADV (Linux/Mesa), 8 GiB, ReBAR on", 0, 0, 3, 3, 5, 5, -1, 2, 2),
            // UMA, every type DL: 0 DL 1 DL|HV|HC 2 DL|HV|HC|CA 3,4 descriptor-buffer duplicates of 1, 2.
            // Download: 2 costs 1 (has DL), 1 costs 2 (DL, lacks CA). Host write: 1 costs 1 (DL), 2 costs 2.
            new Row("Intel(R) Graphics (LNL)", 0, 0, 1, 1, 2, 2, -1, 1, 1),
            // 0 DL 1 DL|HV|HC 2 DL|HV|HC|CA 3 DL|PR 4-6 duplicates of 0-2. The protected type 3 is gated out, and it
            // would lose to 0 anyway; same answers as Lunar Lake.
            new Row("Intel integrated Gen12", 0, 0, 1, 1, 2, 2, -1, 1, 1),
            // 0 DL 1 DL|HV|HC|CA (Shared) 2 DL|HV|CA (Managed, not coherent) 3 DL|LZ (Memoryless).
            // Upload: 1 and 2 both cost 1 (CA), the tie goes to 1. Download: both cost 1 (DL), 1 again.
            // Auto random: 1 costs 0. Lazy: 3 is the only LZ type.
            new Row("Apple Silicon Mac via MoltenVK (older", 0, 0, 1, 1, 1, 1, 3, 1, 1),
            // 0 DL 1 DL|HV|HC|CA 2 DL|LZ: one host-visible type serves every host usage.
            new Row("Apple Silicon Mac via MoltenVK (current", 0, 0, 1, 1, 1, 1, 2, 1, 1),
            // A single DL|HV|HC type: it is the answer for everything but LAZY, at whatever cost.
            new Row("Imagination PowerVR", 0, 0, 0, 0, 0, 0, -1, 0, 0),
            // A single DL|HV|HC type and no CA anywhere (why CA is preferred, never required, for read-back).
            new Row("Raspberry Pi", 0, 0, 0, 0, 0, 0, -1, 0, 0),
            // CPU drivers: a single DL|HV|HC|CA type.
            new Row("lavapipe / llvmpipe", 0, 0, 0, 0, 0, 0, -1, 0, 0),
            new Row("llvmpipe (LLVM 15", 0, 0, 0, 0, 0, 0, -1, 0, 0),
            new Row("SwiftShader", 0, 0, 0, 0, 0, 0, -1, 0, 0));

    static Stream<Arguments> cells() {
        List<Arguments> cells = new ArrayList<>();
        for (Row row : TABLE) {
            for (Column column : Column.values()) {
                cells.add(Arguments.of(row.layoutPrefix(), column, row.expected()[column.ordinal()]));
            }
        }
        return cells.stream();
    }

    @ParameterizedTest(name = "{0} / {1} -> {2}")
    @MethodSource("cells")
    void layoutShouldGetTheHandDerivedType(String layoutPrefix, Column column, int expected) {
        MemoryProperties props = MemoryLayouts.named(layoutPrefix).props();
        MemoryTypeFilter filter = column.filter();
        int chosen = MemoryTypeSelector.findMemoryTypeIndex(props, -1, filter);
        assertThat(chosen)
                .as("%s on %s with %s: chose %s", column, layoutPrefix, filter,
                        chosen < 0 ? "none" : MemoryProperties.describeFlags(props.propertyFlags(chosen)))
                .isEqualTo(expected);
        int[] candidates = MemoryTypeSelector.candidates(props, props.allTypeBits(), filter);
        if (expected < 0) {
            assertThat(candidates).isEmpty();
        } else {
            assertThat(candidates[0]).isEqualTo(expected);
        }
    }

    @Test
    void tableShouldCoverEveryLayoutExactlyOnce() {
        assertThat(TABLE).allSatisfy(row -> assertThat(row.expected()).hasSize(Column.values().length));
        assertThat(TABLE.stream().map(row -> MemoryLayouts.named(row.layoutPrefix()).name()))
                .containsExactlyInAnyOrderElementsOf(MemoryLayouts.all().stream().map(MemoryLayouts.Layout::name)
                        .toList());
    }

    @Test
    void uploadShouldFallBackFromTheSmallBarToSystemMemory() {
        // NVIDIA without ReBAR: BAR type 10 (cost 0), then 8 HV|HC (lacks DL: 1), then 9 HV|HC|CA (lacks DL, CA: 2).
        MemoryProperties nvidia = MemoryLayouts.named("NVIDIA desktop GPU").props();
        assertThat(MemoryTypeSelector.candidates(nvidia, -1, Column.UPLOAD.filter())).containsExactly(10, 8, 9);
        // RADV without ReBAR: 3, 4 (cost 0, index order), 2 (1), 5, 6 (2); the AMD types 8-10 are gated out.
        MemoryProperties radv = MemoryLayouts.named("AMD discrete GPU on RADV (Linux/Mesa), 8 GiB, no ReBAR").props();
        assertThat(MemoryTypeSelector.candidates(radv, -1, Column.UPLOAD.filter())).containsExactly(3, 4, 2, 5, 6);
    }

    @Test
    void deviceOnlyShouldFallBackToSystemMemoryBeforeTheBar() {
        // H200: 1 DL (0), then 0 flag-less (lacks DL: 1) and 4 DL|HV|HC (has HV: 1) in index order, then 2 and 3
        // (lack DL and have HV: 2).
        MemoryProperties h200 = MemoryLayouts.named("NVIDIA H200").props();
        assertThat(MemoryTypeSelector.candidates(h200, -1, Column.DEVICE_ONLY.filter())).containsExactly(1, 0, 4, 2, 3);
    }

    @Test
    void downloadOnUnifiedMemoryShouldPreferTheCachedTypes() {
        // Lunar Lake: 2 and 4 (DL|HV|HC|CA, cost 1 for DL), then 1 and 3 (DL|HV|HC, cost 2); 0 is not HV.
        MemoryProperties lnl = MemoryLayouts.named("Intel(R) Graphics (LNL)").props();
        assertThat(MemoryTypeSelector.candidates(lnl, -1, Column.DOWNLOAD.filter())).containsExactly(2, 4, 1, 3);
    }

    @Test
    void memoryTypeBitsShouldSteerTheChoiceToTheNextBestType() {
        // H200 upload without the BAR type 4: type 2 (lacks DL: 1) beats 3 (lacks DL, has CA: 2).
        MemoryProperties h200 = MemoryLayouts.named("NVIDIA H200").props();
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(h200, 0b01111, Column.UPLOAD.filter())).isEqualTo(2);
        // Only the non-host-visible types allowed: no upload type at all.
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(h200, 0b00011, Column.UPLOAD.filter())).isEqualTo(-1);
        assertThat(MemoryTypeSelector.candidates(h200, 0b00011, Column.UPLOAD.filter())).isEmpty();
    }
}
