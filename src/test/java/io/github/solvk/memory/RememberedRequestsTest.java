package io.github.solvk.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import org.junit.jupiter.api.Test;

class RememberedRequestsTest {

    private static AllocationInfo info(long size) {
        return AllocationInfo.builder().size(size).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                .memoryUsage(MemoryUsage.AUTO).build();
    }

    @Test
    void requestsShouldBeFoundByTheInfoObjectTheyWereMadeFrom() {
        RememberedRequests<String> remembered = new RememberedRequests<>();
        AllocationInfo a = info(256);
        assertThat(remembered.find(a)).isNull();
        remembered.remember(a, "a");
        assertThat(remembered.find(a)).isEqualTo("a");
        AllocationInfo equalCopy = a.toBuilder().build();
        assertThat(equalCopy).isEqualTo(a);
        assertThat(remembered.find(equalCopy)).as("by identity, not by equality").isNull();
    }

    @Test
    void everyPlaceShouldBeUsedBeforeAnyIsReplaced() {
        RememberedRequests<Integer> remembered = new RememberedRequests<>();
        AllocationInfo[] infos = new AllocationInfo[RememberedRequests.PLACES];
        for (int i = 0; i < infos.length; i++) {
            infos[i] = info(256 + i);
            remembered.remember(infos[i], i);
        }
        for (int i = 0; i < infos.length; i++) {
            assertThat(remembered.find(infos[i])).isEqualTo(i);
        }
    }

    @Test
    void aFullTableShouldReplaceRarelyYetTakeAnInfoThatKeepsComing() {
        RememberedRequests<Integer> remembered = new RememberedRequests<>();
        AllocationInfo[] infos = new AllocationInfo[RememberedRequests.PLACES];
        for (int i = 0; i < infos.length; i++) {
            infos[i] = info(256 + i);
            remembered.remember(infos[i], i);
        }
        // Ever new infos, each asked once: about one in REPLACE_ONE_IN is taken in, so most first ones stay.
        int calls = 1000;
        for (int i = 0; i < calls; i++) {
            remembered.remember(info(4096 + i), -1);
        }
        int kept = 0;
        for (int i = 0; i < infos.length; i++) {
            kept += remembered.find(infos[i]) != null ? 1 : 0;
        }
        assertThat(kept).as("first infos kept after %d one-off infos", calls).isLessThan(RememberedRequests.PLACES);
        // An info asked again and again (a miss each time until taken) is remembered within a few hundred calls.
        AllocationInfo repeated = info(1 << 20);
        int asked = 0;
        while (remembered.find(repeated) == null && asked < 10_000) {
            remembered.remember(repeated, 7);
            asked++;
        }
        assertThat(remembered.find(repeated)).isEqualTo(7);
        assertThat(asked).isLessThan(2_000);
    }
}
