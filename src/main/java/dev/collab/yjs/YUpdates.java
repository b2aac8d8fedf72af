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
 * <p>Outputs are byte-identical to yjs 13.6 running on Node 20 for updates yjs produces (where yjs's merge order
 * depends on V8's sort, that sort is replayed; see {@link V8ArraySort}). Item structs are copied verbatim from
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
     * Per struct id, how many readers' heads are a GC and how many an Item; {@link #mixed} counts ids with both.
     * Open addressing with linear probing and backward-shift deletion, sized for every reader at once, so no
     * allocation per step.
     */
    private static final class HeadIndex {
        private final long[] clients;
        private final long[] clocks;
        private final int[] gcs;
        private final int[] items;
        private final int mask;
        int mixed;

        HeadIndex(int readers) {
            int capacity = Integer.highestOneBit(Math.max(4, readers) * 2 - 1) << 1;
            clients = new long[capacity];
            clocks = new long[capacity];
            gcs = new int[capacity];
            items = new int[capacity];
            mask = capacity - 1;
        }

        private int home(long client, long clock) {
            long h = client * 0x9E3779B97F4A7C15L + clock;
            h ^= h >>> 29;
            h *= 0xBF58476D1CE4E5B9L;
            return (int) (h ^ (h >>> 32)) & mask;
        }

        private boolean used(int slot) {
            return (gcs[slot] | items[slot]) != 0;
        }

        void count(long client, long clock, boolean gc, int delta) {
            int slot = home(client, clock);
            while (used(slot) && (clients[slot] != client || clocks[slot] != clock)) {
                slot = (slot + 1) & mask;
            }
            boolean wasMixed = gcs[slot] > 0 && items[slot] > 0;
            clients[slot] = client;
            clocks[slot] = clock;
            if (gc) {
                gcs[slot] += delta;
            } else {
                items[slot] += delta;
            }
            mixed += (gcs[slot] > 0 && items[slot] > 0 ? 1 : 0) - (wasMixed ? 1 : 0);
            if (!used(slot)) {
                removeAt(slot);
            }
        }

        /** Closes the hole at {@code hole} by moving later entries of the probe run back. */
        private void removeAt(int hole) {
            for (int j = (hole + 1) & mask; used(j); j = (j + 1) & mask) {
                int h = home(clients[j], clocks[j]);
                boolean stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
                if (!stays) {
                    clients[hole] = clients[j];
                    clocks[hole] = clocks[j];
                    gcs[hole] = gcs[j];
                    items[hole] = items[j];
                    gcs[j] = 0;
                    items[j] = 0;
                    hole = j;
                }
            }
        }
    }

    /**
     * The merge loop of yjs's mergeUpdates. yjs keeps one reader per update, re-sorts all readers on every step
     * (by head: client descending, clock ascending) and works on the first one.
     *
     * <p>Only the first reader ever moves, so while the comparator is consistent the sorted array is ordered by
     * (head, recency): among equal heads the reader touched most recently is first, initially the earlier update.
     * A heap with that order picks the same reader in O(log n) per step. The comparator is inconsistent when equal
     * heads differ in kind (GC vs Item); while such a tie exists the array and V8's sort are replayed exactly
     * ({@link V8ArraySort}), then the heap takes over again.
     */
    private static final class Merger {
        /** Comparisons spent replaying sorts before giving up on V8's exact tie order (then: any valid order). */
        private static final long REPLAY_BUDGET = 200_000_000L;

        private final StructTable t;
        private final int[] next;
        private final int[] stop;
        private final StructWriter writer;
        private final long[] recency;
        private final int[] heap;
        private int heapSize;
        private long touches;

        // yjs's reader array, kept only while replaying; heads are counted per id to notice GC/Item ties
        private final int[] order;
        private int orderSize;
        private boolean replaying;
        private long replayWork;
        private final HeadIndex heads;
        private int last = -1;

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
            order = new int[n];
            heads = new HeadIndex(n);
            for (int u = 0; u < n; u++) {
                recency[u] = -u;
                skipSkips(u);
                if (next[u] < stop[u]) {
                    heap[heapSize++] = u;
                    countHead(next[u], 1);
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

        private void countHead(int row, int delta) {
            heads.count(t.client[row], t.clock[row], t.info[row] == StructTable.GC, delta);
        }

        void run() {
            while (true) {
                int u = select();
                if (u < 0) {
                    break;
                }
                int firstHead = head(u);
                step(u);
                int newHead = head(u);
                if (newHead != firstHead) {
                    countHead(firstHead, -1);
                    if (newHead >= 0) {
                        countHead(newHead, 1);
                    }
                }
                last = u;
                if (!replaying) {
                    if (newHead < 0) {
                        heap[0] = heap[--heapSize];
                    } else {
                        recency[u] = ++touches;
                    }
                    siftDown(0);
                }
            }
            if (pending) {
                emit();
            }
        }

        /** The reader yjs would put first after this step's sort, or -1 when all are done. */
        private int select() {
            if (!replaying && heads.mixed > 0 && replayWork < REPLAY_BUDGET) {
                startReplay();
            }
            if (!replaying) {
                return heapSize > 0 ? heap[0] : -1;
            }
            int m = 0;
            for (int i = 0; i < orderSize; i++) {
                if (head(order[i]) >= 0) {
                    order[m++] = order[i];
                }
            }
            orderSize = m;
            if (m == 0) {
                return -1;
            }
            V8ArraySort.sort(order, m, this::yjsCompare);
            replayWork += m;
            if (heads.mixed == 0 || replayWork >= REPLAY_BUDGET) {
                stopReplay();
            }
            return order[0];
        }

        /** Rebuilds yjs's array: the reader just worked on first, the others in sorted order. */
        private void startReplay() {
            orderSize = 0;
            if (last < 0) {
                for (int u = 0; u < next.length; u++) {
                    if (head(u) >= 0) {
                        order[orderSize++] = u;
                    }
                }
            } else {
                Integer[] others = new Integer[heapSize];
                int k = 0;
                for (int i = 0; i < heapSize; i++) {
                    if (heap[i] != last) {
                        others[k++] = heap[i];
                    }
                }
                Arrays.sort(others, 0, k, (a, b) -> before(a, b) ? -1 : before(b, a) ? 1 : 0);
                if (head(last) >= 0) {
                    order[orderSize++] = last;
                }
                for (int i = 0; i < k; i++) {
                    order[orderSize++] = others[i];
                }
            }
            replaying = true;
        }

        /** The array is sorted consistently again: its positions become the heap's recency order. */
        private void stopReplay() {
            long base = touches + orderSize;
            for (int i = 0; i < orderSize; i++) {
                recency[order[i]] = base - i;
                heap[i] = order[i];
            }
            touches = base;
            heapSize = orderSize;
            for (int i = heapSize / 2 - 1; i >= 0; i--) {
                siftDown(i);
            }
            replaying = false;
        }

        /** yjs's comparator, including its answer "less" for equal heads of different kinds. */
        private int yjsCompare(int a, int b) {
            int ha = next[a];
            int hb = next[b];
            if (t.client[ha] != t.client[hb]) {
                return t.client[ha] > t.client[hb] ? -1 : 1;
            }
            if (t.clock[ha] != t.clock[hb]) {
                return t.clock[ha] < t.clock[hb] ? -1 : 1;
            }
            return (t.info[ha] == StructTable.GC) == (t.info[hb] == StructTable.GC) ? 0 : -1;
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
