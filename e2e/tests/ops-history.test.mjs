// History over HTTP: GET /documents/{id}/steps?since=N and GET /documents/{id}/yjs, against the real server with
// JSON clients, the stock y-websocket provider and the Hocuspocus provider; admin token and per-document JWTs.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { JsonClient, connectFabric } from '../lib/json-client.mjs';
import { startServer } from '../lib/server.mjs';
import {
  Y, YjsClients, contentOf, describeDiff, mulberry32, randomEdit, sameDoc, until, untilAsync,
} from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 90_000;
const WAIT = { timeout: 20_000 };
const docId = (label) => `ops-hist-${label}-${randomUUID().slice(0, 8)}`;
const enc = encodeURIComponent;

let jsonClients = [];
async function json(server, documentId, clientID) {
  const c = await connectFabric(server, documentId, clientID, { timeout: WAIT.timeout });
  jsonClients.push(c);
  await c.next('connected');
  return c;
}

const step = (n, text) => ({ stepType: 'replace', from: n, to: n, slice: { content: [{ type: 'text', text }] } });

/** Submits steps at `version` and waits until every listed client has seen them confirmed. */
async function submit(sender, version, steps, everyone) {
  sender.send({ type: 'steps', version, steps });
  for (const c of everyone) {
    const m = await c.next('steps', WAIT);
    assert.equal(m.version, version, `${c.name} sees the steps at version ${version}: ${JSON.stringify(m)}`);
  }
}

async function get(server, pathname, { token, admin = false } = {}) {
  const headers = {};
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  return server.fetch(pathname, { admin, headers, signal: AbortSignal.timeout(WAIT.timeout) });
}

async function getJson(server, pathname, opts) {
  const res = await get(server, pathname, opts);
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, headers: res.headers, body };
}

async function yjsState(server, documentId, opts = { admin: true }) {
  const res = await get(server, `/documents/${enc(documentId)}/yjs`, opts);
  assert.equal(res.status, 200, `GET /yjs answered ${res.status}: ${await res.clone().text()}`);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  return new Uint8Array(await res.arrayBuffer());
}

function docFrom(update) {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return doc;
}

