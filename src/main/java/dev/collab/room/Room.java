package dev.collab.room;

import dev.collab.store.DocumentKind;
import dev.collab.store.Store;
import dev.collab.yjs.Lib0Reader;
import dev.collab.yjs.YUpdates;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One document's room: its peers, awareness, Yjs state and ProseMirror step head, whatever protocol the peers
 * speak. Every method hands its work to the room's single owner task, so the state below is touched by one
 * task at a time and needs no locks. Changes are committed to the store before anyone is told about them.
 * Blocking store reads (the load, a JSON catch-up) run on the pool, never inside the owner task, so a slow read
 * stalls nobody; what the room is asked meanwhile waits for the read in order.
 */
public final class Room {
    private static final System.Logger LOG = System.getLogger(Room.class.getName());

    /**
     * The result of a write, on every write path (Yjs updates, ProseMirror steps and snapshots): committed, a stale
     * steps version, or refused. Every refusal the room decides (not joined, read-only, wrong document kind, too
     * large, deleting, storage failure, the caller's own) is a {@link Refused}; only malformed input, a failed load
     * and unexpected failures fail the future.
     */
    public sealed interface WriteResult {
        /**
         * Committed: for an update, the sequence number the store assigned (the head's when the update changed
         * nothing and was not stored); for steps, the new version; for a snapshot, the version it was stored at.
         */
        record Committed(long position) implements WriteResult { }

        /** Steps only: {@code version} was stale; the submitter resyncs and rebases on {@code currentVersion}. */
        record Conflict(int currentVersion) implements WriteResult { }

        /** Refused: nothing was stored or relayed. {@code code} is the refusal's wire code or the caller's own. */
        record Refused(Refusal refusal, String code, String message) implements WriteResult {
            public Refused(Refusal refusal, String message) {
                this(refusal, refusal.code(), message);
            }
        }
    }

    /**
     * Why the room refused a join or a write; adapters decide on these (never on strings) and answer in their own
     * words, reporting {@link #code()} (the code the JSON protocol and the metrics carry).
     */
    public enum Refusal {
        NOT_JOINED("not-joined"),
        READ_ONLY("read-only"),
        /** A write of the other kind than the document's (a document's kind is fixed by its first write). */
        DOCUMENT_KIND("document-kind"),
        DOCUMENT_TOO_LARGE("document-too-large"),
        DOCUMENT_DELETING("document-deleting"),
        DOCUMENT_FULL("document-full"),
        INVALID_VERSION("invalid-version"),
        STORAGE_FAILURE("storage-failure"),
        /** Refused by the caller's own check inside a computed write; {@link WriteResult.Refused#code()} says which. */
        BY_CALLER("refused");

        private final String code;

