package dev.collab.yjs;

import java.util.HashMap;
import java.util.Map;

/**
 * Joins adjacent items of one client into one item where every yjs client applying the update provably ends up with
 * the same document: the server-side counterpart of the item merging a Y.Doc does after each transaction
 * ({@code Item.mergeWith}), which {@code Y.mergeUpdates} never does. A document typed one character per update
 * merges into one item per character; coalesced, it takes one item per run.
 *
 * <h2>When items a and b (b right after a in the update) are joined</h2>
 * <ol>
 * <li>Both are items of the same client and {@code a.clock + a.length == b.clock} (adjacent rows of the table).</li>
 * <li>{@code b.origin == a.lastId} and {@code b.rightOrigin == a.rightOrigin} (both absent or the same id). Having an
 * origin, b carries no parent of its own: yjs takes its parent and parentSub from its left neighbour, a.</li>
 * <li>Same content kind, one that yjs itself joins by concatenation: String (ContentString.mergeWith appends the
 * strings), Deleted (adds the lengths), JSON and Any (concatenate the arrays). Never Binary, Embed, Format, Type or
 * Doc, whose mergeWith refuses.</li>
 * <li>a is known not to be a map entry: following origins (or, without an origin, the right origin) from a inside
 * the update reaches an item that names its parent and has no parentSub. If the chain leaves the update, meets a
 * GC/Skip or loops, a is not joined. (A map entry's next value has origin = previous value's last id and no right
 * origin, the same shape as typing at the end of a text; but integrating it deletes the previous value, which a
 * joined item would not do.)</li>
 * <li>No other item in the update has origin {@code a.lastId}, and no item has right origin {@code b.id}.</li>
 * <li>The joined content stays below 2^28 UTF-16 units (far from V8's string length limit).</li>
 * </ol>
 * The delete set, GC and Skip structs are kept as they are; the clock ranges of all structs are unchanged, so the
 * state vector is the input's.
 *
 * <h2>Why a yjs client cannot tell the difference</h2>
 * Let c be the joined item (a's id, origin, right origin and parent; a's content followed by b's).
 * <p><b>Splitting c gives back a and b.</b> yjs splits an item whenever something refers to an id inside it
 * ({@code getItemCleanStart/End}, delete-set application, integration with an offset when the receiver already has
 * the beginning). {@code splitItem} at a.length creates a right part with id b.id, origin a.lastId (= b.origin),
 * right origin c.rightOrigin (= b.rightOrigin by rule 2), the same parent/parentSub and content b (content splice
 * is slicing; for strings, a never ends in the high half of a surrogate pair because the update is UTF-8 and the
 * fatal decoder rejects lone surrogates, so ContentString.splice's U+FFFD replacement cannot hit the seam).
 * Integrating c with an offset (receiver holds a prefix) likewise yields exactly the suffix items with origin =
 * the previous unit. A diff (which slices structs at the state vector) of a coalesced update is therefore a diff
 * of the uncoalesced one with the remaining pieces joined again by the same rules.
 * <p><b>Integrating c places a and b as integrating a then b would.</b> If the receiver already holds a prefix of
 * c, c is integrated with an offset, which yields the remaining items joined (above), so consider the items the
 * receiver lacks. yjs integrates an update's structs per client in clock order, interrupting only to fetch missing
 * dependencies. b's dependencies are a.lastId (same client, just integrated) and b.rightOrigin = a.rightOrigin
 * (already needed by a), so after a the loop goes on with b unless a struct waiting on a's client is popped first:
 * such a struct is integrated before b only if the id it needed is in a. If that id is inside a, the struct splits
 * a there and lands inside or before a, which the joined case reproduces by splitting c at the same id; it could
 * only come between a and b with origin a.lastId, which rule 5 excludes. So b is integrated right after a, with
 * left = a and right = the item at a.rightOrigin. If a.right is that item, b goes right after a. Otherwise YATA
 * scans from a.right: the first item o has an origin other than b.origin (no item of the update but b has origin
 * a.lastId; no item the receiver holds can, as it did not hold a.lastId before, and its pending structs waiting
 * for a.lastId are retried only after this update's structs), and o's origin is not an item scanned so far (only
 * o is), so the scan stops at once and b goes right after a. The list then holds a·b exactly where c sits, with
 * the same parent (or, when a's origin is a GC or its parent is gone, a and b both become GCs, as c does). Every
 * later step (the rest of this update, pending structs, later updates) sees the same list: where it needs a or b
 * as separate items it splits c (first paragraph), and YATA's scan treats an unsplit c like a followed by b (c
 * enters itemsBeforeOrigin and conflictingItems where a and b both would; b, whose origin is in a, moves
 * {@code left} past itself exactly when a did, which is when c does). Rule 5's second half (no right origin at b.id) is not needed by this
 * argument: such an item waits for b and splits c first; it is kept as a second, conservative guard. (Checked:
 * the reference fixtures also pass with both halves of rule 5 dropped; the rule stays, as the cost is small.)
 * <p><b>Deletion and the document's own merging.</b> Deletions apply to clock ranges (splitting as needed), so
 * they are independent of item boundaries; a ContentDeleted item marks its whole range deleted either way. After
 * the transaction yjs itself joins a and b when adjacent, same client, consecutive, b.origin = a.lastId, equal right
 * origins, equal deleted state and mergeable content (Item.mergeWith): the receiver of the uncoalesced update ends
 * up holding c anyway (or c split at delete-set boundaries), and a Y.Doc's encodeStateAsUpdate emits the same bytes
 * for both receivers. The fixture verifier (e2e/yjs-fixtures/verify.mjs) checks exactly that.
 * <p><b>Map entries</b> are excluded by rule 4: yjs never joins them in a document (integrating the later value
 * deletes the earlier one, so their deleted states differ), and a joined pair would only match the separate
 * items while the delete set also deletes the earlier value (CompactTest shows a document that differs without).
 */
