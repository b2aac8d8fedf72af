package dev.collab.yjs;

import static org.junit.jupiter.api.Assertions.fail;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Reference fixtures computed by the real yjs package, committed beside their generator in e2e/yjs-fixtures
 * (regenerate with {@code node e2e/yjs-fixtures/generate.mjs e2e/yjs-fixtures} after changing it or upgrading
 * yjs; {@link YjsNodeIT} fails while the committed files differ from a fresh run). Reading them needs no Node.
 */
final class YjsFixtures {
    static final Path DIR = Path.of("e2e/yjs-fixtures");

    private YjsFixtures() {
    }

    /** The fixtures listed in index.json, in its order. */
    static synchronized List<JsonObject> load() {
        try {
            List<JsonObject> out = new ArrayList<>();
            for (var name : read(DIR.resolve("index.json")).getJsonArray("fixtures").getValuesAs(JsonString.class)) {
                out.add(read(DIR.resolve(name.getString() + ".json")));
            }
            return out;
        } catch (IOException e) {
            throw new AssertionError("cannot read Yjs fixtures in " + DIR.toAbsolutePath(), e);
        }
    }

    static JsonObject read(Path file) throws IOException {
        try (JsonReader r = Json.createReader(Files.newBufferedReader(file, StandardCharsets.UTF_8))) {
            return r.readObject();
        }
    }

    record NodeResult(int exitCode, String output) {
    }

    /** Runs node (from PATH) in the repository root (for {@link YjsNodeIT}); a missing node fails, never skips. */
    static NodeResult node(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("node");
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("the Yjs reference tests need Node.js: could not run 'node' from PATH ("
                    + e.getMessage() + "); install Node 20 and run 'npm ci' in e2e/", e);
        }
        try {
            byte[] output = p.getInputStream().readAllBytes();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                fail("node " + String.join(" ", args) + " timed out");
            }
            return new NodeResult(p.exitValue(), new String(output, StandardCharsets.UTF_8));
        } catch (IOException | InterruptedException e) {
            p.destroyForcibly();
            throw new AssertionError("running node failed", e);
        }
    }

    static byte[] bytes(JsonObject o, String key) {
        return Base64.getDecoder().decode(o.getString(key));
    }

    static List<byte[]> byteList(JsonObject o, String key) {
        List<byte[]> out = new ArrayList<>();
        for (JsonString s : o.getJsonArray(key).getValuesAs(JsonString.class)) {
            out.add(Base64.getDecoder().decode(s.getString()));
        }
        return out;
    }

    /** Byte equality with a readable report of where the arrays part ways. */
    static void assertSameBytes(byte[] expected, byte[] actual, String label) {
        int mismatch = java.util.Arrays.mismatch(expected, actual);
        if (mismatch < 0) {
            return;
        }
        int from = Math.max(0, mismatch - 16);
        HexFormat hex = HexFormat.of();
        fail(label + ": differs from yjs at byte " + mismatch + " (lengths " + expected.length + " vs " + actual.length + ")\n"
                + "  yjs  ..." + hex.formatHex(expected, from, Math.min(expected.length, mismatch + 24)) + "\n"
                + "  java ..." + hex.formatHex(actual, from, Math.min(actual.length, mismatch + 24)));
    }
}
