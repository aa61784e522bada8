package io.github.solvk.memory.diagnostics;

import java.util.Locale;

/**
 * Writes a {@link MemoryMap} as one self-contained HTML page (inline CSS, no scripts, no external assets): one row
 * per block, labelled with pool, block name, memory type, size and percentage used; allocations as rectangles
 * coloured by {@link AllocationClass}; free space grey and hatched; a legend. Widths are proportional: the largest
 * block spans the page and an allocation takes its share of its block. Hovering an allocation shows its name, size,
 * offset, usage and, when recorded, its allocation site (the {@code title} attribute).
 *
 * <p>Markup, for tools that read it: each block is a {@code <div class="row">} holding a {@code <div class="label">}
 * and a {@code <div class="bar">}; each range of the bar is a {@code <div class="range ...">} with a {@code title}.
 */
public final class MemoryMapHtml {

    private MemoryMapHtml() {
    }

    /**
     * Writes the page.
     *
     * @param map a memory map
     * @return the HTML document
     */
    public static String write(MemoryMap map) {
        java.util.Objects.requireNonNull(map, "map: null (expected: a MemoryMap)");
        StringBuilder html = new StringBuilder(8192);
        html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Memory map: ")
                .append(escape(map.deviceName())).append("</title>\n<style>\n")
                .append("body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #202020; }\n")
                .append(".legend { display: flex; flex-wrap: wrap; gap: 14px; margin-bottom: 14px; }\n")
                .append(".legend span { display: inline-flex; align-items: center; gap: 5px; }\n")
                .append(".swatch { width: 14px; height: 14px; border: 1px solid #707070; display: inline-block; }\n")
                .append(".row { margin: 0 0 12px; }\n")
                .append(".label { font-family: ui-monospace, monospace; white-space: pre; margin-bottom: 2px; }\n")
                .append(".bar { position: relative; height: 26px; border: 1px solid #707070; box-sizing: border-box;"
                        + " min-width: 3px; }\n")
                .append(".range { position: absolute; top: 0; bottom: 0; min-width: 1px; box-sizing: border-box;"
                        + " border-left: 1px solid #303030; }\n")
                .append(".range:hover { outline: 2px solid #000; z-index: 1; }\n");
        for (AllocationClass c : AllocationClass.values()) {
            html.append('.').append(cssClass(c)).append(" { background: ");
            if (c == AllocationClass.FREE) {
                html.append("repeating-linear-gradient(45deg, #c0c0c0 0 1px, ").append(hex(c.rgb()))
                        .append(" 1px 6px); border-left: none");
            } else {
                html.append(hex(c.rgb()));
            }
            html.append("; }\n");
        }
        html.append("</style>\n</head>\n<body>\n<h1>Memory map: ").append(escape(map.deviceName())).append("</h1>\n");

        html.append("<div class=\"legend\">");
        for (AllocationClass c : AllocationClass.values()) {
            html.append("<span><i class=\"swatch ").append(cssClass(c)).append("\"></i>").append(escape(c.label()))
                    .append("</span>");
        }
        html.append("</div>\n");

        long maxSize = 1;
        for (BlockInfo block : map.blocks()) {
            maxSize = Math.max(maxSize, block.size());
        }
        if (map.blocks().isEmpty()) {
            html.append("<p>No blocks.</p>\n");
        }
        for (BlockInfo block : map.blocks()) {
            html.append("<div class=\"row\">\n<div class=\"label\">").append(escape(Format.blockLabel(block, map)))
                    .append("</div>\n<div class=\"bar\" style=\"width: ").append(percent(block.size(), maxSize))
                    .append("\">\n");
            for (Suballocation s : block.suballocations()) {
                AllocationClass c = AllocationClass.of(s);
                html.append("<div class=\"range ").append(cssClass(c)).append("\" style=\"left: ")
                        .append(percent(s.offset(), block.size())).append("; width: ")
                        .append(percent(s.size(), block.size())).append("\" title=\"").append(escape(title(s)))
                        .append("\"></div>\n");
            }
            html.append("</div>\n</div>\n");
        }
        html.append("</body>\n</html>\n");
        return html.toString();
    }

    /** The hover text of a range: what, size, offset, usage, allocation site. */
    static String title(Suballocation s) {
        StringBuilder t = new StringBuilder();
        if (s.isFree()) {
            t.append("free");
        } else {
            t.append(s.name() != null ? s.name() : "(unnamed)").append('\n').append(s.type().name().toLowerCase(
                    Locale.ROOT)).append(", ").append(AllocationClass.of(s).label());
        }
        t.append("\nsize: ").append(Format.bytes(s.size())).append(" (").append(s.size()).append(" B)")
                .append("\noffset: ").append(s.offset()).append(" (0x").append(Long.toHexString(s.offset()))
                .append(')');
        if (!s.isFree()) {
            t.append("\nusage: ").append(Format.usage(s));
        }
        if (s.allocationSite() != null) {
            t.append("\nallocated at:\n").append(s.allocationSite());
        }
        return t.toString();
    }

    private static String cssClass(AllocationClass c) {
        return "c-" + c.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static String percent(long part, long whole) {
        return String.format(Locale.ROOT, "%.4f%%", 100.0 * part / whole);
    }

    private static String hex(int rgb) {
        return String.format(Locale.ROOT, "#%06x", rgb);
    }

    /**
     * Escapes text for element content and double-quoted attributes; a title shows {@code &#10;} as a new line. A lone
     * surrogate becomes U+FFFD.
     */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                case '\t' -> sb.append("&#9;");
                case '\n' -> sb.append("&#10;");
                // A lone surrogate has no UTF-8 form (Files.writeString would throw), and other control characters
                // (NUL, CR, C1) are HTML parse errors, raw or as references: show the replacement character.
                default -> sb.append(Json.isLoneSurrogate(s, i) || Character.isISOControl(c) ? '\uFFFD' : c);
            }
        }
        return sb.toString();
    }
}
