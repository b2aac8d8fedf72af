-- A Yjs document's compacted (merged) state, stored in parts. Compaction writes the parts of a new state in
-- transactions of their own, so other documents' commits are not queued behind one write of tens of MiB; then one
-- small transaction makes the new generation current. Only the current generation's parts are read, and only the
-- yjs_updates rows after its upto_seq: the rows it covers, the previous generation's parts and the parts of a
-- generation never made current (a crash while staging) are garbage the store deletes in small pieces.
-- Documents compacted before this migration keep their merged row in yjs_updates until their next compaction.
CREATE TABLE yjs_states (
    document_id TEXT    PRIMARY KEY REFERENCES documents(id),
    generation  INTEGER NOT NULL,             -- whose yjs_state_parts rows hold the state
    upto_seq    INTEGER NOT NULL,             -- the last update seq the state covers
    bytes       INTEGER NOT NULL,             -- the state's length (sum of its parts)
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- A rowid table: SQLite advises WITHOUT ROWID only for rows far smaller than a page, these are up to 1 MiB.
CREATE TABLE yjs_state_parts (
    document_id TEXT    NOT NULL REFERENCES documents(id),
    generation  INTEGER NOT NULL,
    part        INTEGER NOT NULL,             -- 0, 1, ...: the state is the parts' bytes in this order
    data        BLOB    NOT NULL,
    PRIMARY KEY (document_id, generation, part)
);
