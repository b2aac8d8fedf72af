// `./collab import-sqlite FILE`: a single node's SQLite history (Yjs documents with their compacted log,
// ProseMirror steps documents) copied into a real PostgreSQL (Debian's, started here on loopback); a node on that
// PostgreSQL then serves the same documents, appends continue the imported sequence, and a second run copies nothing
// twice.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as Y from 'yjs';
import { missingServers, startPostgres } from '../lib/cluster.mjs';
import { PMEditor, settle } from '../lib/pm-editor.mjs';
import { runLauncher, startServer } from '../lib/server.mjs';
import { JsonYjsPeer } from '../lib/yjs-clients.mjs';

const launcher = (args, env) => runLauncher(args, env);

const text = (state) => { const d = new Y.Doc(); Y.applyUpdate(d, state); const t = d.getMap('m').toJSON(); d.destroy(); return t; };

describe('./collab import-sqlite FILE', () => {
  let skipReason = null;
  let pg;
  before(async () => {
    skipReason = missingServers();
    if (!skipReason) pg = await startPostgres();
  }, { timeout: 120_000 });
  after(async () => { await pg?.stop(); });

  test('copies every document of a node into PostgreSQL; a node there serves them; a second run skips them all', async (t) => {
    if (skipReason) { t.skip(skipReason); return; }
    // a single node on SQLite, with a low compaction threshold so that the log it leaves is partly compacted
    const sqlite = await startServer({ env: { COLLAB_COMPACTION_UPDATES: '10' } });
    const yIds = [1, 2, 3].map((i) => `imp-y${i}-${randomUUID().slice(0, 6)}`);
    const pmId = `imp-pm-${randomUUID().slice(0, 6)}`;
    for (const id of yIds) {
      const peer = new JsonYjsPeer(sqlite, id, 'writer');
      await peer.connect();
      for (let i = 0; i < 25; i++) peer.doc.getMap('m').set(`k${i}`, `${id}:${i}`);
      await peer.whenAcknowledged(10_000);
      peer.destroy();
    }
    const editors = [1, 2].map((seed) => new PMEditor({ server: sqlite, documentId: pmId, seed }));
    await Promise.all(editors.map((e) => e.connect()));
    for (const e of editors) e.randomEdits(6);
    await settle(editors);
    const pmVersion = editors[0].version;
    await Promise.all(editors.map((e) => e.disconnect()));
    const before = {};
    for (const id of yIds) before[id] = text(new Uint8Array(await (await sqlite.fetch(`/documents/${id}/yjs`, { admin: true })).arrayBuffer()));
    const stepsBefore = (await sqlite.getJson(`/documents/${pmId}/steps?from=0`, { admin: true })).body;
    await sqlite.stop();

    const db = `import_${process.pid}`;
    const env = { COLLAB_POSTGRES_URL: await pg.createDatabase(db), COLLAB_POSTGRES_USER: 'collab' };
    const r = await launcher(['import-sqlite', sqlite.dbPath], env);
    assert.equal(r.code, 0, r.stderr);
    const m = /^collab: imported (\d+) documents \((\d+) Yjs updates, (\d+) steps, (\d+) snapshots\)/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(Number(m[1]), 4, 'three Yjs documents and one steps document');
    assert.equal(Number(m[3]), pmVersion, 'every step');
    console.log(`cluster figures: import-sqlite: ${r.stdout.trim()}`);

    const rows = await pg.query(db, "SELECT id, kind, update_seq, (SELECT MAX(seq) FROM yjs_updates u WHERE u.document_id = d.id) FROM documents d ORDER BY id");
    for (const [id, kind, seq, maxSeq] of rows) {
      assert.equal(kind, id.startsWith('imp-pm') ? 'steps' : 'yjs', `${id}: its kind`);
      if (kind === 'yjs') assert.equal(seq, maxSeq, `${id}: the counter is at the last imported sequence number`);
    }

    // a node on PostgreSQL serves the imported documents as the SQLite node did
    const node = await startServer({ env: { ...env, COLLAB_STORE: 'postgres' } });
    try {
      for (const id of yIds) {
        const res = await node.fetch(`/documents/${id}/yjs`, { admin: true });
        assert.equal(res.status, 200);
        assert.deepEqual(text(new Uint8Array(await res.arrayBuffer())), before[id], `${id}: same content`);
      }
      assert.deepEqual((await node.getJson(`/documents/${pmId}/steps?from=0`, { admin: true })).body, stepsBefore, 'same steps');
      // a new write continues the imported sequence
      const [, , seqBefore] = rows.find(([id]) => id === yIds[0]);
      const peer = new JsonYjsPeer(node, yIds[0], 'after-import');
      await peer.connect();
      assert.deepEqual(peer.doc.getMap('m').toJSON(), before[yIds[0]], 'a client joining on PostgreSQL gets the imported state');
      peer.doc.getMap('m').set('after', 'import');
      await peer.whenAcknowledged(10_000);
      peer.destroy();
      const [[seqAfter]] = await pg.query(db, `SELECT update_seq FROM documents WHERE id = '${yIds[0]}'`);
      assert.equal(Number(seqAfter), Number(seqBefore) + 1);
      // an editor continues the steps document from the imported version
      const ed = new PMEditor({ server: node, documentId: pmId, seed: 9 });
      await ed.connect();
      assert.equal(ed.version, pmVersion);
      assert.deepEqual(ed.docJSON(), editors[0].docJSON());
      await ed.disconnect();
    } finally {
      await node.dispose();
    }

    const again = await launcher(['import-sqlite', sqlite.dbPath], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /imported 0 documents .*; 4 already in PostgreSQL, left alone: /);
    await sqlite.dispose();
  });

  test('usage and a missing file: one line, exit 2', async () => {
    for (const [args, pattern] of [[[], /^collab: usage: \.\/collab import-sqlite FILE/], [['/nonexistent/collab.db'], /^collab: \/nonexistent\/collab\.db is not a file/]]) {
      const r = await launcher(['import-sqlite', ...args], {});
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr.trim(), pattern);
    }
  });
});
