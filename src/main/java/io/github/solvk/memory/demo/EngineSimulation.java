package io.github.solvk.memory.demo;

import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_INDEX_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.vkCmdCopyBuffer;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferCopy;

import io.github.solvk.memory.IBuffer;
import io.github.solvk.memory.IBufferAllocator;
import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.IMemoryPool;
import io.github.solvk.memory.IMemoryPool.CreateInfo;
import io.github.solvk.memory.MemoryManager;
import io.github.solvk.memory.MemoryUsage;
import io.github.solvk.memory.vulkan.VulkanContext;

/**
 * A small engine's frame loop, to show the library at work: meshes streamed into device-local memory through a host
 * ring buffer and GPU copies, per-frame uniform data with 3 frames in flight, per-frame scratch freed at once, and
 * some meshes freed and replaced every frame. Every mesh's content is checked by copying it back.
 *
 * <p>Two backends run the same workload from the same seed: {@link Backend#POOLS} (SOL's pools: a ring buffer for
 * staging and uniforms, a non-linear pool for meshes, a free-at-once pool for scratch) and {@link Backend#VMA} (every
 * buffer its own {@code vmaCreateBuffer}), for {@code --compare-vma}.
 */
final class EngineSimulation {

    /** Where the buffers come from. */
    enum Backend {
        /** SOL's memory pools. */
        POOLS,
        /** Plain VMA: one {@code vmaCreateBuffer} per buffer. */
        VMA
    }

    static final int FRAMES_IN_FLIGHT = 3;
    static final int MESH_USAGE = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT
            | VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT;

    /**
     * What a run measured.
     *
     * @param backend          which backend
     * @param frames           frames run
     * @param allocations      buffers allocated
     * @param seconds          wall time of the frame loop
     * @param peakLiveBytes    the most bytes users held at once
     * @param peakCommitted    the most bytes of device memory held at once
     * @param finalLive        bytes users held at the end of the last frame
     * @param finalCommitted   device memory held at the end of the last frame
     * @param largestFree      largest free range in the mesh pool at the end (0 for VMA)
     * @param totalFree        free bytes in the mesh pool at the end (0 for VMA)
     * @param deviceMemoryAllocations {@code vkAllocateMemory} calls made during the run
     * @param meshesChecked    meshes whose content was read back and compared
     * @param failures         checks that failed
     */
    record Result(Backend backend, int frames, long allocations, double seconds, long peakLiveBytes,
                  long peakCommitted, long finalLive, long finalCommitted, long largestFree, long totalFree,
                  long deviceMemoryAllocations, int meshesChecked, List<String> failures) {

        double allocationsPerSecond() {
            return allocations / Math.max(seconds, 1e-9);
        }

        double fCommit() {
            return peakCommitted / (double) Math.max(1, peakLiveBytes);
        }
    }

    /** A mesh: its device-local buffer and the seed its bytes were made from. */
    private record Mesh(IBuffer buffer, long seed) {
    }

    private final VulkanContext context;
    private final MemoryManager manager;
    private final Backend backend;
    private final PrintStream out;
    private final Random random;
    private final long seed;
    private long allocations;
    private long liveBytes;
    private long peakLive;
    private long peakCommitted;

    EngineSimulation(VulkanContext context, MemoryManager manager, Backend backend, long seed, PrintStream out) {
        this.context = context;
        this.manager = manager;
        this.backend = backend;
        this.seed = seed;
        this.random = new Random(seed);
        this.out = out;
    }

    private java.nio.file.Path memoryMapFolder;
    private List<java.nio.file.Path> memoryMapFiles = List.of();

    /** @param folder where to write the memory map after the last frame, or null for none */
    void writeMemoryMapTo(java.nio.file.Path folder) {
        this.memoryMapFolder = folder;
    }

    List<java.nio.file.Path> memoryMapFiles() {
        return memoryMapFiles;
    }

