package dev.collab.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Finds {@code COLLAB_*} environment variables nobody reads (a typo silently leaves a default in force) and names
 * the closest known one. Known: every key of application.yaml ({@link Settings#variables()}, so a new setting is
 * known as soon as it has a key) and the few variables read by the scripts around the server.
 */
public final class UnknownVariables {
    /** Read by ./collab, bin/collab-server and the test suites, not by the server; a test keeps this list true. */
    public static final List<String> TOOL_VARIABLES = List.of("COLLAB_JAVA", "COLLAB_JAVA_OPTS",
            "COLLAB_SERVER_JVM_OPTS", "COLLAB_APT_UPDATED", "COLLAB_JVM_DIR", "COLLAB_CHROMIUM");

    private UnknownVariables() {
    }

    /** One warning per unknown variable, in name order. */
    public static List<String> warnings(Map<String, String> env, List<String> settings) {
        List<String> known = Stream.concat(settings.stream(), TOOL_VARIABLES.stream()).toList();
        List<String> out = new ArrayList<>();
        for (String name : new TreeSet<>(env.keySet())) {
            if (!name.startsWith("COLLAB_") || known.contains(name)) {
                continue;
            }
            String closest = known.stream().min(Comparator.comparingInt(k -> distance(name, k))).orElseThrow();
            boolean near = distance(name, closest) <= Math.max(2, closest.length() / 4);
            out.add("unknown environment variable " + name + " is ignored"
                    + (near ? "; did you mean " + closest + "?" : " (the README's configuration table lists them)"));
        }
        return out;
    }

    /** Levenshtein edit distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(substitute, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
