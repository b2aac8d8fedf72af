// Internal broadcast API (POST /internal/documents/{id}/broadcast) and JSON client-to-client messages,
// against the real server with real JSON clients and the stock Hocuspocus provider.
//
// "Nothing else arrived" is never checked by waiting a while: after the message that must NOT arrive, a marker
// is sent the same way, and the marker has to be the first such message the client sees (every connection has
// one FIFO outbound queue, and the broadcast answers only after the room handed the message to its peers).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { after, afterEach, before, describe, test } from 'node:test';
import { connectFabric } from '../lib/json-client.mjs';
import { startServer } from '../lib/server.mjs';
import { YjsClients, until, untilAsync } from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 60_000;
const WAIT = { timeout: 20_000 }; // the machine running the suites may be loaded

let server;
let yjs;
let jsonClients = [];

const docId = (label) => `ops-bc-${label}-${randomUUID().slice(0, 8)}`;

async function json(documentId, clientID) {
  const c = await connectFabric(server, documentId, clientID, { timeout: WAIT.timeout });
  jsonClients.push(c);
  const hello = await c.next('connected');
  assert.equal(hello.clientID, clientID);
  return c;
}

/** A Hocuspocus provider that has joined the room (synced). */
async function hocus(documentId) {
  const h = yjs.hocus(documentId);
  await h.whenSynced(WAIT.timeout);
  return h;
}

/** POST a broadcast; body is JSON-encoded unless it is a string. token: admin token by default, null = none. */
async function broadcast(documentId, body, { token = server.adminToken, authorization } = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (authorization !== undefined) headers.Authorization = authorization;
  else if (token !== null) headers.Authorization = `Bearer ${token}`;
  const res = await server.fetch(`/internal/documents/${encodeURIComponent(documentId)}/broadcast`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT.timeout),
  });
  const text = await res.text();
  let parsed;
  try { parsed = JSON.parse(text); } catch { parsed = text; }
  return { status: res.status, headers: res.headers, body: parsed };
}

async function broadcastOk(documentId, body, expectedDelivered) {
  const r = await broadcast(documentId, body);
  assert.equal(r.status, 200, `broadcast answered ${r.status}: ${JSON.stringify(r.body)}`);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  assert.deepEqual(r.body, { delivered: expectedDelivered });
  return r;
}

const systemMessage = (messageType, payload) => ({ type: 'message', from: { type: 'system' }, messageType, payload });

/** The first queued "message" of a JSON client must be the marker (nothing was delivered before it). */
async function assertFirstMessageIs(client, expected) {
  const first = await client.next('message', WAIT);
  assert.deepEqual(first, expected, `${client.name}: the first message it got should be ${JSON.stringify(expected)}`);
}

/** The Hocuspocus provider's stateless payloads, parsed; waits until `count` have arrived. */
async function statelessOf(h, count) {
  await until(() => h.events.stateless.length >= count, {
    ...WAIT, what: `${h.name} to receive ${count} stateless message(s)`,
    detail: () => JSON.stringify(h.events.stateless),
  });
  return h.events.stateless.map((p) => JSON.parse(p));
}

/** The bytes of the SQLite database and its WAL (text columns are stored as plain UTF-8). */
function databaseBytes() {
  const parts = [server.dbPath, `${server.dbPath}-wal`].filter(existsSync).map((p) => readFileSync(p));
  return Buffer.concat(parts);
}

