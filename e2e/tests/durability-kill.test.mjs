// Nothing acknowledged is lost, whatever happens to the server process: for each protocol, writes go on while the
// server is killed with SIGKILL, and after a restart on the same database every write the client saw acknowledged
// (JSON ack / echoed steps, y-websocket relay to a second client — that protocol has no ack, and the server relays
// only after the commit —, Hocuspocus unsyncedChanges == 0) is there. Also a clean stop (SIGTERM: clients see 1012)
// and SIGKILL while compactions are running.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { JsonClient } from '../lib/json-client.mjs';
import { startServer } from '../lib/server.mjs';
import { Y, YjsClients, adminDoc, until, untilAsync } from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 240_000;
const WAIT = { timeout: 30_000 };
process.setMaxListeners(100);

const docId = (label) => `dur-${label}-${randomUUID().slice(0, 8)}`;
const b64 = (u) => Buffer.from(u).toString('base64');

let server;
let clients;
let jsonClients = [];

before(async () => {
  server = await startServer();
  clients = new YjsClients(server);
});
afterEach(async () => {
  await Promise.all(jsonClients.map((c) => c.terminate()));
  jsonClients = [];
  await clients.destroyAll();
});
after(async () => { await server?.dispose(); });

async function json(documentId, clientID) {
  const c = await JsonClient.connect(server.fabricUrl(documentId, clientID), { timeout: WAIT.timeout, name: `json ${clientID}@${documentId}` });
  jsonClients.push(c);
  await c.next('connected', WAIT);
  return c;
}

/** SIGKILL, then start again on the same database (new port). */
async function killAndRestart() {
  const { signal } = await server.kill();
  assert.equal(signal, 'SIGKILL');
  await server.start();
}

/** The document as stored (GET /documents/{id}/yjs, admin token), asserting it decodes completely. */
async function storedDoc(documentId) {
  const res = await server.fetch(`/documents/${encodeURIComponent(documentId)}/yjs`, { admin: true });
  assert.equal(res.status, 200, `GET /documents/${documentId}/yjs`);
  const doc = new Y.Doc();
  Y.applyUpdate(doc, new Uint8Array(await res.arrayBuffer()));
  assert.equal(doc.store.pendingStructs, null, `${documentId}: the stored state has no gaps`);
  assert.equal(doc.store.pendingDs, null, `${documentId}: the stored state has no dangling deletes`);
  return doc;
}

function assertAllThere(items, acknowledged, what) {
  const have = new Set(items);
  const missing = acknowledged.filter((x) => !have.has(x));
  assert.deepEqual(missing, [], `${what}: ${missing.length} of ${acknowledged.length} acknowledged writes are missing`);
}

/**
 * Keeps sending Yjs updates (one array item each, `payload` bytes of padding) over a JSON client with up to
 * `window` unacknowledged, until the socket closes. `acked` holds the items whose ack arrived.
 */
function jsonUpdateWriter(client, prefix, { window = 8, payload = 16 } = {}) {
  const doc = new Y.Doc();
  const log = doc.getArray('log');
  const updates = [];
  doc.on('update', (u) => updates.push(u));
  const acked = [];
  const items = new Map(); // id -> item
  const done = (async () => {
    let next = 0;
    let inflight = 0;
    try {
      for (;;) {
        while (inflight < window) {
          const item = `${prefix}-${next}`;
          log.push([{ item, pad: 'x'.repeat(payload) }]);
          items.set(next, item);
          client.send({ type: 'update', update: b64(updates[next]), id: next });
          next++;
          inflight++;
        }
        const ack = await client.next('ack', { timeout: 60_000 });
        acked.push(items.get(ack.id));
        inflight--;
      }
    } catch {
      // the socket closed (the server was killed): stop
    }
    return next;
  })();
  return { acked, done };
}

/** Items of a stored document's "log" array. */
const logItems = (doc) => doc.getArray('log').toArray().map((v) => (typeof v === 'string' ? v : v.item));

