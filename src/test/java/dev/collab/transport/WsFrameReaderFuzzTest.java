package dev.collab.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Seeded fuzzing of {@link WsFrameReader}, the first code that sees a client's bytes. Inputs are streams of valid
 * frames (random opcodes, lengths at the encoding edges, fragmentation with control frames between fragments,
 * masks) that are then mutated (bit flips, byte changes, cuts, insertions, duplicated ranges). The rules: the
 * reader either delivers messages, refuses with {@link WsFrameReader.WsProtocolException} carrying a valid close
 * code, or runs out of input — nothing else escapes, and nothing over the size limit is delivered. Unmutated
 * streams decode to exactly the messages they were built from. {@code -Dfuzz.scale=0.1} runs a tenth.
 */
@Tag("fuzz")
class WsFrameReaderFuzzTest {
    private static final double SCALE = Double.parseDouble(System.getProperty("fuzz.scale", "1"));
    private static final long SEED = Long.getLong("fuzz.seed", 6455L);
    private static final int MAX = 70_000;

    /** A source over a byte array; the end of input is its own exception, as a closed socket would be. */
    private static final class ArraySource implements WsFrameReader.Source {
        static final class End extends RuntimeException {
            End() {
                super(null, null, false, false);
            }
        }

        private final byte[] data;
        private int at;

        ArraySource(byte[] data) {
            this.data = data;
        }

        @Override
        public int readByte() {
            if (at >= data.length) {
                throw new End();
            }
            return data[at++] & 0xff;
        }

        @Override
        public byte[] readBytes(int length) {
            if (length < 0 || at + length > data.length) {
                throw new End();
            }
            byte[] out = java.util.Arrays.copyOfRange(data, at, at + length);
            at += length;
            return out;
        }
    }

    /** Records what the reader delivers. */
    private static final class Recorder implements WsFrameReader.Sink {
        final List<Object> messages = new ArrayList<>();

        public void onText(String text) {
            assertTrue(text.getBytes(StandardCharsets.UTF_8).length <= MAX, "over the limit delivered");
            messages.add("T" + text);
        }

        public void onBinary(byte[] data) {
            assertTrue(data.length <= MAX, "over the limit delivered");
            messages.add(data);
        }

        public void onPing(byte[] payload) {
            assertTrue(payload.length <= 125);
            messages.add("ping" + payload.length);
        }

        public void onPong(byte[] payload) {
            assertTrue(payload.length <= 125);
            messages.add("pong" + payload.length);
        }

        public void onClose(int code, String reason) {
            assertTrue(code == 1005 || WsFrameReader.validCloseCode(code), "close code " + code);
            messages.add("close" + code + reason);
        }
    }

    private static final int[] LENGTHS = {0, 1, 2, 7, 8, 9, 125, 126, 127, 200, 65535, 65536, 66000};

    /** A stream of frames and the messages it should decode to. */
    private record Stream(byte[] bytes, List<Object> expected) {
    }

    private static Stream validStream(Random r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Object> expected = new ArrayList<>();
        int messages = 1 + r.nextInt(4);
        for (int m = 0; m < messages; m++) {
            int kind = r.nextInt(5);
            if (kind == 0) {
                byte[] p = bytes(r, r.nextInt(126));
                out.writeBytes(FrameClient.frame(true, 0, 9, p));
                expected.add("ping" + p.length);
            } else if (kind == 1) {
                byte[] p = bytes(r, r.nextInt(126));
                out.writeBytes(FrameClient.frame(true, 0, 10, p));
                expected.add("pong" + p.length);
            } else {
                boolean text = kind == 2;
                int length = r.nextBoolean() ? LENGTHS[r.nextInt(LENGTHS.length)] : r.nextInt(3000);
                byte[] payload = text ? utf8(r, length) : bytes(r, length);
                int fragments = r.nextInt(3) == 0 ? 1 + r.nextInt(4) : 1;
                int at = 0;
                for (int f = 0; f < fragments; f++) {
                    int end = f == fragments - 1 ? payload.length : at + r.nextInt(payload.length - at + 1);
                    out.writeBytes(FrameClient.frame(f == fragments - 1, 0, f == 0 ? (text ? 1 : 2) : 0,
                            java.util.Arrays.copyOfRange(payload, at, end)));
                    at = end;
                    if (r.nextInt(4) == 0 && f < fragments - 1) {
                        out.writeBytes(FrameClient.frame(true, 0, 9, new byte[3]));
                        expected.add("ping3");
                    }
                }
                expected.add(text ? "T" + new String(payload, StandardCharsets.UTF_8) : payload);
            }
        }
        if (r.nextBoolean()) {
            out.writeBytes(FrameClient.frame(true, 0, 8, FrameClient.closePayload(1000 + r.nextInt(4), "ok")));
        }
        return new Stream(out.toByteArray(), expected);
    }