async function stepsOf(documentId) {
  const r = await server.getJson(`/documents/${encodeURIComponent(documentId)}/steps?since=0`, { admin: true });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

before(async () => {
  server = await startServer();
  yjs = new YjsClients(server);
});
afterEach(async () => {
  await Promise.all(jsonClients.map((c) => c.close()));
  jsonClients = [];
  await yjs.destroyAll();
});
after(async () => { await server?.dispose(); });

describe('POST /internal/documents/{id}/broadcast', () => {
  test('reaches every JSON and Hocuspocus client of the room, and only that room', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('room');
    const otherDoc = docId('other');
    const a = await json(documentId, 'a');
    const b = await json(documentId, 'b');
    const h = await hocus(documentId);
    const elsewhere = await json(otherDoc, 'elsewhere');

    const payload = { text: 'maintenance at 22:00', level: 2, tags: ['ops', 'ünïcode 😀'], nested: { ok: true, n: null } };
    await broadcastOk(documentId, { type: 'notice', payload }, 3);

    for (const c of [a, b]) {
      const m = await c.next('message', WAIT);
      assert.deepEqual(m, systemMessage('notice', payload), `${c.name} gets the system message as documented`);
      assert.deepEqual(Object.keys(m).sort(), ['from', 'messageType', 'payload', 'type']);
    }
    // Hocuspocus clients get the very same JSON as their stateless payload
    const [stateless] = await statelessOf(h, 1);
    assert.deepEqual(stateless, systemMessage('notice', payload));

    // the client of another document got nothing: its first message is the one sent to its own room
    await broadcastOk(otherDoc, { type: 'marker', payload: 1 }, 1);
    await assertFirstMessageIs(elsewhere, systemMessage('marker', 1));

    // any JSON value is a payload, delivered as JSON (not as a string)
    for (const value of ['plain string', 42, false, null, [1, 'two', { three: 3 }]]) {
      await broadcastOk(documentId, { type: 'value', payload: value }, 3);
      assert.deepEqual(await a.next('message', WAIT), systemMessage('value', value));
      assert.deepEqual(await b.next('message', WAIT), systemMessage('value', value));
    }
    const all = await statelessOf(h, 6);
    assert.deepEqual(all.slice(1).map((s) => s.payload), ['plain string', 42, false, null, [1, 'two', { three: 3 }]]);
  });

  test('counts only the clients that receive it (y-websocket clients get no application messages)', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('yws');
    const a = await json(documentId, 'a');
    const y = yjs.yws(documentId);
    await y.whenSynced(WAIT.timeout);
    const h = await hocus(documentId);
    const r = await broadcast(documentId, { type: 'notice', payload: { n: 1 } });
    assert.equal(r.status, 200);
    assert.deepEqual(await a.next('message', WAIT), systemMessage('notice', { n: 1 }));
    assert.equal((await statelessOf(h, 1)).length, 1);
    assert.deepEqual(r.body, { delivered: 2 }, 'the JSON client and the Hocuspocus provider; the y-websocket client cannot receive it');
  });

  test('with to.id only that client receives it', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('to');
    const a = await json(documentId, 'a');
    const b = await json(documentId, 'b');
    const c = await json(documentId, 'c');
    const h = await hocus(documentId);

    await broadcastOk(documentId, { type: 'private', payload: { for: 'b' }, to: { id: 'b' } }, 1);
    assert.deepEqual(await b.next('message', WAIT), systemMessage('private', { for: 'b' }));

    await broadcastOk(documentId, { type: 'private', payload: 'nobody', to: { id: 'no-such-client' } }, 0);
    await broadcastOk(documentId, { type: 'private', payload: 'explicit null', to: null }, 4);
    for (const x of [a, c]) await assertFirstMessageIs(x, systemMessage('private', 'explicit null'));
    assert.deepEqual(await b.next('message', WAIT), systemMessage('private', 'explicit null'));
    const stateless = await statelessOf(h, 1);
    assert.deepEqual(stateless.map((s) => s.payload), ['explicit null'], 'the provider got only the broadcast to everyone');
  });

  test('401 without the admin token or with a wrong one; nothing is delivered', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('auth');
    const a = await json(documentId, 'a');
    const body = { type: 'sneaky', payload: { x: 1 } };
    const refusals = [
      { token: null },
      { token: 'wrong-token' },
      { token: `${server.adminToken}x` },
      { token: server.adminToken.slice(0, -1) },
      { authorization: server.adminToken },            // no "Bearer " scheme
      { authorization: `Basic ${server.adminToken}` },
      { authorization: 'Bearer ' },
    ];
    for (const opts of refusals) {
      const r = await broadcast(documentId, body, opts);
      assert.equal(r.status, 401, `${JSON.stringify(opts)} must be refused, got ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer');
      assert.equal(r.body.error, 'unauthorized');
    }
    // an unauthorized request with a malformed body is still 401, not 400
    assert.equal((await broadcast(documentId, 'not json', { token: null })).status, 401);

    await broadcastOk(documentId, { type: 'marker', payload: 'after refusals' }, 1);
    await assertFirstMessageIs(a, systemMessage('marker', 'after refusals'));
  });

  test('400 for malformed bodies; nothing is delivered', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('bad');
    const a = await json(documentId, 'a');
    const h = await hocus(documentId);
    const bad = [
      ['not JSON', 'this is not json'],
      ['truncated JSON', '{"type":"x","payload":'],
      ['trailing garbage', '{"type":"x","payload":1} {"type":"y"}'],
      ['nesting deeper than the parser allows', `{"type":"x","payload":${'['.repeat(5000)}${']'.repeat(5000)}}`],
      ['a number out of range', '{"type":"x","payload":1e9999999999}'],
      ['empty body', ''],
      ['an array', '[{"type":"x","payload":1}]'],
      ['a string', '"notice"'],
      ['a number', '42'],
      ['null', 'null'],
      ['no type', { payload: { x: 1 } }],
      ['empty object', {}],
      ['type is a number', { type: 7, payload: 1 }],
      ['type is null', { type: null, payload: 1 }],
      ['type is an object', { type: { name: 'x' }, payload: 1 }],
      ['no payload', { type: 'x' }],
      ['to is a string', { type: 'x', payload: 1, to: 'a' }],
      ['to is an array', { type: 'x', payload: 1, to: ['a'] }],
      ['to without id', { type: 'x', payload: 1, to: {} }],
      ['to.id is a number', { type: 'x', payload: 1, to: { id: 1 } }],
      ['to.id is null', { type: 'x', payload: 1, to: { id: null } }],
    ];
    for (const [what, body] of bad) {
      const r = await broadcast(documentId, body);
      assert.equal(r.status, 400, `${what}: expected 400, got ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'bad-request', `${what}: error body ${JSON.stringify(r.body)}`);
      assert.equal(typeof r.body.message, 'string');
    }
    await broadcastOk(documentId, { type: 'marker', payload: 'after bad bodies' }, 2);
    await assertFirstMessageIs(a, systemMessage('marker', 'after bad bodies'));
    assert.deepEqual((await statelessOf(h, 1)).map((s) => s.messageType), ['marker']);
  });

  test('an empty or unknown room answers 200 {"delivered":0}, never 404', { timeout: TEST_TIMEOUT }, async () => {
    await broadcastOk(docId('never-used'), { type: 'notice', payload: {} }, 0);
    await broadcastOk('ops bc with spaces, ünïcode, ?query & #hash', { type: 'notice', payload: {} }, 0);

    // a room whose clients have all left
    const documentId = docId('left');
    const a = await json(documentId, 'a');
    await broadcastOk(documentId, { type: 'notice', payload: 1 }, 1);
    await a.close();
    // the server processes the close asynchronously: poll until the room no longer has the client
    let last;
    await untilAsync(async () => {
      last = await broadcast(documentId, { type: 'notice', payload: 2 });
      assert.equal(last.status, 200);
      return last.body.delivered === 0;
    }, { ...WAIT, interval: 50, what: 'the room to be empty after its only client left', detail: () => JSON.stringify(last.body) });
    assert.deepEqual(last.body, { delivered: 0 });
  });
});

