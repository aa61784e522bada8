package io.github.solvk.memory.diagnostics;

import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Emits the library's JDK Flight Recorder events. All are off by default ({@code @Enabled(false)}): a recording
 * records them only when asked to, by {@code Recording.enable("solvk.BlockAllocated")}, a settings file with
 * {@code <event name="solvk.BlockAllocated"><setting name="enabled">true</setting></event>}, or on the command line
 * ({@code -XX:StartFlightRecording:+solvk.BlockAllocated#enabled=true}). While off, an emitting call costs one check
 * of a flag JFR keeps per event type, so the library calls these unconditionally and there is no system property.
 *
 * <p>JFR is optional ({@code requires static jdk.jfr}): in a runtime without the {@code jdk.jfr} module (one made with
 * {@code jlink} without it, or a modular application that does not resolve it: add {@code --add-modules jdk.jfr}),
 * {@link #isAvailable()} is false and every method here does nothing.
 * <ul>
 *   <li>{@code solvk.BlockAllocated}, {@code solvk.BlockFreed}: pool, memory type, size; the first with the stack
 *       trace of the allocating call.</li>
 *   <li>{@code solvk.AllocationFailed}: pool or allocator, size, usage, reason, stack trace.</li>
 *   <li>{@code solvk.PoolStatistics}: periodic, one per pool (see {@link #registerPeriodic}).</li>
 * </ul>
 */
public final class JfrEvents {

    private static final System.Logger LOGGER = System.getLogger(JfrEvents.class.getName());
    /** Whether this module can use {@code jdk.jfr}; when false, {@link JfrEmitter} is never loaded. */
    private static final boolean AVAILABLE = probe();

    private JfrEvents() {
    }

    private static boolean probe() {
        try {
            Class<?> event = Class.forName("jdk.jfr.Event", false, JfrEvents.class.getClassLoader());
            Module self = JfrEvents.class.getModule();
            return !self.isNamed() || self.canRead(event.getModule());
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * @return whether the runtime has JDK Flight Recorder and this library can use it; when false, the events are
     *         never emitted
     */
    public static boolean isAvailable() {
        return AVAILABLE;
    }

    /**
     * Records that a pool allocated a block, if a recording wants it.
     *
     * @param pool       the pool's name
     * @param memoryType the block's memory type index
     * @param size       the block's size in bytes
     */
    public static void blockAllocated(String pool, int memoryType, long size) {
        if (AVAILABLE) {
            JfrEmitter.blockAllocated(pool, memoryType, size);
        }
    }

    /**
     * Records that a pool freed a block, if a recording wants it.
     *
     * @param pool       the pool's name
     * @param memoryType the block's memory type index
     * @param size       the block's size in bytes
     */
    public static void blockFreed(String pool, int memoryType, long size) {
        if (AVAILABLE) {
            JfrEmitter.blockFreed(pool, memoryType, size);
        }
    }

    /**
     * Records a failed allocation, if a recording wants it.
     *
     * @param pool   the pool's name, or the allocator's when no pool was involved
     * @param size   the requested size in bytes
     * @param usage  the requested {@code VkBufferUsageFlags}, or 0
     * @param reason why it failed: the reason constant and, where there is one, the {@code VkResult} name
     */
    public static void allocationFailed(String pool, long size, int usage, String reason) {
        if (AVAILABLE) {
            JfrEmitter.allocationFailed(pool, size, usage, reason);
        }
    }

    /**
     * Makes JFR emit one {@code solvk.PoolStatistics} event per pool every period while a recording enables it. The
     * supplier runs on JFR's periodic thread, only when a recording wants the events; it must not block for long. A
     * supplier that throws is logged and skipped for that period. Without JFR ({@link #isAvailable()} false) nothing
     * is registered and the supplier never runs.
     *
     * @param pools the current statistics of every pool
     * @return the registration; {@link Registration#close()} removes the hook
     */
    public static Registration registerPeriodic(Supplier<List<PoolStats>> pools) {
        Objects.requireNonNull(pools, "pools: null (expected: a supplier)");
        if (!AVAILABLE) {
            return new Registration(null);
        }
        Runnable hook = () -> {
            List<PoolStats> stats;
            try {
                stats = pools.get();
            } catch (RuntimeException e) {
                LOGGER.log(System.Logger.Level.WARNING, "pool statistics supplier failed; no "
                        + "solvk.PoolStatistics events this period", e);
                return;
            }
            JfrEmitter.poolStatistics(stats);
        };
        JfrEmitter.addPeriodic(hook);
        return new Registration(hook);
    }

    /** A periodic hook added by {@link #registerPeriodic}. */
    public static final class Registration implements AutoCloseable {
        /** The hook, or {@code null} when JFR is absent and nothing was added. */
        private final Runnable hook;

        private Registration(Runnable hook) {
            this.hook = hook;
        }

        /** Removes the hook; later calls do nothing. */
        @Override
        public void close() {
            if (hook != null) {
                JfrEmitter.removePeriodic(hook);
            }
        }
    }
}
