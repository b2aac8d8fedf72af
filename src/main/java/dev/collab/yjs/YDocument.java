package dev.collab.yjs;

import dev.collab.yjs.Lib0Reader.MalformedException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Yjs document decoded from a v1 update, as a fresh {@code Y.Doc} holds it after {@code Y.applyUpdate}: the
 * structs are integrated in yjs's order (clients from the highest id down, each in clock order, a struct's missing
 * dependency first), each with yjs's YATA rule, then the delete set is applied. Items therefore end up in the lists
 * and map-key orders the real yjs gives; structs whose dependencies the update lacks stay out (yjs keeps them
 * pending). Pure: no I/O, nothing shared.
 */
public final class YDocument {

    /** The type refs of yjs's ContentType, in their wire order, plus kinds only inferred for root types. */
    public enum Kind { ARRAY, MAP, TEXT, XML_ELEMENT, XML_FRAGMENT, XML_HOOK, XML_TEXT, UNKNOWN_LIST, UNKNOWN_MAP }

    record Id(long client, long clock) {
    }

    /** A shared type: a root (named) or the content of a type item. */
    public static final class YType {
        final Kind declared;            // null for root types: yjs only knows how a root was used
        final String name;              // root name, nodeName or hookName
        Item item;                      // the item holding this type; null for roots
        Item start;
        final Map<String, Item> map = new LinkedHashMap<>();    // map entries in the order yjs first set each key

        YType(Kind declared, String name) {
            this.declared = declared;
            this.name = name;
        }

        /**
         * The declared kind, or for a root type the one its stored content shows: list content with text or
         * formatting is a Text, with XML types an XmlFragment, any other list content an Array, only map entries a
         * Map; when nothing tells (no items, or only deleted ones) UNKNOWN_LIST / UNKNOWN_MAP.
         */
        public Kind kind() {
            if (declared != null) {
                return declared;
            }
            boolean list = false;
            Kind seen = null;
            for (Item n = start; n != null; n = n.right) {
                list = true;
                Kind k = n.content == null ? null : n.content.kindHint();
                if (k == Kind.TEXT || k == Kind.XML_FRAGMENT) {
                    return k;
                }
                if (k != null) {
                    seen = k;
                }
            }
            if (seen != null) {
                return seen;
            }
            if (list) {
                return Kind.UNKNOWN_LIST;
            }
            for (Item n : map.values()) {
                if (n.content != null && n.content.kind != Content.DELETED) {
                    return Kind.MAP;
                }
            }
            return map.isEmpty() ? Kind.UNKNOWN_LIST : Kind.UNKNOWN_MAP;
        }

        public String name() {
            return name;
        }

        /** The visible content of the list part, one element per list position (a character of a string too). */
        public List<Object> elements() {
            List<Object> out = new ArrayList<>();
            for (Item n = start; n != null; n = n.right) {
                if (!n.deleted && n.countable()) {
                    n.content.addElements(out);
                }
            }
            return out;
        }

        /** The visible map entries (the last value of each key's current item), in yjs's key order. */
        public Map<String, Object> attributes() {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<String, Item> e : map.entrySet()) {
                Item n = e.getValue();
                if (!n.deleted) {
                    out.put(e.getKey(), n.content.lastElement());
                }
            }
            return out;
        }

        /** YText.toString: the visible string content. */
        public String text() {
            StringBuilder sb = new StringBuilder();
            for (Item n = start; n != null; n = n.right) {
                if (!n.deleted && n.content.kind == Content.STRING) {
                    sb.append(n.content.str);
                }
            }
            return sb.toString();
        }

        /** YText.toDelta without snapshots: runs of text (and embeds) with the formatting attributes in force. */
        public List<Delta> delta() {
            List<Delta> ops = new ArrayList<>();
            Map<String, Object> current = new LinkedHashMap<>();
            StringBuilder str = new StringBuilder();
            for (Item n = start; n != null; n = n.right) {
                if (n.deleted) {
                    continue;
                }
                switch (n.content.kind) {
                    case Content.STRING -> str.append(n.content.str);
                    case Content.TYPE, Content.EMBED -> {
                        pack(ops, str, current);
                        ops.add(new Delta(n.content.lastElement(), current.isEmpty() ? null : new LinkedHashMap<>(current)));
                    }
                    case Content.FORMAT -> {
                        pack(ops, str, current);
                        if (n.content.formatValue == null) {
                            current.remove(n.content.formatKey);
                        } else {
                            current.put(n.content.formatKey, n.content.formatValue);
                        }
                    }
                    default -> { }
                }
            }
            pack(ops, str, current);
            return ops;
        }

