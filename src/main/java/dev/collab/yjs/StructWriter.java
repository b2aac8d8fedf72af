package dev.collab.yjs;

import java.util.Arrays;

/**
 * Writes structs into a v1 update. A v1 update states the number of client sections and each section's struct
 * count before the structs, so structs go into one body buffer and section headers are remembered; a new section
 * starts whenever the client changes (as yjs's lazy struct writer does). {@link #finish} assembles the update.
 */
final class StructWriter {
    private final StructTable table;
    private final Lib0Writer body;
    private long[] sectionClient = new long[8];
    private long[] sectionClock = new long[8];
    private int[] sectionCount = new int[8];
    private int[] sectionEnd = new int[8];
    private int sections;
    private int written; // structs in the open section

    StructWriter(StructTable table, int capacityHint) {
        this.table = table;
        this.body = new Lib0Writer(capacityHint);
    }

    private void startStruct(long client, long clock) {
        if (written > 0 && sectionClient[sections - 1] != client) {
            closeSection();
        }
        if (written == 0) {
            if (sections == sectionClient.length) {
                int n = sections * 2;
                sectionClient = Arrays.copyOf(sectionClient, n);
                sectionClock = Arrays.copyOf(sectionClock, n);
                sectionCount = Arrays.copyOf(sectionCount, n);
                sectionEnd = Arrays.copyOf(sectionEnd, n);
            }
            sectionClient[sections] = client;
            sectionClock[sections] = clock;
            sections++;
        }
        written++;
    }

    private void closeSection() {
        sectionCount[sections - 1] = written;
        sectionEnd[sections - 1] = body.length();
        written = 0;
    }

    /** GC or Skip of the given extent (these may have been grown by merging, so they are always re-encoded). */
    void writeFiller(int kind, long client, long clock, long length) {
        startStruct(client, clock);
        body.writeByte(kind).writeVarUint(length);
    }

    /** Writes table row {@code row} without its first {@code offset} clock units. */
    void writeRow(int row, long offset) {
        StructTable t = table;
        long client = t.client[row];
        long clock = t.clock[row] + offset;
        if (!t.isItem(row)) {
            writeFiller(t.info[row], client, clock, t.length[row] - offset);
            return;
        }
        startStruct(client, clock);
        byte[] src = t.bytes(row);
        int inf = t.info[row];
        // yjs only reads parentSub when the item has no origins (otherwise it is implied by the neighbours), so a
        // decoded item with an origin has none and yjs writes its flag cleared
        boolean parentSub = (inf & StructTable.BIT_PARENT_SUB) != 0
                && (inf & (StructTable.BIT_ORIGIN | StructTable.BIT_RIGHT_ORIGIN)) == 0;
        if (offset == 0) {
            int from = t.start[row];
            if ((inf & StructTable.BIT_PARENT_SUB) != 0 && !parentSub) {
                body.writeByte(inf & ~StructTable.BIT_PARENT_SUB);
                from++;
            }
            body.writeBytes(src, from, t.end[row] - from);
            return;
        }
        // A split item gets the preceding unit as its origin, which makes its parent implicit (not written);
        // the right origin and the parentSub flag stay.
        int ref = inf & StructTable.CONTENT_MASK;
        body.writeByte(StructTable.BIT_ORIGIN | (inf & StructTable.BIT_RIGHT_ORIGIN) | (parentSub ? StructTable.BIT_PARENT_SUB : 0) | ref);
        body.writeVarUint(client).writeVarUint(clock - 1);
        int ro = t.rightOrigin[row];
        if (ro >= 0) {
            // with an origin present no parent info follows, so the right origin runs up to the content
            body.writeBytes(src, ro, t.content[row] - ro);
        }
        writeContentTail(row, ref, src, offset);
    }

