package io.github.solvk.memory.diagnostics;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * A PNG decoded by {@code javax.imageio}, an independent decoder, to check our encoder. Reached by reflection: the
 * tests compile inside the library's module, which must not read {@code java.desktop}; at run time the tests are on
 * the class path, where {@code java.desktop} is readable.
 */
final class DecodedPng {

    private final Object image;
    private final Method getRgb;

    private DecodedPng(Object image) throws ReflectiveOperationException {
        this.image = image;
        this.getRgb = image.getClass().getMethod("getRGB", int.class, int.class);
    }

    /** Decodes a PNG, failing when ImageIO cannot read it. */
    static DecodedPng decode(byte[] png) {
        try {
            Class<?> imageIo = Class.forName("javax.imageio.ImageIO");
            Object image = imageIo.getMethod("read", InputStream.class).invoke(null, new ByteArrayInputStream(png));
            if (image == null) {
                throw new AssertionError("ImageIO found no PNG reader for " + png.length + " bytes");
            }
            return new DecodedPng(image);
        } catch (InvocationTargetException e) {
            throw new AssertionError("ImageIO cannot decode the PNG", e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("javax.imageio is not available to the tests", e);
        }
    }

    int width() {
        return (int) call("getWidth");
    }

    int height() {
        return (int) call("getHeight");
    }

    /** The pixel as {@code 0xRRGGBB}. */
    int rgb(int x, int y) {
        try {
            return (int) getRgb.invoke(image, x, y) & 0xFFFFFF;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private Object call(String method) {
        try {
            return image.getClass().getMethod(method).invoke(image);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
