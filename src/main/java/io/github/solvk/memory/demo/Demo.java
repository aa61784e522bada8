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

import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferCopy;

import io.github.solvk.memory.IBuffer;
import io.github.solvk.memory.IBufferAllocator.AllocationInfo;
import io.github.solvk.memory.MemoryManager;
import io.github.solvk.memory.MemoryUsage;
import io.github.solvk.memory.vulkan.MemoryProperties;
import io.github.solvk.memory.vulkan.VulkanContext;
import io.github.solvk.memory.vulkan.VulkanMemoryAllocator;

/**
 * The demo behind the README's main command: makes a manager on the default device, allocates buffers of several
 * usages, moves data through the GPU with copies, checks what comes back, and prints what it did and VMA's
 * statistics as tables. Exits with status 1 if any check fails.
 *
 * <p>Options: {@code --device NAME|INDEX} (else {@value VulkanContext#DEVICE_ENV} or the best device),
 * {@code --validation} (enable the Khronos validation layer and fail on any error it reports),
 * {@code --seed N}, {@code --frames N}, {@code --meshes N}, {@code --mesh-bytes N}, {@code --out DIR} and
 * {@code --compare-vma}; {@code --help} describes each.
 */
public final class Demo {

    private final PrintStream out;

    Demo(PrintStream out) {
        this.out = out;
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
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = value(args, ++i);
                case "--validation" -> validation = true;
                case "--seed" -> seed = Long.parseLong(value(args, ++i));
                case "--mesh-bytes" -> meshBytes = Integer.parseInt(value(args, ++i));
                case "--frames" -> frames = Integer.parseInt(value(args, ++i));
                case "--meshes" -> meshes = Integer.parseInt(value(args, ++i));
                case "--compare-vma" -> compareVma = true;
                case "--out" -> outDir = java.nio.file.Path.of(value(args, ++i));
                case "--help", "-h" -> {
                    out.println("usage: demo [--device NAME|INDEX] [--validation] [--seed N] [--frames N] [--meshes N]"
                            + " [--compare-vma] [--out DIR] [--mesh-bytes N]");
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
        if (meshes < 1) {
            throw new IllegalArgumentException("--meshes: " + meshes + " (expected: >= 1)");
        }
        if (meshBytes <= 0 || meshBytes % 4 != 0) {
            throw new IllegalArgumentException("--mesh-bytes: " + meshBytes + " (expected: a positive multiple of 4)");
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
        if (i >= args.length) {
            throw new IllegalArgumentException("option " + args[i - 1] + " needs a value");
        }
        return args[i];
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
            copy(context, staging, mesh, meshBytes);
            byte[] indexData = Arrays.copyOf(vertices, meshBytes / 4);
            copy(context, mesh, indices, meshBytes / 4);
            copy(context, mesh, readback, meshBytes);
            byte[] back = new byte[meshBytes];
            readback.read(0, back);
            long t1 = System.nanoTime();
            check(failures, Arrays.equals(back, vertices), "host -> staging -> device-local mesh -> readback: "
                    + bytes(meshBytes) + " equal", String.format(Locale.ROOT, "%.1f ms", (t1 - t0) / 1e6));
            copy(context, indices, readback, meshBytes / 4);
            byte[] indexBack = new byte[meshBytes / 4];
            readback.read(0, indexBack);
            check(failures, Arrays.equals(indexBack, indexData), "device-local mesh -> index buffer -> readback: "
                    + bytes(meshBytes / 4) + " equal", "");
            float[] frame = new float[64];
            for (int f = 0; f < 3; f++) {
                Arrays.fill(frame, f + 0.5f);
                uniforms.write(f * 256L, frame);
            }
            float[] frameBack = new float[64];
            uniforms.read(2 * 256L, frameBack);
            check(failures, frameBack[63] == 2.5f, "3 frames of uniforms written at 256-byte offsets", "");

            out.println();
            out.println("VMA statistics with " + buffers.size() + " buffers live:");
            printStatistics(manager);
        } finally {
            for (IBuffer b : buffers) {
                b.close();
            }
        }
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
