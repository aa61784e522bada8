package io.github.solvk.memory.pool;

import static io.github.solvk.memory.vulkan.MemoryProperties.DEVICE_COHERENT_AMD;
import static io.github.solvk.memory.vulkan.MemoryProperties.DEVICE_LOCAL;
import static io.github.solvk.memory.vulkan.MemoryProperties.DEVICE_UNCACHED_AMD;
import static io.github.solvk.memory.vulkan.MemoryProperties.HOST_CACHED;
import static io.github.solvk.memory.vulkan.MemoryProperties.HOST_VISIBLE;
import static io.github.solvk.memory.vulkan.MemoryProperties.LAZILY_ALLOCATED;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.solvk.memory.HostAccess;
import io.github.solvk.memory.MemoryUsage;
import io.github.solvk.memory.vulkan.MemoryProperties;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Compares the choice on every recorded layout, every memory type allowed, with what VMA's
 * {@code vmaFindMemoryTypeIndexForBufferInfo} would choose for the same meaning (a model of VMA 3's
 * {@code FindMemoryPreferences} for a buffer the device accesses directly and for one it only copies from and to,
 * without {@code HOST_ACCESS_ALLOW_TRANSFER_INSTEAD}, with the device-coherent-memory extension enabled, and its cost
 * loop:
 * missing preferred bits plus present not-preferred bits, lowest index among equals). The opt-in gate for
 * {@code LAZILY_ALLOCATED} and {@code PROTECTED} is ours alone, so the model applies it too.
 */
class MemoryTypeSelectorVmaComparisonTest {

    private static final int AMD = DEVICE_COHERENT_AMD | DEVICE_UNCACHED_AMD;

    /** Buffer usages: read by the device (vertex, transfer destination), a staging source, copies only. */
    private static final int[] BUFFER_USAGES = {0x80 | 0x2, 0x1, 0x1 | 0x2};

    /**
     * VMA's required, preferred and not-preferred flags for an AUTO* usage, a host access, the caller's flags and a
     * buffer usage.
     */
    private static int[] vmaFlags(MemoryUsage usage, HostAccess access, boolean transferInstead, boolean integrated,
                                  int required, int preferred, int bufferUsage) {
        int notPreferred = 0;
        boolean preferHost = usage == MemoryUsage.AUTO_PREFER_HOST;
        boolean preferDevice = usage == MemoryUsage.AUTO_PREFER_DEVICE;
        // VMA's "device access": any usage bit beyond the two transfer bits.
        boolean deviceAccess = (bufferUsage & ~(0x1 | 0x2)) != 0;
        // HOST_ACCESS_ALLOW_TRANSFER_INSTEAD on a GPU that is not integrated, for a buffer the device reads.
        boolean deviceFirst = transferInstead && !integrated && deviceAccess && !preferHost;
        int hostVisible = transferInstead ? 0 : HOST_VISIBLE;
        int hostVisiblePreferred = transferInstead ? HOST_VISIBLE : 0;
        switch (access) {
            case RANDOM:
                preferred |= HOST_CACHED;
                if (deviceFirst) {
                    preferred |= DEVICE_LOCAL;
                } else {
                    required |= hostVisible;
                    preferred |= hostVisiblePreferred;
                }
                break;
            case SEQUENTIAL_WRITE:
                notPreferred |= HOST_CACHED;
                if (deviceFirst) {
                    preferred |= DEVICE_LOCAL | HOST_VISIBLE;
                    break;
                }
                required |= hostVisible;
                preferred |= hostVisiblePreferred;
                if (deviceAccess ? !preferHost : preferDevice) {
                    preferred |= DEVICE_LOCAL;
                } else {
                    notPreferred |= DEVICE_LOCAL;
                }
                break;
            default:
                if (preferHost) {
                    notPreferred |= DEVICE_LOCAL;
                } else {
                    preferred |= DEVICE_LOCAL;
                }
                break;
        }
        if (((required | preferred) & AMD) == 0) {
            notPreferred |= DEVICE_UNCACHED_AMD;
        }
        return new int[] {required, preferred, notPreferred};
    }

