package io.github.solvk.memory.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LeakDetectorTest {

    /** A stand-in for a GPU resource that closes its tracker. */
    static final class Resource implements AutoCloseable {
        private final LeakDetector.Tracker tracker;

        Resource(LeakDetector<Resource> detector, String name) {
            this.tracker = detector.track(this, name);
        }

        @Override
        public void close() {
            if (tracker != null) {
                tracker.close();
            }
        }
    }

    @Test
    void resourceDroppedWithoutCloseShouldBeReportedWithItsSite() throws InterruptedException {
        LeakDetector<Resource> detector = new LeakDetector<>(Resource.class, LeakDetector.Level.PARANOID, 128);
        BlockingQueue<LeakReport> reports = new LinkedBlockingQueue<>();
        detector.addListener(reports::add);

        allocateAndDrop(detector, "vertex buffer 'terrain' (64 KiB)");

        LeakReport report = awaitReport(reports);
        assertThat(report).isNotNull();
        assertThat(report.description()).isEqualTo("Resource vertex buffer 'terrain' (64 KiB)");
        assertThat(report.allocationSite())
                .contains("allocateAndDrop")
                .contains("resourceDroppedWithoutCloseShouldBeReportedWithItsSite")
                .doesNotContain("LeakDetector.track");
        assertThat(report.message()).startsWith("LEAK: Resource vertex buffer 'terrain' (64 KiB) was garbage-collected")
                .contains("Allocated at:");
        assertThat(detector.leakCount()).isEqualTo(1);
    }

    /** What a broken listener throws: an {@link Error}, as a failed assertion or an out-of-memory is. */
    static final class ListenerError extends Error {
        ListenerError(String message) {
            super(message);
        }
    }

    @Test
    void anErrorThrownByOneListenerShouldNotKeepTheOthersFromTheReport() throws InterruptedException {
        LeakDetector<Resource> detector = new LeakDetector<>(Resource.class, LeakDetector.Level.PARANOID, 128);
        BlockingQueue<LeakReport> reports = new LinkedBlockingQueue<>();
        detector.addListener(report -> {
            throw new ListenerError("first listener");
        });
        detector.addListener(reports::add);

        allocateAndDrop(detector, "after a failing listener");

        LeakReport report = awaitReport(reports);
        assertThat(report).as("the second listener heard of the leak").isNotNull();
        assertThat(report.description()).isEqualTo("Resource after a failing listener");
    }

    @Test
    void everyListenerShouldBeCalledAndTheFirstErrorRethrownWithTheOthersSuppressed() {
        LeakDetector<Resource> detector = new LeakDetector<>(Resource.class, LeakDetector.Level.PARANOID, 128);
        List<String> called = new ArrayList<>();
        ListenerError first = new ListenerError("first");
        IllegalStateException runtime = new IllegalStateException("runtime");
        ListenerError third = new ListenerError("third");
        detector.addListener(report -> {
            called.add("first");
            throw first;
        });
        detector.addListener(report -> {
            called.add("runtime");
            throw runtime;
        });
        detector.addListener(report -> {
            called.add("third");
            throw third;
        });
        detector.addListener(report -> called.add("last"));

        assertThatThrownBy(() -> detector.report(new LeakReport("Resource r", null)))
                .isSameAs(first)
                .satisfies(e -> assertThat(e.getSuppressed()).containsExactly(runtime, third));
        assertThat(called).containsExactly("first", "runtime", "third", "last");
        assertThat(detector.leakCount()).isEqualTo(1);

        // A RuntimeException alone is logged, as before: the report goes on and nothing is thrown.
        LeakDetector<Resource> quiet = new LeakDetector<>(Resource.class, LeakDetector.Level.PARANOID, 128);
        List<String> heard = new ArrayList<>();
        quiet.addListener(report -> {
            throw new IllegalStateException("broken");
        });
        quiet.addListener(report -> heard.add(report.description()));
        quiet.report(new LeakReport("Resource q", null));
        assertThat(heard).containsExactly("Resource q");
    }

    @Test
    void closedResourceShouldNotBeReported() throws InterruptedException {
        LeakDetector<Resource> detector = new LeakDetector<>(Resource.class, LeakDetector.Level.PARANOID, 128);
        BlockingQueue<LeakReport> reports = new LinkedBlockingQueue<>();
        detector.addListener(reports::add);

        allocateAndClose(detector);
        // A leaked twin proves the cleaner ran; the closed one must not show up next to it.
        allocateAndDrop(detector, "twin");

        LeakReport report = awaitReport(reports);
        assertThat(report).isNotNull();
        assertThat(report.description()).isEqualTo("Resource twin");
        assertThat(reports.poll(300, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void trackerShouldCloseOnce() {
        LeakDetector<Resource> detector = new LeakDetector<>(Resource.class, LeakDetector.Level.PARANOID, 1);
        Object owner = new Object();
        @SuppressWarnings({"unchecked", "rawtypes"})
        LeakDetector.Tracker tracker = ((LeakDetector) detector).track(owner, "x");
        assertThat(tracker.isClosed()).isFalse();
        assertThat(tracker.allocationSite()).startsWith("\tat ").contains("trackerShouldCloseOnce");
        tracker.close();
        tracker.close();
        assertThat(tracker.isClosed()).isTrue();
        assertThat(detector.leakCount()).isZero();
    }

    @Test
    void disabledShouldTrackNothing() {
        LeakDetector<Resource> detector = new LeakDetector<>(Resource.class, LeakDetector.Level.DISABLED, 1);
        for (int i = 0; i < 10; i++) {
            assertThat(new Resource(detector, "r").tracker).isNull();
        }
    }

    @Test
    void simpleShouldTrackOneInEveryIntervalWithoutSites() throws InterruptedException {
        LeakDetector<Resource> detector = new LeakDetector<>(Resource.class, LeakDetector.Level.SIMPLE, 4);
        List<Boolean> tracked = new ArrayList<>();
        List<Resource> keep = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            Resource r = new Resource(detector, "r" + i);
            keep.add(r);
            tracked.add(r.tracker != null);
        }
        assertThat(tracked).containsExactly(true, false, false, false, true, false, false, false, true);
        assertThat(keep.get(0).tracker.allocationSite()).isNull();
        keep.forEach(Resource::close);

        BlockingQueue<LeakReport> reports = new LinkedBlockingQueue<>();
        detector.addListener(reports::add);
        allocateAndDrop(detector, "sampled"); // the 10th: not sampled
        allocateAndDrop(detector, "sampled");
        allocateAndDrop(detector, "sampled");
        allocateAndDrop(detector, "sampled"); // the 13th: sampled
        LeakReport report = awaitReport(reports);
        assertThat(report).isNotNull();
        assertThat(report.allocationSite()).isNull();
        assertThat(report.message()).contains("-Dsolvk.leakDetection=PARANOID");
        assertThat(reports.poll(300, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void propertiesShouldParseLeniently() {
        assertThat(LeakDetector.parseLevel(null)).isEqualTo(LeakDetector.Level.SIMPLE);
        assertThat(LeakDetector.parseLevel(" paranoid ")).isEqualTo(LeakDetector.Level.PARANOID);
        assertThat(LeakDetector.parseLevel("Disabled")).isEqualTo(LeakDetector.Level.DISABLED);
        assertThat(LeakDetector.parseLevel("advanced")).isEqualTo(LeakDetector.Level.SIMPLE);
        assertThat(LeakDetector.parseInterval(null)).isEqualTo(128);
        assertThat(LeakDetector.parseInterval("16")).isEqualTo(16);
        assertThat(LeakDetector.parseInterval("0")).isEqualTo(128);
        assertThat(LeakDetector.parseInterval("many")).isEqualTo(128);
        // The build runs the tests with -Dsolvk.leakDetection=paranoid; the default follows the property.
        assertThat(LeakDetector.defaultLevel())
                .isEqualTo(LeakDetector.parseLevel(System.getProperty(LeakDetector.LEVEL_PROPERTY)));
        assertThat(LeakDetector.defaultSamplingInterval()).isEqualTo(128);
    }

    @Test
    void badSamplingIntervalShouldBeRejected() {
        assertThatThrownBy(() -> new LeakDetector<>(Resource.class, LeakDetector.Level.SIMPLE, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("samplingInterval: 0 (expected: >= 1)");
    }

    @Test
    void aFreedConditionThatThrowsShouldNotSwallowTheLeak() throws InterruptedException {
        LeakDetector<Resource> detector = new LeakDetector<>(Resource.class, LeakDetector.Level.PARANOID, 128);
        BlockingQueue<LeakReport> reports = new LinkedBlockingQueue<>();
        detector.addListener(reports::add);

        dropWithBrokenFreedCondition(detector, new IllegalStateException("the pool's state could not be read"));

        // The Cleaner drops what its action throws: without a report here, the leak would be seen by no one.
        LeakReport report = awaitReport(reports);
        assertThat(report).isNotNull();
        assertThat(report.description()).isEqualTo("Resource broken condition");
        assertThat(detector.leakCount()).isEqualTo(1);

        // An Error alike (the Cleaner drops it too).
        dropWithBrokenFreedCondition(detector, new AssertionError("the condition failed its own check"));
        assertThat(awaitReport(reports)).isNotNull();
        assertThat(detector.leakCount()).isEqualTo(2);
    }

    private static void dropWithBrokenFreedCondition(LeakDetector<Resource> detector, Throwable failure) {
        new Resource(detector, "broken condition").tracker.freedWhen(() -> {
            if (failure instanceof Error e) {
                throw e;
            }
            throw (RuntimeException) failure;
        });
    }

    private static void allocateAndDrop(LeakDetector<Resource> detector, String name) {
        new Resource(detector, name);
    }

    private static void allocateAndClose(LeakDetector<Resource> detector) {
        try (Resource r = new Resource(detector, "closed")) {
            assertThat(r.tracker).isNotNull();
        }
    }

    /** Collects garbage until a report arrives, for at most ten seconds. */
    private static LeakReport awaitReport(BlockingQueue<LeakReport> reports) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            System.gc();
            LeakReport report = reports.poll(100, TimeUnit.MILLISECONDS);
            if (report != null) {
                return report;
            }
        }
        return null;
    }
}
