package dev.collab.transport;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Method;
import io.helidon.http.WritableHeaders;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.spi.Http1Upgrader;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.websocket.WsUpgradeException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Optional;

/**
 * The RFC 6455 opening handshake on the server's WebSocket paths. An upgrade that is malformed or refused (by the
 * Origin allowlist or the protocol's own check) is not upgraded: Helidon then routes the request as plain HTTP,
 * where {@link UpgradeRefusals} answers it with the refusal's status and reason.
 */
final class WsUpgrader implements Http1Upgrader {
    private static final HeaderName KEY = HeaderNames.create("Sec-WebSocket-Key");
    private static final HeaderName VERSION = HeaderNames.create("Sec-WebSocket-Version");
    private static final byte[] ACCEPT_SUFFIX = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11".getBytes(StandardCharsets.US_ASCII);

    private final WsEndpoints endpoints;

    WsUpgrader(WsEndpoints endpoints) {
        this.endpoints = endpoints;
    }

    @Override
    public String supportedProtocol() {
        return "websocket";
    }

    @Override
    public ServerConnection upgrade(ConnectionContext ctx, HttpPrologue prologue, WritableHeaders<?> headers) {
        Optional<WsEndpoints.Endpoint> endpoint = endpoints.find(prologue.uriPath().path());
        Optional<String> key = headers.first(KEY);
        if (endpoint.isEmpty() || prologue.method() != Method.GET || key.isEmpty()
                || !"13".equals(headers.first(VERSION).orElse("13"))) {
            return null;
        }
        WsEndpoint listener = endpoints.newEndpoint(endpoint.get());
        try {
            listener.checkUpgrade(prologue, headers);
        } catch (WsUpgradeException refused) {
            return null;
        }
        BufferData response = BufferData.growing(160);
        response.write(("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Accept: " + accept(key.get()) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        ctx.dataWriter().writeNow(response);
        return new WsServerConnection(ctx, listener);
    }

    /** Sec-WebSocket-Accept: base64(SHA-1(key + the RFC's GUID)). */
    static String accept(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(key.getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(sha1.digest(ACCEPT_SUFFIX));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-1", e);
        }
    }
}
