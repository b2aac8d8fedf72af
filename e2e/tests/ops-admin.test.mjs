// The admin and history HTTP API as an operator and a backend use it: who is connected (the token's sub per
// connection), disconnecting a document or one user (the stock providers reconnect), stored documents without
// connections, the steps endpoint's range and cap, 404 for documents never written, 405 with Allow.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { JsonClient } from '../lib/json-client.mjs';
import { startServer } from '../lib/server.mjs';
import { newSecret, nowSeconds, signToken } from '../lib/tokens.mjs';
import { YjsClients, until, untilAsync } from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 60_000;
const WAIT = { timeout: 15_000 };
const docId = (label) => `ops-admin-${label}-${randomUUID().slice(0, 8)}`;
const enc = encodeURIComponent;
const STEP = { stepType: 'replace', from: 1, to: 1, slice: { content: [{ type: 'text', text: 'a' }] } };

const INTERNAL = `backend-key-${randomUUID()}`;

describe('admin API: connections and users', () => {
  const secret = newSecret();
  let server;
  let clients;
  const sockets = [];
  const token = (sub, doc, scope = 'read-write') => signToken(secret, { sub, doc, scope, exp: nowSeconds() + 3600 });

  before(async () => {
    server = await startServer({ env: { COLLAB_AUTH_SECRET: secret, COLLAB_INTERNAL_TOKEN: INTERNAL } });
    clients = new YjsClients(server);
  });
  afterEach(async () => {
    await clients.destroyAll();
    for (const s of sockets.splice(0)) s.terminate();
  });
  after(async () => { await server?.dispose(); });

  const detail = (id) => server.getJson(`/admin/documents/${enc(id)}`, { admin: true });
  const disconnect = (id, query = '') => server.getJson(`/admin/documents/${enc(id)}/connections${query}`, { admin: true, method: 'DELETE' });

  test('lists every connection with its user, and disconnects one user or the whole document', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('users');
    const ada = await JsonClient.connect(`${server.fabricUrl(documentId, 'ada-editor')}&token=${enc(token('ada', documentId))}`, { name: 'ada' });
    sockets.push(ada.ws);
    await ada.next('connected');
    const y = clients.yws(documentId, { name: 'bob-yws', params: { token: token('bob', documentId, 'read-only') } });
    const h = clients.hocus(documentId, { name: 'bob-hocus', token: token('bob', documentId) });
    await Promise.all([y.whenSynced(WAIT.timeout), h.whenSynced(WAIT.timeout)]);

    const before = await detail(documentId);
    assert.equal(before.status, 200);
    assert.equal(before.body.connections, 3);
    const byProtocol = Object.fromEntries(before.body.clients.map((c) => [c.protocol, c]));
    assert.deepEqual(Object.keys(byProtocol).sort(), ['hocuspocus', 'json', 'y-websocket']);
    assert.equal(byProtocol.json.user, 'ada');
    assert.equal(byProtocol.json.clientID, 'ada-editor');
    assert.equal(byProtocol.json.readOnly, false);
    assert.equal(byProtocol['y-websocket'].user, 'bob');
    assert.equal(byProtocol['y-websocket'].readOnly, true);
    assert.equal(byProtocol.hocuspocus.user, 'bob');
    for (const c of before.body.clients) {
      assert.equal(c.address, '127.0.0.1');
      assert.ok(Date.parse(c.connectedAt) <= Date.now(), `connectedAt is a time: ${c.connectedAt}`);
    }
    assert.match(server.stderr, new RegExp(`open protocol=json doc=${documentId} .*user=ada`), 'the sub is logged on open');

    // only bob's two connections; the stock providers are told to reset and reconnect by themselves
    const closedBob = await disconnect(documentId, '?user=bob');
    assert.deepEqual([closedBob.status, closedBob.body], [200, { closed: 2 }]);
    await until(() => y.closes.some((c) => c?.code === 4205), { ...WAIT, what: 'the y-websocket provider to be closed with 4205' });
    await until(() => h.events.close.some((c) => c?.code === 4205), { ...WAIT, what: 'the Hocuspocus provider to be closed with 4205' });
    assert.match(server.stderr, new RegExp(`close protocol=y-websocket doc=${documentId} .*user=bob`), 'the sub is logged on close');
    await until(() => y.provider.wsconnected && y.provider.synced && h.provider.isSynced, { ...WAIT, what: 'both providers to reconnect' });
    assert.equal(ada.closeInfo, null, 'ada stays connected');
    await untilAsync(async () => (await detail(documentId)).body.connections === 3, { ...WAIT, what: 'three connections again' });

    // the whole document
    const closedAll = await disconnect(documentId);
    assert.equal(closedAll.status, 200);
    assert.ok(closedAll.body.closed >= 3, `every connection: ${JSON.stringify(closedAll.body)}`);
    const info = await ada.closed;
    assert.equal(info.code, 4205);
    assert.deepEqual((await disconnect(docId('nobody'))).body, { closed: 0 });
  });
});