    Result run(int frames, int meshCount) {
        List<String> failures = new ArrayList<>();
        long vkAllocationsBefore = manager.allocator().deviceMemoryAllocationCount();
        IMemoryPool staging = null;
        IMemoryPool meshesPool = null;
        IMemoryPool uniformsPool = null;
        IMemoryPool scratchPool = null;
        if (backend == Backend.POOLS) {
            staging = manager.createRingBufferMemoryPool("staging ring",
                    CreateInfo.of(VK_BUFFER_USAGE_TRANSFER_SRC_BIT, MemoryUsage.UPLOAD, 16L << 20));
            meshesPool = manager.createNonLinearMemoryPool("meshes",
                    CreateInfo.of(MESH_USAGE, MemoryUsage.DEVICE_ONLY, 16L << 20).withBlocks(1, 64));
            uniformsPool = manager.createRingBufferMemoryPool("frame uniforms",
                    CreateInfo.of(VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, MemoryUsage.UPLOAD, 2L << 20));
            scratchPool = manager.createFreeAtOnceMemoryPool("frame scratch",
                    CreateInfo.of(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                            MemoryUsage.UPLOAD, 1L << 20).withBlocks(1, 4));
        }
        IBufferAllocator stagingFrom = staging != null ? staging : manager;
        IBufferAllocator meshesFrom = meshesPool != null ? meshesPool : manager;
        IBufferAllocator uniformsFrom = uniformsPool != null ? uniformsPool : manager;
        IBufferAllocator scratchFrom = scratchPool != null ? scratchPool : manager;
        List<Mesh> meshes = new ArrayList<>();
        ArrayDeque<List<IBuffer>> uniformFrames = new ArrayDeque<>();
        int checked = 0;
        IBuffer readback = manager.allocateBuffer(AllocationInfo.builder().name("readback").size(2L << 20)
                .bufferUsage(VK_BUFFER_USAGE_TRANSFER_DST_BIT).memoryUsage(MemoryUsage.DOWNLOAD).build());
        long start = System.nanoTime();
        try {
            for (int frame = 0; frame < frames; frame++) {
                // Retire the frame that left flight: its uniform chunks go back to the ring in FIFO order.
                if (uniformFrames.size() == FRAMES_IN_FLIGHT) {
                    for (IBuffer b : uniformFrames.removeFirst()) {
                        free(b);
                    }
                }
                // Free some meshes and stream new ones in.
                int replace = frame == 0 ? meshCount : 1 + random.nextInt(Math.max(1, meshCount / 8));
                for (int i = 0; i < replace && !meshes.isEmpty() && frame > 0; i++) {
                    free(meshes.remove(random.nextInt(meshes.size())).buffer());
                }
                List<IBuffer[]> copies = new ArrayList<>();
                List<IBuffer> stagingChunks = new ArrayList<>();
                List<Mesh> streamed = new ArrayList<>();
                for (int i = 0; i < replace; i++) {
                    long size = logUniform(16L << 10, 1L << 20) & ~3L;
                    long meshSeed = random.nextLong();
                    IBuffer chunk = tryAllocate(stagingFrom, "staging", size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                            MemoryUsage.UPLOAD);
                    if (chunk == null) {
                        // The staging ring is full: run the copies recorded so far, retire their chunks, go on.
                        submitCopies(copies);
                        copies.clear();
                        for (IBuffer done : stagingChunks) {
                            free(done);
                        }
                        stagingChunks.clear();
                        chunk = allocate(stagingFrom, "staging", size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                                MemoryUsage.UPLOAD);
                    }
                    chunk.write(0, bytes(meshSeed, (int) size));
                    IBuffer mesh = allocate(meshesFrom, "mesh", size, MESH_USAGE, MemoryUsage.DEVICE_ONLY);
                    copies.add(new IBuffer[] {chunk, mesh});
                    stagingChunks.add(chunk);
                    streamed.add(new Mesh(mesh, meshSeed));
                }
                // Uniforms for this frame: ~200 chunks of 64-4096 bytes, aligned for descriptors by the pool.
                List<IBuffer> uniforms = new ArrayList<>();
                int uniformCount = 150 + random.nextInt(100);
                float[] values = new float[16];
                for (int i = 0; i < uniformCount; i++) {
                    long size = 64 + random.nextInt(4033);
                    IBuffer u = allocate(uniformsFrom, "uniform", size, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT,
                            MemoryUsage.UPLOAD);
                    Arrays.fill(values, frame + i);
                    u.write(0, values);
                    uniforms.add(u);
                }
                uniformFrames.addLast(uniforms);
                // Scratch: allocated during the frame, all freed at its end.
                List<IBuffer> scratch = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    scratch.add(allocate(scratchFrom, "scratch", 256 + random.nextInt(16 << 10),
                            VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, MemoryUsage.UPLOAD));
                }
                submitCopies(copies);
                // The copies have completed (execute waits), so the staging chunks retire in FIFO order.
                for (IBuffer chunk : stagingChunks) {
                    free(chunk);
                }
                meshes.addAll(streamed);
                // Check one streamed mesh per frame (all of the first frame's) by reading it back.
                List<Mesh> toCheck = frame == 0 ? streamed : List.of(streamed.get(random.nextInt(streamed.size())));
                for (Mesh m : toCheck) {
                    checked++;
                    if (!contentMatches(m, readback)) {
                        failures.add("frame " + frame + ": mesh of " + m.buffer().size() + " bytes read back wrong");
                    }
                }
                sampleCommitted();
                for (IBuffer b : scratch) {
                    free(b);
                }
                if (frames >= 10 && (frame + 1) % Math.max(1, frames / 5) == 0) {
                    out.printf(Locale.ROOT, "  [%s] frame %d/%d: %d meshes, %s live, %s committed%s%n", backend,
                            frame + 1, frames, meshes.size(), Demo.bytes(liveBytes), Demo.bytes(committed()),
                            meshesPool == null ? "" : ", mesh pool " + meshesPool.statistics());
                }
            }
            if (memoryMapFolder != null) {
                memoryMapFiles = manager.writeMemoryMap(memoryMapFolder, context.deviceName());
            }
        } finally {
            double seconds = (System.nanoTime() - start) / 1e9;
            long finalLive = liveBytes;
            long finalCommitted = committed();
            long largestFree = 0;
            long totalFree = 0;
            if (meshesPool != null) {
                largestFree = meshesPool.statistics().largestFreeRange();
                totalFree = meshesPool.statistics().freeBytes();
            }
            for (List<IBuffer> f : uniformFrames) {
                f.forEach(this::free);
            }
            meshes.forEach(m -> free(m.buffer()));
            readback.close();
            for (IMemoryPool pool : new IMemoryPool[] {staging, meshesPool, uniformsPool, scratchPool}) {
                if (pool != null) {
                    if (pool.liveBufferCount() != 0) {
                        failures.add("pool '" + pool.name() + "' has " + pool.liveBufferCount() + " live buffers");
                    }
                    pool.close();
                }
            }
            lastResult = new Result(backend, frames, allocations, seconds, peakLive, peakCommitted, finalLive,
                    finalCommitted, largestFree, totalFree,
                    manager.allocator().deviceMemoryAllocationCount() - vkAllocationsBefore, checked, failures);
        }
        return lastResult;
    }

    private Result lastResult;

    private IBuffer allocate(IBufferAllocator from, String name, long size, int usage, MemoryUsage memoryUsage) {
        IBuffer b;
        if (from instanceof IMemoryPool pool) {
            b = pool.allocateBuffer(new IMemoryPool.AllocationInfo(size, usage, 0, name));
        } else {
            b = from.allocateBuffer(AllocationInfo.builder().name(name).size(size).bufferUsage(usage)
                    .memoryUsage(memoryUsage).build());
        }
        allocations++;
        liveBytes += size;
        peakLive = Math.max(peakLive, liveBytes);
        return b;
    }

    /** As {@link #allocate}, but returns null when a valid request finds no room. */
    private IBuffer tryAllocate(IBufferAllocator from, String name, long size, int usage, MemoryUsage memoryUsage) {
        IBuffer b = from.allocateBuffer(AllocationInfo.builder().name(name).size(size).bufferUsage(usage)
                .memoryUsage(memoryUsage).build(), IBufferAllocator.OnAllocationFailure.EMPTY);
        if (b != null) {
            allocations++;
            liveBytes += size;
            peakLive = Math.max(peakLive, liveBytes);
        }
        return b;
    }

    private void free(IBuffer b) {
        liveBytes -= b.size();
        b.close();
    }

    private long committed() {
        return manager.statistics().total().blockBytes();
    }

    private void sampleCommitted() {
        peakCommitted = Math.max(peakCommitted, committed());
    }

    private long logUniform(long min, long max) {
        double log = Math.log(min) + random.nextDouble() * (Math.log(max) - Math.log(min));
        return (long) Math.exp(log);
    }

    private static byte[] bytes(long seed, int size) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    private void submitCopies(List<IBuffer[]> copies) {
        if (copies.isEmpty()) {
            return;
        }
        context.execute(context.transferQueue(), cmd -> {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                for (IBuffer[] c : copies) {
                    vkCmdCopyBuffer(cmd, c[0].buffer(), c[1].buffer(), VkBufferCopy.calloc(1, stack)
                            .srcOffset(c[0].offset()).dstOffset(c[1].offset()).size(c[0].size()));
                }
            }
        });
    }

    private boolean contentMatches(Mesh mesh, IBuffer readback) {
        IBuffer b = mesh.buffer();
        context.execute(context.transferQueue(), cmd -> {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                vkCmdCopyBuffer(cmd, b.buffer(), readback.buffer(), VkBufferCopy.calloc(1, stack)
                        .srcOffset(b.offset()).dstOffset(readback.offset()).size(b.size()));
            }
        });
        byte[] back = new byte[(int) b.size()];
        readback.read(0, back);
        return Arrays.equals(back, bytes(mesh.seed(), back.length));
    }

    long seed() {
        return seed;
    }
}
