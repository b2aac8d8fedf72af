// Graceful shutdown: SIGTERM with clients of all three protocols connected, then a restart on the same database
// (and the same port, so the stock providers reconnect by themselves). Nothing acknowledged may be lost.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { connectFabric } from '../lib/json-client.mjs';
import { startServer } from '../lib/server.mjs';
import { Y, YjsClients, describeDiff, mulberry32, randomEdit, sameDoc, until, withDeadline } from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 180_000;
const WAIT = { timeout: 20_000 };
const EXIT_BOUND_MS = 15_000;          // SIGTERM to process exit
const RECONNECT_TIMEOUT_MS = 90_000;   // JVM start-up on a loaded machine + the providers' backoff
const enc = encodeURIComponent;
const docId = (label) => `ops-stop-${label}-${randomUUID().slice(0, 8)}`;

let server;
let yjs;
let jsonClients = [];

before(async () => {
  server = await startServer({ env: { COLLAB_MESSAGES_PER_SECOND: '100000' } });
  // restarts reuse the port, so the stock clients can reconnect on their own
  server.extraEnv.SERVER_PORT = String(server.port);
  yjs = new YjsClients(server);
});
afterEach(async () => {
  await Promise.all(jsonClients.map((c) => c.close()));
  jsonClients = [];
  await yjs.destroyAll();
});
after(async () => { await server?.dispose(); });

async function json(documentId, clientID) {
  const c = await connectFabric(server, documentId, clientID, { timeout: WAIT.timeout });
  jsonClients.push(c);
  await c.next('connected', WAIT);
  return c;
}

/** SIGTERM and wait for the exit; asserts it was not forced and took less than EXIT_BOUND_MS. */
async function sigterm() {
  const started = performance.now(); // monotonic: this VM's wall clock can jump
  const result = await server.stop({ graceMs: EXIT_BOUND_MS + 10_000 });
  const elapsed = performance.now() - started;
  assert.equal(result.forced, false, `the server did not exit on SIGTERM (SIGKILLed after the grace period)\n${server.stderr.slice(-3000)}`);
  assert.ok(elapsed < EXIT_BOUND_MS, `the server took ${elapsed} ms to exit after SIGTERM`);
  assert.match(server.stderr, /stopping: closing connections with 1012/);
  assert.match(server.stderr, /stopped; every committed change is in/);
  return { ...result, elapsed };
}

async function restart() {
  await server.start();
  assert.equal(String(server.port), server.extraEnv.SERVER_PORT, 'restarted on the same port');
}

