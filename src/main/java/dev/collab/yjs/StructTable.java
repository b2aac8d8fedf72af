package dev.collab.yjs;

import dev.collab.yjs.Lib0Reader.MalformedException;
import java.util.Arrays;

/**
 * The structs of one or more Yjs v1 updates, decoded into parallel primitive arrays (one row per struct, no object
 * per struct). Item rows keep byte offsets into their source update so that writing them back is a plain copy;
 * only structs written with an offset (split) are re-encoded.
 *
 * <p>Decoding is strict in the ways that make yjs itself throw (unknown struct or content refs, truncated data,
 * strings that are not UTF-8, JSON that JSON.parse rejects, unknown type refs) and additionally rejects what yjs
 * never produces and what would corrupt clock arithmetic: zero-length structs and clocks beyond 2^53-1.
 */
final class StructTable {
    static final int GC = 0;
    static final int SKIP = 10;
    static final int BIT_ORIGIN = 0x80;
    static final int BIT_RIGHT_ORIGIN = 0x40;
    static final int BIT_PARENT_SUB = 0x20;
    static final int CONTENT_MASK = 0x1F;

    /** Content refs (info &amp; 0x1F) of item structs. */
    static final int DELETED = 1, JSON = 2, BINARY = 3, STRING = 4, EMBED = 5, FORMAT = 6, TYPE = 7, ANY = 8, DOC = 9;
    /** Type refs inside type content; the two XML ones carry a name. */
    static final int TYPE_XML_ELEMENT = 3, TYPE_XML_HOOK = 5, TYPE_REF_COUNT = 7;

    byte[][] sources = new byte[4][];
    int sourceCount;

    int size;
    long[] client;
    long[] clock;
    long[] length;
    /** Info byte for items, {@link #GC} or {@link #SKIP} otherwise. */
    int[] info;
    int[] source;
    /** Offsets of the info byte, of the right origin (-1 if none), of the content, and after the struct. */
    int[] start;
    int[] rightOrigin;
    int[] content;
    int[] end;

    // scratch stacks for skipping nested lib0 `any` values without recursion
    private long[] anyCount = new long[8];
    private boolean[] anyIsMap = new boolean[8];

    /**
     * A table for decoding {@code bytes} of updates. Rows take 48 bytes each, so sizing for the worst case (a struct
     * per 2 to 8 bytes) would reserve 6 to 24 times the input; a row per 64 bytes is reserved and the table grows
     * by doubling when structs are smaller (a pasted text is a few large items).
     */
    static StructTable forBytes(long bytes) {
        return new StructTable((int) Math.min(bytes / 64, 1 << 20));
    }

    StructTable(int expectedRows) {
        int n = Math.max(16, expectedRows);
        client = new long[n];
        clock = new long[n];
        length = new long[n];
        info = new int[n];
        source = new int[n];
        start = new int[n];
        rightOrigin = new int[n];
        content = new int[n];
        end = new int[n];
    }

    boolean isItem(int row) {
        return info[row] != GC && info[row] != SKIP;
    }

    long endClock(int row) {
        return clock[row] + length[row];
    }

    byte[] bytes(int row) {
        return sources[source[row]];
    }

    /**
     * Decodes the struct part of {@code update} into new rows and returns the reader, positioned at the delete set.
     */
    Lib0Reader readStructs(byte[] update) {
        if (sourceCount == sources.length) {
            sources = Arrays.copyOf(sources, sourceCount * 2);
        }
        int src = sourceCount;
        sources[sourceCount++] = update;
        Lib0Reader r = new Lib0Reader(update);
        long sections = count(r, "client section");
        for (long s = 0; s < sections; s++) {
            long structs = count(r, "struct");
            long cl = r.readVarUint();
            long ck = r.readVarUint();
            for (long k = 0; k < structs; k++) {
                ck = readStruct(r, update, src, cl, ck);
            }
        }
        return r;
    }

