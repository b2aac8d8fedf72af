package dev.collab.transport;

import java.util.List;

/**
 * The client's address: the socket peer, unless that peer is a trusted proxy, in which case the nearest address
 * in X-Forwarded-For that is not itself a trusted proxy (the part of the header our own proxies wrote).
 */
final class ClientAddress {
    private ClientAddress() {
    }

    static String resolve(String peer, String forwardedFor, List<String> trustedProxies) {
        if (forwardedFor == null || forwardedFor.isBlank() || !trustedProxies.contains(peer)) {
            return peer;
        }
        String[] hops = forwardedFor.split(",");
        for (int i = hops.length - 1; i >= 0; i--) {
            String hop = hops[i].trim();
            if (!hop.isEmpty() && !trustedProxies.contains(hop)) {
                return hop;
            }
        }
        // every hop is a trusted proxy (or the header is only separators, which split() turns into no hops)
        return hops.length == 0 || hops[0].trim().isEmpty() ? peer : hops[0].trim();
    }
}
