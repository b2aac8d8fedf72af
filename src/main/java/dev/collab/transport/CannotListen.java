package dev.collab.transport;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Locale;

/**
 * The server's address cannot be listened on (port taken, address not on this host, no permission). Start-up
 * probes the address before it opens anything else, so a failed start leaves the database untouched, prints this
 * one line and exits non-zero; a supervisor's restart-on-failure sees it.
 */
public final class CannotListen extends RuntimeException {
    public CannotListen(String host, int port, String reason) {
        super("cannot listen on " + host + ":" + port + " (" + variableFor(reason) + "): " + reason);
    }

    /** Binds and releases {@code host:port} (port 0 always binds), or throws with the system's reason. */
    public static void probe(String host, int port) {
        if (port == 0) {
            return;
        }
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);       // what the web server sets too: a socket in TIME_WAIT is no conflict
            socket.bind(new InetSocketAddress(host, port));
        } catch (IOException | IllegalArgumentException | SecurityException e) {
            throw new CannotListen(host, port, reason(e));
        }
    }

    /** The system's message in lower case ("address already in use"); unresolvable hosts say so. */
    public static String reason(Throwable e) {
        if (e instanceof IllegalArgumentException || e.getMessage() == null) {
            return "cannot resolve the address";
        }
        String m = e.getMessage().toLowerCase(Locale.ROOT);
        int paren = m.indexOf(" (");
        return e instanceof BindException && paren > 0 ? m.substring(0, paren) : m;
    }

    /** Which setting to change: the port when it is taken or privileged, else the host. */
    private static String variableFor(String reason) {
        return reason.contains("in use") || reason.contains("permission") ? "SERVER_PORT" : "SERVER_HOST";
    }
}
