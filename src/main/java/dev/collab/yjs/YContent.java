package dev.collab.yjs;

import dev.collab.yjs.YDocument.Delta;
import dev.collab.yjs.YDocument.Kind;
import dev.collab.yjs.YDocument.SubDocument;
import dev.collab.yjs.YDocument.YType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A decoded document's content as the JavaScript libraries print it: {@code ydoc.toJSON()},
 * y-prosemirror's {@code yXmlFragmentToProsemirrorJSON} and a plain-text rendering of an XML fragment.
 */
public final class YContent {
    /** y-prosemirror's yattr2markname: overlapping marks are stored as {@code name--<8 chars of hash>}. */
    private static final Pattern HASHED_MARK = Pattern.compile("(.*)(--[a-zA-Z0-9+/=]{8})$");

    private YContent() {
    }

    /** The document (or the field asked for) cannot be rendered that way; the message says why. */
    public static final class NotConvertible extends RuntimeException {
        public NotConvertible(String message) {
            super(message);
        }
    }

    // ---- ydoc.toJSON() --------------------------------------------------------------------------------------

    /**
     * JSON.stringify(ydoc.toJSON()) with every root read as the kind {@link YType#kind()} infers; a root whose
     * kind nothing shows renders as an empty text ("") when it held list items, as {} when it held map entries.
     */
    public static String toJson(YDocument doc) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String name : doc.rootNames()) {
            out.put(name, toJsonValue(doc.root(name)));
        }
        return JsValues.stringify(out);
    }

    /** type.toJSON() of yjs for the type's kind, as a plain value. */
    public static Object toJsonValue(YType type) {
        return switch (type.kind()) {
            case MAP, XML_HOOK, UNKNOWN_MAP -> {
                Map<String, Object> out = new LinkedHashMap<>();
                type.attributes().forEach((k, v) -> out.put(k, plain(v)));
                yield out;
            }
            case ARRAY -> {
                List<Object> out = new ArrayList<>();
                for (Object v : type.elements()) {
                    out.add(plain(v));
                }
                yield out;
            }
            case TEXT -> type.text();
            case UNKNOWN_LIST -> "";
            case XML_TEXT, XML_ELEMENT, XML_FRAGMENT -> xmlString(type);
        };
    }

    /** What JSON.stringify makes of an element: shared types via their toJSON, subdocuments via Doc.toJSON. */
    private static Object plain(Object v) {
        if (v instanceof YType t) {
            return toJsonValue(t);
        }
        if (v instanceof SubDocument) {
            return new LinkedHashMap<String, Object>();      // a subdocument's own content is not in this update
        }
        return v;
    }

    /** String(value) for values found in documents, shared types by their toString. */
    private static String str(Object v) {
        if (v instanceof YType t) {
            return switch (t.kind()) {
                case XML_TEXT, XML_ELEMENT, XML_FRAGMENT -> xmlString(t);
                case TEXT -> t.text();
                default -> "[object Object]";
            };
        }
        if (v instanceof SubDocument) {
            return "[object Object]";
        }
        return JsValues.jsString(v);
    }

    /** YXmlFragment / YXmlElement / YXmlText toString. */
    static String xmlString(YType type) {
        if (type.kind() == Kind.XML_TEXT) {
            return xmlTextString(type);
        }
        StringBuilder children = new StringBuilder();
        for (Object child : type.elements()) {
            children.append(str(child));
        }
        if (type.kind() != Kind.XML_ELEMENT) {
            return children.toString();
        }
        Map<String, Object> attrs = type.attributes();
        List<String> keys = new ArrayList<>(attrs.keySet());
        keys.sort(String::compareTo);
        StringBuilder sb = new StringBuilder();
        String nodeName = type.name().toLowerCase(java.util.Locale.ROOT);
        sb.append('<').append(nodeName);
        for (String key : keys) {
            sb.append(' ').append(key).append("=\"").append(str(attrs.get(key))).append('"');
        }
        return sb.append('>').append(children).append("</").append(nodeName).append('>').toString();
    }

    private static String xmlTextString(YType type) {
        StringBuilder sb = new StringBuilder();
        for (Delta d : type.delta()) {
            List<String> names = new ArrayList<>(d.attributes() == null ? List.of() : JsValues.keyOrder(d.attributes()));
            names.sort(String::compareTo);
            for (String name : names) {
                sb.append('<').append(name);
                Map<String, Object> attrs = forInEntries(d.attributes().get(name));
                List<String> keys = new ArrayList<>(attrs.keySet());
                keys.sort(String::compareTo);
                for (String key : keys) {
                    sb.append(' ').append(key).append("=\"").append(str(attrs.get(key))).append('"');
                }
                sb.append('>');
            }
            sb.append(str(d.insert()));
            for (int i = names.size() - 1; i >= 0; i--) {
                sb.append("</").append(names.get(i)).append('>');
            }
        }
        return sb.toString();
    }

    /** The (key, value) pairs {@code for (const key in value)} visits. */
    private static Map<String, Object> forInEntries(Object v) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (v instanceof Map<?, ?> m) {
            for (String k : JsValues.keyOrder(m)) {
                out.put(k, m.get(k));
            }
        } else if (v instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                out.put(Integer.toString(i), l.get(i));
            }
        } else if (v instanceof String s) {
            for (int i = 0; i < s.length(); i++) {
                out.put(Integer.toString(i), String.valueOf(s.charAt(i)));
            }
        } else if (v instanceof byte[] b) {
            for (int i = 0; i < b.length; i++) {
                out.put(Integer.toString(i), (long) (b[i] & 0xFF));
            }
        }
        return out;
    }

    // ---- ProseMirror ------------------------------------------------------------------------------------------

    /** The root named {@code field} read as an XML fragment; NotConvertible when absent or of another kind. */
    public static YType fragment(YDocument doc, String field) {
        YType root = doc.root(field);
        if (root == null) {
            throw new NotConvertible("the document has no top-level type named \"" + field + "\"");
        }
        Kind kind = root.kind();
        if (kind != Kind.XML_FRAGMENT && kind != Kind.UNKNOWN_LIST && kind != Kind.UNKNOWN_MAP) {
            throw new NotConvertible("\"" + field + "\" holds a " + describe(kind) + ", not an XML fragment");
        }
        return root;
    }

    private static String describe(Kind kind) {
        return switch (kind) {
            case ARRAY -> "Y.Array";
            case MAP -> "Y.Map";
            case TEXT -> "Y.Text";
            default -> kind.name();
        };
    }

    /** JSON.stringify(yXmlFragmentToProsemirrorJSON(ydoc.getXmlFragment(field))) of y-prosemirror 1.3. */
    public static String prosemirrorJson(YDocument doc, String field) {
        YType fragment = fragment(doc, field);
        List<Object> content = new ArrayList<>();
        for (Object child : fragment.elements()) {
            content.add(serialize(child));      // not flattened at the top, as in y-prosemirror
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("type", "doc");
        out.put("content", content);
        return JsValues.stringify(out);
    }

    private static Object serialize(Object node) {
        if (node instanceof YType t && t.kind() == Kind.XML_TEXT) {
            List<Object> texts = new ArrayList<>();
            for (Delta d : t.delta()) {
                Map<String, Object> text = new LinkedHashMap<>();
                text.put("type", "text");
                text.put("text", plain(d.insert()));
                if (d.attributes() != null) {
                    List<Object> marks = new ArrayList<>();
                    for (String key : JsValues.keyOrder(d.attributes())) {
                        Map<String, Object> mark = new LinkedHashMap<>();
                        Matcher m = HASHED_MARK.matcher(key);
                        mark.put("type", m.matches() ? m.group(1) : key);
                        mark.put("attrs", d.attributes().get(key));
                        marks.add(mark);
                    }
                    text.put("marks", marks);
                }
                texts.add(text);
            }
            return texts;
        }
        if (node instanceof YType t && t.kind() == Kind.XML_ELEMENT) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("type", t.name());
            Map<String, Object> attrs = t.attributes();
            if (!attrs.isEmpty()) {
                out.put("attrs", attrs);
            }
            List<Object> children = t.elements();
            if (!children.isEmpty()) {
                List<Object> content = new ArrayList<>();
                for (Object child : children) {
                    Object s = serialize(child);
                    if (s instanceof List<?> list) {
                        content.addAll(list);      // .flat()
                    } else {
                        content.add(s);
                    }
                }
                out.put("content", content);
            }
            return out;
        }
        throw new NotConvertible("the fragment holds " + (node instanceof YType t ? "a " + t.kind() : "a non-XML value")
                + ", which ProseMirror JSON cannot express (y-prosemirror refuses it too)");
    }

    // ---- plain text -------------------------------------------------------------------------------------------

    /**
     * Plain text of the root {@code field}. For an XML fragment: the text of every text block, joined by "\n". A
     * text block is an element with a text child (a paragraph, heading, code block), or an element without
     * children where blocks stand (an empty paragraph gives an empty line; so does a horizontal rule). Inside a
     * text block, XML text contributes its characters (embeds contribute nothing), {@code hard_break} /
     * {@code hardBreak} a "\n", other inline elements their own text. Containers (lists, list items, blockquotes)
     * add nothing but their blocks. A Y.Text field gives its string.
     */
    public static String plainText(YDocument doc, String field) {
        YType root = doc.root(field);
        if (root != null && root.kind() == Kind.TEXT) {
            return root.text();
        }
        YType fragment = fragment(doc, field);
        List<String> blocks = new ArrayList<>();
        collectBlocks(fragment, blocks);
        return String.join("\n", blocks);
    }

    private static void collectBlocks(YType container, List<String> blocks) {
        for (Object child : container.elements()) {
            if (!(child instanceof YType t)) {
                continue;
            }
            if (t.kind() == Kind.XML_TEXT) {
                blocks.add(t.text());
            } else if (t.kind() == Kind.XML_ELEMENT) {
                List<Object> children = t.elements();
                if (children.isEmpty() || hasText(children)) {
                    StringBuilder sb = new StringBuilder();
                    inlineText(children, sb);
                    blocks.add(sb.toString());
                } else {
                    collectBlocks(t, blocks);
                }
            }
        }
    }

    private static boolean hasText(List<Object> children) {
        for (Object c : children) {
            if (c instanceof YType t && t.kind() == Kind.XML_TEXT) {
                return true;
            }
        }
        return false;
    }

    private static void inlineText(List<Object> children, StringBuilder sb) {
        for (Object c : children) {
            if (c instanceof YType t) {
                if (t.kind() == Kind.XML_TEXT) {
                    sb.append(t.text());
                } else if (t.kind() == Kind.XML_ELEMENT) {
                    if (t.name().equals("hard_break") || t.name().equals("hardBreak")) {
                        sb.append('\n');
                    } else {
                        inlineText(t.elements(), sb);
                    }
                }
            }
        }
    }
}