    private static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    /** Valid UTF-8 of about {@code n} bytes with 1- to 4-byte characters. */
    private static byte[] utf8(Random r, int n) {
        StringBuilder sb = new StringBuilder();
        int bytes = 0;
        while (bytes < n) {
            int pick = r.nextInt(10);
            int cp = pick < 6 ? 0x20 + r.nextInt(0x5f) : pick < 8 ? 0x80 + r.nextInt(0x780)
                    : pick < 9 ? 0x800 + r.nextInt(0xd000 - 0x800) : 0x10000 + r.nextInt(0x10000);
            sb.appendCodePoint(cp);
            bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static List<Object> decode(byte[] input) {
        Recorder sink = new Recorder();
        WsFrameReader reader = new WsFrameReader(new ArraySource(input), sink, MAX);
        try {
            while (reader.readFrame()) {
                // until the close frame
            }
        } catch (WsFrameReader.WsProtocolException e) {
            assertTrue(e.code == 1002 || e.code == 1007 || e.code == 1009, "refusal code " + e.code);
        } catch (ArraySource.End e) {
            // ran out of input: a socket would wait for more
        }
        return sink.messages;
    }

    @Test
    void validStreamsDecodeToTheirMessages() {
        Random r = new Random(SEED);
        for (int i = 0, n = (int) Math.max(200, 800 * SCALE); i < n; i++) {
            Stream s = validStream(r);
            List<Object> got = decode(s.bytes());
            List<Object> want = new ArrayList<>(s.expected());
            if (got.size() == want.size() + 1) {
                want.add(got.getLast());        // the closing frame, when the stream had one
            }
            assertEquals(want.size(), got.size(), "stream " + i);
            for (int k = 0; k < want.size(); k++) {
                if (want.get(k) instanceof byte[] b) {
                    assertArrayEquals(b, (byte[]) got.get(k), "stream " + i + " message " + k);
                } else {
                    assertEquals(want.get(k), got.get(k), "stream " + i + " message " + k);
                }
            }
        }
    }

    @Test
    void mutatedStreamsAreDecodedOrRefusedNeverAnythingElse() {
        Random r = new Random(SEED + 1);
        long inputs = 0;
        for (int i = 0, n = (int) Math.max(2000, 12_000 * SCALE); i < n; i++) {
            byte[] input = mutate(r, validStream(r).bytes());
            inputs++;
            try {
                decode(input);
            } catch (RuntimeException | AssertionError e) {
                throw new AssertionError("input " + i + " (seed " + SEED + ", " + input.length + " bytes) escaped: " + e, e);
            }
        }
        assertTrue(inputs > 0);
    }

    @Test
    void randomBytesAreDecodedOrRefused() {
        Random r = new Random(SEED + 2);
        for (int i = 0, n = (int) Math.max(2000, 30_000 * SCALE); i < n; i++) {
            byte[] input = bytes(r, r.nextInt(64));
            if (r.nextBoolean() && input.length > 1) {
                input[1] |= (byte) 0x80;      // masked, so the header checks behind it are reached too
            }
            decode(input);
        }
    }

    private static byte[] mutate(Random r, byte[] in) {
        byte[] b = in.clone();
        int edits = 1 + r.nextInt(4);
        for (int e = 0; e < edits && b.length > 0; e++) {
            int at = r.nextInt(b.length);
            switch (r.nextInt(6)) {
                case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b[at] = (byte) r.nextInt(256);
                case 2 -> b = java.util.Arrays.copyOf(b, at);
                case 3 -> {
                    byte[] ins = bytes(r, 1 + r.nextInt(8));
                    byte[] out = new byte[b.length + ins.length];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(ins, 0, out, at, ins.length);
                    System.arraycopy(b, at, out, at + ins.length, b.length - at);
                    b = out;
                }
                case 4 -> {
                    int len = Math.min(b.length - at, 1 + r.nextInt(16));
                    byte[] out = new byte[b.length + len];
                    System.arraycopy(b, 0, out, 0, at + len);
                    System.arraycopy(b, at, out, at + len, b.length - at);
                    b = out;
                }
                default -> b[Math.min(at, 1)] = (byte) (0x80 | r.nextInt(128));  // lengths and flags
            }
        }
        return b;
    }
}
