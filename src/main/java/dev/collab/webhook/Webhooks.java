package dev.collab.webhook;

import dev.collab.room.DocumentEvents;
import dev.collab.room.Peer;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObjectBuilder;

import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Turns document events into webhook events: {@code document.changed} debounced per document (sent once no
 * change came for {@code debounceMillis}, but at the latest {@code maxWaitMillis} after the first change it
 * covers, so a document edited without pause still reports every 10 s; a document never gets two within
 * {@code debounceMillis}), and {@code document.deleted}, {@code connection.opened}, {@code connection.closed} at
 * once. Called from room owner tasks: every method only records and hands off to the {@link WebhookSender}.
 */
public final class Webhooks implements DocumentEvents {
    public static final long DEFAULT_MAX_WAIT_MILLIS = 10_000;

    private final WebhookSender sender;
    private final Scheduler scheduler;
    private final long debounceMillis;
    private final long maxWaitMillis;
    private final Map<String, Pending> pending = new HashMap<>();   // guarded by itself

    /** Changes of one document not reported yet. */
    private static final class Pending {
        final long firstMillis;
        long lastMillis;
        ChangeKind kind;
        long position;
        int changes;
        final Set<String> users = new LinkedHashSet<>();

        Pending(long now) {
            this.firstMillis = now;
        }
    }

    public Webhooks(WebhookSender sender, Scheduler scheduler, long debounceMillis, long maxWaitMillis) {
        this.sender = sender;
        this.scheduler = scheduler;
        this.debounceMillis = debounceMillis;
        this.maxWaitMillis = Math.max(maxWaitMillis, debounceMillis);
    }

    @Override
    public void changed(String documentId, ChangeKind kind, long position, String userId) {
        long now = scheduler.nowMillis();
        boolean first;
        synchronized (pending) {
            Pending p = pending.get(documentId);
            first = p == null;
            if (first) {
                p = new Pending(now);
                pending.put(documentId, p);
            }
            p.lastMillis = now;
            p.kind = kind;
            p.position = position;
            p.changes++;
            if (userId != null) {
                p.users.add(userId);
            }
        }
        if (first) {
            scheduler.schedule(debounceMillis, () -> flush(documentId));
        }
    }

    /** Sends the document's pending changes when they are due, else looks again when they will be. */
    private void flush(String documentId) {
        Pending due;
        synchronized (pending) {
            Pending p = pending.get(documentId);
            if (p == null) {
                return;
            }
            long at = Math.min(p.lastMillis + debounceMillis, p.firstMillis + maxWaitMillis);
            long now = scheduler.nowMillis();
            if (now < at) {
                scheduler.schedule(at - now, () -> flush(documentId));
                return;
            }
            due = pending.remove(documentId);
        }
        JsonArrayBuilder users = Json.createArrayBuilder();
        due.users.forEach(users::add);
        JsonObjectBuilder body = event("document.changed", documentId)
                .add("kind", due.kind == ChangeKind.YJS ? "yjs" : "steps")
                .add(due.kind == ChangeKind.YJS ? "updateSeq" : "version", due.position)
                .add("changes", due.changes)
                .add("users", users);
        sender.send("document.changed", body.build().toString());
    }

    @Override
    public void deleted(String documentId) {
        synchronized (pending) {
            pending.remove(documentId);     // changes of a deleted document are not reported after its deletion
        }
        sender.send("document.deleted", event("document.deleted", documentId).build().toString());
    }

    @Override
    public void joined(String documentId, Peer peer) {
        connection("connection.opened", documentId, peer);
    }

    @Override
    public void left(String documentId, Peer peer) {
        connection("connection.closed", documentId, peer);
    }

    private void connection(String event, String documentId, Peer peer) {
        JsonObjectBuilder body = event(event, documentId).add("protocol", peer.protocol())
                .add("clientId", peer.clientId());
        if (peer.userId() != null) {
            body.add("userId", peer.userId());
        } else {
            body.addNull("userId");
        }
        sender.send(event, body.build().toString());
    }

    private JsonObjectBuilder event(String event, String documentId) {
        return Json.createObjectBuilder().add("event", event).add("documentId", documentId)
                .add("timestamp", Instant.ofEpochMilli(scheduler.nowMillis()).toString());
    }
}
