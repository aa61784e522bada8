package io.github.solvk.memory.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemoryMapJsonTest {

    private static final ObjectMapper JACKSON = new ObjectMapper();

    @Test
    void writtenMapShouldBeValidJsonThatJacksonReadsBlockByBlock() throws IOException {
        MemoryMap map = SampleMaps.sample();
        JsonNode root = JACKSON.readTree(MemoryMapJson.write(map));

        assertThat(root.path("General").path("API").asText()).isEqualTo("Vulkan");
        assertThat(root.path("General").path("GPU").asText()).isEqualTo("Test GPU");
        assertThat(root.path("MemoryInfo").path("Heap 0").path("Flags").get(0).asText()).isEqualTo("DEVICE_LOCAL");
        assertThat(root.path("MemoryInfo").path("Heap 0").path("Budget").path("BudgetBytes").asLong())
                .isEqualTo(6L << 30);
        assertThat(root.path("MemoryInfo").path("Heap 1").path("MemoryPools").path("Type 2").path("Flags"))
                .extracting(JsonNode::asText).containsExactly("HOST_VISIBLE", "HOST_COHERENT", "HOST_CACHED");
        assertThat(root.path("Total").path("BlockCount").asLong()).isEqualTo(4);
        assertThat(root.path("Total").path("AllocationCount").asLong()).isEqualTo(9);

        // Rebuild every block from Jackson's tree alone and compare with the original.
        List<BlockInfo> blocks = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.path("DefaultPools").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> type = it.next();
            blocks.addAll(jacksonPool(type.getValue(), BlockInfo.VMA_DEFAULT_POOL, BlockKind.VMA_BLOCK,
                    typeIndex(type.getKey())));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = root.path("CustomPools").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> type = it.next();
            for (JsonNode pool : type.getValue()) {
                blocks.addAll(jacksonPool(pool, pool.path("Name").asText(),
                        BlockKind.valueOf(pool.path("BlockKind").asText()), typeIndex(type.getKey())));
            }
        }
        assertThat(blocks).containsExactlyInAnyOrderElementsOf(map.blocks());
    }

    @Test
    void ownParserShouldReadBackEveryBlockAndSuballocation() {
        MemoryMap map = SampleMaps.sample();
        MemoryMap back = MemoryMapJson.read(MemoryMapJson.write(map));
        assertThat(back.deviceName()).isEqualTo(map.deviceName());
        assertThat(back.heaps()).isEqualTo(map.heaps());
        assertThat(back.types()).isEqualTo(map.types());
        assertThat(back.blocks()).containsExactlyInAnyOrderElementsOf(map.blocks());
    }

    @Test
    void ownParserAndJacksonShouldSeeTheSameTree() throws IOException {
        String json = MemoryMapJson.write(SampleMaps.sample());
        Object ours = Json.parse(json);
        Object jackson = JACKSON.readValue(json, Object.class);
        // Jackson reads small integers as Integer; normalise both trees to longs before comparing.
        assertThat(normalise(ours)).isEqualTo(normalise(jackson));
    }

    @Test
    void poolsShouldBeWhereGpuMemDumpVisLooksForThem() throws IOException {
        JsonNode root = JACKSON.readTree(MemoryMapJson.write(SampleMaps.sample()));
        // GpuMemDumpVis.py: DefaultPools[type].Blocks[id].Suballocations[*].{Type, Size, Usage?},
        // DefaultPools[type].DedicatedAllocations[*].{Type, Size, Usage}, CustomPools[type][*].{Name, Blocks, ...}
        JsonNode vmaBlock = root.path("DefaultPools").path("Type 0").path("Blocks").path("0");
        assertThat(vmaBlock.path("TotalBytes").asLong()).isEqualTo(1 << 20);
        long sum = 0;
        for (JsonNode s : vmaBlock.path("Suballocations")) {
            sum += s.path("Size").asLong();
        }
        assertThat(sum).as("suballocations tile the block").isEqualTo(1 << 20);
        JsonNode dedicated = root.path("DefaultPools").path("Type 1").path("DedicatedAllocations").get(0);
        assertThat(dedicated.path("Type").asText()).isEqualTo("BUFFER");
        assertThat(dedicated.path("Usage").asLong()).isEqualTo(0x12);
        JsonNode meshes = root.path("CustomPools").path("Type 0").get(0);
        assertThat(meshes.path("Name").asText()).isEqualTo("meshes");
        JsonNode first = meshes.path("Blocks").path("meshes block 0").path("Suballocations").get(0);
        assertThat(first.path("Name").asText()).isEqualTo("terrain \"vertices\" <1>");
        assertThat(first.path("AllocationSite").asText()).contains("game.Terrain.upload");
        assertThat(first.path("Usage").asLong()).isEqualTo(0x82);
    }

    @Test
    void vmaDumpShouldMergeWithOurPools() throws IOException {
        String vmaJson;
        try (InputStream in = getClass().getResourceAsStream("vma-detailed-stats.json")) {
            vmaJson = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        BlockInfo uiBlock = new BlockInfo("ui", "ui block 0", 1, 1 << 20, BlockKind.POOL_BLOCK, List.of(
                Suballocation.buffer(0, 4096, SampleMaps.UNIFORM, "hud", null)));
        MemoryMap ours = new MemoryMap("", List.of(), List.of(), List.of(uiBlock));

        MemoryMap merged = MemoryMapJson.mergeVma(ours, vmaJson);

        assertThat(merged.deviceName()).isEqualTo("llvmpipe (LLVM 15.0.6, 256 bits)");
        assertThat(merged.heaps()).containsExactly(
                new HeapInfo(0, 8589934592L, HeapInfo.DEVICE_LOCAL, 6871947673L, 69206016L),
                new HeapInfo(1, 17179869184L, 0, 13743895347L, 0));
        assertThat(merged.types()).containsExactly(
                new TypeInfo(0, 0, TypeInfo.DEVICE_LOCAL),
                new TypeInfo(1, 0, TypeInfo.DEVICE_LOCAL | TypeInfo.HOST_VISIBLE | TypeInfo.HOST_COHERENT),
                new TypeInfo(2, 1, TypeInfo.HOST_VISIBLE | TypeInfo.HOST_COHERENT | TypeInfo.HOST_CACHED));
        // VMA's block 0, VMA's shadow map; "ui block 0" is VMA's view of our pool block and is left out.
        assertThat(merged.blocks()).containsExactly(
                new BlockInfo(BlockInfo.VMA_DEFAULT_POOL, "0", 0, 67108864, BlockKind.VMA_BLOCK, List.of(
                        Suballocation.buffer(0, 262144, 130, "terrain vertices", null),
                        Suballocation.free(262144, 65536),
                        new Suballocation(327680, 3604480, SuballocationType.IMAGE_OPTIMAL, 6, null, null),
                        Suballocation.free(3932160, 63176704))),
                BlockInfo.dedicated(BlockInfo.VMA_DEFAULT_POOL, "dedicated 0", 0, 1048576,
                        SuballocationType.UNKNOWN, 0, "shadow map", null),
                uiBlock);

        // The merged map writes out and reads back whole.
        assertThat(MemoryMapJson.read(MemoryMapJson.write(merged)).blocks())
                .containsExactlyInAnyOrderElementsOf(merged.blocks());
    }

    @Test
    void unreadableVmaJsonShouldNameThePath() {
        assertThatThrownBy(() -> MemoryMapJson.read("{\"DefaultPools\": {\"Type 0\": {\"Blocks\": {\"0\": {}}}}}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("$.DefaultPools.Type 0.Blocks.0.TotalBytes: null (expected: an integer)");
        assertThatThrownBy(() -> MemoryMapJson.read("{\"DefaultPools\": {\"Kind 0\": {}}}"))
                .hasMessageContaining("key 'Kind 0' (expected: 'Type <index>')");
        assertThatThrownBy(() -> MemoryMapJson.read("{\"DefaultPools\": {\"Type 0\": {\"DedicatedAllocations\":"
                + " [{\"Type\": \"TEXTURE2D\", \"Size\": 4}]}}}"))
                .hasMessageContaining("DedicatedAllocations[0].Type: suballocation type: TEXTURE2D");
    }

    private static List<BlockInfo> jacksonPool(JsonNode pool, String poolName, BlockKind kind, int typeIndex) {
        List<BlockInfo> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = pool.path("Blocks").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> block = it.next();
            List<Suballocation> subs = new ArrayList<>();
            for (JsonNode s : block.getValue().path("Suballocations")) {
                subs.add(jacksonSuballocation(s, s.path("Offset").asLong()));
            }
            out.add(new BlockInfo(poolName, block.getKey(), typeIndex, block.getValue().path("TotalBytes").asLong(),
                    kind, subs));
        }
        for (JsonNode d : pool.path("DedicatedAllocations")) {
            Suballocation s = jacksonSuballocation(d, 0);
            out.add(new BlockInfo(poolName, d.path("Block").asText(), typeIndex, s.size(), BlockKind.DEDICATED,
                    List.of(s)));
        }
        return out;
    }

    private static Suballocation jacksonSuballocation(JsonNode s, long offset) {
        return new Suballocation(offset, s.path("Size").asLong(), SuballocationType.valueOf(s.path("Type").asText()),
                (int) s.path("Usage").asLong(0), s.hasNonNull("Name") ? s.path("Name").asText() : null,
                s.hasNonNull("AllocationSite") ? s.path("AllocationSite").asText() : null);
    }

    private static int typeIndex(String key) {
        return Integer.parseInt(key.substring("Type ".length()));
    }

    private static Object normalise(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> out = new java.util.LinkedHashMap<>();
            map.forEach((k, v) -> out.put(k, normalise(v)));
            return out;
        }
        if (value instanceof List<?> list) {
            return list.stream().map(MemoryMapJsonTest::normalise).toList();
        }
        if (value instanceof Integer i) {
            return i.longValue();
        }
        return value;
    }
}
