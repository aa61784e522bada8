package io.github.solvk.memory.diagnostics;

import java.util.List;
import jdk.jfr.FlightRecorder;

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

    static void addPeriodic(Runnable hook) {
        FlightRecorder.addPeriodicEvent(PoolStatisticsEvent.class, hook);
    }

    static void removePeriodic(Runnable hook) {
        FlightRecorder.removePeriodicEvent(hook);
    }
}
