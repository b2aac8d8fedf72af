package dev.collab.store.postgres;

import dev.collab.store.Store;
import dev.collab.store.StoreContractTest;
import dev.collab.testing.LocalServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The store contract against a real PostgreSQL (Debian's, started by the test on a random loopback port), each
 * test in a database of its own, plus what only a server database has: surviving a crash of the postmaster.
 */
class PostgresStoreIT extends StoreContractTest {
    private static LocalServers.Postgres postgres;
    private String url;

    @BeforeAll
    static void startPostgres() {
        postgres = LocalServers.Postgres.start();
    }

    @AfterAll
    static void stopPostgres() {
        postgres.close();
    }

    @BeforeEach
    void freshDatabase() {
        url = postgres.newDatabase("contract");
    }

    /** Concatenation stands in for the Yjs merge: the test sees exactly which rows a compaction merged. */
    static byte[] concatenate(List<byte[]> updates) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        updates.forEach(out::writeBytes);
        return out.toByteArray();
    }

    @Override
    protected Store openStore() {
        return PostgresStore.open(new PostgresStore.Config(url, "collab", "", 4), PostgresStoreIT::concatenate,
                nanos -> { });
    }

    @Override
    protected Store openAnotherStore(Store first) {
        return open();
    }

    @Override
    protected byte[] expectedCompaction(List<byte[]> storedRows, byte[] mergedByCaller) {
        return concatenate(storedRows);
    }

    @Test
    void acknowledgedWritesSurviveAKilledPostmasterAndTheStoreRecoversByItself() throws Exception {
        Store store = open();
        List<CompletableFuture<Long>> before = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            before.add(store.appendUpdate("d", new byte[] {(byte) i}));
        }
        for (CompletableFuture<Long> f : before) {
            await(f);
        }
        postgres.kill();
        // with the server gone nothing is acknowledged
        Throwable refused = failure(store.appendUpdate("d", new byte[] {1}));
        assertInstanceOf(Store.StoreException.class, refused);
        postgres.restart();
        long seq = dev.collab.testing.Await.value("the store writes again after the restart",
                java.time.Duration.ofSeconds(60), () -> {
                    try {
                        return await(store.appendUpdate("d", new byte[] {2}));
                    } catch (Exception e) {
                        return null;
                    }
                }, s -> s != null);
        assertEquals(201L, seq, "the refused write took no number");
        assertEquals(201, store.updates("d").size());
        assertTrue(store.isHealthy());
        assertArrayEquals(new byte[] {(byte) 199}, store.updates("d").get(199).data());
    }
}