final class Coalescer {
    /**
     * Joined content stays at 1 Mi units (far below V8's maximum string length): a document's state is sent in parts
     * cut between structs ({@link YUpdates#parts}), so one joined item of a pasted 50 MiB would be one 50+ MiB message.
     */
    static final long MAX_JOINED_LENGTH = 1L << 20;

    private final StructTable t;
    private final long[] originClient;
    private final long[] originClock;
    private final long[] rightClient;
    private final long[] rightClock;
    /** Per row: 0 not yet known, 1 plain (no parentSub), 2 map entry or unknown, 3 being resolved. */
    private final byte[] kind;
    private final Map<Long, int[]> clientRows = new HashMap<>();

    private Coalescer(StructTable t) {
        this.t = t;
        int n = t.size;
        originClient = new long[n];
        originClock = new long[n];
        rightClient = new long[n];
        rightClock = new long[n];
        kind = new byte[n];
    }

    /** The update with joinable items joined, or {@code update} itself when nothing joins. */
    static byte[] coalesce(byte[] update) {
        StructTable t = StructTable.forBytes(update.length);
        Lib0Reader r = t.readStructs(update);
        DeleteSet deletes = DeleteSet.read(r);
        Coalescer c = new Coalescer(t);
        if (!c.indexClients(new Lib0Reader(update).readVarUint())) {
            // a client in two sections (yjs keeps only the last one), an empty section, clocks out of order: not
            // what merge or yjs write, left as it is
            return update;
        }
        int[] runEnd = c.runs();
        if (runEnd == null) {
            return update;
        }
        StructWriter writer = new StructWriter(t, update.length);
        for (int i = 0; i < t.size; i = runEnd[i]) {
            if (runEnd[i] == i + 1) {
                writer.writeRow(i, 0);
            } else {
                writer.writeJoined(i, runEnd[i]);
            }
        }
        return writer.finish(deletes);
    }

