package io.github.solvk.memory.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MemoryMapPictureTest {

    private static final int WIDTH = 1000;

    @Test
    void pngShouldDecodeToTheRequestedWidthAndTheLaidOutHeight() {
        MemoryMap map = SampleMaps.sample();
        DecodedPng image = decode(MemoryMapPng.write(map, WIDTH));
        assertThat(image.width()).isEqualTo(WIDTH);
        assertThat(image.height()).isEqualTo(MemoryMapPng.layout(map, WIDTH).height());
    }

    @Test
    void pixelInsideAnAllocationShouldHaveItsClassColour() {
        MemoryMap map = SampleMaps.sample();
        DecodedPng image = decode(MemoryMapPng.write(map, WIDTH));
        MemoryMapPng.Layout layout = MemoryMapPng.layout(map, WIDTH);
        for (int row = 0; row < map.blocks().size(); row++) {
            BlockInfo block = map.blocks().get(row);
            for (Suballocation s : block.suballocations()) {
                int x0 = MemoryMapPng.x(layout, row, block, s.offset());
                int x1 = MemoryMapPng.x(layout, row, block, s.end());
                int y = layout.barTop()[row] + MemoryMapPng.BAR_HEIGHT / 2;
                // the middle, clear of the separator line at x0; for free space a pixel off the hatching
                int x = (x0 + x1) / 2;
                if (s.isFree() && MemoryMapPng.isHatch(x, y)) {
                    x++;
                }
                assertThat(rgb(image, x, y))
                        .as("block %s, %s at %d", block.name(), s.type(), s.offset())
                        .isEqualTo(AllocationClass.of(s).rgb());
            }
        }
    }

    @Test
    void freeSpaceShouldBeHatched() {
        MemoryMap map = SampleMaps.sample();
        DecodedPng image = decode(MemoryMapPng.write(map, WIDTH));
        MemoryMapPng.Layout layout = MemoryMapPng.layout(map, WIDTH);
        BlockInfo meshes = map.blocks().get(0);
        Suballocation free = meshes.suballocations().get(2);
        assertThat(free.isFree()).isTrue();
        int y = layout.barTop()[0] + 5;
        int x = MemoryMapPng.x(layout, 0, meshes, free.offset()) + 10;
        while (!MemoryMapPng.isHatch(x, y)) {
            x++;
        }
        assertThat(rgb(image, x, y)).isEqualTo(MemoryMapPng.FREE_HATCH);
        assertThat(rgb(image, x + 1, y)).isEqualTo(AllocationClass.FREE.rgb());
    }

    @Test
    void classesShouldFollowTypeAndUsage() {
        assertThat(AllocationClass.ofBufferUsage(0x82)).isEqualTo(AllocationClass.VERTEX_INDEX);
        assertThat(AllocationClass.ofBufferUsage(0x30)).isEqualTo(AllocationClass.STORAGE);
        assertThat(AllocationClass.ofBufferUsage(0x12)).isEqualTo(AllocationClass.UNIFORM);
        assertThat(AllocationClass.ofBufferUsage(0x3)).isEqualTo(AllocationClass.TRANSFER_ONLY);
        assertThat(AllocationClass.ofBufferUsage(0)).isEqualTo(AllocationClass.UNKNOWN);
        assertThat(AllocationClass.ofBufferUsage(0x20000)).isEqualTo(AllocationClass.UNKNOWN);
        assertThat(AllocationClass.of(new Suballocation(0, 1, SuballocationType.IMAGE_LINEAR, 0, null, null)))
                .isEqualTo(AllocationClass.IMAGE);
    }

    @Test
    void tooNarrowPictureShouldBeRejected() {
        assertThatThrownBy(() -> MemoryMapPng.write(SampleMaps.sample(), 50))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("width: 50 (expected: 120 to 16384)");
    }

    @Test
    void narrowAndEmptyMapsShouldStillDraw() {
        assertThat(decode(MemoryMapPng.write(SampleMaps.sample(), 200)).width()).isEqualTo(200);
        MemoryMap empty = new MemoryMap("none", List.of(), List.of(), List.of());
        assertThat(decode(MemoryMapPng.write(empty, 300)).height()).isGreaterThan(20);
    }

    @Test
    void samplePngShouldBeWrittenForALook() throws IOException {
        Path file = Path.of("target", "memory-map-sample.png");
        Files.createDirectories(file.getParent());
        Files.write(file, MemoryMapPng.write(SampleMaps.sample(), 1200));
        Files.writeString(Path.of("target", "memory-map-sample.html"), MemoryMapHtml.write(SampleMaps.sample()));
        Files.writeString(Path.of("target", "memory-map-sample.json"), MemoryMapJson.write(SampleMaps.sample()));
        assertThat(decode(Files.readAllBytes(file)).width()).isEqualTo(1200);
    }

    @Test
    void htmlShouldHaveOneRowPerBlock() {
        MemoryMap map = SampleMaps.sample();
        String html = MemoryMapHtml.write(map);
        assertThat(count(html, "<div class=\"row\">")).isEqualTo(map.blocks().size());
        assertThat(count(html, "<div class=\"bar\"")).isEqualTo(map.blocks().size());
        assertThat(html).contains("meshes | meshes block 0 | 1 MiB | 43% used | type 0 [DEVICE_LOCAL]");
        assertThat(html).doesNotContain("<script", "src=", "href=");
        for (AllocationClass c : AllocationClass.values()) {
            assertThat(html).contains(">" + c.label() + "</span>");
        }
    }

    @Test
    void htmlShouldHaveATitlePerRangeWithNameSizeOffsetAndSite() {
        MemoryMap map = SampleMaps.sample();
        List<String> titles = new ArrayList<>();
        Matcher m = Pattern.compile("<div class=\"range [^\"]+\" style=\"[^\"]+\" title=\"([^\"]*)\"></div>")
                .matcher(MemoryMapHtml.write(map));
        while (m.find()) {
            titles.add(unescape(m.group(1)));
        }
        List<Suballocation> all = map.blocks().stream().flatMap(b -> b.suballocations().stream()).toList();
        assertThat(titles).hasSameSizeAs(all);
        for (int i = 0; i < all.size(); i++) {
            Suballocation s = all.get(i);
            assertThat(titles.get(i)).contains("size: " + Format.bytes(s.size()) + " (" + s.size() + " B)")
                    .contains("offset: " + s.offset());
            if (s.name() != null) {
                assertThat(titles.get(i)).startsWith(s.name() + "\n");
            }
            if (s.allocationSite() != null) {
                assertThat(titles.get(i)).endsWith("allocated at:\n" + s.allocationSite());
            }
        }
        assertThat(titles.get(0)).startsWith("terrain \"vertices\" <1>\nbuffer, vertex/index")
                .contains("usage: 0x82 (TRANSFER_DST | VERTEX_BUFFER)");
    }

    @Test
    void controlCharactersInNamesShouldNotReachTheHtmlRaw() {
        // Tab and newline as references; NUL, CR, DEL and a C1 control are HTML parse errors either way: replaced.
        assertThat(MemoryMapHtml.escape("a\tb\nc\u0000d\re\u007ff\u0085g"))
                .isEqualTo("a&#9;b&#10;c\uFFFDd\uFFFDe\uFFFDf\uFFFDg");
    }

    @Test
    void sizesShouldReadNaturally() {
        assertThat(Format.bytes(0)).isEqualTo("0 B");
        assertThat(Format.bytes(1023)).isEqualTo("1023 B");
        assertThat(Format.bytes(256 << 10)).isEqualTo("256 KiB");
        assertThat(Format.bytes(3 << 19)).isEqualTo("1.5 MiB");
        assertThat(Format.bytes(Long.MAX_VALUE)).isEqualTo("8 EiB");
    }

    private static DecodedPng decode(byte[] png) {
        return DecodedPng.decode(png);
    }

    private static int rgb(DecodedPng image, int x, int y) {
        return image.rgb(x, y);
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    private static String unescape(String s) {
        return s.replace("&#10;", "\n").replace("&#9;", "\t").replace("&quot;", "\"").replace("&#39;", "'")
                .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    }
}