test('JSON protocol: every acknowledged update and every echoed step survives kill -9 mid-write', { timeout: TEST_TIMEOUT }, async () => {
  const updatesDoc = docId('json-upd');
  const stepsDoc = docId('json-steps');
  const writer = jsonUpdateWriter(await json(updatesDoc, 'writer'), 'u');
  const stepper = await json(stepsDoc, 'stepper');
  const stepsAcked = [];
  const steps = (async () => {
    try {
      for (let v = 0; ; v++) {
        stepper.send({ type: 'steps', version: v, steps: [{ stepType: 'replace', from: 1, to: 1, slice: { content: [{ type: 'text', text: `s${v}` }] } }] });
        const echo = await stepper.waitFor((m) => m.type === 'steps' || m.type === 'conflict' || m.type === 'error', { timeout: 60_000 });
        assert.equal(echo.type, 'steps', JSON.stringify(echo));
        assert.equal(echo.version, v);
        stepsAcked.push(v);
      }
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
    }
  })();
  await until(() => writer.acked.length >= 200 && stepsAcked.length >= 40,
    { timeout: 60_000, what: '200 acknowledged updates and 40 echoed steps', detail: () => `${writer.acked.length} updates, ${stepsAcked.length} steps` });
  await killAndRestart(); // writes are in flight on both connections
  const sent = await writer.done;
  await steps;
  assert.ok(sent > writer.acked.length, 'some updates were still unacknowledged at the kill');

  assertAllThere(logItems(await storedDoc(updatesDoc)), writer.acked, 'stored updates');
  const stored = await server.getJson(`/documents/${stepsDoc}/steps?since=0`, { admin: true });
  assert.equal(stored.status, 200);
  assert.ok(stored.body.version >= stepsAcked.length, `version ${stored.body.version} >= ${stepsAcked.length} echoed steps`);
  stored.body.steps.forEach((s, i) => assert.equal(s.slice.content[0].text, `s${i}`, `step ${i} in order`));
  // and a real client sees it all: a fresh JSON client catching up from scratch
  const peer = await clients.json(updatesDoc, 'after-restart');
  assertAllThere(logItems(peer.doc), writer.acked, 'a fresh client after the restart');
  const late = await json(stepsDoc, 'late');
  late.send({ type: 'sync', version: 0 });
  const catchUp = await late.collectUntil((m) => m.type === 'synced', WAIT);
  assert.equal(catchUp.at(-1).version, stored.body.version);
  assert.equal(catchUp.filter((m) => m.type === 'steps').reduce((n, m) => n + m.steps.length, 0), stored.body.version);
});

test('y-websocket: every update relayed to another client (so committed) survives kill -9', { timeout: TEST_TIMEOUT }, async () => {
  const documentId = docId('yws');
  const w = clients.yws(documentId, { name: 'writer' });
  const r = clients.yws(documentId, { name: 'reader' });
  await Promise.all([w.whenSynced(WAIT.timeout), r.whenSynced(WAIT.timeout)]);
  const wlog = w.doc.getArray('log');
  const rlog = r.doc.getArray('log');
  for (let i = 0; i < 150; i++) {
    wlog.push([`y-${i}`]);
    // keep a few in flight; what the reader has is what the server committed
    if (i >= 4) await until(() => rlog.length >= i - 4, { ...WAIT, what: `the reader to get item ${i - 4}` });
  }
  for (let i = 150; i < 160; i++) wlog.push([`y-${i}`]);
  const acknowledged = rlog.toArray();
  await killAndRestart();
  w.destroy();
  r.destroy();
  assert.ok(acknowledged.length >= 140, `${acknowledged.length} relayed before the kill`);
  assertAllThere(logItems(await storedDoc(documentId)), acknowledged, 'stored');
  const fresh = clients.yws(documentId, { name: 'fresh' });
  await fresh.whenSynced(WAIT.timeout);
  assertAllThere(fresh.doc.getArray('log').toArray(), acknowledged, 'a fresh y-websocket provider after the restart');
});

test('Hocuspocus: every change with unsyncedChanges back at 0 survives kill -9', { timeout: TEST_TIMEOUT }, async () => {
  const documentId = docId('hocus');
  const h = clients.hocus(documentId, { name: 'writer' });
  await h.whenSynced(WAIT.timeout);
  const log = h.doc.getArray('log');
  const acknowledged = [];
  for (let i = 0; i < 120; i++) {
    log.push([`h-${i}`]);
    if (i % 3 === 2) {
      await h.whenAcknowledged(WAIT.timeout);
      acknowledged.splice(0, acknowledged.length, ...log.toArray());
    }
  }
  for (let i = 120; i < 130; i++) log.push([`h-${i}`]);
  assert.ok(h.provider.unsyncedChanges > 0, 'the last changes are in flight at the kill');
  await killAndRestart();
  h.destroy();
  assertAllThere(logItems(await storedDoc(documentId)), acknowledged, 'stored');
  const fresh = clients.hocus(documentId, { name: 'fresh' });
  await fresh.whenSynced(WAIT.timeout);
  assertAllThere(fresh.doc.getArray('log').toArray(), acknowledged, 'a fresh Hocuspocus provider after the restart');
});

