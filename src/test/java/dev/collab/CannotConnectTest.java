package dev.collab;

import org.junit.jupiter.api.Test;

import java.net.ConnectException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The one start-up line for an unreachable PostgreSQL or Redis: the innermost reason, short and in lower case. */
class CannotConnectTest {
    @Test
    void namesTheServiceItsAddressTheVariableAndTheInnermostReason() {
        Exception pgjdbc = new RuntimeException("cannot open PostgreSQL: cannot read the schema version",
                new IllegalStateException("Connection to 127.0.0.1:1 refused. Check that the hostname and port are"
                        + " correct", new ConnectException("Connection refused")));
        assertEquals("cannot reach PostgreSQL at jdbc:postgresql://127.0.0.1:1/collab (COLLAB_POSTGRES_URL):"
                        + " connection refused",
                new CannotConnect("PostgreSQL", "jdbc:postgresql://127.0.0.1:1/collab", "COLLAB_POSTGRES_URL", pgjdbc)
                        .getMessage());
    }

    @Test
    void dropsPostgresSeverityTheTrailingSentenceAndNettysRepeatedAddress() {
        assertEquals("database \"x\" does not exist",
                CannotConnect.reason(new IllegalStateException("FATAL: database \"x\" does not exist")));
        assertEquals("connection refused",
                CannotConnect.reason(new RuntimeException("Unable to connect",
                        new ConnectException("Connection refused: /127.0.0.1:6380"))));
        assertEquals("password authentication failed for user \"collab\"",
                CannotConnect.reason(new IllegalStateException("FATAL: password authentication failed for user"
                        + " \"collab\". Please check")));
        assertEquals("NullPointerException", CannotConnect.reason(new NullPointerException()));
    }
}
