package dev.collab.transport;

import io.helidon.websocket.WsUpgradeException;

/**
 * A refused WebSocket upgrade with the HTTP status to answer: the request goes on as plain HTTP, where
 * {@link UpgradeRefusals} answers it with this status and reason.
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
