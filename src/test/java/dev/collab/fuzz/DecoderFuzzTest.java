package dev.collab.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.collab.protocol.yjs.AwarenessCodec;
import dev.collab.protocol.yjs.AwarenessEntry;
import dev.collab.protocol.hocuspocus.HocuspocusClientCodec;
import dev.collab.protocol.hocuspocus.HocuspocusCodec;
import dev.collab.protocol.ywebsocket.YWebsocketCodec;
import dev.collab.yjs.Lib0Reader;
import dev.collab.yjs.Lib0Reader.MalformedException;
import dev.collab.yjs.YContent;
import dev.collab.yjs.YDocument;
import dev.collab.yjs.YUpdates;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutation fuzzing of every decoder the server runs on client bytes: over a million inputs built from valid
 * messages ({@link Seeds}, mutated by {@link Mutator}). The rule: a decoder either succeeds or throws its one
 * refusal exception ({@link MalformedException}; {@code JsonProtocolException} for JSON) — nothing else escapes.
 * Beyond that, what a decoder accepts must be usable: a Yjs update that validates can be merged, diffed and
 * summarised without error (the room merges every stored update), and accepted frames re-encode to frames that
 * decode again. Counts are printed per target; {@code -Dfuzz.scale=0.1} runs a tenth for quick checks.
 */
@Tag("fuzz")
class DecoderFuzzTest {
    private static final double SCALE = Double.parseDouble(System.getProperty("fuzz.scale", "1"));
    private static final long RUN_SEED = Long.getLong("fuzz.seed", 20_240_601L);
    private static final Map<String, long[]> COUNTS = new ConcurrentHashMap<>();

    private static int n(int full) {
        return Math.max(1000, (int) (full * SCALE));
    }

    /** Tallies one target's inputs and collects the first few escapes with their input, then fails. */
    private static final class Run {
        final String target;
        long inputs;
        long accepted;
        long rejected;
        /** Escapes grouped by exception type and the frame that threw: count and the first input. */
        final Map<String, String> escapes = new java.util.LinkedHashMap<>();
        final Map<String, Long> escapeCounts = new java.util.LinkedHashMap<>();
        long escapeCount;

        Run(String target) {
            this.target = target;
        }

        void escape(long index, byte[] input, String step, Throwable t) {
            escapeCount++;
            StackTraceElement[] st = t.getStackTrace();
            String key = t.getClass().getName() + " at " + (st.length > 0 ? st[0] : "?");
            escapeCounts.merge(key, 1L, Long::sum);
            if (!escapes.containsKey(key)) {
                String hex = HexFormat.of().formatHex(input);
                StringBuilder sb = new StringBuilder().append(target).append(" input #").append(index).append(' ')
                        .append(step).append(": ").append(t).append("\n  input (").append(input.length)
                        .append(" bytes) ").append(hex.length() > 400 ? hex.substring(0, 400) + "..." : hex);
                for (int i = 0; i < Math.min(8, st.length); i++) {
                    sb.append("\n    at ").append(st[i]);
                }
                escapes.put(key, sb.toString());
            }
        }

        void finish() {
            COUNTS.put(target, new long[] {inputs, accepted, rejected});
            System.out.printf("fuzz %-28s inputs=%,d accepted=%,d rejected=%,d%n", target, inputs, accepted, rejected);
            assertEquals(inputs, accepted + rejected + escapeCount);
            assertTrue(escapes.isEmpty(), () -> {
                StringBuilder sb = new StringBuilder().append(escapeCount).append(" input(s) made ").append(target)
                        .append(" throw something other than its refusal:");
                escapes.forEach((k, v) -> sb.append("\n[").append(escapeCounts.get(k)).append("x] ").append(v));
                return sb.toString();
            });
            assertTrue(accepted > 0 && rejected > 0, () -> target + ": the mutations should produce both accepted"
                    + " and refused inputs (accepted " + accepted + ", rejected " + rejected + ")");
        }
    }

    @FunctionalInterface
    private interface Check {
        /** Returns normally when the input was accepted; throws MalformedException when it was refused. */
        void run(byte[] input) throws Throwable;
    }

    /** Runs {@code check} over {@code count} mutated inputs. */
    private static void fuzz(String target, List<byte[]> seeds, int count, Check check) {
        Mutator mutator = new Mutator(seeds);
        Run run = new Run(target);
        long seed = RUN_SEED ^ target.hashCode();
        for (long i = 0; i < count; i++) {
            byte[] input = mutator.input(seed, i);
            run.inputs++;
            try {
                check.run(input);
                run.accepted++;
            } catch (MalformedException e) {
                run.rejected++;
            } catch (Throwable t) {
                run.escape(i, input, "decode", t);
            }
        }
        run.finish();
    }

