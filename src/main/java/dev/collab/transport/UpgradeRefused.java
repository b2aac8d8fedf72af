package dev.collab.transport;

import io.helidon.websocket.WsUpgradeException;

/**
 * A refused WebSocket upgrade with the HTTP status to answer. Helidon 4.3 turns any refused upgrade into a plain
 * HTTP request, so {@link UpgradeRefusals} answers it with this status and reason.
 */
public final class UpgradeRefused extends WsUpgradeException {
    private final int status;

    public UpgradeRefused(int status, String reason) {
        super(reason);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
