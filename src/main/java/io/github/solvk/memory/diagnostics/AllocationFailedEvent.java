package io.github.solvk.memory.diagnostics;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR event: an allocation failed. Emitted through {@link JfrEvents#allocationFailed}. */
@Name("solvk.AllocationFailed")
@Label("Memory Allocation Failed")
@Category({"solvk", "GPU Memory"})
@Description("A buffer or block allocation failed; the exception thrown, if any, carries the same reason")
@Enabled(false)
@StackTrace(true)
public final class AllocationFailedEvent extends Event {

    /** The pool's name, or the allocator's when no pool was involved. */
    @Label("Pool or Allocator")
    public String pool;

    /** The requested size. */
    @Label("Size")
    @DataAmount
    public long size;

    /** The requested {@code VkBufferUsageFlags}, or 0. */
    @Label("Usage")
    public int usage;

    /** Why: the failure's reason constant and, where there is one, the {@code VkResult} name. */
    @Label("Reason")
    public String reason;
}
