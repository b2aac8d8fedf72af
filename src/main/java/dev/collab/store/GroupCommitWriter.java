package dev.collab.store;

import dev.collab.store.Store.StoreException;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.LongConsumer;

/**
 * One writer thread that drains the queued writes into one transaction (group commit), so concurrent documents
 * share a commit instead of paying one each. Each write runs under its own savepoint: one failing write (say, a
 * taken step version) does not sink the others in its batch (a batch of one needs none: its failure rolls the
 * transaction back). Statements stay prepared, since compiling SQL cost more than running it. Futures complete
 * after the commit, in batch order, on the writer thread.
 *
 * <p>A write says how many bytes it writes (its weight). A batch takes every small write queued but large ones only
 * up to {@link #BATCH_BYTES} (at least one): a small edit's commit, and its relay, waits for at most about that much
 * of other documents' writing instead of every large row queued before it (a 50 MiB paste queued 4 MiB of rows at a
 * time, a commit of 70-100 ms on a loaded machine). Writes of one key (document) keep their order: once one of a key
 * is left for a later batch, so are the key's writes after it.
 *
 * <p>When the connection breaks (a database restart) the batch fails, the connection is dropped and the next batch
 * asks the {@link ConnectionSource} for a new one: nothing is retried behind the caller's back.
 */
