package io.github.solvk.memory.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.solvk.memory.HostAccess;
import io.github.solvk.memory.MemoryUsage;
import io.github.solvk.memory.vulkan.MemoryProperties;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * Checks the selector against a brute-force model on every recorded layout: exhaustively over every
 * {@code memoryTypeBits} mask for the usages without caller flags, and with random caller flags through jqwik.
 */
class MemoryTypeSelectorPropertiesTest {

    private static final int AMD = MemoryProperties.DEVICE_COHERENT_AMD | MemoryProperties.DEVICE_UNCACHED_AMD;
    private static final int[][] OPT_IN_GROUPS = {{MemoryProperties.LAZILY_ALLOCATED}, {MemoryProperties.PROTECTED},
        {AMD}};

    /** The usage and host access pairs that {@link MemoryTypeFilter#of} accepts without caller flags. */
    static List<MemoryTypeFilter> usageFilters() {
        List<MemoryTypeFilter> filters = new ArrayList<>();
        for (MemoryUsage usage : MemoryUsage.values()) {
            for (HostAccess access : HostAccess.values()) {
                try {
                    filters.add(MemoryTypeFilter.of(usage, access, 0, 0));
                } catch (IllegalArgumentException expected) {
                    // Pairs such as DEVICE_ONLY with RANDOM are rejected; MemoryTypeFilterTest covers them.
                }
            }
        }
        return filters;
    }

    /** Cost computed bit by bit, independently of {@link MemoryTypeFilter#cost}. */
    private static int modelCost(MemoryTypeFilter filter, int flags) {
        int cost = 0;
        for (int bit = 1; bit <= MemoryTypeFilter.KNOWN_FLAGS; bit <<= 1) {
            boolean has = (flags & bit) != 0;
            if ((filter.preferredFlags() & bit) != 0 && !has) {
                cost++;
            }
            if ((filter.notPreferredFlags() & bit) != 0 && has) {
                cost++;
            }
        }
        return cost;
    }

    /** Acceptance from the rule's wording, independently of {@link MemoryTypeFilter#accepts}. */
    private static boolean modelAccepts(MemoryTypeFilter filter, int flags) {
        if ((flags & filter.requiredFlags()) != filter.requiredFlags()) {
            return false;
        }
        int asked = filter.requiredFlags() | filter.preferredFlags();
        for (int[] group : OPT_IN_GROUPS) {
            if ((flags & group[0]) != 0 && (asked & group[0]) == 0) {
                return false;
            }
        }
        return true;
    }

    /** Checks one call pair against the model; returns the chosen index. */
    private static int check(MemoryProperties props, int memoryTypeBits, MemoryTypeFilter filter) {
        int chosen = MemoryTypeSelector.findMemoryTypeIndex(props, memoryTypeBits, filter);
        int[] candidates = MemoryTypeSelector.candidates(props, memoryTypeBits, filter);

        List<Integer> model = new ArrayList<>();
        for (int i = 0; i < props.types().size(); i++) {
            if ((memoryTypeBits & (1 << i)) != 0 && modelAccepts(filter, props.propertyFlags(i))) {
                model.add(i);
            }
        }
        model.sort(Comparator.<Integer>comparingInt(i -> modelCost(filter, props.propertyFlags(i)))
                .thenComparingInt(i -> i));
        String context = filter + " mask 0x" + Integer.toHexString(memoryTypeBits);
        assertThat(candidates).as(context).containsExactly(model.stream().mapToInt(Integer::intValue).toArray());
        assertThat(chosen).as(context).isEqualTo(model.isEmpty() ? -1 : model.get(0));
        if (chosen >= 0) {
            int flags = props.propertyFlags(chosen);
            assertThat(memoryTypeBits & (1 << chosen)).as(context).isNotZero();
            assertThat(flags & filter.requiredFlags()).as(context).isEqualTo(filter.requiredFlags());
            assertThat(flags & filter.excludedFlags()).as(context).isZero();
        }
        return chosen;
    }

    @Test
    void everyMaskOnEveryLayoutShouldMatchTheModel() {
        int calls = 0;
        for (MemoryLayouts.Layout layout : MemoryLayouts.all()) {
            MemoryProperties props = layout.props();
            int all = props.allTypeBits();
            for (MemoryTypeFilter filter : usageFilters()) {
                // Every non-empty mask: at most 2^11 - 1 for the largest recorded layout.
                for (int mask = 1; mask <= all; mask++) {
                    int chosen = check(props, mask, filter);
                    if (chosen >= 0) {
                        int optIn = props.propertyFlags(chosen) & MemoryTypeFilter.OPT_IN_FLAGS;
                        int allowedOptIn = filter.requiredFlags() & MemoryProperties.LAZILY_ALLOCATED;
                        assertThat(optIn & ~allowedOptIn).as("%s %s mask 0x%x: type %d", layout, filter, mask, chosen)
                                .isZero();
                    }
                    calls++;
                }
                check(props, -1, filter);
            }
        }
        assertThat(calls).isGreaterThan(14 * 14);
    }

    @Test
    void singleBitMasksShouldChooseThatTypeOrNothing() {
        for (MemoryLayouts.Layout layout : MemoryLayouts.all()) {
            MemoryProperties props = layout.props();
            for (MemoryTypeFilter filter : usageFilters()) {
                for (int i = 0; i < props.types().size(); i++) {
                    int chosen = MemoryTypeSelector.findMemoryTypeIndex(props, 1 << i, filter);
                    boolean acceptable = filter.accepts(props.propertyFlags(i));
                    assertThat(chosen).as("%s %s type %d", layout, filter, i).isEqualTo(acceptable ? i : -1);
                }
            }
        }
    }

    @Provide
    Arbitrary<MemoryUsage> usages() {
        return Arbitraries.of(MemoryUsage.class);
    }

    @Property(tries = 2000)
    void randomCallerFlagsShouldMatchTheModel(@ForAll @IntRange(min = 0, max = 13) int layoutIndex,
                                              @ForAll("usages") MemoryUsage usage,
                                              @ForAll HostAccess access,
                                              @ForAll @IntRange(min = 0, max = 0x1FF) int required,
                                              @ForAll @IntRange(min = 0, max = 0x1FF) int preferred,
                                              @ForAll int memoryTypeBits) {
        MemoryProperties props = MemoryLayouts.all().get(layoutIndex).props();
        Assume.that((memoryTypeBits & props.allTypeBits()) != 0);
        MemoryTypeFilter filter;
        try {
            filter = MemoryTypeFilter.of(usage, access, required, preferred);
        } catch (IllegalArgumentException rejected) {
            assertThat(rejected.getMessage()).contains("(expected: ");
            return;
        }
        int chosen = check(props, memoryTypeBits, filter);
        if (chosen >= 0) {
            // An opt-in flag on the chosen type was asked for by the caller (or is the lazy usage's own).
            int optIn = props.propertyFlags(chosen) & MemoryTypeFilter.OPT_IN_FLAGS;
            int asked = required | preferred | (usage == MemoryUsage.GPU_LAZILY_ALLOCATED
                    ? MemoryProperties.LAZILY_ALLOCATED : 0);
            if ((asked & AMD) != 0) {
                asked |= AMD;
            }
            assertThat(optIn & ~asked).isZero();
        }
    }
}
