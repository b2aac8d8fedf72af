package dev.collab.config;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Settings of the backend integration (document API, webhooks, identity-provider tokens), read like
 * {@link Settings} from application.yaml and the environment; kept apart so the core settings stay small.
 */
public record IntegrationSettings(
        String authJwksUrl,
        String authIssuer,
        String authAudience,
        List<URI> webhookUrls,
        String webhookSecret,
        Duration webhookDebounce,
        int documentRetentionDays) {

    public IntegrationSettings {
        webhookUrls = List.copyOf(webhookUrls);
        if (webhookDebounce.isNegative()) {
            throw ConfigError.of("collab.webhook-debounce-ms", "must be 0 or more", webhookDebounce.toMillis() + "");
        }
        if (documentRetentionDays < 0) {
            throw ConfigError.of("collab.document-retention-days", "must be 0 (keep forever) or more",
                    Integer.toString(documentRetentionDays));
        }
    }

    public static IntegrationSettings load(Map<String, String> env) {
        Function<String, String> get = Settings.lookup(env);
        String jwks = get.apply("collab.auth-jwks-url");
        if (!jwks.isEmpty()) {
            httpUrl("collab.auth-jwks-url", jwks);
        }
        List<URI> webhooks = new ArrayList<>();
        for (String url : Settings.list(get.apply("collab.webhook-url"))) {
            webhooks.add(httpUrl("collab.webhook-url", url));
        }
        return new IntegrationSettings(jwks, get.apply("collab.auth-issuer"), get.apply("collab.auth-audience"),
                webhooks, get.apply("collab.webhook-secret"),
                Duration.ofMillis(Settings.parseLong(get, "collab.webhook-debounce-ms")),
                Settings.parseInt(get, "collab.document-retention-days"));
    }

    private static URI httpUrl(String key, String value) {
        try {
            URI uri = URI.create(value);
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
                return uri;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw ConfigError.of(key, "must be an http:// or https:// URL", value);
    }

    public boolean webhooksEnabled() {
        return !webhookUrls.isEmpty();
    }
}
