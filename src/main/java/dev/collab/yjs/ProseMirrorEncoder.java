package dev.collab.yjs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * ProseMirror JSON to a Yjs update that fills an empty XML fragment the way y-prosemirror's
 * {@code prosemirrorToYXmlFragment} lays it out: one Y.XmlElement per node (its non-null attrs as attributes), one
 * Y.XmlText per run of adjacent text nodes, marks as formatting attributes named after the mark type with the
 * mark's attrs ({} when it has none) as value. y-prosemirror reads the result back as the same JSON in its normal
 * form: marks always carry {@code attrs}, node attrs that are null are absent, adjacent text nodes with equal marks
 * are one, and marks on non-text nodes are dropped (y-prosemirror 1.3 stores none).
 *
 * <p>All structs belong to one client, starting at the given clock, so the caller picks an id that no other
 * client of the document uses.
 */
public final class ProseMirrorEncoder {
    private final Lib0Writer structs = new Lib0Writer();
    private final long client;
    private long clock;
    private int count;

    private ProseMirrorEncoder(long client, long clock) {
        this.client = client;
        this.clock = clock;
    }

    /**
     * The update inserting the content of {@code doc} (a parsed ProseMirror JSON document: {@code {"type":"doc",
     * "content":[...]}} in the {@link JsValues} model) into the root XML fragment {@code field}.
     *
     * @throws IllegalArgumentException when {@code doc} is not ProseMirror JSON; the message says where
     */
    public static byte[] encode(Object doc, String field, long client, long clock) {
        Map<?, ?> root = object(doc, "the document");
        if (!"doc".equals(root.get("type"))) {
            throw new IllegalArgumentException("the document's \"type\" must be \"doc\"");
        }
        ProseMirrorEncoder e = new ProseMirrorEncoder(client, clock);
        e.children(new Parent(field, -1), content(root, "the document"), "content");
        Lib0Writer w = new Lib0Writer(e.structs.length() + 16);
        if (e.count == 0) {
            return YUpdates.EMPTY_UPDATE.clone();
        }
        w.writeVarUint(1).writeVarUint(e.count).writeVarUint(client).writeVarUint(clock);
        w.writeBytes(e.structs.toByteArray());
        w.writeVarUint(0);          // no deletions
        return w.toByteArray();
    }

    /** Where an item goes: a root type by name, or the type item at {@code clock} of this client. */
    private record Parent(String rootName, long clock) {
    }

    private void children(Parent parent, List<?> nodes, String path) {
        long previous = -1;     // clock of the last unit of the previous sibling
        int i = 0;
        while (i < nodes.size()) {
            Map<?, ?> node = object(nodes.get(i), path + "[" + i + "]");
            if ("text".equals(node.get("type"))) {
                int from = i;
                while (i < nodes.size() && nodes.get(i) instanceof Map<?, ?> m && "text".equals(m.get("type"))) {
                    i++;
                }
                long at = typeItem(parent, previous, 6, null);
                text(at, nodes.subList(from, i), path, from);
                previous = at;
                continue;
            }
            if (!(node.get("type") instanceof String name) || name.isEmpty()) {
                throw new IllegalArgumentException(path + "[" + i + "].type must be a non-empty string");
            }
            long at = typeItem(parent, previous, 3, name);
            Object attrs = node.get("attrs");
            if (attrs != null) {
                for (Map.Entry<?, ?> a : object(attrs, path + "[" + i + "].attrs").entrySet()) {
                    if (a.getValue() != null && !"ychange".equals(a.getKey())) {
                        item(new Parent(null, at), -1, (String) a.getKey(), 8, 1, w -> w.writeVarUint(1).writeAny(compact(a.getValue())));
                    }
                }
            }
            children(new Parent(null, at), content(node, path + "[" + i + "]"), path + "[" + i + "].content");
            previous = at;
            i++;
        }
    }

    private long typeItem(Parent parent, long previous, int typeRef, String nodeName) {
        return item(parent, previous, null, 7, 1, w -> {
            w.writeVarUint(typeRef);
            if (nodeName != null) {
                w.writeVarString(nodeName);
            }
        });
    }