    private static int vmaChoice(MemoryProperties props, int[] flags) {
        int asked = flags[0] | flags[1];
        int best = -1;
        int bestCost = Integer.MAX_VALUE;
        for (int i = 0; i < props.types().size(); i++) {
            int f = props.propertyFlags(i);
            boolean gated = (f & LAZILY_ALLOCATED & ~asked) != 0
                    || (f & MemoryProperties.PROTECTED & ~asked) != 0
                    // VMA leaves DEVICE_COHERENT types out unless the allocator enables them; with them enabled
                    // it only disfavours the uncached ones. Ours gates both unless asked: compare only where asked.
                    || ((f & AMD) != 0 && (asked & AMD) == 0);
            if ((f & flags[0]) != flags[0] || gated) {
                continue;
            }
            int cost = Integer.bitCount(flags[1] & ~f) + Integer.bitCount(flags[2] & f);
            if (cost < bestCost) {
                best = i;
                bestCost = cost;
            }
        }
        return best;
    }

    /**
     * Our choice against VMA's for every layout, automatic usage and host access, with the caller's required and
     * preferred flags of each pair given.
     *
     * @return one line per difference
     */
    private static List<String> differencesFromVma(int[][] callerFlags) {
        return differencesFromVma(callerFlags, false, false);
    }

    /**
     * {@link #differencesFromVma(int[][])} for requests that allow a transfer instead of host access, or not, on a
     * GPU taken to be integrated or not.
     */
    private static List<String> differencesFromVma(int[][] callerFlags, boolean transferInstead,
                                                   boolean integrated) {
        List<String> differences = new ArrayList<>();
        for (MemoryLayouts.Layout layout : MemoryLayouts.all()) {
            MemoryProperties props = layout.props();
            for (MemoryUsage usage : List.of(MemoryUsage.AUTO, MemoryUsage.AUTO_PREFER_DEVICE,
                    MemoryUsage.AUTO_PREFER_HOST)) {
                for (HostAccess access : HostAccess.values()) {
                    for (int[] asked : callerFlags) {
                        for (int bufferUsage : BUFFER_USAGES) {
                            int ours = MemoryTypeSelector.findMemoryTypeIndex(props, -1, MemoryTypeFilter.of(usage,
                                    access, transferInstead, integrated, asked[0], asked[1], bufferUsage));
                            int vma = vmaChoice(props, vmaFlags(usage, access, transferInstead, integrated, asked[0],
                                    asked[1], bufferUsage));
                            if (ours != vma) {
                                differences.add(layout.name() + " " + usage + "/" + access + " buffer usage 0x"
                                        + Integer.toHexString(bufferUsage) + " required "
                                        + MemoryProperties.describeFlags(asked[0]) + " preferred "
                                        + MemoryProperties.describeFlags(asked[1]) + ": ours " + ours + " "
                                        + MemoryProperties.describeFlags(props.propertyFlags(ours)) + ", VMA " + vma
                                        + " " + MemoryProperties.describeFlags(props.propertyFlags(vma)));
                            }
                        }
                    }
                }
            }
        }
        return differences;
    }

    @Test
    void autoUsagesShouldChooseWhatVmaChoosesOnEveryLayout() {
        assertThat(differencesFromVma(new int[][] {{0, 0}})).isEmpty();
    }

    @Test
    void requestsThatAllowATransferInsteadShouldChooseWhatVmaChoosesOnEveryLayout() {
        for (boolean integrated : new boolean[] {false, true}) {
            assertThat(differencesFromVma(new int[][] {{0, 0}, {0, DEVICE_COHERENT_AMD}}, true, integrated))
                    .as("integrated %s", integrated).isEmpty();
        }
    }

