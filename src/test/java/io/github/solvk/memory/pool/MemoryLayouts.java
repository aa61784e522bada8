package io.github.solvk.memory.pool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.solvk.memory.vulkan.MemoryProperties;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The recorded memory layouts of real GPUs, read from {@code memory-layouts.json}.
 *
 * <p>The tests read the copy on the test classpath ({@code src/test/resources/memory-layouts.json}) so that they are
 * self-contained; {@code MemoryLayoutsFileTest} checks that the copy still equals the project's shared file
 * {@code ../shared/data/memory-layouts.json} (relative to the Maven base directory).
 *
 * <p>Each entry has {@code name}, {@code heaps[] {size, flags}}, {@code types[] {heapIndex, propertyFlags}} and an
 * optional {@code limits {bufferImageGranularity, nonCoherentAtomSize}}. Some sources did not give the limits; a
 * missing limit defaults to 1 (no constraint), which memory type selection never reads anyway.
 */
final class MemoryLayouts {

    /** The classpath resource holding the copy. */
    static final String RESOURCE = "/memory-layouts.json";

    /** A missing limit: 1 byte, i.e. no granularity or atom constraint. */
    static final long DEFAULT_LIMIT = 1;

    /**
     * One recorded device.
     *
     * @param name  the entry's {@code name}
     * @param props its heaps, types and limits
     */
    record Layout(String name, MemoryProperties props) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static List<Layout> cached;

    private MemoryLayouts() {
    }

    /** @return the shared file's path, resolved against the Maven base directory ({@code user.dir}) */
    static Path sharedFile() {
        return Path.of(System.getProperty("user.dir")).resolve(Path.of("..", "shared", "data", "memory-layouts.json"))
                .normalize();
    }

    /** @return every layout in the file, in file order */
    static synchronized List<Layout> all() {
        if (cached == null) {
            try (InputStream in = MemoryLayouts.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("test resource " + RESOURCE + " is missing (expected: a copy of "
                            + sharedFile() + " in src/test/resources)");
                }
                cached = parse(new ObjectMapper().readTree(in));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + RESOURCE, e);
            }
        }
        return cached;
    }

    /**
     * @param namePrefix the start of one layout's name
     * @return that layout
     * @throws IllegalArgumentException if no layout or more than one starts with it
     */
    static Layout named(String namePrefix) {
        List<Layout> matches = all().stream().filter(l -> l.name().startsWith(namePrefix)).toList();
        if (matches.size() != 1) {
            throw new IllegalArgumentException("layout name prefix: \"" + namePrefix
                    + "\" (expected: exactly one match, found " + matches + ")");
        }
        return matches.get(0);
    }

    static List<Layout> parse(JsonNode root) {
        if (!root.isArray()) {
            throw new IllegalArgumentException("layouts file root: " + root.getNodeType() + " (expected: an array)");
        }
        List<Layout> layouts = new ArrayList<>();
        for (JsonNode entry : root) {
            String name = entry.path("name").asText();
            List<MemoryProperties.Heap> heaps = new ArrayList<>();
            for (JsonNode heap : entry.path("heaps")) {
                heaps.add(new MemoryProperties.Heap(heap.path("size").asLong(), heap.path("flags").asInt()));
            }
            List<MemoryProperties.Type> types = new ArrayList<>();
            for (JsonNode type : entry.path("types")) {
                types.add(new MemoryProperties.Type(type.path("heapIndex").asInt(),
                        type.path("propertyFlags").asInt()));
            }
            JsonNode limits = entry.path("limits");
            long granularity = limits.path("bufferImageGranularity").asLong(DEFAULT_LIMIT);
            long atom = limits.path("nonCoherentAtomSize").asLong(DEFAULT_LIMIT);
            layouts.add(new Layout(name, new MemoryProperties(heaps, types, granularity, atom)));
        }
        return List.copyOf(layouts);
    }
}
