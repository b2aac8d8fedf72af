package dev.collab.http;

import dev.collab.store.Store;
import io.helidon.http.Method;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;

import java.util.Map;

/**
 * {@code /observe/metrics} (Prometheus text) and {@code /observe/health/live|ready}, at the paths Helidon's observe
 * feature uses; readiness checks that the database answers.
 */
public final class ObserveService implements HttpService {
    private final ServerMetrics metrics;
    private final Store store;

    public ObserveService(ServerMetrics metrics, Store store) {
        this.metrics = metrics;
        this.store = store;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/observe/metrics", (req, res) -> res
                        .header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                        .send(metrics.scrape()))
                .get("/observe/health/live", (req, res) -> JsonResponses.send(res, Status.OK_200,
                        Map.of("status", "UP", "checks", Map.of())))
                .get("/observe/health/ready", (req, res) -> ready(res))
                .get("/observe/health", (req, res) -> ready(res));
        for (String path : new String[] {"/observe/metrics", "/observe/health/live", "/observe/health/ready",
                "/observe/health"}) {
            AllowedMethods.register(rules, path, Method.GET);
        }
    }

    private void ready(io.helidon.webserver.http.ServerResponse res) {
        boolean up = store.isHealthy();
        JsonResponses.send(res, up ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503,
                Map.of("status", up ? "UP" : "DOWN", "checks", Map.of("database", up ? "UP" : "DOWN")));
    }
}
