package dev.collab.store;

/**
 * What a document holds, fixed by its first write: a Yjs document (updates) or a ProseMirror steps document.
 * One id never holds both, so every client of a document sees the same content.
 */
public enum DocumentKind {
    YJS("yjs"), STEPS("steps");

    private final String wire;

    DocumentKind(String wire) {
        this.wire = wire;
    }

    /** The name used in the database, the HTTP API and error messages. */
    public String wire() {
        return wire;
    }

    /** The kind named {@code wire}, or null for null. */
    public static DocumentKind of(String wire) {
        if (wire == null) {
            return null;
        }
        for (DocumentKind k : values()) {
            if (k.wire.equals(wire)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown document kind " + wire);
    }
}
