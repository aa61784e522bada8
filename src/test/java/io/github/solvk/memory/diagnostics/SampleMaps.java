package io.github.solvk.memory.diagnostics;

import java.util.List;

/** Memory maps for the diagnostics tests. */
final class SampleMaps {

    static final int VERTEX = 0x80;
    static final int INDEX = 0x40;
    static final int UNIFORM = 0x10;
    static final int STORAGE = 0x20;
    static final int TRANSFER_SRC = 0x1;
    static final int TRANSFER_DST = 0x2;

    private SampleMaps() {
    }

    static List<HeapInfo> heaps() {
        return List.of(new HeapInfo(0, 8L << 30, HeapInfo.DEVICE_LOCAL, 6L << 30, 80L << 20),
                new HeapInfo(1, 16L << 30, 0, 12L << 30, 1L << 20));
    }

    static List<TypeInfo> types() {
        return List.of(new TypeInfo(0, 0, TypeInfo.DEVICE_LOCAL),
                new TypeInfo(1, 0, TypeInfo.DEVICE_LOCAL | TypeInfo.HOST_VISIBLE | TypeInfo.HOST_COHERENT),
                new TypeInfo(2, 1, TypeInfo.HOST_VISIBLE | TypeInfo.HOST_COHERENT | TypeInfo.HOST_CACHED));
    }

    /** Two pool blocks, one VMA block and one dedicated allocation; every kind of allocation appears once. */
    static MemoryMap sample() {
        String site = "java.lang.Throwable\n\tat game.Terrain.upload(Terrain.java:42)"
                + "\n\tat game.Main.main(Main.java:7)";
        BlockInfo meshes = new BlockInfo("meshes", "meshes block 0", 0, 1 << 20, BlockKind.POOL_BLOCK, List.of(
                Suballocation.buffer(0, 256 << 10, VERTEX | TRANSFER_DST, "terrain \"vertices\" <1>", site),
                Suballocation.buffer(256 << 10, 128 << 10, INDEX | TRANSFER_DST, "terrain indices", null),
                Suballocation.free(384 << 10, 128 << 10),
                Suballocation.buffer(512 << 10, 64 << 10, STORAGE, "particles", null)));
        BlockInfo uniforms = new BlockInfo("frame uniforms", "frame uniforms block 0", 1, 1 << 20,
                BlockKind.POOL_BLOCK, List.of(
                Suballocation.buffer(0, 64 << 10, UNIFORM, "camera", null),
                Suballocation.buffer(64 << 10, 64 << 10, TRANSFER_SRC, "staging", null)));
        BlockInfo vma = new BlockInfo(BlockInfo.VMA_DEFAULT_POOL, "0", 0, 1 << 20, BlockKind.VMA_BLOCK, List.of(
                new Suballocation(0, 512 << 10, SuballocationType.IMAGE_OPTIMAL, 0x6, "albedo", null),
                new Suballocation(512 << 10, 128 << 10, SuballocationType.IMAGE_LINEAR, 0x1, null, null),
                new Suballocation(768 << 10, 64 << 10, SuballocationType.UNKNOWN, 0, null, null)));
        BlockInfo dedicated = BlockInfo.dedicated(BlockInfo.VMA_DEFAULT_POOL, "dedicated 0", 1, 512 << 10,
                SuballocationType.BUFFER, UNIFORM | TRANSFER_DST, "big uniforms", null);
        return new MemoryMap("Test GPU", heaps(), types(), List.of(meshes, uniforms, vma, dedicated));
    }
}
