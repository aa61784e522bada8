/**
 * solvk-memory: Vulkan memory management for Java through LWJGL.
 *
 * <p>Start with {@link io.github.solvk.memory.MemoryManager}.
 */
module io.github.solvk.memory {
    requires transitive org.lwjgl;
    requires transitive org.lwjgl.vulkan;
    requires transitive org.lwjgl.vma;
    requires static org.junit.jupiter.api;
    // JFR events are optional: without jdk.jfr in the runtime (jlink), JfrEvents does nothing.
    requires static jdk.jfr;

    exports io.github.solvk.memory;
    exports io.github.solvk.memory.vulkan;
    exports io.github.solvk.memory.pool;
    exports io.github.solvk.memory.diagnostics;
    exports io.github.solvk.memory.suballocator;
    exports io.github.solvk.memory.testing;
}
