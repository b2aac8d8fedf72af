// Access control against the real server with the stock clients: HS256 access tokens (COLLAB_AUTH_SECRET) on all
// three protocols — valid, read-only, prefix and wildcard documents, expired, forged, tampered, unsigned, wrong
// document, missing — read-only connections that sync and receive but whose writes go nowhere, the Origin
// allowlist, the admin API in auth mode, and open mode without a secret.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { JsonClient } from '../lib/json-client.mjs';
import { startServer } from '../lib/server.mjs';
import { newSecret, nowSeconds, signToken, tamper, unsignedToken } from '../lib/tokens.mjs';
import { WebSocket, Y, YjsClients, adminDoc, until, untilAsync } from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 90_000;
const WAIT = { timeout: 20_000 };
const GOOD_ORIGIN = 'https://editor.example';
const OTHER_ORIGIN = 'https://admin.example';
const EVIL_ORIGIN = 'https://evil.example';
process.setMaxListeners(100);

const docId = (label) => `sec-${label}-${randomUUID().slice(0, 8)}`;
const b64 = (u) => Buffer.from(u).toString('base64');

/**
 * Opens a raw `ws` upgrade. Resolves { open: true, ws } once open, or { status, body } when the server answers the
 * upgrade with an HTTP response instead (the status the stock clients would get).
 */
function upgrade(url, { headers } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: WAIT.timeout });
    ws.once('open', () => resolve({ open: true, ws }));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => { resolve({ open: false, status: res.statusCode, body }); ws.terminate(); });
    });
    ws.once('error', (err) => reject(new Error(`${url}: ${err.message}`)));
  });
}

async function expectRefused(url, status, bodyPart, opts) {
  const r = await upgrade(url, opts);
  if (r.open) r.ws.terminate();
  assert.equal(r.open, false, `${url} should be refused with ${status}, but the upgrade succeeded`);
  assert.equal(r.status, status, `${url}: status (body: ${r.body})`);
  if (bodyPart) assert.match(r.body, bodyPart, `${url}: the refusal says why`);
  return r;
}

async function expectOpen(url, opts) {
  const r = await upgrade(url, opts);
  assert.ok(r.open, `${url} should open, got HTTP ${r.status}: ${r.body}`);
  r.ws.terminate();
}

/**
 * A `ws` class for the stock providers' WebSocketPolyfill that records refused upgrades ({status, body}) and
 * then aborts the handshake as `ws` does by default, so the provider sees an ordinary failed connection.
 */
function refusalRecorder(record) {
  return class RecordingWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      this.on('unexpected-response', (req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { body += c; });
        res.on('end', () => { record.push({ url, status: res.statusCode, body }); this.terminate(); });
      });
    }
  };
}

const nothingReachedTheRoom = async (server, documentId) => {
  assert.equal(await adminDoc(server, documentId), undefined, `no connection of ${documentId} reached a room`);
};

