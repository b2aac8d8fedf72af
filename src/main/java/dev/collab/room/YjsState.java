package dev.collab.room;

import dev.collab.yjs.YUpdates;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * A document's committed Yjs state and its compaction policy; single-threaded (the room's owner calls it), no
 * store and no threads: it says when to merge and takes the result back.
 *
 * <p>The state is the merged update plus the updates committed after it. A merge is due when the pending updates
 * reach the configured count or bytes <em>and</em> their weight (bytes, with each update counted as at least
 * {@link #UPDATE_WEIGHT} bytes) reaches half the merged state. A merge reads the merged state and the pending
 * updates, at most 3 times the weight that made it due, so the total merge work for a document that grows by B bytes
 * in U updates is below 3 (B + U * UPDATE_WEIGHT): linear, however large the document gets (a fixed threshold merged
 * a 50 MiB document again every 4 MiB: quadratic). The state vector is kept from the struct ranges of each update,
 * so a sync step 1 never needs a merge.
 */
final class YjsState {
    /** What one update weighs at least in the merge policy: many tiny updates also make a merge due. */
    static final int UPDATE_WEIGHT = 256;
    private static final long FIRST_RETRY_NANOS = 1_000_000_000L;
    private static final long MAX_RETRY_NANOS = 60_000_000_000L;

    /** The inputs of one merge, covering the updates up to {@code upToSeq}; immutable, handed to a merge thread. */
    record MergeJob(List<byte[]> inputs, int coveredUpdates, long upToSeq, long inputBytes) { }

    private record Pending(long seq, byte[] update) { }

    private final int compactionUpdates;
    private final long compactionBytes;
    private final long maxDocumentBytes;
    private final LongSupplier nanoClock;

    private byte[] merged = YUpdates.EMPTY_UPDATE;
    private final List<Pending> pending = new ArrayList<>();
    private long pendingBytes;
    /** Per client, the clock ranges the committed structs cover (start -> end, disjoint and not touching). */
    private final Map<Long, TreeMap<Long, Long>> coverage = new HashMap<>();
    private YjsSnapshot snapshot;                   // cached until the state changes
    private MergeJob running;
    private long retryAtNanos;
    private long retryDelayNanos = FIRST_RETRY_NANOS;
    private long mergedInputBytes;
    private int storedRows;
    private long storedBytes;

    YjsState(int compactionUpdates, long compactionBytes, long maxDocumentBytes, LongSupplier nanoClock) {
        this.compactionUpdates = compactionUpdates;
        this.compactionBytes = compactionBytes;
        this.maxDocumentBytes = maxDocumentBytes;
        this.nanoClock = nanoClock;
    }

    /** Takes one stored row, in sequence order: the first becomes the merged state, the rest are pending. */
    void load(long seq, byte[] row) {
        if (storedRows == 0 && pending.isEmpty()) {
            merged = row;
        } else {
            pending.add(new Pending(seq, row));
            pendingBytes += row.length;
        }
        cover(row);
        storedRows++;
        storedBytes += row.length;
        snapshot = null;
    }

    /** Bytes of the document's state as held: merged plus pending. */
    long documentBytes() {
        return merged.length + pendingBytes;
    }

    /** Whether the document may take {@code moreBytes} (updates in flight and the new one) without passing the maximum. */
    boolean admits(long moreBytes) {
        return documentBytes() + moreBytes <= maxDocumentBytes;
    }

    long maxDocumentBytes() {
        return maxDocumentBytes;
    }

    /** Records an update committed at {@code seq}. */
    void committed(long seq, byte[] update) {
        pending.add(new Pending(seq, update));
        pendingBytes += update.length;
        cover(update);
        storedRows++;
        storedBytes += update.length;
        snapshot = null;
    }

    /** The state vector of everything committed, as {@code YUpdates.stateVector} of the merged state would give. */
    byte[] stateVector() {
        Map<Long, Long> vector = new HashMap<>();
        coverage.forEach((client, ranges) -> {
            Map.Entry<Long, Long> first = ranges.firstEntry();
            if (first != null && first.getKey() == 0) {
                vector.put(client, first.getValue());
            }
        });
        return YUpdates.encodeStateVector(vector);
    }

    YjsSnapshot snapshot() {
        if (snapshot == null) {
            snapshot = pending.isEmpty() && merged == YUpdates.EMPTY_UPDATE ? YjsSnapshot.EMPTY
                    : new YjsSnapshot(merged, pending.stream().map(Pending::update).toList());
        }
        return snapshot;
    }

    /** The merge that is due now, marked running; null when none is (or one is running, or a failure backs off). */
    MergeJob startMerge() {
        if (running != null || pending.isEmpty() || nanoClock.getAsLong() - retryAtNanos < 0) {
            return null;
        }
        boolean threshold = pending.size() >= compactionUpdates || pendingBytes >= compactionBytes;
        long weight = pendingBytes + (long) pending.size() * UPDATE_WEIGHT;
        if (!threshold || weight < merged.length / 2) {
            return null;
        }
        if (merged == YUpdates.EMPTY_UPDATE && pending.size() == 1) {
            return null;        // one update is its own merge: rewriting it (an 8 MiB paste) would gain nothing
        }
        List<byte[]> inputs = new ArrayList<>(pending.size() + 1);
        if (merged != YUpdates.EMPTY_UPDATE) {
            inputs.add(merged);
        }
        pending.forEach(p -> inputs.add(p.update()));
        long upToSeq = 0;
        for (Pending p : pending) {
            upToSeq = Math.max(upToSeq, p.seq());
        }
        running = new MergeJob(List.copyOf(inputs), pending.size(), upToSeq,
                merged.length + pendingBytes);
        return running;
    }

    /** Swaps in a merge's result: it replaces the merged state and the pending updates it covered. */
    void merged(MergeJob job, byte[] result) {
        requireRunning(job);
        pending.subList(0, job.coveredUpdates()).clear();
        pendingBytes = 0;
        pending.forEach(p -> pendingBytes += p.update().length);
        merged = result;
        mergedInputBytes += job.inputBytes();
        retryDelayNanos = FIRST_RETRY_NANOS;
        snapshot = null;
    }

    /** The merged result of {@code job} is stored: the rows it covered are one row now. Ends the job. */
    void stored(MergeJob job, byte[] result) {
        requireRunning(job);
        // the store replaced every row up to the job's last seq by the result; rows after it are the pending updates
        storedRows = 1 + pending.size();
        storedBytes = result.length + pendingBytes;
        running = null;
    }

    /**
     * The merge or the storing of its result failed: nothing changes but the schedule, the next attempt waits (1 s,
     * doubling up to a minute) instead of following the next update. Returns true for the first failure in a row
     * (the one worth a log line).
     */
    boolean failed(MergeJob job) {
        requireRunning(job);
        running = null;
        boolean first = retryDelayNanos == FIRST_RETRY_NANOS;
        retryAtNanos = nanoClock.getAsLong() + retryDelayNanos;
        retryDelayNanos = Math.min(retryDelayNanos * 2, MAX_RETRY_NANOS);
        return first;
    }

    boolean merging() {
        return running != null;
    }

    int pendingUpdates() {
        return pending.size();
    }

    /** Bytes read by all merges so far (the policy's total work). */
    long mergedInputBytes() {
        return mergedInputBytes;
    }

    int storedRows() {
        return storedRows;
    }

    long storedBytes() {
        return storedBytes;
    }

    private void requireRunning(MergeJob job) {
        if (running != job) {
            throw new IllegalStateException("not the running merge");
        }
    }

    private void cover(byte[] update) {
        YUpdates.forEachStructRange(update, (client, clock, end) -> {
            TreeMap<Long, Long> ranges = coverage.computeIfAbsent(client, c -> new TreeMap<>());
            long from = clock;
            long to = end;
            Map.Entry<Long, Long> before = ranges.floorEntry(from);
            if (before != null && before.getValue() >= from) {
                if (before.getValue() >= to) {
                    return;     // already covered (a duplicate)
                }
                from = before.getKey();
            }
            for (Map.Entry<Long, Long> next = ranges.ceilingEntry(from); next != null && next.getKey() <= to;
                 next = ranges.ceilingEntry(from)) {
                to = Math.max(to, next.getValue());
                ranges.remove(next.getKey());
            }
            ranges.put(from, to);
        });
    }
}
