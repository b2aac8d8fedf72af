// The stock y-websocket client (WebsocketProvider from y-websocket 3.1.0, `ws` as its WebSocket) against the
// real server at /yjs/<documentId>: convergence, late joiners (also after compaction), offline edits, awareness,
// room isolation, many rooms, large updates, junk frames, and durability across a restart and a SIGKILL.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
  Y, YjsClients, adminDoc, cloneDoc, converged, describeDiff, docFromUpdates, docIds, encodeAwarenessEntry,
  encodeYwsUpdate, mulberry32, randomEdit, recordLocalUpdates, sameDoc, tick, until, untilAsync,
  withUnknownContentRef,
} from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 20_000;
const COMPACTION_UPDATES = 25;
// 80+ providers each register a process 'exit' listener
process.setMaxListeners(400);

const docId = docIds('yws');

function assertSame(a, b, names) {
  assert.ok(sameDoc(a, b), `${names.join(' and ')} differ: ${describeDiff(a, b, names)}`);
}

describe('y-websocket provider against /yjs', () => {
  let server;
  let clients;

  before(async () => {
    server = await startServer({ env: { COLLAB_COMPACTION_UPDATES: String(COMPACTION_UPDATES) } });
    clients = new YjsClients(server);
  });
  afterEach(async () => { await clients.destroyAll(); });
  after(async () => { await server?.dispose(); });

  test('two providers converge under random concurrent edits, and the server state matches yjs', { timeout: TEST_TIMEOUT }, async () => {
    for (const seed of [101, 202]) {
      const documentId = docId(`converge-${seed}`);
      const a = clients.yws(documentId, { name: `A(${seed})` });
      const b = clients.yws(documentId, { name: `B(${seed})` });
      await Promise.all([a.whenSynced(), b.whenSynced()]);
      const localA = recordLocalUpdates(a.doc, (o) => o === a.provider);
      const localB = recordLocalUpdates(b.doc, (o) => o === b.provider);
      const rngA = mulberry32(seed);
      const rngB = mulberry32(seed + 1);
      const rngPace = mulberry32(seed + 2);
      for (let round = 0; round < 50; round++) {
        const n = 1 + Math.floor(rngPace() * 4);
        for (let i = 0; i < n; i++) {
          randomEdit(a.doc, rngA, 'a');
          randomEdit(b.doc, rngB, 'b');
        }
        // let frames cross: sometimes just a turn of the event loop, sometimes a few milliseconds
        if (rngPace() < 0.7) await tick();
        else await new Promise((resolve) => setTimeout(resolve, 1 + Math.floor(rngPace() * 5)));
      }
      await converged([a, b]);
      assert.ok(a.doc.getText('text').length > 0 && a.doc.getArray('array').length + a.doc.getMap('map').size > 0,
        'the random history produced content');

      // exactly what the two clients produced, as yjs itself merges it: nothing lost, nothing foreign
      const reference = docFromUpdates([...localA, ...localB]);
      assertSame(a.doc, reference, [`A(${seed})`, 'yjs reference']);

      // the server's stored state, through a late joiner
      const late = clients.yws(documentId, { name: `late(${seed})` });
      await late.whenSynced();
      await converged([a, late]);
      assert.deepEqual(a.closes, [], 'A was never disconnected');
      assert.deepEqual(b.closes, [], 'B was never disconnected');
      await clients.destroyAll();
    }
  });

  test('a late joiner gets the full state before and after compaction', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('compaction');
    const a = clients.yws(documentId, { name: 'A' });
    await a.whenSynced();
    const rng = mulberry32(7);

    // below the threshold: the log holds every update
    const first = COMPACTION_UPDATES - 5;
    for (let i = 0; i < first; i++) randomEdit(a.doc, rng, 'a');
    const early = clients.yws(documentId, { name: 'early' });
    await early.whenSynced();
    await converged([a, early]);
    const before = await adminDoc(server, documentId);
    // (a joiner's own sync step 2 may add a row: it carries the delete set)
    assert.ok(before.updates >= first && before.updates < COMPACTION_UPDATES,
      `before compaction every update is a row: ${JSON.stringify(before)}`);
    assert.equal(before.connections, 2);

    // cross the threshold, one acknowledged-by-relay update at a time
    let sent = first;
    const peakRows = [];
    while (sent < 3 * COMPACTION_UPDATES) {
      randomEdit(a.doc, rng, 'a');
      sent++;
      await converged([a, early]);
      if (sent % 10 === 0) peakRows.push((await adminDoc(server, documentId)).updates);
    }
    const after = await untilAsync(async () => {
      const d = await adminDoc(server, documentId);
      return d.updates < sent && d.updates <= COMPACTION_UPDATES ? d : null;
    }, { timeout: 5_000, what: 'the update log to be compacted', detail: async () => JSON.stringify(await adminDoc(server, documentId)) });
    assert.ok(after.updates >= 1, `a compacted log keeps at least the merged row: ${JSON.stringify(after)}`);
    assert.ok(after.updateBytes > 0);
    assert.ok(peakRows.every((n) => n <= COMPACTION_UPDATES + 2), `the log never grew much past the threshold: ${peakRows}`);

    const late = clients.yws(documentId, { name: 'late' });
    await late.whenSynced();
    await converged([a, early, late]);

    // and the late joiner is a full participant
    late.doc.getText('text').insert(0, 'LATE ');
    await converged([a, early, late]);
    assert.ok(a.doc.getText('text').toString().startsWith('LATE '));
  });

  test('a burst of updates is compacted once it is committed', { timeout: TEST_TIMEOUT }, async () => {
    // 8x the threshold arrives in one TCP write; commits that land while a compaction is running must still
    // count towards the next one, even when no further write comes afterwards.
    const documentId = docId('burst');
    const b = clients.yws(documentId, { name: 'B' });
    await b.whenSynced();
    const raw = await clients.raw(documentId);
    const src = new Y.Doc();
    const updates = [];
    src.on('update', (u) => updates.push(u));
    const rng = mulberry32(8);
    while (updates.length < 8 * COMPACTION_UPDATES) randomEdit(src, rng, 'a');
    raw.sendBurst(updates.map(encodeYwsUpdate));
    await until(() => sameDoc(b.doc, src), { timeout: 10_000, what: 'B to receive the whole burst' }); // all committed
    const d = await untilAsync(async () => {
      const doc = await adminDoc(server, documentId);
      return doc.updates <= COMPACTION_UPDATES ? doc : null;
    }, {
      timeout: 3_000,
      what: `the stored log of ${updates.length} updates to shrink to at most ${COMPACTION_UPDATES} rows (COLLAB_COMPACTION_UPDATES) with no further writes`,
      detail: async () => `admin says ${JSON.stringify(await adminDoc(server, documentId))}`,
    });
    assert.ok(d.updates >= 1);
    const late = clients.yws(documentId, { name: 'late' });
    await late.whenSynced();
    assert.ok(sameDoc(late.doc, src), `the late joiner has the whole burst: ${describeDiff(late.doc, src)}`);
  });

  test('offline edits on both sides merge after reconnect', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('offline');
    const a = clients.yws(documentId, { name: 'A' });
    const b = clients.yws(documentId, { name: 'B' });
    const watcher = clients.yws(documentId, { name: 'watcher' });
    await Promise.all([a.whenSynced(), b.whenSynced(), watcher.whenSynced()]);
    const rngA = mulberry32(31);
    const rngB = mulberry32(32);
    for (let i = 0; i < 10; i++) { randomEdit(a.doc, rngA, 'a'); randomEdit(b.doc, rngB, 'b'); }
    await converged([a, b, watcher]);

    a.provider.disconnect();
    await until(() => !a.provider.wsconnected && a.provider.ws === null, { what: 'A to be offline' });
    for (let i = 0; i < 15; i++) randomEdit(a.doc, rngA, 'a');
    a.doc.getText('text').insert(0, '[A offline]');
    // B keeps editing online meanwhile, then goes offline too and edits more
    for (let i = 0; i < 10; i++) randomEdit(b.doc, rngB, 'b');
    await converged([b, watcher]);
    b.provider.disconnect();
    await until(() => !b.provider.wsconnected && b.provider.ws === null, { what: 'B to be offline' });
    for (let i = 0; i < 15; i++) randomEdit(b.doc, rngB, 'b');
    b.doc.getMap('map').set('offline-b', 'yes');
    assert.ok(!watcher.doc.getText('text').toString().includes('[A offline]'), 'offline edits did not leak out');
    assert.equal(watcher.doc.getMap('map').get('offline-b'), undefined);

    a.provider.connect();
    await a.whenSynced();
    await converged([a, watcher]);
    b.provider.connect();
    await b.whenSynced();
    await converged([a, b, watcher]);
    assert.ok(watcher.doc.getText('text').toString().includes('[A offline]'));
    assert.equal(watcher.doc.getMap('map').get('offline-b'), 'yes');

    const late = clients.yws(documentId, { name: 'late' });
    await late.whenSynced();
    await converged([a, b, watcher, late]);
  });

  test('awareness reaches the other client and late joiners, and is removed after an abrupt disconnect', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('awareness');
    const a = clients.yws(documentId, { name: 'A' });
    const b = clients.yws(documentId, { name: 'B' });
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const idA = a.doc.clientID;
    const idB = b.doc.clientID;
    a.awareness.setLocalStateField('user', { name: 'alice', color: '#f00' });
    b.awareness.setLocalStateField('user', { name: 'bob' });
    await until(() => b.awareness.getStates().get(idA)?.user?.name === 'alice', { what: "alice's state at B" });
    await until(() => a.awareness.getStates().get(idB)?.user?.name === 'bob', { what: "bob's state at A" });
    a.awareness.setLocalStateField('cursor', { anchor: 3, head: 5 });
    await until(() => b.awareness.getStates().get(idA)?.cursor?.head === 5, { what: "alice's cursor at B" });

    const late = clients.yws(documentId, { name: 'late' });
    await late.whenSynced();
    await until(() => late.awareness.getStates().get(idA)?.cursor?.head === 5
      && late.awareness.getStates().get(idB)?.user?.name === 'bob', {
      what: 'the late joiner to get both states', detail: () => JSON.stringify([...late.awareness.getStates()]),
    });

    // A drops off the network: no close frame, no awareness removal from the client, no reconnect
    const removedAt = { b: null, late: null };
    b.awareness.on('change', ({ removed }) => { if (removed.includes(idA)) removedAt.b ??= Date.now(); });
    late.awareness.on('change', ({ removed }) => { if (removed.includes(idA)) removedAt.late ??= Date.now(); });
    a.provider.shouldConnect = false;
    const droppedAt = Date.now();
    a.provider.ws.terminate();
    await until(() => !b.awareness.getStates().has(idA) && !late.awareness.getStates().has(idA), {
      timeout: 10_000, what: "alice's state to be removed at B and at the late joiner (well before the 30 s client timeout)",
    });
    assert.ok(removedAt.b - droppedAt < 10_000 && removedAt.late - droppedAt < 10_000);
    assert.equal(b.awareness.getStates().get(idB)?.user?.name, 'bob', "B's own state stays");
    assert.equal(late.awareness.getStates().get(idB)?.user?.name, 'bob', "bob's state stays at the late joiner");

    // the server forgot A's state: a newcomer gets bob's but not alice's
    const newcomer = clients.yws(documentId, { name: 'newcomer' });
    await newcomer.whenSynced();
    await until(() => newcomer.awareness.getStates().get(idB)?.user?.name === 'bob', { what: "bob's state at the newcomer" });
    assert.ok(!newcomer.awareness.getStates().has(idA), 'the dropped client is not in the snapshot a newcomer gets');
  });

  test('awareness is echoed to its sender and query-awareness is answered (raw socket)', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('awareness-raw');
    const b = clients.yws(documentId, { name: 'B' });
    await b.whenSynced();
    b.awareness.setLocalStateField('user', { name: 'bob' });
    const raw = await clients.raw(documentId);
    await until(() => raw.messages.some((m) => m.type === 'step1'), { what: 'the server step 1 on open' });
    await until(() => raw.messages.some((m) => m.type === 'awareness' && m.entries.some((e) => e.clientID === b.doc.clientID)),
      { what: "bob's state in the awareness snapshot on open", detail: () => JSON.stringify(raw.messages.map((m) => m.type)) });
    const rawId = 4_000_000_001;
    raw.sendAwareness(encodeAwarenessEntry(rawId, 1, { user: { name: 'raw' } }));
    await until(() => raw.messages.some((m) => m.type === 'awareness' && m.entries.some((e) => e.clientID === rawId && e.state?.user?.name === 'raw')),
      { what: 'the echo of our own awareness update' });
    await until(() => b.awareness.getStates().get(rawId)?.user?.name === 'raw', { what: "the raw client's state at B" });

    const count = raw.messages.length;
    raw.sendQueryAwareness();
    await until(() => raw.messages.slice(count).some((m) => m.type === 'awareness'
      && m.entries.some((e) => e.clientID === b.doc.clientID) && m.entries.some((e) => e.clientID === rawId)),
    { what: 'an answer to query-awareness with every state' });

    // closing removes the ids this connection announced
    await raw.terminate();
    await until(() => !b.awareness.getStates().has(rawId), { what: "the raw client's state to be removed at B" });
  });

  test('rooms are isolated', { timeout: TEST_TIMEOUT }, async () => {
    const base = docId('iso');
    const ids = [base, `${base}0`, `${base}-x`, `${base.toUpperCase()}`];
    const rooms = ids.map((id, i) => ({ id, i, a: clients.yws(id, { name: `A${i}` }), b: clients.yws(id, { name: `B${i}` }) }));
    await Promise.all(rooms.flatMap((r) => [r.a.whenSynced(), r.b.whenSynced()]));
    for (const r of rooms) {
      r.a.doc.getMap('map').set('room', r.id);
      r.a.doc.getText('text').insert(0, `text of ${r.id}`);
      r.a.awareness.setLocalStateField('room', r.id);
      await until(() => r.b.doc.getMap('map').get('room') === r.id, { what: `room ${r.i} to sync` });
    }
    for (const r of rooms) {
      await converged([r.a, r.b]);
      assert.equal(r.b.doc.getText('text').toString(), `text of ${r.id}`, `room ${r.id} holds only its own text`);
      assert.deepEqual(Object.keys(r.b.doc.getMap('map').toJSON()), ['room']);
      await until(() => r.b.awareness.getStates().get(r.a.doc.clientID)?.room === r.id, { what: `awareness in ${r.id}` });
      const foreign = [...r.b.awareness.getStates().values()].filter((s) => s.room && s.room !== r.id);
      assert.deepEqual(foreign, [], `no awareness from other rooms in ${r.id}`);
    }
    // the stored states too
    for (const r of rooms) {
      const late = clients.yws(r.id, { name: `late${r.i}` });
      await late.whenSynced();
      assert.equal(late.doc.getText('text').toString(), `text of ${r.id}`);
      assertSame(late.doc, r.a.doc, [`late${r.i}`, `A${r.i}`]);
    }
    const listed = (await server.adminDocuments()).body.filter((d) => ids.includes(d.documentId));
    assert.equal(listed.length, ids.length, 'every room is its own document');
    for (const d of listed) assert.equal(d.connections, 3, `${d.documentId}: A, B and the late joiner`);
  });

  test('40 rooms at once: 40 pairs converge independently', { timeout: TEST_TIMEOUT }, async () => {
    const base = docId('many');
    const rooms = Array.from({ length: 40 }, (_, i) => {
      const id = `${base}-${i}`;
      return { id, i, a: clients.yws(id, { name: `A${i}` }), b: clients.yws(id, { name: `B${i}` }) };
    });
    await Promise.all(rooms.flatMap((r) => [r.a.whenSynced(10_000), r.b.whenSynced(10_000)]));
    const rngs = rooms.map((r) => [mulberry32(1000 + r.i), mulberry32(2000 + r.i)]);
    for (let round = 0; round < 8; round++) {
      for (const r of rooms) {
        randomEdit(r.a.doc, rngs[r.i][0], 'a');
        randomEdit(r.b.doc, rngs[r.i][1], 'b');
        if (round === 0) r.a.doc.getMap('map').set('room', r.i);
      }
      await tick();
    }
    await until(() => rooms.every((r) => sameDoc(r.a.doc, r.b.doc)), {
      timeout: 10_000, what: 'all 40 pairs to converge',
      detail: () => rooms.filter((r) => !sameDoc(r.a.doc, r.b.doc)).map((r) => `${r.id}: ${describeDiff(r.a.doc, r.b.doc)}`).slice(0, 3).join(' | '),
    });
    for (const r of rooms) {
      assert.equal(r.b.doc.getMap('map').get('room'), r.i, `${r.id} got its own marker`);
      const clientsInDoc = [...Y.decodeStateVector(Y.encodeStateVector(r.b.doc)).keys()].sort();
      assert.deepEqual(clientsInDoc, [r.a.doc.clientID, r.b.doc.clientID].sort(), `${r.id} holds only its pair's changes`);
    }
    const listed = (await server.adminDocuments()).body.filter((d) => d.documentId.startsWith(`${base}-`));
    assert.equal(listed.length, 40);
    assert.ok(listed.every((d) => d.connections === 2 && d.updates >= 1), JSON.stringify(listed.filter((d) => d.connections !== 2)));
  });

  test('a 512 KiB update is delivered and stored', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('large');
    const a = clients.yws(documentId, { name: 'A' });
    const b = clients.yws(documentId, { name: 'B' });
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const rng = mulberry32(512);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 \n';
    const big = Array.from({ length: 512 * 1024 }, () => alphabet[Math.floor(rng() * alphabet.length)]).join('');
    const sent = [];
    a.doc.on('update', (u, origin) => { if (origin !== a.provider) sent.push(u.length); });

    a.doc.getText('text').insert(0, big);
    assert.equal(sent.length, 1, 'one update');
    assert.ok(sent[0] >= 512 * 1024, `the update is at least 512 KiB (${sent[0]} bytes)`);
    await until(() => b.doc.getText('text').length === big.length, { timeout: 10_000, what: 'B to receive 512 KiB', interval: 20 });
    assert.equal(b.doc.getText('text').toString(), big);
    assert.deepEqual(a.closes, [], 'the sender was not disconnected');
    assert.deepEqual(b.closes, [], 'the receiver was not disconnected');

    // and it is stored: a late joiner gets it, and edits around it still flow
    const late = clients.yws(documentId, { name: 'late' });
    await late.whenSynced(10_000);
    assert.equal(late.doc.getText('text').toString(), big);
    const d = await adminDoc(server, documentId);
    assert.ok(d.updateBytes >= big.length, `stored bytes ${JSON.stringify(d)}`);
    late.doc.getText('text').insert(big.length, '<end>');
    await until(() => a.doc.getText('text').length === big.length + 5, { what: 'an edit after the large update to reach A', interval: 20 });
    assert.ok(a.doc.getText('text').toString().endsWith('<end>'));
  });

  test('junk frames close only the sending socket; the room keeps syncing and stores nothing of them', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('junk');
    const a = clients.yws(documentId, { name: 'A' });
    const b = clients.yws(documentId, { name: 'B' });
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const localA = recordLocalUpdates(a.doc, (o) => o === a.provider);
    const localB = recordLocalUpdates(b.doc, (o) => o === b.provider);
    const rngA = mulberry32(66);
    for (let i = 0; i < 10; i++) randomEdit(a.doc, rngA, 'a');
    await converged([a, b]);

    const rng = mulberry32(99);
    const randomBytes = (n) => Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
    // a valid update to take apart
    const src = new Y.Doc();
    src.getText('text').insert(0, 'this must never be stored');
    const valid = Y.encodeStateAsUpdate(src);
    const unknownContent = withUnknownContentRef(valid);
    assert.throws(() => Y.decodeUpdate(unknownContent), 'yjs itself rejects it');
    const junk = [
      ['unterminated varUint', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
      ['unknown message type', new Uint8Array([0x63, 1, 2, 3])],
      ['unknown sync sub-type', new Uint8Array([0, 9, 1, 0])],
      ['truncated sync update', new Uint8Array([0, 2, 50, 1, 2, 3])],
      ['update of random bytes', encodeYwsUpdate(randomBytes(40))],
      ['truncated valid update', encodeYwsUpdate(valid.subarray(0, valid.length - 4))],
      ['update with an unknown content kind', encodeYwsUpdate(unknownContent)],
      ['random frame', randomBytes(64)],
      ['text frame', 'hello, this is not y-websocket'],
    ];
    for (const [what, frame] of junk) {
      const raw = await clients.raw(documentId);
      await until(() => raw.messages.some((m) => m.type === 'step1'), { what: `step 1 for the "${what}" socket` });
      raw.send(frame);
      const info = await raw.whenClosed(5_000, `the server to close the socket that sent "${what}"`);
      assert.ok([1002, 1003, 1007, 1008].includes(info.code), `"${what}": closed with a protocol close code, got ${JSON.stringify(info)}`);
      assert.ok(!raw.messages.some((m) => m.type === 'update'), `"${what}": nothing was relayed back`);
    }

    // the room is intact: the providers were never disconnected and keep syncing both ways
    assert.deepEqual(a.closes, [], 'A stayed connected');
    assert.deepEqual(b.closes, [], 'B stayed connected');
    assert.ok(a.provider.wsconnected && b.provider.wsconnected);
    const rngB = mulberry32(67);
    for (let i = 0; i < 10; i++) { randomEdit(a.doc, rngA, 'a'); randomEdit(b.doc, rngB, 'b'); }
    await converged([a, b]);
    assertSame(a.doc, docFromUpdates([...localA, ...localB]), ['A', 'what A and B wrote']);
    assert.ok(!a.doc.getText('text').toString().includes('never be stored'));

    const late = clients.yws(documentId, { name: 'late' });
    await late.whenSynced();
    await converged([a, b, late]);
    assert.ok(!late.doc.getText('text').toString().includes('never be stored'), 'no junk was stored');
  });

  test('state survives a graceful restart and a SIGKILL after sync', { timeout: 30_000 }, async () => {
    const documentId = docId('durable');
    const a = clients.yws(documentId, { name: 'A' });
    const b = clients.yws(documentId, { name: 'B' });
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const rngA = mulberry32(5);
    const rngB = mulberry32(6);
    for (let i = 0; i < 2 * COMPACTION_UPDATES + 7; i++) { randomEdit(a.doc, rngA, 'a'); randomEdit(b.doc, rngB, 'b'); }
    await converged([a, b]);
    const probe = clients.yws(documentId, { name: 'probe' });   // the server's state = what A and B hold
    await probe.whenSynced();
    await converged([a, b, probe]);
    const expected = cloneDoc(a.doc);
    await clients.destroyAll();

    const stopped = await server.stop();
    assert.equal(stopped.forced, false, 'the server stopped on SIGTERM');
    await server.start();
    const c = clients.yws(documentId, { name: 'after restart' });
    await c.whenSynced();
    assertSame(c.doc, expected, ['after restart', 'before restart']);

    // more edits, confirmed by a second client (so committed), then kill -9
    const rngC = mulberry32(9);
    for (let i = 0; i < 30; i++) randomEdit(c.doc, rngC, 'c');
    c.doc.getText('text').insert(0, 'written before SIGKILL ');
    const d = clients.yws(documentId, { name: 'D' });
    await d.whenSynced();
    await converged([c, d]);
    const expected2 = cloneDoc(c.doc);
    await clients.destroyAll();
    await server.kill();
    await server.start();
    const e = clients.yws(documentId, { name: 'after SIGKILL' });
    await e.whenSynced();
    assertSame(e.doc, expected2, ['after SIGKILL', 'before SIGKILL']);
    assert.ok(e.doc.getText('text').toString().startsWith('written before SIGKILL '));
  });
});
