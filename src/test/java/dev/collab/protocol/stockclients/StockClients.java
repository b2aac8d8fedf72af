package dev.collab.protocol.stockclients;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The stock clients' frames: the committed capture ({@code e2e/wire-fixtures/captured.json}, for the unit tests)
 * and {@code e2e/wire-fixtures/capture.mjs} run live in Node (for {@link StockClientDriveIT}, which fails, never
 * skips, when Node or {@code e2e/node_modules} is missing).
 */
final class StockClients {
    static final String SCRIPT = "e2e/wire-fixtures/capture.mjs";
    static final String CAPTURED = "e2e/wire-fixtures/captured.json";

    private StockClients() {
    }

    /** The repository root: the working directory (Maven's basedir) or the nearest parent holding the script. */
    static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.exists(p.resolve(SCRIPT))) {
                return p;
            }
        }
        return dir;
    }

    /** The committed capture (captured.json beside the script): what the unit tests read, no Node needed. */
    static JsonObject captured() throws IOException {
        try (JsonReader reader = Json.createReader(Files.newBufferedReader(repoRoot().resolve(CAPTURED),
                StandardCharsets.UTF_8))) {
            return reader.readObject();
        }
    }

    /** Runs the script with the given arguments, feeding stdin (may be null), and returns its JSON output. */
    static JsonObject run(String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("node");
        command.add(SCRIPT);
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).directory(repoRoot().toFile()).start();
        } catch (IOException e) {
            throw new AssertionError("the stock-client tests need Node.js on the PATH and 'npm ci' in e2e/ ("
                    + e.getMessage() + ")", e);
        }
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(SCRIPT + " did not finish within 60 s");
        }
        String stdout = new String(out.join(), StandardCharsets.UTF_8);
        String stderr = new String(err.join(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new AssertionError(SCRIPT + " exited with " + p.exitValue() + ":\n" + stderr + stdout);
        }
        try (JsonReader reader = Json.createReader(new StringReader(stdout))) {
            return reader.readObject();
        }
    }

    private static byte[] readAll(InputStream in) {
        try (in) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            in.transferTo(buf);
            return buf.toByteArray();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    static byte[] b64(JsonObject o, String key) {
        return Base64.getDecoder().decode(o.getString(key));
    }

    static List<byte[]> frames(JsonArray array) {
        List<byte[]> out = new ArrayList<>();
        for (JsonString s : array.getValuesAs(JsonString.class)) {
            out.add(Base64.getDecoder().decode(s.getString()));
        }
        return out;
    }

    static String b64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    static byte[] only(List<byte[]> frames) {
        org.junit.jupiter.api.Assertions.assertEquals(1, frames.size(), "expected exactly one frame");
        return frames.get(0);
    }
}
