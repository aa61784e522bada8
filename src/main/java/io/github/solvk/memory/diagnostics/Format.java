package io.github.solvk.memory.diagnostics;

import java.util.Locale;
import java.util.StringJoiner;

/** Text for sizes, flags and labels, shared by the pictures. */
final class Format {

    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    private static final String[] BUFFER_USAGE_NAMES = {"TRANSFER_SRC", "TRANSFER_DST", "UNIFORM_TEXEL_BUFFER",
        "STORAGE_TEXEL_BUFFER", "UNIFORM_BUFFER", "STORAGE_BUFFER", "INDEX_BUFFER", "VERTEX_BUFFER",
        "INDIRECT_BUFFER"};
    private static final String[] IMAGE_USAGE_NAMES = {"TRANSFER_SRC", "TRANSFER_DST", "SAMPLED", "STORAGE",
        "COLOR_ATTACHMENT", "DEPTH_STENCIL_ATTACHMENT", "TRANSIENT_ATTACHMENT", "INPUT_ATTACHMENT"};

    private Format() {
    }

    /** {@code 262144} as {@code "256 KiB"}, {@code 1572864} as {@code "1.5 MiB"}. */
    static String bytes(long bytes) {
        int unit = 0;
        double value = bytes;
        while (value >= 1024 && unit < UNITS.length - 1) {
            value /= 1024;
            unit++;
        }
        if (unit == 0 || value == Math.rint(value)) {
            return (long) value + " " + UNITS[unit];
        }
        return String.format(Locale.ROOT, "%.1f %s", value, UNITS[unit]);
    }

    /** The percentage of the block taken by allocations, rounded down. */
    static int percentUsed(BlockInfo block) {
        // usedBytes <= size < 2^63, so * 100 could overflow only above 92 PB; divide first for such blocks.
        long used = block.usedBytes();
        return (int) (block.size() > Long.MAX_VALUE / 100 ? used / (block.size() / 100) : used * 100 / block.size());
    }

    /** {@code 0x82} of a buffer as {@code "0x82 (TRANSFER_DST | VERTEX_BUFFER)"}. */
    static String usage(Suballocation s) {
        String[] names = switch (s.type()) {
            case BUFFER -> BUFFER_USAGE_NAMES;
            case IMAGE_OPTIMAL, IMAGE_LINEAR -> IMAGE_USAGE_NAMES;
            default -> new String[0];
        };
        StringJoiner joined = new StringJoiner(" | ", " (", ")").setEmptyValue("");
        for (int bit = 0; bit < names.length; bit++) {
            if ((s.usage() & (1 << bit)) != 0) {
                joined.add(names[bit]);
            }
        }
        return "0x" + Integer.toHexString(s.usage()) + joined;
    }

    /**
     * The label of a block's row: pool, name, size, percentage used, memory type. The memory type comes last because
     * a narrow picture cuts the label short.
     */
    static String blockLabel(BlockInfo block, MemoryMap map) {
        StringBuilder sb = new StringBuilder();
        sb.append(block.pool()).append(" | ").append(block.name());
        if (block.kind() == BlockKind.DEDICATED && !block.name().toLowerCase(Locale.ROOT).contains("dedicated")) {
            sb.append(" (dedicated)");
        }
        sb.append(" | ").append(bytes(block.size())).append(" | ").append(percentUsed(block)).append("% used");
        sb.append(" | type ").append(block.memoryTypeIndex());
        if (block.memoryTypeIndex() < map.types().size()) {
            sb.append(' ').append(typeFlags(map.types().get(block.memoryTypeIndex()).propertyFlags()));
        }
        return sb.toString();
    }

    /** Memory property flags as {@code "DEVICE_LOCAL+HOST_VISIBLE"}, short enough for a label. */
    static String typeFlags(int flags) {
        StringJoiner joined = new StringJoiner("+", "[", "]");
        if ((flags & TypeInfo.DEVICE_LOCAL) != 0) {
            joined.add("DEVICE_LOCAL");
        }
        if ((flags & TypeInfo.HOST_VISIBLE) != 0) {
            joined.add("HOST_VISIBLE");
        }
        if ((flags & TypeInfo.HOST_COHERENT) != 0) {
            joined.add("COHERENT");
        }
        if ((flags & TypeInfo.HOST_CACHED) != 0) {
            joined.add("CACHED");
        }
        if ((flags & TypeInfo.LAZILY_ALLOCATED) != 0) {
            joined.add("LAZY");
        }
        return joined.toString();
    }
}
