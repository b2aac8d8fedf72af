package dev.collab.yjs;

import dev.collab.yjs.Lib0Reader.MalformedException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Deleted clock ranges per client, as carried at the end of every Yjs update. Ranges are kept in insertion order
 * until {@link #sortAndMerge()}; the encoding writes clients in descending id order like yjs does.
 */
public final class DeleteSet {
    /** Callback for {@link #forEach}. */
    @FunctionalInterface
    public interface RangeConsumer {
        void accept(long client, long clock, long length);
    }

    private static final class Ranges {
        long[] clock = new long[2];
        long[] length = new long[2];
        int size;

        void add(long c, long len) {
            if (size == clock.length) {
                clock = Arrays.copyOf(clock, size * 2);
                length = Arrays.copyOf(length, size * 2);
            }
            clock[size] = c;
            length[size++] = len;
        }

        /** Sorts by clock and joins ranges that overlap or touch (the result does not depend on the order of ties). */
        void sortAndMerge() {
            if (!isSorted()) {
                sortByClock(0, size, new long[size], new long[size]);
            }
            int j = 1;
            for (int i = 1; i < size; i++) {
                long leftEnd = clock[j - 1] + length[j - 1];
                if (leftEnd >= clock[i]) {
                    length[j - 1] = Math.max(length[j - 1], clock[i] + length[i] - clock[j - 1]);
                } else {
                    clock[j] = clock[i];
                    length[j++] = length[i];
                }
            }
            size = Math.min(size, j);
        }

        private boolean isSorted() {
            for (int i = 1; i < size; i++) {
                if (clock[i - 1] > clock[i]) {
                    return false;
                }
            }
            return true;
        }

        /** Merge sort of the parallel arrays in [from, to). */
        private void sortByClock(int from, int to, long[] tmpClock, long[] tmpLength) {
            if (to - from < 2) {
                return;
            }
            int mid = (from + to) >>> 1;
            sortByClock(from, mid, tmpClock, tmpLength);
            sortByClock(mid, to, tmpClock, tmpLength);
            if (clock[mid - 1] <= clock[mid]) {
                return;
            }
            System.arraycopy(clock, from, tmpClock, from, to - from);
            System.arraycopy(length, from, tmpLength, from, to - from);
            int a = from;
            int b = mid;
            for (int k = from; k < to; k++) {
                if (b >= to || (a < mid && tmpClock[a] <= tmpClock[b])) {
                    clock[k] = tmpClock[a];
                    length[k] = tmpLength[a++];
                } else {
                    clock[k] = tmpClock[b];
                    length[k] = tmpLength[b++];
                }
            }
        }
    }

    private final Map<Long, Ranges> clients = new LinkedHashMap<>();
    private long lastClient = -1;
    private Ranges lastRanges;

    /** Appends a deleted range (no sorting or joining until {@link #sortAndMerge()}). */
    public DeleteSet add(long client, long clock, long length) {
        if (client != lastClient || lastRanges == null) {
            lastRanges = clients.computeIfAbsent(client, c -> new Ranges());
            lastClient = client;
        }
        lastRanges.add(clock, length);
        return this;
    }

    /** Sorts every client's ranges and joins overlapping or touching ones, in place. */
    public DeleteSet sortAndMerge() {
        for (Ranges r : clients.values()) {
            r.sortAndMerge();
        }
        return this;
    }

    /** Like yjs mergeDeleteSets: the union of all ranges, sorted and joined. */
    public static DeleteSet merge(List<DeleteSet> sets) {
        DeleteSet merged = new DeleteSet();
        for (DeleteSet ds : sets) {
            ds.forEach(merged::add);
        }
        return merged.sortAndMerge();
    }

    /** True when there is no range at all (zero-length ranges count as ranges). */
    public boolean isEmpty() {
        return clients.isEmpty();
    }

    /** True when some range covers at least one clock. */
    public boolean hasDeletions() {
        for (Ranges r : clients.values()) {
            for (int i = 0; i < r.size; i++) {
                if (r.length[i] > 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether (client, clock) is deleted; assumes {@link #sortAndMerge()} was applied. */
    public boolean isDeleted(long client, long clock) {
        Ranges r = clients.get(client);
        if (r == null) {
            return false;
        }
        int lo = 0;
        int hi = r.size - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (r.clock[mid] <= clock) {
                if (clock < r.clock[mid] + r.length[mid]) {
                    return true;
                }
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return false;
    }

    /** Visits every range, clients in insertion order, ranges in their current order. */
    public void forEach(RangeConsumer consumer) {
        for (Map.Entry<Long, Ranges> e : clients.entrySet()) {
            Ranges r = e.getValue();
            for (int i = 0; i < r.size; i++) {
                consumer.accept(e.getKey(), r.clock[i], r.length[i]);
            }
        }
    }

    /** Ranges of one client as {clock, length} pairs. */
    public List<long[]> ranges(long client) {
        Ranges r = clients.get(client);
        List<long[]> out = new ArrayList<>();
        for (int i = 0; r != null && i < r.size; i++) {
            out.add(new long[] {r.clock[i], r.length[i]});
        }
        return out;
    }

    /**
     * Reads an encoded delete set, appending its ranges to {@code target}. Clients listed with zero ranges are
     * dropped and a client listed twice accumulates, as in yjs's readDeleteSet.
     */
    static void readInto(Lib0Reader r, DeleteSet target) {
        long clientCount = StructTable.count(r, "delete set client");
        for (long i = 0; i < clientCount; i++) {
            long client = r.readVarUint();
            long n = StructTable.count(r, "delete range");
            for (long k = 0; k < n; k++) {
                long clock = r.readVarUint();
                long len = r.readVarUint();
                if (len > Lib0Reader.MAX_SAFE_INTEGER - clock) {
                    throw new MalformedException("delete range beyond 2^53-1 for client " + client);
                }
                target.add(client, clock, len);
            }
        }
    }

    public static DeleteSet read(Lib0Reader r) {
        DeleteSet ds = new DeleteSet();
        readInto(r, ds);
        return ds;
    }

    /** Encodes clients in descending id order, ranges in their current order. */
    public void write(Lib0Writer w) {
        Long[] ids = clients.keySet().toArray(new Long[0]);
        Arrays.sort(ids, (a, b) -> Long.compare(b, a));
        w.writeVarUint(ids.length);
        for (Long id : ids) {
            Ranges r = clients.get(id);
            w.writeVarUint(id).writeVarUint(r.size);
            for (int i = 0; i < r.size; i++) {
                w.writeVarUint(r.clock[i]).writeVarUint(r.length[i]);
            }
        }
    }

    public byte[] encode() {
        Lib0Writer w = new Lib0Writer();
        write(w);
        return w.toByteArray();
    }

    /** Decodes a standalone encoded delete set; trailing bytes are rejected. */
    public static DeleteSet decode(byte[] bytes) {
        Lib0Reader r = new Lib0Reader(bytes);
        DeleteSet ds = read(r);
        if (r.hasContent()) {
            throw new MalformedException(r.remaining() + " trailing bytes after the delete set");
        }
        return ds;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("DeleteSet{");
        forEach((c, k, l) -> sb.append(c).append(':').append(k).append('+').append(l).append(' '));
        return sb.append('}').toString();
    }
}
