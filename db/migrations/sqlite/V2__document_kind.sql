-- A document is either a Yjs document or a ProseMirror steps document, fixed by its first write: the two
-- histories are unrelated contents, so one id must not hold both. NULL only for a row that has no content.
ALTER TABLE documents ADD COLUMN kind TEXT CHECK (kind IN ('yjs', 'steps'));

-- Existing documents take the kind of their earliest stored row (a document that already holds both keeps
-- whichever came first; the other history stays readable but takes no more writes). Ties count as yjs.
UPDATE documents SET kind = CASE
    WHEN (SELECT MIN(created_at) FROM pm_steps s WHERE s.document_id = documents.id) IS NULL THEN 'yjs'
    WHEN (SELECT MIN(created_at) FROM yjs_updates u WHERE u.document_id = documents.id) IS NULL THEN 'steps'
    WHEN (SELECT MIN(created_at) FROM pm_steps s WHERE s.document_id = documents.id)
         < (SELECT MIN(created_at) FROM yjs_updates u WHERE u.document_id = documents.id) THEN 'steps'
    ELSE 'yjs' END
WHERE EXISTS (SELECT 1 FROM pm_steps s WHERE s.document_id = documents.id)
   OR EXISTS (SELECT 1 FROM yjs_updates u WHERE u.document_id = documents.id);
