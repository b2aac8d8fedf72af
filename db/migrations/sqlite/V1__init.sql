-- Documents known to the server. A row is created on the first stored change.
CREATE TABLE documents (
    id          TEXT    PRIMARY KEY,
    created_at  INTEGER NOT NULL              -- epoch milliseconds
);

-- Yjs updates, append-only per document. Compaction replaces a prefix of the log by one merged update
-- that keeps the sequence number of the last update it covers.
CREATE TABLE yjs_updates (
    document_id TEXT    NOT NULL REFERENCES documents(id),
    seq         INTEGER NOT NULL,
    data        BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (document_id, seq)
) WITHOUT ROWID;

-- ProseMirror steps accepted by the collab authority. version = the document version the step applies to
-- (0 for the first step), so a document at version V has steps 0..V-1.
CREATE TABLE pm_steps (
    document_id TEXT    NOT NULL REFERENCES documents(id),
    version     INTEGER NOT NULL,
    step        TEXT    NOT NULL,             -- the step as JSON
    client_id   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (document_id, version)
) WITHOUT ROWID;
