package dev.collab.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.collab.yjs.Lib0Reader.MalformedException;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/** Shared malformed-input checks for the wire codecs: a decoder may succeed or throw MalformedException, nothing else. */
public final class WireFuzz {
    private WireFuzz() {
    }

    /**
     * Decodes the input; returns the message, or null when it threw {@link MalformedException}. Any other throwable
     * fails the test. A successful decode must re-encode to bytes that decode and re-encode to themselves.
     */
    public static <M> M decodeOrMalformed(Function<byte[], M> decode, Function<M, byte[]> encode, byte[] input) {
        M message;
        try {
            message = decode.apply(input);
        } catch (MalformedException e) {
            return null;
        } catch (Throwable t) {
            throw new AssertionError("decoding " + hex(input) + " threw " + t, t);
        }
        byte[] again = encode.apply(message);
        M reparsed;
        try {
            reparsed = decode.apply(again);
        } catch (Throwable t) {
            throw new AssertionError("re-encoding of " + hex(input) + " (" + hex(again) + ") does not decode", t);
        }
        assertArrayEquals(again, encode.apply(reparsed), "encoding is not stable for " + hex(input));
        return message;
    }

    /** Every strict prefix either is malformed or is itself a frame that re-encodes to exactly that prefix. */
    public static <M> void truncations(Function<byte[], M> decode, Function<M, byte[]> encode, byte[] frame) {
        for (int len = 0; len < frame.length; len++) {
            byte[] prefix = java.util.Arrays.copyOf(frame, len);
            M m = decodeOrMalformed(decode, encode, prefix);
            if (m != null) {
                assertArrayEquals(prefix, encode.apply(m), "prefix " + hex(prefix) + " decoded to " + m);
            }
        }
    }

    /** Random byte strings and random mutations of valid frames; returns how many decoded successfully. */
    public static <M> int fuzz(Function<byte[], M> decode, Function<M, byte[]> encode, List<byte[]> seeds,
                               int rounds) {
        int ok = 0;
        for (int seed = 0; seed < rounds; seed++) {
            Random rnd = new Random(seed);
            byte[] input;
            if (seeds.isEmpty() || rnd.nextInt(4) == 0) {
                input = new byte[rnd.nextInt(48)];
                rnd.nextBytes(input);
                if (input.length > 0 && rnd.nextBoolean()) {
                    input[0] = (byte) rnd.nextInt(12); // plausible first byte: type or short name length
                }
            } else {
                input = mutate(seeds.get(rnd.nextInt(seeds.size())), rnd);
            }
            try {
                if (decodeOrMalformed(decode, encode, input) != null) {
                    ok++;
                }
            } catch (AssertionError e) {
                fail("seed " + seed + ": " + e.getMessage(), e);
            }
        }
        return ok;
    }

    private static byte[] mutate(byte[] frame, Random rnd) {
        byte[] out = frame.clone();
        int edits = 1 + rnd.nextInt(3);
        for (int i = 0; i < edits; i++) {
            switch (rnd.nextInt(5)) {
                case 0 -> { // flip a bit
                    if (out.length > 0) {
                        out[rnd.nextInt(out.length)] ^= (byte) (1 << rnd.nextInt(8));
                    }
                }
                case 1 -> { // set a byte to an interesting value
                    if (out.length > 0) {
                        int[] values = {0x00, 0x01, 0x7F, 0x80, 0xFF, 0xC0, 0xED, 0xF4, 0x09, 0x0A, '"', '{'};
                        out[rnd.nextInt(out.length)] = (byte) values[rnd.nextInt(values.length)];
                    }
                }
                case 2 -> { // truncate
                    out = java.util.Arrays.copyOf(out, rnd.nextInt(out.length + 1));
                }
                case 3 -> { // append garbage
                    byte[] tail = new byte[1 + rnd.nextInt(4)];
                    rnd.nextBytes(tail);
                    byte[] longer = java.util.Arrays.copyOf(out, out.length + tail.length);
                    System.arraycopy(tail, 0, longer, out.length, tail.length);
                    out = longer;
                }
                default -> { // delete one byte
                    if (out.length > 0) {
                        int at = rnd.nextInt(out.length);
                        byte[] shorter = new byte[out.length - 1];
                        System.arraycopy(out, 0, shorter, 0, at);
                        System.arraycopy(out, at + 1, shorter, at, out.length - at - 1);
                        out = shorter;
                    }
                }
            }
        }
        return out;
    }

    public static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    public static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    /** Concatenates byte arrays and ints (each int one byte). */
    public static byte[] concat(Object... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof byte[] b) {
                out.writeBytes(b);
            } else if (p instanceof Integer i) {
                out.write(i);
            } else if (p instanceof String s) {
                out.writeBytes(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            } else {
                throw new IllegalArgumentException(String.valueOf(p));
            }
        }
        return out.toByteArray();
    }
}
