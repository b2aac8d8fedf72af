-- Documents known to the server. A row is created on the first stored change. update_seq is the document's
-- last update sequence number: appends take the next one under this row's lock, so numbers are gapless and in
-- commit order even with several nodes writing (an identity column is neither).
CREATE TABLE documents (
    id          TEXT    PRIMARY KEY,
    created_at  BIGINT  NOT NULL,             -- epoch milliseconds
    update_seq  BIGINT  NOT NULL DEFAULT 0,
    -- yjs or steps, fixed by the first write (one id never holds both); NULL only before any content
    kind        TEXT    CHECK (kind IN ('yjs', 'steps'))
);

-- Yjs updates, append-only per document. Compaction replaces a prefix of the log by one merged update
-- that keeps the sequence number of the last update it covers.
CREATE TABLE yjs_updates (
    document_id TEXT    NOT NULL REFERENCES documents(id),
    seq         BIGINT  NOT NULL,
    data        BYTEA   NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (document_id, seq)
);

-- ProseMirror steps accepted by the collab authority. version = the document version the step applies to
-- (0 for the first step). The primary key makes one of two nodes submitting at one version the only winner.
CREATE TABLE pm_steps (
    document_id TEXT    NOT NULL REFERENCES documents(id),
    version     INTEGER NOT NULL,
    step        TEXT    NOT NULL,             -- the step as JSON
    client_id   TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (document_id, version)
);

-- What SQLite's V3 added (this dialect starts with it): when a document last changed, and the newest
-- ProseMirror snapshot a client sent for a steps document.
ALTER TABLE documents ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX documents_by_updated_at ON documents(updated_at);

CREATE TABLE pm_snapshots (
    document_id TEXT    PRIMARY KEY REFERENCES documents(id),
    version     INTEGER NOT NULL,
    doc         TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
