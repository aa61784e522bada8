package io.github.solvk.memory.suballocator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * A live handle of one suballocator given to another of a different algorithm is foreign: every algorithm draws its
 * instance tag from {@link InstanceTags}, and both handle layouts keep the tag in the same bits.
 */
class ForeignHandleAcrossAlgorithmsTest {

    /** One factory per algorithm; the pool's slots are 256 bytes at the granularity's alignment. */
    private static final Map<SuballocatorKind, SuballocatorFactory> FACTORIES = new LinkedHashMap<>();

    static {
        FACTORIES.put(SuballocatorKind.TLSF, TlsfSuballocator::new);
        FACTORIES.put(SuballocatorKind.BUDDY, BuddySuballocator::new);
        FACTORIES.put(SuballocatorKind.STACK, StackSuballocator::new);
        FACTORIES.put(SuballocatorKind.RING, RingSuballocator::new);
        FACTORIES.put(SuballocatorKind.POOL, (offset, size, granularity) ->
                new FixedSizeSuballocator(offset, size, 256, granularity));
    }

    @Test
    void everyKindShouldHaveAFactoryHere() {
        assertThat(FACTORIES.keySet()).containsExactlyInAnyOrder(SuballocatorKind.values());
    }

    /**
     * docs/suballocators.md says how many suballocators must be made between two instances before they can share a
     * tag (and a handle of one passes as the other's): that number must be exactly the count at which it happens.
     */
    @Test
    void theDocumentedCountOfInstancesBetweenTwoSharingATagShouldBeExact() throws IOException {
        String doc = Files.readString(Path.of("docs/suballocators.md")).replaceAll("\\s+", " ");
        Matcher claim = Pattern.compile("a foreign handle is caught unless ([0-9 ]+?) or more suballocators were made "
                + "between the two").matcher(doc);
        assertThat(claim.find()).as("the claim in docs/suballocators.md").isTrue();
        long documented = Long.parseLong(claim.group(1).replace(" ", ""));
        StackSuballocator first = new StackSuballocator(0, 64);
        long handle = first.tryAllocate(8, 1, AllocationType.LINEAR);
        long between = 0;
        while (true) {
            StackSuballocator next = new StackSuballocator(0, 64);
            if (next.tryAllocate(8, 1, AllocationType.LINEAR) == handle) {
                // Same tag, depth and generation: first's handle passes as next's.
                assertThat(next.offset(handle)).isZero();
                break;
            }
            between++;
        }
        assertThat(between).as("suballocators made between two that share a tag").isEqualTo(documented);
    }

    @Test
    void aLiveHandleOfOneAlgorithmShouldBeForeignToEveryOther() {
        int pairs = 0;
        for (Map.Entry<SuballocatorKind, SuballocatorFactory> owner : FACTORIES.entrySet()) {
            for (Map.Entry<SuballocatorKind, SuballocatorFactory> other : FACTORIES.entrySet()) {
                if (owner.getKey() == other.getKey()) {
                    continue;
                }
                // The same allocations in both, so that index and generation fields coincide wherever the two
                // layouts could: only the tag tells the handles apart.
                Suballocator a = owner.getValue().create(0, 1 << 16, 1);
                Suballocator b = other.getValue().create(0, 1 << 16, 1);
                List<Long> handlesOfA = allocateThree(a);
                List<Long> handlesOfB = allocateThree(b);
                String ownerBefore = SuballocatorContractTest.snapshot(a);
                for (long foreign : handlesOfA) {
                    String value = Long.toHexString(foreign);
                    String pair = owner.getKey() + " handle 0x" + value + " given to " + other.getKey();
                    assertRejectedAs(pair, b, () -> b.free(foreign), value);
                    assertRejectedAs(pair, b, () -> b.offset(foreign), value);
                    assertRejectedAs(pair, b, () -> b.size(foreign), value);
                    assertRejectedAs(pair, b, () -> b.type(foreign), value);
                }
                // Neither side changed: the owner's handles are still live, and so are the other's.
                assertThat(SuballocatorContractTest.snapshot(a)).isEqualTo(ownerBefore);
                assertThat(b.liveCount()).isEqualTo(handlesOfB.size());
                for (long h : handlesOfB) {
                    assertThat(b.size(h)).isEqualTo(256);
                }
                pairs++;
            }
        }
        assertThat(pairs).isEqualTo(5 * 4);
    }

    @Test
    void instancesMadeInTurnOfEveryAlgorithmShouldAllHaveDistinctTags() {
        // With one counter per handle layout, instances made in turn would repeat each other's tags.
        Set<Long> tags = new HashSet<>();
        for (int round = 0; round < 100; round++) {
            for (Map.Entry<SuballocatorKind, SuballocatorFactory> e : FACTORIES.entrySet()) {
                Suballocator s = e.getValue().create(0, 4096, 1);
                long h = s.tryAllocate(16, 1, AllocationType.LINEAR);
                long tag = h >>> InstanceTags.TAG_SHIFT;
                assertThat(tag).as("%s tag", e.getKey()).isBetween(1L, (long) InstanceTags.MAX_TAG);
                assertThat(tags.add(tag)).as("%s tag %d is new", e.getKey(), tag).isTrue();
            }
        }
    }

    @Test
    void bothHandleLayoutsShouldKeepTheTagInTheSameBits() {
        assertThat(SuballocatorHandles.TAG_SHIFT).isEqualTo(InstanceTags.TAG_SHIFT);
        assertThat(IndexedHandles.TAG_SHIFT).isEqualTo(InstanceTags.TAG_SHIFT);
        assertThat(SuballocatorHandles.TAG_BITS).isGreaterThanOrEqualTo(InstanceTags.TAG_BITS);
        assertThat(IndexedHandles.TAG_BITS).isEqualTo(InstanceTags.TAG_BITS);
    }

    private static List<Long> allocateThree(Suballocator s) {
        List<Long> handles = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            long h = s.tryAllocate(256, 1, AllocationType.LINEAR);
            assertThat(h).isNotEqualTo(Suballocator.NULL_HANDLE);
            handles.add(h);
        }
        return handles;
    }

    private static void assertRejectedAs(String pair, Suballocator s, Runnable call, String value) {
        try {
            SuballocatorContractTest.assertRejected(s, call, value);
        } catch (AssertionError e) {
            throw new AssertionError(pair + ": " + e.getMessage(), e);
        }
    }
}
