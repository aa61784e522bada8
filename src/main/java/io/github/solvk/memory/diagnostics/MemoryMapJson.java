package io.github.solvk.memory.diagnostics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a {@link MemoryMap} as JSON in the layout of VMA's detailed statistics string
 * ({@code vmaBuildStatsString(allocator, &s, VK_TRUE)}), reads such JSON back, and merges VMA's own dump into a map of
 * ours, so that one tool, VMA's {@code GpuMemDumpVis.py}, draws VMA's allocations and our pools alike.
 *
 * <p>The layout, top level first:
 * <pre>
 * General       { API: "Vulkan", GPU, memoryHeapCount, memoryTypeCount }
 * Total         Stats
 * MemoryInfo    { "Heap i": { Flags: [names], Size, Budget: { BudgetBytes, UsageBytes }, Stats,
 *                             MemoryPools: { "Type j": { Flags: [names], Stats } } } }
 * DefaultPools  { "Type j": { Blocks: { blockName: Block }, DedicatedAllocations: [Allocation] } }
 * CustomPools   { "Type j": [ { Name: poolName, BlockKind, Blocks: { blockName: Block },
 *                               DedicatedAllocations: [Allocation] } ] }
 *
 * Stats       { BlockCount, BlockBytes, AllocationCount, AllocationBytes, UnusedRangeCount,
 *               AllocationSizeMin/Max (more than one allocation), UnusedRangeSizeMin/Max (more than one range) }
 * Block       { MapRefCount, TotalBytes, UnusedBytes, Allocations, UnusedRanges, Suballocations: [Suballocation] }
 * Suballocation { Offset, Type, Size, Usage, Name?, AllocationSite? }      (free ranges: Offset, Type, Size)
 * Allocation  { Type, Size, Usage, Name?, AllocationSite?, Block }        (a dedicated allocation)
 * </pre>
 * Blocks of {@link BlockInfo#VMA_DEFAULT_POOL} go to {@code DefaultPools}, every other pool to {@code CustomPools}
 * under its name. Three keys are ours and ignored by VMA's tools: {@code AllocationSite}, {@code Block} (the name of a
 * dedicated block; VMA's dedicated allocations have none) and {@code BlockKind} (VMA's own custom pools have none and
 * read as {@link BlockKind#VMA_BLOCK}).
 */
public final class MemoryMapJson {

    private static final String[] HEAP_FLAG_NAMES = {"DEVICE_LOCAL", "MULTI_INSTANCE"};
    private static final String[] TYPE_FLAG_NAMES = {"DEVICE_LOCAL", "HOST_VISIBLE", "HOST_COHERENT", "HOST_CACHED",
        "LAZILY_ALLOCATED", "PROTECTED", "DEVICE_COHERENT_AMD", "DEVICE_UNCACHED_AMD"};

    private MemoryMapJson() {
    }

    /**
     * Writes a memory map in the layout of VMA's detailed statistics string.
     *
     * @param map a memory map
     * @return indented JSON
     */
    public static String write(MemoryMap map) {
        java.util.Objects.requireNonNull(map, "map: null (expected: a MemoryMap)");
        JsonWriter json = new JsonWriter();
        json.beginObject();

        json.name("General").beginObject()
                .field("API", "Vulkan")
                .field("GPU", map.deviceName())
                .field("memoryHeapCount", map.heaps().size())
                .field("memoryTypeCount", map.types().size())
                .endObject();

        json.name("Total");
        writeStats(json, map.blocks());

        json.name("MemoryInfo").beginObject();
        for (HeapInfo heap : map.heaps()) {
            json.name("Heap " + heap.index()).beginObject();
            json.name("Flags");
            writeFlags(json, heap.flags(), HEAP_FLAG_NAMES);
            json.field("Size", heap.size());
            json.name("Budget").beginObject()
                    .field("BudgetBytes", heap.budgetBytes())
                    .field("UsageBytes", heap.usageBytes())
                    .endObject();
            json.name("Stats");
            writeStats(json, map.blocks().stream().filter(b -> map.heapOf(b.memoryTypeIndex()) == heap.index())
                    .toList());
            json.name("MemoryPools").beginObject();
            for (TypeInfo type : map.types()) {
                if (type.heapIndex() == heap.index()) {
                    json.name(typeKey(type.index())).beginObject();
                    json.name("Flags");
                    writeFlags(json, type.propertyFlags(), TYPE_FLAG_NAMES);
                    json.name("Stats");
                    writeStats(json, map.blocks().stream().filter(b -> b.memoryTypeIndex() == type.index()).toList());
                    json.endObject();
                }
            }
            json.endObject();
            json.endObject();
        }
        json.endObject();

        // type index -> blocks of the default pool
        Map<Integer, List<BlockInfo>> defaults = new TreeMap<>();
        // type index -> pool name -> blocks
        Map<Integer, Map<String, List<BlockInfo>>> customs = new TreeMap<>();
        for (BlockInfo block : map.blocks()) {
            if (block.pool().equals(BlockInfo.VMA_DEFAULT_POOL)) {
                defaults.computeIfAbsent(block.memoryTypeIndex(), k -> new ArrayList<>()).add(block);
            } else {
                customs.computeIfAbsent(block.memoryTypeIndex(), k -> new LinkedHashMap<>())
                        .computeIfAbsent(block.pool(), k -> new ArrayList<>()).add(block);
            }
        }

        json.name("DefaultPools").beginObject();
        for (Map.Entry<Integer, List<BlockInfo>> e : defaults.entrySet()) {
            json.name(typeKey(e.getKey())).beginObject();
            writeBlocksAndDedicated(json, e.getValue());
            json.endObject();
        }
        json.endObject();

        json.name("CustomPools").beginObject();
        for (Map.Entry<Integer, Map<String, List<BlockInfo>>> e : customs.entrySet()) {
            json.name(typeKey(e.getKey())).beginArray();
            for (Map.Entry<String, List<BlockInfo>> pool : e.getValue().entrySet()) {
                json.beginObject();
                json.field("Name", pool.getKey());
                BlockKind kind = pool.getValue().stream().map(BlockInfo::kind).filter(k -> k != BlockKind.DEDICATED)
                        .findFirst().orElse(BlockKind.POOL_BLOCK);
                json.field("BlockKind", kind.name());
                writeBlocksAndDedicated(json, pool.getValue());
                json.endObject();
            }
            json.endArray();
        }
        json.endObject();

        json.endObject();
        return json.toString();
    }

    private static void writeBlocksAndDedicated(JsonWriter json, List<BlockInfo> blocks) {
        json.name("Blocks").beginObject();
        for (BlockInfo block : blocks) {
            if (block.kind() == BlockKind.DEDICATED) {
                continue;
            }
            int unusedRanges = block.suballocations().size() - block.allocationCount();
            json.name(block.name()).beginObject()
                    .field("MapRefCount", 0)
                    .field("TotalBytes", block.size())
                    .field("UnusedBytes", block.size() - block.usedBytes())
                    .field("Allocations", block.allocationCount())
                    .field("UnusedRanges", unusedRanges);
            json.name("Suballocations").beginArray();
            for (Suballocation s : block.suballocations()) {
                json.beginObject().field("Offset", s.offset()).field("Type", s.type().name()).field("Size", s.size());
                if (!s.isFree()) {
                    json.field("Usage", Integer.toUnsignedLong(s.usage()));
                    json.optional("Name", s.name()).optional("AllocationSite", s.allocationSite());
                }
                json.endObject();
            }
            json.endArray();
            json.endObject();
        }
        json.endObject();
        json.name("DedicatedAllocations").beginArray();
        for (BlockInfo block : blocks) {
            if (block.kind() == BlockKind.DEDICATED) {
                Suballocation s = block.suballocations().get(0);
                json.beginObject()
                        .field("Type", s.type().name())
                        .field("Size", s.size())
                        .field("Usage", Integer.toUnsignedLong(s.usage()))
                        .optional("Name", s.name())
                        .optional("AllocationSite", s.allocationSite())
                        .field("Block", block.name())
                        .endObject();
            }
        }
        json.endArray();
    }

    /** VMA's {@code VmaDetailedStatistics} as JSON; dedicated allocations count as blocks, as in VMA. */
    private static void writeStats(JsonWriter json, List<BlockInfo> blocks) {
        long blockCount = 0;
        long blockBytes = 0;
        long allocationCount = 0;
        long allocationBytes = 0;
        long unusedRangeCount = 0;
        long allocationMin = Long.MAX_VALUE;
        long allocationMax = 0;
        long unusedMin = Long.MAX_VALUE;
        long unusedMax = 0;
        for (BlockInfo block : blocks) {
            blockCount++;
            blockBytes += block.size();
            for (Suballocation s : block.suballocations()) {
                if (s.isFree()) {
                    unusedRangeCount++;
                    unusedMin = Math.min(unusedMin, s.size());
                    unusedMax = Math.max(unusedMax, s.size());
                } else {
                    allocationCount++;
                    allocationBytes += s.size();
                    allocationMin = Math.min(allocationMin, s.size());
                    allocationMax = Math.max(allocationMax, s.size());
                }
            }
        }
        json.beginObject()
                .field("BlockCount", blockCount)
                .field("BlockBytes", blockBytes)
                .field("AllocationCount", allocationCount)
                .field("AllocationBytes", allocationBytes)
                .field("UnusedRangeCount", unusedRangeCount);
        if (allocationCount > 1) {
            json.field("AllocationSizeMin", allocationMin).field("AllocationSizeMax", allocationMax);
        }
        if (unusedRangeCount > 1) {
            json.field("UnusedRangeSizeMin", unusedMin).field("UnusedRangeSizeMax", unusedMax);
        }
        json.endObject();
    }

    private static void writeFlags(JsonWriter json, int flags, String[] names) {
        json.beginArray();
        for (int bit = 0; bit < names.length; bit++) {
            if ((flags & (1 << bit)) != 0) {
                json.value(names[bit]);
            }
        }
        int rest = flags & ~((1 << names.length) - 1);
        if (rest != 0) {
            json.value(Integer.toUnsignedLong(rest));
        }
        json.endArray();
    }

    private static String typeKey(int typeIndex) {
        return "Type " + typeIndex;
    }

    /**
     * Reads JSON in the layout of VMA's detailed statistics string: VMA's own ({@code vmaBuildStatsString} with
     * {@code detailedMap = VK_TRUE}) or one written by {@link #write}.
     *
     * <p>Blocks of {@code DefaultPools} belong to {@link BlockInfo#VMA_DEFAULT_POOL} with kind
     * {@link BlockKind#VMA_BLOCK}; a custom pool's blocks get its {@code Name} and its {@code BlockKind} (VMA's own
     * custom pools: {@link BlockKind#VMA_BLOCK}); a dedicated allocation without a {@code Block} key is named
     * {@code "dedicated i"}, {@code i} counting within its pool and memory type. A suballocation without
     * {@code Offset} starts where the previous one ended. Keys not described in {@link MemoryMapJson} are ignored.
     *
     * @param json the JSON text
     * @return the memory map it describes
     * @throws IllegalArgumentException when the text is not JSON or lacks a value the layout requires; the message
     *                                  names the path of the bad value
     */
    public static MemoryMap read(String json) {
        Map<String, Object> root = asObject(Json.parse(json), "$");
        String deviceName = "unknown";
        if (root.get("General") instanceof Map<?, ?> general && general.get("GPU") instanceof String gpu) {
            deviceName = gpu;
        }

        TreeMap<Integer, HeapInfo> heaps = new TreeMap<>();
        TreeMap<Integer, TypeInfo> types = new TreeMap<>();
        if (root.containsKey("MemoryInfo")) {
            Map<String, Object> memoryInfo = asObject(root.get("MemoryInfo"), "$.MemoryInfo");
            for (Map.Entry<String, Object> e : memoryInfo.entrySet()) {
                String path = "$.MemoryInfo." + e.getKey();
                int heapIndex = indexOf(e.getKey(), "Heap ", path);
                Map<String, Object> heap = asObject(e.getValue(), path);
                long budget = 0;
                long usage = 0;
                if (heap.containsKey("Budget")) {
                    Map<String, Object> b = asObject(heap.get("Budget"), path + ".Budget");
                    budget = optLong(b, "BudgetBytes", path + ".Budget", 0);
                    usage = optLong(b, "UsageBytes", path + ".Budget", 0);
                }
                heaps.put(heapIndex, new HeapInfo(heapIndex, optLong(heap, "Size", path, 0),
                        readFlags(heap.get("Flags"), HEAP_FLAG_NAMES, path + ".Flags"), budget, usage));
                if (heap.containsKey("MemoryPools")) {
                    for (Map.Entry<String, Object> t : asObject(heap.get("MemoryPools"), path + ".MemoryPools")
                            .entrySet()) {
                        String typePath = path + ".MemoryPools." + t.getKey();
                        int typeIndex = indexOf(t.getKey(), "Type ", typePath);
                        Map<String, Object> type = asObject(t.getValue(), typePath);
                        types.put(typeIndex, new TypeInfo(typeIndex, heapIndex,
                                readFlags(type.get("Flags"), TYPE_FLAG_NAMES, typePath + ".Flags")));
                    }
                }
            }
        }

        List<BlockInfo> blocks = new ArrayList<>();
        if (root.containsKey("DefaultPools")) {
            for (Map.Entry<String, Object> e : asObject(root.get("DefaultPools"), "$.DefaultPools").entrySet()) {
                String path = "$.DefaultPools." + e.getKey();
                int typeIndex = indexOf(e.getKey(), "Type ", path);
                readPool(asObject(e.getValue(), path), BlockInfo.VMA_DEFAULT_POOL, BlockKind.VMA_BLOCK, typeIndex,
                        path, blocks);
            }
        }
        if (root.containsKey("CustomPools")) {
            for (Map.Entry<String, Object> e : asObject(root.get("CustomPools"), "$.CustomPools").entrySet()) {
                String path = "$.CustomPools." + e.getKey();
                int typeIndex = indexOf(e.getKey(), "Type ", path);
                List<Object> pools = asArray(e.getValue(), path);
                for (int i = 0; i < pools.size(); i++) {
                    String poolPath = path + "[" + i + "]";
                    Map<String, Object> pool = asObject(pools.get(i), poolPath);
                    String name = asString(pool.get("Name"), poolPath + ".Name");
                    BlockKind kind = BlockKind.VMA_BLOCK;
                    if (pool.containsKey("BlockKind")) {
                        String kindName = asString(pool.get("BlockKind"), poolPath + ".BlockKind");
                        try {
                            kind = BlockKind.valueOf(kindName);
                        } catch (IllegalArgumentException ex) {
                            throw new IllegalArgumentException(poolPath + ".BlockKind: " + kindName
                                    + " (expected: VMA_BLOCK or POOL_BLOCK)", ex);
                        }
                    }
                    readPool(pool, name, kind, typeIndex, poolPath, blocks);
                }
            }
        }
        return new MemoryMap(deviceName, contiguous(heaps, "heap"), contiguous(types, "memory type"), blocks);
    }

    private static void readPool(Map<String, Object> pool, String poolName, BlockKind kind, int typeIndex,
            String path, List<BlockInfo> out) {
        if (pool.containsKey("Blocks")) {
            for (Map.Entry<String, Object> b : asObject(pool.get("Blocks"), path + ".Blocks").entrySet()) {
                String blockPath = path + ".Blocks." + b.getKey();
                Map<String, Object> block = asObject(b.getValue(), blockPath);
                long size = requireLong(block, "TotalBytes", blockPath);
                List<Suballocation> subs = new ArrayList<>();
                List<Object> list = block.containsKey("Suballocations")
                        ? asArray(block.get("Suballocations"), blockPath + ".Suballocations") : List.of();
                long next = 0;
                for (int i = 0; i < list.size(); i++) {
                    String subPath = blockPath + ".Suballocations[" + i + "]";
                    Map<String, Object> sub = asObject(list.get(i), subPath);
                    long offset = optLong(sub, "Offset", subPath, next);
                    Suballocation s = readAllocation(sub, offset, subPath);
                    subs.add(s);
                    next = s.end();
                }
                out.add(new BlockInfo(poolName, b.getKey(), typeIndex, size, kind, subs));
            }
        }
        if (pool.containsKey("DedicatedAllocations")) {
            List<Object> list = asArray(pool.get("DedicatedAllocations"), path + ".DedicatedAllocations");
            for (int i = 0; i < list.size(); i++) {
                String allocPath = path + ".DedicatedAllocations[" + i + "]";
                Map<String, Object> alloc = asObject(list.get(i), allocPath);
                Suballocation s = readAllocation(alloc, 0, allocPath);
                String blockName = alloc.containsKey("Block")
                        ? asString(alloc.get("Block"), allocPath + ".Block") : "dedicated " + i;
                out.add(new BlockInfo(poolName, blockName, typeIndex, s.size(), BlockKind.DEDICATED, List.of(s)));
            }
        }
    }

    private static Suballocation readAllocation(Map<String, Object> sub, long offset, String path) {
        String typeName = asString(sub.get("Type"), path + ".Type");
        SuballocationType type;
        try {
            type = SuballocationType.fromVmaName(typeName);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ".Type: " + e.getMessage(), e);
        }
        long size = requireLong(sub, "Size", path);
        long usage = optLong(sub, "Usage", path, 0);
        String name = sub.get("Name") instanceof String n ? n : null;
        String site = sub.get("AllocationSite") instanceof String a ? a : null;
        try {
            return new Suballocation(offset, size, type, (int) usage, name, site);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Merges VMA's own dump into a map of ours, so that one dump shows every allocation of the device.
     *
     * <p>The result has our device name, heaps and memory types, or VMA's where ours are empty (VMA's heaps carry
     * its budget). Its blocks are VMA's, then ours. A VMA dedicated allocation whose {@code Name} is the
     * {@linkplain BlockInfo#name() name} of one of our blocks of the same memory type is left out: it is the device
     * memory of that block, which our block shows in detail (the size must match too, and the name is compared as VMA
     * gives it back: cut at a NUL, a lone surrogate as {@code '?'}, control characters other than {@code \b \f \n \r
     * \t} dropped). The root package therefore names the VMA allocation of
     * each pool block ({@code vmaSetAllocationName}) with that block's {@link BlockInfo#name()}. When our block lies
     * inside one of VMA's blocks instead, VMA's block keeps it as one range with that name, and our row shows what is
     * inside. {@code ours} should hold only our own pools: blocks of {@link BlockInfo#VMA_DEFAULT_POOL} come from VMA.
     *
     * @param ours                 the map built from our pools
     * @param vmaDetailedStatsJson VMA's {@code vmaBuildStatsString} with {@code detailedMap = VK_TRUE}
     * @return the merged map
     * @throws IllegalArgumentException when VMA's JSON cannot be read (see {@link #read}) or the merged blocks are
     *                                  not a valid {@link MemoryMap}
     */
    public static MemoryMap mergeVma(MemoryMap ours, String vmaDetailedStatsJson) {
        java.util.Objects.requireNonNull(ours, "ours: null (expected: a MemoryMap)");
        MemoryMap vma = read(vmaDetailedStatsJson);
        // How many of our blocks have each key: each one hides one VMA dedicated allocation.
        Map<String, Integer> ourBlocks = new HashMap<>();
        for (BlockInfo block : ours.blocks()) {
            if (!block.pool().equals(BlockInfo.VMA_DEFAULT_POOL)) {
                ourBlocks.merge(blockKey(block.memoryTypeIndex(), block.size(), vmaEcho(block.name())), 1,
                        Integer::sum);
            }
        }
        List<BlockInfo> blocks = new ArrayList<>();
        for (BlockInfo block : vma.blocks()) {
            if (block.kind() == BlockKind.DEDICATED) {
                String resource = block.suballocations().get(0).name();
                // VMA's name is compared as VMA gives names back; the size tells our block from a user's dedicated
                // buffer that merely has its name.
                if (resource != null && takeOne(ourBlocks, blockKey(block.memoryTypeIndex(), block.size(),
                        vmaEcho(resource)))) {
                    continue;
                }
            }
            blocks.add(block);
        }
        blocks.addAll(ours.blocks());
        return new MemoryMap(
                ours.deviceName().isEmpty() ? vma.deviceName() : ours.deviceName(),
                ours.heaps().isEmpty() ? vma.heaps() : ours.heaps(),
                ours.types().isEmpty() ? vma.types() : ours.types(),
                blocks);
    }

    /** Takes one from the count of {@code key}; false when there is none. */
    private static boolean takeOne(Map<String, Integer> counts, String key) {
        Integer n = counts.get(key);
        if (n == null) {
            return false;
        }
        if (n == 1) {
            counts.remove(key);
        } else {
            counts.put(key, n - 1);
        }
        return true;
    }

    private static String blockKey(int memoryTypeIndex, long size, String name) {
        return memoryTypeIndex + "\u0000" + size + "\u0000" + name;
    }

    /**
     * A name as VMA's JSON gives it back after {@code vmaSetAllocationName}: a C string ends at the first NUL,
     * LWJGL's UTF-8 encoder writes a lone surrogate as {@code '?'}, and VMA's JSON writer drops the control characters
     * it has no escape for (all below U+0020 but backspace, form feed, new line, carriage return and tab).
     */
    static String vmaEcho(String name) {
        StringBuilder sb = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == 0) {
                break;
            }
            if (c < 0x20 && c != '\b' && c != '\f' && c != '\n' && c != '\r' && c != '\t') {
                continue;
            }
            sb.append(Json.isLoneSurrogate(name, i) ? '?' : c);
        }
        return sb.toString();
    }

    private static int readFlags(Object value, String[] names, String path) {
        if (value == null) {
            return 0;
        }
        int flags = 0;
        List<Object> list = asArray(value, path);
        for (int i = 0; i < list.size(); i++) {
            Object v = list.get(i);
            if (v instanceof Long n) {
                flags |= n.intValue();
                continue;
            }
            String name = asString(v, path + "[" + i + "]");
            int bit = List.of(names).indexOf(name);
            if (bit < 0) {
                throw new IllegalArgumentException(path + "[" + i + "]: " + name + " (expected: one of "
                        + List.of(names) + " or a number)");
            }
            flags |= 1 << bit;
        }
        return flags;
    }

    private static <T> List<T> contiguous(TreeMap<Integer, T> byIndex, String what) {
        List<T> list = new ArrayList<>(byIndex.values());
        int expected = 0;
        for (Integer index : byIndex.keySet()) {
            if (index != expected) {
                throw new IllegalArgumentException(what + " index: " + index + " (expected: " + expected
                        + "; indices from 0 without gaps)");
            }
            expected++;
        }
        return list;
    }

    private static int indexOf(String key, String prefix, String path) {
        if (key.startsWith(prefix)) {
            try {
                return Integer.parseInt(key.substring(prefix.length()));
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException(path + ": key '" + key + "' (expected: '" + prefix + "<index>')");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asObject(Object value, String path) {
        if (value instanceof Map<?, ?> map) {
            return (Map<String, Object>) map;
        }
        throw new IllegalArgumentException(path + ": " + describe(value) + " (expected: an object)");
    }

    @SuppressWarnings("unchecked")
    private static List<Object> asArray(Object value, String path) {
        if (value instanceof List<?> list) {
            return (List<Object>) list;
        }
        throw new IllegalArgumentException(path + ": " + describe(value) + " (expected: an array)");
    }

    private static String asString(Object value, String path) {
        if (value instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException(path + ": " + describe(value) + " (expected: a string)");
    }

    private static long requireLong(Map<String, Object> object, String key, String path) {
        Object value = object.get(key);
        if (value instanceof Long n) {
            return n;
        }
        throw new IllegalArgumentException(path + "." + key + ": " + describe(value) + " (expected: an integer)");
    }

    private static long optLong(Map<String, Object> object, String key, String path, long fallback) {
        return object.containsKey(key) ? requireLong(object, key, path) : fallback;
    }

    private static String describe(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof String s) {
            return Json.quote(s);
        }
        if (value instanceof Map) {
            return "an object";
        }
        if (value instanceof List) {
            return "an array";
        }
        return value.toString();
    }
}
