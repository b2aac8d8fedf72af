package dev.collab.yjs;

import static dev.collab.yjs.CompactTest.C;
import static dev.collab.yjs.CompactTest.NO_DELETES;
import static dev.collab.yjs.CompactTest.after;
import static dev.collab.yjs.CompactTest.assertUnchanged;
import static dev.collab.yjs.CompactTest.section;
import static dev.collab.yjs.CompactTest.structCount;
import static dev.collab.yjs.CompactTest.update;
import static dev.collab.yjs.YjsFixtures.byteList;
import static dev.collab.yjs.YjsReferenceTest.cases;
import static dev.collab.yjs.YjsFixtures.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.collab.yjs.CompactTest.Struct;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Java engine against yjs itself, run in Node (e2e/yjs-fixtures: needs Node and {@code npm ci} in e2e/; without
 * them these tests fail, they do not skip): the committed fixtures are what the generator writes today, yjs applies
 * the Java merges, diffs and coalesced updates to the expected documents (verify.mjs), and yjs's view of
 * hand-built coalesced updates (describe.mjs).
 */
class YjsNodeIT {
    private static final Path JAVA_OUT = Path.of("target/yjs-fixtures-java");
    private static final Path FRESH = Path.of("target/yjs-fixtures-fresh");

    /** The committed fixtures are the generator's output today. */
    @Test
    void theCommittedFixturesAreWhatTheGeneratorWrites() throws IOException {
        Files.createDirectories(FRESH);
        try (Stream<Path> old = Files.list(FRESH)) {
            for (Path f : old.toList()) {
                Files.delete(f);   // a file an earlier generator wrote must not count as fresh
            }
        }
        YjsFixtures.NodeResult r = YjsFixtures.node("e2e/yjs-fixtures/generate.mjs", FRESH.toString());
        assertEquals(0, r.exitCode(), "generate.mjs failed:\n" + r.output());
        List<String> stale = new ArrayList<>();
        try (Stream<Path> files = Files.list(FRESH)) {
            for (Path fresh : files.sorted().toList()) {
                Path committed = YjsFixtures.DIR.resolve(fresh.getFileName());
                if (!Files.exists(committed)) {
                    stale.add(fresh.getFileName() + " (not committed)");
                } else if (Files.mismatch(fresh, committed) >= 0) {
                    stale.add(fresh.getFileName().toString());
                }
            }
        }
        assertEquals(List.of(), stale, "stale fixtures in e2e/yjs-fixtures: regenerate them with"
                + " node e2e/yjs-fixtures/generate.mjs e2e/yjs-fixtures");
    }

    /**
     * Java's merge and diff outputs, applied by yjs to fresh documents, give the expected content; coalesced merges
     * and diffs (and diffs of the coalesced full state against the fixture's base documents) give documents
     * identical to yjs's own merges and diffs, alone and combined with each base document (verify.mjs).
     */
    @Test
    void yjsAppliesJavaOutputsToTheExpectedContent() throws IOException {
        List<JsonObject> fixtures = YjsFixtures.load();
        Files.createDirectories(JAVA_OUT);
        Base64.Encoder b64 = Base64.getEncoder();
        for (JsonObject f : fixtures) {
            StringBuilder json = new StringBuilder("{\"merges\":[");
            String sep = "";
            for (JsonObject m : cases(f, "merges")) {
                json.append(sep).append('"').append(b64.encodeToString(YUpdates.merge(byteList(m, "inputs")))).append('"');
                sep = ",";
            }
            json.append("],\"diffs\":[");
            sep = "";
            for (JsonObject d : cases(f, "diffs")) {
                json.append(sep).append('"').append(b64.encodeToString(YUpdates.diff(bytes(d, "update"), bytes(d, "sv")))).append('"');
                sep = ",";
            }
            json.append("],\"coalesced\":{\"merges\":[");
            sep = "";
            for (JsonObject m : cases(f, "merges")) {
                json.append(sep).append('"').append(b64.encodeToString(YUpdates.merge(byteList(m, "inputs"), true))).append('"');
                sep = ",";
            }
            json.append("],\"diffs\":[");
            sep = "";
            for (JsonObject d : cases(f, "diffs")) {
                byte[] coalesced = YUpdates.compact(YUpdates.diff(bytes(d, "update"), bytes(d, "sv")));
                json.append(sep).append('"').append(b64.encodeToString(coalesced)).append('"');
                sep = ",";
            }
            json.append("],\"baseDiffs\":[");
            sep = "";
            byte[] full = YUpdates.merge(byteList(cases(f, "merges").get(0), "inputs"), true);
            for (JsonObject base : cases(f, "bases")) {
                json.append(sep).append('"').append(b64.encodeToString(YUpdates.diff(full, bytes(base, "sv")))).append('"');
                sep = ",";
            }
            json.append("]}}");
            Files.writeString(JAVA_OUT.resolve(f.getString("name") + ".json"), json, StandardCharsets.UTF_8);
        }
        YjsFixtures.NodeResult r = YjsFixtures.node("e2e/yjs-fixtures/verify.mjs", YjsFixtures.DIR.toString(), JAVA_OUT.toString());
        assertEquals(0, r.exitCode(), "verify.mjs reported failures:\n" + r.output());
    }

