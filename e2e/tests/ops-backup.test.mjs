// Online backup: `./collab backup FILE` while a client keeps writing. The copy must pass PRAGMA integrity_check,
// open in a server of its own (the README's restore), and hold every change acknowledged before the backup began.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { connectFabric } from '../lib/json-client.mjs';
import { LAUNCHER, REPO_ROOT, startServer } from '../lib/server.mjs';
import { Y } from '../lib/yjs-clients.mjs';

const WAIT = { timeout: 30_000 };
let server;
before(async () => { server = await startServer({ env: { COLLAB_MESSAGES_PER_SECOND: '100000' } }); });
after(async () => { await server?.dispose(); });

function launcher(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(LAUNCHER, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function sqliteIntegrity(file) {
  try {
    return execFileSync('sqlite3', [file, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim();
  } catch (err) {
    if (err.code === 'ENOENT') return null; // no sqlite3 CLI: the backup's own check (asserted below) stands
    throw err;
  }
}

test('a backup taken while writes flow is consistent and holds every change acknowledged before it', { timeout: 300_000 }, async () => {
  const documentId = `ops-backup-${randomUUID().slice(0, 8)}`;
  const writer = await connectFabric(server, documentId, 'writer', WAIT);
  await writer.next('connected', WAIT);
  const doc = new Y.Doc();
  const acked = [];
  let stop = false;
  let failure = null;
  const writing = (async () => {
    for (let i = 0; !stop; i++) {
      const sv = Y.encodeStateVector(doc);
      doc.getText('t').insert(doc.getText('t').length, `<${i}>`);
      writer.send({ type: 'update', update: Buffer.from(Y.encodeStateAsUpdate(doc, sv)).toString('base64'), id: i });
      const ack = await writer.waitFor((m) => m.type === 'ack' || m.type === 'error', WAIT);
      if (ack.type !== 'ack' || ack.id !== i) throw new Error(`update ${i} not acknowledged: ${JSON.stringify(ack)}`);
      acked.push(i);
    }
  })().catch((err) => { failure = err; });

  await writer.until(() => acked.length >= 30 || failure, { ...WAIT, what: '30 acknowledged updates' });
  const ackedBefore = acked.length;
  const file = path.join(server.dataDir, 'backup.db');
  const backup = await launcher(['backup', file, '--db', server.dbPath]);
  const ackedAfter = acked.length;
  stop = true;
  await writing;
  assert.equal(failure, null, String(failure));
  assert.equal(backup.code, 0, backup.stdout + backup.stderr);
  assert.match(backup.stdout, /collab: backup of .* written to .*backup\.db \(\d+ bytes, integrity_check ok\)/);
  assert.ok(ackedAfter > ackedBefore, `writes went on during the backup (${ackedBefore} -> ${ackedAfter} acknowledged)`);
  const integrity = sqliteIntegrity(file);
  if (integrity !== null) assert.equal(integrity, 'ok', 'sqlite3 PRAGMA integrity_check');
  await writer.close();

  // restore as the README says: a server started on the copy serves the document
  const restored = await startServer({ env: { COLLAB_DB_PATH: file } });
  try {
    const res = await restored.fetch(`/documents/${encodeURIComponent(documentId)}/yjs`, { admin: true });
    assert.equal(res.status, 200);
    const copy = new Y.Doc();
    Y.applyUpdate(copy, new Uint8Array(await res.arrayBuffer()));
    const text = copy.getText('t').toString();
    for (let i = 0; i < ackedBefore; i++) assert.ok(text.includes(`<${i}>`), `update ${i}, acknowledged before the backup, is in it`);
    assert.ok(text.startsWith('<0><1>'), 'in order');
  } finally {
    await restored.dispose();
  }
});

test('a backup never overwrites a file and says why', async () => {
  const file = path.join(server.dataDir, 'taken.db');
  writeFileSync(file, 'precious');
  const r = await launcher(['backup', file, '--db', server.dbPath]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /^collab: .*taken\.db already exists; a backup never overwrites a file$/m);
  assert.equal(statSync(file).size, 'precious'.length);
  const none = await launcher(['backup']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /usage: \.\/collab backup FILE \[--db PATH\]/);
  assert.ok(!existsSync(path.join(server.dataDir, 'taken.db.partial')), 'no partial file left behind');
});
