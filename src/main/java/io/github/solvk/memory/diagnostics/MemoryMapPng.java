package io.github.solvk.memory.diagnostics;

import java.util.Arrays;
import java.util.List;

/**
 * Draws a {@link MemoryMap} as a PNG image: one row per block, allocations as rectangles coloured by
 * {@link AllocationClass}, free space light grey with diagonal hatching, a legend on top. Needs neither
 * {@code java.desktop} nor any image library: labels use a built-in 5x7 pixel font (capitals only) and the file is
 * written by a minimal PNG encoder.
 *
 * <p>Bars share one scale, as in VMA's {@code GpuMemDumpVis}: the largest block spans the width, smaller ones are
 * proportionally shorter, and allocations take their share of their block's bar. An allocation too small for one
 * pixel still gets one, so nothing disappears. Each allocation that is at least three pixels wide starts with a dark
 * line, so that neighbours of one colour stay apart.
 * <pre>
 *   MEMORY MAP: TEST GPU
 *   [#] VERTEX/INDEX  [#] STORAGE  ...  [/] FREE
 *   MESHES | MESHES BLOCK 0 | TYPE 0 [DEVICE_LOCAL] | 1 MIB | 43% USED
 *   +---------------------------------------------------------------+
 *   |vertex ####|index ##|/////// free ////////|st|//// free ///////|
 *   +---------------------------------------------------------------+
 * </pre>
 */
public final class MemoryMapPng {

    /** The smallest width {@link #write} accepts. */
    public static final int MIN_WIDTH = 120;
    /** The largest width {@link #write} accepts. */
    public static final int MAX_WIDTH = 16384;

    static final int MARGIN = 8;
    static final int BAR_HEIGHT = 24;
    static final int ROW_GAP = 10;
    static final int BACKGROUND = 0xFFFFFF;
    static final int TEXT = 0x202020;
    static final int OUTLINE = 0x707070;
    static final int SEPARATOR = 0x303030;
    static final int FREE_HATCH = 0xC0C0C0;

    private MemoryMapPng() {
    }

    /**
     * Draws the map.
     *
     * @param map   a memory map
     * @param width the image width in pixels; labels are drawn twice as large from 600 pixels on
     * @return the PNG file's bytes
     * @throws IllegalArgumentException when the width is outside {@link #MIN_WIDTH} to {@link #MAX_WIDTH}, or the
     *                                  picture would need more than {@code Integer.MAX_VALUE} pixels
     */
    public static byte[] write(MemoryMap map, int width) {
        java.util.Objects.requireNonNull(map, "map: null (expected: a MemoryMap)");
        if (width < MIN_WIDTH || width > MAX_WIDTH) {
            throw new IllegalArgumentException("width: " + width + " (expected: " + MIN_WIDTH + " to " + MAX_WIDTH
                    + ")");
        }
        Layout layout = layout(map, width);
        Canvas canvas = new Canvas(width, layout.height(), layout.scale());

        canvas.text(MARGIN, MARGIN, "MEMORY MAP: " + map.deviceName(), TEXT);
        int legendX = MARGIN;
        int legendY = layout.legendTop();
        for (AllocationClass c : AllocationClass.values()) {
            int itemWidth = layout.lineHeight() + layout.charWidth() * (c.label().length() + 3);
            if (legendX + itemWidth > width - MARGIN && legendX > MARGIN) {
                legendX = MARGIN;
                legendY += layout.lineHeight() + 4;
            }
            int swatch = layout.lineHeight() - layout.scale();
            if (c == AllocationClass.FREE) {
                canvas.hatched(legendX, legendY, legendX + swatch, legendY + swatch);
            } else {
                canvas.fill(legendX, legendY, legendX + swatch, legendY + swatch, c.rgb());
            }
            canvas.outline(legendX, legendY, legendX + swatch, legendY + swatch, OUTLINE);
            canvas.text(legendX + swatch + layout.charWidth(), legendY, c.label(), TEXT);
            legendX += itemWidth;
        }

        List<BlockInfo> blocks = map.blocks();
        if (blocks.isEmpty()) {
            canvas.text(MARGIN, layout.firstRowTop(), "NO BLOCKS", TEXT);
        }
        for (int row = 0; row < blocks.size(); row++) {
            BlockInfo block = blocks.get(row);
            int top = layout.barTop()[row];
            canvas.text(MARGIN, top - layout.lineHeight() - 3, Format.blockLabel(block, map), TEXT);
            int right = MARGIN + layout.barWidth()[row];
            canvas.hatched(MARGIN, top, right, top + BAR_HEIGHT);
            for (Suballocation s : block.suballocations()) {
                if (s.isFree()) {
                    continue;
                }
                int x0 = x(layout, row, block, s.offset());
                int x1 = Math.max(x(layout, row, block, s.end()), x0 + 1);
                canvas.fill(x0, top, x1, top + BAR_HEIGHT, AllocationClass.of(s).rgb());
                if (x1 - x0 >= 3) {
                    canvas.fill(x0, top, x0 + 1, top + BAR_HEIGHT, SEPARATOR);
                }
            }
            canvas.outline(MARGIN - 1, top - 1, right + 1, top + BAR_HEIGHT + 1, OUTLINE);
        }
        return PngEncoder.encode(width, layout.height(), canvas.pixels);
    }