    /**
     * Why map entries stay apart: without the delete set entry yjs always sends along (the later value's
     * transaction deletes the earlier one), yjs deletes the earlier value when the later one is integrated, but a
     * joined item is one value and nothing is deleted. The documents read the same and encode differently.
     */
    @Test
    void joinedMapEntriesWouldGiveYjsADifferentDocument() throws IOException {
        Struct first = w -> w.writeByte(0x28).writeVarUint(1).writeVarString("map").writeVarString("k").writeVarUint(1).writeAny(1L);
        Struct second = w -> w.writeByte(0x88).writeVarUint(C).writeVarUint(0).writeVarUint(1).writeAny(2L);
        Struct joined = w -> w.writeByte(0x28).writeVarUint(1).writeVarString("map").writeVarString("k").writeVarUint(2).writeAny(1L).writeAny(2L);
        byte[] apart = update(NO_DELETES, section(C, 0, first, second));
        assertUnchanged(apart, "map entries");
        List<JsonObject> docs = describe("map", apart, update(NO_DELETES, section(C, 0, joined)));
        assertEquals(docs.get(0).getJsonObject("content").toString(), docs.get(1).getJsonObject("content").toString());
        assertTrue(!docs.get(0).getString("state").equals(docs.get(1).getString("state")), "the earlier value is deleted only when apart");
    }

    /** yjs's view of each update applied to a fresh document (e2e/yjs-fixtures/describe.mjs). */
    private static List<JsonObject> describe(String name, byte[]... updates) throws IOException {
        Path dir = Path.of("target/compact-test");
        Files.createDirectories(dir);
        List<String> args = new ArrayList<>(List.of("e2e/yjs-fixtures/describe.mjs"));
        for (int k = 0; k < updates.length; k++) {
            Path file = dir.resolve(name + "-" + k + ".bin");
            Files.write(file, updates[k]);
            args.add(file.toString());
        }
        YjsFixtures.NodeResult r = YjsFixtures.node(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.output());
        List<JsonObject> out = new ArrayList<>();
        for (String line : r.output().strip().split("\n")) {
            if (line.startsWith("{")) {
                out.add(parse(line));
            }
        }
        assertEquals(updates.length, out.size(), r.output());
        return out;
    }

    /**
     * 100,000 one-character updates typed by one client (as the "late join" benchmark stores them) coalesce into
     * a handful of structs, and yjs applies the result to the same document as yjs's own merge of the updates
     * (same text, state vector and encoded state). Sizes and timings are printed, not asserted.
     */
    @Test
    void oneHundredThousandTypedCharactersCoalesce() throws IOException {
        int n = 100_000;
        long client = 1_234_567_890L;
        List<byte[]> updates = new ArrayList<>(n);
        StringBuilder expected = new StringBuilder();
        long clock = 0;
        for (int i = 0; i < n; i++) {
            String ch = i % 97 == 0 ? "😀" : i % 61 == 0 ? "\n" : String.valueOf((char) ('a' + i % 26));
            // the root type is "text": describe.mjs prints getText('text')
            Struct first = w -> w.writeByte(0x04).writeVarUint(1).writeVarString("text").writeVarString(ch);
            updates.add(update(NO_DELETES, section(client, clock, clock == 0 ? first : after(client, clock - 1, ch))));
            expected.append(ch);
            clock += ch.length();
        }

        long t0 = System.nanoTime();
        byte[] merged = YUpdates.merge(updates);
        long t1 = System.nanoTime();
        byte[] coalesced = YUpdates.compact(merged);
        long t2 = System.nanoTime();
        assertTrue(coalesced.length < 200_000, "coalesced size " + coalesced.length);
        assertTrue(structCount(coalesced) <= 10, structCount(coalesced) + " structs");
        assertArrayEquals(YUpdates.stateVector(merged), YUpdates.stateVector(coalesced));

        List<JsonObject> docs = describe("typed-100k", merged, coalesced);
        JsonObject before = docs.get(0);
        JsonObject after = docs.get(1);
        assertEquals(expected.toString(), after.getString("text"));
        assertEquals(before.getString("text"), after.getString("text"));
        assertEquals(before.getString("sv"), after.getString("sv"));
        assertEquals(before.getString("state"), after.getString("state"), "yjs documents encode identically");
        System.out.printf("100k typed characters: merged %d bytes (yjs applies in %.1f ms), coalesced %d bytes, %d structs "
                        + "(yjs applies in %.1f ms); Java merge %.1f ms, compact %.1f ms%n",
                merged.length, before.getJsonNumber("applyMs").doubleValue(), coalesced.length, structCount(coalesced),
                after.getJsonNumber("applyMs").doubleValue(), (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    }

    private static JsonObject parse(String line) {
        try (JsonReader r = Json.createReader(new StringReader(line))) {
            return r.readObject();
        }
    }
}
