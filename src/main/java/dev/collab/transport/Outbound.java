package dev.collab.transport;

import java.util.Iterator;

/**
 * What a protocol session may do with its connection: send messages, close it, name it, and report refusals.
 * {@link Connection} implements it over a socket; tests implement it without one (feed frames in, read frames
 * out). Every method may be called from any thread (the session's reader, a room's owner, a timer) and returns
 * at once: messages are queued, never written on the caller's thread.
 */
public interface Outbound {

    /** A number unique among this process's connections, for logs. */
    long id();

    /** The client's address as logged (the forwarded one behind a trusted proxy). */
    String remoteAddress();

    /** False once a close has been queued or the connection has ended; sends are dropped then. */
    boolean isOpen();

    void sendText(String text);

    void sendBinary(byte[] data);

    /**
     * Sends messages (String text, byte[] binary) produced one by one as the connection gets to them, in order with
     * everything else (a large document's state in parts); {@code estimatedBytes} is what they weigh in total.
     */
    void sendParts(Iterator<?> messages, long estimatedBytes);

    /** Sends a close frame after what is already queued; the connection ends once it is out. */
    void close(int code, String reason);

    /** Counts a refusal by reason (metrics, one log line per reason and connection). */
    default void reportRefused(String reason) {
        reportRefused(reason, null);
    }

    /** {@link #reportRefused(String)} with what the first log line should say about it. */
    void reportRefused(String reason, String detail);

    /** The close code sent or received (1006 when the connection dropped), 1000 while open. */
    int closeCode();

    /** The close reason that went with {@link #closeCode()}; empty when none was given. */
    String closeReason();
}
