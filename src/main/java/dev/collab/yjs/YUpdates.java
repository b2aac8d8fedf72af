package dev.collab.yjs;

import dev.collab.yjs.Lib0Reader.MalformedException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Pure functions over Yjs v1 updates, without a document in memory: the server-side subset of yjs's update API
 * (mergeUpdates, encodeStateVectorFromUpdate, diffUpdate) plus validation.
 *
 * <p>Outputs are byte-identical to yjs 13.6 for updates yjs produces, except where yjs's merge order depends on
 * its JavaScript engine's sort (a GC and an Item heading two inputs at the same id; see {@code Merger}): there the
 * document is the same and the bytes may differ. Item structs are copied verbatim from
 * their input, so an input that encodes something in a non-canonical way (over-long varints, JSON with extra
 * whitespace, lib0 floats that are integers) keeps that encoding where yjs would re-encode it; the meaning is the
 * same.
 *
 * <p>All functions throw {@link MalformedException} for input that does not decode. Like yjs, merge, diff and
 * stateVector ignore bytes after the delete set; {@link #validate} rejects them.
 */
public final class YUpdates {
    /** An update with no structs and an empty delete set. */
    public static final byte[] EMPTY_UPDATE = {0, 0};

    private YUpdates() {
    }

    /**
     * Merges updates into one, like {@code Y.mergeUpdates}: structs are ordered by client (descending) and clock,
     * duplicates are dropped, overlapping structs are split, missing ranges become Skip structs, and the delete sets
     * are united. A single update is returned as is (yjs does not even decode it).
     *
     * <p>As in yjs, adjacent items are never joined (only GC runs are): merging n one-character updates yields n
     * items, so a merged update stays about as large as its inputs together; {@link #merge(List, boolean)} joins
     * them where that is safe.
     */
    public static byte[] merge(List<byte[]> updates) {
        int n = updates.size();
        if (n == 0) {
            return EMPTY_UPDATE.clone();
        }
        if (n == 1) {
            return updates.get(0);
        }
        long total = 0;
        for (byte[] update : updates) {
            total += update.length;
        }
        int bytes = (int) Math.min(total, Integer.MAX_VALUE - 64);
        StructTable table = StructTable.forBytes(bytes);
        int[] next = new int[n];
        int[] stop = new int[n];
        DeleteSet deletes = new DeleteSet();
        for (int u = 0; u < n; u++) {
            byte[] update = updates.get(u);
            next[u] = table.size;
            Lib0Reader r = table.readStructs(update);
            stop[u] = table.size;
            DeleteSet.readInto(r, deletes);
        }
        StructWriter writer = new StructWriter(table, bytes);
        new Merger(table, next, stop, writer).run();
        return writer.finish(deletes.sortAndMerge());
    }

    /**
     * {@link #merge(List)}, then (when {@code coalesce}) {@link #compact} on the result. A single update is
     * coalesced too.
     */
    public static byte[] merge(List<byte[]> updates, boolean coalesce) {
        byte[] merged = merge(updates);
        return coalesce ? compact(merged) : merged;
    }

    /**
     * Joins adjacent items of the same client into one item where that is provably equivalent for every yjs client
     * applying the update, as a Y.Doc joins them after a transaction (the rules and the argument are in
     * {@link Coalescer}): a text typed one character per update, merged, shrinks from one item per character to
     * one per run. The state vector and the delete set stay the same; GC and Skip structs are kept; diffs of the
     * result are diffs in yjs's sense (the pieces of a joined item are the original items). Returns {@code update}
     * itself when nothing joins, or when it lists a client in more than one section or out of clock order (no yjs
     * encoder nor {@link #merge} writes that).
     *
     * <p>The output is not byte-identical to anything yjs computes from the update (yjs's mergeUpdates never joins
     * items); yjs documents built from the input and from the output encode identically.
     */
    public static byte[] compact(byte[] update) {
        return Coalescer.coalesce(update);
    }

    /**
     * The merge loop of yjs's mergeUpdates. yjs keeps one reader per update, re-sorts all readers on every step
     * (by head: client descending, clock ascending) and works on the first one.
     *
     * <p>Only the first reader ever moves, so while the comparator is consistent the sorted array is ordered by
     * (head, recency): among equal heads the reader touched most recently is first, initially the earlier update.
     * A heap with that order picks the same reader in O(log n) per step. yjs's comparator is inconsistent when
     * equal heads differ in kind (a GC in one update, an Item in another: it answers "less" both ways), and then
     * which one V8's TimSort leaves first decides which struct yjs writes. The heap picks by recency there too, so
     * in that case (1 of the 345 reference merges) the bytes can differ from yjs's while the document is the same
     * (a GC is deleted content; yjs applies either merge to the same document, YjsNodeIT). Replaying V8's sort
     * step for step gave yjs's exact bytes there, for 450 lines tied to one engine's sort; it was dropped.
     */
    private static final class Merger {
        private final StructTable t;
        private final int[] next;
        private final int[] stop;
        private final StructWriter writer;
        private final long[] recency;
        private final int[] heap;
        private int heapSize;
        private long touches;

        // the pending struct ("currWrite" in yjs): a row written from an offset, or a GC/Skip of its own extent
        private boolean pending;
        private int pRow;
        private long pOffset;
        private int pKind;
        private long pClient;
        private long pClock;
        private long pLength;

        Merger(StructTable t, int[] next, int[] stop, StructWriter writer) {
            this.t = t;
            this.next = next;
            this.stop = stop;
            this.writer = writer;
            int n = next.length;
            recency = new long[n];
            heap = new int[n];
            for (int u = 0; u < n; u++) {
                recency[u] = -u;
                skipSkips(u);
                if (next[u] < stop[u]) {
                    heap[heapSize++] = u;
                }
            }
            for (int i = heapSize / 2 - 1; i >= 0; i--) {
                siftDown(i);
            }
        }

        /** Skip structs in the inputs carry nothing; yjs's readers filter them. */
        private void skipSkips(int u) {
            while (next[u] < stop[u] && t.info[next[u]] == StructTable.SKIP) {
                next[u]++;
            }
        }

        private int head(int u) {
            return next[u] < stop[u] ? next[u] : -1;
        }

        private void advance(int u) {
            next[u]++;
            skipSkips(u);
        }

        void run() {
            while (heapSize > 0) {
                int u = heap[0];
                step(u);
                if (head(u) < 0) {
                    heap[0] = heap[--heapSize];
                } else {
                    recency[u] = ++touches;
                }
                siftDown(0);
            }
            if (pending) {
                emit();
            }
        }

        /** One step of yjs's loop on reader u, which holds the smallest head. */
        private void step(int u) {
            int h = head(u);
            long firstClient = t.client[h];
            if (!pending) {
                take(h, 0);
                advance(u);
                pending = true;
            } else {
                long pEnd = pClock + pLength;
                boolean iterated = false;
                // drop heads already covered by what was written (the client test compares across clients
                // when inputs list clients out of order; kept as yjs does it)
                while (h >= 0 && t.endClock(h) <= pEnd && t.client[h] >= pClient) {
                    advance(u);
                    h = head(u);
                    iterated = true;
                }
                if (h < 0 || t.client[h] != firstClient || (iterated && t.clock[h] > pEnd)) {
                    return; // this reader moved on; another one may hold what comes next
                }
                if (firstClient != pClient) {
                    emit();
                    take(h, 0);
                    advance(u);
                } else if (pEnd < t.clock[h]) {
                    // a gap in this client's clocks: fill it with a Skip (the pending struct is never a Skip
                    // here, since a Skip is always replaced by the drain below right after being created)
                    emit();
                    pKind = StructTable.SKIP;
                    pRow = -1;
                    pOffset = 0;
                    pClock = pEnd;
                    pLength = t.clock[h] - pEnd;
                } else {
                    long overlap = pEnd - t.clock[h];
                    if (pKind == StructTable.GC && t.info[h] == StructTable.GC) {
                        // GC.mergeWith: grow the pending GC; the reader stays (its head is now covered)
                        pLength += t.length[h] - overlap;
                    } else {
                        // Item.mergeWith never succeeds on decoded items (they have no right neighbour)
                        emit();
                        take(h, overlap);
                        advance(u);
                    }
                }
            }
            // write on from this reader while it continues the same client without a gap
            for (h = head(u); h >= 0 && t.client[h] == firstClient && t.clock[h] == pClock + pLength; h = head(u)) {
                emit();
                take(h, 0);
                advance(u);
            }
        }

        private void take(int row, long offset) {
            pRow = row;
            pOffset = offset;
            pKind = t.isItem(row) ? -1 : t.info[row];
            pClient = t.client[row];
            pClock = t.clock[row] + offset;
            pLength = t.length[row] - offset;
        }

        private void emit() {
            if (pKind < 0) {
                writer.writeRow(pRow, pOffset);
            } else {
                writer.writeFiller(pKind, pClient, pClock, pLength);
            }
        }

        /** Heap order: client descending, clock ascending, most recently touched first. */
        private boolean before(int a, int b) {
            int ha = next[a];
            int hb = next[b];
            if (t.client[ha] != t.client[hb]) {
                return t.client[ha] > t.client[hb];
            }
            if (t.clock[ha] != t.clock[hb]) {
                return t.clock[ha] < t.clock[hb];
            }
            return recency[a] > recency[b];
        }

        private void siftDown(int i) {
            if (heapSize == 0) {
                return;
            }
            int x = heap[i];
            while (true) {
                int c = 2 * i + 1;
                if (c >= heapSize) {
                    break;
                }
                if (c + 1 < heapSize && before(heap[c + 1], heap[c])) {
                    c++;
                }
                if (!before(heap[c], x)) {
                    break;
                }
                heap[i] = heap[c];
                i = c;
            }
            heap[i] = x;
        }
    }

    /**
     * The state vector an update provides on its own, like {@code Y.encodeStateVectorFromUpdate}: per client the
     * clock up to which it holds contiguous structs starting at 0. The delete set is not read (yjs does not either).
     */
    public static byte[] stateVector(byte[] update) {
        StructTable t = new StructTable(16);
        t.readStructs(update);
        Lib0Writer pairs = new Lib0Writer();
        int entries = 0;
        if (t.size > 0) {
            long client = t.client[0];
            boolean stopped = t.clock[0] != 0;
            // yjs quirk kept: the very first struct counts even when it is a Skip
            long clock = stopped ? 0 : t.endClock(0);
            for (int i = 0; i < t.size; i++) {
                if (t.client[i] != client) {
                    if (clock != 0) {
                        pairs.writeVarUint(client).writeVarUint(clock);
                        entries++;
                    }
                    client = t.client[i];
                    clock = 0;
                    stopped = t.clock[i] != 0;
                }
                if (t.info[i] == StructTable.SKIP) {
                    stopped = true;
                }
                if (!stopped) {
                    clock = t.endClock(i);
                }
            }
            if (clock != 0) {
                pairs.writeVarUint(client).writeVarUint(clock);
                entries++;
            }
        }
        Lib0Writer out = new Lib0Writer(pairs.length() + 4);
        out.writeVarUint(entries);
        out.writeBytes(pairs.toByteArray());
        return out.toByteArray();
    }

    /**
     * What {@code update} holds beyond {@code stateVector}, like {@code Y.diffUpdate}: structs the state vector
     * already covers are dropped (a struct straddling the boundary is split), the delete set is kept whole.
     */
    public static byte[] diff(byte[] update, byte[] stateVector) {
        Map<Long, Long> state = decodeStateVector(stateVector);
        StructTable t = StructTable.forBytes(update.length);
        Lib0Reader r = t.readStructs(update);
        DeleteSet deletes = DeleteSet.read(r);
        StructWriter writer = new StructWriter(t, update.length);
        int i = 0;
        while (i < t.size) {
            long client = t.client[i];
            if (t.info[i] == StructTable.SKIP) {
                i++; // a leading Skip is never written
                continue;
            }
            long known = state.getOrDefault(client, 0L);
            if (t.endClock(i) > known) {
                writer.writeRow(i, Math.max(known - t.clock[i], 0));
                for (i++; i < t.size && t.client[i] == client; i++) {
                    writer.writeRow(i, 0);
                }
            } else {
                while (i < t.size && t.client[i] == client && t.endClock(i) <= known) {
                    i++;
                }
            }
        }
        return writer.finish(deletes);
    }

    /**
     * Decodes the whole update (structs, contents and delete set) and throws {@link MalformedException} with a
     * description of the first problem. Rejects everything yjs fails to decode, plus zero-length structs, clocks
     * beyond 2^53-1, and trailing bytes (yjs ignores those, but no yjs encoder writes them).
     */
    public static void validate(byte[] update) {
        StructTable t = new StructTable(16);
        Lib0Reader r = t.readStructs(update);
        DeleteSet.readInto(r, new DeleteSet());
        if (r.hasContent()) {
            throw new MalformedException(r.remaining() + " trailing bytes after the delete set");
        }
    }

    /** True when the update carries nothing: no Item or GC structs and no deleted clock. */
    public static boolean isEmpty(byte[] update) {
        if (Arrays.equals(update, EMPTY_UPDATE)) {
            return true;
        }
        StructTable t = new StructTable(16);
        Lib0Reader r = t.readStructs(update);
        for (int i = 0; i < t.size; i++) {
            if (t.info[i] != StructTable.SKIP) {
                return false;
            }
        }
        return !DeleteSet.read(r).hasDeletions();
    }

    /**
     * {@code update} cut into updates of about {@code maxBytes} each (cut between structs, so one struct larger than
     * that is a part of its own), which applied in order give the same document: the structs are spread over the
     * parts in their order, the delete set goes with the last part. An update of at most {@code maxBytes} is its only
     * part, returned as is. Parts are made as they are asked for, so only one is in memory beside the input.
     */
    public static Iterator<byte[]> parts(byte[] update, int maxBytes) {
        if (update.length <= maxBytes) {
            return List.of(update).iterator();
        }
        StructTable t = StructTable.forBytes(update.length);
        DeleteSet deletes = DeleteSet.read(t.readStructs(update));
        return new Iterator<>() {
            private int row;
            private boolean done;

            @Override
            public boolean hasNext() {
                return !done;
            }

            @Override
            public byte[] next() {
                if (done) {
                    throw new NoSuchElementException();
                }
                StructWriter writer = new StructWriter(t, Math.min(update.length, maxBytes + 1024));
                while (row < t.size && t.info[row] == StructTable.SKIP) {
                    row++;  // a part's first struct of a client never needs the gap before it
                }
                while (row < t.size && (writer.bodyLength() == 0 || writer.bodyLength() + t.end[row] - t.start[row]
                        <= maxBytes)) {
                    writer.writeRow(row++, 0);
                }
                done = row >= t.size;
                return writer.finish(done ? deletes : new DeleteSet());
            }
        };
    }

    /** Receives the clock range {@code [clock, endClock)} of one struct (Item or GC; Skip structs are left out). */
    public interface StructRangeConsumer {
        void accept(long client, long clock, long endClock);
    }

    /** Calls {@code sink} for every Item and GC struct of {@code update}, in the update's order. */
    public static void forEachStructRange(byte[] update, StructRangeConsumer sink) {
        StructTable t = StructTable.forBytes(update.length);
        t.readStructs(update);
        for (int i = 0; i < t.size; i++) {
            if (t.info[i] != StructTable.SKIP) {
                sink.accept(t.client[i], t.clock[i], t.endClock(i));
            }
        }
    }

    /** Decodes a state vector (client → next expected clock) in its encoded order; later duplicates win. */
    public static Map<Long, Long> decodeStateVector(byte[] stateVector) {
        Lib0Reader r = new Lib0Reader(stateVector);
        long n = StructTable.count(r, "state vector entry");
        Map<Long, Long> state = new LinkedHashMap<>();
        for (long i = 0; i < n; i++) {
            long client = r.readVarUint();
            state.put(client, r.readVarUint());
        }
        return state;
    }

    /** Encodes a state vector like {@code Y.encodeStateVector}: clients in descending order. */
    public static byte[] encodeStateVector(Map<Long, Long> state) {
        long[][] entries = new long[state.size()][];
        int k = 0;
        for (Map.Entry<Long, Long> e : state.entrySet()) {
            entries[k++] = new long[] {e.getKey(), e.getValue()};
        }
        Arrays.sort(entries, (a, b) -> Long.compare(b[0], a[0]));
        Lib0Writer w = new Lib0Writer(entries.length * 10 + 2);
        w.writeVarUint(entries.length);
        for (long[] e : entries) {
            w.writeVarUint(e[0]).writeVarUint(e[1]);
        }
        return w.toByteArray();
    }
}
