package dev.collab.transport;

import io.helidon.common.uri.UriFragment;
import io.helidon.common.uri.UriPath;
import io.helidon.common.uri.UriQuery;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Method;
import io.helidon.http.WritableHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which thread calls a protocol handler (issue #11): before, the connection's cleanup ran {@code onClosed} on
 * whichever thread finished the connection (the writer, the timer) while the reader could be inside
 * {@code onBinary}, so a handler's reader-only state (Hocuspocus' pending frames) was touched from two threads at
 * once. Now the calls never overlap and nothing is called after {@code onClosed}. No socket: a fake one.
 */
class HandlerThreadsTest {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final ConnectionManager manager = new ConnectionManager(timer, new TransportLimits(1 << 20, 1 << 20,
            Duration.ofMinutes(10), List.of(), 100, 1000, Duration.ofSeconds(10), List.of()), TransportEvents.NONE);

    @AfterEach
    void tearDown() {
        timer.shutdownNow();
    }

    /** A handler that records its calls, and can hold the reader inside {@code onBinary}. */
    static final class Recording implements ProtocolHandler {
        final Outbound connection;
        final AtomicInteger inside = new AtomicInteger();
        final AtomicInteger overlaps = new AtomicInteger();
        final List<String> calls = new CopyOnWriteArrayList<>();
        final List<Thread> closedOn = new CopyOnWriteArrayList<>();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch closed = new CountDownLatch(1);
        volatile CountDownLatch hold = new CountDownLatch(0);

        Recording(Outbound connection) {
            this.connection = connection;
        }

        private void enter(String call) {
            if (inside.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
            }
            calls.add(call);
        }

        @Override
        public void onOpen() {
            enter("open");
            inside.decrementAndGet();
        }

        @Override
        public void onBinary(byte[] data) {
            enter("binary");
            entered.countDown();
            try {
                hold.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            inside.decrementAndGet();
        }

        @Override
        public void onClosed() {
            enter("closed");
            closedOn.add(Thread.currentThread());
            inside.decrementAndGet();
            closed.countDown();
        }

        @Override
        public Outbound connection() {
            return connection;
        }
    }

    private Recording[] handler = new Recording[1];

    private WsEndpoint endpoint(ProtocolHandler.Factory factory) {
        WsEndpoint endpoint = new WsEndpoint(manager, "test", factory);
        endpoint.checkUpgrade(HttpPrologue.create("HTTP/1.1", "HTTP", "1.1", Method.GET, UriPath.create("/t"),
                UriQuery.empty(), UriFragment.empty()), WritableHeaders.create());
        return endpoint;
    }

    private WsEndpoint endpoint() {
        return endpoint((request, connection) -> handler[0] = new Recording(connection));
    }

    @Test
    void aConnectionFinishedDuringAReaderCallIsCleanedUpAfterTheCallOnTheReader() throws Exception {
        WsEndpoint endpoint = endpoint();
        Connection connection = endpoint.open(new FakeSocket(), "127.0.0.1");
        Recording h = handler[0];
        h.hold = new CountDownLatch(1);
        Thread reader = Thread.ofVirtual().name("reader").start(() -> endpoint.onBinary(new byte[] {1}));
        assertTrue(h.entered.await(5, TimeUnit.SECONDS));

        connection.terminate();     // what the timer or the writer does: the connection is finished
        assertTrue(connection.isFinished());
        assertEquals(List.of("open", "binary"), h.calls, "onClosed waits for the reader's call to return");

        h.hold.countDown();
        reader.join(5_000);
        assertEquals(List.of("open", "binary", "closed"), h.calls);
        assertEquals(List.of(reader), h.closedOn, "the cleanup ran on the reader, right after its call");
        assertEquals(0, h.overlaps.get());

        endpoint.onBinary(new byte[] {2});
        endpoint.ended();
        assertEquals(List.of("open", "binary", "closed"), h.calls, "nothing after onClosed, and onClosed once");
    }

    @Test
    void aConnectionFinishedWhileTheReaderWaitsIsCleanedUpAtOnce() {
        WsEndpoint endpoint = endpoint();
        Connection connection = endpoint.open(new FakeSocket(), "127.0.0.1");
        Recording h = handler[0];
        connection.terminate();
        assertEquals(List.of("open", "closed"), h.calls);
        assertSame(Thread.currentThread(), h.closedOn.getFirst());
        endpoint.onClose(1000, "");
        endpoint.ended();
        assertEquals(1, h.closedOn.size());
    }

    @Test
    void theKeepaliveIsSentByTheTransportWithoutCallingTheHandler() throws Exception {
        byte[] ping = {9};
        WsEndpoint endpoint = endpoint(new ProtocolHandler.Factory() {
            @Override
            public ProtocolHandler create(UpgradeRequest request, Outbound connection) {
                return handler[0] = new Recording(connection);
            }

            @Override
            public Object keepalive() {
                return ping;
            }
        });
        FakeSocket socket = new FakeSocket();
        Connection connection = endpoint.open(socket, "127.0.0.1");
        connection.keepalive();
        connection.close(1000, "");
        // the writer drains everything queued then the close, which finishes the connection
        assertTrue(handler[0].closed.await(5, TimeUnit.SECONDS));
        assertTrue(connection.isFinished());
        assertEquals(2, socket.written.size());
        assertEquals(List.of("open", "closed"), handler[0].calls);
        assertFalse(connection.isOpen());
    }
}
