package io.github.solvk.memory.diagnostics;

/**
 * Writes indented JSON in one pass, for the dumps. Callers pair {@code begin}/{@code end} and give every value inside
 * an object a {@link #name}; nothing here checks that beyond commas and indentation.
 */
final class JsonWriter {

    private static final String INDENT = "  ";

    private final StringBuilder out = new StringBuilder(4096);
    private int depth;
    /** Whether the current object or array already has an element, so the next one needs a comma. */
    private boolean hasElement;
    /** Whether a name was just written, so the value follows on the same line. */
    private boolean afterName;

    JsonWriter beginObject() {
        return open('{');
    }

    JsonWriter endObject() {
        return close('}');
    }

    JsonWriter beginArray() {
        return open('[');
    }

    JsonWriter endArray() {
        return close(']');
    }

    JsonWriter name(String name) {
        separate();
        Json.appendQuoted(out, name);
        out.append(": ");
        afterName = true;
        return this;
    }

    JsonWriter value(String s) {
        separate();
        if (s == null) {
            out.append("null");
        } else {
            Json.appendQuoted(out, s);
        }
        return this;
    }

    JsonWriter value(long n) {
        separate();
        out.append(n);
        return this;
    }

    JsonWriter value(boolean b) {
        separate();
        out.append(b);
        return this;
    }

    /** Writes {@code "name": value} for a string, or nothing when the value is {@code null}. */
    JsonWriter optional(String name, String value) {
        return value == null ? this : name(name).value(value);
    }

    JsonWriter field(String name, long value) {
        return name(name).value(value);
    }

    JsonWriter field(String name, String value) {
        return name(name).value(value);
    }

    @Override
    public String toString() {
        return out.toString();
    }

    private JsonWriter open(char bracket) {
        separate();
        out.append(bracket);
        depth++;
        hasElement = false;
        return this;
    }

    private JsonWriter close(char bracket) {
        depth--;
        if (hasElement) {
            newLine();
        }
        out.append(bracket);
        hasElement = true;
        return this;
    }

    private void separate() {
        if (afterName) {
            afterName = false;
            return;
        }
        if (hasElement) {
            out.append(',');
        }
        if (depth > 0) {
            newLine();
        }
        hasElement = true;
    }

    private void newLine() {
        out.append('\n');
        for (int i = 0; i < depth; i++) {
            out.append(INDENT);
        }
    }
}
