-- When a document last changed (epoch milliseconds), for listings, metadata and retention. Existing documents
-- take the time of their newest stored change.
ALTER TABLE documents ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE documents SET updated_at = MAX(created_at,
    COALESCE((SELECT MAX(created_at) FROM yjs_updates WHERE document_id = documents.id), 0),
    COALESCE((SELECT MAX(created_at) FROM pm_steps WHERE document_id = documents.id), 0));
CREATE INDEX documents_by_updated_at ON documents(updated_at);

-- The newest ProseMirror snapshot a client sent for a steps document: the document as JSON at `version`, so a
-- reader needs only the steps after it.
CREATE TABLE pm_snapshots (
    document_id TEXT    PRIMARY KEY REFERENCES documents(id),
    version     INTEGER NOT NULL,
    doc         TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
