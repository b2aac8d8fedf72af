package dev.collab.config;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UnknownVariablesTest {
    private static final Pattern NAME = Pattern.compile("\\bCOLLAB_[A-Z0-9_]*[A-Z0-9]");

    @Test
    void a_typo_names_the_closest_known_variable() {
        List<String> warnings = UnknownVariables.warnings(
                Map.of("COLLAB_ADMIN_TOKN", "x", "COLLAB_DB_PATH", "d", "COLLAB_JAVA", "/j", "HOME", "/root"),
                Settings.variables());
        assertEquals(List.of("unknown environment variable COLLAB_ADMIN_TOKN is ignored;"
                + " did you mean COLLAB_ADMIN_TOKEN?"), warnings);
    }

    @Test
    void a_name_near_nothing_gets_no_guess() {
        List<String> warnings = UnknownVariables.warnings(Map.of("COLLAB_FROBNICATE_EVERYTHING", "1"),
                Settings.variables());
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).endsWith("is ignored (the README's configuration table lists them)"), warnings.get(0));
    }

    @Test
    void every_yaml_key_is_a_known_variable() {
        List<String> vars = Settings.variables();
        assertTrue(vars.contains("SERVER_PORT") && vars.contains("COLLAB_DB_PATH") && vars.contains("COLLAB_LOG_FORMAT"),
                vars.toString());
        assertTrue(UnknownVariables.warnings(Map.of("COLLAB_LOG_FORMAT", "json"), vars).isEmpty());
    }

    /** The hand-kept list of the scripts' own variables stays true: every one is used, none is missing. */
    @Test
    void the_scripts_variables_are_known_and_the_list_has_no_stale_names() throws IOException {
        Set<String> used = new TreeSet<>();
        for (String dir : List.of("packaging", "e2e/lib", "e2e/browser", "bench", "nginx")) {
            try (Stream<Path> files = Files.walk(Path.of(dir))) {
                files.filter(Files::isRegularFile).filter(p -> !p.toString().contains("node_modules"))
                        .filter(p -> p.toString().matches(".*\\.(mjs|js|sh|service|conf)$") || p.startsWith("packaging"))
                        .forEach(p -> used.addAll(names(p)));
            }
        }
        used.addAll(names(Path.of("collab")));
        Set<String> unknown = new TreeSet<>(used);
        unknown.removeAll(Settings.variables());
        unknown.removeAll(UnknownVariables.TOOL_VARIABLES);
        assertEquals(Set.of(), unknown, "COLLAB_* variables read by scripts but neither a setting nor in TOOL_VARIABLES");
        Set<String> stale = new TreeSet<>(UnknownVariables.TOOL_VARIABLES);
        stale.removeAll(used);
        assertEquals(Set.of(), stale, "TOOL_VARIABLES no script uses");
    }

    private static Set<String> names(Path file) {
        try {
            Set<String> out = new TreeSet<>();
            Matcher m = NAME.matcher(Files.readString(file));
            while (m.find()) {
                out.add(m.group());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
