package dev.collab.transport;

import io.helidon.common.Weight;
import io.helidon.webserver.ProtocolConfigs;
import io.helidon.webserver.http1.spi.Http1UpgradeProvider;
import io.helidon.webserver.http1.spi.Http1Upgrader;

/**
 * Takes the HTTP/1.1 {@code Upgrade: websocket} from Helidon's own upgrader (a higher weight wins the protocol):
 * the server decides refusals itself, so they keep their status and reason, and its Origin rule stays its own
 * (Helidon 4.5 answers a refused upgrade with a bare 400 and, with no allowlist, demands Origin = Host).
 */
@Weight(200)
public final class WsUpgradeProvider implements Http1UpgradeProvider<WsEndpoints> {

    /** For the service loader. */
    public WsUpgradeProvider() {
    }

    @Override
    public String protocolType() {
        return WsEndpoints.TYPE;
    }

    @Override
    public Class<WsEndpoints> protocolConfigType() {
        return WsEndpoints.class;
    }

    @Override
    public Http1Upgrader create(WsEndpoints endpoints, ProtocolConfigs configs) {
        return new WsUpgrader(endpoints);
    }
}