describe('signed access tokens (COLLAB_AUTH_SECRET)', () => {
  const secret = newSecret();
  let server;
  let clients;
  let jsonClients = [];

  before(async () => {
    server = await startServer({
      env: { COLLAB_AUTH_SECRET: secret, COLLAB_ALLOWED_ORIGINS: `${GOOD_ORIGIN}, ${OTHER_ORIGIN}` },
    });
    clients = new YjsClients(server);
  });
  afterEach(async () => {
    await Promise.all(jsonClients.map((c) => c.close()));
    jsonClients = [];
    await clients.destroyAll();
  });
  after(async () => { await server?.dispose(); });

  const rw = (doc, sub = 'writer') => signToken(secret, { sub, doc, scope: 'read-write' });
  const ro = (doc, sub = 'reader') => signToken(secret, { sub, doc, scope: 'read-only' });

  /** Every kind of token for `documentId`: [name, token, expected] with expected 'rw' | 'ro' | 401 | 403. */
  const tokenCases = (documentId) => [
    ['valid read-write', rw(documentId), 'rw'],
    ['read-only', ro(documentId), 'ro'],
    ['prefix sec-*', signToken(secret, { sub: 'p', doc: 'sec-*', scope: 'read-write' }), 'rw'],
    ['wildcard *', signToken(secret, { sub: 'w', doc: '*', scope: 'read-only' }), 'ro'],
    ['expired', signToken(secret, { sub: 'x', doc: documentId, scope: 'read-write', exp: nowSeconds() - 60 }), 401, /expired/],
    ['forged (other secret)', signToken(newSecret(), { sub: 'x', doc: documentId, scope: 'read-write' }), 401, /signature/],
    ['tampered signature', tamper(rw(documentId)), 401, /signature/],
    ['unsigned (alg none)', unsignedToken({ sub: 'x', doc: documentId, scope: 'read-write' }), 401],
    ['wrong document', rw('some-other-document'), 403, /not valid for this document/],
    ['other prefix', signToken(secret, { sub: 'p', doc: 'other-*', scope: 'read-write' }), 403, /not valid for this document/],
    ['no exp', signToken(secret, { sub: 'x', doc: documentId, scope: 'read-write', exp: undefined }), 401, /exp/],
    ['unknown scope', signToken(secret, { sub: 'x', doc: documentId, scope: 'admin' }), 401, /scope/],
    ['garbage', 'not-a-token', 401, /malformed/],
    ['missing', null, 401, /required/],
  ];

  // each case gets its own document, so "nothing reached a room" is checked on a document nobody else opened
  const cases = (label) => tokenCases('').map((c, i) => {
    const documentId = docId(`${label}-${i}`);
    return [documentId, ...tokenCases(documentId)[i]];
  });

  test('JSON protocol (/ws/fabric?token=): every token kind', { timeout: TEST_TIMEOUT }, async () => {
    for (const [documentId, name, token, expected, reason] of cases('json')) {
      const url = server.fabricUrl(documentId, 'c') + (token === null ? '' : `&token=${encodeURIComponent(token)}`);
      if (typeof expected === 'number') {
        await expectRefused(url, expected, reason);
        await nothingReachedTheRoom(server, documentId);
        continue;
      }
      const c = await JsonClient.connect(url, { name: `json ${name}`, timeout: WAIT.timeout });
      jsonClients.push(c);
      const hello = await c.next('connected', WAIT);
      assert.equal(hello.documentId, documentId, name);
      // a write tells read-write from read-only
      c.send({ type: 'update', update: b64(Y.encodeStateAsUpdate(textDoc(name))), id: name });
      const answer = await c.waitFor((m) => m.type === 'ack' || m.type === 'error', { ...WAIT, what: `${name}: ack or error` });
      if (expected === 'rw') assert.deepEqual(answer, { type: 'ack', id: name }, name);
      else assert.equal(answer.code, 'read-only', `${name}: ${JSON.stringify(answer)}`);
      const stored = (await storedDoc(server, documentId)).getText('text').toString();
      assert.equal(stored, expected === 'rw' ? name : '', `${name}: what the server stored`);
    }
  });

  test('y-websocket (stock WebsocketProvider, params: {token}): every token kind', { timeout: TEST_TIMEOUT }, async () => {
    for (const [documentId, name, token, expected, reason] of cases('yws')) {
      const refusals = [];
      const y = clients.yws(documentId, {
        name: `yws ${name}`,
        params: token === null ? {} : { token },
        WebSocketPolyfill: refusalRecorder(refusals),
      });
      if (typeof expected === 'number') {
        await until(() => refusals.length > 0, { ...WAIT, what: `${name}: the upgrade to be refused` });
        assert.equal(refusals[0].status, expected, `${name}: ${JSON.stringify(refusals[0])}`);
        if (reason) assert.match(refusals[0].body, reason, name);
        assert.equal(y.provider.synced, false, `${name}: never synced`);
        // the provider put the token where we expect it (the query string)
        if (token !== null) assert.ok(refusals[0].url.includes(`token=${encodeURIComponent(token)}`), refusals[0].url);
        y.destroy();
        await nothingReachedTheRoom(server, documentId);
        continue;
      }
      await y.whenSynced(WAIT.timeout);
      assert.deepEqual(refusals, [], name);
      y.destroy();
    }
  });

  test('Hocuspocus (stock provider, token option): every token kind', { timeout: TEST_TIMEOUT }, async () => {
    for (const [documentId, name, token, expected, reason] of cases('hocus')) {
      const h = clients.hocus(documentId, { name: `hocus ${name}`, token });
      await until(() => h.events.authenticated.length + h.events.authenticationFailed.length > 0,
        { ...WAIT, what: `${name}: authenticated or authenticationFailed` });
      if (typeof expected === 'number') {
        assert.equal(h.events.authenticated.length, 0, name);
        if (reason) assert.match(h.events.authenticationFailed[0].reason, reason, name);
        assert.equal(h.provider.isSynced, false, `${name}: never synced`);
        assert.equal(h.provider.isAuthenticated, false, name);
        await nothingReachedTheRoom(server, documentId);
      } else {
        const scope = expected === 'rw' ? 'read-write' : 'readonly';
        assert.deepEqual(h.events.authenticated, [{ scope }], name);
        assert.equal(h.provider.authorizedScope, scope, name);
        await h.whenSynced(WAIT.timeout);
      }
      h.destroy();
    }
  });

  test('one Hocuspocus socket: a refused document does not affect the others on it', { timeout: TEST_TIMEOUT }, async () => {
    const good = docId('hocus-good');
    const bad = docId('hocus-bad');
    const socket = clients.hocusSocket();
    const ok = clients.hocus(good, { socket, token: rw(good) });
    const denied = clients.hocus(bad, { socket, token: rw(good) });
    await until(() => denied.events.authenticationFailed.length > 0, { ...WAIT, what: 'the wrong-document token to be denied' });
    await ok.whenSynced(WAIT.timeout);
    ok.doc.getText('text').insert(0, 'still fine');
    await ok.whenAcknowledged(WAIT.timeout);
    assert.equal(denied.events.authenticated.length, 0);
    await nothingReachedTheRoom(server, bad);
  });

  test('read-only JSON client: syncs, receives and sends awareness; updates and steps refused, not stored or relayed',
    { timeout: TEST_TIMEOUT }, async () => {
      const documentId = docId('ro-json');
      const writer = await JsonClient.connect(`${server.fabricUrl(documentId, 'w')}&token=${rw(documentId)}`, { timeout: WAIT.timeout });
      const reader = await JsonClient.connect(`${server.fabricUrl(documentId, 'r')}&token=${ro(documentId)}`, { timeout: WAIT.timeout });
      jsonClients.push(writer, reader);
      await writer.next('connected', WAIT);
      await reader.next('connected', WAIT);
      const edit = Y.encodeStateAsUpdate(textDoc('from the writer', 1));
      writer.send({ type: 'update', update: b64(edit), id: 1 });
      await writer.next('ack', WAIT);
      const relayed = await reader.next('update', WAIT);
      assert.equal(relayed.update, b64(edit), 'the read-only client receives the writer\'s update');

      reader.send({ type: 'update', update: b64(Y.encodeStateAsUpdate(textDoc('from the reader', 2))), id: 9 });
      assert.equal((await reader.next('error', WAIT)).code, 'read-only');
      reader.send({ type: 'steps', version: 0, steps: [{ stepType: 'replace', from: 0, to: 0 }] });
      assert.equal((await reader.next('error', WAIT)).code, 'read-only');
      reader.send({ type: 'awareness', state: { user: 'reader' } });
      const aw = await writer.waitFor((m) => m.type === 'awareness' && m.clientID === 'r', { ...WAIT, what: 'the reader\'s awareness' });
      assert.deepEqual(aw.state, { user: 'reader' });
      // in-order barrier on the reader's connection: once its message arrived, its refused writes were handled
      reader.send({ type: 'message', payload: 'barrier' });
      await writer.waitFor((m) => m.type === 'message' && m.payload === 'barrier', { ...WAIT, what: 'barrier' });
      assert.deepEqual(writer.peek('update'), [], 'no update from the read-only client was relayed');
      assert.deepEqual(writer.peek('steps'), [], 'no steps from the read-only client were relayed');
      assert.equal(reader.peek('ack').length, 0, 'nothing acknowledged to the read-only client');
      // a sync works for the read-only client
      reader.send({ type: 'sync', version: 0 });
      const synced = await reader.next('synced', WAIT);
      assert.equal(synced.version, 0, 'no step was accepted');
      const stored = await storedDoc(server, documentId);
      assert.equal(stored.getText('text').toString(), 'from the writer');
      const summary = await adminDoc(server, documentId);
      assert.equal(summary.updates, 1, `one stored update: ${JSON.stringify(summary)}`);
      assert.equal(summary.version, 0);
    });

  test('read-only y-websocket provider: syncs and receives; its edits are dropped, not relayed or stored', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('ro-yws');
    const w = clients.yws(documentId, { name: 'writer', params: { token: rw(documentId) } });
    const r = clients.yws(documentId, { name: 'reader', params: { token: ro(documentId) } });
    await Promise.all([w.whenSynced(WAIT.timeout), r.whenSynced(WAIT.timeout)]);
    w.doc.getText('text').insert(0, 'written');
    await until(() => r.doc.getText('text').toString() === 'written', { ...WAIT, what: 'the reader to receive the edit' });
    r.doc.getText('text').insert(0, 'READONLY ');
    r.awareness.setLocalStateField('barrier', 1);
    await until(() => w.awareness.getStates().get(r.doc.clientID)?.barrier === 1, { ...WAIT, what: 'the reader\'s awareness (sent after its edit)' });
    assert.equal(w.doc.getText('text').toString(), 'written', 'the read-only edit was not relayed');
    assert.ok(r.provider.wsconnected, 'the read-only connection stays open (updates are dropped, not fatal)');
    assert.equal((await storedDoc(server, documentId)).getText('text').toString(), 'written', 'nor stored');
    assert.equal((await adminDoc(server, documentId)).updates, 1);
  });

  test('read-only Hocuspocus provider: scope readonly, syncs and receives; its edits get SyncStatus(false), not relayed or stored',
    { timeout: TEST_TIMEOUT }, async () => {
      const documentId = docId('ro-hocus');
      const w = clients.hocus(documentId, { name: 'writer', token: rw(documentId) });
      const r = clients.hocus(documentId, { name: 'reader', token: ro(documentId) });
      await Promise.all([w.whenSynced(WAIT.timeout), r.whenSynced(WAIT.timeout)]);
      assert.equal(r.provider.authorizedScope, 'readonly');
      assert.equal(w.provider.authorizedScope, 'read-write');
      w.doc.getText('text').insert(0, 'written');
      await w.whenAcknowledged(WAIT.timeout);
      await until(() => r.doc.getText('text').toString() === 'written', { ...WAIT, what: 'the reader to receive the edit' });
      r.doc.getText('text').insert(0, 'READONLY ');
      r.awareness.setLocalStateField('barrier', 1);
      await until(() => w.awareness.getStates().get(r.doc.clientID)?.barrier === 1, { ...WAIT, what: 'the reader\'s awareness' });
      assert.equal(w.doc.getText('text').toString(), 'written', 'the read-only edit was not relayed');
      assert.ok(r.provider.unsyncedChanges > 0, 'the read-only edit is never acknowledged');
      assert.equal((await storedDoc(server, documentId)).getText('text').toString(), 'written', 'nor stored');
    });

  test('read-only Hocuspocus provider whose sync brings nothing new has no unsynced changes (SyncStatus(true))',
    { timeout: TEST_TIMEOUT }, async () => {
      const documentId = docId('ro-hocus-clean');
      const w = clients.hocus(documentId, { name: 'writer', token: rw(documentId) });
      await w.whenSynced(WAIT.timeout);
      // a deletion, so the reader's sync step 2 is not empty: it repeats the document's delete set
      w.doc.getText('text').insert(0, 'hello, world');
      w.doc.getText('text').delete(0, 7);
      await w.whenAcknowledged(WAIT.timeout);
      const r = clients.hocus(documentId, { name: 'reader', token: ro(documentId) });
      await r.whenSynced(WAIT.timeout);
      assert.equal(r.doc.getText('text').toString(), 'world');
      // like the reference server: only a refused real change is answered SyncStatus(false)
      await until(() => !r.provider.hasUnsyncedChanges, { ...WAIT, what: 'the read-only viewer to have no unsynced changes',
        detail: () => `unsyncedChanges=${r.provider.unsyncedChanges}` });
      r.doc.getText('text').insert(0, 'READONLY ');
      r.awareness.setLocalStateField('barrier', 1);
      await until(() => w.awareness.getStates().get(r.doc.clientID)?.barrier === 1, { ...WAIT, what: 'the reader\'s awareness' });
      assert.ok(r.provider.hasUnsyncedChanges, 'a real change is refused: SyncStatus(false)');
      assert.equal((await storedDoc(server, documentId)).getText('text').toString(), 'world', 'nothing of it stored');
    });

  test('Origin allowlist (COLLAB_ALLOWED_ORIGINS) on every endpoint', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('origin');
    const t = rw(documentId);
    const urls = [
      `${server.fabricUrl(documentId, 'o')}&token=${t}`,
      `${server.url}/yjs/${documentId}?token=${t}`,
      `${server.url}/hocuspocus`,
    ];
    for (const url of urls) {
      await expectRefused(url, 403, /origin/, { headers: { Origin: EVIL_ORIGIN } });
      await expectRefused(url, 403, /origin/, { headers: { Origin: `${GOOD_ORIGIN}.evil.example` } });
    }
    // the origin is checked before the token: a good token does not help a bad origin (checked before any
    // allowed connection opens, since those do join the room)
    await nothingReachedTheRoom(server, documentId);
    for (const url of urls) {
      await expectOpen(url, { headers: { Origin: GOOD_ORIGIN } });
      await expectOpen(url, { headers: { Origin: OTHER_ORIGIN } });
      await expectOpen(url); // no Origin header: not a browser
    }
  });

  test('the admin API still needs the admin token, not an access token', { timeout: TEST_TIMEOUT }, async () => {
    const all = signToken(secret, { sub: 'root', doc: '*', scope: 'read-write' });
    for (const headers of [{}, { Authorization: `Bearer ${all}` }, { Authorization: 'Bearer wrong' }]) {
      const res = await server.getJson('/admin/documents', { headers });
      assert.equal(res.status, 401, `${JSON.stringify(headers)}: ${JSON.stringify(res.body)}`);
    }
    assert.equal((await server.adminDocuments()).status, 200);
    const bcast = await server.fetch(`/internal/documents/${docId('x')}/broadcast`, {
      method: 'POST', headers: { Authorization: `Bearer ${all}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'notice', payload: 1 }),
    });
    assert.equal(bcast.status, 401, 'internal endpoints refuse access tokens');
    await bcast.body?.cancel();
  });
});

describe('open mode (no COLLAB_AUTH_SECRET)', () => {
  let server;
  let clients;
  before(async () => {
    server = await startServer({ env: { COLLAB_AUTH_SECRET: '' } });
    clients = new YjsClients(server);
  });
  afterEach(async () => { await clients.destroyAll(); });
  after(async () => { await server?.dispose(); });

  test('everyone reads and writes on every protocol, and the server says so at startup', { timeout: TEST_TIMEOUT }, async () => {
    assert.match(server.stdout + server.stderr, /COLLAB_AUTH_SECRET is not set: this server is OPEN/);
    const documentId = docId('open');
    const j = await JsonClient.connect(server.fabricUrl(documentId, 'j'), { timeout: WAIT.timeout });
    try {
      await j.next('connected', WAIT);
      j.send({ type: 'update', update: b64(Y.encodeStateAsUpdate(textDoc('json ', 3))), id: 1 });
      await j.next('ack', WAIT);
    } finally {
      await j.close();
    }
    const y = clients.yws(documentId, { name: 'yws', params: { token: 'anything at all' } });
    const h = clients.hocus(documentId, { name: 'hocus', token: 'not a jwt' });
    await Promise.all([y.whenSynced(WAIT.timeout), h.whenSynced(WAIT.timeout)]);
    assert.deepEqual(h.events.authenticated, [{ scope: 'read-write' }]);
    y.doc.getText('text').insert(0, 'yws ');
    h.doc.getText('text').insert(0, 'hocus ');
    await h.whenAcknowledged(WAIT.timeout);
    await until(() => ['json', 'yws', 'hocus'].every((w) => y.doc.getText('text').toString().includes(w)
      && h.doc.getText('text').toString().includes(w)), { ...WAIT, what: 'every write everywhere' });
    await untilAsync(async () => {
      const t = (await storedDoc(server, documentId)).getText('text').toString();
      return ['json', 'yws', 'hocus'].every((w) => t.includes(w));
    }, { ...WAIT, what: 'every write stored' });
  });
});

// ---------------------------------------------------------------------------------------------

/** A Y.Doc (with a fixed client id, so updates are distinct per writer) holding `text`. */
function textDoc(text, clientID) {
  const d = new Y.Doc();
  if (clientID !== undefined) d.clientID = clientID;
  d.getText('text').insert(0, text);
  return d;
}

/** The document as the server stores it (GET /documents/{id}/yjs with the admin token). */
async function storedDoc(server, documentId) {
  const res = await server.fetch(`/documents/${encodeURIComponent(documentId)}/yjs`, { admin: true });
  const doc = new Y.Doc();
  if (res.status === 404) return doc;          // never written: every write to it was refused
  assert.equal(res.status, 200, `GET /documents/${documentId}/yjs`);
  Y.applyUpdate(doc, new Uint8Array(await res.arrayBuffer()));
  return doc;
}