// ---------------------------------------------------------------------------------------------
// HS256 JWTs signed here with node:crypto, as a backend would

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function jwt(secret, claims, header = { alg: 'HS256', typ: 'JWT' }) {
  const signingInput = `${b64url(header)}.${b64url(claims)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}
const inOneHour = () => Math.floor(Date.now() / 1000) + 3600;

// ---------------------------------------------------------------------------------------------

describe('history over HTTP with the admin token', () => {
  let server;
  let yjs;
  before(async () => {
    // rooms leave memory one second after their last client, so the store path of /yjs is reachable
    server = await startServer({ env: { COLLAB_ROOM_IDLE_UNLOAD_MS: '1000' } });
    yjs = new YjsClients(server);
  });
  afterEach(async () => {
    await Promise.all(jsonClients.map((c) => c.close()));
    jsonClients = [];
    await yjs.destroyAll();
  });
  after(async () => { await server?.dispose(); });

  test('GET /documents/{id}/steps?since=N returns the steps, their client ids and the version', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('steps');
    const a = await json(server, documentId, 'alice');
    const b = await json(server, documentId, 'bob');
    const all = [];
    const ids = [];
    const add = async (sender, steps) => {
      await submit(sender, all.length, steps, [a, b]);
      all.push(...steps);
      ids.push(...steps.map(() => sender === a ? 'alice' : 'bob'));
    };
    await add(a, [step(1, 'Hello'), step(6, ',')]);
    await add(b, [step(7, ' wörld 😀')]);
    await add(a, [step(1, 'A'), step(2, 'B'), { stepType: 'addMark', from: 1, to: 3, mark: { type: 'strong' } }]);
    assert.equal(all.length, 6);

    for (const since of [0, 1, 2, 3, 5, 6]) {
      const r = await getJson(server, `/documents/${enc(documentId)}/steps?since=${since}`, { admin: true });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.match(r.headers.get('content-type') ?? '', /application\/json/);
      assert.deepEqual(Object.keys(r.body).sort(), ['clientIDs', 'from', 'more', 'steps', 'to', 'version']);
      assert.equal(r.body.version, 6, `since=${since}: version is the current version`);
      assert.deepEqual([r.body.from, r.body.to, r.body.more], [since, 6, false], `since=${since}: the range returned`);
      assert.deepEqual(r.body.steps, all.slice(since), `since=${since}: the steps after ${since}, exactly as submitted`);
      assert.deepEqual(r.body.clientIDs, ids.slice(since), `since=${since}: one client id per step`);
    }
    // without since: everything
    const whole = await getJson(server, `/documents/${enc(documentId)}/steps`, { admin: true });
    assert.equal(whole.status, 200);
    assert.deepEqual(whole.body, { version: 6, from: 0, to: 6, more: false, steps: all, clientIDs: ids });

    // the same history a JSON client catching up from 2 gets
    const late = await json(server, documentId, 'late');
    late.send({ type: 'sync', version: 2 });
    const reply = await late.collectUntil((m) => m.type === 'synced', WAIT);
    const batches = reply.filter((m) => m.type === 'steps');
    assert.deepEqual(batches.flatMap((m) => m.steps), whole.body.steps.slice(2));
    assert.deepEqual(batches.flatMap((m) => m.clientIDs), whole.body.clientIDs.slice(2));

    // a document nobody has used: there is no such document
    const empty = await getJson(server, `/documents/${enc(docId('unused'))}/steps?since=0`, { admin: true });
    assert.equal(empty.status, 404);
    assert.equal(empty.body.error, 'not-found');
  });

  test('400 for a bad since or document id', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('bad-since');
    const a = await json(server, documentId, 'a');
    await submit(a, 0, [step(1, 'x'), step(2, 'y')], [a]);
    for (const since of ['-1', '3', '99999999999', 'abc', '1.5', '', '0x1', '2e0', '%20']) {
      const r = await getJson(server, `/documents/${enc(documentId)}/steps?since=${since}`, { admin: true });
      assert.equal(r.status, 400, `since=${since}: expected 400, got ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'bad-request');
    }
    // boundaries are fine
    assert.equal((await getJson(server, `/documents/${enc(documentId)}/steps?since=2`, { admin: true })).status, 200);
    // document ids the server never accepts
    for (const bad of ['x'.repeat(257), 'bell\u0007']) {
      for (const suffix of ['steps?since=0', 'yjs']) {
        const r = await getJson(server, `/documents/${enc(bad)}/${suffix}`, { admin: true });
        assert.equal(r.status, 400, `${JSON.stringify(bad.slice(0, 12))} ${suffix}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
  });

  test('GET /documents/{id}/yjs: the merged state equals what the clients have, in memory and from the store', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('yjs');
    const y = yjs.yws(documentId);
    const h = yjs.hocus(documentId);
    await Promise.all([y.whenSynced(WAIT.timeout), h.whenSynced(WAIT.timeout)]);
    const ry = mulberry32(11);
    const rh = mulberry32(22);
    for (let i = 0; i < 40; i++) {
      randomEdit(y.doc, ry, `y${i}`);
      randomEdit(h.doc, rh, `h${i}`);
    }
    // a JSON client's update too (base64 Yjs update through the JSON protocol)
    const j = await json(server, documentId, 'json-writer');
    const side = new Y.Doc();
    side.getMap('map').set('from-json', { n: 1, s: 'ü' });
    j.send({ type: 'update', update: Buffer.from(Y.encodeStateAsUpdate(side)).toString('base64'), id: 'u1' });
    assert.equal((await j.next('ack', WAIT)).id, 'u1');

    // every change committed: the Hocuspocus provider has no unacknowledged change, and the two providers
    // converged (the server relays a y-websocket update only after committing it)
    await until(() => sameDoc(y.doc, h.doc) && h.provider.unsyncedChanges === 0 && y.doc.getMap('map').has('from-json'), {
      ...WAIT, what: 'providers to converge with everything acknowledged',
      detail: () => `${describeDiff(y.doc, h.doc, ['yws', 'hocus'])}; unsynced=${h.provider.unsyncedChanges}`,
    });

    const fromServer = docFrom(await yjsState(server, documentId));
    assert.ok(sameDoc(fromServer, y.doc), `in memory: ${describeDiff(fromServer, y.doc, ['GET /yjs', 'yws'])}`);
    assert.deepEqual(contentOf(fromServer), contentOf(h.doc));
    assert.deepEqual(fromServer.getMap('map').get('from-json'), { n: 1, s: 'ü' });

    // everyone leaves; once the room is unloaded the state is merged from the stored update log
    await j.close();
    await yjs.destroyAll();
    await untilAsync(async () => (await server.health()).body.documents === 0, {
      ...WAIT, what: 'the room to be unloaded', detail: async () => JSON.stringify((await server.health()).body),
    });
    const fromStore = docFrom(await yjsState(server, documentId));
    assert.ok(sameDoc(fromStore, fromServer), `from the store: ${describeDiff(fromStore, fromServer, ['store', 'memory'])}`);

    // a document never written has no state to read: 404 (as y-sweet answers), not an empty update
    const none = await get(server, `/documents/${enc(docId('unused'))}/yjs`, { admin: true });
    assert.equal(none.status, 404);
    assert.equal((await none.json()).error, 'not-found');
  });

  test('both endpoints require the admin token: 401 without it or with a wrong one', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('auth');
    const a = await json(server, documentId, 'a');
    await submit(a, 0, [step(1, 'secret')], [a]);
    for (const suffix of ['steps?since=0', 'yjs']) {
      const url = `/documents/${enc(documentId)}/${suffix}`;
      for (const token of [undefined, 'wrong', `${server.adminToken}x`, '']) {
        const r = await getJson(server, url, { token });
        assert.equal(r.status, 401, `${suffix} with ${token === undefined ? 'no token' : JSON.stringify(token)}: ${r.status}`);
        assert.equal(r.body.error, 'unauthorized');
        assert.ok(!JSON.stringify(r.body).includes('secret'));
      }
      // a JWT means nothing while the server has no COLLAB_AUTH_SECRET
      const token = jwt('x'.repeat(40), { sub: 'u', doc: documentId, scope: 'read-write', exp: inOneHour() });
      assert.equal((await getJson(server, url, { token })).status, 401);
      // with the admin token: the steps, and 409 document-kind for the Yjs state of a document that holds steps
      assert.equal((await get(server, url, { admin: true })).status, suffix === 'yjs' ? 409 : 200);
    }
  });
});

describe('history over HTTP with COLLAB_AUTH_SECRET (per-document JWTs)', () => {
  const secret = `ops-history-secret-${randomUUID()}`; // >= 32 bytes
  let server;
  let yjs;
  before(async () => {
    server = await startServer({ env: { COLLAB_AUTH_SECRET: secret } });
    yjs = new YjsClients(server);
  });
  afterEach(async () => {
    await Promise.all(jsonClients.map((c) => c.close()));
    jsonClients = [];
    await yjs.destroyAll();
  });
  after(async () => { await server?.dispose(); });

  const token = (claims) => jwt(secret, { sub: 'backend', scope: 'read-only', exp: inOneHour(), ...claims });

  test('a token for the document reads it; one for another document, expired or forged does not', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('jwt');
    const otherDoc = docId('jwt-other');
    // a writer with a read-write token for the document (JSON clients pass it as ?token=)
    const writerToken = token({ doc: documentId, scope: 'read-write', sub: 'writer' });
    const url = `${server.fabricUrl(documentId, 'writer')}&token=${enc(writerToken)}`;
    const w = await JsonClient.connect(url, { name: 'writer', timeout: WAIT.timeout });
    jsonClients.push(w);
    await w.next('connected');
    await submit(w, 0, [step(1, 'jwt'), step(4, '!')], [w]);
    // the Yjs content lives in a document of its own (a document holds steps or Yjs updates, never both)
    const yjsDoc = `${documentId}-yjs`;
    const yw = await JsonClient.connect(`${server.fabricUrl(yjsDoc, 'yjs-writer')}&token=${enc(token({ doc: yjsDoc, scope: 'read-write' }))}`,
      { name: 'yjs-writer', timeout: WAIT.timeout });
    jsonClients.push(yw);
    await yw.next('connected');
    const side = new Y.Doc();
    side.getText('text').insert(0, 'yjs via jwt');
    yw.send({ type: 'update', update: Buffer.from(Y.encodeStateAsUpdate(side)).toString('base64') });
    await yw.next('ack', WAIT);

    const steps = `/documents/${enc(documentId)}/steps?since=0`;
    const state = `/documents/${enc(yjsDoc)}/yjs`;
    const expectedSteps = { version: 2, from: 0, to: 2, more: false, steps: [step(1, 'jwt'), step(4, '!')], clientIDs: ['writer', 'writer'] };

    for (const good of [(d) => token({ doc: d }), (d) => token({ doc: d, scope: 'read-write' }),
      () => token({ doc: `${documentId.slice(0, 10)}*` }), () => token({ doc: '*' })]) {
      const r = await getJson(server, steps, { token: good(documentId) });
      assert.equal(r.status, 200, `a token for the document reads its steps: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body, expectedSteps);
      const res = await get(server, state, { token: good(yjsDoc) });
      assert.equal(res.status, 200);
      const doc = docFrom(new Uint8Array(await res.arrayBuffer()));
      assert.equal(doc.getText('text').toString(), 'yjs via jwt');
    }

    const otherSecret = `another-secret-${randomUUID()}`;
    const refused = {
      'a token for another document': token({ doc: otherDoc }),
      'a prefix token for another prefix': token({ doc: 'nope-*' }),
      'an expired token': token({ doc: '*', exp: Math.floor(Date.now() / 1000) - 60 }),
      'a token without exp': jwt(secret, { sub: 'backend', scope: 'read-only', doc: '*' }),
      'a token signed with another secret': jwt(otherSecret, { sub: 'b', scope: 'read-only', doc: '*', exp: inOneHour() }),
      'an unsigned token (alg none)': `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ doc: '*', scope: 'read-only', exp: inOneHour() })}.`,
      'a token with a bad scope': token({ doc: '*', scope: 'admin' }),
      'garbage': 'not.a.jwt',
    };
    for (const [what, t] of Object.entries(refused)) {
      for (const url of [steps, state]) {
        const r = await getJson(server, url, { token: t });
        assert.equal(r.status, 401, `${what} on ${url}: expected 401, got ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      }
    }
    // the token for the other document works for that document, not for this one
    const forOther = token({ doc: otherDoc });
    // (accepted: 404, the other document was never written)
    assert.equal((await getJson(server, `/documents/${enc(otherDoc)}/steps?since=0`, { token: forOther })).status, 404);
    assert.equal((await getJson(server, steps, { token: forOther })).status, 401);

    // no token: 401; the admin token still works
    assert.equal((await getJson(server, steps)).status, 401);
    const asAdmin = await getJson(server, steps, { admin: true });
    assert.equal(asAdmin.status, 200);
    assert.deepEqual(asAdmin.body, expectedSteps);
  });
});
