package dev.collab.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which address a connection counts against: the peer, or what a trusted proxy says in X-Forwarded-For. */
class ClientAddressTest {
    private static final List<String> PROXIES = List.of("10.0.0.1", "10.0.0.2");

    @Test
    void withoutHeaderThePeerIsTheClient() {
        assertEquals("198.51.100.7", ClientAddress.resolve("198.51.100.7", null, PROXIES));
        assertEquals("10.0.0.1", ClientAddress.resolve("10.0.0.1", null, PROXIES));
        assertEquals("10.0.0.1", ClientAddress.resolve("10.0.0.1", "", PROXIES));
        assertEquals("10.0.0.1", ClientAddress.resolve("10.0.0.1", "   ", PROXIES));
    }

    @Test
    void anUntrustedPeerCannotClaimAnotherAddress() {
        assertEquals("198.51.100.7", ClientAddress.resolve("198.51.100.7", "203.0.113.9", PROXIES));
        assertEquals("198.51.100.7", ClientAddress.resolve("198.51.100.7", "203.0.113.9, 10.0.0.1", PROXIES));
        assertEquals("198.51.100.7", ClientAddress.resolve("198.51.100.7", "203.0.113.9", List.of()));
    }

    @Test
    void aTrustedProxyNamesTheClient() {
        assertEquals("203.0.113.9", ClientAddress.resolve("10.0.0.1", "203.0.113.9", PROXIES));
        assertEquals("203.0.113.9", ClientAddress.resolve("10.0.0.2", " 203.0.113.9 ", PROXIES));
    }

    @Test
    void theNearestUntrustedHopWinsOverWhatTheClientWroteItself() {
        // the client sent "X-Forwarded-For: 1.1.1.1" itself; our proxy appended the address it saw
        assertEquals("203.0.113.9", ClientAddress.resolve("10.0.0.1", "1.1.1.1, 203.0.113.9", PROXIES));
        // two of our proxies in a row
        assertEquals("203.0.113.9", ClientAddress.resolve("10.0.0.1", "1.1.1.1, 203.0.113.9, 10.0.0.2", PROXIES));
        assertEquals("203.0.113.9", ClientAddress.resolve("10.0.0.1", "1.1.1.1,203.0.113.9,10.0.0.2,10.0.0.1",
                PROXIES));
    }

    @Test
    void emptyHopsAreSkipped() {
        assertEquals("203.0.113.9", ClientAddress.resolve("10.0.0.1", "203.0.113.9, , 10.0.0.2,", PROXIES));
        assertEquals("203.0.113.9", ClientAddress.resolve("10.0.0.1", ",,203.0.113.9", PROXIES));
    }

    @Test
    void onlyTrustedHopsMeansTheFirstOne() {
        assertEquals("10.0.0.2", ClientAddress.resolve("10.0.0.1", "10.0.0.2, 10.0.0.1", PROXIES));
    }

    @Test
    void aHeaderOfOnlySeparatorsFallsBackToThePeer() {
        assertEquals("10.0.0.1", ClientAddress.resolve("10.0.0.1", ",", PROXIES));
        assertEquals("10.0.0.1", ClientAddress.resolve("10.0.0.1", " , ,, ", PROXIES));
    }

    @Test
    void ipv6Addresses() {
        List<String> proxies = List.of("::1", "0:0:0:0:0:0:0:1");
        assertEquals("2001:db8::5", ClientAddress.resolve("0:0:0:0:0:0:0:1", "2001:db8::5", proxies));
        assertEquals("2001:db8::5", ClientAddress.resolve("::1", "2001:db8::7, 2001:db8::5", proxies));
        assertEquals("2001:db8::9", ClientAddress.resolve("2001:db8::9", "2001:db8::5", proxies));
    }
}
