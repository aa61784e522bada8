package io.github.solvk.memory.diagnostics;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR event: a pool got a new block of device memory. Emitted through {@link JfrEvents#blockAllocated}. */
@Name("solvk.BlockAllocated")
@Label("Memory Block Allocated")
@Category({"solvk", "GPU Memory"})
@Description("A memory pool allocated a block of Vulkan device memory")
@Enabled(false)
@StackTrace(true)
public final class BlockAllocatedEvent extends Event {

    /** The pool's name. */
    @Label("Pool")
    public String pool;

    /** The Vulkan memory type index of the block. */
    @Label("Memory Type")
    public int memoryType;

    /** The block's size. */
    @Label("Size")
    @DataAmount
    public long size;
}
