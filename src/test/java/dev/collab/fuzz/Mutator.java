package dev.collab.fuzz;

import dev.collab.yjs.Lib0Writer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Seeded structure-unaware mutations of valid messages: bit flips, byte overwrites with boundary values, byte
 * insertion and deletion, truncation, chunk duplication, splicing two seeds, and varints with boundary values
 * (0, 127/128, 2^31, 2^53-1, 2^53, 2^63, overlong and unterminated encodings) written over or into the input.
 * One to four mutations are stacked per input. The same seed always gives the same input.
 */
final class Mutator {
    /** varUint values at the edges decoders care about. */
    static final long[] BOUNDARY_VALUES = {0, 1, 2, 63, 64, 127, 128, 255, 256, 16_383, 16_384, 65_535, 65_536,
            (1L << 21) - 1, 1L << 21, Integer.MAX_VALUE, 1L << 31, (1L << 32) - 1, 1L << 32, (1L << 53) - 1, 1L << 53,
            (1L << 53) + 1, Long.MAX_VALUE};
    private static final int[] BOUNDARY_BYTES = {0x00, 0x01, 0x7f, 0x80, 0x81, 0xbf, 0xc0, 0xef, 0xf0, 0xff, 0x74,
            0x75, 0x76, 0x77, 0x7d, 0x7e};

    private final List<byte[]> seeds;

    Mutator(List<byte[]> seeds) {
        this.seeds = List.copyOf(seeds);
    }

    /** Input number {@code index} of a run seeded with {@code runSeed}: a mutated seed (or, rarely, a seed as is). */
    byte[] input(long runSeed, long index) {
        Random rnd = new Random(runSeed * 0x9E3779B97F4A7C15L + index);
        byte[] out = seeds.get(rnd.nextInt(seeds.size()));
        if (rnd.nextInt(64) == 0) {
            return out.clone();
        }
        int n = 1 + (rnd.nextInt(8) == 0 ? rnd.nextInt(4) : 0);
        for (int i = 0; i < n; i++) {
            out = mutate(out, rnd);
        }
        return out;
    }

    byte[] mutate(byte[] in, Random rnd) {
        int len = in.length;
        switch (rnd.nextInt(10)) {
            case 0: { // bit flip(s)
                if (len == 0) {
                    return new byte[] {(byte) rnd.nextInt(256)};
                }
                byte[] out = in.clone();
                int flips = 1 + rnd.nextInt(3);
                for (int i = 0; i < flips; i++) {
                    out[rnd.nextInt(len)] ^= (byte) (1 << rnd.nextInt(8));
                }
                return out;
            }
            case 1: { // overwrite a byte with a boundary or random value
                if (len == 0) {
                    return new byte[] {(byte) BOUNDARY_BYTES[rnd.nextInt(BOUNDARY_BYTES.length)]};
                }
                byte[] out = in.clone();
                out[rnd.nextInt(len)] = (byte) (rnd.nextBoolean()
                        ? BOUNDARY_BYTES[rnd.nextInt(BOUNDARY_BYTES.length)] : rnd.nextInt(256));
                return out;
            }
            case 2: { // insert 1-4 bytes
                int at = rnd.nextInt(len + 1);
                byte[] extra = new byte[1 + rnd.nextInt(4)];
                for (int i = 0; i < extra.length; i++) {
                    extra[i] = (byte) (rnd.nextBoolean() ? BOUNDARY_BYTES[rnd.nextInt(BOUNDARY_BYTES.length)]
                            : rnd.nextInt(256));
                }
                return insert(in, at, extra);
            }
            case 3: { // delete 1-4 bytes
                if (len == 0) {
                    return in;
                }
                int at = rnd.nextInt(len);
                int n = Math.min(len - at, 1 + rnd.nextInt(4));
                byte[] out = new byte[len - n];
                System.arraycopy(in, 0, out, 0, at);
                System.arraycopy(in, at + n, out, at, len - at - n);
                return out;
            }
            case 4: // truncate
                return Arrays.copyOf(in, len == 0 ? 0 : rnd.nextInt(len));
            case 5: { // splice: a prefix of this input and a suffix of another seed
                byte[] other = seeds.get(rnd.nextInt(seeds.size()));
                int a = rnd.nextInt(len + 1);
                int b = rnd.nextInt(other.length + 1);
                byte[] out = Arrays.copyOf(in, a + other.length - b);
                System.arraycopy(other, b, out, a, other.length - b);
                return out;
            }
            case 6: // varint with a boundary value over the input
            case 7: { // ... or into it
                byte[] v = boundaryVarint(rnd);
                int at = rnd.nextInt(len + 1);
                if (rnd.nextBoolean()) {
                    return insert(in, at, v);
                }
                byte[] out = Arrays.copyOf(in, Math.max(len, at + v.length));
                System.arraycopy(v, 0, out, at, v.length);
                return out;
            }
            case 8: { // duplicate a chunk in place
                if (len == 0) {
                    return in;
                }
                int from = rnd.nextInt(len);
                int n = 1 + rnd.nextInt(Math.min(16, len - from));
                return insert(in, from, Arrays.copyOfRange(in, from, from + n));
            }
            default: { // swap two bytes, or append random bytes
                if (len >= 2 && rnd.nextBoolean()) {
                    byte[] out = in.clone();
                    int i = rnd.nextInt(len);
                    int j = rnd.nextInt(len);
                    byte t = out[i];
                    out[i] = out[j];
                    out[j] = t;
                    return out;
                }
                byte[] extra = new byte[1 + rnd.nextInt(8)];
                rnd.nextBytes(extra);
                return insert(in, len, extra);
            }
        }
    }

    private static byte[] boundaryVarint(Random rnd) {
        switch (rnd.nextInt(6)) {
            case 0: // overlong zero: 0x80 ... 0x00
                byte[] overlong = new byte[2 + rnd.nextInt(8)];
                Arrays.fill(overlong, (byte) 0x80);
                overlong[overlong.length - 1] = 0;
                return overlong;
            case 1: // unterminated: every byte has the continuation bit
                byte[] open = new byte[1 + rnd.nextInt(11)];
                Arrays.fill(open, (byte) 0xff);
                return open;
            case 2: // signed varInt boundary
                long s = BOUNDARY_VALUES[rnd.nextInt(BOUNDARY_VALUES.length)];
                return new Lib0Writer().writeVarInt(rnd.nextBoolean() ? s : -s).toByteArray();
            default:
                return rawVarUint(BOUNDARY_VALUES[rnd.nextInt(BOUNDARY_VALUES.length)]);
        }
    }

    /** varUint encoding of any non-negative long, beyond what lib0 readers accept (2^53-1). */
    static byte[] rawVarUint(long v) {
        byte[] buf = new byte[10];
        int n = 0;
        while (v > 0x7f) {
            buf[n++] = (byte) (0x80 | (v & 0x7f));
            v >>>= 7;
        }
        buf[n++] = (byte) v;
        return Arrays.copyOf(buf, n);
    }

    private static byte[] insert(byte[] in, int at, byte[] extra) {
        byte[] out = new byte[in.length + extra.length];
        System.arraycopy(in, 0, out, 0, at);
        System.arraycopy(extra, 0, out, at, extra.length);
        System.arraycopy(in, at, out, at + extra.length, in.length - at);
        return out;
    }
}