test('clean stop (SIGTERM): every client sees close code 1012 and nothing is lost', { timeout: TEST_TIMEOUT }, async () => {
  const documentId = docId('stop');
  const j = await json(documentId, 'json');
  const jdoc = new Y.Doc();
  jdoc.getArray('log').push(['json-item']);
  j.send({ type: 'update', update: b64(Y.encodeStateAsUpdate(jdoc)), id: 1 });
  await j.next('ack', WAIT);
  const y = clients.yws(documentId, { name: 'yws' });
  const h = clients.hocus(documentId, { name: 'hocus' });
  await Promise.all([y.whenSynced(WAIT.timeout), h.whenSynced(WAIT.timeout)]);
  y.doc.getArray('log').push(['yws-item']);
  h.doc.getArray('log').push(['hocus-item']);
  await h.whenAcknowledged(WAIT.timeout);
  await until(() => h.doc.getArray('log').length === 3 && y.doc.getArray('log').length === 3, { ...WAIT, what: 'all three items everywhere' });

  const stopped = await server.stop();
  assert.equal(stopped.forced, false, 'the server exits by itself on SIGTERM');
  assert.equal((await j.closed).code, 1012, 'JSON client: 1012 service restart');
  await until(() => y.closes.some((c) => c?.code === 1012), { ...WAIT, what: 'the y-websocket provider to see 1012', detail: () => JSON.stringify(y.closes) });
  await until(() => h.events.close.some((c) => c?.code === 1012), { ...WAIT, what: 'the Hocuspocus provider to see 1012', detail: () => JSON.stringify(h.events.close) });
  y.destroy();
  h.destroy();
  assert.match(server.stdout + server.stderr, /stopping: closing connections with 1012/);
  await server.start();
  assert.deepEqual(logItems(await storedDoc(documentId)).sort(), ['hocus-item', 'json-item', 'yws-item']);
});

test('kill -9 while compactions are running (COLLAB_COMPACTION_UPDATES=4): the content is complete after restart', { timeout: TEST_TIMEOUT }, async () => {
  server.extraEnv.COLLAB_COMPACTION_UPDATES = '4';
  try {
    await server.restart();
    const docs = [docId('compact-a'), docId('compact-b'), docId('compact-c')];
    const acknowledged = new Map(docs.map((d) => [d, []]));
    for (let round = 0; round < 2; round++) {
      // three documents written fast, each compacting every 4 updates (a growing merged state each time)
      const writers = await Promise.all(docs.map(async (d) => jsonUpdateWriter(await json(d, `w${round}`), `${d}-r${round}`,
        { window: 16, payload: 400 })));
      await until(() => writers.every((w) => w.acked.length >= 150), { timeout: 90_000, what: 'every writer to have 150 acknowledged updates', detail: () => writers.map((w) => w.acked.length).join(',') });
      // compaction is running: fewer stored rows than acknowledged updates
      const summary = await adminDoc(server, docs[0]);
      assert.ok(summary.updates < writers[0].acked.length, `compacted: ${summary.updates} rows for ${writers[0].acked.length}+ updates`);
      await killAndRestart();
      await Promise.all(writers.map((w) => w.done));
      docs.forEach((d, i) => acknowledged.get(d).push(...writers[i].acked));
      for (const d of docs) assertAllThere(logItems(await storedDoc(d)), acknowledged.get(d), `${d} after kill ${round + 1}`);
    }
    for (const d of docs) {
      const peer = await clients.json(d, 'check');
      assertAllThere(logItems(peer.doc), acknowledged.get(d), `${d}: a fresh client`);
      const summary = await adminDoc(server, d);
      assert.ok(summary.updates < acknowledged.get(d).length / 2, `${d}: the log was compacted (${summary.updates} rows)`);
    }
  } finally {
    delete server.extraEnv.COLLAB_COMPACTION_UPDATES;
  }
});
