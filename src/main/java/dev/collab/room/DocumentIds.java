package dev.collab.room;

/** The shape every protocol accepts for a document id: 1..256 characters, no control characters. */
public final class DocumentIds {
    public static final int MAX_LENGTH = 256;

    private DocumentIds() {
    }

    /** Null when {@code id} is acceptable, else a sentence saying what is wrong. */
    public static String problem(String id) {
        if (id == null || id.isEmpty()) {
            return "a document id is required";
        }
        if (id.length() > MAX_LENGTH) {
            return "the document id is longer than " + MAX_LENGTH + " characters";
        }
        for (int i = 0; i < id.length(); i++) {
            if (Character.isISOControl(id.charAt(i))) {
                return "the document id contains control characters";
            }
        }
        return null;
    }
}