describe('COLLAB_INTERNAL_TOKEN', () => {
  let server;
  before(async () => { server = await startServer({ env: { COLLAB_INTERNAL_TOKEN: INTERNAL } }); });
  after(async () => { await server?.dispose(); });

  test('/internal/* takes the internal token, not the admin token, and the admin API not the internal one', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('internal');
    const c = await JsonClient.connect(server.fabricUrl(documentId, 'listener'), { name: 'listener' });
    await c.next('connected');
    const post = (bearer) => server.getJson(`/internal/documents/${enc(documentId)}/broadcast`, {
      method: 'POST', headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'notice', payload: 1 }),
    });
    assert.equal((await post(server.adminToken)).status, 401, 'the admin token is not the broadcast key');
    const ok = await post(INTERNAL);
    assert.deepEqual([ok.status, ok.body], [200, { delivered: 1 }]);
    assert.equal((await c.next('message')).messageType, 'notice');
    const adminWithInternal = await server.getJson('/admin/documents', { headers: { Authorization: `Bearer ${INTERNAL}` } });
    assert.equal(adminWithInternal.status, 401, 'the broadcast key does not open the admin API');
    await c.close();
  });
});

describe('history and admin HTTP API', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server?.dispose(); });

  test('steps: head version, the returned range, and more when capped at 10,000', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('cap');
    const c = await JsonClient.connect(server.fabricUrl(documentId, 'bulk'), { name: 'bulk', timeout: WAIT.timeout });
    await c.next('connected');
    c.send({ type: 'steps', version: 0, steps: Array.from({ length: 10_001 }, () => STEP) });
    await c.waitFor((m) => m.type === 'steps' && m.version === 0, WAIT);
    const first = await server.getJson(`/documents/${enc(documentId)}/steps?since=0`, { admin: true });
    assert.equal(first.status, 200);
    assert.deepEqual([first.body.version, first.body.from, first.body.to, first.body.more, first.body.steps.length],
      [10_001, 0, 10_000, true, 10_000]);
    const rest = await server.getJson(`/documents/${enc(documentId)}/steps?since=${first.body.to}`, { admin: true });
    assert.deepEqual([rest.body.version, rest.body.from, rest.body.to, rest.body.more, rest.body.steps.length],
      [10_001, 10_000, 10_001, false, 1]);
    await c.close();

    // a document with no open connection is still found by the admin API, with its stored figures
    const stored = await server.getJson(`/admin/documents/${enc(documentId)}`, { admin: true });
    assert.equal(stored.status, 200);
    assert.equal(stored.body.version, 10_001);
    assert.equal(stored.body.kind, 'steps');
  });

  test('404 for a document never written, 405 with Allow for unsupported methods', { timeout: TEST_TIMEOUT }, async () => {
    const never = docId('never');
    for (const path of [`/documents/${never}/yjs`, `/documents/${never}/steps?since=0`, `/admin/documents/${never}`]) {
      const r = await server.getJson(path, { admin: true });
      assert.equal(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'not-found');
    }
    for (const [method, path, allow] of [
      ['POST', `/documents/${never}/yjs`, 'GET'],
      ['DELETE', `/documents/${never}/steps`, 'GET'],
      ['GET', `/internal/documents/${never}/broadcast`, 'POST'],
      ['PUT', `/admin/documents/${never}`, 'GET'],
      ['GET', `/admin/documents/${never}/connections`, 'DELETE'],
      ['POST', '/admin/documents', 'GET'],
      ['POST', '/health', 'GET'],
      ['PUT', '/documents', 'GET'],
      ['POST', `/documents/${never}`, 'GET, DELETE'],
      ['PUT', `/documents/${never}/content`, 'GET, POST'],
      ['GET', `/documents/${never}/updates`, 'POST'],
      ['POST', '/observe/metrics', 'GET'],
      ['DELETE', '/observe/health', 'GET'],
      ['POST', '/observe/health/live', 'GET'],
      ['PUT', '/observe/health/ready', 'GET'],
      ['POST', '/openapi.yaml', 'GET'],
    ]) {
      const r = await server.getJson(path, { admin: true, method });
      assert.equal(r.status, 405, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.headers.get('allow'), allow, `${method} ${path}: Allow`);
      assert.equal(r.body.error, 'method-not-allowed');
    }
  });
});

