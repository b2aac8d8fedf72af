package dev.collab.transport;

import dev.collab.testing.Await;
import dev.collab.testing.ManualTimer;
import io.helidon.common.uri.UriFragment;
import io.helidon.common.uri.UriPath;
import io.helidon.common.uri.UriQuery;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Method;
import io.helidon.http.WritableHeaders;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server's heartbeat on virtual time: a connection silent for a ping interval is pinged, one silent for two
 * is dropped (gone without a FIN), and any inbound frame counts as a sign of life. No socket, no sleeping: the
 * test moves the timer's clock.
 */
class HeartbeatTest {
    private static final Duration INTERVAL = Duration.ofSeconds(10);

    private final ManualTimer timer = new ManualTimer();
    private final List<String> refusals = new CopyOnWriteArrayList<>();
    private final ConnectionManager manager = new ConnectionManager(timer, new TransportLimits(1 << 20, 1 << 20,
            INTERVAL, List.of(), 100, 1000, Duration.ofSeconds(10), List.of()), new TransportEvents() {
                @Override
                public void refused(String reason) {
                    refusals.add(reason);
                }
            }, timer::nanoTime);
    private final AtomicInteger closedCalls = new AtomicInteger();

    private Connection open(FakeSocket socket, Object keepalive) {
        WsEndpoint endpoint = new WsEndpoint(manager, "test", new ProtocolHandler.Factory() {
            @Override
            public ProtocolHandler create(UpgradeRequest request, Outbound connection) {
                return new ProtocolHandler() {
                    @Override
                    public void onClosed() {
                        closedCalls.incrementAndGet();
                    }

                    @Override
                    public Outbound connection() {
                        return connection;
                    }
                };
            }

            @Override
            public Object keepalive() {
                return keepalive;
            }
        });
        endpoint.checkUpgrade(HttpPrologue.create("HTTP/1.1", "HTTP", "1.1", Method.GET, UriPath.create("/t"),
                UriQuery.empty(), UriFragment.empty()), WritableHeaders.create());
        return endpoint.open(socket, "127.0.0.1");
    }

    @Test
    void aConnectionSilentForAPingIntervalIsPingedAndOneThatAnswersStays() {
        FakeSocket socket = new FakeSocket();
        Connection c = open(socket, null);

        timer.advance(INTERVAL.minusSeconds(2));
        assertEquals(0, socket.count(WsFrameReader.OP_PING), "nothing before the first sweep");

        timer.advance(Duration.ofSeconds(2));       // first sweep: silent for a whole interval
        Await.until("the ping to be written", () -> socket.count(WsFrameReader.OP_PING) == 1);

        c.markInbound();                            // the pong (any frame) arrives
        timer.advance(INTERVAL.dividedBy(2));
        c.markInbound();
        timer.advance(INTERVAL.dividedBy(2));       // second sweep: silent for only half an interval
        timer.advance(INTERVAL.multipliedBy(2).minusSeconds(1));   // just under two intervals silent: pinged again, kept
        assertTrue(c.isOpen());
        assertFalse(c.isFinished());
        assertEquals(0, closedCalls.get());
        Await.until("the next pings to be written", () -> socket.count(WsFrameReader.OP_PING) == 2);
        assertEquals(List.of(), refusals);
        assertEquals(1, manager.openConnections());
    }

    @Test
    void aConnectionSilentForTwoIntervalsIsDroppedAndCleanedUpOnce() {
        FakeSocket socket = new FakeSocket();
        Connection c = open(socket, null);

        timer.advance(INTERVAL.multipliedBy(2));    // pinged at 10 s and 20 s (silent exactly two intervals: kept)
        assertFalse(c.isFinished(), "two intervals is the limit, not past it");
        timer.advance(INTERVAL);                    // 30 s without a frame
        assertTrue(c.isFinished());
        assertEquals(1, closedCalls.get(), "the handler releases what the connection held");
        assertEquals(List.of("heartbeat"), refusals);
        assertEquals(0, manager.openConnections());

        timer.advance(INTERVAL.multipliedBy(3));    // later sweeps no longer see it
        assertEquals(1, closedCalls.get());
        assertEquals(List.of("heartbeat"), refusals);
    }

    @Test
    void everySweepSendsTheProtocolsKeepaliveToEveryConnectionSilentOrNot() {
        FakeSocket socket = new FakeSocket();
        Connection c = open(socket, new byte[] {42});
        for (int i = 0; i < 3; i++) {
            timer.advance(INTERVAL.dividedBy(2));
            c.markInbound();                        // half an interval before each sweep
            timer.advance(INTERVAL.dividedBy(2));
        }
        Await.until("three keepalives", () -> socket.count(WsFrameReader.OP_BINARY) == 3);
        assertEquals(0, socket.count(WsFrameReader.OP_PING), "a connection that talks is not pinged");
    }
}