public final class GroupCommitWriter implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GroupCommitWriter.class.getName());

    /** One write: runs inside the writer's transaction; its result completes the caller's future after commit. */
    public interface Work<T> {
        T apply(Statements statements) throws SQLException;
    }

    /** Where the writer gets its connection (again after a failure). */
    public interface ConnectionSource {
        Connection open() throws SQLException;
    }

    /** The writer connection's prepared statements, compiled once; used only by the writer thread. */
    public static final class Statements {
        private final Connection connection;
        private final Map<String, PreparedStatement> prepared = new HashMap<>();

        Statements(Connection connection) {
            this.connection = connection;
        }

        public PreparedStatement prepare(String sql) throws SQLException {
            PreparedStatement ps = prepared.get(sql);
            if (ps == null) {
                ps = connection.prepareStatement(sql);
                prepared.put(sql, ps);
            }
            return ps;
        }

        public Connection connection() {
            return connection;
        }

        public void execute(String sql) throws SQLException {
            prepare(sql).execute();
        }

        void close() {
            for (PreparedStatement ps : prepared.values()) {
                try {
                    ps.close();
                } catch (SQLException ignored) {
                    // the connection is going too
                }
            }
            prepared.clear();
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.log(System.Logger.Level.DEBUG, "closing the writer connection failed", e);
            }
        }
    }

    /** Bytes of large writes one batch takes at most (beside the small ones; a larger write goes alone). */
    public static final long BATCH_BYTES = 1L << 20;
    /** A write of at most this many bytes is small: it rides in the next batch whatever the large ones weigh. */
    public static final long SMALL_BYTES = 64L << 10;

    private record Write<T>(String orderKey, long weight, Work<T> work, CompletableFuture<T> done) {
        void complete(Object result) {
            @SuppressWarnings("unchecked") T value = (T) result;
            done.complete(value);
        }
    }

    /** Queued by {@link #close()} after every accepted write. */
    private static final Write<Void> STOP = new Write<>(null, 0, s -> null, new CompletableFuture<>());
    /** The lane of writes submitted without a key (they keep their order among themselves). */
    private static final Object NO_KEY = new Object();
    private static final java.util.Comparator<Write<?>> BY_ORDER_KEY =
            java.util.Comparator.comparing(Write::orderKey, java.util.Comparator.nullsFirst(String::compareTo));

    private final ConnectionSource source;
    private final int maxBatch;
    private final LongConsumer commitNanos;
    private final BlockingQueue<Write<?>> writes = new LinkedBlockingQueue<>();
    private final Object lifecycle = new Object();
    private final Thread thread;
    private Statements statements;          // writer thread only; null after a broken connection
    private volatile boolean closed;

    /**
     * @param first       the writer's first connection (already opened, so opening failures surface to the caller)
     * @param commitNanos told the duration of each group commit, for metrics
     */
    public GroupCommitWriter(String name, Connection first, ConnectionSource source, int maxBatch,
                             LongConsumer commitNanos) throws SQLException {
        this.source = source;
        this.maxBatch = maxBatch;
        this.commitNanos = commitNanos;
        first.setAutoCommit(false);
        this.statements = new Statements(first);
        this.thread = Thread.ofPlatform().name(name).daemon().start(this::writeLoop);
    }

    public <T> CompletableFuture<T> submit(Work<T> work) {
        return submit(null, work);
    }

    /**
     * Like {@link #submit(Work)}; within a batch, writes run sorted by {@code orderKey} (stable: writes with one
     * key keep their order), so writers of a shared database take row locks in one order and cannot deadlock.
     */
    public <T> CompletableFuture<T> submit(String orderKey, Work<T> work) {
        return submit(orderKey, 0, work);
    }

    /**
     * Like {@link #submit(String, Work)} for a write of about {@code weight} bytes: a large write may be left for a
     * later batch, behind smaller writes of other keys submitted after it (see the class comment).
     */
    public <T> CompletableFuture<T> submit(String orderKey, long weight, Work<T> work) {
        CompletableFuture<T> done = new CompletableFuture<>();
        synchronized (lifecycle) {      // a write is either queued ahead of STOP or refused, never stranded
            if (closed) {
                done.completeExceptionally(new StoreException("store is closed", null));
                return done;
            }
            writes.add(new Write<>(orderKey, weight, work, done));
        }
        return done;
    }

    public boolean isRunning() {
        return !closed && thread.isAlive();
    }

    private void writeLoop() {
        java.util.ArrayDeque<Write<?>> queued = new java.util.ArrayDeque<>();     // taken from the queue, not yet run
        List<Write<?>> batch = new ArrayList<>(maxBatch);
        boolean stopping = false;
        while (!stopping || !queued.isEmpty()) {
            try {
                if (queued.isEmpty()) {
                    queued.add(writes.take());
                }
                writes.drainTo(queued);
                stopping |= queued.remove(STOP);    // STOP is queued last: commit what came before it, then end
                nextBatch(queued, batch);
                if (!batch.isEmpty()) {
                    if (batch.size() > 1 && batch.get(0).orderKey() != null) {
                        batch.sort(BY_ORDER_KEY);
                    }
                    commitBatch(batch);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.ERROR, "store writer failed", t);
                for (Write<?> w : batch) {
                    w.done().completeExceptionally(t);
                }
            } finally {
                batch.clear();
            }
        }
    }

    /**
     * Moves the next batch out of {@code queued}, in order: every small write, large ones while the batch holds less
     * than {@link #BATCH_BYTES} (the first one whatever it weighs); a write left behind holds back its key's later
     * writes.
     */
    private void nextBatch(java.util.ArrayDeque<Write<?>> queued, List<Write<?>> batch) {
        long bytes = 0;
        java.util.Set<Object> heldBack = null;
        for (var it = queued.iterator(); it.hasNext() && batch.size() < maxBatch; ) {
            Write<?> w = it.next();
            Object key = w.orderKey() == null ? NO_KEY : w.orderKey();
            if (heldBack != null && heldBack.contains(key)) {
                continue;
            }
            if (w.weight() > SMALL_BYTES && bytes > 0 && bytes + w.weight() > BATCH_BYTES) {
                if (heldBack == null) {
                    heldBack = new java.util.HashSet<>();
                }
                heldBack.add(key);
                continue;
            }
            bytes += w.weight();
            batch.add(w);
            it.remove();
        }
    }

    private void commitBatch(List<Write<?>> batch) {
        long start = System.nanoTime();
        Object[] results = new Object[batch.size()];
        Throwable[] failures = new Throwable[batch.size()];
        boolean alone = batch.size() == 1;
        try {
            Statements s = statements();
            for (int i = 0; i < batch.size(); i++) {
                try {
                    results[i] = alone ? batch.get(i).work().apply(s) : applyInSavepoint(s, batch.get(i).work());
                } catch (SQLException | RuntimeException e) {
                    if (!alone && e instanceof SavepointFailure f) {
                        throw f.getCause();
                    }
                    failures[i] = asFailure(e);
                }
            }
            if (alone && failures[0] != null) {
                s.connection.rollback();
            } else {
                s.connection.commit();
            }
        } catch (SQLException e) {
            dropConnection();
            StoreException failure = new StoreException("commit failed: " + e.getMessage(), e);
            for (Write<?> w : batch) {
                w.done().completeExceptionally(failure);
            }
            return;
        }
        commitNanos.accept(System.nanoTime() - start);
        for (int i = 0; i < batch.size(); i++) {
            if (failures[i] == null) {
                batch.get(i).complete(results[i]);
            } else {
                batch.get(i).done().completeExceptionally(failures[i]);
            }
        }
    }

    /** The savepoint itself failed: the transaction is unusable, the whole batch fails. */
    private static final class SavepointFailure extends RuntimeException {
        SavepointFailure(SQLException cause) {
            super(cause);
        }

        @Override
        public synchronized SQLException getCause() {
            return (SQLException) super.getCause();
        }
    }

    /** Runs one write under a savepoint; a failure of the write is rolled back to it and rethrown. */
    private static <T> T applyInSavepoint(Statements s, Work<T> work) throws SQLException {
        try {
            s.execute("SAVEPOINT w");
        } catch (SQLException e) {
            throw new SavepointFailure(e);
        }
        try {
            T result = work.apply(s);
            s.execute("RELEASE SAVEPOINT w");
            return result;
        } catch (SQLException | RuntimeException e) {
            try {
                s.execute("ROLLBACK TO SAVEPOINT w");
                s.execute("RELEASE SAVEPOINT w");
            } catch (SQLException broken) {
                throw new SavepointFailure(broken);
            }
            throw e;
        }
    }

    /** What the writer reports for a failed write: SQL errors as StoreException, the rest as thrown. */
    private static Throwable asFailure(Exception e) {
        return e instanceof SQLException ? new StoreException(e.getMessage(), e) : e;
    }

    private Statements statements() throws SQLException {
        if (statements == null) {
            Connection c = source.open();
            c.setAutoCommit(false);
            statements = new Statements(c);
        }
        return statements;
    }

    /** After a failed commit: roll back, and give the connection up if it no longer answers. */
    private void dropConnection() {
        if (statements == null) {
            return;
        }
        try {
            statements.connection.rollback();
            if (statements.connection.isValid(2)) {
                return;
            }
        } catch (SQLException e) {
            LOG.log(System.Logger.Level.WARNING, "rollback failed; reconnecting", e);
        }
        statements.close();
        statements = null;
    }

    /** Finishes every queued write, then closes the connection. */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            writes.add(STOP);
        }
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (statements != null) {
            statements.close();
        }
    }
}
