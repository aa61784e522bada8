package io.github.solvk.memory.diagnostics;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/**
 * The smallest PNG writer that does the job (PNG specification, ISO/IEC 15948): 8-bit RGBA, no interlace, filter type
 * 0 ("None") on every scanline, one {@code IDAT} chunk compressed by {@link Deflater} (whose default output is the
 * zlib stream PNG asks for). Chunks are length, type, data, CRC-32 of type and data.
 */
final class PngEncoder {

    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    private static final int COLOR_TYPE_RGBA = 6;

    private PngEncoder() {
    }

    /**
     * Encodes an opaque image.
     *
     * @param width  pixels per row
     * @param height rows
     * @param rgb    {@code 0xRRGGBB} per pixel, row by row
     * @return the PNG file's bytes
     */
    static byte[] encode(int width, int height, int[] rgb) {
        if (width <= 0 || height <= 0 || rgb.length != (long) width * height) {
            throw new IllegalArgumentException("image: " + width + "x" + height + " with " + rgb.length
                    + " pixels (expected: positive sizes and width * height pixels)");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(SIGNATURE);

        byte[] header = new byte[13];
        putInt(header, 0, width);
        putInt(header, 4, height);
        header[8] = 8; // bits per sample
        header[9] = COLOR_TYPE_RGBA;
        // header[10..12]: compression 0 (deflate), filter method 0, interlace 0 (none)
        chunk(out, "IHDR", header);

        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        try (DeflaterOutputStream z = new DeflaterOutputStream(compressed, deflater)) {
            byte[] line = new byte[1 + width * 4]; // line[0] = 0: filter type None
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int p = rgb[y * width + x];
                    int i = 1 + x * 4;
                    line[i] = (byte) (p >>> 16);
                    line[i + 1] = (byte) (p >>> 8);
                    line[i + 2] = (byte) p;
                    line[i + 3] = (byte) 0xFF;
                }
                z.write(line);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen: writing to memory", e);
        } finally {
            deflater.end();
        }
        chunk(out, "IDAT", compressed.toByteArray());
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        byte[] word = new byte[4];
        putInt(word, 0, data.length);
        out.writeBytes(word);
        out.writeBytes(typeBytes);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        putInt(word, 0, (int) crc.getValue());
        out.writeBytes(word);
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }
}