describe('token expiry on open connections', () => {
  const secret = newSecret();
  let server;
  let clients;
  // seconds: long enough to connect all three on a loaded machine (8 s was not, once: exp is whole seconds, so a
  // token can have 7 s left when made), short enough to wait for
  const TTL = 15;
  const token = (sub, doc, ttl = 3600) => signToken(secret, { sub, doc, scope: 'read-write', exp: nowSeconds() + ttl });

  before(async () => {
    server = await startServer({ env: { COLLAB_AUTH_SECRET: secret } });
    clients = new YjsClients(server);
  });
  after(async () => {
    await clients.destroyAll();
    await server?.dispose();
  });

  test('at exp every protocol closes the connection; the stock providers reconnect with a refreshed token and carry on', { timeout: 90_000 }, async () => {
    const documentId = docId('expiry');
    const json = await JsonClient.connect(`${server.fabricUrl(documentId, 'short')}&token=${enc(token('ada', documentId, TTL))}`,
      { name: 'json', timeout: 30_000 });
    await json.next('connected');
    const y = clients.yws(documentId, { name: 'yws', params: { token: token('bob', documentId, TTL) } });
    let hocusToken = token('cy', documentId, TTL);
    const h = clients.hocus(documentId, { name: 'hocus', token: () => hocusToken });
    await Promise.all([y.whenSynced(30_000), h.whenSynced(30_000)]);
    // the applications refresh their tokens ahead of time; the open connections still hold the short ones
    y.provider.params = { token: token('bob', documentId) };
    hocusToken = token('cy', documentId);

    // JSON: the error first, then the close
    const error = await json.next('error', { timeout: 30_000 });
    assert.equal(error.code, 'token-expired');
    const closed = await json.closed;
    assert.deepEqual([closed.code, closed.reason], [4205, 'access token expired']);

    // the providers are closed with a code they retry (not 4400-4499), and come back with the fresh token
    await until(() => y.closes.some((c) => c?.code === 4205), { timeout: 30_000, what: 'y-websocket closed at exp' });
    await until(() => h.events.close.some((c) => c?.code === 4205), { timeout: 30_000, what: 'Hocuspocus closed at exp' });
    await until(() => y.provider.wsconnected && y.provider.synced && h.provider.isSynced, { timeout: 30_000, what: 'both providers back' });
    y.doc.getText('t').insert(0, 'after ');
    h.doc.getText('t').insert(0, 'refresh ');
    await h.whenAcknowledged(30_000);
    await until(() => y.doc.getText('t').toString().includes('refresh') && h.doc.getText('t').toString().includes('after'),
      { timeout: 30_000, what: 'edits after the reconnect to flow both ways' });
  });
});
