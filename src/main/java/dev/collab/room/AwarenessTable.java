package dev.collab.room;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongUnaryOperator;
import java.util.function.Predicate;

/**
 * A room's awareness states by Yjs clientID, and who holds each: a peer of this room or another node. Every
 * method returns the entries to broadcast; the room does the sending. Single-threaded: only the room's owner
 * touches it.
 */
final class AwarenessTable {
    private final Map<Long, AwarenessEntry> entries = new HashMap<>();
    private final Map<Long, Peer> peers = new HashMap<>();         // awareness id -> the peer holding it here
    private final Map<Long, String> nodes = new HashMap<>();       // awareness id -> the node holding it

    /** Every current state, for a joiner; empty when there are none. */
    List<AwarenessEntry> snapshot() {
        return entries.isEmpty() ? List.of() : List.copyOf(entries.values());
    }

    /** The current state of {@code awarenessId}, or null. */
    AwarenessEntry get(long awarenessId) {
        return entries.get(awarenessId);
    }

    /**
     * Entries from a Yjs peer, with y-protocols' rule (a newer clock wins; an equal clock wins only to remove a
     * state there is); the peer holds what it set. Returns the entries that applied, each as applied.
     */
    List<AwarenessEntry> applyLocal(Peer peer, List<AwarenessEntry> changes) {
        return apply(changes, peers, peer, nodes);
    }

    /**
     * Sets (or with "null" clears) {@code awarenessId} for a client that keeps no Yjs clocks: whatever clock the
     * table holds, the new one is {@code nextClock} of it (of 0 when there is none). Returns the entry set.
     */
    AwarenessEntry set(Peer peer, long awarenessId, LongUnaryOperator nextClock, String stateJson, String owner) {
        AwarenessEntry current = entries.get(awarenessId);
        long clock = nextClock.applyAsLong(current == null ? 0 : current.clock());
        AwarenessEntry next = new AwarenessEntry(awarenessId, clock, stateJson, owner);
        if (next.removed()) {
            entries.remove(awarenessId);
            peers.remove(awarenessId);
        } else {
            entries.put(awarenessId, next);
            peers.put(awarenessId, peer);
        }
        nodes.remove(awarenessId);      // held here now, like an applied Yjs state: a gone node no longer removes it
        return next;
    }

    /** Entries heard from {@code node}, with the same clock rule; that node holds what it set. Returns what applied. */
    List<AwarenessEntry> applyRemote(String node, List<AwarenessEntry> changes) {
        return apply(changes, nodes, node, peers);
    }

    /** Applies what wins; {@code holder} holds what it set (in {@code holders}), and nobody in {@code others}. */
    private <H> List<AwarenessEntry> apply(List<AwarenessEntry> changes, Map<Long, H> holders, H holder,
                                           Map<Long, ?> others) {
        List<AwarenessEntry> applied = new ArrayList<>(changes.size());
        for (AwarenessEntry change : changes) {
            AwarenessEntry e = applicable(change);
            if (e == null) {
                continue;
            }
            if (e.removed()) {
                entries.remove(e.awarenessId());
                holders.remove(e.awarenessId());
            } else {
                entries.put(e.awarenessId(), e);
                holders.put(e.awarenessId(), holder);
            }
            others.remove(e.awarenessId());
            applied.add(e);
        }
        return applied;
    }

    /** The states {@code peer} holds go (it left); returns their removals to broadcast. */
    List<AwarenessEntry> removePeer(Peer peer) {
        return remove(peers, holder -> holder == peer);
    }

    /** The states of a node that stopped beating go; returns their removals to broadcast. */
    List<AwarenessEntry> nodeGone(String node) {
        return remove(nodes, node::equals);
    }

    /** Every state held here goes, without removals to send (the document is deleted; its peers are gone). */
    void clearLocal() {
        entries.clear();
        peers.clear();
    }

    /** {@code change} as it applies over the current state (see {@link #keepingOwner}), or null when it loses. */
    private AwarenessEntry applicable(AwarenessEntry change) {
        AwarenessEntry current = entries.get(change.awarenessId());
        AwarenessEntry e = keepingOwner(change, current);
        long currentClock = current == null ? -1 : current.clock();
        boolean newer = e.clock() > currentClock;
        boolean removal = e.clock() == currentClock && e.removed() && current != null;
        return newer || removal ? e : null;
    }

    /**
     * A removal relayed by a Yjs client (the stock providers re-send every removal they see, with no owner) keeps
     * the owner of the state it removes, so adapters that name states by their owner name the removal the same way
     * (a JSON client would otherwise be told that a numeric id it never saw is gone, and keep the state for good).
     */
    private static AwarenessEntry keepingOwner(AwarenessEntry e, AwarenessEntry current) {
        if (e.removed() && e.ownerClientId() == null && current != null && current.ownerClientId() != null) {
            return new AwarenessEntry(e.awarenessId(), e.clock(), e.stateJson(), current.ownerClientId());
        }
        return e;
    }

    /** Removes the states whose holder matches; returns their removals (clock + 1, "null"). */
    private <H> List<AwarenessEntry> remove(Map<Long, H> holders, Predicate<H> held) {
        List<AwarenessEntry> removed = new ArrayList<>();
        holders.entrySet().removeIf(e -> {
            if (!held.test(e.getValue())) {
                return false;
            }
            AwarenessEntry old = entries.remove(e.getKey());
            if (old != null) {
                removed.add(new AwarenessEntry(old.awarenessId(), old.clock() + 1, "null", old.ownerClientId()));
            }
            return true;
        });
        return removed;
    }
}
