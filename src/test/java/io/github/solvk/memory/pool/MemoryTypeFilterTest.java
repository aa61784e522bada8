package io.github.solvk.memory.pool;

import static io.github.solvk.memory.vulkan.MemoryProperties.DEVICE_COHERENT_AMD;
import static io.github.solvk.memory.vulkan.MemoryProperties.DEVICE_LOCAL;
import static io.github.solvk.memory.vulkan.MemoryProperties.DEVICE_UNCACHED_AMD;
import static io.github.solvk.memory.vulkan.MemoryProperties.HOST_CACHED;
import static io.github.solvk.memory.vulkan.MemoryProperties.HOST_COHERENT;
import static io.github.solvk.memory.vulkan.MemoryProperties.HOST_VISIBLE;
import static io.github.solvk.memory.vulkan.MemoryProperties.LAZILY_ALLOCATED;
import static io.github.solvk.memory.vulkan.MemoryProperties.PROTECTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.solvk.memory.HostAccess;
import io.github.solvk.memory.MemoryUsage;
import io.github.solvk.memory.vulkan.MemoryProperties;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryTypeFilterTest {

    private static final int AMD = DEVICE_COHERENT_AMD | DEVICE_UNCACHED_AMD;
    private static final int ALL_OPT_IN = LAZILY_ALLOCATED | PROTECTED | AMD;

    private static void assertFilter(MemoryUsage usage, HostAccess access, int required, int preferred,
                                     int notPreferred) {
        MemoryTypeFilter filter = MemoryTypeFilter.of(usage, access, 0, 0);
        assertThat(filter)
                .as("%s with %s", usage, access)
                .isEqualTo(MemoryTypeFilter.ofFlags(required, preferred, notPreferred));
    }

    @Test
    void ofShouldFollowTheUsageTable() {
        assertFilter(MemoryUsage.UNKNOWN, HostAccess.NONE, 0, 0, 0);
        assertFilter(MemoryUsage.AUTO, HostAccess.NONE, 0, DEVICE_LOCAL, 0);
        assertFilter(MemoryUsage.AUTO, HostAccess.SEQUENTIAL_WRITE, HOST_VISIBLE, DEVICE_LOCAL, HOST_CACHED);
        assertFilter(MemoryUsage.AUTO, HostAccess.RANDOM, HOST_VISIBLE, HOST_CACHED, 0);
        assertFilter(MemoryUsage.AUTO_PREFER_DEVICE, HostAccess.NONE, 0, DEVICE_LOCAL, 0);
        assertFilter(MemoryUsage.AUTO_PREFER_DEVICE, HostAccess.SEQUENTIAL_WRITE, HOST_VISIBLE, DEVICE_LOCAL,
                HOST_CACHED);
        assertFilter(MemoryUsage.AUTO_PREFER_DEVICE, HostAccess.RANDOM, HOST_VISIBLE, HOST_CACHED, 0);
        assertFilter(MemoryUsage.AUTO_PREFER_HOST, HostAccess.NONE, 0, 0, DEVICE_LOCAL);
        assertFilter(MemoryUsage.AUTO_PREFER_HOST, HostAccess.SEQUENTIAL_WRITE, HOST_VISIBLE, 0,
                DEVICE_LOCAL | HOST_CACHED);
        assertFilter(MemoryUsage.AUTO_PREFER_HOST, HostAccess.RANDOM, HOST_VISIBLE, HOST_CACHED, DEVICE_LOCAL);
        assertFilter(MemoryUsage.DEVICE_ONLY, HostAccess.NONE, 0, DEVICE_LOCAL, HOST_VISIBLE);
        assertFilter(MemoryUsage.UPLOAD, HostAccess.SEQUENTIAL_WRITE, HOST_VISIBLE, DEVICE_LOCAL, HOST_CACHED);
        assertFilter(MemoryUsage.UPLOAD, HostAccess.NONE, HOST_VISIBLE, DEVICE_LOCAL, HOST_CACHED);
        assertFilter(MemoryUsage.DOWNLOAD, HostAccess.RANDOM, HOST_VISIBLE, HOST_CACHED, DEVICE_LOCAL);
        assertFilter(MemoryUsage.DOWNLOAD, HostAccess.NONE, HOST_VISIBLE, HOST_CACHED, DEVICE_LOCAL);
        assertFilter(MemoryUsage.GPU_LAZILY_ALLOCATED, HostAccess.NONE, LAZILY_ALLOCATED, DEVICE_LOCAL, 0);
    }

    @Test
    void autoSequentialWritesForATransferOnlyBufferShouldAvoidDeviceLocalAsVmaDoes() {
        int transferSrc = 0x1;
        int transferBoth = 0x1 | 0x2;
        int vertexAndTransferDst = 0x80 | 0x2;
        // A staging buffer: the device only copies from it, so AUTO keeps it out of a BAR window.
        for (int staging : new int[] {transferSrc, 0x2, transferBoth}) {
            assertThat(MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.SEQUENTIAL_WRITE, 0, 0, staging))
                    .as("usage 0x%x", staging)
                    .isEqualTo(MemoryTypeFilter.ofFlags(HOST_VISIBLE, 0, DEVICE_LOCAL | HOST_CACHED));
        }
        // Read by the device where it lies (a per-frame vertex buffer): device-local preferred, as before.
        assertThat(MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.SEQUENTIAL_WRITE, 0, 0, vertexAndTransferDst))
                .isEqualTo(MemoryTypeFilter.ofFlags(HOST_VISIBLE, DEVICE_LOCAL, HOST_CACHED));
        // What the usage does not change: AUTO_PREFER_DEVICE and UPLOAD still prefer the device, the other host
        // accesses and the other usages ignore the buffer usage.
        assertThat(MemoryTypeFilter.of(MemoryUsage.AUTO_PREFER_DEVICE, HostAccess.SEQUENTIAL_WRITE, 0, 0, transferSrc))
                .isEqualTo(MemoryTypeFilter.ofFlags(HOST_VISIBLE, DEVICE_LOCAL, HOST_CACHED));
        for (MemoryUsage usage : MemoryUsage.values()) {
            for (HostAccess access : HostAccess.values()) {
                if (usage == MemoryUsage.AUTO && access == HostAccess.SEQUENTIAL_WRITE) {
                    continue;
                }
                MemoryTypeFilter unknown;
                try {
                    unknown = MemoryTypeFilter.of(usage, access, HOST_VISIBLE, 0);
                } catch (IllegalArgumentException refused) {
                    continue;
                }
                assertThat(MemoryTypeFilter.of(usage, access, HOST_VISIBLE, 0, transferBoth))
                        .as("%s with %s", usage, access).isEqualTo(unknown);
            }
        }
        // The four-argument form is the unknown usage, which counts as read by the device.
        assertThat(MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.SEQUENTIAL_WRITE, 0, 0))
                .isEqualTo(MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.SEQUENTIAL_WRITE, 0, 0,
                        MemoryTypeFilter.UNKNOWN_BUFFER_USAGE))
                .isEqualTo(MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.SEQUENTIAL_WRITE, 0, 0,
                        vertexAndTransferDst));
        assertThatThrownBy(() -> MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.SEQUENTIAL_WRITE, 0, 0, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bufferUsage: 0 (expected: the buffer's VkBufferUsageFlags, or UNKNOWN_BUFFER_USAGE when"
                        + " not known)");
    }

    @Test
    void uploadShouldEqualAutoPreferDeviceWithSequentialWriteAndDownloadAutoPreferHostWithRandom() {
        assertThat(MemoryTypeFilter.of(MemoryUsage.UPLOAD, HostAccess.NONE, 0, 0))
                .isEqualTo(MemoryTypeFilter.of(MemoryUsage.AUTO_PREFER_DEVICE, HostAccess.SEQUENTIAL_WRITE, 0, 0));
        assertThat(MemoryTypeFilter.of(MemoryUsage.DOWNLOAD, HostAccess.NONE, 0, 0))
                .isEqualTo(MemoryTypeFilter.of(MemoryUsage.AUTO_PREFER_HOST, HostAccess.RANDOM, 0, 0));
    }

    @Test
    void callerFlagsShouldBeAddedAndWinOverTheUsagesNotPreferred() {
        MemoryTypeFilter filter = MemoryTypeFilter.of(MemoryUsage.AUTO_PREFER_HOST, HostAccess.SEQUENTIAL_WRITE,
                HOST_CACHED, DEVICE_LOCAL | HOST_COHERENT);
        assertThat(filter.requiredFlags()).isEqualTo(HOST_VISIBLE | HOST_CACHED);
        assertThat(filter.preferredFlags()).isEqualTo(DEVICE_LOCAL | HOST_COHERENT);
        assertThat(filter.notPreferredFlags()).isZero();
    }

    @Test
    void requiredFlagsShouldNotBeRepeatedAsPreferred() {
        MemoryTypeFilter filter = MemoryTypeFilter.of(MemoryUsage.DEVICE_ONLY, HostAccess.NONE, DEVICE_LOCAL, 0);
        assertThat(filter.requiredFlags()).isEqualTo(DEVICE_LOCAL);
        assertThat(filter.preferredFlags()).isZero();
        assertThat(filter.notPreferredFlags()).isEqualTo(HOST_VISIBLE);
    }

    @Test
    void optInFlagsShouldBeExcludedUnlessRequiredOrPreferred() {
        assertThat(MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.NONE, 0, 0).excludedFlags()).isEqualTo(ALL_OPT_IN);
        assertThat(MemoryTypeFilter.of(MemoryUsage.GPU_LAZILY_ALLOCATED, HostAccess.NONE, 0, 0).excludedFlags())
                .isEqualTo(PROTECTED | AMD);
        assertThat(MemoryTypeFilter.of(MemoryUsage.DEVICE_ONLY, HostAccess.NONE, PROTECTED, 0).excludedFlags())
                .isEqualTo(LAZILY_ALLOCATED | AMD);
        assertThat(MemoryTypeFilter.of(MemoryUsage.DEVICE_ONLY, HostAccess.NONE, 0, LAZILY_ALLOCATED).excludedFlags())
                .isEqualTo(PROTECTED | AMD);
        // Either AMD bit opts both in; requiring only coherence makes the uncached types not preferred.
        MemoryTypeFilter coherent = MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.NONE, DEVICE_COHERENT_AMD, 0);
        assertThat(coherent.excludedFlags()).isEqualTo(LAZILY_ALLOCATED | PROTECTED);
        assertThat(coherent.notPreferredFlags()).isEqualTo(DEVICE_UNCACHED_AMD);
        MemoryTypeFilter uncached = MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.NONE, 0, DEVICE_UNCACHED_AMD);
        assertThat(uncached.excludedFlags()).isEqualTo(LAZILY_ALLOCATED | PROTECTED);
        assertThat(uncached.notPreferredFlags()).isZero();
        // Merely preferring coherence does not: every AMD coherent type is uncached, so it would cancel out.
        MemoryTypeFilter prefersCoherent =
                MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.NONE, 0, DEVICE_COHERENT_AMD);
        assertThat(prefersCoherent.excludedFlags()).isEqualTo(LAZILY_ALLOCATED | PROTECTED);
        assertThat(prefersCoherent.notPreferredFlags()).isZero();
    }

    @Test
    void costShouldCountMissingPreferredAndPresentNotPreferredBits() {
        MemoryTypeFilter upload = MemoryTypeFilter.of(MemoryUsage.UPLOAD, HostAccess.SEQUENTIAL_WRITE, 0, 0);
        assertThat(upload.cost(DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT)).isZero();
        assertThat(upload.cost(HOST_VISIBLE | HOST_COHERENT)).isEqualTo(1);
        assertThat(upload.cost(HOST_VISIBLE | HOST_COHERENT | HOST_CACHED)).isEqualTo(2);
        assertThat(upload.accepts(DEVICE_LOCAL)).isFalse();
        assertThat(upload.accepts(DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT | AMD)).isFalse();
    }

    @Test
    void amdDeviceCoherentMemoryShouldBeChosenOnlyWhenRequired() {
        MemoryProperties amd = MemoryLayouts.named("AMD Radeon RX 6600 XT").props();
        // Not asked for: types 4-7 are gated out even when they are the only ones memoryTypeBits allows.
        MemoryTypeFilter plain = MemoryTypeFilter.of(MemoryUsage.DEVICE_ONLY, HostAccess.NONE, 0, 0);
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(amd, 0xF0, plain)).isEqualTo(-1);
        // Required: 4 DL|COH|UNC costs 1 (UNC), 6 DL|HV|HC|COH|UNC 2 (HV, UNC), 5 and 7 cost 3 (lack DL; HV, UNC).
        MemoryTypeFilter coherent = MemoryTypeFilter.of(MemoryUsage.DEVICE_ONLY, HostAccess.NONE,
                DEVICE_COHERENT_AMD, 0);
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(amd, -1, coherent)).isEqualTo(4);
        assertThat(MemoryTypeSelector.candidates(amd, -1, coherent)).containsExactly(4, 6, 5, 7);
    }

    @Test
    void protectedMemoryShouldBeChosenOnlyWhenRequired() {
        MemoryProperties intel = MemoryLayouts.named("Intel integrated Gen12").props();
        MemoryTypeFilter plain = MemoryTypeFilter.of(MemoryUsage.DEVICE_ONLY, HostAccess.NONE, 0, 0);
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(intel, 1 << 3, plain)).isEqualTo(-1);
        assertThat(MemoryTypeSelector.candidates(intel, -1, plain)).doesNotContain(3);
        MemoryTypeFilter prot = MemoryTypeFilter.of(MemoryUsage.DEVICE_ONLY, HostAccess.NONE, PROTECTED, 0);
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(intel, -1, prot)).isEqualTo(3);
        assertThat(MemoryTypeSelector.candidates(intel, -1, prot)).containsExactly(3);
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(intel, ~(1 << 3), prot)).isEqualTo(-1);
    }

    @Test
    void preferringLazyMemoryShouldFallBackToDeviceLocalWhereThereIsNone() {
        MemoryTypeFilter transientAttachment =
                MemoryTypeFilter.of(MemoryUsage.DEVICE_ONLY, HostAccess.NONE, 0, LAZILY_ALLOCATED);
        // MoltenVK: 2 DL|LZ costs 0. H200: no LZ type; 1 DL costs 1 (lacks LZ), 0 costs 2.
        MemoryProperties apple = MemoryLayouts.named("Apple Silicon Mac via MoltenVK (current").props();
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(apple, -1, transientAttachment)).isEqualTo(2);
        MemoryProperties h200 = MemoryLayouts.named("NVIDIA H200").props();
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(h200, -1, transientAttachment)).isEqualTo(1);
    }

    @Test
    void unknownUsageShouldUseOnlyTheCallersFlags() {
        MemoryProperties h200 = MemoryLayouts.named("NVIDIA H200").props();
        // Nothing asked: every type costs 0, so the first type wins.
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(h200, -1,
                MemoryTypeFilter.of(MemoryUsage.UNKNOWN, HostAccess.NONE, 0, 0))).isZero();
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(h200, -1,
                MemoryTypeFilter.of(MemoryUsage.UNKNOWN, HostAccess.RANDOM, HOST_VISIBLE, DEVICE_LOCAL))).isEqualTo(4);
        // The Raspberry Pi has no cached memory at all.
        MemoryProperties pi = MemoryLayouts.named("Raspberry Pi").props();
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(pi, -1,
                MemoryTypeFilter.of(MemoryUsage.UNKNOWN, HostAccess.RANDOM, HOST_VISIBLE | HOST_CACHED, 0)))
                .isEqualTo(-1);
    }

    @Test
    void memoryTypeBitsBeyondTheTypeCountShouldBeIgnored() {
        MemoryProperties pi = MemoryLayouts.named("Raspberry Pi").props();
        MemoryTypeFilter filter = MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.NONE, 0, 0);
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(pi, -1, filter)).isZero();
        assertThat(MemoryTypeSelector.findMemoryTypeIndex(pi, 0b11, filter)).isZero();
    }

    @Test
    void badRequestsShouldThrowNamingTheValueAndTheExpectation() {
        MemoryProperties pi = MemoryLayouts.named("Raspberry Pi").props();
        MemoryTypeFilter auto = MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.NONE, 0, 0);
        assertThatThrownBy(() -> MemoryTypeSelector.findMemoryTypeIndex(pi, 0, auto))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("memoryTypeBits: 0x0 (expected: at least one bit of 0x1, one per memory type of this"
                        + " device)");
        assertThatThrownBy(() -> MemoryTypeSelector.candidates(pi, 0b110, auto))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("memoryTypeBits: 0x6 (expected:");
        assertThatThrownBy(() -> MemoryTypeSelector.findMemoryTypeIndex(null, 1, auto))
                .isInstanceOf(NullPointerException.class).hasMessage("props: null (expected: "
                        + "the device's MemoryProperties)");
        assertThatThrownBy(() -> MemoryTypeSelector.findMemoryTypeIndex(pi, 1, null))
                .isInstanceOf(NullPointerException.class).hasMessage("filter: null (expected: a MemoryTypeFilter)");

        List<Runnable> rejected = List.of(
                () -> MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.NONE, 0x200, 0),
                () -> MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.NONE, 0, 0x8000_0000),
                () -> MemoryTypeFilter.ofFlags(0, 0, 0x400),
                () -> MemoryTypeFilter.of(MemoryUsage.DEVICE_ONLY, HostAccess.SEQUENTIAL_WRITE, 0, 0),
                () -> MemoryTypeFilter.of(MemoryUsage.DEVICE_ONLY, HostAccess.NONE, HOST_VISIBLE, 0),
                () -> MemoryTypeFilter.of(MemoryUsage.DEVICE_ONLY, HostAccess.NONE, 0, HOST_CACHED),
                () -> MemoryTypeFilter.of(MemoryUsage.GPU_LAZILY_ALLOCATED, HostAccess.RANDOM, 0, 0),
                () -> MemoryTypeFilter.of(MemoryUsage.UPLOAD, HostAccess.RANDOM, 0, 0),
                () -> MemoryTypeFilter.of(MemoryUsage.DOWNLOAD, HostAccess.SEQUENTIAL_WRITE, 0, 0),
                () -> MemoryTypeFilter.of(MemoryUsage.UNKNOWN, HostAccess.RANDOM, 0, 0),
                () -> MemoryTypeFilter.of(MemoryUsage.DOWNLOAD, HostAccess.RANDOM, PROTECTED, 0),
                () -> MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.SEQUENTIAL_WRITE, LAZILY_ALLOCATED, 0),
                () -> MemoryTypeFilter.ofFlags(LAZILY_ALLOCATED | HOST_COHERENT, 0, 0),
                () -> MemoryTypeFilter.ofFlags(HOST_VISIBLE, DEVICE_LOCAL, DEVICE_LOCAL),
                () -> MemoryTypeFilter.ofFlags(HOST_VISIBLE, 0, HOST_VISIBLE));
        for (Runnable call : rejected) {
            assertThatThrownBy(call::run).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(": ").hasMessageContaining("(expected: ");
        }
        assertThatThrownBy(() -> MemoryTypeFilter.of(MemoryUsage.AUTO, HostAccess.NONE, 0x200, 0))
                .hasMessage("requiredFlags: 0x200 (expected: only VkMemoryPropertyFlagBits within 0x1ff)");
        assertThatThrownBy(() -> MemoryTypeFilter.of(MemoryUsage.UPLOAD, HostAccess.RANDOM, 0, 0))
                .hasMessage("host access: RANDOM (expected: SEQUENTIAL_WRITE or NONE for usage UPLOAD, which implies"
                        + " SEQUENTIAL_WRITE)");
        assertThatThrownBy(() -> MemoryTypeFilter.of(null, HostAccess.NONE, 0, 0))
                .isInstanceOf(NullPointerException.class).hasMessage("usage: null (expected: a MemoryUsage)");
        assertThatThrownBy(() -> MemoryTypeFilter.of(MemoryUsage.AUTO, null, 0, 0))
                .isInstanceOf(NullPointerException.class).hasMessage("access: null (expected: "
                        + "a HostAccess, NONE for none)");
    }

    @Test
    void equalFlagsShouldMakeEqualFilters() {
        MemoryTypeFilter a = MemoryTypeFilter.of(MemoryUsage.DOWNLOAD, HostAccess.RANDOM, 0, 0);
        MemoryTypeFilter b = MemoryTypeFilter.ofFlags(HOST_VISIBLE, HOST_CACHED, DEVICE_LOCAL);
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a.toString()).isEqualTo("MemoryTypeFilter[required=HOST_VISIBLE, preferred=HOST_CACHED,"
                + " notPreferred=DEVICE_LOCAL, excluded=LAZILY_ALLOCATED|PROTECTED|DEVICE_COHERENT_AMD"
                + "|DEVICE_UNCACHED_AMD]");
    }
}
