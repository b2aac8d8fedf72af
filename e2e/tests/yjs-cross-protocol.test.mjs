// One document room shared by all three protocols: the stock y-websocket provider (/yjs), the stock Hocuspocus
// provider (/hocuspocus) and a JSON-protocol client (/ws/fabric) that applies and sends Yjs updates on its own
// Y.Doc. Edits, awareness and connection counts must agree across them.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
  Y, YjsClients, adminDoc, converged, describeDiff, docFromUpdates, docIds, mulberry32, randomEdit,
  recordLocalUpdates, sameDoc, tick, until, untilAsync,
} from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 20_000;
process.setMaxListeners(100);

const docId = docIds('x');

/** The numeric awareness ids under which a Yjs awareness instance holds a state matching `pred`. */
const idsWhere = (awareness, pred) => [...awareness.getStates()].filter(([, s]) => pred(s)).map(([id]) => id);

describe('one document through y-websocket, Hocuspocus and the JSON protocol', () => {
  let server;
  let clients;

  before(async () => {
    server = await startServer();
    clients = new YjsClients(server);
  });
  afterEach(async () => { await clients.destroyAll(); });
  after(async () => { await server?.dispose(); });

  test('random concurrent edits through all three protocols end identical everywhere', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('edit');
    const y = clients.yws(documentId, { name: 'y-websocket' });
    const h = clients.hocus(documentId, { name: 'hocuspocus' });
    const j = await clients.json(documentId, 'json-editor', { name: 'json' });
    await Promise.all([y.whenSynced(), h.whenSynced()]);
    const written = [
      recordLocalUpdates(y.doc, (o) => o === y.provider),
      recordLocalUpdates(h.doc, (o) => o === h.provider),
      recordLocalUpdates(j.doc, (o) => typeof o === 'symbol'),
    ];
    const editors = [y, h, j];
    const rngs = editors.map((_, i) => mulberry32(900 + i));
    const pace = mulberry32(999);
    for (let round = 0; round < 40; round++) {
      for (let k = 0; k < editors.length; k++) {
        const n = 1 + Math.floor(pace() * 3);
        for (let i = 0; i < n; i++) randomEdit(editors[k].doc, rngs[k], ['y', 'h', 'j'][k]);
      }
      if (pace() < 0.6) await tick();
      else await new Promise((resolve) => setTimeout(resolve, 1 + Math.floor(pace() * 4)));
    }
    await converged(editors);
    await Promise.all([h.whenAcknowledged(), j.whenAcknowledged()]);
    assert.deepEqual(j.errors, [], 'the JSON client got no errors');

    // exactly what the three wrote, as yjs merges it
    const reference = docFromUpdates(written.flat());
    assert.ok(sameDoc(y.doc, reference), `y-websocket equals the yjs reference: ${describeDiff(y.doc, reference)}`);
    const writers = [...Y.decodeStateVector(Y.encodeStateVector(y.doc)).keys()].sort();
    assert.deepEqual(writers, [y.doc.clientID, h.doc.clientID, j.doc.clientID].sort(), 'all three wrote');

    // late joiners of each protocol get the same stored state
    const ly = clients.yws(documentId, { name: 'late y-websocket' });
    const lh = clients.hocus(documentId, { name: 'late hocuspocus' });
    const lj = await clients.json(documentId, 'late-json', { name: 'late json' });
    await Promise.all([ly.whenSynced(), lh.whenSynced()]);
    await converged([y, ly, lh, lj]);

    // and a JSON client that starts with a stale copy catches up with a state vector
    const stale = new Y.Doc();
    Y.applyUpdate(stale, written[0][0]);
    const sj = await clients.json(documentId, 'stale-json', { doc: stale, name: 'stale json' });
    await converged([y, sj]);
  });

  test('Yjs awareness reaches JSON clients (live, in a late sync, and as null when a client drops)', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('awareness-to-json');
    const y = clients.yws(documentId, { name: 'y-websocket' });
    const h = clients.hocus(documentId, { name: 'hocuspocus' });
    await Promise.all([y.whenSynced(), h.whenSynced()]);
    const j = await clients.json(documentId, 'json-watcher', { name: 'json' });
    y.awareness.setLocalStateField('user', { name: 'yves (y-websocket)' });
    h.provider.setAwarenessField('user', { name: 'hugo (hocuspocus)' });
    await until(() => j.awareness.get(y.doc.clientID)?.user?.name === 'yves (y-websocket)'
      && j.awareness.get(h.doc.clientID)?.user?.name === 'hugo (hocuspocus)', {
      what: "the Yjs clients' states at the JSON client under their Yjs client ids",
      detail: () => JSON.stringify(j.awarenessLog.slice(-6)),
    });
    y.awareness.setLocalStateField('cursor', 11);
    await until(() => j.awareness.get(y.doc.clientID)?.cursor === 11, { what: "yves's cursor at the JSON client" });

    // a late JSON joiner gets every state in its sync
    const late = await clients.json(documentId, 'json-late', { name: 'late json' });
    await until(() => late.awareness.get(y.doc.clientID)?.cursor === 11
      && late.awareness.get(h.doc.clientID)?.user?.name === 'hugo (hocuspocus)', {
      what: 'every state at a late JSON joiner', detail: () => JSON.stringify([...late.awareness]),
    });

    // a Yjs client drops off the network -> state null at the JSON clients
    y.provider.shouldConnect = false;
    y.provider.ws.terminate();
    await until(() => !j.awareness.has(y.doc.clientID) && !late.awareness.has(y.doc.clientID), {
      what: "yves's state to be removed at the JSON clients", detail: () => JSON.stringify(j.awarenessLog.slice(-4)),
    });
    assert.ok(j.awarenessLog.some((m) => m.clientID === y.doc.clientID && m.state === null), 'removal arrives as state null');
    assert.equal(late.awareness.get(h.doc.clientID)?.user?.name, 'hugo (hocuspocus)', "hugo's state stays");
    assert.deepEqual([...j.errors, ...late.errors], []);
  });

  test('JSON awareness reaches Yjs clients under one numeric id: the first state, updates, and removal on close', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('awareness-from-json');
    const y = clients.yws(documentId, { name: 'y-websocket' });
    const h = clients.hocus(documentId, { name: 'hocuspocus' });
    await Promise.all([y.whenSynced(), h.whenSynced()]);
    const j = await clients.json(documentId, 'json-alice', { name: 'json' });
    const j2 = await clients.json(documentId, 'json-bob', { name: 'json 2' });

    // one awareness message must be enough (y-protocols ignores clock 0 for a client it does not know yet)
    j.setAwareness({ user: { name: 'alice (json)' } });
    await until(() => j2.awareness.get('json-alice')?.user?.name === 'alice (json)', { what: "alice's state at the other JSON client, under her clientID" });
    await until(() => idsWhere(y.awareness, (s) => s.user?.name === 'alice (json)').length === 1
      && idsWhere(h.awareness, (s) => s.user?.name === 'alice (json)').length === 1, {
      what: "the JSON client's first awareness state at the y-websocket and Hocuspocus clients",
      detail: () => `y knows ${JSON.stringify([...y.awareness.getStates()])}; h knows ${JSON.stringify([...h.awareness.getStates()])}`,
    });
    const [aliceId] = idsWhere(y.awareness, (s) => s.user?.name === 'alice (json)');
    assert.equal(typeof aliceId, 'number', 'a JSON client appears under a numeric Yjs client id');
    assert.deepEqual(idsWhere(h.awareness, (s) => s.user?.name === 'alice (json)'), [aliceId], 'the same id for every Yjs client');

    j.setAwareness({ user: { name: 'alice (json)' }, cursor: 7 });
    await until(() => y.awareness.getStates().get(aliceId)?.cursor === 7 && h.awareness.getStates().get(aliceId)?.cursor === 7,
      { what: "alice's updated state at the Yjs clients" });

    await j.close();
    await until(() => !y.awareness.getStates().has(aliceId) && !h.awareness.getStates().has(aliceId),
      { what: "alice's state to be removed at the Yjs clients when her JSON connection closes" });
  });

  test('a JSON client keeps its numeric awareness id across reconnects and its new state is accepted', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('awareness-reconnect');
    const y = clients.yws(documentId, { name: 'y-websocket' });
    await y.whenSynced();
    let j = await clients.json(documentId, 'json-carol', { name: 'json' });
    j.setAwareness({ user: 'carol', n: 1 });
    j.setAwareness({ user: 'carol', n: 2 });
    await until(() => idsWhere(y.awareness, (s) => s.user === 'carol' && s.n === 2).length === 1, { what: "carol's state at the y-websocket client" });
    const [carolId] = idsWhere(y.awareness, (s) => s.user === 'carol');
    await j.close();
    await until(() => !y.awareness.getStates().has(carolId), { what: "carol's state to be removed" });

    j = await clients.json(documentId, 'json-carol', { name: 'json again' });
    j.setAwareness({ user: 'carol', n: 3 });
    await until(() => y.awareness.getStates().get(carolId)?.n === 3, {
      what: "carol's state after reconnecting, under the same id, to be accepted by the y-websocket client (its clock must exceed the removal's)",
      detail: () => `y knows ${JSON.stringify([...y.awareness.getStates()])}, meta for carol ${JSON.stringify(y.awareness.meta.get(carolId))}`,
    });
  });

  test('connection counts in /admin/documents include all three protocols', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('counts');
    const y = clients.yws(documentId, { name: 'y-websocket' });
    const h = clients.hocus(documentId, { name: 'hocuspocus' });
    await Promise.all([y.whenSynced(), h.whenSynced()]);
    const j = await clients.json(documentId, 'json-counter', { name: 'json' });
    const d = await adminDoc(server, documentId);
    assert.equal(d?.connections, 3, `y-websocket + Hocuspocus + JSON: ${JSON.stringify(d)}`);
    const detail = await server.getJson(`/admin/documents/${documentId}`, { admin: true });
    assert.equal(detail.status, 200);
    const ids = detail.body.clients.map((c) => c.clientID);
    assert.equal(ids.length, 3, JSON.stringify(detail.body.clients));
    assert.deepEqual(detail.body.clients.map((c) => c.protocol).sort(), ['hocuspocus', 'json', 'y-websocket'],
      JSON.stringify(detail.body.clients));
    assert.ok(ids.includes('json-counter'), `the JSON client is listed by its clientID: ${ids}`);
    assert.equal(ids.filter((c) => c.startsWith('y-websocket')).length, 1, `one y-websocket connection: ${ids}`);
    assert.equal(ids.filter((c) => c.startsWith('hocuspocus')).length, 1, `one Hocuspocus connection: ${ids}`);

    // a second of each, then each leaves
    const y2 = clients.yws(documentId, { name: 'y2' });
    const h2 = clients.hocus(documentId, { name: 'h2' });
    const j2 = await clients.json(documentId, 'json-counter-2', { name: 'json 2' });
    await Promise.all([y2.whenSynced(), h2.whenSynced()]);
    assert.equal((await adminDoc(server, documentId)).connections, 6);
    y2.provider.destroy();
    h2.provider.destroy();
    await j2.close();
    const countIs = (n) => untilAsync(async () => (await adminDoc(server, documentId))?.connections === n, {
      what: `${n} connections to ${documentId}`, detail: async () => JSON.stringify(await adminDoc(server, documentId)),
    });
    await countIs(3);
    y.provider.shouldConnect = false;
    y.provider.ws.terminate();   // dropped, not closed
    await countIs(2);
    h.provider.destroy();
    await j.close();
    await untilAsync(async () => (await adminDoc(server, documentId)) === undefined, {
      what: 'a document with no connections to be no longer listed', detail: async () => JSON.stringify(await adminDoc(server, documentId)),
    });
  });
});
