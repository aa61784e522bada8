package io.github.solvk.memory.diagnostics;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;

/**
 * The code that touches {@code jdk.jfr}, kept apart from {@link JfrEvents} so that it is loaded only when the runtime
 * has JFR ({@link JfrEvents#isAvailable()}).
 */
final class JfrEmitter {

    private JfrEmitter() {
    }

    static void blockAllocated(String pool, int memoryType, long size) {
        BlockAllocatedEvent event = new BlockAllocatedEvent();
        if (event.isEnabled()) {
            event.pool = pool;
            event.memoryType = memoryType;
            event.size = size;
            event.commit();
        }
    }

    static void blockFreed(String pool, int memoryType, long size) {
        BlockFreedEvent event = new BlockFreedEvent();
        if (event.isEnabled()) {
            event.pool = pool;
            event.memoryType = memoryType;
            event.size = size;
            event.commit();
        }
    }

    static void allocationFailed(String pool, long size, int usage, String reason) {
        AllocationFailedEvent event = new AllocationFailedEvent();
        if (event.isEnabled()) {
            event.pool = pool;
            event.size = size;
            event.usage = usage;
            event.reason = reason;
            event.commit();
        }
    }

    /** Emits one {@code solvk.PoolStatistics} event per pool; runs on JFR's periodic thread. */
    static void poolStatistics(List<PoolStats> stats) {
        for (PoolStats s : stats) {
            PoolStatisticsEvent event = new PoolStatisticsEvent();
            event.pool = s.pool();
            event.blocks = s.blocks();
            event.liveBuffers = s.liveBuffers();
            event.committed = s.committedBytes();
            event.free = s.freeBytes();
            event.largestFree = s.largestFreeBytes();
            event.commit();
        }
    }

    /**
     * Hooks waiting for the recorder to start: adding a periodic event initializes JFR (about 100 ms, once per JVM),
     * which an application that never records should not pay when it makes its first manager.
     */
    private static final Set<Runnable> PENDING = new LinkedHashSet<>();
    /** Whether the listener that adds {@link #PENDING} when the recorder starts is registered. */
    private static boolean listening;

    /**
     * Adds the hook now when the recorder is running, else when it starts (the first recording, from the command
     * line, {@code jcmd} or code).
     */
    static synchronized void addPeriodic(Runnable hook) {
        if (FlightRecorder.isInitialized()) {
            FlightRecorder.addPeriodicEvent(PoolStatisticsEvent.class, hook);
            return;
        }
        PENDING.add(hook);
        if (!listening) {
            listening = true;
            FlightRecorder.addListener(new FlightRecorderListener() {
                @Override
                public void recorderInitialized(FlightRecorder recorder) {
                    addPending();
                }
            });
        }
    }

    private static synchronized void addPending() {
        for (Runnable hook : PENDING) {
            FlightRecorder.addPeriodicEvent(PoolStatisticsEvent.class, hook);
        }
        PENDING.clear();
    }

    static synchronized void removePeriodic(Runnable hook) {
        if (!PENDING.remove(hook)) {
            FlightRecorder.removePeriodicEvent(hook);
        }
    }

    /** @return hooks waiting for the recorder to start (for tests) */
    static synchronized int pendingHooks() {
        return PENDING.size();
    }
}
