package io.github.solvk.memory.demo;

import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_INDEX_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;
import static org.lwjgl.vulkan.VK10.vkCmdCopyBuffer;
import static org.lwjgl.vulkan.VK12.VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferCopy;

import io.github.solvk.memory.BlockPoolBufferAllocator;
import io.github.solvk.memory.IBuffer;
import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.MemoryManager;
import io.github.solvk.memory.MemoryUsage;
import io.github.solvk.memory.pool.BlockPoolAllocator;
import io.github.solvk.memory.vulkan.MemoryProperties;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * The demo behind the README's main command: makes a manager on the default device, allocates buffers of several
 * usages, moves data through the GPU with copies, checks what comes back, and prints what it did and VMA's
 * statistics as tables. Exits with status 1 if any check fails, 2 for bad options (named in the message, before any
 * work).
 *
 * <p>Options: {@code --device NAME|INDEX} (else {@value VulkanContext#DEVICE_ENV} or the best device),
 * {@code --validation} (enable the Khronos validation layer and fail on any error it reports),
 * {@code --seed N}, {@code --frames N}, {@code --meshes N} (1 to {@value #MAX_MESHES}), {@code --mesh-bytes N},
 * {@code --out DIR} and {@code --compare-vma} (these two need {@code --frames} of 1 or more); {@code --help} describes
 * each.
 */
public final class Demo {

    /** The most meshes the simulation can keep: 512 of up to 1 MiB in a mesh pool of up to 1 GiB. */
    static final int MAX_MESHES = 512;

    private static final String USAGE = String.join(System.lineSeparator(),
            "usage: demo [--device NAME|INDEX] [--validation] [--seed N] [--frames N] [--meshes N]"
                    + " [--compare-vma] [--out DIR] [--mesh-bytes N]",
            "  --device NAME|INDEX  the device, by index or part of its name (else SOLVK_DEVICE, else the best)",
            "  --validation         enable the Khronos validation layer; any error it reports fails the run",
            "  --seed N             the random seed (default 1)",
            "  --frames N           engine simulation frames, 0 for none (default 120)",
            "  --meshes N           meshes the simulation keeps live, 1 to " + MAX_MESHES + " (default 48)",
            "  --mesh-bytes N       the first part's mesh size, a positive multiple of 4 (default 4194304)",
            "  --compare-vma        run the simulation through plain VMA too, side by side",
            "  --out DIR            where the simulation writes the memory map (default target/demo)",
            "exit status: 0 when every check passed, 1 when one failed, 2 for bad options");

    private final PrintStream out;

    /** Records and runs one buffer copy; tests put a faulty one in to see that the checks catch it. */
    @FunctionalInterface
    interface Copier {
        void copy(VulkanContext context, IBuffer src, IBuffer dst, long size);
    }

    private Copier copier = Demo::copy;

    Demo(PrintStream out) {
        this.out = out;
    }

    /** @param copier runs the first part's copies instead of a plain {@code vkCmdCopyBuffer}; for tests */
    Demo withCopier(Copier copier) {
        this.copier = copier;
        return this;
    }

    /**
     * Runs the demo.
     *
     * @param args see the class documentation
     */
    public static void main(String[] args) {
        int status;
        try {
            status = new Demo(System.out).run(args);
        } catch (IllegalArgumentException e) {
            System.err.println("demo: " + e.getMessage());
            status = 2;
        }
        System.exit(status);
    }

    int run(String[] args) {
        String device = null;
        boolean validation = false;
        long seed = 1;
        int meshBytes = 4 << 20;
        int frames = 120;
        int meshes = 48;
        boolean compareVma = false;
        java.nio.file.Path outDir = java.nio.file.Path.of("target", "demo");
        boolean outGiven = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = value(args, ++i);
                case "--validation" -> validation = true;
                case "--seed" -> seed = parseLong("--seed", value(args, ++i));
                case "--mesh-bytes" -> meshBytes = parseInt("--mesh-bytes", value(args, ++i),
                        "a positive multiple of 4");
                case "--frames" -> frames = parseInt("--frames", value(args, ++i), ">= 0");
                case "--meshes" -> meshes = parseInt("--meshes", value(args, ++i), "1 to " + MAX_MESHES);
                case "--compare-vma" -> compareVma = true;
                case "--out" -> {
                    outDir = java.nio.file.Path.of(value(args, ++i));
                    outGiven = true;
                }
                case "--help", "-h" -> {
                    out.println(USAGE);
                    return 0;
                }
                default -> throw new IllegalArgumentException("unknown option: " + args[i]
                        + " (expected: --device, --validation, --seed, --frames, --meshes, --compare-vma,"
                        + " --out, --mesh-bytes, --help)");
            }
        }
        if (frames < 0) {
            throw new IllegalArgumentException("--frames: " + frames + " (expected: >= 0)");
        }
        if (meshes < 1 || meshes > MAX_MESHES) {
            // The simulation keeps that many meshes of up to 1 MiB live in a mesh pool of at most 1 GiB: more would
            // run out of pool memory part way through, after minutes of work.
            throw new IllegalArgumentException("--meshes: " + meshes + " (expected: 1 to " + MAX_MESHES
                    + ", the meshes of up to 1 MiB that the simulation's mesh pool of 64 blocks of 16 MiB holds)");
        }
        if (meshBytes <= 0 || meshBytes % 4 != 0) {
            throw new IllegalArgumentException("--mesh-bytes: " + meshBytes + " (expected: a positive multiple of 4)");
        }
        if (frames == 0 && (outGiven || compareVma)) {
            // Only the engine simulation writes the memory map and compares with VMA: the option would do nothing.
            throw new IllegalArgumentException((outGiven ? "--out" : "--compare-vma") + " with --frames 0 (expected:"
                    + " --frames >= 1; the engine simulation writes the memory map and runs the VMA comparison)");
        }
        if (frames > 0) {
            checkOutFolder(outDir);
        }
        VulkanContext.Builder builder = VulkanContext.builder().validation(validation).applicationName("solvk demo");
        if (device != null) {
            builder.device(device);
        }
        List<String> failures = new ArrayList<>();
        try (VulkanContext context = builder.build()) {
            printDevice(context);
            try (MemoryManager manager = MemoryManager.create(context)) {
                exercise(context, manager, seed, meshBytes, failures);
                levelLoadAndUnload(manager, seed, failures);
                out.println();
                out.println("After freeing every buffer: " + manager.statistics().total().allocationCount()
                        + " live VMA allocations, " + manager.liveBufferCount() + " open buffers.");
                if (manager.statistics().total().allocationCount() != 0) {
                    failures.add("VMA still holds allocations after every buffer was closed");
                }
            }
            if (frames > 0) {
                simulate(context, frames, meshes, seed, compareVma, outDir, failures);
            }
            for (VulkanContext.ValidationMessage m : context.validationErrors()) {
                failures.add("validation: " + m);
            }
        }
        out.println();
        if (failures.isEmpty()) {
            out.println("RESULT: OK, every check passed.");
            return 0;
        }
        out.println("RESULT: FAILED");
        failures.forEach(f -> out.println("  - " + f));
        return 1;
    }

    private void simulate(VulkanContext context, int frames, int meshes, long seed, boolean compareVma,
                          java.nio.file.Path outDir, List<String> failures) {
        out.println();
        out.println("Engine simulation: " + frames + " frames, " + meshes + " meshes streamed through a staging ring,"
                + " " + EngineSimulation.FRAMES_IN_FLIGHT + " frames of uniforms in flight, per-frame scratch:");
        List<EngineSimulation.Result> results = new ArrayList<>();
        for (EngineSimulation.Backend backend : compareVma ? EngineSimulation.Backend.values()
                : new EngineSimulation.Backend[] {EngineSimulation.Backend.POOLS}) {
            try (MemoryManager manager = MemoryManager.create(context)) {
                EngineSimulation simulation = new EngineSimulation(context, manager, backend, seed, out);
                if (backend == EngineSimulation.Backend.POOLS) {
                    simulation.writeMemoryMapTo(outDir);
                }
                EngineSimulation.Result r = simulation.run(frames, meshes);
                for (java.nio.file.Path file : simulation.memoryMapFiles()) {
                    out.println("  wrote " + file);
                }
                results.add(r);
                for (String f : r.failures()) {
                    failures.add(backend + ": " + f);
                }
                if (manager.statistics().total().allocationCount() != 0) {
                    failures.add(backend + ": VMA still holds allocations after the simulation");
                }
            }
        }
        out.println();
        List<String> header = new ArrayList<>(List.of("metric"));
        results.forEach(r -> header.add(r.backend() == EngineSimulation.Backend.POOLS ? "solvk pools" : "plain VMA"));
        Table table = new Table(header.toArray(new String[0]));
        addRow(table, results, "frames", r -> String.valueOf(r.frames()));
        addRow(table, results, "buffers allocated", r -> String.valueOf(r.allocations()));
        addRow(table, results, "allocations per second", r -> String.format(Locale.ROOT, "%,.0f",
                r.allocationsPerSecond()));
        addRow(table, results, "live bytes at the end", r -> bytes(r.finalLive()));
        addRow(table, results, "committed bytes at the end", r -> bytes(r.finalCommitted()));
        addRow(table, results, "peak live / peak committed", r -> bytes(r.peakLiveBytes()) + " / "
                + bytes(r.peakCommitted()));
        addRow(table, results, "F_commit (peak committed / peak live)", r -> String.format(Locale.ROOT, "%.2f",
                r.fCommit()));
        addRow(table, results, "mesh pool largest free / total free", r -> r.totalFree() == 0 ? "-"
                : bytes(r.largestFree()) + " / " + bytes(r.totalFree()));
        addRow(table, results, "vkAllocateMemory calls", r -> String.valueOf(r.deviceMemoryAllocations()));
        addRow(table, results, "meshes read back and checked", r -> String.valueOf(r.meshesChecked()));
        addRow(table, results, "failures", r -> String.valueOf(r.failures().size()));
        table.print(out);
    }

    private static void addRow(Table table, List<EngineSimulation.Result> results, String metric,
                               java.util.function.Function<EngineSimulation.Result, String> value) {
        List<String> cells = new ArrayList<>(List.of(metric));
        results.forEach(r -> cells.add(value.apply(r)));
        table.row(cells.toArray(new String[0]));
    }

    private static String value(String[] args, int i) {
        if (i >= args.length || args[i].startsWith("--")) {
            throw new IllegalArgumentException("option " + args[i - 1] + " needs a value"
                    + (i < args.length ? ", got the option " + args[i] : "") + " (expected: " + args[i - 1] + " "
                    + (args[i - 1].equals("--device") ? "NAME|INDEX" : args[i - 1].equals("--out") ? "DIR" : "N")
                    + ")");
        }
        return args[i];
    }

    private static int parseInt(String option, String value, String expected) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + value + "' (expected: an integer, " + expected
                    + ", below 2^31)", e);
        }
    }

    private static long parseLong(String option, String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + value + "' (expected: an integer of 64 bits)", e);
        }
    }

    /**
     * Refuses a folder the memory map could not be written into before any work is done, without making it: the
     * nearest existing folder on its path must be a writable directory.
     */
    private static void checkOutFolder(java.nio.file.Path folder) {
        java.nio.file.Path p = folder.toAbsolutePath().normalize();
        while (p != null && !java.nio.file.Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null) {
            return;
        }
        if (!java.nio.file.Files.isDirectory(p)) {
            throw new IllegalArgumentException("--out: " + folder + " (expected: a folder that can be made; " + p
                    + " is not a directory)");
        }
        if (!java.nio.file.Files.isWritable(p)) {
            throw new IllegalArgumentException("--out: " + folder + " (expected: a folder that can be written; " + p
                    + " is not writable)");
        }
    }

    private void printDevice(VulkanContext context) {
        out.println("solvk-memory demo");
        out.println("Device: " + context.deviceName() + ", Vulkan " + VulkanContext.versionString(context.apiVersion())
                + ", validation " + (context.validationEnabled() ? "on" : "off"));
        out.println("Enabled: " + context.features());
        out.println("Queues: graphics " + family(context.graphicsQueue()) + ", compute "
                + family(context.computeQueue()) + ", transfer " + family(context.transferQueue()));
        MemoryProperties props = context.memoryProperties();
        Table heaps = new Table("heap", "size", "flags");
        for (int i = 0; i < props.heaps().size(); i++) {
            MemoryProperties.Heap h = props.heaps().get(i);
            heaps.row(String.valueOf(i), bytes(h.size()), h.deviceLocal() ? "DEVICE_LOCAL" : "-");
        }
        Table types = new Table("type", "heap", "property flags");
        for (int i = 0; i < props.types().size(); i++) {
            MemoryProperties.Type t = props.types().get(i);
            types.row(String.valueOf(i), String.valueOf(t.heapIndex()),
                    MemoryProperties.describeFlags(t.propertyFlags()));
        }
        out.println();
        heaps.print(out);
        out.println();
        types.print(out);
    }

    private static String family(VulkanContext.Queue queue) {
        return queue == null ? "none" : "family " + queue.familyIndex();
    }

    private void exercise(VulkanContext context, MemoryManager manager, long seed, int meshBytes,
                          List<String> failures) {
        Random random = new Random(seed);
        out.println();
        out.println("Allocating buffers:");
        List<IBuffer> buffers = new ArrayList<>();
        try {
            IBuffer staging = add(buffers, manager.allocateBuffer(AllocationInfo.builder().name("staging")
                    .size(meshBytes).bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                    .memoryUsage(MemoryUsage.UPLOAD).mapped().build()));
            IBuffer mesh = add(buffers, manager.allocateBuffer(AllocationInfo.builder().name("mesh vertices")
                    .size(meshBytes).bufferUsage(VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
                            | VK_BUFFER_USAGE_TRANSFER_SRC_BIT).memoryUsage(MemoryUsage.DEVICE_ONLY).build()));
            IBuffer indices = add(buffers, manager.allocateBuffer(AllocationInfo.builder().name("mesh indices")
                    .size(meshBytes / 4).bufferUsage(VK_BUFFER_USAGE_INDEX_BUFFER_BIT
                            | VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT)
                    .memoryUsage(MemoryUsage.DEVICE_ONLY).build()));
            IBuffer uniforms = add(buffers, manager.allocateBuffer(AllocationInfo.builder().name("frame uniforms")
                    .size(3 * 256).bufferUsage(VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT).alignment(256)
                    .memoryUsage(MemoryUsage.UPLOAD).mapped().build()));
            int storageUsage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
                    | (context.features().bufferDeviceAddress() ? VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT : 0);
            IBuffer storage = add(buffers, manager.allocateBuffer(AllocationInfo.builder().name("particles")
                    .size(1 << 20).bufferUsage(storageUsage).memoryUsage(MemoryUsage.DEVICE_ONLY).build()));
            IBuffer readback = add(buffers, manager.allocateBuffer(AllocationInfo.builder().name("readback")
                    .size(meshBytes).bufferUsage(VK_BUFFER_USAGE_TRANSFER_DST_BIT)
                    .memoryUsage(MemoryUsage.DOWNLOAD).build()));
            Table table = new Table("buffer", "size", "memory type", "flags", "device address");
            for (IBuffer b : buffers) {
                String address = "-";
                if (b == storage && context.features().bufferDeviceAddress()) {
                    address = "0x" + Long.toHexString(b.deviceAddress());
                }
                table.row(b.name(), bytes(b.size()), String.valueOf(b.memoryTypeIndex()),
                        MemoryProperties.describeFlags(b.memoryPropertyFlags()), address);
            }
            table.print(out);

            out.println();
            byte[] vertices = new byte[meshBytes];
            random.nextBytes(vertices);
            long t0 = System.nanoTime();
            staging.write(0, vertices);
            copier.copy(context, staging, mesh, meshBytes);
            byte[] indexData = Arrays.copyOf(vertices, meshBytes / 4);
            copier.copy(context, mesh, indices, meshBytes / 4);
            // The readback buffer is filled with what the copy must overwrite first, so that a copy that does not
            // happen cannot pass for one that did.
            readback.write(0, complement(vertices));
            copier.copy(context, mesh, readback, meshBytes);
            byte[] back = new byte[meshBytes];
            readback.read(0, back);
            long t1 = System.nanoTime();
            check(failures, Arrays.equals(back, vertices), "host -> staging -> device-local mesh -> readback: "
                    + bytes(meshBytes) + " equal", String.format(Locale.ROOT, "%.1f ms", (t1 - t0) / 1e6));
            readback.write(0, complement(indexData));
            copier.copy(context, indices, readback, meshBytes / 4);
            byte[] indexBack = new byte[meshBytes / 4];
            readback.read(0, indexBack);
            check(failures, Arrays.equals(indexBack, indexData), "device-local mesh -> index buffer -> readback: "
                    + bytes(meshBytes / 4) + " equal", "");
            float[] frame = new float[64];
            for (int f = 0; f < 3; f++) {
                Arrays.fill(frame, f + 0.5f);
                uniforms.write(f * 256L, frame);
            }
            boolean uniformsOk = true;
            float[] frameBack = new float[64];
            for (int f = 0; f < 3; f++) {
                Arrays.fill(frame, f + 0.5f);
                uniforms.read(f * 256L, frameBack);
                uniformsOk &= Arrays.equals(frameBack, frame);
            }
            check(failures, uniformsOk, "3 frames of uniforms written at 256-byte offsets", "");

            out.println();
            out.println("VMA statistics with " + buffers.size() + " buffers live:");
            printStatistics(manager);
        } finally {
            for (IBuffer b : buffers) {
                b.close();
            }
        }
    }

    /**
     * A level's small buffers from block pools (sub-ranges of a few blocks), made on a loader thread that stays alive,
     * all closed on this thread when the level unloads, then the memory the pools kept for the next level given back
     * with {@link MemoryManager#releaseUnusedMemory()}: the ranges this thread sent home to the idle loader's cache
     * included, and those of the staging buffers the loader closed itself, which it flushes as it goes idle
     * ({@link MemoryManager#flushThreadCaches()}).
     */
    private void levelLoadAndUnload(MemoryManager manager, long seed, List<String> failures) {
        out.println();
        out.println("Block pools: a level's small buffers made on a loader thread, then the level unloaded:");
        Random random = new Random(seed);
        ExecutorService loader = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "level loader");
            thread.setDaemon(true);
            return thread;
        });
        try (BlockPoolBufferAllocator blocks = manager.createBlockPoolAllocator("level",
                BlockPoolAllocator.Config.defaults())) {
            List<IBuffer> level = new ArrayList<>();
            try {
                long bytes = loader.submit(() -> {
                    long made = 0;
                    for (int i = 0; i < LEVEL_BUFFERS; i++) {
                        // 256 B to 64 KiB, log-uniform: vertex and index data of small meshes.
                        long size = (long) Math.exp(Math.log(256) + random.nextDouble() * Math.log(256));
                        made += size;
                        AllocationInfo info = AllocationInfo.builder().size(size)
                                .bufferUsage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT)
                                .memoryUsage(MemoryUsage.AUTO).build();
                        level.add(blocks.allocateBuffer(info));
                        if (i % STAGED_EVERY == 0) {
                            // A staging buffer the loader closes itself: its range waits in the loader's cache.
                            blocks.allocateBuffer(info).close();
                        }
                    }
                    // Going idle: nothing else would take the loader's own cached ranges while it lives.
                    manager.flushThreadCaches();
                    return made;
                }).get();
                out.printf(Locale.ROOT, "  %d buffers, %s, in %d VkDeviceMemory block(s) of %s%n", level.size(),
                        bytes(bytes), blocks.deviceMemoryCount(), bytes(blocks.committedBytes()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the loader made the level", e);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r
                        : new IllegalStateException("the loader failed", e.getCause());
            } finally {
                // On this thread: the ranges of the loader's buffers go home to its cache, which it does not call
                // again.
                level.forEach(IBuffer::close);
            }
            long kept = blocks.committedBytes();
            long released = manager.releaseUnusedMemory();
            out.printf(Locale.ROOT, "  closed here: the pools kept %s for the next level (ranges cached by this"
                    + " thread and sent home to the idle loader, which flushed its own staging ranges as it went idle;"
                    + " one empty block); releaseUnusedMemory() gave back %s%n", bytes(kept), bytes(released));
            check(failures, released == kept && blocks.committedBytes() == 0 && blocks.deviceMemoryCount() == 0,
                    "level unloaded: every block back to the driver", bytes(released));
        } finally {
            loader.shutdown();
        }
    }

    /** Buffers of the block-pool level in the demo. */
    private static final int LEVEL_BUFFERS = 2000;
    /** One level buffer in this many is uploaded through a staging buffer that the loader closes at once. */
    private static final int STAGED_EVERY = 8;

    private static byte[] complement(byte[] data) {
        byte[] result = new byte[data.length];
        for (int i = 0; i < data.length; i++) {
            result[i] = (byte) ~data[i];
        }
        return result;
    }

    private static IBuffer add(List<IBuffer> buffers, IBuffer buffer) {
        buffers.add(buffer);
        return buffer;
    }

    private void check(List<String> failures, boolean ok, String what, String detail) {
        out.println((ok ? "  ok    " : "  FAIL  ") + what + (detail.isEmpty() ? "" : " (" + detail + ")"));
        if (!ok) {
            failures.add(what);
        }
    }

    private static void copy(VulkanContext context, IBuffer src, IBuffer dst, long size) {
        context.execute(context.transferQueue(), cmd -> {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                vkCmdCopyBuffer(cmd, src.buffer(), dst.buffer(), VkBufferCopy.calloc(1, stack)
                        .srcOffset(src.offset()).dstOffset(dst.offset()).size(size));
            }
        });
    }

    private void printStatistics(MemoryManager manager) {
        VulkanMemoryAllocator.TotalStatistics stats = manager.statistics();
        Table table = new Table("scope", "blocks", "allocations", "block bytes", "allocated", "unused");
        for (int i = 0; i < stats.memoryHeaps().size(); i++) {
            row(table, "heap " + i, stats.memoryHeaps().get(i));
        }
        for (int i = 0; i < stats.memoryTypes().size(); i++) {
            VulkanMemoryAllocator.Statistics s = stats.memoryTypes().get(i);
            if (s.blockCount() > 0) {
                row(table, "type " + i, s);
            }
        }
        row(table, "total", stats.total());
        table.print(out);
        out.println();
        Table budgets = new Table("heap", "usage", "budget");
        for (VulkanMemoryAllocator.Budget b : manager.allocator().budgets()) {
            budgets.row(String.valueOf(b.heapIndex()), bytes(b.usageBytes()), bytes(b.budgetBytes()));
        }
        budgets.print(out);
    }

    private static void row(Table table, String scope, VulkanMemoryAllocator.Statistics s) {
        table.row(scope, String.valueOf(s.blockCount()), String.valueOf(s.allocationCount()), bytes(s.blockBytes()),
                bytes(s.allocationBytes()), bytes(s.unusedBytes()));
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** A plain text table with columns sized to their content. */
    static final class Table {
        private final String[] header;
        private final List<String[]> rows = new ArrayList<>();

        Table(String... header) {
            this.header = header;
        }

        void row(String... cells) {
            rows.add(cells);
        }

        void print(PrintStream out) {
            int[] widths = new int[header.length];
            for (int c = 0; c < header.length; c++) {
                widths[c] = header[c].length();
                for (String[] r : rows) {
                    widths[c] = Math.max(widths[c], r[c].length());
                }
            }
            out.println(line(header, widths));
            StringBuilder rule = new StringBuilder();
            for (int c = 0; c < widths.length; c++) {
                rule.append(c == 0 ? "" : "-+-").append("-".repeat(widths[c]));
            }
            out.println(rule);
            for (String[] r : rows) {
                out.println(line(r, widths));
            }
        }

        private static String line(String[] cells, int[] widths) {
            StringBuilder sb = new StringBuilder();
            for (int c = 0; c < cells.length; c++) {
                sb.append(c == 0 ? "" : " | ").append(String.format("%-" + widths[c] + "s", cells[c]));
            }
            return sb.toString().stripTrailing();
        }
    }
}
