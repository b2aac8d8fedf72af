package dev.collab.store;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * A store in memory: the reference implementation of the contract, for tests and for trying the server without a
 * file. One lock orders every write, so a write's effect is visible when its future completes. Nothing survives
 * the process; "reopening" a MemoryStore means handing the same instance on.
 */
public final class MemoryStore implements Store {
    private static final class Document {
        final NavigableMap<Long, byte[]> updates = new TreeMap<>();
        final NavigableMap<Integer, StoredStep> steps = new TreeMap<>();
        long lastSeq;
        long createdAt = System.currentTimeMillis();
        long updatedAt = createdAt;
        StoredSnapshot snapshot;
        DocumentKind kind;          // fixed by the first write

        void touched() {
            updatedAt = System.currentTimeMillis();
        }
    }

    private final Map<String, Document> documents = new java.util.TreeMap<>();     // in id order, for listings
    private boolean closed;

    private Document documentFor(String id) {
        return documents.computeIfAbsent(id, k -> new Document());
    }

    @Override
    public synchronized DocumentHead head(String documentId) {
        Document d = documents.get(documentId);
        if (d == null) {
            return DocumentHead.EMPTY;
        }
        long bytes = 0;
        for (byte[] u : d.updates.values()) {
            bytes += u.length;
        }
        int version = d.steps.isEmpty() ? 0 : d.steps.lastKey() + 1;
        long last = d.updates.isEmpty() ? 0 : d.updates.lastKey();
        return new DocumentHead(version, last, d.updates.size(), bytes, d.kind);
    }

    @Override
    public synchronized Map<String, DocumentHead> heads(Collection<String> documentIds) {
        Map<String, DocumentHead> out = new LinkedHashMap<>();
        for (String id : documentIds) {
            out.put(id, head(id));
        }
        return out;
    }

    private static DocumentInfo info(String id, Document d) {
        long bytes = 0;
        for (byte[] u : d.updates.values()) {
            bytes += u.length;
        }
        for (StoredStep step : d.steps.values()) {
            bytes += step.stepJson().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        }
        int version = d.steps.isEmpty() ? 0 : d.steps.lastKey() + 1;
        return new DocumentInfo(id, d.createdAt, d.updatedAt, version, d.updates.size(), bytes, d.kind);
    }

    @Override
    public synchronized java.util.Optional<DocumentInfo> document(String documentId) {
        Document d = documents.get(documentId);
        return d == null ? java.util.Optional.empty() : java.util.Optional.of(info(documentId, d));
    }

    @Override
    public synchronized List<DocumentInfo> documents(String prefix, String afterId, int limit) {
        return documents.entrySet().stream()
                .filter(e -> e.getKey().startsWith(prefix) && (afterId == null || e.getKey().compareTo(afterId) > 0))
                .limit(limit).map(e -> info(e.getKey(), e.getValue())).toList();
    }

    @Override
    public synchronized List<String> untouchedSince(long cutoffMillis, int limit) {
        return documents.entrySet().stream().filter(e -> e.getValue().updatedAt < cutoffMillis)
                .sorted(java.util.Comparator.comparingLong(e -> e.getValue().updatedAt))
                .limit(limit).map(Map.Entry::getKey).toList();
    }

    @Override
    public synchronized java.util.Optional<StoredSnapshot> snapshot(String documentId) {
        Document d = documents.get(documentId);
        return d == null ? java.util.Optional.empty() : java.util.Optional.ofNullable(d.snapshot);
    }

    @Override
    public synchronized CompletableFuture<Void> saveSnapshot(String documentId, int version, String docJson) {
        if (closed) {
            return CompletableFuture.failedFuture(new StoreException("store is closed", null));
        }
        Document d = documentFor(documentId);
        if (d.snapshot == null || version >= d.snapshot.version()) {
            d.snapshot = new StoredSnapshot(version, docJson);
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public synchronized CompletableFuture<Boolean> delete(String documentId) {
        if (closed) {
            return CompletableFuture.failedFuture(new StoreException("store is closed", null));
        }
        return CompletableFuture.completedFuture(documents.remove(documentId) != null);
    }

    @Override
    public synchronized List<StoredStep> stepsSince(String documentId, int fromVersion, int limit) {
        Document d = documents.get(documentId);
        if (d == null) {
            return List.of();
        }
        return d.steps.tailMap(fromVersion, true).values().stream().limit(limit).toList();
    }

    @Override
    public List<StoredUpdate> updates(String documentId) {
        return updatesAfter(documentId, Long.MIN_VALUE, Integer.MAX_VALUE);
    }

    @Override
    public synchronized List<StoredUpdate> updatesAfter(String documentId, long afterSeq, int limit) {
        Document d = documents.get(documentId);
        if (d == null) {
            return List.of();
        }
        List<StoredUpdate> out = new ArrayList<>();
        for (Map.Entry<Long, byte[]> e : d.updates.tailMap(afterSeq, false).entrySet()) {
            if (out.size() == limit) {
                break;
            }
            out.add(new StoredUpdate(e.getKey(), e.getValue().clone()));
        }
        return out;
    }

    @Override
    public synchronized CompletableFuture<Void> appendSteps(String documentId, int firstVersion,
                                                            List<String> stepsJson, String clientId) {
        if (closed) {
            return CompletableFuture.failedFuture(new StoreException("store is closed", null));
        }
        Document d = documentFor(documentId);
        if (d.kind == DocumentKind.YJS) {
            return CompletableFuture.failedFuture(new DocumentKindException(documentId, d.kind));
        }
        for (int i = 0; i < stepsJson.size(); i++) {
            if (d.steps.containsKey(firstVersion + i)) {
                return CompletableFuture.failedFuture(new VersionTakenException(documentId, firstVersion));
            }
        }
        for (int i = 0; i < stepsJson.size(); i++) {
            d.steps.put(firstVersion + i, new StoredStep(firstVersion + i, stepsJson.get(i), clientId));
        }
        d.kind = DocumentKind.STEPS;
        d.touched();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public synchronized CompletableFuture<Long> appendUpdate(String documentId, byte[] update) {
        if (closed) {
            return CompletableFuture.failedFuture(new StoreException("store is closed", null));
        }
        Document d = documentFor(documentId);
        if (d.kind == DocumentKind.STEPS) {
            return CompletableFuture.failedFuture(new DocumentKindException(documentId, d.kind));
        }
        d.kind = DocumentKind.YJS;
        long seq = Math.max(d.lastSeq, d.updates.isEmpty() ? 0 : d.updates.lastKey()) + 1;
        d.lastSeq = seq;
        d.touched();
        d.updates.put(seq, update.clone());
        return CompletableFuture.completedFuture(seq);
    }

    @Override
    public synchronized CompletableFuture<Void> compact(String documentId, long upToSeq, byte[] merged) {
        if (closed) {
            return CompletableFuture.failedFuture(new StoreException("store is closed", null));
        }
        Document d = documentFor(documentId);
        d.updates.headMap(upToSeq, true).clear();
        d.updates.put(upToSeq, merged.clone());
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public synchronized boolean isHealthy() {
        return !closed;
    }

    /** Refuses later writes; the data stays readable (so a test can "reopen" by using the instance again). */
    @Override
    public synchronized void close() {
        closed = true;
    }

    /** The same data, accepting writes again: what reopening a durable store gives. */
    public synchronized MemoryStore reopen() {
        closed = false;
        return this;
    }
}
