// Document content over HTTP (GET/POST /documents/{id}/content), computed in Java, against stock y-websocket and
// Hocuspocus clients editing through the real y-prosemirror: the server's ProseMirror JSON, text and toJSON are
// the clients' own, and a template POSTed by a backend reaches connected clients as the same ProseMirror document.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { prosemirrorJSONToYXmlFragment, prosemirrorToYXmlFragment, yXmlFragmentToProseMirrorRootNode, yXmlFragmentToProsemirrorJSON } from 'y-prosemirror';
import { RICH, li, normalForm, p, ruleText, schema, strong, t } from '../content-fixtures/documents.mjs';
import { JsonClient } from '../lib/json-client.mjs';
import { startServer } from '../lib/server.mjs';
import { signToken } from '../lib/tokens.mjs';
import { Y, YjsClients, mulberry32, untilAsync } from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 120_000;
const WAIT = { timeout: 30_000 };
const SECRET = 'content-api-e2e-secret-of-at-least-32-bytes';
const docId = (label) => `content-${label}-${randomUUID().slice(0, 8)}`;
const enc = encodeURIComponent;

async function call(server, method, pathname, { token, admin = !token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await server.fetch(pathname, {
    method, admin, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(WAIT.timeout),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}
const content = (server, id, query = '', opts) => call(server, 'GET', `/documents/${enc(id)}/content${query}`, opts);

const pmJson = (doc, field) => JSON.stringify(yXmlFragmentToProsemirrorJSON(doc.getXmlFragment(field)));

describe('document content over HTTP', () => {
  let server;
  let yjs;
  before(async () => {
    server = await startServer({ env: { COLLAB_AUTH_SECRET: SECRET } });
    yjs = new YjsClients(server);
  });
  afterEach(async () => { await yjs.destroyAll(); });
  after(async () => { await server?.dispose(); });

  const token = (documentId, scope) => signToken(SECRET, { sub: 'backend', doc: documentId, scope });

  test('GET content is yXmlFragmentToProsemirrorJSON, the text rule and toJSON of what y-prosemirror clients wrote', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('read');
    const rw = token(documentId, 'read-write');
    const a = yjs.yws(documentId, { params: { token: rw } });
    const b = yjs.hocus(documentId, { token: rw });
    await a.whenSynced(WAIT.timeout);
    await b.whenSynced(WAIT.timeout);

    // a writes the rich document through y-prosemirror; b, once it has it, edits it the way the sync plugin does
    prosemirrorJSONToYXmlFragment(schema, RICH, a.doc.getXmlFragment('default'));
    await untilAsync(async () => pmJson(b.doc, 'default') === pmJson(a.doc, 'default'), { ...WAIT, what: 'b to receive the document' });
    const edited = JSON.parse(JSON.stringify(RICH));
    edited.content[1].content[1] = t('bold and changed', strong);
    edited.content[2] = p(t('no longer empty'));
    edited.content[4].content.push(li(p(t('from hocuspocus'))));
    prosemirrorToYXmlFragment(schema.nodeFromJSON(edited), b.doc.getXmlFragment('default'));
    // concurrent character-level edits from both, as two people typing
    const rng = mulberry32(15);
    for (let i = 0; i < 40; i++) {
      const doc = i % 2 ? a.doc : b.doc;
      const texts = [];
      const walk = (type) => type.toArray().forEach((c) => c instanceof Y.XmlText ? texts.push(c) : c instanceof Y.XmlElement && walk(c));
      walk(doc.getXmlFragment('default'));
      const x = texts[Math.floor(rng() * texts.length)];
      if (rng() < 0.7 || x.length < 2) x.insert(Math.floor(rng() * (x.length + 1)), ['a', 'b', '😀'][i % 3], rng() < 0.3 ? { em: {} } : undefined);
      else x.delete(Math.floor(rng() * (x.length - 1)), 1);
    }
    a.doc.getMap('meta').set('title', 'Release notes');
    await untilAsync(async () => pmJson(a.doc, 'default') === pmJson(b.doc, 'default') && b.doc.getMap('meta').size === 1,
      { ...WAIT, what: 'the clients to converge' });
    await b.whenAcknowledged(WAIT.timeout);

    const expected = pmJson(a.doc, 'default');
    // y-websocket has no acknowledgement: wait until the server holds everything a sent
    await untilAsync(async () => (await content(server, documentId)).text === expected,
      { ...WAIT, what: 'the server content to equal the clients\'', detail: async () => (await content(server, documentId)).text });
    const pm = await content(server, documentId, '?format=prosemirror&field=default', { token: token(documentId, 'read-only') });
    assert.equal(pm.status, 200);
    assert.match(pm.type, /application\/json/);
    assert.equal(pm.text, expected, 'exactly yXmlFragmentToProsemirrorJSON, key order included');
    assert.ok(yXmlFragmentToProseMirrorRootNode(a.doc.getXmlFragment('default'), schema).eq(schema.nodeFromJSON(JSON.parse(pm.text))));

    const text = await content(server, documentId, '?format=text');
    assert.equal(text.status, 200);
    assert.match(text.type, /text\/plain/);
    assert.equal(text.text, ruleText(a.doc.getXmlFragment('default')));

    const json = await content(server, documentId, '?format=json');
    assert.equal(json.status, 200);
    assert.equal(json.text, JSON.stringify(a.doc.toJSON()), 'ydoc.toJSON() of a client that used the same types');

    // fields that do not exist or are not fragments; bad formats; a token for another document
    const missing = await content(server, documentId, '?field=prosemirror');
    assert.equal(missing.status, 400);
    assert.deepEqual(JSON.parse(missing.text).fields.sort(), ['default', 'meta']);
    assert.equal((await content(server, documentId, '?field=meta')).status, 400);
    assert.equal((await content(server, documentId, '?format=html')).status, 400);
    assert.equal((await content(server, documentId, '', { token: token('other', 'read-write') })).status, 403);
    assert.equal((await content(server, documentId, '', { token: 'nonsense' })).status, 401);
  });

  test('a POSTed template reaches connected stock clients, y-prosemirror reads back the same JSON, and only once', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('seed');
    const rw = token(documentId, 'read-write');
    const a = yjs.yws(documentId, { params: { token: rw } });
    const b = yjs.hocus(documentId, { token: rw });
    await a.whenSynced(WAIT.timeout);
    await b.whenSynced(WAIT.timeout);

    const readOnly = await call(server, 'POST', `/documents/${enc(documentId)}/content`, { token: token(documentId, 'read-only'), body: RICH });
    assert.equal(readOnly.status, 403, readOnly.text);
    const bad = await call(server, 'POST', `/documents/${enc(documentId)}/content`, { body: { type: 'doc', content: [{ type: 'paragraph', content: [{ type: 'text' }] }] } });
    assert.equal(bad.status, 400, bad.text);
    assert.match(JSON.parse(bad.text).message, /content\[0\]\.content\[0\]\.text/);

    const seeded = await call(server, 'POST', `/documents/${enc(documentId)}/content`, { token: rw, body: RICH });
    assert.equal(seeded.status, 201, seeded.text);
    assert.equal(JSON.parse(seeded.text).field, 'default');

    const normal = JSON.stringify(normalForm(RICH));
    for (const c of [a, b]) {
      await untilAsync(async () => pmJson(c.doc, 'default') === normal, { ...WAIT, what: `${c.name} to show the template`, detail: () => pmJson(c.doc, 'default') });
      assert.ok(yXmlFragmentToProseMirrorRootNode(c.doc.getXmlFragment('default'), schema).eq(schema.nodeFromJSON(RICH)),
        `${c.name}: the same ProseMirror document`);
    }
    assert.equal((await content(server, documentId)).text, normal);

    // the field has content now: a second seed is refused and changes nothing; another field can be seeded
    const again = await call(server, 'POST', `/documents/${enc(documentId)}/content`, { body: { type: 'doc', content: [p(t('x'))] } });
    assert.equal(again.status, 409, again.text);
    const other = await call(server, 'POST', `/documents/${enc(documentId)}/content?field=prosemirror`, { body: { type: 'doc', content: [p(t('demo'))] } });
    assert.equal(other.status, 201, other.text);
    await untilAsync(async () => pmJson(a.doc, 'prosemirror') === JSON.stringify({ type: 'doc', content: [p(t('demo'))] }), { ...WAIT, what: 'the second field' });
    assert.equal(pmJson(a.doc, 'default'), normal);

    // a late client gets the seeded document from the store like any other history
    const late = yjs.yws(documentId, { params: { token: rw } });
    await late.whenSynced(WAIT.timeout);
    await untilAsync(async () => pmJson(late.doc, 'default') === normal, { ...WAIT, what: 'the late client' });
  });

  test('a steps document cannot be seeded with Yjs content: 409', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('steps');
    const c = await JsonClient.connect(`${server.fabricUrl(documentId, 'alice')}&token=${token(documentId, 'read-write')}`, { timeout: WAIT.timeout });
    try {
      await c.next('connected');
      c.send({ type: 'steps', version: 0, steps: [{ stepType: 'replace', from: 1, to: 1, slice: { content: [{ type: 'text', text: 'hi' }] } }] });
      await c.next('steps', WAIT);
      const r = await content(server, documentId);
      assert.equal(r.status, 200, r.text);
      assert.equal(JSON.parse(r.text).kind, 'steps', 'GET answers with the steps (DocumentsService), not Yjs content');
      const seed = await call(server, 'POST', `/documents/${enc(documentId)}/content`, { body: RICH });
      assert.equal(seed.status, 409, seed.text);
      assert.equal(JSON.parse(seed.text).error, 'steps-document');
    } finally {
      await c.close();
    }
  });
});
