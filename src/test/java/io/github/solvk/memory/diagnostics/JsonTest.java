package io.github.solvk.memory.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void parseShouldMapEveryKindOfValue() {
        Object value = Json.parse(" {\"a\": [1, -2, 3.5, 1e3, true, false, null], \"b\": {\"c\": \"d\"}, \"e\": []} ");
        assertThat(value).isEqualTo(Map.of(
                "a", Arrays.asList(1L, -2L, 3.5, 1000.0, true, false, null),
                "b", Map.of("c", "d"),
                "e", List.of()));
    }

    @Test
    void parseShouldKeepKeyOrder() {
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) Json.parse("{\"z\":1,\"a\":2,\"m\":3}");
        assertThat(map.keySet()).containsExactly("z", "a", "m");
    }

    @Test
    void parseShouldDecodeEscapes() {
        assertThat(Json.parse("\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\u20AC\"")).isEqualTo("a\"b\\c/d\n\té€");
    }

    @Test
    void quoteShouldRoundTripThroughParse() {
        String s = "tab\t quote\" backslash\\ newline\n bell\u0007 é";
        assertThat(Json.parse(Json.quote(s))).isEqualTo(s);
    }

    @Test
    void parseShouldReadLargeIntegers() {
        assertThat(Json.parse("4294967295")).isEqualTo(4294967295L);
        assertThat(Json.parse("9223372036854775807")).isEqualTo(Long.MAX_VALUE);
        assertThat(Json.parse("-9223372036854775808")).isEqualTo(Long.MIN_VALUE);
        assertThat(Json.parse("18446744073709551615")).isEqualTo(new BigInteger("18446744073709551615"));
    }

    @Test
    void malformedInputShouldBeRejectedWithItsPosition() {
        assertThatThrownBy(() -> Json.parse("{\"a\" 1}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("JSON at position 5: '1' (expected: ':')");
        assertThatThrownBy(() -> Json.parse("[1, 2")).hasMessageContaining("end of input (expected: ',' or ']')");
        assertThatThrownBy(() -> Json.parse("[1] x")).hasMessageContaining("position 4");
        assertThatThrownBy(() -> Json.parse("01")).hasMessageContaining("expected: end of input");
        assertThatThrownBy(() -> Json.parse("\"a\nb\"")).hasMessageContaining("control character");
        assertThatThrownBy(() -> Json.parse("{\"a\":1,\"a\":2}")).hasMessageContaining("duplicate \"a\"");
        assertThatThrownBy(() -> Json.parse("tru")).hasMessageContaining("expected: a value");
        assertThatThrownBy(() -> Json.parse("1.")).hasMessageContaining("a digit after '.'");
        assertThatThrownBy(() -> Json.parse("[".repeat(1000))).hasMessageContaining("levels of nesting");
    }
}
