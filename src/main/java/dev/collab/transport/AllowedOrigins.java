package dev.collab.transport;


import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The {@code Origin} allowlist of WebSocket upgrades (COLLAB_ALLOWED_ORIGINS). Entries and request headers are
 * compared in one normal form, {@code scheme://host[:port]}: trimmed, a trailing {@code /} dropped, scheme and host
 * lower-cased, the scheme's default port left out (so {@code https://Editor.example.com:443/} is
 * {@code https://editor.example.com}). An entry that is not an origin is a configuration error; empty = any origin.
 */
public final class AllowedOrigins {
    private final Set<String> origins;

    private AllowedOrigins(Set<String> origins) {
        this.origins = Set.copyOf(origins);
    }

    /**
     * The allowlist of the given entries; an {@link IllegalArgumentException} saying what an origin is for a bad one
     * (the settings turn it into the start-up error naming COLLAB_ALLOWED_ORIGINS; transport knows no config).
     */
    public static AllowedOrigins parse(List<String> entries) {
        Set<String> normal = new LinkedHashSet<>();
        for (String entry : entries) {
            String n = normalize(entry);
            if (n == null) {
                throw new IllegalArgumentException("entries must be origins like"
                        + " https://editor.example.com or http://localhost:5173 (scheme, host, optional port;"
                        + " no path), got '" + entry + "'");
            }
            normal.add(n);
        }
        return new AllowedOrigins(normal);
    }

    /** {@code scheme://host[:port]} in normal form, or null when {@code value} is not an http(s) origin. */
    public static String normalize(String value) {
        String v = value.trim();
        while (v.endsWith("/")) {
            v = v.substring(0, v.length() - 1);
        }
        URI uri;
        try {
            uri = new URI(v);
        } catch (URISyntaxException e) {
            return null;
        }
        String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!("http".equals(scheme) || "https".equals(scheme)) || uri.getHost() == null || uri.getRawUserInfo() != null
                || !uri.getRawPath().isEmpty() || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            return null;
        }
        int port = uri.getPort();
        boolean defaultPort = port == -1 || port == ("http".equals(scheme) ? 80 : 443);
        return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
    }

    /** Whether an upgrade with this {@code Origin} header may proceed (no header: not a browser, allowed). */
    public boolean allows(String originHeader) {
        if (originHeader == null || origins.isEmpty()) {
            return true;
        }
        String n = normalize(originHeader);
        return n != null && origins.contains(n);
    }

    /** The effective list, for the start-up log. */
    public List<String> entries() {
        return List.copyOf(origins);
    }

    @Override
    public String toString() {
        return origins.isEmpty() ? "any origin (COLLAB_ALLOWED_ORIGINS is empty)" : String.join(", ", origins);
    }
}
