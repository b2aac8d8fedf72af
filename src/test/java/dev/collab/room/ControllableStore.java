package dev.collab.room;

import dev.collab.store.Store;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** A real store whose writes a test can hold back (to observe "committed before told") or make fail. */
final class ControllableStore implements Store {
    private final Store delegate;
    private volatile boolean failWrites;
    private volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);

    ControllableStore(Store delegate) {
        this.delegate = delegate;
    }

    /** Writes submitted from now on wait until {@link #release}. */
    void hold() {
        gate = new CompletableFuture<>();
    }

    void release() {
        gate.complete(null);
    }

    /** Writes submitted from now on fail (as a full disk would) until called with false. */
    void failWrites(boolean fail) {
        failWrites = fail;
    }

    private <T> CompletableFuture<T> write(Supplier<CompletableFuture<T>> write) {
        if (failWrites) {
            return CompletableFuture.failedFuture(new StoreException("injected write failure", null));
        }
        return gate.thenCompose(ignored -> write.get());
    }

    @Override
    public DocumentHead head(String documentId) {
        return delegate.head(documentId);
    }

    @Override
    public List<StoredStep> stepsSince(String documentId, int fromVersion, int limit) {
        return delegate.stepsSince(documentId, fromVersion, limit);
    }

    @Override
    public Map<String, DocumentHead> heads(Collection<String> documentIds) {
        return delegate.heads(documentIds);
    }

    @Override
    public List<StoredUpdate> updates(String documentId) {
        return delegate.updates(documentId);
    }

    @Override
    public List<StoredUpdate> updatesAfter(String documentId, long afterSeq, int limit) {
        return delegate.updatesAfter(documentId, afterSeq, limit);
    }

    @Override
    public CompletableFuture<Void> appendSteps(String documentId, int firstVersion, List<String> stepsJson,
                                               String clientId) {
        return write(() -> delegate.appendSteps(documentId, firstVersion, stepsJson, clientId));
    }

    @Override
    public CompletableFuture<Long> appendUpdate(String documentId, byte[] update) {
        return write(() -> delegate.appendUpdate(documentId, update));
    }

    @Override
    public CompletableFuture<Void> compact(String documentId, long upToSeq, byte[] merged) {
        return write(() -> delegate.compact(documentId, upToSeq, merged));
    }

    @Override
    public Optional<DocumentInfo> document(String documentId) {
        return delegate.document(documentId);
    }

    @Override
    public List<DocumentInfo> documents(String prefix, String afterId, int limit) {
        return delegate.documents(prefix, afterId, limit);
    }

    @Override
    public List<String> untouchedSince(long cutoffMillis, int limit) {
        return delegate.untouchedSince(cutoffMillis, limit);
    }

    @Override
    public Optional<StoredSnapshot> snapshot(String documentId) {
        return delegate.snapshot(documentId);
    }

    @Override
    public CompletableFuture<Void> saveSnapshot(String documentId, int version, String docJson) {
        return write(() -> delegate.saveSnapshot(documentId, version, docJson));
    }

    @Override
    public CompletableFuture<Boolean> delete(String documentId) {
        return failWrites ? CompletableFuture.failedFuture(new StoreException("injected write failure", null))
                : gate.thenCompose(ignored -> delegate.delete(documentId));
    }

    @Override
    public boolean isHealthy() {
        return delegate.isHealthy();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