        Refusal(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /**
     * The result of a join: {@link Joined}, or {@link JoinResult.Refused} (the document is full or being deleted);
     * a load that fails fails the future, as it fails every request waiting for it.
     */
    public sealed interface JoinResult permits Joined, JoinResult.Refused {
        /** Not joined: nothing of the room reaches the peer; the adapter answers in its own words. */
        record Refused(Refusal refusal, String message) implements JoinResult {
            /** The refusal's wire code. */
            public String code() {
                return refusal.code();
            }
        }
    }

    /** What a computed write's {@code build} makes of the document's state: the update to commit, or a refusal. */
    public sealed interface Computed {
        record Update(byte[] update) implements Computed { }

        /** The caller's own refusal ({@link Refusal#BY_CALLER}), with its own wire code; nothing changes. */
        record Refused(String code, String message) implements Computed { }
    }

    /** Joined: the committed steps version, and the room's connections with this one. */
    public record Joined(int version, int connections) implements JoinResult { }

    /** The failure behind a completed room future (unwrapping the CompletionException a dependent stage sees). */
    public static Throwable failureOf(Throwable error) {
        return error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
    }

    /** Counters readable from any thread (admin, health); written only by the owner. {@code kind} null = never written. */
    public record Stats(String documentId, int connections, int version, int storedUpdates, long storedUpdateBytes,
                        DocumentKind kind) { }

    /** The refusal code for a write of the wrong kind (the document is {@code kind}). */
    public static final String WRONG_KIND = Refusal.DOCUMENT_KIND.code();

    private final String documentId;
    private final Store store;
    private final RoomSettings settings;
    private final SerialExecutor owner;
    private final Executor reads;
    private final Executor merges;
    private final Function<List<byte[]>, byte[]> merger;
    private final Bus bus;
    private final DocumentEvents events;

    // ---- owned state: only touched inside owner tasks ----
    private final Set<Peer> peers = new LinkedHashSet<>();              // in join order
    private final AwarenessTable awareness = new AwarenessTable();
    private final ArrayDeque<WaitingForLoad> waitingForLoad = new ArrayDeque<>();
    private final Map<Peer, List<Object>> heldForCatchUp = new HashMap<>();   // events (and catch-ups) in order
    private boolean loaded;
    private boolean loading;
    private int loadGeneration;                                        // a delete makes a running load stale

    // ---- other nodes (see Bus): their commits arrive as hints, the store is the record ----
    private Bus.Subscription subscription;
    private final List<Bus.Event> heardWhileLoading = new ArrayList<>();
    private final java.util.TreeMap<Long, byte[]> updatesAhead = new java.util.TreeMap<>();  // past a gap, delivered
    private boolean fillingUpdates;
    private final StepAuthority authority = new StepAuthority();      // the ProseMirror version head
    private long lastCommittedSeq;
    private YjsState yjs;                                              // replaced by each load
    private final List<byte[]> inFlightUpdates = new ArrayList<>();   // accepted, commit pending (computed writes see them)
    private long appendingBytes;                                       // their bytes (admission counts them)
    private boolean deleting;                                          // joins and writes wait for the delete
    private DocumentKind kind;                                        // null until the first write is accepted

    // ---- shared with the registry and readers ----
    final AtomicInteger pins = new AtomicInteger();                   // connections holding the room
    final AtomicInteger inFlight = new AtomicInteger();               // store writes not yet completed
    /** Bytes of updates submitted by connections and not yet committed or refused. */
    private final AtomicLong writeBacklog = new AtomicLong();
    private final ReentrantLock backlogLock = new ReentrantLock();
    private final Condition backlogDrained = backlogLock.newCondition();
    static final long MAX_WRITE_BACKLOG = 4L << 20;
    private volatile Stats stats;
    private final java.util.function.LongSupplier nanoClock;

    /**
     * @param merges  where merges run (a small pool of platform threads shared by all rooms)
     * @param merger  merges a list of updates into one (YUpdates.merge with coalescing; tests hold it open)
     * @param nanoClock the time base of the room's delays (a failed merge's back-off); tests pass virtual time
     */
    Room(String documentId, Store store, RoomSettings settings, Executor pool, Executor merges,
         Function<List<byte[]>, byte[]> merger, DocumentEvents events, Bus bus,
         java.util.function.LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.bus = bus;
        this.merges = merges;
        this.merger = merger;
        this.documentId = documentId;
        this.events = events;
        this.store = store;
        this.settings = settings;
        this.owner = new SerialExecutor(pool);
        this.reads = pool;
        this.yjs = newYjsState();
        this.stats = new Stats(documentId, 0, 0, 0, 0, null);
    }

    public String documentId() {
        return documentId;
    }

    public Stats stats() {
        return stats;
    }

    // ---- membership ----------------------------------------------------------------------------------------

    /**
     * Adds the peer; {@code onJoined} runs inside the room before any later event reaches the peer, so a
     * greeting sent from it always comes first.
     */
    public CompletableFuture<JoinResult> join(Peer peer, java.util.function.Consumer<Joined> onJoined) {
        return call(() -> {
            if (peer.replacedBySameClientId()) {
                for (Peer other : List.copyOf(peers)) {
                    if (other.replacedBySameClientId() && other.clientId().equals(peer.clientId())) {
                        removePeer(other);
                        other.replaced();
                    }
                }
            }
            if (deleting) {
                return new JoinResult.Refused(Refusal.DOCUMENT_DELETING, "the document is being deleted; try again");
            }
            if (peers.size() >= settings.maxConnectionsPerDocument()) {
                return new JoinResult.Refused(Refusal.DOCUMENT_FULL, "the document already has "
                        + settings.maxConnectionsPerDocument() + " connections");
            }
            peers.add(peer);
            events.joined(documentId, peer);
            publishStats();
            Joined joined = new Joined(authority.head(), peers.size());
            onJoined.accept(joined);
            return joined;
        });
    }

    /** Removes the peer and broadcasts the removal of its awareness states; safe to call more than once. */
    public void leave(Peer peer) {
        // behind a join still waiting for the load, like every other request
        owner.execute(() -> whenLoaded(() -> {
            if (peers.contains(peer)) {
                removePeer(peer);
            }
        }, failure -> { }));
    }

    private void removePeer(Peer peer) {
        peers.remove(peer);
        events.left(documentId, peer);
        heldForCatchUp.remove(peer);
        List<AwarenessEntry> removed = awareness.removePeer(peer);
        if (!removed.isEmpty()) {
            broadcast(new RoomEvent.Awareness(removed, null));
            publish(new Bus.AwarenessChanged(bus.nodeId(), removed));
        }
        publishStats();
    }

    public CompletableFuture<List<String>> clientIds() {
        return call(() -> peers.stream().map(Peer::clientId).toList());
    }

    /** One member as the admin API lists it. */
    public record Client(String clientID, String protocol, String user, boolean readOnly, String address,
                         long connectedAt) { }

    public CompletableFuture<List<Client>> clients() {
        return call(() -> peers.stream().map(p -> new Client(p.clientId(), p.protocol(), p.userId(), !p.canWrite(),
                p.address(), p.connectedAt())).toList());
    }

    /** Disconnects every member, or only those of {@code userId}; completes with how many were told to go. */
    public CompletableFuture<Integer> disconnect(String userId, String reason) {
        return call(() -> {
            int closed = 0;
            for (Peer p : List.copyOf(peers)) {
                if (userId == null || userId.equals(p.userId())) {
                    p.disconnect(reason);
                    closed++;
                }
            }
            return closed;
        });
    }

    // ---- ProseMirror authority -----------------------------------------------------------------------------

    /**
     * Accepts steps when {@code version} equals the head: commits them, then sends them to every peer including
     * the submitter. A stale version is a conflict; the submitter resyncs and rebases.
     */
    public CompletableFuture<WriteResult> submitSteps(Peer peer, int version, List<String> steps) {
        CompletableFuture<WriteResult> outcome = new CompletableFuture<>();
        owner.execute(() -> whenLoaded(() -> judgeSteps(peer, version, steps, outcome),
                outcome::completeExceptionally));
        return outcome;
    }

    private void judgeSteps(Peer peer, int version, List<String> steps, CompletableFuture<WriteResult> outcome) {
        if (!peers.contains(peer)) {
            outcome.complete(new WriteResult.Refused(Refusal.NOT_JOINED, "this connection is not in the document's room"));
        } else if (!peer.canWrite()) {
            outcome.complete(new WriteResult.Refused(Refusal.READ_ONLY, "this connection may not change the document"));
        } else if (deleting) {
            outcome.complete(new WriteResult.Refused(Refusal.DOCUMENT_DELETING, "the document is being deleted"));
        } else if (kind == DocumentKind.YJS) {
            outcome.complete(new WriteResult.Refused(Refusal.DOCUMENT_KIND, wrongKindMessage(DocumentKind.STEPS)));
        } else {
            switch (authority.judge(version, steps.size())) {
                case INVALID -> outcome.complete(new WriteResult.Refused(Refusal.INVALID_VERSION,
                        "version " + version + " is outside 0.." + authority.head()));
                // a commit (or a read) is in flight: judge this submission against the version it produces
                case WAIT -> authority.await(() -> judgeSteps(peer, version, steps, outcome));
                case CONFLICT -> outcome.complete(new WriteResult.Conflict(authority.head()));  // resync and rebase
                case ACCEPT -> commitSteps(peer, version, steps, outcome);
            }
        }
    }

    /** Commits steps the authority accepted (its one commit in flight), then tells everyone. */
    private void commitSteps(Peer peer, int version, List<String> steps, CompletableFuture<WriteResult> outcome) {
        kind = DocumentKind.STEPS;
        String clientId = peer.clientId();
        inFlight.incrementAndGet();
        store.appendSteps(documentId, version, steps, clientId).whenComplete((ok, error) -> owner.executeQueued(() -> {
            inFlight.decrementAndGet();
            if (error != null && failureOf(error) instanceof Store.VersionTakenException) {
                // another node won this version: learn its steps, then this submitter rebases on them
                authority.commitFailed();
                fillSteps(outcome);
                return;
            } else if (error != null) {
                authority.commitFailed();
                forgetKindIfNothingStored();
                if (failureOf(error) instanceof Store.DocumentKindException wrongKind) {
                    kind = wrongKind.kind();        // written elsewhere since we loaded
                    outcome.complete(new WriteResult.Refused(Refusal.DOCUMENT_KIND, wrongKindMessage(DocumentKind.STEPS)));
                } else {
                    LOG.log(System.Logger.Level.ERROR, "room " + documentId + ": committing steps failed", error);
                    outcome.complete(new WriteResult.Refused(Refusal.STORAGE_FAILURE, "the steps could not be stored"));
                }
            } else {
                List<String> clientIds = Collections.nCopies(steps.size(), clientId);
                int head = authority.commitStored();
                publishStats();
                events.changed(documentId, DocumentEvents.ChangeKind.STEPS, head, peer.userId());
                broadcast(new RoomEvent.Steps(version, steps, clientIds));
                outcome.complete(new WriteResult.Committed(head));
                publish(new Bus.StepsCommitted(bus.nodeId(), version, steps, clientIds));
            }
            afterStepsSettled();
        }));
    }

    /** Applies steps heard from other nodes that now fit, then lets waiting submissions be judged. */
    private void afterStepsSettled() {
        RoomEvent.Steps fitting;
        while ((fitting = authority.nextFitting()) != null) {
            stepsApplied(fitting);
        }
        if (authority.gapAhead()) {
            fillSteps(null);      // what lies between is in the store
            return;
        }
        Runnable waiting;
        while ((waiting = authority.nextWaiting()) != null) {
            waiting.run();
        }
    }

    /** Steps committed elsewhere, now at this room's head too: they are told to every peer. */
    private void stepsApplied(RoomEvent.Steps steps) {
        kind = DocumentKind.STEPS;
        publishStats();
        broadcast(steps);
    }

    /**
     * Reads the steps after the head from the store (off the owner), applies them, then answers {@code conflict}
     * (a lost race for a version) with the new head, when given.
     */
    private void fillSteps(CompletableFuture<WriteResult> conflict) {
        int from = authority.startFill();
        if (from < 0) {         // already reading: the conflict is answered after that read
            if (conflict != null) {
                authority.await(() -> conflict.complete(new WriteResult.Conflict(authority.head())));
            }
            return;
        }
        CompletableFuture.supplyAsync(() -> readSteps(from, Integer.MAX_VALUE), reads)
                .whenComplete((read, error) -> owner.executeQueued(() -> {
                    if (error != null) {
                        LOG.log(System.Logger.Level.WARNING, "room " + documentId + ": reading steps failed", error);
                        authority.fillFailed();
                    } else {
                        authority.filled(read).forEach(this::stepsApplied);
                    }
                    if (conflict != null) {
                        conflict.complete(new WriteResult.Conflict(authority.head()));
                    }
                    if (error == null) {
                        afterStepsSettled();
                    }
                }));
    }

    // ---- Yjs -----------------------------------------------------------------------------------------------

    /**
     * Validates, commits and relays a Yjs update. The future completes after the commit (acknowledge then) with
     * {@link WriteResult.Committed}, or with {@link WriteResult.Refused} (refused updates go nowhere); it fails
     * with {@link Lib0Reader.MalformedException} for an update that is not valid Yjs.
     */
    public CompletableFuture<WriteResult> submitUpdate(Peer peer, byte[] update) {
        awaitWriteBacklog();
        CompletableFuture<WriteResult> done = new CompletableFuture<>();
        writeBacklog.addAndGet(update.length);
        done.whenComplete((ok, error) -> writeDone(update.length));
        owner.execute(() -> whenLoaded(() -> {
            if (!peers.contains(peer)) {
                done.complete(new WriteResult.Refused(Refusal.NOT_JOINED,
                        "this connection is not in the document's room"));
            } else if (!peer.canWrite()) {
                judgeReadOnlyUpdate(update, done);
            } else {
                commitUpdate(update, peer, peer.userId(), done);
            }
        }, done::completeExceptionally));
        return done;
    }

    /**
     * A write from outside any connection (a backend through the HTTP API, already authorized): validated,
     * committed and relayed to every peer exactly like a peer's update.
     */
    /**
     * A read-only peer's update is refused only when it would change the document: the sync step 2 a provider
     * sends after syncing holds nothing the room lacks, and is answered like any accepted no-op (so a read-only
     * Hocuspocus viewer is not left with "unsynced changes" for good). Nothing of it is stored or relayed.
     */
    private void judgeReadOnlyUpdate(byte[] update, CompletableFuture<WriteResult> done) {
        try {
            YUpdates.validate(update);
            if (YUpdates.isEmpty(update) || bringsNothingNew(update)) {
                done.complete(new WriteResult.Committed(lastCommittedSeq));
                return;
            }
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
            return;
        }
        done.complete(new WriteResult.Refused(Refusal.READ_ONLY, "this connection may not change the document"));
    }

    /**
     * Blocks a connection's reader while more than {@link #MAX_WRITE_BACKLOG} bytes of this room's updates wait to
     * be committed: a client pasting megabytes is then read no faster than the store commits them, so the store's
     * queue, which every document's writes share, stays short and a small edit elsewhere is not committed behind
     * 50 MiB of paste. Only virtual threads outside room tasks wait (the room itself never does), at most 30 s.
     */
    private void awaitWriteBacklog() {
        if (writeBacklog.get() <= MAX_WRITE_BACKLOG || !Thread.currentThread().isVirtual()
                || SerialExecutor.inRoomTask()) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        backlogLock.lock();
        try {
            long left;
            while (writeBacklog.get() > MAX_WRITE_BACKLOG && (left = deadline - System.nanoTime()) > 0) {
                backlogDrained.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            backlogLock.unlock();
        }
    }

    private void writeDone(int bytes) {
        if (writeBacklog.addAndGet(-bytes) <= MAX_WRITE_BACKLOG) {
            backlogLock.lock();
            try {
                backlogDrained.signalAll();
            } finally {
                backlogLock.unlock();
            }
        }
    }

    /** True when the room's state already holds every item and deletion of {@code update}. */
    private boolean bringsNothingNew(byte[] update) {
        byte[] state = yjs.snapshot().missing(null);
        Map<Long, Long> have = YUpdates.decodeStateVector(YUpdates.stateVector(state));
        for (Map.Entry<Long, Long> e : YUpdates.decodeStateVector(YUpdates.stateVector(update)).entrySet()) {
            if (e.getValue() > have.getOrDefault(e.getKey(), 0L)) {
                return false;       // items the room lacks: no need to merge to know
            }
        }
        // same items: new only if it deletes something (merging it in would change the state)
        return Arrays.equals(YUpdates.merge(List.of(state), true), YUpdates.merge(List.of(state, update), true));
    }

    public CompletableFuture<WriteResult> submitUpdate(byte[] update, String userId) {
        CompletableFuture<WriteResult> done = new CompletableFuture<>();
        owner.execute(() -> whenLoaded(() -> commitUpdate(update, null, userId, done), done::completeExceptionally));
        return done;
    }

    /**
     * A write computed by the server (seeding content over HTTP): {@code build} makes the update from the
     * document's state, committed and in flight, inside the room, so no write lands between reading and writing.
     * The update is then committed and relayed like {@link #submitUpdate(byte[], String)}. A {@link Computed.Refused}
     * from {@code build} becomes a {@link WriteResult.Refused} with its code ({@link Refusal#BY_CALLER}); anything
     * {@code build} throws fails the future; either way nothing changes.
     */
    public CompletableFuture<WriteResult> submitComputedUpdate(Function<byte[], Computed> build, String userId) {
        CompletableFuture<WriteResult> done = new CompletableFuture<>();
        owner.execute(() -> whenLoaded(() -> {
            Computed computed;
            try {
                byte[] committed = yjs.snapshot().missing(null);
                byte[] state = inFlightUpdates.isEmpty() ? committed : YUpdates.merge(concat(committed, inFlightUpdates));
                computed = build.apply(state);
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
                return;
            }
            switch (computed) {
                case Computed.Refused refused -> done.complete(
                        new WriteResult.Refused(Refusal.BY_CALLER, refused.code(), refused.message()));
                case Computed.Update update -> commitUpdate(update.update(), null, userId, done);
            }
        }, done::completeExceptionally));
        return done;
    }

    private static List<byte[]> concat(byte[] first, List<byte[]> rest) {
        List<byte[]> all = new ArrayList<>(rest.size() + 1);
        all.add(first);
        all.addAll(rest);
        return all;
    }

    /** Validates, commits, then relays to every peer but {@code origin} (null: to all); runs in the owner. */
    private void commitUpdate(byte[] update, Peer origin, String userId, CompletableFuture<WriteResult> done) {
        if (deleting) {
            done.complete(new WriteResult.Refused(Refusal.DOCUMENT_DELETING, "the document is being deleted"));
            return;
        }
        try {
            YUpdates.validate(update);
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
            return;
        }
        if (YUpdates.isEmpty(update)) {
            done.complete(new WriteResult.Committed(lastCommittedSeq));   // nothing to store or relay (clients send these on connect)
            return;
        }
        if (kind == DocumentKind.STEPS) {
            done.complete(new WriteResult.Refused(Refusal.DOCUMENT_KIND, wrongKindMessage(DocumentKind.YJS)));
            return;
        }
        if (!yjs.admits(appendingBytes + update.length)) {
            LOG.log(System.Logger.Level.INFO, "room {0}: refused an update of {1} bytes from {2}: the document"
                    + " holds {3} bytes, the maximum is {4}", documentId, String.valueOf(update.length),
                    origin == null ? "the document API" : origin.clientId(), String.valueOf(yjs.documentBytes()),
                    String.valueOf(yjs.maxDocumentBytes()));
            done.complete(new WriteResult.Refused(Refusal.DOCUMENT_TOO_LARGE, "the document would pass "
                    + yjs.maxDocumentBytes() + " bytes; the update was not stored"));
            return;
        }
        kind = DocumentKind.YJS;
        inFlight.incrementAndGet();
        inFlightUpdates.add(update);
        appendingBytes += update.length;
        store.appendUpdate(documentId, update).whenComplete((seq, error) -> owner.executeQueued(() -> {
            inFlight.decrementAndGet();
            inFlightUpdates.remove(update);
            appendingBytes -= update.length;
            if (error != null) {
                forgetKindIfNothingStored();
                if (failureOf(error) instanceof Store.DocumentKindException wrongKind) {
                    kind = wrongKind.kind();    // written elsewhere since we loaded
                    done.complete(new WriteResult.Refused(Refusal.DOCUMENT_KIND, wrongKindMessage(DocumentKind.YJS)));
                    return;
                }
                LOG.log(System.Logger.Level.ERROR, "room " + documentId + ": committing an update failed", error);
                done.complete(new WriteResult.Refused(Refusal.STORAGE_FAILURE, "the update could not be stored"));
                return;
            }
            events.changed(documentId, DocumentEvents.ChangeKind.YJS, seq, userId);
            acceptUpdate(seq, update, origin, false);
            done.complete(new WriteResult.Committed(seq));
            publish(new Bus.UpdateCommitted(bus.nodeId(), seq, update));
            maybeMerge();
        }));
    }

    /**
     * An update committed at {@code seq}, here or on another node: delivered to the peers at once (Yjs applies
     * updates in any order) and merged into the state in sequence order; one past a gap waits for the gap to be
     * read from the store. {@code delivered}: the peers already have it.
     */
    private void acceptUpdate(long seq, byte[] update, Peer origin, boolean delivered) {
        if (seq <= lastCommittedSeq || updatesAhead.containsKey(seq)) {
            return;         // heard twice (the bus, then the store)
        }
        if (!delivered) {
            broadcast(new RoomEvent.Update(update, origin));
        }
        if (seq != lastCommittedSeq + 1) {
            updatesAhead.put(seq, update);
            fillUpdates();
            return;
        }
        mergeCommitted(seq, update);
        while (!updatesAhead.isEmpty() && updatesAhead.firstKey() == lastCommittedSeq + 1) {
            var next = updatesAhead.pollFirstEntry();
            mergeCommitted(next.getKey(), next.getValue());
        }
    }

    private void mergeCommitted(long seq, byte[] update) {
        kind = DocumentKind.YJS;
        lastCommittedSeq = seq;
        yjs.committed(seq, update);
        publishStats();
    }

    /** Reads what the store has after the merged state (off the owner) and takes it in order. */
    private void fillUpdates() {
        if (fillingUpdates) {
            return;
        }
        fillingUpdates = true;
        long after = lastCommittedSeq;
        CompletableFuture.supplyAsync(() -> store.updatesAfter(documentId, after, 10_000), reads)
                .whenComplete((rows, error) -> owner.executeQueued(() -> {
                    fillingUpdates = false;
                    if (error != null) {
                        LOG.log(System.Logger.Level.WARNING, "room " + documentId + ": reading updates failed", error);
                        return;
                    }
                    for (Store.StoredUpdate row : rows) {
                        if (row.seq() <= lastCommittedSeq) {
                            continue;
                        }
                        // a stored row may be a merge covering several seqs: it is complete up to its seq
                        boolean delivered = updatesAhead.containsKey(row.seq());
                        var covered = updatesAhead.headMap(row.seq(), true);
                        if (!delivered) {
                            broadcast(new RoomEvent.Update(row.data(), null));
                        }
                        covered.clear();
                        mergeCommitted(row.seq(), row.data());
                    }
                    while (!updatesAhead.isEmpty() && updatesAhead.firstKey() == lastCommittedSeq + 1) {
                        var next = updatesAhead.pollFirstEntry();
                        mergeCommitted(next.getKey(), next.getValue());
                    }
                    if (!updatesAhead.isEmpty() && !rows.isEmpty()) {
                        fillUpdates();
                    }
                    maybeMerge();
                }));
    }

    // ---- other nodes ---------------------------------------------------------------------------------------

    private void publish(Bus.Event event) {
        if (bus.enabled()) {
            bus.publish(documentId, event);
        }
    }

    /** An event from another node, on the owner; before the load completes it waits for it. */
    private void onRemote(Bus.Event event) {
        if (event.node().equals(bus.nodeId())) {
            return;
        }
        if (!loaded) {
            heardWhileLoading.add(event);
            return;
        }
        switch (event) {
            case Bus.UpdateCommitted u -> {
                acceptUpdate(u.seq(), u.update(), null, false);
                maybeMerge();
            }
            case Bus.StepsCommitted s -> {
                if (authority.heard(new RoomEvent.Steps(s.version(), s.steps(), s.clientIds()))) {
                    afterStepsSettled();
                }
            }
            case Bus.AwarenessChanged a -> applyRemoteAwareness(a.node(), a.entries());
            case Bus.MessageSent m -> {
                RoomEvent.Message message = new RoomEvent.Message(m.messageType(), m.payloadJson(),
                        m.payloadText(), m.fromClientId(), null);
                for (Peer p : peers) {
                    if (p.receivesMessages() && (m.toClientId() == null || m.toClientId().equals(p.clientId()))) {
                        deliver(p, message);
                    }
                }
            }
            case Bus.Heartbeat h -> { }
        }
    }

    /** Compares the room with the store's head (the periodic check that finds what the bus lost). */
    void checkHead(Store.DocumentHead head) {
        owner.executeQueued(() -> {
            if (!loaded) {
                return;
            }
            if (head.lastUpdateSeq() > lastCommittedSeq) {
                fillUpdates();
            }
            if (authority.behind(head.stepVersion())) {
                fillSteps(null);
            }
        });
    }

    private void applyRemoteAwareness(String node, List<AwarenessEntry> entries) {
        List<AwarenessEntry> applied = awareness.applyRemote(node, entries);
        if (!applied.isEmpty()) {
            broadcast(new RoomEvent.Awareness(applied, null));
        }
    }

    /** A node stopped beating: the awareness states of its connections go. */
    void nodeGone(String node) {
        owner.executeQueued(() -> {
            List<AwarenessEntry> removed = awareness.nodeGone(node);
            if (!removed.isEmpty()) {
                broadcast(new RoomEvent.Awareness(removed, null));
            }
        });
    }

    /** Stops hearing other nodes (the room is being dropped from memory). */
    void unsubscribe() {
        owner.executeQueued(() -> {
            if (subscription != null) {
                subscription.close();
                subscription = null;
            }
        });
    }


    /** Sends {@code peer} the room's state vector (the server's sync step 1). */
    public void sendStateVector(Peer peer) {
        run(peer, () -> deliver(peer, new RoomEvent.SyncStep1(yjs.stateVector())));
    }

    /** Answers a client's sync step 1: what its state vector lacks (sync step 2), computed by the adapter. */
    public void answerSyncStep1(Peer peer, byte[] clientStateVector) {
        run(peer, () -> deliver(peer, new RoomEvent.SyncStep2(yjs.snapshot(), clientStateVector)));
    }

    /** The merged stored state, or what {@code stateVector} lacks; for HTTP readers. Merged off the room. */
    public CompletableFuture<byte[]> yjsState(byte[] stateVector) {
        return call(() -> yjs.snapshot()).thenApplyAsync(snapshot -> snapshot.missing(stateVector), merges);
    }

    /**
     * Starts the merge the policy says is due (YjsState): its inputs are immutable, it runs on the merge pool while
     * the room goes on, and its result is swapped in and stored over the rows it covers (updates committed
     * meanwhile stay after it). Adjacent items are coalesced (YUpdates.compact): a text typed one character per
     * update is stored and sent as one item per run, which a late joiner applies in a fraction of the time.
     */
    private void maybeMerge() {
        YjsState state = yjs;
        YjsState.MergeJob job = state.startMerge();
        if (job == null) {
            return;
        }
        inFlight.incrementAndGet();
        CompletableFuture.supplyAsync(() -> merger.apply(job.inputs()), merges)
                .whenComplete((merged, error) -> owner.executeQueued(() -> {
                    if (state != yjs) {
                        inFlight.decrementAndGet();     // the document was deleted meanwhile
                        return;
                    }
                    if (error != null) {
                        mergeFailed(job, "merging", error);
                        return;
                    }
                    state.merged(job, merged);
                    store.compact(documentId, job.upToSeq(), merged).whenComplete((ok, storeError) ->
                            owner.executeQueued(() -> {
                                if (state != yjs) {
                                    inFlight.decrementAndGet();
                                    return;
                                }
                                if (storeError != null) {
                                    mergeFailed(job, "storing the merged log", storeError);
                                    return;
                                }
                                inFlight.decrementAndGet();
                                state.stored(job, merged);
                                publishStats();
                                maybeMerge();   // updates committed meanwhile may already make the next one due
                            }));
                }));
    }

    private void mergeFailed(YjsState.MergeJob job, String what, Throwable error) {
        inFlight.decrementAndGet();
        if (yjs.failed(job)) {
            LOG.log(System.Logger.Level.WARNING, "compaction of " + documentId + " failed while " + what
                    + "; the log is kept and compaction retried later", error);
        } else {
            LOG.log(System.Logger.Level.DEBUG, "compaction of " + documentId + " failed again: " + error);
        }
    }

    private YjsState newYjsState() {
        return new YjsState(settings.compactionUpdates(), settings.compactionBytes(), settings.maxDocumentBytes(),
                nanoClock);
    }

    // ---- ProseMirror snapshots -----------------------------------------------------------------------------

    /**
     * Stores a client's ProseMirror document at {@code version} (at most the committed version) so readers need
     * only the steps after it; the store keeps the newest. Completes with {@link WriteResult.Committed} (the version)
     * or {@link WriteResult.Refused} (not joined, read-only, a version not committed, storage failure).
     */
    public CompletableFuture<WriteResult> saveSnapshot(Peer peer, int version, String docJson) {
        CompletableFuture<WriteResult> done = new CompletableFuture<>();
        owner.execute(() -> whenLoaded(() -> {
            if (!peers.contains(peer)) {
                done.complete(new WriteResult.Refused(Refusal.NOT_JOINED, "this connection is not in the document's room"));
                return;
            }
            if (!peer.canWrite()) {
                done.complete(new WriteResult.Refused(Refusal.READ_ONLY, "this connection may not change the document"));
                return;
            }
            if (!authority.hasReached(version)) {
                done.complete(new WriteResult.Refused(Refusal.INVALID_VERSION,
                        "a snapshot's version must be between 0 and " + authority.head()));
                return;
            }
            inFlight.incrementAndGet();
            store.saveSnapshot(documentId, version, docJson).whenComplete((ok, error) -> owner.executeQueued(() -> {
                inFlight.decrementAndGet();
                if (error != null) {
                    LOG.log(System.Logger.Level.ERROR, "room " + documentId + ": storing a snapshot failed", error);
                    done.complete(new WriteResult.Refused(Refusal.STORAGE_FAILURE, "the snapshot could not be stored"));
                } else {
                    done.complete(new WriteResult.Committed(version));
                }
            }));
        }, done::completeExceptionally));
        return done;
    }

    // ---- deletion ------------------------------------------------------------------------------------------

    /**
     * Deletes the document: every peer is told and removed, then the stored history is deleted (after every
     * write already queued); afterwards the room is an empty document. Joins and writes in between are refused.
     * Completes with whether the document was stored.
     */
    public CompletableFuture<Boolean> delete() {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        owner.execute(() -> {
            deleting = true;
            for (Peer p : List.copyOf(peers)) {
                peers.remove(p);
                events.left(documentId, p);
                p.documentDeleted();
            }
            awareness.clearLocal();
            publishStats();
            inFlight.incrementAndGet();
            store.delete(documentId).whenComplete((existed, error) -> owner.executeQueued(() -> {
                inFlight.decrementAndGet();
                deleting = false;
                if (error != null) {
                    LOG.log(System.Logger.Level.ERROR, "room " + documentId + ": deleting failed", error);
                    done.completeExceptionally(error);
                    return;
                }
                loaded = false;                  // the next use loads the (now empty) document afresh
                loadGeneration++;
                kind = null;                     // a deleted id may become a document of either kind
                updatesAhead.clear();
                authority.reset();
                yjs = newYjsState();
                publishStats();
                if (existed) {
                    events.deleted(documentId);
                }
                done.complete(existed);
            }));
        });
        return done;
    }

    // ---- JSON catch-up -------------------------------------------------------------------------------------

    /**
     * Sends {@code peer} everything it lacks, in order: steps after {@code sinceVersion} (when given and behind),
     * the Yjs state it lacks (skipped when empty), the awareness states, then {@link RoomEvent.Synced}.
     */
    public void catchUp(Peer peer, Integer sinceVersion, byte[] stateVector) {
        run(peer, () -> startCatchUp(peer, sinceVersion, stateVector));
    }

    private void startCatchUp(Peer peer, Integer sinceVersion, byte[] stateVector) {
        if (heldForCatchUp.containsKey(peer)) {
            // a catch-up is reading for this peer: this one follows it, in order
            heldForCatchUp.get(peer).add((Runnable) () -> startCatchUp(peer, sinceVersion, stateVector));
            return;
        }
        if (sinceVersion == null || sinceVersion >= authority.head()) {
            finishCatchUp(peer, stateVector);
            return;
        }
        int target = authority.head();
        // events for the peer wait behind the steps being read, so it sees every version in order
        heldForCatchUp.put(peer, new ArrayList<>());
        CompletableFuture.supplyAsync(() -> readSteps(sinceVersion, target), reads)
                .whenComplete((steps, error) -> owner.executeQueued(() -> {
                    List<Object> held = heldForCatchUp.remove(peer);
                    if (held == null) {
                        return;     // the peer left meanwhile
                    }
                    if (error != null) {
                        LOG.log(System.Logger.Level.ERROR, "room " + documentId + ": reading steps for a catch-up"
                                + " failed", error);
                    } else {
                        steps.forEach(peer::deliver);
                    }
                    for (int i = 0; i < held.size(); i++) {
                        if (held.get(i) instanceof RoomEvent event) {
                            peer.deliver(event);
                        } else {
                            ((Runnable) held.get(i)).run();
                            List<Object> again = heldForCatchUp.get(peer);
                            if (again != null) {
                                again.addAll(held.subList(i + 1, held.size()));
                                return;
                            }
                        }
                    }
                    if (error == null) {
                        finishCatchUp(peer, stateVector);
                    }
                }));
    }

    /** Steps {@code from..to-1} from the store, in batches; runs on the pool. */
    private List<RoomEvent.Steps> readSteps(int from, int to) {
        List<RoomEvent.Steps> out = new ArrayList<>();
        while (from < to) {
            List<Store.StoredStep> batch = store.stepsSince(documentId, from, Math.min(settings.stepsBatch(), to - from));
            if (batch.isEmpty()) {
                break;
            }
            out.add(new RoomEvent.Steps(from, batch.stream().map(Store.StoredStep::stepJson).toList(),
                    batch.stream().map(Store.StoredStep::clientId).toList()));
            from += batch.size();
        }
        return out;
    }

    private void finishCatchUp(Peer peer, byte[] stateVector) {
        YjsSnapshot snapshot = yjs.snapshot();
        if (snapshot != YjsSnapshot.EMPTY) {
            peer.deliver(new RoomEvent.SyncStep2(snapshot, stateVector));     // the adapter skips empty parts
        }
        sendAwarenessSnapshot(peer);
        peer.deliver(new RoomEvent.Synced(authority.head()));
    }

    // ---- awareness -----------------------------------------------------------------------------------------

    /** Sends {@code peer} every current awareness state, if there are any. */
    public void sendAwareness(Peer peer) {
        run(peer, () -> sendAwarenessSnapshot(peer));
    }

    private void sendAwarenessSnapshot(Peer peer) {
        List<AwarenessEntry> all = awareness.snapshot();
        if (!all.isEmpty()) {
            deliver(peer, new RoomEvent.Awareness(all, null));
        }
    }

    /**
     * Applies awareness entries from a Yjs peer with y-protocols' rule (newer clock wins; an equal clock wins
     * only to remove), records which ids the peer controls, and broadcasts the entries that applied.
     */
    public void updateAwareness(Peer peer, List<AwarenessEntry> entries) {
        run(peer, () -> {
            List<AwarenessEntry> applied = awareness.applyLocal(peer, entries);
            if (!applied.isEmpty()) {
                broadcast(new RoomEvent.Awareness(applied, peer));
                publish(new Bus.AwarenessChanged(bus.nodeId(), applied));
            } else {
                // a no-op: y-websocket clients count the echo of their own state as traffic, so the sender gets it
                // back; nobody else needs it (the providers re-send every state they see, and relaying those
                // echoes would hand a client's own state back to it)
                deliver(peer, new RoomEvent.Awareness(entries, peer));
            }
        });
    }

    /**
     * Sets (or with "null" clears) the awareness state {@code awarenessId}, held by {@code peer}, whatever clock the
     * room holds for it, for clients that keep no Yjs clocks of their own: the adapter chooses the id and the clock
     * ({@code nextClock} of the current one, 0 when there is none) and {@code owner} names the client in the entry
     * ({@link AwarenessEntry#ownerClientId}). The entry is broadcast like any applied change.
     */
    public void setAwareness(Peer peer, long awarenessId, java.util.function.LongUnaryOperator nextClock,
                             String stateJson, String owner) {
        run(peer, () -> {
            AwarenessEntry next = awareness.set(peer, awarenessId, nextClock, stateJson, owner);
            broadcast(new RoomEvent.Awareness(List.of(next), peer));
            publish(new Bus.AwarenessChanged(bus.nodeId(), List.of(next)));
        });
    }

    // ---- application messages ------------------------------------------------------------------------------

    /**
     * Delivers a message to the room's peers, or only to peers with client id {@code toClientId}; the sender
     * ({@code origin}, null for the server) and peers whose protocol has no application messages are skipped.
     * Completes with the number of peers it was handed to.
     */
    public CompletableFuture<Integer> sendMessage(RoomEvent.Message message, String toClientId) {
        return call(() -> {
            int delivered = 0;
            for (Peer p : peers) {
                if (p != message.origin() && p.receivesMessages()
                        && (toClientId == null || toClientId.equals(p.clientId()))) {
                    deliver(p, message);
                    delivered++;
                }
            }
            publish(new Bus.MessageSent(bus.nodeId(), message.messageType(), message.payloadJson(),
                    message.payloadText(), message.fromClientId(), toClientId));
            return delivered;
        });
    }

    // ---- internals -----------------------------------------------------------------------------------------

    private void broadcast(RoomEvent event) {
        for (Peer p : peers) {
            deliver(p, event);
        }
    }

    private String wrongKindMessage(DocumentKind refused) {
        return "document " + documentId + " is a " + kind.wire() + " document; " + refused.wire()
                + " writes are refused (open it in " + kind.wire() + " mode)";
    }

    /** A first write that failed to commit fixes nothing: the next write of either kind may still be first. */
    private void forgetKindIfNothingStored() {
        if (inFlight.get() == 0 && authority.head() == 0 && yjs.storedRows() == 0) {
            kind = null;
        }
    }

    private void deliver(Peer peer, RoomEvent event) {
        List<Object> held = heldForCatchUp.isEmpty() ? null : heldForCatchUp.get(peer);
        if (held != null) {
            held.add(event);
        } else {
            peer.deliver(event);
        }
    }

    private record WaitingForLoad(Runnable task, java.util.function.Consumer<RuntimeException> failed) { }

    /**
     * Runs {@code task} now when the room is loaded; otherwise after the load, which reads the store on the pool
     * (started by the first request). Requests keep their order. A failed load fails every waiting request and
     * the next request tries again.
     */
    private void whenLoaded(Runnable task, java.util.function.Consumer<RuntimeException> failed) {
        if (loaded) {
            task.run();
            return;
        }
        waitingForLoad.add(new WaitingForLoad(task, failed));
        if (!loading) {
            startLoad();
        }
    }

    private void startLoad() {
        loading = true;
        if (bus.enabled() && subscription == null) {
            // subscribe first, then load: what is committed meanwhile is heard, and dropped if the load has it
            subscription = bus.subscribe(documentId, event -> owner.executeQueued(() -> onRemote(event)));
        }
        int generation = loadGeneration;
        CompletableFuture.supplyAsync(this::readStored, reads).whenComplete((stored, error) -> owner.executeQueued(() -> {
            loading = false;
            if (generation != loadGeneration) {
                startLoad();        // the document was deleted while this read ran: read it again
                return;
            }
            List<WaitingForLoad> waiting = List.copyOf(waitingForLoad);
            waitingForLoad.clear();
            if (error != null) {
                Throwable cause = failureOf(error);
                RuntimeException failure = cause instanceof RuntimeException r ? r
                        : new Store.StoreException("loading " + documentId + " failed", cause);
                LOG.log(System.Logger.Level.ERROR, "room " + documentId + ": loading failed", failure);
                heardWhileLoading.clear();
                waiting.forEach(w -> w.failed().accept(failure));
                return;
            }
            applyStored(stored);
            List<Bus.Event> heard = List.copyOf(heardWhileLoading);
            heardWhileLoading.clear();
            heard.forEach(this::onRemote);
            for (WaitingForLoad w : waiting) {
                try {
                    w.task().run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "room task failed", e);
                }
            }
        }));
    }

    private record Stored(Store.DocumentHead head, YjsState yjs, long lastSeq) { }

    /** Rows read from the store at a time while loading (a large log is never held as one list). */
    private static final int LOAD_PAGE = 64;

    /**
     * Runs on the pool: the document's head, and its update log read page by page into a fresh YjsState (which the
     * owner takes over; nothing is merged here, the policy decides that).
     */
    private Stored readStored() {
        Store.DocumentHead head = store.head(documentId);
        YjsState state = newYjsState();
        long after = 0;
        while (true) {
            List<Store.StoredUpdate> page = store.updatesAfter(documentId, after, LOAD_PAGE);
            for (Store.StoredUpdate row : page) {
                state.load(row.seq(), row.data());
                after = row.seq();
            }
            if (page.size() < LOAD_PAGE) {
                return new Stored(head, state, Math.max(after, head.lastUpdateSeq()));
            }
        }
    }

    private void applyStored(Stored stored) {
        Store.DocumentHead head = stored.head();
        kind = head.kind();
        authority.load(head.stepVersion());
        lastCommittedSeq = stored.lastSeq();
        yjs = stored.yjs();
        loaded = true;
        publishStats();
        maybeMerge();
    }

    private void publishStats() {
        stats = new Stats(documentId, peers.size(), authority.head(), yjs.storedRows(), yjs.storedBytes(), kind);
    }

    /** Runs a task for a member; requests from connections that are not (or no longer) members are ignored. */
    private void run(Peer peer, Runnable task) {
        owner.execute(() -> whenLoaded(() -> {
            if (peers.contains(peer)) {
                task.run();
            }
        }, failure -> { }));
    }

    private <T> CompletableFuture<T> call(Supplier<T> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        owner.execute(() -> whenLoaded(() -> {
            try {
                result.complete(task.get());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        }, result::completeExceptionally));
        return result;
    }
}
