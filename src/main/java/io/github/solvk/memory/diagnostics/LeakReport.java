package io.github.solvk.memory.diagnostics;

/**
 * A resource that was garbage-collected without {@code close()}, as {@link LeakDetector} reports it.
 *
 * @param description    what the resource was, as given to {@link LeakDetector#track}
 * @param allocationSite the stack trace of the {@code track} call as text, or {@code null} when the detector did not
 *                       record it (below {@link LeakDetector.Level#PARANOID})
 */
public record LeakReport(String description, String allocationSite) {

    /**
     * The report as a log message.
     *
     * @return a message naming the resource and, when recorded, where it was allocated
     */
    public String message() {
        String head = "LEAK: " + description + " was garbage-collected without close(); its memory was NOT freed"
                + " (the device may still use it).";
        if (allocationSite == null) {
            return head + " Run with -D" + LeakDetector.LEVEL_PROPERTY + "=PARANOID to record where it was allocated.";
        }
        return head + " Allocated at:\n" + allocationSite;
    }
}
