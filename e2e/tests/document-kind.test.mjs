// One document id, one document: a document is a Yjs document or a ProseMirror steps document, fixed by its
// first write. Writes of the other kind are refused on every protocol and never stored: JSON clients get an
// `error` with code `document-kind`; the stock y-websocket and Hocuspocus providers are treated as read-only
// clients (y-websocket: dropped; Hocuspocus: SyncStatus(false), so the change stays unsynced), logged once.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { JsonClient } from '../lib/json-client.mjs';
import { startServer } from '../lib/server.mjs';
import { Y, YjsClients, adminDoc, until, untilAsync } from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 30_000;
const docId = (label) => `kind-${label}-${randomUUID().slice(0, 8)}`;
const STEP = { stepType: 'replace', from: 1, to: 1, slice: { content: [{ type: 'text', text: 'a' }] } };

const logLines = (server, pattern) => server.stderr.split('\n').filter((l) => pattern.test(l));

describe('a document has one kind, fixed by its first write', () => {
  let server;
  let clients;

  before(async () => {
    server = await startServer();
    clients = new YjsClients(server);
  });
  afterEach(async () => { await clients.destroyAll(); });
  after(async () => { await server?.dispose(); });

  async function stepsDocument(label) {
    const documentId = docId(label);
    const writer = await JsonClient.connect(server.fabricUrl(documentId, `${label}-writer`));
    await writer.next('connected');
    writer.send({ type: 'steps', version: 0, steps: [STEP] });
    await writer.waitFor((m) => m.type === 'steps' && m.version === 0);
    return { documentId, writer };
  }

  test('Yjs updates to a steps document are refused on all three protocols and never stored', { timeout: TEST_TIMEOUT }, async () => {
    const { documentId, writer } = await stepsDocument('steps');
    const watcher = await clients.json(documentId, 'watcher');

    // y-websocket: the stock provider's edits are dropped like a read-only client's, logged once
    const y = clients.yws(documentId, { name: 'y-websocket' });
    await y.whenSynced();
    y.doc.getText('t').insert(0, 'from y-websocket');
    const dropped = new RegExp(`refused conn=\\d+ protocol=y-websocket .*reason=document-kind: document ${documentId} is a steps document`);
    await until(() => logLines(server, dropped).length === 1, { timeout: 10_000, what: 'the refusal to be logged' });
    y.doc.getText('t').insert(0, 'again ');
    // awareness from the same connection is handled after the second edit: once the watcher sees it, the room
    // has judged that edit too
    y.awareness.setLocalStateField('user', 'y-after-edits');
    await until(() => [...watcher.awareness.values()].some((s) => s?.user === 'y-after-edits'), { what: 'the awareness after the edits' });
    assert.equal(logLines(server, dropped).length, 1, 'logged once per connection, not per update');
    assert.ok(y.provider.wsconnected, 'the connection stays open');

    // Hocuspocus: SyncStatus(false), so the stock provider keeps the change as unsynced
    const h = clients.hocus(documentId, { name: 'hocuspocus' });
    await h.whenSynced();
    h.doc.getText('t').insert(0, 'from hocuspocus');
    await until(() => logLines(server, /refused conn=\d+ protocol=hocuspocus .*reason=document-kind: document .* is a steps document/).length === 1,
      { timeout: 10_000, what: 'the Hocuspocus refusal to be logged' });
    h.awareness.setLocalStateField('user', 'h-after-edit');
    await until(() => [...watcher.awareness.values()].some((s) => s?.user === 'h-after-edit'), { what: 'the Hocuspocus awareness' });
    assert.ok(h.provider.hasUnsyncedChanges, 'the refused change is never acknowledged');

    // JSON: an error with code document-kind
    const json = await JsonClient.connect(server.fabricUrl(documentId, 'json-yjs'));
    await json.next('connected');
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'from json');
    json.send({ type: 'update', update: Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64'), id: 1 });
    const error = await json.next('error');
    assert.equal(error.code, 'document-kind');
    assert.match(error.message, /is a steps document/);

    // nothing of it was stored or relayed; the steps history goes on
    assert.equal(watcher.doc.getText('t').toString(), '', 'no Yjs content reached the others');
    const summary = await adminDoc(server, documentId);
    assert.equal(summary.kind, 'steps');
    assert.equal(summary.updates, 0, 'no update stored');
    writer.send({ type: 'steps', version: 1, steps: [STEP] });
    await writer.waitFor((m) => m.type === 'steps' && m.version === 1);
    const kind = await server.getJson(`/documents/${encodeURIComponent(documentId)}`);
    assert.deepEqual([kind.status, kind.body.documentId, kind.body.kind], [200, documentId, 'steps']);
    await Promise.all([writer.close(), json.close()]);
  });

  test('steps to a Yjs document are refused with document-kind and never stored', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('yjs');
    const y = clients.yws(documentId, { name: 'y-websocket' });
    await y.whenSynced();
    const json = await JsonClient.connect(server.fabricUrl(documentId, 'pm'));
    const hello = await json.next('connected');
    assert.equal(hello.version, 0);
    y.doc.getText('t').insert(0, 'yjs text');
    await untilAsync(async () => (await adminDoc(server, documentId))?.updates === 1, { what: 'the update to be stored' });
    await until(() => json.received.some((m) => m.type === 'update'), { what: 'the JSON client to get the update' });

    json.send({ type: 'steps', version: 0, steps: [STEP] });
    const error = await json.next('error');
    assert.equal(error.code, 'document-kind');
    assert.match(error.message, /is a yjs document/);
    // no step stored: a Yjs document has no steps history at all (409 document-kind)
    const history = await server.getJson(`/documents/${encodeURIComponent(documentId)}/steps?since=0`, { admin: true });
    assert.deepEqual([history.status, history.body.error], [409, 'document-kind']);
    assert.equal((await adminDoc(server, documentId)).kind, 'yjs');
    const kind = await server.getJson(`/documents/${encodeURIComponent(documentId)}`);
    assert.deepEqual([kind.status, kind.body.documentId, kind.body.kind], [200, documentId, 'yjs']);
    await json.close();
  });

  test('a document that was never written has no kind yet', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('empty');
    const res = await server.getJson(`/documents/${encodeURIComponent(documentId)}`);
    assert.equal(res.status, 404);
    assert.equal(res.body.error, 'not-found');
    const json = await JsonClient.connect(server.fabricUrl(documentId, 'looker'));
    await json.next('connected');
    assert.equal((await adminDoc(server, documentId)).kind, null, 'the admin API says so');
    await json.close();
  });
});
