package io.github.solvk.memory.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JfrEventsTest {

    @TempDir
    Path dir;

    @Test
    void blockAllocatedShouldBeRecordedWithItsFields() throws IOException {
        List<RecordedEvent> events;
        try (Recording recording = new Recording()) {
            recording.enable("solvk.BlockAllocated");
            recording.enable("solvk.BlockFreed");
            recording.start();
            JfrEvents.blockAllocated("meshes", 2, 64L << 20);
            JfrEvents.blockFreed("meshes", 2, 64L << 20);
            recording.stop();
            events = dump(recording);
        }
        RecordedEvent allocated = only(events, "solvk.BlockAllocated");
        assertThat(allocated.getString("pool")).isEqualTo("meshes");
        assertThat(allocated.getInt("memoryType")).isEqualTo(2);
        assertThat(allocated.getLong("size")).isEqualTo(64L << 20);
        assertThat(allocated.getStackTrace().getFrames())
                .anyMatch(f -> f.getMethod().getName().equals("blockAllocatedShouldBeRecordedWithItsFields"));
        RecordedEvent freed = only(events, "solvk.BlockFreed");
        assertThat(freed.getString("pool")).isEqualTo("meshes");
        assertThat(freed.getLong("size")).isEqualTo(64L << 20);
    }

    @Test
    void allocationFailedShouldBeRecordedWithItsFields() throws IOException {
        List<RecordedEvent> events;
        try (Recording recording = new Recording()) {
            recording.enable("solvk.AllocationFailed");
            recording.start();
            JfrEvents.allocationFailed("ring", 1 << 20, 0x80, "OUT_OF_POOL_MEMORY");
            recording.stop();
            events = dump(recording);
        }
        RecordedEvent failed = only(events, "solvk.AllocationFailed");
        assertThat(failed.getString("pool")).isEqualTo("ring");
        assertThat(failed.getLong("size")).isEqualTo(1 << 20);
        assertThat(failed.getInt("usage")).isEqualTo(0x80);
        assertThat(failed.getString("reason")).isEqualTo("OUT_OF_POOL_MEMORY");
    }

    @Test
    void eventsShouldNotBeRecordedWhenNotEnabled() throws IOException {
        List<RecordedEvent> events;
        try (Recording recording = new Recording()) {
            recording.enable("solvk.BlockFreed");
            recording.start();
            JfrEvents.blockAllocated("meshes", 0, 1024);
            recording.stop();
            events = dump(recording);
        }
        assertThat(events).noneMatch(e -> e.getEventType().getName().equals("solvk.BlockAllocated"));
    }

    @Test
    void periodicPoolStatisticsShouldBeRecordedPerPool() throws IOException, InterruptedException {
        AtomicInteger calls = new AtomicInteger();
        List<RecordedEvent> events;
        JfrEvents.Registration registration = JfrEvents.registerPeriodic(() -> {
            calls.incrementAndGet();
            return List.of(new PoolStats("meshes", 2, 17, 128L << 20, 40L << 20, 8L << 20),
                    new PoolStats("ring", 1, 3, 16L << 20, 1L << 20, 1L << 20));
        });
        try (Recording recording = new Recording()) {
            recording.enable("solvk.PoolStatistics").withPeriod(Duration.ofMillis(50));
            recording.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (calls.get() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            recording.stop();
            events = dump(recording);
        } finally {
            registration.close();
        }
        List<RecordedEvent> stats = events.stream()
                .filter(e -> e.getEventType().getName().equals("solvk.PoolStatistics")).toList();
        assertThat(stats).isNotEmpty();
        RecordedEvent meshes = stats.stream().filter(e -> e.getString("pool").equals("meshes")).findFirst()
                .orElseThrow();
        assertThat(meshes.getInt("blocks")).isEqualTo(2);
        assertThat(meshes.getLong("liveBuffers")).isEqualTo(17);
        assertThat(meshes.getLong("committed")).isEqualTo(128L << 20);
        assertThat(meshes.getLong("free")).isEqualTo(40L << 20);
        assertThat(meshes.getLong("largestFree")).isEqualTo(8L << 20);
        assertThat(stats).anyMatch(e -> e.getString("pool").equals("ring"));
    }

    private List<RecordedEvent> dump(Recording recording) throws IOException {
        Path file = Files.createTempFile(dir, "solvk", ".jfr");
        recording.dump(file);
        return RecordingFile.readAllEvents(file);
    }

    private static RecordedEvent only(List<RecordedEvent> events, String name) {
        List<RecordedEvent> matching = events.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
        assertThat(matching).as(name).hasSize(1);
        return matching.get(0);
    }
}