    @Test
    void readBackThatAllowsATransferInsteadShouldGetVideoMemoryOnADiscreteGpu() {
        // NVIDIA without ReBAR: 7 DL, 8 HV|HC, 9 HV|HC|CA, 10 DL|HV|HC (the BAR). A buffer the device writes and the
        // host reads back at random: cached system memory (9) when the host must map it; allowed a transfer
        // instead, video memory (7), which ties with 9 and comes first, as in VMA. An integrated GPU keeps 9.
        MemoryProperties nvidia = MemoryLayouts.named("NVIDIA desktop GPU with 6 GiB VRAM, no ReBAR").props();
        int storage = 0x20 | 0x1;
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(nvidia, -1, MemoryTypeFilter.of(MemoryUsage.AUTO,
                HostAccess.RANDOM, false, false, 0, 0, storage))).isEqualTo(9);
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(nvidia, -1, MemoryTypeFilter.of(MemoryUsage.AUTO,
                HostAccess.RANDOM, true, false, 0, 0, storage))).isEqualTo(7);
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(nvidia, -1, MemoryTypeFilter.of(MemoryUsage.AUTO,
                HostAccess.RANDOM, true, true, 0, 0, storage))).isEqualTo(9);
        // A staging buffer (copies only) keeps host-visible memory either way.
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(nvidia, -1, MemoryTypeFilter.of(MemoryUsage.AUTO,
                HostAccess.SEQUENTIAL_WRITE, true, false, 0, 0, 0x1))).isEqualTo(8);
    }

    @Test
    void randomHostAccessPreferringTheDeviceShouldStillGetCachedMemory() {
        // RADV without ReBAR: 3 DL|HV|HC is the 256 MiB visible-VRAM window, uncached; 5 HV|HC|CA is 16 GiB of cached
        // system memory. Host reads of uncached memory over PCIe are an order of magnitude slower; VMA picks 5.
        MemoryProperties radv = MemoryLayouts.named("AMD discrete GPU on RADV (Linux/Mesa), 8 GiB, no ReBAR").props();
        MemoryTypeFilter filter = MemoryTypeFilter.of(MemoryUsage.AUTO_PREFER_DEVICE, HostAccess.RANDOM, 0, 0);
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(radv, -1, filter)).isEqualTo(5);
        // Same on the RX 6600 XT (3 HV|HC|CA rather than 2 DL|HV|HC); the H200 already got its cached type 3, but
        // only because it lists it before its DL|HV|HC type.
        MemoryProperties rx = MemoryLayouts.named("AMD Radeon RX 6600 XT").props();
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(rx, -1, filter)).isEqualTo(3);
        MemoryProperties h200 = MemoryLayouts.named("NVIDIA H200").props();
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(h200, -1, filter)).isEqualTo(3);
    }

    @Test
    void preferringAmdDeviceCoherenceShouldChooseACoherentTypeWhereOneFits() {
        // Every AMD DEVICE_COHERENT type is also DEVICE_UNCACHED; preferring coherence must still get one, as VMA does.
        for (String name : List.of("AMD Radeon RX 6600 XT", "AMD discrete GPU on RADV (Linux/Mesa), 8 GiB, no ReBAR",
                "AMD discrete GPU on RADV (Linux/Mesa), 8 GiB, ReBAR on")) {
            MemoryProperties props = MemoryLayouts.named(name).props();
            for (MemoryUsage usage : List.of(MemoryUsage.DEVICE_ONLY, MemoryUsage.UPLOAD, MemoryUsage.DOWNLOAD)) {
                int chosen = MemoryTypeSelector.findMemoryTypeIndex(props, -1,
                        MemoryTypeFilter.of(usage, HostAccess.NONE, 0, DEVICE_COHERENT_AMD));
                assertThat(props.propertyFlags(chosen) & DEVICE_COHERENT_AMD)
                        .as("%s %s preferring DEVICE_COHERENT_AMD chose %d %s", name, usage, chosen,
                                MemoryProperties.describeFlags(props.propertyFlags(chosen)))
                        .isNotZero();
            }
        }
    }

    @Test
    void callerAmdFlagsShouldChooseWhatVmaChooses() {
        assertThat(differencesFromVma(new int[][] {{DEVICE_COHERENT_AMD, 0}, {0, DEVICE_COHERENT_AMD},
            {0, DEVICE_UNCACHED_AMD}, {0, AMD}})).isEmpty();
    }
}