    @AfterAll
    static void summary() {
        long inputs = 0;
        long accepted = 0;
        long rejected = 0;
        for (long[] c : COUNTS.values()) {
            inputs += c[0];
            accepted += c[1];
            rejected += c[2];
        }
        System.out.printf("fuzz TOTAL %d targets inputs=%,d accepted=%,d rejected=%,d%n", COUNTS.size(), inputs,
                accepted, rejected);
    }

    // ---------------------------------------------------------------------------------------------------- lib0

    @Test
    void lib0Reader() {
        // five read programs per input; accepted when at least one consumes the whole input
        fuzz("Lib0Reader", Seeds.lib0(), n(150_000), input -> {
            int completed = 0;
            MalformedException last = null;
            for (int program = 0; program < 5; program++) {
                try {
                    readAll(new Lib0Reader(input), program);
                    completed++;
                } catch (MalformedException e) {
                    last = e;
                }
            }
            if (completed == 0) {
                throw last;
            }
        });
    }

    private static void readAll(Lib0Reader r, int program) {
        int step = 0;
        while (r.hasContent()) {
            switch (program) {
                case 0 -> r.readAny();
                case 1 -> r.readVarUint();
                case 2 -> r.readVarInt();
                case 3 -> {
                    if (step % 2 == 0) {
                        r.readVarString();
                    } else {
                        r.readVarUint8Array();
                    }
                }
                default -> {
                    switch (step % 5) {
                        case 0 -> r.readFloat32();
                        case 1 -> r.readFloat64();
                        case 2 -> r.readInt64();
                        case 3 -> r.skip(r.readLength());
                        default -> r.readByte();
                    }
                }
            }
            step++;
        }
    }

    // ---------------------------------------------------------------------------------------------------- Yjs

    @Test
    void yjsUpdates() {
        List<byte[]> seeds = Seeds.updates();
        byte[] base = YUpdates.merge(List.of(seeds.get(0), seeds.get(2), seeds.get(4)));
        byte[] baseSv = YUpdates.stateVector(base);
        fuzz("YUpdates", seeds, n(175_000), input -> {
            boolean valid;
            try {
                YUpdates.validate(input);
                valid = true;
            } catch (MalformedException e) {
                valid = false;
            }
            if (valid) {
                // whatever validates is stored and later merged into the document: every operation must work
                YUpdates.isEmpty(input);
                byte[] sv = YUpdates.stateVector(input);
                YUpdates.decodeStateVector(sv);
                YUpdates.validate(YUpdates.diff(input, baseSv));
                YUpdates.validate(YUpdates.diff(input, sv));
                byte[] alone = YUpdates.merge(List.of(input));
                YUpdates.validate(alone);
                byte[] merged = YUpdates.merge(List.of(base, input));
                YUpdates.validate(merged);
                YUpdates.validate(YUpdates.diff(merged, baseSv));
                return;
            }
            // refused by validate: the other entry points may still refuse it, but only with MalformedException
            probe(() -> YUpdates.stateVector(input));
            probe(() -> YUpdates.diff(input, baseSv));
            probe(() -> YUpdates.isEmpty(input));
            probe(() -> YUpdates.merge(List.of(input)));
            probe(() -> YUpdates.merge(List.of(base, input)));
            throw new MalformedException("refused by validate");
        });
    }

    /**
     * The content API decodes whatever the store holds: a valid update either decodes into a document or is
     * refused with MalformedException (yjs itself would fail on it), and a decoded document always renders as
     * JSON, and as ProseMirror JSON and text of each root unless that root is not a fragment (NotConvertible).
     */
    @Test
    void yjsContent() throws Exception {
        List<byte[]> seeds = new ArrayList<>(Seeds.updates());
        for (String name : List.of("rich", "concurrent-1", "shared-types")) {
            String json = java.nio.file.Files.readString(java.nio.file.Path.of("e2e/content-fixtures", name + ".json"));
            try (var reader = jakarta.json.Json.createReader(new java.io.StringReader(json))) {
                seeds.add(java.util.Base64.getDecoder().decode(reader.readObject().getString("merged")));
            }
        }
        fuzz("YDocument content", seeds, n(5_000), input -> {
            YUpdates.validate(input);
            YDocument doc = YDocument.decode(input);
            YContent.toJson(doc);
            for (String root : doc.rootNames()) {
                try {
                    YContent.prosemirrorJson(doc, root);
                    YContent.plainText(doc, root);
                } catch (YContent.NotConvertible e) {
                    // a root used as another kind, or holding what ProseMirror cannot express
                }
            }
        });
    }

    /** Runs a decoder on input that is already known to be refused: MalformedException is fine, the rest escapes. */
    private static void probe(Runnable decoder) {
        try {
            decoder.run();
        } catch (MalformedException e) {
            // refused, as expected
        }
    }

