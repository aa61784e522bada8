package io.github.solvk.memory.diagnostics;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR event: a pool gave a block of device memory back. Emitted through {@link JfrEvents#blockFreed}. */
@Name("solvk.BlockFreed")
@Label("Memory Block Freed")
@Category({"solvk", "GPU Memory"})
@Description("A memory pool freed a block of Vulkan device memory")
@Enabled(false)
@StackTrace(false)
public final class BlockFreedEvent extends Event {

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
