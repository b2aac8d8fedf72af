package dev.collab.yjs;

import dev.collab.yjs.Lib0Reader.MalformedException;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JavaScript's view of the values found in Yjs documents, so that Java output matches what yjs code prints:
 * {@code JSON.parse}, {@code JSON.stringify} (object keys in JavaScript's order, numbers as JavaScript prints
 * them) and {@code String(value)}.
 *
 * <p>The value model is the one of {@link Lib0Reader#readAny()}: null, {@link Lib0Reader#UNDEFINED}, Boolean,
 * Long, Float, Double, {@link Lib0Reader.BigIntValue}, String, byte[] (a Uint8Array), List, Map. JSON numbers parse
 * to Double, as in JavaScript. Values with a {@code toJSON} of their own (shared types) are turned into plain
 * values by the caller first.
 */
public final class JsValues {
    private JsValues() {
    }

    /** JSON.parse of JSON stored in a document (format values, embeds, ContentJSON). */
    public static Object parseJson(String text) {
        try (var reader = Json.createReader(new StringReader(text))) {
            return fromJsonP(reader.readValue());
        } catch (JsonException | IllegalStateException e) {
            throw new MalformedException("stored JSON does not parse: " + e.getMessage());
        }
    }

    /** A parsed JSON-P value in this model (objects keep their key order, duplicate keys keep the last value). */
    public static Object fromJsonP(JsonValue v) {
        return switch (v.getValueType()) {
            case NULL -> null;
            case TRUE -> Boolean.TRUE;
            case FALSE -> Boolean.FALSE;
            case STRING -> ((JsonString) v).getString();
            case NUMBER -> ((JsonNumber) v).bigDecimalValue().doubleValue();
            case ARRAY -> {
                List<Object> out = new ArrayList<>();
                for (JsonValue x : (JsonArray) v) {
                    out.add(fromJsonP(x));
                }
                yield out;
            }
            case OBJECT -> {
                Map<String, Object> out = new LinkedHashMap<>();
                for (Map.Entry<String, JsonValue> e : ((JsonObject) v).entrySet()) {
                    out.put(e.getKey(), fromJsonP(e.getValue()));
                }
                yield out;
            }
        };
    }

    /** JSON.stringify(value) without indentation; undefined at the top answers "undefined"'s absence as null. */
    public static String stringify(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value == Lib0Reader.UNDEFINED ? null : value);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v) {
        if (v == null || v == Lib0Reader.UNDEFINED) {
            sb.append("null");
        } else if (v instanceof Boolean b) {
            sb.append(b);
        } else if (v instanceof String s) {
            quote(sb, s);
        } else if (v instanceof Lib0Reader.BigIntValue big) {
            sb.append(big.value());          // JSON.stringify throws on a BigInt; its digits are the useful answer
        } else if (v instanceof Number n) {
            double d = toDouble(n);
            sb.append(Double.isFinite(d) ? number(d) : "null");
        } else if (v instanceof byte[] bytes) {
            sb.append('{');                  // a Uint8Array stringifies as an object indexed by position
            for (int i = 0; i < bytes.length; i++) {
                sb.append(i > 0 ? ",\"" : "\"").append(i).append("\":").append(bytes[i] & 0xFF);
            }
            sb.append('}');
        } else if (v instanceof List<?> list) {
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                write(sb, list.get(i));
            }
            sb.append(']');
        } else if (v instanceof Map<?, ?> map) {
            sb.append('{');
            boolean first = true;
            for (String key : keyOrder(map)) {
                Object x = map.get(key);
                if (x == Lib0Reader.UNDEFINED) {
                    continue;
                }
                if (!first) {
                    sb.append(',');
                }
                first = false;
                quote(sb, key);
                sb.append(':');
                write(sb, x);
            }
            sb.append('}');
        } else {
            throw new IllegalArgumentException("not a JavaScript value: " + v.getClass().getName());
        }
    }

    /** A JavaScript object's own key order: array-index keys ascending, then the others in insertion order. */
    public static List<String> keyOrder(Map<?, ?> map) {
        List<String> indexes = new ArrayList<>();
        List<String> others = new ArrayList<>();
        for (Object k : map.keySet()) {
            String key = (String) k;
            (isArrayIndex(key) ? indexes : others).add(key);
        }
        if (indexes.isEmpty()) {
            return others;
        }
        indexes.sort((a, b) -> Long.compare(Long.parseLong(a), Long.parseLong(b)));
        indexes.addAll(others);
        return indexes;
    }

    private static boolean isArrayIndex(String key) {
        int n = key.length();
        if (n == 0 || n > 10 || (n > 1 && key.charAt(0) == '0')) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = key.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return Long.parseLong(key) < 4294967295L;
    }

    static double toDouble(Number n) {
        return n instanceof Float f ? (double) f.floatValue() : n.doubleValue();
    }

    /** JSON.stringify's string quoting (well-formed: lone surrogates escaped). */
    static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    boolean lone = Character.isHighSurrogate(c)
                            ? i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))
                            : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
                    if (c < 0x20 || lone) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** Number.prototype.toString() for a finite double: the shortest digits that round-trip, JavaScript's layout. */
    public static String number(double d) {
        if (d == 0) {
            return "0";
        }
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        String sign = d < 0 ? "-" : "";
        // Double.toString gives the shortest round-tripping digits (JDK 19+), as ECMAScript demands
        BigDecimal exact = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = exact.unscaledValue().toString();
        int k = digits.length();
        int n = k - exact.scale();       // value = 0.digits * 10^n
        StringBuilder sb = new StringBuilder(sign);
        if (k <= n && n <= 21) {
            sb.append(digits).append("0".repeat(n - k));
        } else if (0 < n && n <= 21) {
            sb.append(digits, 0, n).append('.').append(digits, n, k);
        } else if (-6 < n && n <= 0) {
            sb.append("0.").append("0".repeat(-n)).append(digits);
        } else {
            int e = n - 1;
            sb.append(digits.charAt(0));
            if (k > 1) {
                sb.append('.').append(digits, 1, k);
            }
            sb.append('e').append(e < 0 ? '-' : '+').append(Math.abs(e));
        }
        return sb.toString();
    }

    /** String(value): what template literals and string concatenation make of a value. */
    public static String jsString(Object v) {
        if (v == null) {
            return "null";
        } else if (v == Lib0Reader.UNDEFINED) {
            return "undefined";
        } else if (v instanceof String s) {
            return s;
        } else if (v instanceof Boolean b) {
            return b.toString();
        } else if (v instanceof Lib0Reader.BigIntValue big) {
            return Long.toString(big.value());
        } else if (v instanceof Number n) {
            return number(toDouble(n));
        } else if (v instanceof byte[] bytes) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < bytes.length; i++) {
                sb.append(i > 0 ? "," : "").append(bytes[i] & 0xFF);
            }
            return sb.toString();
        } else if (v instanceof List<?> list) {
            StringBuilder sb = new StringBuilder();   // Array.prototype.join: null and undefined become ""
            for (int i = 0; i < list.size(); i++) {
                Object x = list.get(i);
                sb.append(i > 0 ? "," : "").append(x == null || x == Lib0Reader.UNDEFINED ? "" : jsString(x));
            }
            return sb.toString();
        }
        return "[object Object]";
    }
}