        private static void pack(List<Delta> ops, StringBuilder str, Map<String, Object> current) {
            if (!str.isEmpty()) {
                ops.add(new Delta(str.toString(), current.isEmpty() ? null : new LinkedHashMap<>(current)));
                str.setLength(0);
            }
        }
    }

    /** One delta op: a string or embed and its attributes (null when none, as yjs omits them). */
    public record Delta(Object insert, Map<String, Object> attributes) {
    }

    /** Item content; kind is the content ref. */
    static final class Content {
        static final int DELETED = 1, JSON = 2, BINARY = 3, STRING = 4, EMBED = 5, FORMAT = 6, TYPE = 7, ANY = 8, DOC = 9;
        final int kind;
        String str;
        List<Object> values;
        int deletedLength;
        Object value;           // binary (byte[]), embed, doc guid
        String formatKey;
        Object formatValue;
        YType type;

        Content(int kind) {
            this.kind = kind;
        }

        int length() {
            return switch (kind) {
                case DELETED -> deletedLength;
                case STRING -> str.length();
                case JSON, ANY -> values.size();
                default -> 1;
            };
        }

        boolean countable() {
            return kind != DELETED && kind != FORMAT;
        }

        Kind kindHint() {
            return switch (kind) {
                case STRING, FORMAT, EMBED -> Kind.TEXT;
                case TYPE -> type.declared == Kind.XML_ELEMENT || type.declared == Kind.XML_TEXT
                        || type.declared == Kind.XML_HOOK ? Kind.XML_FRAGMENT : Kind.ARRAY;
                case DELETED -> null;
                default -> Kind.ARRAY;
            };
        }

        void addElements(List<Object> out) {
            switch (kind) {
                case STRING -> {
                    for (int i = 0; i < str.length(); i++) {
                        out.add(String.valueOf(str.charAt(i)));
                    }
                }
                case JSON, ANY -> out.addAll(values);
                case TYPE -> out.add(type);
                case DOC -> out.add(new SubDocument((String) value));
                default -> out.add(value);
            }
        }

        Object lastElement() {
            return switch (kind) {
                case STRING -> String.valueOf(str.charAt(str.length() - 1));
                case JSON, ANY -> values.get(values.size() - 1);
                case TYPE -> type;
                case DOC -> new SubDocument((String) value);
                case DELETED -> null;
                default -> value;
            };
        }

        /** ContentX.splice: this keeps [0, offset), the returned content holds the rest. */
        Content splice(int offset) {
            Content right = new Content(kind);
            switch (kind) {
                case DELETED -> {
                    right.deletedLength = deletedLength - offset;
                    deletedLength = offset;
                }
                case STRING -> {
                    right.str = str.substring(offset);
                    str = str.substring(0, offset);
                    if (Character.isHighSurrogate(str.charAt(offset - 1))) {
                        // yjs replaces a split surrogate pair by two U+FFFD rather than produce invalid UTF-16
                        str = str.substring(0, offset - 1) + '\uFFFD';
                        right.str = '\uFFFD' + right.str.substring(1);
                    }
                }
                case JSON, ANY -> {
                    right.values = new ArrayList<>(values.subList(offset, values.size()));
                    values = new ArrayList<>(values.subList(0, offset));
                }
                default -> throw new MalformedException("content of length 1 cannot be split");
            }
            return right;
        }
    }

    /** A subdocument (ContentDoc); its content lives in another document. */
    public record SubDocument(String guid) {
    }

    /** A struct: an item, or a GC range (content null). */
    static final class Item {
        final long client;
        long clock;
        int length;
        Id origin;
        Id rightOrigin;
        Item left;
        Item right;
        Object parentRef;       // while pending: a root name (String), a type item's Id, or null (take the neighbours')
        YType parent;
        String parentSub;
        Content content;        // null for GC
        boolean deleted;

        Item(long client, long clock, int length) {
            this.client = client;
            this.clock = clock;
            this.length = length;
        }

        boolean isGc() {
            return content == null;
        }

        boolean countable() {
            return content != null && content.countable();
        }

        Id lastId() {
            return new Id(client, clock + length - 1);
        }
    }

    private final Map<String, YType> share = new LinkedHashMap<>();
    private final Map<Long, ArrayList<Item>> store = new HashMap<>();

    private YDocument() {
    }

    /** Decodes {@code update} (normally the merged state of a document). */
    public static YDocument decode(byte[] update) {
        YDocument doc = new YDocument();
        Lib0Reader r = new Lib0Reader(update);
        Map<Long, Refs> refs = doc.readStructs(r);
        doc.integrate(refs);
        doc.applyDeletes(DeleteSet.read(r));
        return doc;
    }

    /** Root type names in the order yjs first met them in the update. */
    public List<String> rootNames() {
        return List.copyOf(share.keySet());
    }

    /** The root type of that name, or null. */
    public YType root(String name) {
        return share.get(name);
    }

    // ---- decoding -------------------------------------------------------------------------------------------

    private static final class Refs {
        List<Item> items = new ArrayList<>();
        int i;
    }

    private static final Item SKIP = new Item(-1, -1, 0);

    private Map<Long, Refs> readStructs(Lib0Reader r) {
        Map<Long, Refs> clients = new HashMap<>();
        long sections = r.readVarUint();
        for (long s = 0; s < sections; s++) {
            long count = StructTable.count(r, "struct");
            long client = r.readVarUint();
            long clock = r.readVarUint();
            Refs refs = new Refs();
            clients.put(client, refs);
            for (long k = 0; k < count; k++) {
                int info = r.readByte();
                int ref = info & StructTable.CONTENT_MASK;
                Item item;
                if (ref == StructTable.GC || ref == StructTable.SKIP) {
                    long len = r.readVarUint();
                    item = new Item(client, clock, checkedLength(len));
                    refs.items.add(ref == StructTable.SKIP ? skip(item) : item);
                    clock += len;
                    continue;
                }
                item = new Item(client, clock, 0);
                if ((info & StructTable.BIT_ORIGIN) != 0) {
                    item.origin = new Id(r.readVarUint(), r.readVarUint());
                }
                if ((info & StructTable.BIT_RIGHT_ORIGIN) != 0) {
                    item.rightOrigin = new Id(r.readVarUint(), r.readVarUint());
                }
                if ((info & (StructTable.BIT_ORIGIN | StructTable.BIT_RIGHT_ORIGIN)) == 0) {
                    if (r.readVarUint() == 1) {
                        String key = r.readVarString();
                        share.computeIfAbsent(key, name -> new YType(null, name));
                        item.parentRef = key;
                    } else {
                        item.parentRef = new Id(r.readVarUint(), r.readVarUint());
                    }
                    if ((info & StructTable.BIT_PARENT_SUB) != 0) {
                        item.parentSub = r.readVarString();
                    }
                }
                item.content = readContent(r, ref);
                item.length = checkedLength(item.content.length());
                refs.items.add(item);
                clock += item.length;
            }
        }
        return clients;
    }

    /** Skip structs are kept as markers (only their range matters). */
    private static Item skip(Item range) {
        Item s = new Item(range.client, range.clock, range.length);
        s.parentRef = SKIP;
        return s;
    }

    private static int checkedLength(long len) {
        if (len <= 0 || len > Integer.MAX_VALUE) {
            throw new MalformedException("struct length " + len);
        }
        return (int) len;
    }

    private static Content readContent(Lib0Reader r, int ref) {
        Content c = new Content(ref);
        switch (ref) {
            case Content.DELETED -> c.deletedLength = checkedLength(r.readVarUint());
            case Content.JSON -> {
                long n = StructTable.count(r, "JSON value");
                c.values = new ArrayList<>();
                for (long k = 0; k < n; k++) {
                    String s = r.readVarString();
                    c.values.add(s.equals("undefined") ? Lib0Reader.UNDEFINED : JsValues.parseJson(s));
                }
            }
            case Content.BINARY -> c.value = r.readVarUint8Array();
            case Content.STRING -> c.str = r.readVarString();
            case Content.EMBED -> c.value = JsValues.parseJson(r.readVarString());
            case Content.FORMAT -> {
                c.formatKey = r.readVarString();
                c.formatValue = JsValues.parseJson(r.readVarString());
            }
            case Content.TYPE -> {
                long typeRef = r.readVarUint();
                if (typeRef >= Kind.XML_TEXT.ordinal() + 1) {
                    throw new MalformedException("unknown type ref " + typeRef);
                }
                Kind kind = Kind.values()[(int) typeRef];
                String name = kind == Kind.XML_ELEMENT || kind == Kind.XML_HOOK ? r.readVarString() : null;
                c.type = new YType(kind, name);
            }
            case Content.ANY -> {
                long n = StructTable.count(r, "any value");
                c.values = new ArrayList<>();
                for (long k = 0; k < n; k++) {
                    c.values.add(r.readAny());
                }
            }
            case Content.DOC -> {
                c.value = r.readVarString();
                r.readAny();
            }
            default -> throw new MalformedException("unknown content ref " + ref);
        }
        return c;
    }

    // ---- integration (yjs integrateStructs / Item.getMissing / Item.integrate) -------------------------------

    private void integrate(Map<Long, Refs> clientRefs) {
        List<Long> ids = new ArrayList<>(clientRefs.keySet());
        ids.sort(Long::compare);
        List<Item> stack = new ArrayList<>();
        Map<Long, Long> state = new HashMap<>();
        Refs[] cur = {nextTarget(ids, clientRefs)};
        if (cur[0] == null) {
            return;
        }
        Item head = cur[0].items.get(cur[0].i++);
        while (true) {
            if (head.parentRef != SKIP) {
                long client = head.client;
                long local = state.computeIfAbsent(client, this::stateOf);
                long offset = local - head.clock;
                if (offset < 0) {
                    stack.add(head);
                    dropStack(stack, clientRefs, ids);
                } else {
                    Long missing = head.isGc() ? null : missing(head);
                    if (missing != null) {
                        stack.add(head);
                        Refs refs = clientRefs.get(missing);
                        if (refs == null || refs.i == refs.items.size()) {
                            dropStack(stack, clientRefs, ids);
                        } else {
                            head = refs.items.get(refs.i++);
                            continue;
                        }
                    } else if (offset == 0 || offset < head.length) {
                        integrateStruct(head, (int) offset);
                        state.put(client, head.clock + head.length);
                    }
                }
            }
            if (!stack.isEmpty()) {
                head = stack.remove(stack.size() - 1);
            } else if (cur[0] != null && cur[0].i < cur[0].items.size()) {
                head = cur[0].items.get(cur[0].i++);
            } else {
                cur[0] = nextTarget(ids, clientRefs);
                if (cur[0] == null) {
                    break;
                }
                head = cur[0].items.get(cur[0].i++);
            }
        }
    }

    private static Refs nextTarget(List<Long> ids, Map<Long, Refs> clientRefs) {
        while (!ids.isEmpty()) {
            Refs t = clientRefs.get(ids.get(ids.size() - 1));
            if (t != null && t.i < t.items.size()) {
                return t;
            }
            ids.remove(ids.size() - 1);
        }
        return null;
    }

    /** yjs addStackToRestSS: these structs and the rest of their clients stay pending (here: dropped). */
    private static void dropStack(List<Item> stack, Map<Long, Refs> clientRefs, List<Long> ids) {
        for (Item item : stack) {
            Refs refs = clientRefs.remove(item.client);
            if (refs != null) {
                refs.items = List.of();
                refs.i = 0;
            }
            ids.removeIf(c -> c == item.client);
        }
        stack.clear();
    }

    private long stateOf(long client) {
        ArrayList<Item> list = store.get(client);
        if (list == null || list.isEmpty()) {
            return 0;
        }
        Item last = list.get(list.size() - 1);
        return last.clock + last.length;
    }

    /** Item.getMissing: the client whose struct is still needed, or null after resolving neighbours and parent. */
    private Long missing(Item item) {
        if (item.origin != null && item.origin.client != item.client && item.origin.clock >= stateOf(item.origin.client)) {
            return item.origin.client;
        }
        if (item.rightOrigin != null && item.rightOrigin.client != item.client
                && item.rightOrigin.clock >= stateOf(item.rightOrigin.client)) {
            return item.rightOrigin.client;
        }
        if (item.parentRef instanceof Id p && p.client != item.client && p.clock >= stateOf(p.client)) {
            return p.client;
        }
        if (item.origin != null) {
            item.left = cleanEnd(item.origin);
            item.origin = item.left.lastId();
        }
        if (item.rightOrigin != null) {
            item.right = cleanStart(item.rightOrigin);
            item.rightOrigin = new Id(item.right.client, item.right.clock);
        }
        if ((item.left != null && item.left.isGc()) || (item.right != null && item.right.isGc())) {
            item.parent = null;
        } else if (item.parentRef == null) {
            Item from = item.left != null ? item.left : item.right;
            if (from != null) {
                item.parent = from.parent;
                item.parentSub = from.parentSub;
            }
        } else if (item.parentRef instanceof Id p) {
            Item parentItem = find(p);
            item.parent = parentItem == null || parentItem.isGc() || parentItem.content.kind != Content.TYPE
                    ? null : parentItem.content.type;
        } else {
            item.parent = share.get((String) item.parentRef);
        }
        return null;
    }

    private void integrateStruct(Item item, int offset) {
        if (offset > 0) {
            item.clock += offset;
            if (!item.isGc()) {
                item.left = cleanEnd(new Id(item.client, item.clock - 1));
                item.origin = item.left.lastId();
                item.content = item.content.splice(offset);
            }
            item.length -= offset;
        }
        if (item.isGc() || item.parent == null) {
            Item gc = new Item(item.client, item.clock, item.length);
            addStruct(gc);
            return;
        }
        YType parent = item.parent;
        if ((item.left == null && (item.right == null || item.right.left != null))
                || (item.left != null && item.left.right != item.right)) {
            Item left = item.left;
            Item o;
            if (left != null) {
                o = left.right;
            } else if (item.parentSub != null) {
                o = parent.map.get(item.parentSub);
                while (o != null && o.left != null) {
                    o = o.left;
                }
            } else {
                o = parent.start;
            }
            Set<Item> conflicting = new HashSet<>();
            Set<Item> beforeOrigin = new HashSet<>();
            while (o != null && o != item.right) {
                beforeOrigin.add(o);
                conflicting.add(o);
                if (java.util.Objects.equals(item.origin, o.origin)) {
                    if (o.client < item.client) {
                        left = o;
                        conflicting.clear();
                    } else if (java.util.Objects.equals(item.rightOrigin, o.rightOrigin)) {
                        break;
                    }
                } else if (o.origin != null && beforeOrigin.contains(find(o.origin))) {
                    if (!conflicting.contains(find(o.origin))) {
                        left = o;
                        conflicting.clear();
                    }
                } else {
                    break;
                }
                o = o.right;
            }
            item.left = left;
        }
        if (item.left != null) {
            item.right = item.left.right;
            item.left.right = item;
        } else {
            Item r;
            if (item.parentSub != null) {
                r = parent.map.get(item.parentSub);
                while (r != null && r.left != null) {
                    r = r.left;
                }
            } else {
                r = parent.start;
                parent.start = item;
            }
            item.right = r;
        }
        if (item.right != null) {
            item.right.left = item;
        } else if (item.parentSub != null) {
            parent.map.put(item.parentSub, item);
            if (item.left != null) {
                delete(item.left);
            }
        }
        addStruct(item);
        if (item.content.kind == Content.TYPE) {
            item.content.type.item = item;
        }
        if ((parent.item != null && parent.item.deleted) || (item.parentSub != null && item.right != null)) {
            delete(item);
        }
    }

    private void delete(Item item) {
        if (item.deleted) {
            return;
        }
        item.deleted = true;
        if (item.content.kind == Content.TYPE) {
            YType t = item.content.type;
            for (Item n = t.start; n != null; n = n.right) {
                delete(n);
            }
            for (Item n : t.map.values()) {
                delete(n);
            }
        }
    }

    private void addStruct(Item item) {
        ArrayList<Item> list = store.computeIfAbsent(item.client, c -> new ArrayList<>());
        if (!list.isEmpty()) {
            Item last = list.get(list.size() - 1);
            if (last.clock + last.length != item.clock) {
                throw new MalformedException("structs of client " + item.client + " are not contiguous");
            }
        } else if (item.clock != 0) {
            throw new MalformedException("structs of client " + item.client + " do not start at clock 0");
        }
        list.add(item);
    }

    private int indexOf(ArrayList<Item> list, long clock) {
        int lo = 0;
        int hi = list.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Item s = list.get(mid);
            if (clock < s.clock) {
                hi = mid - 1;
            } else if (clock >= s.clock + s.length) {
                lo = mid + 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    private Item find(Id id) {
        ArrayList<Item> list = store.get(id.client);
        int i = list == null ? -1 : indexOf(list, id.clock);
        return i < 0 ? null : list.get(i);
    }

    private Item require(Id id, ArrayList<Item>[] listOut, int[] indexOut) {
        ArrayList<Item> list = store.get(id.client);
        int i = list == null ? -1 : indexOf(list, id.clock);
        if (i < 0) {
            throw new MalformedException("reference to missing struct " + id.client + ":" + id.clock);
        }
        listOut[0] = list;
        indexOut[0] = i;
        return list.get(i);
    }

    /** getItemCleanStart: the struct starting at {@code id}, splitting the item that contains it. */
    @SuppressWarnings("unchecked")
    private Item cleanStart(Id id) {
        ArrayList<Item>[] list = new ArrayList[1];
        int[] index = new int[1];
        Item s = require(id, list, index);
        if (s.clock < id.clock && !s.isGc()) {
            Item right = split(s, (int) (id.clock - s.clock));
            list[0].add(index[0] + 1, right);
            return right;
        }
        return s;
    }

    /** getItemCleanEnd: the struct ending at {@code id}, splitting the item that contains it. */
    @SuppressWarnings("unchecked")
    private Item cleanEnd(Id id) {
        ArrayList<Item>[] list = new ArrayList[1];
        int[] index = new int[1];
        Item s = require(id, list, index);
        if (id.clock != s.clock + s.length - 1 && !s.isGc()) {
            list[0].add(index[0] + 1, split(s, (int) (id.clock - s.clock + 1)));
        }
        return s;
    }

    /** splitItem: {@code left} keeps {@code diff} units, the returned item (already linked) the rest. */
    private static Item split(Item left, int diff) {
        Item right = new Item(left.client, left.clock + diff, left.length - diff);
        right.left = left;
        right.origin = new Id(left.client, left.clock + diff - 1);
        right.right = left.right;
        right.rightOrigin = left.rightOrigin;
        right.parent = left.parent;
        right.parentSub = left.parentSub;
        right.content = left.content.splice(diff);
        right.deleted = left.deleted;
        left.right = right;
        if (right.right != null) {
            right.right.left = right;
        }
        if (right.parentSub != null && right.right == null) {
            right.parent.map.put(right.parentSub, right);
        }
        left.length = diff;
        return right;
    }

    /** readAndApplyDeleteSet for ranges the document holds (the rest would stay pending in yjs). */
    private void applyDeletes(DeleteSet ds) {
        ds.forEach((client, clock, len) -> {
            ArrayList<Item> structs = store.get(client);
            if (structs == null || len <= 0) {
                return;
            }
            long state = stateOf(client);
            long clockEnd = clock + len;
            if (clock >= state) {
                return;
            }
            int index = indexOf(structs, clock);
            Item s = structs.get(index);
            if (!s.deleted && !s.isGc() && s.clock < clock) {
                structs.add(index + 1, split(s, (int) (clock - s.clock)));
                index++;
            }
            while (index < structs.size()) {
                s = structs.get(index++);
                if (s.clock >= clockEnd) {
                    break;
                }
                if (!s.deleted && !s.isGc()) {
                    if (clockEnd < s.clock + s.length) {
                        structs.add(index, split(s, (int) (clockEnd - s.clock)));
                    }
                    delete(s);
                }
            }
        });
    }

    @Override
    public String toString() {
        return "YDocument" + Arrays.toString(share.keySet().toArray());
    }
}