    /** Reads one struct at clock {@code ck}; returns the clock after it. */
    private long readStruct(Lib0Reader r, byte[] buf, int src, long cl, long ck) {
        int structStart = r.position();
        int inf = r.readByte();
        int ref = inf & CONTENT_MASK;
        int ro = -1;
        int contentStart;
        long len;
        if (ref == SKIP) {
            if (inf != SKIP) {
                throw new MalformedException("skip struct with flag bits 0x" + Integer.toHexString(inf));
            }
            contentStart = r.position();
            len = r.readVarUint();
        } else if (ref == GC) {
            inf = GC; // yjs ignores the flag bits of GC structs and writes them back as 0
            contentStart = r.position();
            len = r.readVarUint();
        } else {
            if ((inf & BIT_ORIGIN) != 0) {
                r.readVarUint();
                r.readVarUint();
            }
            if ((inf & BIT_RIGHT_ORIGIN) != 0) {
                ro = r.position();
                r.readVarUint();
                r.readVarUint();
            }
            if ((inf & (BIT_ORIGIN | BIT_RIGHT_ORIGIN)) == 0) {
                // no neighbours: the parent is named, either a root type key (1) or the id of a type item
                if (r.readVarUint() == 1) {
                    string(r, buf, "parent key");
                } else {
                    r.readVarUint();
                    r.readVarUint();
                }
                if ((inf & BIT_PARENT_SUB) != 0) {
                    string(r, buf, "parent sub key");
                }
            }
            contentStart = r.position();
            len = readContent(r, buf, ref);
        }
        if (len <= 0) {
            throw new MalformedException("zero-length struct at client " + cl + " clock " + ck);
        }
        if (len > Lib0Reader.MAX_SAFE_INTEGER - ck) {
            throw new MalformedException("clock overflow at client " + cl);
        }
        add(cl, ck, len, inf, src, structStart, ro, contentStart, r.position());
        return ck + len;
    }

    private long readContent(Lib0Reader r, byte[] buf, int ref) {
        switch (ref) {
            case DELETED:
                return r.readVarUint();
            case JSON: {
                long n = count(r, "JSON value");
                for (long k = 0; k < n; k++) {
                    int len = r.readLength();
                    int at = r.position();
                    r.skip(len);
                    if (!isUndefinedLiteral(buf, at, len)) {
                        json(buf, at, len);
                    }
                }
                return n;
            }
            case BINARY:
                r.skip(r.readLength());
                return 1;
            case STRING:
                return string(r, buf, "string content");
            case EMBED:
                json(buf, r, "embed");
                return 1;
            case FORMAT:
                string(r, buf, "format key");
                json(buf, r, "format value");
                return 1;
            case TYPE: {
                long typeRef = r.readVarUint();
                if (typeRef >= TYPE_REF_COUNT) {
                    throw new MalformedException("unknown type ref " + typeRef);
                }
                if (typeRef == TYPE_XML_ELEMENT || typeRef == TYPE_XML_HOOK) {
                    string(r, buf, "xml name");
                }
                return 1;
            }
            case ANY: {
                long n = count(r, "any value");
                for (long k = 0; k < n; k++) {
                    skipAny(r, buf);
                }
                return n;
            }
            case DOC: {
                string(r, buf, "subdocument guid");
                int tag = r.readByte();
                if (tag == 126 || tag == 127) {
                    // yjs reads opts.shouldLoad, which throws for null/undefined
                    throw new MalformedException("subdocument options must not be null or undefined");
                }
                skipAnyAfterTag(r, buf, tag);
                return 1;
            }
            default:
                throw new MalformedException("unknown content ref " + ref);
        }
    }

    /** A varUint count of elements that each take at least one byte: larger than the rest means garbage. */
    static long count(Lib0Reader r, String what) {
        long n = r.readVarUint();
        if (n > r.remaining()) {
            throw new MalformedException(what + " count " + n + " exceeds the " + r.remaining() + " bytes left");
        }
        return n;
    }