describe('JSON client-to-client messages', () => {
  test('relayed to every other connection, or to one with to.id; never stored', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('c2c');
    const a = await json(documentId, 'a');
    const b = await json(documentId, 'b');
    const c = await json(documentId, 'c');
    const h = await hocus(documentId);

    // a step first, so the document has history to compare and the database has a row to find
    const stepMarker = `step-marker-${randomUUID()}`;
    a.send({ type: 'steps', version: 0, steps: [{ stepType: 'replace', from: 0, to: 0, marker: stepMarker }] });
    for (const x of [a, b, c]) assert.equal((await x.next('steps', WAIT)).version, 0);
    const before = await stepsOf(documentId);
    assert.equal(before.version, 1);

    const secret = `message-marker-${randomUUID()}`;
    const payload = { cursor: 3, note: secret, nested: [1, { deep: 'ü😀' }] };
    a.send({ type: 'message', messageType: 'chat', payload });
    const fromA = { type: 'message', from: { type: 'client', id: 'a' }, messageType: 'chat', payload };
    assert.deepEqual(await b.next('message', WAIT), fromA);
    assert.deepEqual(await c.next('message', WAIT), fromA);
    const [viaStateless] = await statelessOf(h, 1);
    assert.deepEqual(viaStateless, fromA, 'the same JSON the JSON clients get');

    // without messageType the field is absent
    b.send({ type: 'message', payload: 'hello all' });
    const fromB = { type: 'message', from: { type: 'client', id: 'b' }, payload: 'hello all' };
    assert.deepEqual(await a.next('message', WAIT), fromB);
    assert.deepEqual(await c.next('message', WAIT), fromB);

    // to one client only
    a.send({ type: 'message', payload: { whisper: secret }, to: { id: 'c' } });
    assert.deepEqual(await c.next('message', WAIT), { type: 'message', from: { type: 'client', id: 'a' }, payload: { whisper: secret } });
    // b did not get it, and the sender never gets its own messages
    c.send({ type: 'message', payload: 'marker from c' });
    await assertFirstMessageIs(b, { type: 'message', from: { type: 'client', id: 'c' }, payload: 'marker from c' });
    await assertFirstMessageIs(a, { type: 'message', from: { type: 'client', id: 'c' }, payload: 'marker from c' });
    const seen = await statelessOf(h, 3);
    assert.deepEqual(seen.map((s) => s.payload), [payload, 'hello all', 'marker from c'],
      'the provider got the broadcasts, not the message addressed to c');

    // a Hocuspocus stateless message reaches the JSON clients with its text as a string payload
    h.provider.sendStateless('from the provider');
    for (const x of [a, b, c]) {
      const m = await x.next('message', WAIT);
      assert.equal(m.from.type, 'client');
      assert.equal(m.payload, 'from the provider');
    }

    // a bad message is refused to the sender only
    a.send({ type: 'message', payload: 1, to: 'c' });
    assert.equal((await a.next('error', WAIT)).code, 'invalid-field');
    a.send({ type: 'message' });
    assert.equal((await a.next('error', WAIT)).code, 'missing-field');

    // never stored: the history is unchanged, and after one more (stored) step, the database holds the step
    // markers but not the message marker
    assert.deepEqual(await stepsOf(documentId), before);
    const stepMarker2 = `step-marker-${randomUUID()}`;
    a.send({ type: 'steps', version: 1, steps: [{ stepType: 'replace', from: 0, to: 0, marker: stepMarker2 }] });
    assert.equal((await a.next('steps', WAIT)).version, 1);
    const afterSteps = await stepsOf(documentId);
    assert.equal(afterSteps.version, 2);
    assert.deepEqual(afterSteps.steps.slice(0, 1), before.steps);
    const db = databaseBytes();
    assert.ok(db.includes(stepMarker) && db.includes(stepMarker2), 'positive control: committed steps are visible in the database files');
    assert.ok(!db.includes(secret), 'the application message must not be in the database');
    const summary = (await server.adminDocuments()).body.find((d) => d.documentId === documentId);
    assert.equal(summary.updates, 0, `no Yjs update was stored: ${JSON.stringify(summary)}`);
  });
});
