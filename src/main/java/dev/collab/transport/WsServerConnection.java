package dev.collab.transport;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import io.helidon.common.concurrency.limits.Limit;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.spi.ServerConnection;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The server's own WebSocket connection behind Helidon's HTTP server (after {@link WsUpgrader}'s handshake):
 * Helidon's thread for the socket reads frames here ({@link WsFrameReader}), {@link Connection}'s writer writes
 * queued frames together. Pings are answered at once, a client that drops ends the read at once, and the close
 * handshake runs both ways: the TCP connection ends after both close frames, or when the client never answers.
 */
final class WsServerConnection implements ServerConnection, WsSocket, WsFrameReader.Source {
    private static final System.Logger LOG = System.getLogger(WsServerConnection.class.getName());
    /** How long the reader waits for our close frame to go out after the client's, before ending anyway. */
    private static final long CLOSE_WRITE_WAIT_MS = 5_000;

    private final ConnectionContext ctx;
    private final DataReader in;
    private final WsEndpoint endpoint;
    private final CountDownLatch closeWritten = new CountDownLatch(1);
    private volatile boolean closeReceived;
    private volatile boolean aborted;
    private volatile Thread readerThread;
    private volatile Connection connection;
    private volatile long lastLingerRead;
    /** Quiet input after our close for a failed connection: the client has it; end the TCP connection. */
    private static final long LINGER_QUIET_MS = 100;
    /** At most this long dropping what a failed connection still sends. */
    private static final long LINGER_MAX_MS = 2_000;

    WsServerConnection(ConnectionContext ctx, WsEndpoint endpoint) {
        this.ctx = ctx;
        this.in = ctx.dataReader();
        this.endpoint = endpoint;
    }

    @Override
    public void handle(Limit limit) {
        readerThread = Thread.currentThread();
        Connection connection = endpoint.open(this, ctx.remotePeer().host());
        this.connection = connection;
        WsFrameReader frames = new WsFrameReader(this, endpoint, endpoint.maxMessageBytes());
        try {
            boolean more = true;
            while (more && !aborted) {
                more = frames.readFrame();
                connection.markInbound();
            }
            if (aborted) {
                return;
            }
            closeReceived = true;
            // the client's close is answered by the endpoint (queued after what is already queued); the TCP
            // connection ends when that frame is out
            awaitCloseWritten();
        } catch (WsFrameReader.WsProtocolException e) {
            endpoint.protocolError(e.code, e.getMessage());
            awaitCloseWritten();
            lingerAfterFailure();
        } catch (DataReader.InsufficientDataAvailableException | UncheckedIOException e) {
            LOG.log(System.Logger.Level.DEBUG, "connection {0} dropped", connection.id());
        } catch (RuntimeException e) {
            if (!Thread.currentThread().isInterrupted()) {
                LOG.log(System.Logger.Level.DEBUG, "reading connection " + connection.id() + " failed", e);
            }
        } finally {
            endpoint.ended();
        }
        // returning closes the socket (Helidon's connection handler)
    }

    /**
     * After failing the connection (a broken or oversized frame) the client may still be sending: closing the socket
     * with unread bytes makes the kernel answer with a reset, which can destroy our close frame before the client
     * reads it (it then sees 1006 instead of, say, 1009). So read and drop what still comes, and end once the input
     * has been quiet for {@link #LINGER_QUIET_MS} (the client has read our close) or after {@link #LINGER_MAX_MS}.
     */
    private void lingerAfterFailure() {
        lastLingerRead = System.nanoTime();
        Thread watchdog = Thread.ofVirtual().name("ws-linger").start(() -> {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LINGER_MAX_MS);
            try {
                while (!aborted) {
                    Thread.sleep(LINGER_QUIET_MS / 2);
                    long now = System.nanoTime();
                    if (now - lastLingerRead > TimeUnit.MILLISECONDS.toNanos(LINGER_QUIET_MS) || now > deadline) {
                        abort();
                        return;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            while (!aborted) {
                in.ensureAvailable();
                lastLingerRead = System.nanoTime();
                in.skip(in.available());
            }
        } catch (RuntimeException e) {
            // end of stream, reset or our own abort: nothing more to drop
        } finally {
            watchdog.interrupt();
        }
    }

    private void awaitCloseWritten() {
        try {
            closeWritten.await(CLOSE_WRITE_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // --- Source: the frame reader's bytes, straight from Helidon's reader (each piece is one socket read)

    @Override
    public int readByte() {
        return in.read() & 0xff;
    }

    @Override
    public byte[] readBytes(int length) {
        return in.readBytes(length);
    }

    // --- WsSocket: Connection's writer

    @Override
    public void write(List<byte[]> frames) {
        if (frames.size() == 1) {
            ctx.dataWriter().writeNow(BufferData.create(frames.getFirst()));
            return;
        }
        BufferData[] pieces = new BufferData[frames.size()];
        for (int i = 0; i < pieces.length; i++) {
            pieces[i] = BufferData.create(frames.get(i));
        }
        ctx.dataWriter().writeNow(BufferData.create(pieces));
    }

    @Override
    public void closeSent() {
        closeWritten.countDown();
        if (closeReceived) {
            return;     // the reader is waiting for exactly this and ends the connection now
        }
        // we closed first: the reader goes on until the client's close frame (or the manager's 5 s abort)
    }

    @Override
    public void abort() {
        aborted = true;
        closeWritten.countDown();
        Thread t = readerThread;
        if (t != null && t != Thread.currentThread()) {
            t.interrupt();      // a blocking socket read ends by closing the channel
        }
    }

    // --- ServerConnection: Helidon's view (idle timeout, shutdown)

    @Override
    public Duration idleTime() {
        Connection c = connection;
        return c == null ? Duration.ZERO : c.silentFor();
    }

    @Override
    public void close(boolean interrupt) {
        abort();
    }
}