    /** Where things go: computed once, shared by drawing and the tests. */
    record Layout(int width, int height, int scale, int lineHeight, int charWidth, int legendTop, int firstRowTop,
            int[] barTop, int[] barWidth) {
    }

    static Layout layout(MemoryMap map, int width) {
        int scale = width >= 600 ? 2 : 1;
        int lineHeight = (BitmapFont.HEIGHT + 1) * scale;
        int charWidth = BitmapFont.ADVANCE * scale;
        int available = width - 2 * MARGIN;

        int legendTop = MARGIN + lineHeight + 6;
        int legendLines = 1;
        int legendX = MARGIN;
        for (AllocationClass c : AllocationClass.values()) {
            int itemWidth = lineHeight + charWidth * (c.label().length() + 3);
            if (legendX + itemWidth > width - MARGIN && legendX > MARGIN) {
                legendX = MARGIN;
                legendLines++;
            }
            legendX += itemWidth;
        }
        int firstRowTop = legendTop + legendLines * (lineHeight + 4) + ROW_GAP;

        List<BlockInfo> blocks = map.blocks();
        long maxSize = 1;
        for (BlockInfo block : blocks) {
            maxSize = Math.max(maxSize, block.size());
        }
        int[] barTop = new int[blocks.size()];
        int[] barWidth = new int[blocks.size()];
        long y = firstRowTop;
        for (int row = 0; row < blocks.size(); row++) {
            y += lineHeight + 3;
            barTop[row] = (int) Math.min(y, Integer.MAX_VALUE);
            barWidth[row] = Math.max(1, (int) ((double) blocks.get(row).size() / maxSize * available));
            y += BAR_HEIGHT + ROW_GAP;
        }
        long height = blocks.isEmpty() ? y + lineHeight + MARGIN : y - ROW_GAP + MARGIN;
        if (height * width > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("picture: " + width + "x" + height + " pixels for " + blocks.size()
                    + " blocks (expected: at most " + Integer.MAX_VALUE + " pixels; draw fewer blocks)");
        }
        return new Layout(width, (int) height, scale, lineHeight, charWidth, legendTop, firstRowTop, barTop,
                barWidth);
    }

    /** The pixel column where byte {@code offset} of the block in {@code row} is drawn. */
    static int x(Layout layout, int row, BlockInfo block, long offset) {
        return MARGIN + (int) ((double) offset / block.size() * layout.barWidth()[row]);
    }

    /** Whether the free-space hatching puts a darker pixel at {@code (x, y)}. */
    static boolean isHatch(int x, int y) {
        return (x + y) % 6 == 0;
    }

    /** An RGB pixel buffer with the few drawing operations the picture needs; drawing outside is clipped. */
    private static final class Canvas {
        final int width;
        final int height;
        final int scale;
        final int[] pixels;

        Canvas(int width, int height, int scale) {
            this.width = width;
            this.height = height;
            this.scale = scale;
            this.pixels = new int[width * height];
            Arrays.fill(pixels, BACKGROUND);
        }

        void fill(int x0, int y0, int x1, int y1, int rgb) {
            x0 = Math.max(x0, 0);
            y0 = Math.max(y0, 0);
            x1 = Math.min(x1, width);
            y1 = Math.min(y1, height);
            for (int y = y0; y < y1; y++) {
                Arrays.fill(pixels, y * width + x0, Math.max(y * width + x0, y * width + x1), rgb);
            }
        }

        void hatched(int x0, int y0, int x1, int y1) {
            fill(x0, y0, x1, y1, AllocationClass.FREE.rgb());
            for (int y = Math.max(y0, 0); y < Math.min(y1, height); y++) {
                for (int x = Math.max(x0, 0); x < Math.min(x1, width); x++) {
                    if (isHatch(x, y)) {
                        pixels[y * width + x] = FREE_HATCH;
                    }
                }
            }
        }

        /** A one-pixel frame on the edge of {@code [x0, x1) x [y0, y1)}. */
        void outline(int x0, int y0, int x1, int y1, int rgb) {
            fill(x0, y0, x1, y0 + 1, rgb);
            fill(x0, y1 - 1, x1, y1, rgb);
            fill(x0, y0, x0 + 1, y1, rgb);
            fill(x1 - 1, y0, x1, y1, rgb);
        }

        /** Draws text with its top-left corner at {@code (x, y)}; what does not fit ends in "...". */
        void text(int x, int y, String text, int rgb) {
            int advance = BitmapFont.ADVANCE * scale;
            int fits = (width - MARGIN - x) / advance;
            if (text.length() > fits) {
                text = fits > 3 ? text.substring(0, fits - 3) + "..." : "";
            }
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                for (int gy = 0; gy < BitmapFont.HEIGHT; gy++) {
                    for (int gx = 0; gx < BitmapFont.WIDTH; gx++) {
                        if (BitmapFont.ink(c, gx, gy)) {
                            int px = x + i * advance + gx * scale;
                            int py = y + gy * scale;
                            fill(px, py, px + scale, py + scale, rgb);
                        }
                    }
                }
            }
        }
    }
}