async function stepsOf(documentId) {
  const r = await server.getJson(`/documents/${enc(documentId)}/steps?since=0`, { admin: true });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

async function stateOf(documentId) {
  const res = await server.fetch(`/documents/${enc(documentId)}/yjs`, { admin: true, signal: AbortSignal.timeout(WAIT.timeout) });
  assert.equal(res.status, 200);
  const doc = new Y.Doc();
  Y.applyUpdate(doc, new Uint8Array(await res.arrayBuffer()));
  return doc;
}

const step = (n, text) => ({ stepType: 'replace', from: n, to: n, slice: { content: [{ type: 'text', text }] } });

describe('SIGTERM', () => {
  test('closes JSON, y-websocket and Hocuspocus sockets with 1012, exits in bounded time, loses nothing acknowledged', { timeout: TEST_TIMEOUT }, async (t) => {
    const documentId = docId('all');

    // JSON: steps (confirmed by their broadcast) and a Yjs update (acked), on two documents: a document holds
    // steps or Yjs updates, never both (its kind is fixed by its first write)
    const stepsId = docId('all-steps');
    const js = await json(stepsId, 'json-1');
    const steps = [step(1, 'before'), step(7, ' shutdown')];
    js.send({ type: 'steps', version: 0, steps });
    assert.equal((await js.next('steps', WAIT)).version, 0);
    const j = await json(documentId, 'json-2');
    const side = new Y.Doc();
    side.getMap('map').set('from-json', 'acked before SIGTERM');
    j.send({ type: 'update', update: Buffer.from(Y.encodeStateAsUpdate(side)).toString('base64'), id: 'j1' });
    assert.equal((await j.next('ack', WAIT)).id, 'j1');

    // stock y-websocket provider, Hocuspocus provider, and a raw y-websocket socket
    const y = yjs.yws(documentId);
    const h = yjs.hocus(documentId);
    const raw = await yjs.raw(documentId);
    await Promise.all([y.whenSynced(WAIT.timeout), h.whenSynced(WAIT.timeout)]);
    const ry = mulberry32(5);
    const rh = mulberry32(6);
    for (let i = 0; i < 30; i++) {
      randomEdit(y.doc, ry, `y${i}`);
      randomEdit(h.doc, rh, `h${i}`);
    }
    // the Hocuspocus provider's changes are acknowledged only once committed; the y-websocket ones are relayed
    // only once committed, so convergence means they are durable too
    await h.whenAcknowledged(WAIT.timeout);
    await until(() => sameDoc(y.doc, h.doc) && y.doc.getMap('map').has('from-json'), {
      ...WAIT, what: 'all clients to converge', detail: () => describeDiff(y.doc, h.doc, ['yws', 'hocus']),
    });
    assert.equal(h.provider.unsyncedChanges, 0);
    const expected = new Y.Doc();
    Y.applyUpdate(expected, Y.encodeStateAsUpdate(h.doc));

    const { elapsed, code, signal } = await sigterm();

    // every socket was closed with 1012 (service restart)
    assert.equal((await withDeadline(j.closed, WAIT.timeout, 'the JSON client to be closed')).code, 1012);
    assert.equal(j.closeInfo.reason, 'server restarting');
    assert.equal((await withDeadline(js.closed, WAIT.timeout, 'the steps client to be closed')).code, 1012);
    assert.equal((await raw.whenClosed(WAIT.timeout)).code, 1012);
    await until(() => y.closes.length > 0 && h.events.close.length > 0, { ...WAIT, what: 'the providers to see the close' });
    assert.equal(y.closes[0]?.code, 1012, `y-websocket provider close events: ${JSON.stringify(y.closes)}`);
    assert.equal(h.events.close[0]?.code, 1012, `Hocuspocus provider close events: ${JSON.stringify(h.events.close)}`);
    t.diagnostic(`exit ${elapsed} ms after SIGTERM (code ${code}, signal ${signal})`);

    // an edit while the server is down stays in the provider until it reconnects
    h.doc.getText('text').insert(0, 'written while the server was down ');
    assert.ok(h.provider.unsyncedChanges > 0 || !h.provider.isSynced);

    await restart();
    // nothing acknowledged is lost
    assert.deepEqual(await stepsOf(stepsId), { version: 2, from: 0, to: 2, more: false, steps, clientIDs: ['json-1', 'json-1'] });
    const stored = await stateOf(documentId);
    assert.equal(stored.getMap('map').get('from-json'), 'acked before SIGTERM');
    // the stored state contains everything the clients had before SIGTERM: merging that in changes nothing
    // (the provider may already have reconnected and sent its offline edit: containment, not equality)
    const merged = new Y.Doc();
    Y.applyUpdate(merged, Y.encodeStateAsUpdate(stored));
    const storedSnapshot = Y.snapshot(merged);
    Y.applyUpdate(merged, Y.encodeStateAsUpdate(expected));
    assert.ok(Y.equalSnapshots(storedSnapshot, Y.snapshot(merged)),
      `something acknowledged before SIGTERM is missing after the restart: ${describeDiff(stored, expected, ['restarted', 'before SIGTERM'])}`);

    // the stock clients reconnect by themselves and converge, including the offline edit
    await until(() => h.provider.isSynced && h.provider.unsyncedChanges === 0 && y.provider.synced && sameDoc(y.doc, h.doc), {
      timeout: RECONNECT_TIMEOUT_MS, interval: 50, what: 'the providers to reconnect and converge',
      detail: () => `hocus synced=${h.provider.isSynced} unsynced=${h.provider.unsyncedChanges}; yws synced=${y.provider.synced}; ${describeDiff(y.doc, h.doc, ['yws', 'hocus'])}`,
    });
    assert.match(y.doc.getText('text').toString(), /^written while the server was down /);
    const final = await stateOf(documentId);
    assert.ok(sameDoc(final, h.doc), describeDiff(final, h.doc, ['server', 'hocus']));
  });

  test('SIGTERM during a burst of updates: every acknowledged update and step survives the restart', { timeout: TEST_TIMEOUT }, async (t) => {
    const documentId = docId('burst');
    const stepsDoc = docId('burst-steps');
    const writer = await json(documentId, 'burst-writer');
    const stepper = await json(stepsDoc, 'stepper');

    // 10000 Yjs updates, one map key each, all sent at once (pipelined, not waiting for acks)
    const N = 10_000;
    const source = new Y.Doc();
    const updates = [];
    source.on('update', (u) => updates.push(u));
    for (let i = 0; i < N; i++) source.getMap('burst').set(`k${i}`, i);
    assert.equal(updates.length, N);

    // meanwhile a steps writer: one step at a time, each confirmed by its broadcast before the next
    const confirmedSteps = [];
    let stepping = true;
    const stepLoop = (async () => {
      while (stepping && stepper.isOpen) {
        const v = confirmedSteps.length;
        const s = step(v + 1, `s${v}`);
        try {
          stepper.send({ type: 'steps', version: v, steps: [s] });
          const m = await stepper.next('steps', { timeout: 60_000 });
          assert.equal(m.version, v);
          confirmedSteps.push(s);
        } catch {
          return; // closed by the shutdown
        }
      }
    })();

    // a few confirmed steps first: waiting for them after the burst's start gave a fast server time to finish it
    await until(() => confirmedSteps.length >= 3, { timeout: 60_000, what: 'a few confirmed steps' });
    for (let i = 0; i < N; i++) {
      writer.send({ type: 'update', update: Buffer.from(updates[i]).toString('base64'), id: i });
    }
    // stop once the server is visibly in the middle of the burst
    await writer.until(() => writer.received.filter((m) => m.type === 'ack').length >= 200, {
      timeout: 60_000, what: '200 acks',
    });
    const { elapsed } = await sigterm();
    stepping = false;
    await stepLoop;

    const acked = writer.received.filter((m) => m.type === 'ack').map((m) => m.id);
    assert.ok(acked.length >= 200);
    assert.ok(acked.length < N, `the burst was still in flight at SIGTERM (${acked.length} of ${N} acked); make it larger`);
    assert.deepEqual(acked, acked.map((_, i) => i), 'acks come in order');
    assert.equal((await withDeadline(writer.closed, WAIT.timeout, 'the writer to be closed')).code, 1012);
    assert.deepEqual(writer.received.filter((m) => m.type === 'error'), [], 'no update was refused');

    await restart();
    const stored = await stateOf(documentId);
    const map = stored.getMap('burst');
    const missing = acked.filter((i) => map.get(`k${i}`) !== i);
    assert.deepEqual(missing, [], `acknowledged updates missing after the restart (${missing.length} of ${acked.length})`);
    // what was committed is a prefix of what was sent (updates are committed in order)
    const present = [...map.keys()].map((k) => Number(k.slice(1))).sort((a, b) => a - b);
    assert.deepEqual(present, present.map((_, i) => i), 'the stored updates are exactly the first ones sent');
    assert.ok(present.length >= acked.length);

    const history = await stepsOf(stepsDoc);
    t.diagnostic(`exit ${elapsed} ms after SIGTERM; updates: ${N} sent, ${acked.length} acked, ${present.length} stored; ` +
      `steps: ${confirmedSteps.length} confirmed, ${history.version} stored`);
    assert.ok(history.version >= confirmedSteps.length, `${history.version} steps stored, ${confirmedSteps.length} confirmed`);
    assert.deepEqual(history.steps.slice(0, confirmedSteps.length), confirmedSteps, 'every confirmed step is stored, in order');
  });
});
