package dev.collab.room;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * A room's ProseMirror step authority: the version head, steps accepted only at the head and one commit at a time
 * (so a failed commit can never leave a gap in the versions), and steps committed by other nodes, applied in
 * version order with what lies past a gap read from the store first. It decides; the room does the I/O (the
 * store, the futures, the broadcasts) and tells it how that went. Single-threaded: only the room's owner
 * touches it.
 */
final class StepAuthority {

    /** What to do with a submission at some version. */
    enum Verdict {
        /** At the head with nothing in flight: commit it (the authority counts it as in flight from now). */
        ACCEPT,
        /** Behind the head: the submitter resyncs and rebases on {@link #head()}. */
        CONFLICT,
        /** Past anything committed or in flight, or negative. */
        INVALID,
        /** A commit or a read is in flight: judge it again after it settles ({@link #await}). */
        WAIT
    }

    private int committed;
    private int accepted;                                               // committed + the commit in flight
    private boolean filling;                                            // reading the steps after the head
    private final TreeMap<Integer, RoomEvent.Steps> ahead = new TreeMap<>();   // heard, not yet at the head
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();    // submissions behind a commit or a read

    /** The committed version. */
    int head() {
        return committed;
    }

    /** The document was loaded at {@code version}. */
    void load(int version) {
        committed = version;
        accepted = version;
    }

    /** The document was deleted: back to version 0, and what was heard of the old one goes. */
    void reset() {
        ahead.clear();
        committed = 0;
        accepted = 0;
    }

    /** Whether {@code version} is committed (0..head): a snapshot may be stored at it. */
    boolean hasReached(int version) {
        return version >= 0 && version <= committed;
    }

    /** No commit and no read in flight. */
    boolean settled() {
        return accepted == committed && !filling;
    }

    /** Judges {@code count} steps submitted at {@code version}; an accepted commit is in flight until settled. */
    Verdict judge(int version, int count) {
        if (version < 0 || version > accepted) {
            return Verdict.INVALID;
        }
        if (!settled()) {
            return Verdict.WAIT;    // judged against the version the commit (or read) in flight produces
        }
        if (version != committed) {
            return Verdict.CONFLICT;
        }
        accepted = version + count;
        return Verdict.ACCEPT;
    }

    /** Keeps {@code retry} (a submission judged {@link Verdict#WAIT}) until {@link #nextWaiting} hands it back. */
    void await(Runnable retry) {
        waiting.add(retry);
    }

    /** The commit in flight is stored: the head moves past it; returns the new head. */
    int commitStored() {
        committed = accepted;
        return committed;
    }

    /** The commit in flight failed, or another node stored that version first: the head stays. */
    void commitFailed() {
        accepted = committed;
    }

    /**
     * Steps another node committed, heard over the bus: kept (true) when they reach past the head, to be applied
     * at their version ({@link #nextFitting}); dropped when the head already has them.
     */
    boolean heard(RoomEvent.Steps steps) {
        if (steps.version() + steps.steps().size() <= committed) {
            return false;
        }
        ahead.put(steps.version(), steps);
        return true;
    }

    /**
     * Once settled, the next heard steps that start at the head, applied (the head moves past them), to broadcast;
     * heard steps the head has passed meanwhile are dropped. Null when none fit.
     */
    RoomEvent.Steps nextFitting() {
        if (!settled()) {
            return null;
        }
        while (!ahead.isEmpty() && ahead.firstKey() <= committed) {
            RoomEvent.Steps next = ahead.pollFirstEntry().getValue();
            if (next.version() == committed) {
                apply(next);
                return next;
            }
        }
        return null;
    }

    /** Settled, and heard steps lie past a gap after the head: the store has what lies between; read it. */
    boolean gapAhead() {
        return settled() && !ahead.isEmpty();
    }

    /** The store has steps past the head (the periodic check) and no commit is in flight: read them. */
    boolean behind(int storedVersion) {
        return storedVersion > committed && accepted == committed;
    }

    /**
     * Starts reading the steps after the head from the store: returns the version to read from, or -1 when a read
     * is already running. Submissions wait until it is {@link #filled} or {@link #fillFailed}.
     */
    int startFill() {
        if (filling) {
            return -1;
        }
        filling = true;
        return committed;
    }

    /**
     * The read's result: the batches that continue the head are applied, in order, and returned to broadcast
     * (any the head already has are skipped); heard steps the head has passed go.
     */
    List<RoomEvent.Steps> filled(List<RoomEvent.Steps> read) {
        filling = false;
        List<RoomEvent.Steps> applied = new ArrayList<>();
        for (RoomEvent.Steps batch : read) {
            if (batch.version() == committed) {
                apply(batch);
                applied.add(batch);
            }
        }
        ahead.headMap(committed, false).clear();
        return applied;
    }

    /** The read failed: the head stays (the next heard steps or the periodic check try again). */
    void fillFailed() {
        filling = false;
        ahead.headMap(committed, false).clear();
    }

    /**
     * Once settled with no gap ahead, the next waiting submission to judge again (in the order they came); null
     * otherwise. Judging it may start a commit, which stops the hand-back until that settles.
     */
    Runnable nextWaiting() {
        return settled() && ahead.isEmpty() ? waiting.poll() : null;
    }

    private void apply(RoomEvent.Steps steps) {
        committed = steps.version() + steps.steps().size();
        accepted = committed;
    }
}
