package io.github.solvk.memory.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Names that JSON, HTML and VMA cannot carry as they are: escaped, replaced, or matched as VMA gives them back. */
class MemoryMapTextTest {

    /** A high surrogate alone, a low surrogate alone, and a valid pair (U+1F600) for contrast. */
    private static final String ODD_NAME = "hi\uD800 lo\uDC00 pair\uD83D\uDE00";

    private static void assertStrictUtf8(String text) {
        assertThatCode(() -> StandardCharsets.UTF_8.newEncoder().encode(CharBuffer.wrap(text)))
                .as("the text can be written as UTF-8, as Files.writeString does").doesNotThrowAnyException();
    }

    @Test
    void quoteShouldEscapeLoneSurrogatesAndKeepPairs() {
        String quoted = Json.quote(ODD_NAME);
        assertThat(quoted).isEqualTo("\"hi\\ud800 lo\\udc00 pair\uD83D\uDE00\"");
        assertStrictUtf8(quoted);
        assertThat(Json.parse(quoted)).isEqualTo(ODD_NAME);
    }

    @Test
    void jsonAndHtmlOfANameWithLoneSurrogatesShouldBeWritableAsUtf8() {
        BlockInfo block = new BlockInfo("pool " + ODD_NAME, "pool " + ODD_NAME + " block 0", 0, 4096,
                BlockKind.POOL_BLOCK, List.of(Suballocation.buffer(0, 256, 0x80, ODD_NAME, null)));
        MemoryMap map = new MemoryMap("GPU " + ODD_NAME, SampleMaps.heaps(), SampleMaps.types(), List.of(block));

        String json = MemoryMapJson.write(map);
        assertStrictUtf8(json);
        MemoryMap back = MemoryMapJson.read(json);
        assertThat(back.blocks().get(0).suballocations().get(0).name()).isEqualTo(ODD_NAME);
        assertThat(back.blocks().get(0).pool()).isEqualTo("pool " + ODD_NAME);

        String html = MemoryMapHtml.write(map);
        assertStrictUtf8(html);
        assertThat(html).contains("hi\uFFFD lo\uFFFD pair\uD83D\uDE00");
    }

    @Test
    void parseShouldAcceptOnlyAsciiHexDigitsInUnicodeEscapes() {
        // RFC 8259: \\u is followed by four HEXDIG (0-9, A-F, a-f). Character.digit also takes Arabic-Indic and
        // full-width digits and letters.
        assertThatThrownBy(() -> Json.parse("\"\\u\u0660\u0660\u0664\u0661\""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hex digit");
        assertThatThrownBy(() -> Json.parse("\"\\u\uFF10\uFF10\uFF14\uFF21\""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hex digit");
        assertThat(Json.parse("\"\\u00e9\\u00C9\"")).isEqualTo("\u00e9\u00c9");
    }

    @Test
    void mergeVmaShouldDropTheVmaAllocationOfOurBlockEvenWhenVmaCouldNotKeepItsName() {
        // VMA's JSON writer drops control characters other than \b \f \n \r \t, LWJGL writes a lone surrogate as
        // '?', and a C string ends at NUL: the name VMA echoes is not the name we gave.
        String[] poolNames = {"ctl\u0001pool", "lone\uD800pool", "nul\u0000pool"};
        String[] vmaEchoes = {"ctlpool", "lone?pool", "nul"};
        for (int i = 0; i < poolNames.length; i++) {
            BlockInfo ours = new BlockInfo(poolNames[i], poolNames[i] + " block 0", 0, 65536,
                    BlockKind.POOL_BLOCK, List.of());
            String vma = "{\"General\": {\"API\": \"Vulkan\", \"GPU\": \"x\"}, \"DefaultPools\": {\"Type 0\": {"
                    + "\"Blocks\": {}, \"DedicatedAllocations\": [{\"Type\": \"UNKNOWN\", \"Size\": 65536,"
                    + " \"Usage\": 0, \"Name\": " + Json.quote(vmaEchoes[i]
                            + (vmaEchoes[i].equals("nul") ? "" : " block 0")) + "}]}}, \"CustomPools\": {}}";
            MemoryMap merged = MemoryMapJson.mergeVma(
                    new MemoryMap("x", SampleMaps.heaps(), SampleMaps.types(), List.of(ours)), vma);
            assertThat(merged.blocks()).as("pool %s: its block once, not again as a VMA dedicated allocation",
                    Json.quote(poolNames[i])).containsExactly(ours);
        }
    }

    @Test
    void mergeVmaShouldKeepADedicatedAllocationThatOnlySharesTheNameOfOurBlock() {
        BlockInfo ours = new BlockInfo("meshes", "meshes block 0", 0, 65536, BlockKind.POOL_BLOCK, List.of());
        // A user's own dedicated buffer that happens to bear the name, with another size.
        String vma = "{\"General\": {\"API\": \"Vulkan\", \"GPU\": \"x\"}, \"DefaultPools\": {\"Type 0\": {"
                + "\"Blocks\": {}, \"DedicatedAllocations\": [{\"Type\": \"BUFFER\", \"Size\": 4096, \"Usage\": 32,"
                + " \"Name\": \"meshes block 0\"}]}}, \"CustomPools\": {}}";
        MemoryMap merged = MemoryMapJson.mergeVma(
                new MemoryMap("x", SampleMaps.heaps(), SampleMaps.types(), List.of(ours)), vma);
        assertThat(merged.blocks()).hasSize(2);
    }
}
