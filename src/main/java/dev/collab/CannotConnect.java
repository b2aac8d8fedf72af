package dev.collab;

import java.util.Locale;

/**
 * A service the node was configured to use (PostgreSQL with {@code COLLAB_STORE=postgres}, Redis with
 * {@code COLLAB_BUS=redis}) cannot be reached at start-up. Like {@link dev.collab.transport.CannotListen}: one line
 * naming the service, its address and the variable to check, and a non-zero exit, never a stack trace; a node
 * never starts without the store or bus it was told to use (it would serve documents the others cannot see).
 */
public final class CannotConnect extends RuntimeException {
    CannotConnect(String service, String address, String variable, Throwable cause) {
        super("cannot reach " + service + " at " + address + " (" + variable + "): " + reason(cause), cause);
    }

    /** The innermost cause's message, first sentence, in lower case ("connection refused"). */
    static String reason(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root.getMessage() == null || root.getMessage().isBlank()) {
            return root.getClass().getSimpleName();
        }
        String m = root.getMessage();
        m = m.replaceFirst("^(FATAL|ERROR): ", "");          // PostgreSQL's severity prefix
        int stop = m.indexOf(". ");
        if (stop > 0) {
            m = m.substring(0, stop);
        }
        m = m.strip();
        if (m.endsWith(".")) {
            m = m.substring(0, m.length() - 1);
        }
        // "Connection refused: /127.0.0.1:6380" (Netty): the address is already in the line
        int colon = m.indexOf(": /");
        if (colon > 0) {
            m = m.substring(0, colon);
        }
        return m.isEmpty() ? root.getClass().getSimpleName() : m.substring(0, 1).toLowerCase(Locale.ROOT) + m.substring(1);
    }
}