    @Test
    void stateVectors() {
        List<byte[]> updates = Seeds.updates();
        fuzz("YUpdates state vectors", Seeds.stateVectors(), n(100_000), input -> {
            Map<Long, Long> decoded = YUpdates.decodeStateVector(input);
            // a state vector that decodes can be used against any stored update
            for (byte[] u : updates.subList(0, 6)) {
                YUpdates.validate(YUpdates.diff(u, input));
            }
            dev.collab.protocol.yjs.SyncProtocol.requireStateVector(input);
            YUpdates.decodeStateVector(YUpdates.encodeStateVector(decoded));
        });
    }

    // ---------------------------------------------------------------------------------------------------- wire

    @Test
    void awareness() {
        fuzz("AwarenessCodec", Seeds.awareness(), n(150_000), input -> {
            List<AwarenessEntry> entries = AwarenessCodec.decode(input);
            for (AwarenessEntry e : entries) {
                assertTrue(AwarenessCodec.isJson(e.state()), "accepted state is JSON");
            }
            byte[] again = AwarenessCodec.encode(entries);
            assertEquals(entries, AwarenessCodec.decode(again));
        });
    }

    @Test
    void yWebsocketFrames() {
        fuzz("YWebsocketCodec", Seeds.yWebsocketFrames(), n(150_000), input -> {
            YWebsocketCodec.Message m = YWebsocketCodec.decode(input);
            byte[] again = YWebsocketCodec.encode(m);
            assertArrayEquals(again, YWebsocketCodec.encode(YWebsocketCodec.decode(again)));
        });
    }

    @Test
    void hocuspocusClientFrames() {
        fuzz("HocuspocusCodec.decode", Seeds.hocuspocusClientFrames(), n(150_000), input -> {
            HocuspocusCodec.Inbound m = HocuspocusCodec.decode(input);
            if (m instanceof HocuspocusCodec.DocumentMessage d) {
                HocuspocusCodec.documentNameOf(d.documentName());
            }
        });
    }

    @Test
    void hocuspocusServerFrames() {
        fuzz("HocuspocusCodec.decodeServer", Seeds.hocuspocusServerFrames(), n(50_000),
                HocuspocusClientCodec::decodeServerFrame);
    }

    // ---------------------------------------------------------------------------------------------------- JSON

    private static final String[] JSON_TOKENS = {"{", "}", "[", "]", "\"", ":", ",", "null", "true", "-", "0",
            "1e999999999", "-1", "2147483648", "9223372036854775808", "1.5", "\\", "\\u", "\\ud800", "\"\\u0000\"",
            "\"stepType\"", "\"type\"", "\"version\"", "\"steps\"",
            "\"update\"", "\"documentId\"", "\"to\"", "\"state\"", "\"payload\"", "\"==\"", "\"AAA\"", "𝄞", "\uFFFF",
            "\u0000", " ", "\n"};
    /** Nesting past Parsson's depth limit of 1000: slow to parse, so only one insertion in 200. */
    private static final String[] DEEP_TOKENS = {"[".repeat(1200), "{\"a\":".repeat(1100)};

    @Test
    void jsonMessages() throws Exception {
        Class<?> messages = Class.forName("dev.collab.protocol.json.JsonMessages");
        Method parse = messages.getDeclaredMethod("parse", String.class, String.class);
        parse.setAccessible(true);
        MethodHandle handle = MethodHandles.lookup().unreflect(parse);
        List<byte[]> seeds = Seeds.jsonMessages().stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
        Mutator bytes = new Mutator(seeds);
        Run run = new Run("JsonMessages.parse");
        long seed = RUN_SEED ^ run.target.hashCode();
        for (long i = 0; i < n(75_000); i++) {
            String text;
            Random rnd = new Random(seed + i);
            if (rnd.nextBoolean()) {
                // byte-level mutation; Helidon hands the handler text decoded from UTF-8
                text = new String(bytes.input(seed, i), StandardCharsets.UTF_8);
            } else {
                text = Seeds.jsonMessages().get(rnd.nextInt(seeds.size()));
                for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
                    int at = rnd.nextInt(text.length() + 1);
                    int cut = rnd.nextInt(4) == 0 ? Math.min(text.length() - at, rnd.nextInt(12)) : 0;
                    String token = rnd.nextInt(200) == 0 ? DEEP_TOKENS[rnd.nextInt(DEEP_TOKENS.length)]
                            : JSON_TOKENS[rnd.nextInt(JSON_TOKENS.length)];
                    text = text.substring(0, at) + token + text.substring(at + cut);
                }
            }
            run.inputs++;
            try {
                Object command = handle.invoke(text, "doc-1");
                if (command == null) {
                    throw new AssertionError("parse returned null");
                }
                run.accepted++;
            } catch (Throwable t) {
                if (t.getClass().getName().equals("dev.collab.protocol.json.JsonProtocolException")) {
                    run.rejected++;
                } else {
                    run.escape(i, text.getBytes(StandardCharsets.UTF_8), "parse", t);
                }
            }
        }
        run.finish();
    }
}
