package io.github.solvk.memory.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * W2 drift: the steady churn of {@link ChurnBenchmark} run for {@code --ops} operations (5M) from a fresh allocator,
 * timed per window of {@code --window} operations (1M), with the address span (last live byte - first live byte) over
 * the live bytes after the first and the last window. VMA's TLSF is known to slow down and spread out here
 * (PERFORMANCE.md: 0.5 us per pair after 1M operations, 8.5-9.9 us after 5M, span 12x live).
 *
 * <p>Each contender runs in its own child JVM (same class path), so that no contender's JIT profile or heap colours
 * another's; the parent prints one table. The sequences are drawn before the clock starts, from the same seeds as
 * {@link ChurnBenchmark}. The first window includes the JIT's warmup.
 *
 * <pre>
 * java -cp ... io.github.solvk.memory.bench.ChurnDrift [--contenders TLSF,BUDDY,VMA_TLSF,VMA_MIN_TIME,VMA_MIN_MEMORY]
 *     [--sizes LOG_64_64K] [--alignment 256] [--ops 5000000] [--window 1000000] [--region-mib 4096]
 * </pre>
 */
public final class ChurnDrift {

    private ChurnDrift() {
    }

    /**
     * @param args see the class documentation
     * @throws Exception when a child fails
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> options = parse(args);
        if (options.containsKey("child")) {
            child(options);
            return;
        }
        String sizes = options.getOrDefault("sizes", "LOG_64_64K");
        String alignment = options.getOrDefault("alignment", "256");
        long ops = Long.parseLong(options.getOrDefault("ops", "5000000"));
        long window = Long.parseLong(options.getOrDefault("window", "1000000"));
        String[] contenders = options.getOrDefault("contenders", "TLSF,BUDDY,VMA_TLSF,VMA_MIN_TIME,VMA_MIN_MEMORY")
                .split(",");
        int windows = (int) (ops / window);
        System.out.printf(Locale.ROOT, "W2 drift: %d slots, sizes %s, alignment %s, %d ops in windows of %d,"
                        + " region %s MiB%n", ChurnBenchmark.SLOTS, sizes, alignment, ops, window,
                options.getOrDefault("region-mib", String.valueOf(ChurnBenchmark.REGION_MIB)));
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-15s", "contender"));
        for (int w = 1; w <= windows; w++) {
            header.append(String.format(Locale.ROOT, " %9s", "ns/p " + w + "M"));
        }
        header.append(String.format(Locale.ROOT, " %7s %9s %9s %9s %9s %7s %7s %8s", "drift", "live1 MiB",
                "span1 MiB", "liveN MiB", "spanN MiB", "span/l1", "span/lN", "failures"));
        System.out.println(header);
        for (String contender : contenders) {
            List<String> command = new ArrayList<>();
            command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
            command.add("-Xms1g");
            command.add("-Xmx1g");
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(ChurnDrift.class.getName());
            for (String arg : args) {
                command.add(arg);
            }
            command.add("--child");
            command.add(contender);
            Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String result = null;
            try (BufferedReader reader = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null; ) {
                    if (line.startsWith("RESULT ")) {
                        result = line.substring(7);
                    } else {
                        System.out.println(line);
                    }
                }
            }
            int exit = process.waitFor();
            System.out.println(result != null ? result
                    : String.format(Locale.ROOT, "%-15s failed (exit %d)", contender, exit));
        }
    }

    private static void child(Map<String, String> options) {
        Contender contender = Contender.valueOf(options.get("child"));
        Workloads.SizeDistribution distribution =
                Workloads.SizeDistribution.valueOf(options.getOrDefault("sizes", "LOG_64_64K"));
        long alignment = Long.parseLong(options.getOrDefault("alignment", "256"));
        int ops = Integer.parseInt(options.getOrDefault("ops", "5000000"));
        int window = Integer.parseInt(options.getOrDefault("window", "1000000"));
        long region = Long.parseLong(options.getOrDefault("region-mib", String.valueOf(ChurnBenchmark.REGION_MIB)))
                << 20;
        int slots = ChurnBenchmark.SLOTS;

        int[] initial = distribution.sizes(slots, Workloads.SEED);
        int[] slotSequence = Workloads.uniform(ops, 0, slots - 1, Workloads.SEED + 1);
        int[] sizeSequence = distribution.sizes(ops, Workloads.SEED + 2);
        // Warm the JIT up on a throwaway allocator with the start of the same sequence, so that the first window
        // measures the allocator rather than the compiler.
        try (BenchAllocator warm = contender.create(region, 256)) {
            churn(warm, initial, slotSequence, sizeSequence, alignment, Math.min(ops, 300_000), window, false);
        }
        try (BenchAllocator a = contender.create(region, 256)) {
            String row = churn(a, initial, slotSequence, sizeSequence, alignment, ops, window, true);
            System.out.println("RESULT " + String.format(Locale.ROOT, "%-15s", contender) + row);
        }
    }

    private static String churn(BenchAllocator a, int[] initial, int[] slotSequence, int[] sizeSequence,
                                long alignment, int ops, int window, boolean report) {
        int slots = initial.length;
        long[] handles = new long[slots];
        int[] liveSizes = new int[slots];
        long failures = 0;
        for (int i = 0; i < slots; i++) {
            handles[i] = a.allocate(initial[i], alignment);
            if (handles[i] == 0) {
                throw new IllegalStateException("initial allocation " + i + " failed");
            }
            liveSizes[i] = initial[i];
        }
        int windows = Math.max(1, ops / window);
        int perWindow = Math.min(ops, window);
        double[] nsPerPair = new double[windows];
        long[] first = null;
        long[] last = null;
        for (int w = 0; w < windows; w++) {
            long start = System.nanoTime();
            for (int i = w * perWindow, end = i + perWindow; i < end; i++) {
                int slot = slotSequence[i];
                long old = handles[slot];
                if (old != 0) {
                    a.free(old);
                }
                long handle = a.allocate(sizeSequence[i], alignment);
                if (handle == 0) {
                    failures++;
                    liveSizes[slot] = 0;
                } else {
                    liveSizes[slot] = sizeSequence[i];
                }
                handles[slot] = handle;
            }
            nsPerPair[w] = (System.nanoTime() - start) / (double) perWindow;
            if (report && w == 0) {
                first = span(a, handles, liveSizes);
            }
            if (report && w == windows - 1) {
                last = span(a, handles, liveSizes);
            }
        }
        if (!report) {
            return "";
        }
        StringBuilder row = new StringBuilder();
        for (double ns : nsPerPair) {
            row.append(String.format(Locale.ROOT, " %9.1f", ns));
        }
        double mib = 1 << 20;
        row.append(String.format(Locale.ROOT, " %6.2fx %9.1f %9.1f %9.1f %9.1f %7.2f %7.2f %8d",
                nsPerPair[windows - 1] / nsPerPair[0],
                first[0] / mib, first[1] / mib, last[0] / mib, last[1] / mib,
                first[1] / (double) first[0], last[1] / (double) last[0], failures));
        return row.toString();
    }

    /** @return {live bytes, address span} of the live allocations */
    private static long[] span(BenchAllocator a, long[] handles, int[] liveSizes) {
        long live = 0;
        long low = Long.MAX_VALUE;
        long high = 0;
        for (int i = 0; i < handles.length; i++) {
            if (handles[i] != 0) {
                long offset = a.offset(handles[i]);
                live += liveSizes[i];
                low = Math.min(low, offset);
                high = Math.max(high, offset + liveSizes[i]);
            }
        }
        return new long[] {live, high - low};
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 == args.length) {
                throw new IllegalArgumentException("argument: " + args[i] + " (expected: --name value)");
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }
}
