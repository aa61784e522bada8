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
     * which an application that never records should not pay when it makes its first manager. Guarded by
     * {@link #LOCK}, which is never held while calling into JFR: JFR calls the listener below while it holds its own
     * lock, so holding ours around a JFR call could deadlock with it.
     */
    private static final Set<Runnable> PENDING = new LinkedHashSet<>();
    /** Hooks removed while {@link #addPending} was adding them, so that it takes them out again. */
    private static final Set<Runnable> REMOVED = new LinkedHashSet<>();
    private static final Object LOCK = new Object();
    /** Whether the listener that adds {@link #PENDING} when the recorder starts is registered (or being). */
    private static boolean listening;
    /** Whether the listener has run: the recorder is initialized, hooks go straight to JFR. */
    private static boolean initialized;
    /** Whether {@link #addPending} is adding the hooks that waited (outside the lock). */
    private static boolean adding;

    /**
     * Adds the hook now when the recorder is running, else when it starts (the first recording, from the command
     * line, {@code jcmd} or code).
     */
    static void addPeriodic(Runnable hook) {
        boolean now;
        boolean listen = false;
        synchronized (LOCK) {
            now = initialized || FlightRecorder.isInitialized();
            if (!now) {
                PENDING.add(hook);
                listen = !listening;
                listening = true;
            }
        }
        if (now) {
            FlightRecorder.addPeriodicEvent(PoolStatisticsEvent.class, hook);
        } else if (listen) {
            // Called at once when the recorder is initialized already (it may have started since the check above).
            FlightRecorder.addListener(new FlightRecorderListener() {
                @Override
                public void recorderInitialized(FlightRecorder recorder) {
                    addPending();
                }
            });
        }
    }

    /** The listener's work: every waiting hook goes to JFR, and later ones go straight there. */
    private static void addPending() {
        List<Runnable> hooks;
        synchronized (LOCK) {
            initialized = true;
            adding = true;
            hooks = List.copyOf(PENDING);
            PENDING.clear();
        }
        for (Runnable hook : hooks) {
            FlightRecorder.addPeriodicEvent(PoolStatisticsEvent.class, hook);
        }
        List<Runnable> removed;
        synchronized (LOCK) {
            adding = false;
            removed = List.copyOf(REMOVED);
            REMOVED.clear();
        }
        for (Runnable hook : removed) {
            FlightRecorder.removePeriodicEvent(hook);
        }
    }

    static void removePeriodic(Runnable hook) {
        synchronized (LOCK) {
            if (PENDING.remove(hook)) {
                return;
            }
            if (adding) {
                // Maybe being added by addPending right now: it takes it out again once added.
                REMOVED.add(hook);
            }
        }
        FlightRecorder.removePeriodicEvent(hook);
    }

    /** @return hooks waiting for the recorder to start (for tests) */
    static int pendingHooks() {
        synchronized (LOCK) {
            return PENDING.size();
        }
    }
}
