package io.github.solvk.memory.diagnostics;

/**
 * A 5x7 pixel font for the PNG labels: digits, capital letters (lower case is drawn in capitals) and the symbols
 * {@code . , : % - _ / ( ) # [ ] + = ' " < > ? ! | *}. Any other character is drawn as {@code ?}.
 *
 * <p>Each glyph is 7 rows of 5 pixels, top row first, written with {@code #} for ink; in memory a glyph is one
 * {@code long} of 35 bits, bit {@code row * 5 + column}.
 */
final class BitmapFont {

    /** Glyph width in pixels. */
    static final int WIDTH = 5;
    /** Glyph height in pixels. */
    static final int HEIGHT = 7;
    /** Horizontal distance from one character to the next, one pixel of spacing included. */
    static final int ADVANCE = WIDTH + 1;

    private static final long[] GLYPHS = new long[128];

    static {
        define('0', ".###. #...# #..## #.#.# ##..# #...# .###.");
        define('1', "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.");
        define('2', ".###. #...# ....# ...#. ..#.. .#... #####");
        define('3', "##### ...#. ..#.. ...#. ....# #...# .###.");
        define('4', "...#. ..##. .#.#. #..#. ##### ...#. ...#.");
        define('5', "##### #.... ####. ....# ....# #...# .###.");
        define('6', "..##. .#... #.... ####. #...# #...# .###.");
        define('7', "##### ....# ...#. ..#.. .#... .#... .#...");
        define('8', ".###. #...# #...# .###. #...# #...# .###.");
        define('9', ".###. #...# #...# .#### ....# ...#. .##..");
        define('A', ".###. #...# #...# ##### #...# #...# #...#");
        define('B', "####. #...# #...# ####. #...# #...# ####.");
        define('C', ".###. #...# #.... #.... #.... #...# .###.");
        define('D', "###.. #..#. #...# #...# #...# #..#. ###..");
        define('E', "##### #.... #.... ####. #.... #.... #####");
        define('F', "##### #.... #.... ####. #.... #.... #....");
        define('G', ".###. #...# #.... #.### #...# #...# .####");
        define('H', "#...# #...# #...# ##### #...# #...# #...#");
        define('I', ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.");
        define('J', "..### ...#. ...#. ...#. ...#. #..#. .##..");
        define('K', "#...# #..#. #.#.. ##... #.#.. #..#. #...#");
        define('L', "#.... #.... #.... #.... #.... #.... #####");
        define('M', "#...# ##.## #.#.# #.#.# #...# #...# #...#");
        define('N', "#...# #...# ##..# #.#.# #..## #...# #...#");
        define('O', ".###. #...# #...# #...# #...# #...# .###.");
        define('P', "####. #...# #...# ####. #.... #.... #....");
        define('Q', ".###. #...# #...# #...# #.#.# #..#. .##.#");
        define('R', "####. #...# #...# ####. #.#.. #..#. #...#");
        define('S', ".#### #.... #.... .###. ....# ....# ####.");
        define('T', "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..");
        define('U', "#...# #...# #...# #...# #...# #...# .###.");
        define('V', "#...# #...# #...# #...# #...# .#.#. ..#..");
        define('W', "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.");
        define('X', "#...# #...# .#.#. ..#.. .#.#. #...# #...#");
        define('Y', "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..");
        define('Z', "##### ....# ...#. ..#.. .#... #.... #####");
        define(' ', "..... ..... ..... ..... ..... ..... .....");
        define('.', "..... ..... ..... ..... ..... .##.. .##..");
        define(',', "..... ..... ..... ..... .##.. ..#.. .#...");
        define(':', "..... .##.. .##.. ..... .##.. .##.. .....");
        define('%', "##... ##..# ...#. ..#.. .#... #..## ...##");
        define('-', "..... ..... ..... ##### ..... ..... .....");
        define('_', "..... ..... ..... ..... ..... ..... #####");
        define('/', "..... ....# ...#. ..#.. .#... #.... .....");
        define('(', "...#. ..#.. .#... .#... .#... ..#.. ...#.");
        define(')', ".#... ..#.. ...#. ...#. ...#. ..#.. .#...");
        define('#', ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.");
        define('[', ".###. .#... .#... .#... .#... .#... .###.");
        define(']', ".###. ...#. ...#. ...#. ...#. ...#. .###.");
        define('+', "..... ..#.. ..#.. ##### ..#.. ..#.. .....");
        define('=', "..... ..... ##### ..... ##### ..... .....");
        define('\'', "..#.. ..#.. .#... ..... ..... ..... .....");
        define('"', ".#.#. .#.#. ..... ..... ..... ..... .....");
        define('<', "...#. ..#.. .#... #.... .#... ..#.. ...#.");
        define('>', ".#... ..#.. ...#. ....# ...#. ..#.. .#...");
        define('?', ".###. #...# ....# ...#. ..#.. ..... ..#..");
        define('!', "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..");
        define('|', "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..");
        define('*', "..... ..#.. #.#.# .###. #.#.# ..#.. .....");
    }

    private BitmapFont() {
    }

    private static void define(char c, String rows) {
        String bits = rows.replace(" ", "");
        if (bits.length() != WIDTH * HEIGHT) {
            throw new IllegalStateException("glyph '" + c + "': " + bits.length() + " pixels (expected: 35)");
        }
        long glyph = 0;
        for (int i = 0; i < bits.length(); i++) {
            if (bits.charAt(i) == '#') {
                glyph |= 1L << i;
            }
        }
        GLYPHS[c] = glyph;
    }

    /** Whether the glyph of {@code c} has ink at column {@code x} (0 to 4) and row {@code y} (0 to 6). */
    static boolean ink(char c, int x, int y) {
        return (glyph(c) & (1L << (y * WIDTH + x))) != 0;
    }

    private static long glyph(char c) {
        char upper = Character.toUpperCase(c);
        if (upper < GLYPHS.length && (GLYPHS[upper] != 0 || upper == ' ')) {
            return GLYPHS[upper];
        }
        return GLYPHS['?'];
    }
}
