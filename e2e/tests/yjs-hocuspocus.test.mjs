// The stock Hocuspocus client (HocuspocusProvider / HocuspocusProviderWebsocket from @hocuspocus/provider 4.8.0,
// `ws` as its WebSocket) against the real server at /hocuspocus: sync, durable acknowledgements
// (unsyncedChanges), multiplexing, stateless messages, awareness shared with y-websocket clients, junk frames.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
  Y, YjsClients, adminDoc, cloneDoc, converged, describeDiff, docIds, documentClients, encodeHocusStep1,
  encodeHocusUpdate, mulberry32, randomEdit, sameDoc, tick, until, untilAsync, withUnknownContentRef,
} from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 20_000;
process.setMaxListeners(100);

const docId = docIds('hp');

describe('Hocuspocus provider against /hocuspocus', () => {
  let server;
  let clients;

  before(async () => {
    server = await startServer();
    clients = new YjsClients(server);
  });
  afterEach(async () => { await clients.destroyAll(); });
  after(async () => { await server?.dispose(); });

  test('a provider authenticates read-write, uploads its offline content and syncs both ways', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('sync');
    const doc = new Y.Doc();
    doc.getText('text').insert(0, 'written before connecting', { bold: true });
    doc.getMap('map').set('answer', 42);
    const h = clients.hocus(documentId, { doc, name: 'H' });
    await h.whenSynced();
    await until(() => h.events.authenticated.length === 1, { what: 'the authenticated event' });
    assert.equal(h.events.authenticated[0].scope, 'read-write');
    assert.equal(h.provider.authorizedScope, 'read-write');
    assert.deepEqual(h.events.authenticationFailed, []);
    await h.whenAcknowledged();

    // a second Hocuspocus provider and a y-websocket client get the content from the server
    const h2 = clients.hocus(documentId, { name: 'H2' });
    const y = clients.yws(documentId, { name: 'Y' });
    await Promise.all([h2.whenSynced(), y.whenSynced()]);
    await converged([h, h2, y]);
    assert.equal(y.doc.getMap('map').get('answer'), 42);

    const rngs = [mulberry32(1), mulberry32(2), mulberry32(3)];
    for (let round = 0; round < 30; round++) {
      randomEdit(h.doc, rngs[0], 'h');
      randomEdit(h2.doc, rngs[1], 'i');
      randomEdit(y.doc, rngs[2], 'y');
      if (round % 3 === 0) await tick();
    }
    await converged([h, h2, y]);
    await Promise.all([h.whenAcknowledged(), h2.whenAcknowledged()]);
    const late = clients.hocus(documentId, { name: 'late' });
    await late.whenSynced();
    await converged([h, late]);
  });

  test('unsyncedChanges counts edits until the server committed them; what was acknowledged survives SIGKILL', { timeout: 30_000 }, async () => {
    const documentId = docId('durable');
    const h = clients.hocus(documentId, { name: 'H' });
    await h.whenSynced();
    await h.whenAcknowledged();
    const rng = mulberry32(77);
    let updates = 0;
    h.doc.on('update', (u, origin) => { if (origin !== h.provider) updates++; });
    for (let i = 0; i < 120; i++) randomEdit(h.doc, rng, 'h');
    h.doc.getText('text').insert(0, 'acknowledged ');
    assert.ok(updates > 100);
    // no acknowledgement can have arrived yet: each update counts until its SyncStatus
    assert.equal(h.provider.unsyncedChanges, updates, 'every update is pending right after the edits');
    assert.ok(h.provider.hasUnsyncedChanges);

    // kill -9 the moment the last acknowledgement arrives
    let killed = null;
    const seen = [];
    h.provider.on('unsyncedChanges', ({ number }) => {
      seen.push(number);
      if (number === 0 && !killed) killed = server.kill();
    });
    await until(() => killed, { timeout: 10_000, what: 'unsyncedChanges to reach 0', detail: () => `unsyncedChanges=${h.provider.unsyncedChanges}` });
    const expected = cloneDoc(h.doc);
    assert.ok(seen.length >= 1 && seen.every((n, i) => i === 0 || n <= seen[i - 1]), `the count only went down: ${seen.slice(0, 20)}…`);
    await killed;
    await clients.destroyAll();

    await server.start();
    const after = clients.hocus(documentId, { name: 'after SIGKILL' });
    const y = clients.yws(documentId, { name: 'Y after SIGKILL' });
    await Promise.all([after.whenSynced(), y.whenSynced()]);
    assert.ok(sameDoc(after.doc, expected), `everything acknowledged before SIGKILL is there: ${describeDiff(after.doc, expected, ['after', 'before'])}`);
    assert.ok(sameDoc(y.doc, expected), 'the y-websocket view agrees');
    assert.ok(after.doc.getText('text').toString().startsWith('acknowledged '));
  });

  test('several documents multiplexed over one HocuspocusProviderWebsocket each converge with y-websocket clients and stay isolated', { timeout: TEST_TIMEOUT }, async () => {
    const socket = clients.hocusSocket();
    const base = docId('mux');
    const rooms = Array.from({ length: 5 }, (_, i) => {
      const id = `${base}-${i}`;
      return { id, i, h: clients.hocus(id, { socket, name: `H${i}` }), y: clients.yws(id, { name: `Y${i}` }) };
    });
    await Promise.all(rooms.flatMap((r) => [r.h.whenSynced(), r.y.whenSynced()]));
    for (const r of rooms) assert.equal(r.h.provider.authorizedScope, 'read-write', `${r.id} authenticated`);

    const rngs = rooms.map((r) => [mulberry32(500 + r.i), mulberry32(600 + r.i)]);
    for (let round = 0; round < 12; round++) {
      for (const r of rooms) {
        if (round === 0) r.h.doc.getMap('map').set('room', r.id);
        randomEdit(r.h.doc, rngs[r.i][0], 'h');
        randomEdit(r.y.doc, rngs[r.i][1], 'y');
      }
      await tick();
    }
    for (const r of rooms) await converged([r.h, r.y]);
    for (const r of rooms) {
      assert.equal(r.y.doc.getMap('map').get('room'), r.id);
      const inDoc = [...Y.decodeStateVector(Y.encodeStateVector(r.y.doc)).keys()].sort();
      assert.deepEqual(inDoc, [r.h.doc.clientID, r.y.doc.clientID].sort(), `${r.id} holds only its own pair's changes`);
      await r.h.whenAcknowledged();
    }

    // one socket: every document lists the same Hocuspocus connection
    const hocusIds = new Set();
    for (const r of rooms) {
      const ids = await documentClients(server, r.id);
      assert.equal(ids.length, 2, `${r.id}: ${ids}`);
      ids.filter((c) => c.startsWith('hocuspocus')).forEach((c) => hocusIds.add(c));
    }
    assert.equal(hocusIds.size, 1, `one Hocuspocus connection carries all documents: ${[...hocusIds]}`);

    // detaching one document (a Close frame for it) leaves the others working on the same socket
    const [gone, ...kept] = rooms;
    gone.h.provider.detach();
    await untilAsync(async () => (await adminDoc(server, gone.id))?.connections === 1,
      { what: `${gone.id} to have only its y-websocket client after detach` });
    for (const r of kept) {
      r.y.doc.getText('text').insert(0, `after detach ${r.i} `);
      r.h.doc.getArray('array').push([`h after detach ${r.i}`]);
    }
    for (const r of kept) await converged([r.h, r.y]);
    gone.y.doc.getText('text').insert(0, 'not for the detached provider ');
    kept[0].y.doc.getText('text').insert(0, 'marker ');
    await until(() => kept[0].h.doc.getText('text').toString().startsWith('marker '), { what: 'the marker at a kept provider' });
    assert.ok(!gone.h.doc.getText('text').toString().includes('not for the detached provider'), 'a detached document receives nothing');
  });

  test('stateless messages are relayed to the other providers of the document only', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('stateless');
    const other = docId('stateless-other');
    const p1 = clients.hocus(documentId, { name: 'P1' });
    const p2 = clients.hocus(documentId, { name: 'P2' });
    const socket = clients.hocusSocket();
    const p3 = clients.hocus(documentId, { socket, name: 'P3 (shared socket)' });
    const q = clients.hocus(other, { socket, name: 'Q (other document, same socket as P3)' });
    await Promise.all([p1, p2, p3, q].map((c) => c.whenSynced()));

    p1.provider.sendStateless('hello from p1');
    await until(() => p2.events.stateless.includes('hello from p1') && p3.events.stateless.includes('hello from p1'),
      { what: 'P2 and P3 to receive the stateless payload', detail: () => JSON.stringify([p2.events.stateless, p3.events.stateless]) });
    const payload = JSON.stringify({ cmd: 'ping', n: 1, text: 'ünïcödé 😀' });
    p2.provider.sendStateless(payload);
    await until(() => p1.events.stateless.includes(payload) && p3.events.stateless.includes(payload), { what: "P2's JSON payload at P1 and P3" });

    // a marker sent after: once it arrived everywhere, nothing else could still be in flight before it
    q.provider.sendStateless('q only');
    p3.provider.sendStateless('end');
    await until(() => p1.events.stateless.includes('end') && p2.events.stateless.includes('end'), { what: 'the end marker' });
    assert.deepEqual(p1.events.stateless, [payload, 'end'], 'P1 never receives its own payload');
    assert.deepEqual(p2.events.stateless, ['hello from p1', 'end']);
    assert.deepEqual(p3.events.stateless, ['hello from p1', payload]);
    assert.deepEqual(q.events.stateless, [], 'another document on the same socket receives nothing');
  });

  test('awareness flows between Hocuspocus and y-websocket clients and is removed when a client drops', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('awareness');
    const h = clients.hocus(documentId, { name: 'H' });
    const h2 = clients.hocus(documentId, { name: 'H2' });
    const y = clients.yws(documentId, { name: 'Y' });
    await Promise.all([h.whenSynced(), h2.whenSynced(), y.whenSynced()]);
    h.provider.setAwarenessField('user', { name: 'hocus', color: '#00f' });
    y.awareness.setLocalStateField('user', { name: 'yws' });
    await until(() => y.awareness.getStates().get(h.doc.clientID)?.user?.name === 'hocus', { what: "H's state at Y" });
    await until(() => h.awareness.getStates().get(y.doc.clientID)?.user?.name === 'yws', { what: "Y's state at H" });
    await until(() => h2.awareness.getStates().get(h.doc.clientID)?.user?.name === 'hocus'
      && h2.awareness.getStates().get(y.doc.clientID)?.user?.name === 'yws', { what: 'both states at H2' });
    h.provider.setAwarenessField('cursor', { anchor: 1, head: 4 });
    await until(() => y.awareness.getStates().get(h.doc.clientID)?.cursor?.head === 4, { what: "H's cursor at Y" });

    // H's network goes away: no close frame, no reconnect
    const ws = h.provider.configuration.websocketProvider;
    ws.shouldConnect = false;
    ws.webSocket.terminate();
    await until(() => !y.awareness.getStates().has(h.doc.clientID) && !h2.awareness.getStates().has(h.doc.clientID),
      { timeout: 10_000, what: "H's state to be removed at Y and at H2 (well before the 30 s client timeout)" });
    assert.equal(h2.awareness.getStates().get(y.doc.clientID)?.user?.name, 'yws', "Y's state stays");

    // and a y-websocket client dropping is seen by the Hocuspocus client
    y.provider.shouldConnect = false;
    y.provider.ws.terminate();
    await until(() => !h2.awareness.getStates().has(y.doc.clientID), { timeout: 10_000, what: "Y's state to be removed at H2" });
  });

  test('a late Hocuspocus joiner gets the awareness states already in the room', { timeout: TEST_TIMEOUT }, async () => {
    // The reference Hocuspocus server sends the document's awareness states to a connection when it is set up;
    // the provider itself never asks (it sends no QueryAwareness), so without this a newcomer sees nobody until
    // the others renew their states (every 15 s).
    const documentId = docId('awareness-late');
    const h = clients.hocus(documentId, { name: 'H' });
    const y = clients.yws(documentId, { name: 'Y' });
    await Promise.all([h.whenSynced(), y.whenSynced()]);
    h.provider.setAwarenessField('user', { name: 'hocus' });
    y.awareness.setLocalStateField('user', { name: 'yws' });
    await until(() => y.awareness.getStates().get(h.doc.clientID)?.user?.name === 'hocus'
      && h.awareness.getStates().get(y.doc.clientID)?.user?.name === 'yws', { what: 'both states to be known in the room' });

    const late = clients.hocus(documentId, { name: 'late' });
    await late.whenSynced();
    await until(() => late.awareness.getStates().get(h.doc.clientID)?.user?.name === 'hocus'
      && late.awareness.getStates().get(y.doc.clientID)?.user?.name === 'yws', {
      timeout: 5_000,
      what: 'a late Hocuspocus joiner to get the existing awareness states (well before the 15 s renewal)',
      detail: () => `late knows ${JSON.stringify([...late.awareness.getStates()])}`,
    });
  });

  test('junk frames close only the socket that sent them', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('junk');
    const h1 = clients.hocus(documentId, { name: 'H1' });
    const socket = clients.hocusSocket();
    const h2 = clients.hocus(documentId, { socket, name: 'H2' });
    const y = clients.yws(documentId, { name: 'Y' });
    await Promise.all([h1.whenSynced(), h2.whenSynced(), y.whenSynced()]);
    const rngs = [mulberry32(41), mulberry32(42)];
    for (let i = 0; i < 10; i++) { randomEdit(h1.doc, rngs[0], 'h'); randomEdit(y.doc, rngs[1], 'y'); }
    await converged([h1, h2, y]);

    const rng = mulberry32(43);
    const randomBytes = (n) => Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
    const src = new Y.Doc();
    src.getText('text').insert(0, 'junk that must never be stored');
    const bad = withUnknownContentRef(Y.encodeStateAsUpdate(src));
    assert.throws(() => Y.decodeUpdate(bad), 'yjs itself rejects it');
    const junk = [
      ['unterminated varUint', new Uint8Array(Array(12).fill(0xff)), false],
      ['document name longer than the frame', new Uint8Array([50, 0x61, 0x62]), false],
      ['random bytes', randomBytes(48), false],
      ['invalid Yjs update after authentication', encodeHocusUpdate(documentId, bad), true],
      ['truncated Yjs update after authentication', encodeHocusUpdate(documentId, Y.encodeStateAsUpdate(src).subarray(0, 10)), true],
      ['unknown sync sub-type after authentication', Uint8Array.from([...encodeHocusStep1(documentId).subarray(0, documentId.length + 2), 9, 0]), true],
      ['text frame', 'this is not hocuspocus', false],
    ];
    for (const [what, frame, needsAuth] of junk) {
      const raw = await clients.rawHocus();
      if (needsAuth) {
        const answer = await raw.authenticate(documentId);
        assert.equal(answer.sub, 'authenticated', `${what}: the raw socket is authenticated first`);
      }
      raw.send(frame);
      const info = await raw.whenClosed(5_000, `the server to close the socket that sent "${what}"`);
      assert.ok([1002, 1003, 1007, 1008].includes(info.code), `"${what}": closed with a protocol close code, got ${JSON.stringify(info)}`);
      assert.ok(!raw.messages.some((m) => m.type === 'sync-status' && m.ok), `"${what}": nothing was acknowledged`);
    }

    assert.deepEqual(h1.events.close, [], 'H1 stayed connected');
    assert.deepEqual(h2.events.close, [], 'H2 (shared socket) stayed connected');
    assert.deepEqual(y.closes, [], 'Y stayed connected');
    for (let i = 0; i < 10; i++) { randomEdit(h2.doc, rngs[0], 'i'); randomEdit(y.doc, rngs[1], 'y'); }
    await converged([h1, h2, y]);
    await h2.whenAcknowledged();
    const late = clients.yws(documentId, { name: 'late' });
    await late.whenSynced();
    await converged([h1, late]);
    assert.ok(!late.doc.getText('text').toString().includes('must never be stored'), 'no junk was stored');
  });
});
