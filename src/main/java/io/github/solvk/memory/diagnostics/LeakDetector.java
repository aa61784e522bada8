package io.github.solvk.memory.diagnostics;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Reports resources that become unreachable without {@code close()}: GPU memory that the program lost track of.
 * Netty's {@code ResourceLeakDetector} is the model; this is a smaller one.
 *
 * <p>A resource calls {@link #track} when it is made and keeps the {@link Tracker}; its {@code close()} calls
 * {@link Tracker#close()}. A shared {@link Cleaner} watches each tracked resource; when one is collected while its
 * tracker is still open, the detector logs a {@link LeakReport} at {@code ERROR} through {@link System.Logger} and
 * passes it to its listeners. It never frees anything: the device may still be using the memory, and the device may
 * already be gone.
 *
 * <p>How much is tracked is the {@link Level}, read once from the system property {@value #LEVEL_PROPERTY}
 * ({@code disabled}, {@code simple} or {@code paranoid}, any case; default {@code simple}):
 * <ul>
 *   <li>{@link Level#DISABLED}: nothing; {@code track} returns {@code null} at the cost of one branch.</li>
 *   <li>{@link Level#SIMPLE}: one resource in every {@value #SAMPLING_INTERVAL_PROPERTY} (default
 *       {@value #DEFAULT_SAMPLING_INTERVAL}), picked by a counter per thread: the 1st, the 129th, ... that each thread
 *       makes with each detector. A report says what leaked, not where.</li>
 *   <li>{@link Level#PARANOID}: every resource, each with the stack trace of its {@code track} call. For tests and
 *       debugging: capturing a stack trace costs microseconds.</li>
 * </ul>
 *
 * <p>A tracker holds nothing of its resource, so tracking never keeps a resource reachable; the resource keeps its
 * tracker until {@code close()}. Thread-safe.
 *
 * @param <T> the type of the tracked resources
 */
public final class LeakDetector<T> {

    /** How much a detector tracks. */
    public enum Level {
        /** Track nothing. */
        DISABLED,
        /** Track one resource in every sampling interval, without allocation sites. */
        SIMPLE,
        /** Track every resource and record where it was allocated. */
        PARANOID
    }

    /** The system property that sets the level of detectors made without one. */
    public static final String LEVEL_PROPERTY = "solvk.leakDetection";
    /** The system property that sets the sampling interval of {@link Level#SIMPLE}. */
    public static final String SAMPLING_INTERVAL_PROPERTY = "solvk.leakDetection.samplingInterval";
    /** The sampling interval when the property is not set. */
    public static final int DEFAULT_SAMPLING_INTERVAL = 128;

    /** Frames of an allocation site kept in a report; the rest are counted. */
    static final int MAX_SITE_FRAMES = 24;

    private static final System.Logger LOGGER = System.getLogger(LeakDetector.class.getName());
    private static final Cleaner CLEANER = Cleaner.create();
    private static final Level DEFAULT_LEVEL = parseLevel(System.getProperty(LEVEL_PROPERTY));
    private static final int DEFAULT_INTERVAL = parseInterval(System.getProperty(SAMPLING_INTERVAL_PROPERTY));

    private final String resourceType;
    private final Level level;
    private final int samplingInterval;
    /**
     * Per thread, the resources left until its next sampled one, for {@link Level#SIMPLE}: 1 at first, so that a
     * thread's first resource is sampled. A counter per thread rather than one for all, so that threads making buffers
     * at once do not take one cache line from each other on every call.
     */
    private final ThreadLocal<long[]> counters = ThreadLocal.withInitial(() -> new long[] {1});
    private final AtomicLong leaks = new AtomicLong();
    private final List<Consumer<LeakReport>> listeners = new CopyOnWriteArrayList<>();

    /**
     * A detector with the level and sampling interval of the system properties.
     *
     * @param resourceType the class of the tracked resources, for messages
     */
    public LeakDetector(Class<T> resourceType) {
        this(resourceType, DEFAULT_LEVEL, DEFAULT_INTERVAL);
    }

    /**
     * A detector with its own level and sampling interval.
     *
     * @param resourceType     the class of the tracked resources, for messages
     * @param level            how much to track
     * @param samplingInterval track one in this many resources at {@link Level#SIMPLE}; at least 1
     * @throws IllegalArgumentException when the interval is below 1
     */
    public LeakDetector(Class<T> resourceType, Level level, int samplingInterval) {
        this.resourceType = Objects.requireNonNull(resourceType, "resourceType: null (expected: a class)")
                .getSimpleName();
        this.level = Objects.requireNonNull(level, "level: null (expected: a Level)");
        if (samplingInterval < 1) {
            throw new IllegalArgumentException("samplingInterval: " + samplingInterval + " (expected: >= 1)");
        }
        this.samplingInterval = samplingInterval;
    }

    /**
     * The level that detectors made without one use, read once from {@value #LEVEL_PROPERTY}.
     *
     * @return the default level
     */
    public static Level defaultLevel() {
        return DEFAULT_LEVEL;
    }

    /**
     * The sampling interval that detectors made without one use, read once from {@value #SAMPLING_INTERVAL_PROPERTY}.
     *
     * @return the default sampling interval
     */
    public static int defaultSamplingInterval() {
        return DEFAULT_INTERVAL;
    }

    /**
     * This detector's level.
     *
     * @return how much it tracks
     */
    public Level level() {
        return level;
    }

    /**
     * This detector's sampling interval at {@link Level#SIMPLE}.
     *
     * @return one in how many resources is tracked
     */
    public int samplingInterval() {
        return samplingInterval;
    }

    /**
     * Starts tracking a resource, if the level and the sampling say so.
     *
     * @param resource    the resource; it is watched, never kept reachable
     * @param description what it is, for the report: a name, a size, a pool
     * @return the tracker the resource's {@code close()} must close, or {@code null} when it is not tracked
     */
    public Tracker track(T resource, String description) {
        Objects.requireNonNull(resource, "resource: null (expected: an object to track)");
        return switch (level) {
            case DISABLED -> null;
            case SIMPLE -> sampled() ? register(resource, description, null) : null;
            case PARANOID -> register(resource, description, new Throwable("allocation site"));
        };
    }

    /**
     * As {@link #track(Object, String)}, but the description is made only for a resource that is tracked: where
     * most are not (the default sampling), a hot path builds no string for nothing. Pass a function that captures
     * nothing (a method reference such as {@code Resource::describe}), so that no object is made per call either.
     *
     * @param resource  the resource; it is watched, never kept reachable
     * @param describer makes the description from the resource, once, before it is watched; the description must
     *                  not refer to the resource
     * @return the tracker the resource's {@code close()} must close, or {@code null} when it is not tracked
     */
    public Tracker track(T resource, Function<? super T, String> describer) {
        Objects.requireNonNull(resource, "resource: null (expected: an object to track)");
        Objects.requireNonNull(describer, "describer: null (expected: a function that describes the resource)");
        return switch (level) {
            case DISABLED -> null;
            case SIMPLE -> sampled() ? register(resource, describer.apply(resource), null) : null;
            case PARANOID -> register(resource, describer.apply(resource), new Throwable("allocation site"));
        };
    }

    /** @return whether the calling thread's next resource is one that {@link Level#SIMPLE} tracks */
    private boolean sampled() {
        long[] left = counters.get();
        // Counts down to the next sampled resource: no division per resource (a 64-bit one costs more than the rest
        // of this method), and no wrap-around to mind.
        if (--left[0] > 0) {
            return false;
        }
        left[0] = samplingInterval;
        return true;
    }

    private Tracker register(T resource, String description, Throwable site) {
        State state = new State(this, resourceType + " " + description, site);
        return new Tracker(state, CLEANER.register(resource, state));
    }

    /**
     * Adds a listener for this detector's reports; it runs on the cleaner's thread and must not block. What it throws
     * is logged at {@code WARNING} and keeps no other listener from being called; once all have run, the first
     * {@link Error} thrown is rethrown with the other failures suppressed (the {@link Cleaner} drops it).
     *
     * @param listener called once per leaked resource
     */
    public void addListener(Consumer<LeakReport> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener: null (expected: a consumer)"));
    }

    /**
     * Removes a listener.
     *
     * @param listener a listener added before
     * @return whether it was registered
     */
    public boolean removeListener(Consumer<LeakReport> listener) {
        return listeners.remove(listener);
    }

    /**
     * The number of leaks this detector has reported.
     *
     * @return a count that only grows
     */
    public long leakCount() {
        return leaks.get();
    }

    /**
     * Counts a leak, logs it and passes it to every listener, in the order they were added. A listener that throws
     * keeps no other from hearing of it: its exception is logged at {@code WARNING} and the next listener is called.
     * Once all have run, the first {@link Error} one of them threw (an {@code OutOfMemoryError}, a test's
     * {@code AssertionError}) is rethrown, carrying every other listener's failure as suppressed; a
     * {@link RuntimeException} alone is only logged. The JDK's {@link Cleaner}, whose thread runs the reports, drops
     * what its actions throw: hence the log.
     *
     * @param report the leak
     */
    void report(LeakReport report) {
        leaks.incrementAndGet();
        LOGGER.log(System.Logger.Level.ERROR, report.message());
        List<Throwable> failures = null;
        Error firstError = null;
        for (Consumer<LeakReport> listener : listeners) {
            try {
                listener.accept(report);
            } catch (RuntimeException | Error e) {
                LOGGER.log(System.Logger.Level.WARNING, "leak listener " + listener + " failed", e);
                if (failures == null) {
                    failures = new ArrayList<>();
                }
                failures.add(e);
                if (firstError == null && e instanceof Error) {
                    firstError = (Error) e;
                }
            }
        }
        if (firstError != null) {
            for (Throwable failure : failures) {
                if (failure != firstError) {
                    firstError.addSuppressed(failure);
                }
            }
            throw firstError;
        }
    }

    static Level parseLevel(String value) {
        if (value == null || value.isBlank()) {
            return Level.SIMPLE;
        }
        try {
            return Level.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            LOGGER.log(System.Logger.Level.WARNING, LEVEL_PROPERTY + ": " + value
                    + " (expected: disabled, simple or paranoid); using simple");
            return Level.SIMPLE;
        }
    }

    static int parseInterval(String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT_SAMPLING_INTERVAL;
        }
        try {
            int interval = Integer.parseInt(value.trim());
            if (interval >= 1) {
                return interval;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        LOGGER.log(System.Logger.Level.WARNING, SAMPLING_INTERVAL_PROPERTY + ": " + value
                + " (expected: an integer >= 1); using " + DEFAULT_SAMPLING_INTERVAL);
        return DEFAULT_SAMPLING_INTERVAL;
    }

    /** Formats a recorded site: the frames below this class, at most {@link #MAX_SITE_FRAMES}. */
    static String formatSite(Throwable site) {
        StringBuilder sb = new StringBuilder();
        StackTraceElement[] frames = site.getStackTrace();
        int shown = 0;
        for (int i = 0; i < frames.length; i++) {
            String className = frames[i].getClassName();
            if (className.equals(LeakDetector.class.getName())
                    || className.startsWith(LeakDetector.class.getName() + "$")) {
                continue;
            }
            if (shown == MAX_SITE_FRAMES) {
                sb.append("\n\t... ").append(frames.length - i).append(" more");
                break;
            }
            if (shown > 0) {
                sb.append('\n');
            }
            sb.append("\tat ").append(frames[i]);
            shown++;
        }
        return sb.toString();
    }

    /**
     * The cleaning action: reports unless the tracker was closed. It references the detector and the description,
     * never the resource.
     */
    private static final class State implements Runnable {
        private final LeakDetector<?> detector;
        private final String description;
        private final Throwable site;
        private final AtomicBoolean closed = new AtomicBoolean();
        /** Whether the resource's memory was freed without its close() ({@link Tracker#freedWhen}), or null. */
        private volatile BooleanSupplier freedElsewhere;

        State(LeakDetector<?> detector, String description, Throwable site) {
            this.detector = detector;
            this.description = description;
            this.site = site;
        }

        @Override
        public void run() {
            if (closed.compareAndSet(false, true) && !freedElsewhere()) {
                detector.report(new LeakReport(description, site == null ? null : formatSite(site)));
            }
        }

        /** A condition that throws counts as "not freed": the Cleaner would drop its exception, and the leak. */
        private boolean freedElsewhere() {
            BooleanSupplier freed = freedElsewhere;
            if (freed == null) {
                return false;
            }
            try {
                return freed.getAsBoolean();
            } catch (RuntimeException | Error e) {
                // An Error too: the Cleaner drops it all the same, and the leak with it.
                LOGGER.log(System.Logger.Level.WARNING, "the freed condition of " + description + " failed; reported"
                        + " as a leak", e);
                return false;
            }
        }
    }

    /** What a tracked resource holds and closes in its own {@code close()}. */
    public static final class Tracker implements AutoCloseable {
        private final State state;
        private final Cleaner.Cleanable cleanable;

        private Tracker(State state, Cleaner.Cleanable cleanable) {
            this.state = state;
            this.cleanable = cleanable;
        }

        /** Marks the resource closed and stops watching it; later calls do nothing. */
        @Override
        public void close() {
            // Mark first, so that the cleaning action, run now or by the cleaner, reports nothing.
            state.closed.set(true);
            cleanable.clean();
        }

        /**
         * Says how to tell that the resource's memory was freed without its {@code close()}, as when the pool that
         * placed it closes under it: a resource collected after that is not a leak and is not reported. The condition
         * must not refer to the resource, and is asked on the cleaner's thread; one that throws is logged at
         * {@code WARNING} and the resource reported as leaked.
         *
         * @param freed whether the memory was freed elsewhere
         */
        public void freedWhen(BooleanSupplier freed) {
            state.freedElsewhere = Objects.requireNonNull(freed, "freed: null (expected: "
                    + "a test of whether the resource was freed)");
        }

        /**
         * Where the resource was tracked, for a memory map's {@code Suballocation.allocationSite}.
         *
         * @return the stack trace of the {@code track} call as text, or {@code null} below {@link Level#PARANOID}
         */
        public String allocationSite() {
            return state.site == null ? null : formatSite(state.site);
        }

        /**
         * Whether {@link #close()} was called (or the leak already reported).
         *
         * @return {@code true} once closed
         */
        public boolean isClosed() {
            return state.closed.get();
        }
    }
}
