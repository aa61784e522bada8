package io.github.solvk.memory.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jdk.jfr.FlightRecorder;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordingFile;

/**
 * A periodic statistics hook registered before any recording does not start the flight recorder (a manager made by an
 * application that never records pays nothing for JFR), and its events still come once a recording starts. Run in a
 * JVM of its own, where nothing started the recorder before.
 */
class JfrDeferredRegistrationTest {

    @Test
    void aHookRegisteredBeforeTheRecorderStartsShouldNotStartItAndShouldRunOnceARecordingDoes(@TempDir Path dir)
            throws Exception {
        assertThat(JfrEvents.isAvailable()).isTrue();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                Child.class.getName(), dir.resolve("child.jfr").toString()).redirectErrorStream(true).start();
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the child JVM ended").isTrue();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.exitValue()).as(out).isZero();
        assertThat(out).contains("initialized after registering: false").contains("pending hooks: 1")
                .contains("pending hooks after the recording started: 0");
        assertThat(out).containsPattern("statistics events: [1-9]");
    }

    /** The child JVM: registers, reports whether the recorder started, then records and counts the events. */
    public static final class Child {
        public static void main(String[] args) throws IOException, InterruptedException {
            AtomicInteger calls = new AtomicInteger();
            JfrEvents.Registration registration = JfrEvents.registerPeriodic(() -> {
                calls.incrementAndGet();
                return List.of(new PoolStats("deferred", 1, 2, 3, 4, 5));
            });
            System.out.println("initialized after registering: " + FlightRecorder.isInitialized());
            System.out.println("pending hooks: " + JfrEmitter.pendingHooks());
            Path file = Path.of(args[0]);
            try (Recording recording = new Recording()) {
                recording.enable("solvk.PoolStatistics").withPeriod(Duration.ofMillis(50));
                recording.start();
                System.out.println("pending hooks after the recording started: " + JfrEmitter.pendingHooks());
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (calls.get() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                recording.stop();
                recording.dump(file);
            } finally {
                registration.close();
            }
            long events = RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getEventType().getName().equals("solvk.PoolStatistics"))
                    .filter(e -> e.getString("pool").equals("deferred")).count();
            System.out.println("statistics events: " + events);
            Files.deleteIfExists(file);
        }
    }
}
