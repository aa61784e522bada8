package io.github.solvk.memory.diagnostics;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;

/**
 * Periodic JFR event: one pool's occupancy, one event per pool every period (5 s unless a recording's settings say
 * otherwise). Emitted by the hook of {@link JfrEvents#registerPeriodic}.
 */
@Name("solvk.PoolStatistics")
@Label("Memory Pool Statistics")
@Category({"solvk", "GPU Memory"})
@Description("Blocks, live buffers and free space of one memory pool")
@Period("5 s")
@Enabled(false)
@StackTrace(false)
public final class PoolStatisticsEvent extends Event {

    /** The pool's name. */
    @Label("Pool")
    public String pool;

    /** The number of blocks the pool holds. */
    @Label("Blocks")
    public int blocks;

    /** The number of live buffers in the pool. */
    @Label("Live Buffers")
    public long liveBuffers;

    /** Device memory the pool holds: the sum of its block sizes. */
    @Label("Committed")
    @DataAmount
    public long committed;

    /** Free bytes in the pool's blocks. */
    @Label("Free")
    @DataAmount
    public long free;

    /** The largest free range in any of the pool's blocks. */
    @Label("Largest Free Range")
    @DataAmount
    public long largestFree;
}
