package io.github.solvk.memory.diagnostics;

/**
 * How the pictures colour a range: by what the resource is used for, from its type and usage flags. A buffer with
 * several uses takes the first class in declaration order (vertex/index before storage before uniform).
 */
public enum AllocationClass {
    /** Buffers with {@code VERTEX_BUFFER}, {@code INDEX_BUFFER} or {@code INDIRECT_BUFFER} usage. */
    VERTEX_INDEX("vertex/index", 0xE5_73_73),
    /** Buffers with {@code STORAGE_BUFFER} or {@code STORAGE_TEXEL_BUFFER} usage. */
    STORAGE("storage", 0xF5_A6_23),
    /** Buffers with {@code UNIFORM_BUFFER} or {@code UNIFORM_TEXEL_BUFFER} usage. */
    UNIFORM("uniform", 0xF2_D8_3A),
    /** Buffers whose only uses are {@code TRANSFER_SRC} and {@code TRANSFER_DST}: staging and readback. */
    TRANSFER_ONLY("transfer only", 0x6F_A8_DC),
    /** Images, optimal or linear. */
    IMAGE("image", 0x3F_B8_A0),
    /** Anything else: unknown resources, buffers with no usage named above. */
    UNKNOWN("unknown", 0xA0_86_C8),
    /** Free space. */
    FREE("free", 0xE4_E4_E4);

    /** {@code VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT}. */
    private static final int TRANSFER = 0x1 | 0x2;
    /** {@code VK_BUFFER_USAGE_INDEX_BUFFER_BIT | VERTEX_BUFFER_BIT | INDIRECT_BUFFER_BIT}. */
    private static final int VERTEX_INDEX_BITS = 0x40 | 0x80 | 0x100;
    /** {@code VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT | STORAGE_BUFFER_BIT}. */
    private static final int STORAGE_BITS = 0x8 | 0x20;
    /** {@code VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT | UNIFORM_BUFFER_BIT}. */
    private static final int UNIFORM_BITS = 0x4 | 0x10;

    private final String label;
    private final int rgb;

    AllocationClass(String label, int rgb) {
        this.label = label;
        this.rgb = rgb;
    }

    /**
     * The legend's text.
     *
     * @return a short lower-case label
     */
    public String label() {
        return label;
    }

    /**
     * The fill colour.
     *
     * @return {@code 0xRRGGBB}
     */
    public int rgb() {
        return rgb;
    }

    /**
     * Classifies a range.
     *
     * @param s a suballocation
     * @return its class
     */
    public static AllocationClass of(Suballocation s) {
        return switch (s.type()) {
            case FREE -> FREE;
            case IMAGE_OPTIMAL, IMAGE_LINEAR -> IMAGE;
            case UNKNOWN -> UNKNOWN;
            case BUFFER -> ofBufferUsage(s.usage());
        };
    }

    /**
     * Classifies a buffer by its usage.
     *
     * @param usage {@code VkBufferUsageFlags}
     * @return its class; {@link #UNKNOWN} for 0
     */
    public static AllocationClass ofBufferUsage(int usage) {
        if ((usage & VERTEX_INDEX_BITS) != 0) {
            return VERTEX_INDEX;
        }
        if ((usage & STORAGE_BITS) != 0) {
            return STORAGE;
        }
        if ((usage & UNIFORM_BITS) != 0) {
            return UNIFORM;
        }
        if (usage != 0 && (usage & ~TRANSFER) == 0) {
            return TRANSFER_ONLY;
        }
        return UNKNOWN;
    }
}