    /**
     * Writes the item rows {@code [from, to)} (one client, consecutive clocks, same mergeable content kind, checked
     * by {@link Coalescer}) as one item: the first row's header (info, origins, parent) followed by the contents
     * concatenated the way yjs's ContentX.mergeWith does it.
     */
    void writeJoined(int from, int to) {
        StructTable t = table;
        startStruct(t.client[from], t.clock[from]);
        int inf = t.info[from];
        int headerStart = t.start[from];
        if ((inf & StructTable.BIT_PARENT_SUB) != 0 && (inf & (StructTable.BIT_ORIGIN | StructTable.BIT_RIGHT_ORIGIN)) != 0) {
            body.writeByte(inf & ~StructTable.BIT_PARENT_SUB); // ignored by yjs with origins present, as in writeRow
            headerStart++;
        }
        body.writeBytes(t.bytes(from), headerStart, t.content[from] - headerStart);
        int ref = inf & StructTable.CONTENT_MASK;
        long total = 0; // Deleted: clock units; String: UTF-8 bytes; JSON/Any: elements
        for (int row = from; row < to; row++) {
            Lib0Reader r = new Lib0Reader(t.bytes(row), t.content[row], t.end[row] - t.content[row]);
            total += r.readVarUint();
        }
        body.writeVarUint(total);
        if (ref == StructTable.DELETED) {
            return;
        }
        if (ref != StructTable.STRING && ref != StructTable.JSON && ref != StructTable.ANY) {
            throw new IllegalStateException("content ref " + ref + " cannot be joined");
        }
        for (int row = from; row < to; row++) {
            byte[] src = t.bytes(row);
            Lib0Reader r = new Lib0Reader(src, t.content[row], t.end[row] - t.content[row]);
            r.readVarUint();
            body.writeBytes(src, r.position(), t.end[row] - r.position());
        }
    }

    private void writeContentTail(int row, int ref, byte[] src, long offset) {
        StructTable t = table;
        int at = t.content[row];
        int stop = t.end[row];
        long remaining = t.length[row] - offset;
        switch (ref) {
            case StructTable.DELETED -> body.writeVarUint(remaining);
            case StructTable.STRING -> {
                Lib0Reader r = new Lib0Reader(src, at, stop - at);
                int len = r.readLength();
                int strStart = r.position();
                int cut = Utf8.byteOffsetOfUnit(src, strStart, len, offset);
                if (cut >= 0) {
                    body.writeVarUint(strStart + len - cut).writeBytes(src, cut, strStart + len - cut);
                } else {
                    // split inside a surrogate pair: the orphaned low surrogate is encoded as U+FFFD
                    int next = -cut - 1;
                    int rest = strStart + len - next;
                    body.writeVarUint(3 + rest).writeByte(0xEF).writeByte(0xBF).writeByte(0xBD).writeBytes(src, next, rest);
                }
            }
            case StructTable.JSON, StructTable.ANY -> {
                Lib0Reader r = new Lib0Reader(src, at, stop - at);
                r.readVarUint();
                for (long k = 0; k < offset; k++) {
                    if (ref == StructTable.JSON) {
                        r.skip(r.readLength());
                    } else {
                        table.skipAny(r, src);
                    }
                }
                body.writeVarUint(remaining).writeBytes(src, r.position(), stop - r.position());
            }
            default -> throw new IllegalStateException("content ref " + ref + " has length 1 and cannot be split");
        }
    }

    /** Bytes of structs written so far (to cut an update into parts of a size). */
    int bodyLength() {
        return body.length();
    }

    /**
     * Assembles sections and the given encoded delete set into the final update. The section headers and the delete
     * set are small; the body is copied once, straight into the result (peak heap: body buffer + result).
     */
    byte[] finish(DeleteSet deleteSet) {
        if (written > 0) {
            closeSection();
        }
        Lib0Writer headers = new Lib0Writer(sections * 12 + 8);
        int[] headerEnd = new int[sections + 1];
        headers.writeVarUint(sections);
        headerEnd[0] = headers.length();
        for (int s = 0; s < sections; s++) {
            headers.writeVarUint(sectionCount[s]).writeVarUint(sectionClient[s]).writeVarUint(sectionClock[s]);
            headerEnd[s + 1] = headers.length();
        }
        Lib0Writer tail = new Lib0Writer(32);
        deleteSet.write(tail);
        byte[] out = new byte[headers.length() + body.length() + tail.length()];
        byte[] head = headers.array();
        byte[] bodyBytes = body.array();
        System.arraycopy(head, 0, out, 0, headerEnd[0]);
        int at = headerEnd[0];
        int from = 0;
        for (int s = 0; s < sections; s++) {
            int h = headerEnd[s + 1] - headerEnd[s];
            System.arraycopy(head, headerEnd[s], out, at, h);
            at += h;
            int n = sectionEnd[s] - from;
            System.arraycopy(bodyBytes, from, out, at, n);
            at += n;
            from = sectionEnd[s];
        }
        System.arraycopy(tail.array(), 0, out, at, tail.length());
        return out;
    }
}