    /** Skips a varString, checking it is UTF-8 as the fatal TextDecoder demands; returns its UTF-16 length. */
    static int string(Lib0Reader r, byte[] buf, String what) {
        int len = r.readLength();
        int at = r.position();
        r.skip(len);
        int units = Utf8.utf16Length(buf, at, len);
        if (units < 0) {
            throw new MalformedException(what + " is not valid UTF-8");
        }
        return units;
    }

    private static void json(byte[] buf, Lib0Reader r, String what) {
        int len = r.readLength();
        int at = r.position();
        r.skip(len);
        if (Utf8.utf16Length(buf, at, len) < 0 || !JsonSyntax.isValid(buf, at, len)) {
            throw new MalformedException(what + " is not valid JSON");
        }
    }

    private static void json(byte[] buf, int at, int len) {
        if (Utf8.utf16Length(buf, at, len) < 0 || !JsonSyntax.isValid(buf, at, len)) {
            throw new MalformedException("JSON content is not valid JSON");
        }
    }

    /** ContentJSON stores JavaScript's undefined as the bare word {@code undefined}. */
    static boolean isUndefinedLiteral(byte[] buf, int at, int len) {
        if (len != 9) {
            return false;
        }
        for (int k = 0; k < 9; k++) {
            if (buf[at + k] != "undefined".charAt(k)) {
                return false;
            }
        }
        return true;
    }

    void skipAny(Lib0Reader r, byte[] buf) {
        skipAnyAfterTag(r, buf, r.readByte());
    }

    /** Skips one lib0 {@code any} value whose tag byte was already read, validating it like lib0's readAny. */
    private void skipAnyAfterTag(Lib0Reader r, byte[] buf, int tag) {
        int depth = 0;
        while (true) {
            long children = 0;
            boolean map = false;
            switch (tag) {
                case 127, 126, 121, 120 -> { }
                case 125 -> r.readVarInt();
                case 124 -> r.skip(4);
                case 123, 122 -> r.skip(8);
                case 119 -> string(r, buf, "string value");
                case 118 -> {
                    children = count(r, "object entry");
                    map = true;
                }
                case 117 -> children = count(r, "array element");
                case 116 -> r.skip(r.readLength());
                default -> throw new MalformedException("unknown lib0 any tag " + tag);
            }
            if (children > 0) {
                if (depth == anyCount.length) {
                    anyCount = Arrays.copyOf(anyCount, depth * 2);
                    anyIsMap = Arrays.copyOf(anyIsMap, depth * 2);
                }
                anyCount[depth] = children;
                anyIsMap[depth++] = map;
            } else {
                // the value is complete: count it against its container, closing containers that are full
                while (depth > 0 && --anyCount[depth - 1] == 0) {
                    depth--;
                }
                if (depth == 0) {
                    return;
                }
            }
            if (anyIsMap[depth - 1]) {
                string(r, buf, "object key");
            }
            tag = r.readByte();
        }
    }

    private void add(long cl, long ck, long len, int inf, int src, int st, int ro, int ct, int en) {
        if (size == client.length) {
            int n = size * 2;
            client = Arrays.copyOf(client, n);
            clock = Arrays.copyOf(clock, n);
            length = Arrays.copyOf(length, n);
            info = Arrays.copyOf(info, n);
            source = Arrays.copyOf(source, n);
            start = Arrays.copyOf(start, n);
            rightOrigin = Arrays.copyOf(rightOrigin, n);
            content = Arrays.copyOf(content, n);
            end = Arrays.copyOf(end, n);
        }
        int i = size++;
        client[i] = cl;
        clock[i] = ck;
        length[i] = len;
        info[i] = inf;
        source[i] = src;
        start[i] = st;
        rightOrigin[i] = ro;
        content[i] = ct;
        end[i] = en;
    }
}