    /**
     * Maps each client to its row range; false unless every client's rows are one of the update's {@code sections}
     * (so no section is empty and no client has two) with rising clocks.
     */
    private boolean indexClients(long sections) {
        int n = t.size;
        int i = 0;
        while (i < n) {
            long client = t.client[i];
            int from = i;
            for (i++; i < n && t.client[i] == client; i++) {
                if (t.clock[i] < t.endClock(i - 1)) {
                    return false;
                }
            }
            if (clientRows.put(client, new int[] {from, i}) != null) {
                return false;
            }
        }
        return clientRows.size() == sections;
    }

    /** The row holding id (client, clock), or -1. */
    private int rowOf(long client, long clock) {
        int[] range = clientRows.get(client);
        if (range == null) {
            return -1;
        }
        int lo = range[0];
        int hi = range[1] - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (t.clock[mid] > clock) {
                hi = mid - 1;
            } else if (t.endClock(mid) <= clock) {
                lo = mid + 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /**
     * For every row i, the row after the run of joinable items starting at i ({@code runEnd[i] == i + 1} for a row
     * written alone); only run starts are meaningful. Null when no two items join.
     */
    private int[] runs() {
        int n = t.size;
        LongPairCounter origins = new LongPairCounter(n);
        LongPairCounter rightOrigins = new LongPairCounter(n);
        boolean candidates = false;
        for (int i = 0; i < n; i++) {
            readOrigins(i);
            if (originClient[i] >= 0) {
                origins.add(originClient[i], originClock[i]);
            }
            if (rightClient[i] >= 0) {
                rightOrigins.add(rightClient[i], rightClock[i]);
            }
            candidates |= i > 0 && pairFits(i - 1, i);
        }
        if (!candidates) {
            return null;
        }
        int[] runEnd = new int[n];
        boolean joined = false;
        int i = 0;
        while (i < n) {
            int end = i + 1;
            if (end < n && pairFits(i, end) && plain(i)) {
                long total = t.length[i];
                while (end < n && pairFits(end - 1, end)
                        && origins.count(t.client[end - 1], t.endClock(end - 1) - 1) == 1
                        && rightOrigins.count(t.client[end], t.clock[end]) == 0
                        && total + t.length[end] <= MAX_JOINED_LENGTH) {
                    total += t.length[end];
                    end++;
                }
            }
            joined |= end > i + 1;
            for (int k = i; k < end; k++) {
                runEnd[k] = end; // only runEnd[i] is read
            }
            i = end;
        }
        return joined ? runEnd : null;
    }

    private static boolean mergeableContent(int ref) {
        return ref == StructTable.STRING || ref == StructTable.DELETED || ref == StructTable.JSON || ref == StructTable.ANY;
    }

    /** Rules 1 to 3 for rows a and b = a + 1. */
    private boolean pairFits(int a, int b) {
        if (!t.isItem(a) || !t.isItem(b) || t.client[a] != t.client[b] || t.endClock(a) != t.clock[b]) {
            return false;
        }
        int ref = t.info[a] & StructTable.CONTENT_MASK;
        if (ref != (t.info[b] & StructTable.CONTENT_MASK) || !mergeableContent(ref)) {
            return false;
        }
        return originClient[b] == t.client[a] && originClock[b] == t.endClock(a) - 1
                && rightClient[a] == rightClient[b] && rightClock[a] == rightClock[b];
    }

    private void readOrigins(int row) {
        originClient[row] = -1;
        rightClient[row] = -1;
        if (!t.isItem(row)) {
            return;
        }
        int inf = t.info[row];
        if ((inf & StructTable.BIT_ORIGIN) != 0) {
            Lib0Reader r = new Lib0Reader(t.bytes(row), t.start[row] + 1, t.end[row] - t.start[row] - 1);
            originClient[row] = r.readVarUint();
            originClock[row] = r.readVarUint();
        }
        if ((inf & StructTable.BIT_RIGHT_ORIGIN) != 0) {
            Lib0Reader r = new Lib0Reader(t.bytes(row), t.rightOrigin[row], t.end[row] - t.rightOrigin[row]);
            rightClient[row] = r.readVarUint();
            rightClock[row] = r.readVarUint();
        }
    }

    /**
     * Rule 4: whether the item at {@code row} is known to be in a list (not a map entry). Resolves the chain of
     * origins iteratively (it can be as long as the document) and memoizes every row on it.
     */
    private boolean plain(int row) {
        if (kind[row] == 0) {
            int[] path = new int[16];
            int depth = 0;
            int cur = row;
            byte result;
            while (true) {
                if (depth == path.length) {
                    path = java.util.Arrays.copyOf(path, depth * 2);
                }
                path[depth++] = cur;
                kind[cur] = 3;
                int inf = t.info[cur];
                if ((inf & (StructTable.BIT_ORIGIN | StructTable.BIT_RIGHT_ORIGIN)) == 0) {
                    result = (byte) ((inf & StructTable.BIT_PARENT_SUB) != 0 ? 2 : 1);
                    break;
                }
                int next = originClient[cur] >= 0 ? rowOf(originClient[cur], originClock[cur])
                        : rowOf(rightClient[cur], rightClock[cur]);
                if (next < 0 || !t.isItem(next) || kind[next] == 3) {
                    result = 2; // outside the update, a GC or Skip (yjs would make cur a GC), or a cycle
                    break;
                }
                if (kind[next] != 0) {
                    result = kind[next];
                    break;
                }
                cur = next;
            }
            for (int k = 0; k < depth; k++) {
                kind[path[k]] = result;
            }
        }
        return kind[row] == 1;
    }

    /** Counts of (client, clock) pairs: open addressing with linear probing, sized for {@code expected} entries. */
    static final class LongPairCounter {
        private long[] clients;
        private long[] clocks;
        private int[] counts;
        private int mask;
        private int size;

        LongPairCounter(int expected) {
            int capacity = Integer.highestOneBit(Math.max(8, expected) * 2 - 1) << 1;
            clients = new long[capacity];
            clocks = new long[capacity];
            counts = new int[capacity];
            mask = capacity - 1;
        }

        private static int hash(long client, long clock) {
            long h = client * 0x9E3779B97F4A7C15L + clock;
            h ^= h >>> 29;
            h *= 0xBF58476D1CE4E5B9L;
            return (int) (h ^ (h >>> 32));
        }

        void add(long client, long clock) {
            int slot = hash(client, clock) & mask;
            while (counts[slot] != 0 && (clients[slot] != client || clocks[slot] != clock)) {
                slot = (slot + 1) & mask;
            }
            if (counts[slot] == 0) {
                clients[slot] = client;
                clocks[slot] = clock;
                size++;
            }
            counts[slot]++;
            if (size * 2 > clients.length) {
                grow();
            }
        }

        int count(long client, long clock) {
            int slot = hash(client, clock) & mask;
            while (counts[slot] != 0) {
                if (clients[slot] == client && clocks[slot] == clock) {
                    return counts[slot];
                }
                slot = (slot + 1) & mask;
            }
            return 0;
        }

        private void grow() {
            long[] oldClients = clients;
            long[] oldClocks = clocks;
            int[] oldCounts = counts;
            int capacity = oldClients.length * 2;
            clients = new long[capacity];
            clocks = new long[capacity];
            counts = new int[capacity];
            mask = capacity - 1;
            for (int i = 0; i < oldClients.length; i++) {
                if (oldCounts[i] != 0) {
                    int slot = hash(oldClients[i], oldClocks[i]) & mask;
                    while (counts[slot] != 0) {
                        slot = (slot + 1) & mask;
                    }
                    clients[slot] = oldClients[i];
                    clocks[slot] = oldClocks[i];
                    counts[slot] = oldCounts[i];
                }
            }
        }
    }
}
