package dev.collab.transport;

import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.websocket.WsUpgradeException;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * HTTP answers on the WebSocket paths. A refused upgrade is not upgraded ({@link WsUpgrader}) and reaches here as
 * plain HTTP; this re-runs the check and answers with its status and reason.
 * A plain GET that is no upgrade attempt gets 426 Upgrade Required.
 */
public final class UpgradeRefusals implements HttpService {
    private final Map<String, ProtocolHandler.Factory> byPath = new LinkedHashMap<>();
    private final ConnectionManager manager;

    public UpgradeRefusals(ConnectionManager manager) {
        this.manager = manager;
    }

    /** Answers on the paths of {@code protocols}. */
    public UpgradeRefusals(ConnectionManager manager, java.util.List<WsProtocol> protocols) {
        this(manager);
        protocols.forEach(p -> add(p.path(), p.factory()));
    }

    /** {@code path} as given to Helidon's WsRouting (a trailing {@code *} matches the rest). */
    public UpgradeRefusals add(String path, ProtocolHandler.Factory factory) {
        byPath.put(path, factory);
        return this;
    }

    @Override
    public void routing(HttpRules rules) {
        byPath.forEach((path, factory) -> rules.any(path, (req, res) -> answer(factory, req, res)));
    }

    private void answer(ProtocolHandler.Factory factory, ServerRequest req, ServerResponse res) {
        Map<String, String> query = new HashMap<>();
        for (String name : req.query().names()) {
            query.put(name, req.query().get(name));
        }
        UpgradeRequest upgrade = new UpgradeRequest(req.path().path(), query, req.headers());
        int status = Status.UPGRADE_REQUIRED_426.code();
        String reason = "this is a WebSocket endpoint";
        try {
            manager.checkUpgrade(factory, upgrade, false);
        } catch (UpgradeRefused refused) {
            status = refused.status();
            reason = refused.getMessage();
        } catch (WsUpgradeException e) {
            status = Status.BAD_REQUEST_400.code();
            reason = e.getMessage();
        }
        res.status(Status.create(status)).header(HeaderValues.CONTENT_TYPE_TEXT_PLAIN).send(reason + "\n");
    }
}
