package dev.collab.architecture;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dependency rule of docs/architecture.md, checked on the sources: each top-level package of {@code dev.collab}
 * may import only the packages listed for it (its own subpackages always). {@code Main} and the other classes of
 * {@code dev.collab} itself wire everything and may import anything.
 */
class DependencyRuleTest {

    private static final Path SOURCES = Path.of("src/main/java/dev/collab");

    /** Who may import whom; a package missing here is a new package that must be added to the rule and the doc. */
    private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("yjs", Set.of()),
            Map.entry("store", Set.of()),
            Map.entry("auth", Set.of()),
            Map.entry("transport", Set.of()),
            Map.entry("config", Set.of("store", "transport", "room")),   // validates with their parsers, builds their settings
            Map.entry("room", Set.of("store", "yjs")),
            Map.entry("protocol", Set.of("room", "transport", "auth", "yjs")),
            Map.entry("http", Set.of("room", "store", "protocol", "transport", "auth", "yjs")),
            Map.entry("cluster", Set.of("room", "store")),
            Map.entry("webhook", Set.of("room")),
            Map.entry("ops", Set.of("config")));

    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?dev\\.collab\\.([a-z]+)\\.", Pattern.MULTILINE);

    @Test
    void everyPackageImportsOnlyWhatTheRuleAllows() throws IOException {
        List<String> violations = new ArrayList<>();
        Set<String> unknown = new TreeSet<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Path relative = SOURCES.relativize(file);
                if (relative.getNameCount() == 1) {
                    continue;                                // dev.collab.Main and friends: the wiring
                }
                String pkg = relative.getName(0).toString();
                Set<String> allowed = ALLOWED.get(pkg);
                if (allowed == null) {
                    unknown.add(pkg);
                    continue;
                }
                Matcher m = IMPORT.matcher(Files.readString(file));
                while (m.find()) {
                    String target = m.group(1);
                    if (!target.equals(pkg) && !allowed.contains(target)) {
                        violations.add(relative + " imports dev.collab." + target);
                    }
                }
            }
        }
        assertEquals(Set.of(), unknown, "packages missing from the dependency rule (add them here and to docs/architecture.md)");
        assertEquals(List.of(), violations, "imports the dependency rule does not allow");
    }

    /** The protocol adapters: each may use protocol/'s shared pieces (and protocol/yjs), never another adapter. */
    private static final Set<String> ADAPTERS = Set.of("json", "ywebsocket", "hocuspocus");
    private static final Pattern PROTOCOL_IMPORT =
            Pattern.compile("^import (?:static )?dev\\.collab\\.protocol\\.([a-z]+)\\.", Pattern.MULTILINE);

    @Test
    void noProtocolAdapterReachesIntoAnother() throws IOException {
        List<String> violations = new ArrayList<>();
        Path protocol = SOURCES.resolve("protocol");
        try (Stream<Path> files = Files.walk(protocol)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Path relative = protocol.relativize(file);
                String pkg = relative.getNameCount() == 1 ? "" : relative.getName(0).toString();
                Matcher m = PROTOCOL_IMPORT.matcher(Files.readString(file));
                while (m.find()) {
                    String target = m.group(1);
                    if (ADAPTERS.contains(target) && !target.equals(pkg)) {
                        violations.add("protocol/" + relative + " imports dev.collab.protocol." + target);
                    }
                }
            }
        }
        assertEquals(List.of(), violations, "adapters share code through protocol/ and protocol/yjs only");
    }

    @Test
    void theRuleHasNoCycles() {
        for (String start : ALLOWED.keySet()) {
            assertTrue(!reaches(start, start, new TreeSet<>()), "the rule lets " + start + " depend on itself");
        }
    }

    private static boolean reaches(String from, String target, Set<String> seen) {
        for (String next : ALLOWED.getOrDefault(from, Set.of())) {
            if (next.equals(target)) {
                return true;
            }
            if (seen.add(next) && reaches(next, target, seen)) {
                return true;
            }
        }
        return false;
    }
}
