package io.github.solvk.memory.bench;

import io.github.solvk.memory.vulkan.VulkanContext;

/**
 * W5's memory figures: for each {@link LevelLoad.Kind}, the {@code vkAllocateMemory} calls and the committed bytes
 * after the level load and after the random phase, next to the live bytes. Prints a Markdown table. Run:
 * {@code java -cp ... io.github.solvk.memory.bench.LevelLoadCounts [budget bytes, default 256 MiB]}.
 */
public final class LevelLoadCounts {

    private LevelLoadCounts() {
    }

    /** @param args optional: the budget in bytes */
    public static void main(String[] args) {
        long budget = args.length > 0 ? Long.parseLong(args[0]) : 256L << 20;
        LevelLoad load = LevelLoad.create(budget);
        System.out.printf("W5 level load: budget %d MiB, %d buffers loaded, %d random ops, %d buffer ids in all%n%n",
                budget >> 20, load.loadCount(), LevelLoad.RANDOM_OPS, load.bufferCount());
        System.out.println("| contender | vkAllocateMemory after load | committed after load (MiB) | live after load "
                + "(MiB) | vkAllocateMemory after random | committed after random (MiB) | live after random (MiB) | note |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---|");
        try (VulkanContext context = VulkanContext.builder().validation(false).applicationName("LevelLoadCounts")
                .build()) {
            for (LevelLoad.Kind kind : LevelLoad.Kind.values()) {
                try (LevelLoad.Player p = LevelLoad.Player.create(kind, load, context)) {
                    p.load();
                    long loadCalls = p.deviceMemoryAllocations();
                    long loadCommitted = p.committedBytes();
                    long loadLive = liveBytes(p);
                    String loadNote = p.note();
                    p.randomPhase();
                    System.out.printf("| %s | %d | %.1f | %.1f | %d | %.1f | %.1f | %s |%n", kind, loadCalls,
                            mib(loadCommitted), mib(loadLive), p.deviceMemoryAllocations(), mib(p.committedBytes()),
                            mib(liveBytes(p)), loadNote.isEmpty() ? "" : "after load " + loadNote + ", after random "
                                    + p.note());
                }
            }
        }
        System.out.println("\nCounts are vkAllocateMemory calls since the contender was made (NULL's one is made up"
                + " front); committed is VMA's block bytes for BLOCK_POOL and VMA. NULL's one allocation holds every id"
                + " of both phases laid out once (no reuse).");
    }

    private static long liveBytes(LevelLoad.Player p) {
        long bytes = 0;
        for (int id = 0; id < p.live.length; id++) {
            if (p.live[id]) {
                bytes += p.load.size(id);
            }
        }
        return bytes;
    }

    private static double mib(long bytes) {
        return bytes / (double) (1 << 20);
    }
}