    /** The text nodes of one Y.XmlText: formatting changes before each run, all formatting closed at the end. */
    private void text(long textClock, List<?> nodes, String path, int firstIndex) {
        Parent parent = new Parent(null, textClock);
        Map<String, Object> current = new LinkedHashMap<>();
        long[] previous = {-1};
        for (int k = 0; k < nodes.size(); k++) {
            String where = path + "[" + (firstIndex + k) + "]";
            Map<?, ?> node = (Map<?, ?>) nodes.get(k);
            if (!(node.get("text") instanceof String s) || s.isEmpty()) {
                throw new IllegalArgumentException(where + ".text must be a non-empty string");
            }
            Map<String, Object> wanted = marks(node.get("marks"), where);
            // y-prosemirror's delta lists a run's marks in the order the formatting map holds them: keep the
            // common prefix, unset from the first difference on, then set the rest in the wanted order
            List<String> held = new ArrayList<>(current.keySet());
            List<String> order = new ArrayList<>(wanted.keySet());
            int same = 0;
            while (same < held.size() && same < order.size() && held.get(same).equals(order.get(same))) {
                same++;
            }
            for (int j = held.size() - 1; j >= same; j--) {
                format(parent, previous, held.get(j), null);
                current.remove(held.get(j));
            }
            for (int j = 0; j < order.size(); j++) {
                String key = order.get(j);
                Object value = wanted.get(key);
                if (j >= same || !Objects.equals(JsValues.stringify(current.get(key)), JsValues.stringify(value))) {
                    format(parent, previous, key, value);
                    current.put(key, value);
                }
            }
            long at = item(parent, previous[0], null, 4, s.length(), w -> w.writeVarString(s));
            previous[0] = at + s.length() - 1;
        }
        for (String key : List.copyOf(current.keySet())) {
            format(parent, previous, key, null);
        }
    }

    private void format(Parent parent, long[] previous, String key, Object value) {
        previous[0] = item(parent, previous[0], null, 6, 1,
                w -> w.writeVarString(key).writeVarString(JsValues.stringify(value)));
    }

    private static Map<String, Object> marks(Object marks, String where) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (marks == null) {
            return out;
        }
        if (!(marks instanceof List<?> list)) {
            throw new IllegalArgumentException(where + ".marks must be an array");
        }
        for (int i = 0; i < list.size(); i++) {
            Map<?, ?> mark = object(list.get(i), where + ".marks[" + i + "]");
            if (!(mark.get("type") instanceof String type) || type.isEmpty()) {
                throw new IllegalArgumentException(where + ".marks[" + i + "].type must be a non-empty string");
            }
            Object attrs = mark.get("attrs");
            out.put(type, attrs == null ? new LinkedHashMap<>() : object(attrs, where + ".marks[" + i + "].attrs"));
        }
        return out;
    }

    /** Writes one item of length {@code content}'s length and returns its clock. */
    private long item(Parent parent, long previous, String parentSub, int contentRef, int length,
                      java.util.function.Consumer<Lib0Writer> content) {
        long at = clock;
        boolean hasOrigin = previous >= 0;
        int info = contentRef | (hasOrigin ? StructTable.BIT_ORIGIN : 0) | (parentSub != null ? StructTable.BIT_PARENT_SUB : 0);
        structs.writeByte(info);
        if (hasOrigin) {
            structs.writeVarUint(client).writeVarUint(previous);
        } else {
            if (parent.rootName() != null) {
                structs.writeVarUint(1).writeVarString(parent.rootName());
            } else {
                structs.writeVarUint(0).writeVarUint(client).writeVarUint(parent.clock());
            }
            if (parentSub != null) {
                structs.writeVarString(parentSub);
            }
        }
        content.accept(structs);
        clock += length;
        count++;
        return at;
    }

    private static Map<?, ?> object(Object v, String what) {
        if (!(v instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(what + " must be a JSON object");
        }
        return m;
    }

    private static List<?> content(Map<?, ?> node, String where) {
        Object c = node.get("content");
        if (c == null) {
            return List.of();
        }
        if (!(c instanceof List<?> list)) {
            throw new IllegalArgumentException(where + ".content must be an array");
        }
        return list;
    }

    /** Whole numbers as lib0 varInts (as lib0 itself writes them), the rest unchanged. */
    private static Object compact(Object v) {
        if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE && !(d == 0 && 1 / d < 0)) {
            return d.longValue();
        }
        if (v instanceof List<?> list) {
            List<Object> out = new ArrayList<>();
            for (Object x : list) {
                out.add(compact(x));
            }
            return out;
        }
        if (v instanceof Map<?, ?> map) {
            Map<Object, Object> out = new LinkedHashMap<>();
            map.forEach((k, x) -> out.put(k, compact(x)));
            return out;
        }
        return v;
    }
}
