// Three nodes on one real PostgreSQL and Redis (Debian's servers, started by the test on loopback), with Debian's
// nginx in front rendering the shipped nginx/collab-cluster.conf: the stock clients on different nodes edit the same
// documents and converge, every node and the store agree, awareness crosses nodes, one Hocuspocus socket
// multiplexing 20 documents while per-document clients land on other nodes does not split them, compaction racing
// on three nodes keeps every acknowledged update, and adding an upstream with an nginx reload while editing splits
// nothing. Figures are printed as `cluster figures: …` lines.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import WebSocket from 'ws';
import { AckedWriter, clusterSuite, figures, keysOf, until } from '../lib/cluster.mjs';
import { request, startProxy, webSocketTrusting } from '../lib/nginx-proxy.mjs';
import { PMEditor, settle } from '../lib/pm-editor.mjs';
import { JsonYjsPeer } from '../lib/yjs-clients.mjs';

const COMPACTION_UPDATES = 25; // COLLAB_COMPACTION_UPDATES of every node: compactions race all the time
const docId = (label) => `cl-${label}-${randomUUID().slice(0, 8)}`;

/** The text and map content and the state vector of a Yjs state, for comparing states built differently. */
function view(state) {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, state);
  const v = { text: doc.getText('t').toString(), map: doc.getMap('m').toJSON(), sv: Buffer.from(Y.encodeStateVector(doc)).toString('base64') };
  doc.destroy();
  return v;
}
const viewOfDoc = (doc) => view(Y.encodeStateAsUpdate(doc));

describe('cluster: three nodes on PostgreSQL + Redis behind nginx/collab-cluster.conf', () => {
  const suite = clusterSuite({
    nodes: 3, env: { COLLAB_COMPACTION_UPDATES: String(COMPACTION_UPDATES), COLLAB_ROOM_IDLE_UNLOAD_MS: '1000' },
  });
  const { defer, skip } = suite;
  let cluster;
  let proxy;
  let TlsWebSocket;
  before(() => { ({ cluster, proxy } = suite); TlsWebSocket = proxy && webSocketTrusting(proxy.ca); });

  // --- clients ---------------------------------------------------------------------------------
  function yws(base, id, { WebSocketPolyfill = WebSocket } = {}) {
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(`${base}/yjs`, id, doc, { WebSocketPolyfill, disableBc: true });
    defer(() => { provider.destroy(); doc.destroy(); });
    return { doc, provider, synced: () => provider.synced && provider.wsconnected };
  }

  function hocus(base, id, { socket, WebSocketPolyfill = WebSocket } = {}) {
    const doc = new Y.Doc();
    const provider = new HocuspocusProvider(socket
      ? { websocketProvider: socket, name: id, document: doc, token: 'e2e-token' }
      : { url: `${base}/hocuspocus`, name: id, document: doc, token: 'e2e-token', WebSocketPolyfill });
    if (socket) provider.attach();
    defer(() => { provider.destroy(); doc.destroy(); });
    return { doc, provider, synced: () => provider.isSynced, acknowledged: () => provider.isSynced && provider.unsyncedChanges === 0 };
  }

  async function jsonPeer(node, id, clientID) {
    const peer = new JsonYjsPeer(node, id, clientID);
    defer(() => peer.destroy());
    await peer.connect();
    return peer;
  }

  /** For each node, the ids of its open documents with their connection counts (asked directly). */
  async function openOn() {
    return Promise.all(cluster.nodes.map(async (n) => {
      const r = await n.adminDocuments();
      assert.equal(r.status, 200);
      return new Map(r.body.map((d) => [d.documentId, d.connections]));
    }));
  }

  /** Every node's GET /documents/{id}/yjs and the store's rows, as views. */
  async function everyView(id) {
    const states = await Promise.all(cluster.nodes.map((n) => cluster.yjsFrom(n, id)));
    const stored = await cluster.storedUpdates(id);
    return { nodes: states.map(view), stored: view(Y.mergeUpdates(stored.map((r) => r.data))), rows: stored.length };
  }

  // --- tests -----------------------------------------------------------------------------------

  test('y-websocket on node 1, Hocuspocus on node 2, JSON and ProseMirror on node 3: converge, same state everywhere, dense steps, cursors cross', async (t) => {
    if (skip(t)) return;
    const [n1, n2, n3] = cluster.nodes;
    const id = docId('three');
    const a = yws(n1.url, id);
    const h = hocus(n2.url, id);
    const j = await jsonPeer(n3, id, 'json-3');
    await until(() => a.synced() && h.synced(), { what: 'the stock providers synced' });

    a.doc.getText('t').insert(0, 'y-websocket@1 ');
    h.doc.getText('t').insert(0, 'hocuspocus@2 ');
    j.doc.getMap('m').set('json', 'node-3');
    for (let i = 0; i < 20; i++) {
      a.doc.getMap('m').set(`a${i}`, i);
      h.doc.getMap('m').set(`h${i}`, i);
      j.doc.getMap('m').set(`j${i}`, i);
    }
    await until(() => {
      const v = [a.doc, h.doc, j.doc].map(viewOfDoc);
      return v[0].map.json === 'node-3' && Object.keys(v[0].map).length === 61 && v.every((x) => JSON.stringify(x) === JSON.stringify(v[0]));
    }, { timeout: 15_000, what: 'the three clients on three nodes to converge', detail: () => JSON.stringify([a.doc, h.doc, j.doc].map((d) => viewOfDoc(d).text)) });
    await until(() => h.acknowledged(), { what: 'Hocuspocus: every change acknowledged' });
    await j.whenAcknowledged(10_000);

    const client = viewOfDoc(a.doc);
    const all = await until(async () => {
      const v = await everyView(id);
      return [...v.nodes, v.stored].every((x) => JSON.stringify(x) === JSON.stringify(client)) && v;
    }, { timeout: 15_000, what: 'every node and the store to hold the clients\' state', detail: async () => JSON.stringify(await everyView(id)) });
    assert.equal(all.nodes.length, 3);

    // awareness: a cursor set on node 1 shows on node 2 and node 3, and the other way round
    a.provider.awareness.setLocalStateField('cursor', { anchor: 3, head: 5, node: 1 });
    h.provider.awareness.setLocalStateField('user', { name: 'on node 2' });
    await until(() => h.provider.awareness.getStates().get(a.doc.clientID)?.cursor?.node === 1,
      { what: 'node 2\'s Hocuspocus client sees node 1\'s cursor' });
    await until(() => [...j.awareness.values()].some((s) => s?.cursor?.node === 1),
      { what: 'node 3\'s JSON client sees node 1\'s cursor', detail: () => JSON.stringify([...j.awareness]) });
    await until(() => a.provider.awareness.getStates().get(h.doc.clientID)?.user?.name === 'on node 2',
      { what: 'node 1 sees node 2\'s awareness' });
    // ... and it goes with its connection
    a.provider.destroy();
    await until(() => !h.provider.awareness.getStates().has(a.doc.clientID),
      { what: 'node 1\'s cursor removed on node 2 once its connection closed' });

    // ProseMirror: a steps document, two editors on node 3 and one each on nodes 1 and 2, typing at once
    const pmId = docId('pm');
    const editors = [n3, n3, n1, n2].map((server, k) => new PMEditor({ server, documentId: pmId, seed: 11 + k, name: `pm${k}@${server.nodeId}` }));
    defer(() => Promise.all(editors.map((e) => e.disconnect())));
    await Promise.all(editors.map((e) => e.connect()));
    for (let round = 0; round < 6; round++) {
      for (const e of editors) e.randomEdits(3);
      await until(() => editors.every((e) => !e.inFlight), { timeout: 15_000, what: 'every editor\'s batch answered' });
    }
    await settle(editors, { timeout: 30_000 });
    const version = editors[0].version;
    for (const e of editors) {
      assert.deepEqual(e.docJSON(), editors[0].docJSON(), `${e.name} has the same document`);
      assert.equal(e.version, version);
      assert.deepEqual(e.anomalies, [], `${e.name}: no protocol anomaly`);
    }
    const steps = await cluster.storedSteps(pmId);
    assert.deepEqual(steps.map((s) => s.version), Array.from({ length: version }, (_, i) => i), 'stored versions 0..n-1, dense, each once');
    const conflicts = editors.reduce((n, e) => n + e.stats.conflicts, 0);
    assert.ok(version > 0);
    figures('three protocols', { yjsRows: all.rows, steps: version, conflicts, editors: editors.length });
  });

  test('one Hocuspocus socket multiplexing 20 documents while per-document y-websocket clients land on other nodes: no split', async (t) => {
    if (skip(t)) return;
    const ids = Array.from({ length: 20 }, (_, i) => docId(`mux${i}`));
    // the multiplexing socket goes through nginx without a hint (any node); the y-websocket clients are hashed by document
    const socket = new HocuspocusProviderWebsocket({ url: `${proxy.wssUrl}/hocuspocus`, WebSocketPolyfill: TlsWebSocket });
    defer(() => socket.destroy());
    const hs = ids.map((id) => hocus(null, id, { socket }));
    const ys = ids.map((id) => yws(proxy.wssUrl, id, { WebSocketPolyfill: TlsWebSocket }));
    await until(() => hs.every((h) => h.synced()) && ys.every((y) => y.synced()), { timeout: 20_000, what: 'every client synced' });
    ids.forEach((id, k) => {
      hs[k].doc.getMap('m').set('hocus', k);
      ys[k].doc.getMap('m').set('yws', k);
    });
    await until(() => ids.every((_, k) => hs[k].doc.getMap('m').get('yws') === k && ys[k].doc.getMap('m').get('hocus') === k),
      { timeout: 20_000, what: 'each document\'s two clients to see each other\'s edit' });
    await until(() => hs.every((h) => h.acknowledged()), { what: 'every Hocuspocus change acknowledged' });

    const open = await openOn();
    const nodesOf = (id) => open.map((m, i) => (m.has(id) ? i : -1)).filter((i) => i >= 0);
    const split = ids.filter((id) => nodesOf(id).length > 1).length;
    assert.ok(split > 0, `some documents are open on two nodes at once (the case under test): ${ids.map(nodesOf).join(' ')}`);
    for (const [k, id] of ids.entries()) {
      const stored = keysOf((await cluster.storedUpdates(id)).map((r) => r.data));
      assert.ok(stored.has('hocus') && stored.has('yws'), `${id}: one stored history with both clients' edits`);
      const states = await Promise.all(nodesOf(id).map((i) => cluster.yjsFrom(cluster.nodes[i], id)));
      for (const s of states) assert.deepEqual(view(s).map, { hocus: k, yws: k }, `${id}: every node holding it agrees`);
    }
    figures('multiplexed hocuspocus socket', { documents: ids.length, openOnTwoNodes: split });
  });

  test(`compaction racing on three nodes (COLLAB_COMPACTION_UPDATES=${COMPACTION_UPDATES}): the stored state is the merge of every acknowledged update; late joiners on each node get it`, async (t) => {
    if (skip(t)) return;
    const id = docId('compact');
    const writers = cluster.nodes.map((n, i) => new AckedWriter({
      url: () => `${n.url}/ws/fabric?documentId=${id}&clientID=w${i}`, documentId: id, prefix: `n${i + 1}`,
    }));
    defer(() => Promise.all(writers.map((w) => w.stop({ settleMs: 0 }))));
    const PER_WRITER = 700;
    for (const w of writers) w.connect();
    await until(() => writers.every((w) => w.open), { what: 'three writers connected' });
    // bounded in flight (at most 40 unacknowledged per writer), as fast as the store acknowledges
    await until(() => {
      for (const w of writers) {
        while (w.n < PER_WRITER && w.n - w.acked.size - w.errors.length < 40) w.write();
      }
      return writers.every((w) => w.acked.size + w.errors.length === PER_WRITER);
    }, { timeout: 90_000, interval: 5, what: 'every write acknowledged', detail: () => writers.map((w) => `${w.acked.size}/${w.n}`).join(' ') });
    await Promise.all(writers.map((w) => w.stop()));
    const acked = new Set(writers.flatMap((w) => [...w.acked]));
    assert.deepEqual(writers.map((w) => w.errors), [[], [], []], 'no write refused');
    assert.equal(acked.size, 3 * PER_WRITER);

    // the rooms unload (COLLAB_ROOM_IDLE_UNLOAD_MS=1000) and the stored log settles
    await until(async () => (await openOn()).every((m) => !m.has(id)), { timeout: 20_000, what: 'the rooms unloaded on every node' });
    const rows = await cluster.storedUpdates(id);
    const stored = keysOf(rows.map((r) => r.data));
    const missing = [...acked].filter((k) => !stored.has(k));
    const extra = [...stored].filter((k) => !acked.has(k));
    figures('compaction race', { acknowledged: acked.size, stored: stored.size, missing: missing.length, rowsLeft: rows.length });
    assert.deepEqual(missing, [], 'every acknowledged update is in the stored state');
    assert.deepEqual(extra, [], 'and nothing else');
    assert.ok(rows.length < acked.size / 5, `compaction ran: ${rows.length} rows left of ${acked.size} updates`);
    const seqs = rows.map((r) => r.seq);
    assert.equal(new Set(seqs).size, seqs.length, 'no sequence number twice');

    // late joiners, one per node, load the document from the store
    const late = await Promise.all(cluster.nodes.map((n, i) => jsonPeer(n, id, `late${i}`)));
    for (const [i, p] of late.entries()) {
      const keys = new Set(p.doc.getMap('m').keys());
      assert.equal(keys.size, acked.size, `late joiner on node ${i + 1} has every acknowledged update`);
    }
  });

  test('adding a third upstream with an nginx reload while editing: no split', async (t) => {
    if (skip(t)) return;
    const [n1, n2, n3] = cluster.nodes;
    const two = await startProxy({ upstreams: [n1, n2].map((n) => `127.0.0.1:${n.port}`), extraArgs: ['--cluster'] });
    defer(() => two.stop());
    const Tls = webSocketTrusting(two.ca);
    const ids = Array.from({ length: 24 }, (_, i) => docId(`reload${i}`));
    const before = ids.map((id) => yws(two.wssUrl, id, { WebSocketPolyfill: Tls }));
    await until(() => before.every((c) => c.synced()), { timeout: 20_000, what: 'the first clients synced' });
    let typed = 0;
    const typing = setInterval(() => { typed++; for (const c of before) c.doc.getMap('m').set(`before${typed}`, typed); }, 25);
    defer(() => clearInterval(typing));

    // the operator's way: add the server line, reload (SIGHUP to proxy.sh, which passes it to nginx)
    const conf = path.join(two.dir, 'collab.conf');
    const text = readFileSync(conf, 'utf8');
    const line = text.split('\n').find((l) => l.includes(`server 127.0.0.1:${n2.port} `));
    writeFileSync(conf, text.replace(line, `${line}\n${line.replace(String(n2.port), String(n3.port))}`));
    process.kill(two.child.pid, 'SIGHUP');
    await until(async () => (await request(`${two.httpsUrl}/health`, { ca: two.ca })).body?.node === 'node-3',
      { timeout: 15_000, what: 'nginx to send requests to the added node after the reload' });

    // new clients of the same documents: some now hash to node 3 while the first ones stay where they were
    const afterReload = ids.map((id) => yws(two.wssUrl, id, { WebSocketPolyfill: Tls }));
    await until(() => afterReload.every((c) => c.synced()), { timeout: 20_000, what: 'the new clients synced' });
    ids.forEach((id, k) => afterReload[k].doc.getMap('m').set('after', k));
    const typedAtReload = typed;
    await until(() => typed >= typedAtReload + 10, { what: 'typing going on after the reload' });
    clearInterval(typing);
    await until(() => ids.every((_, k) => JSON.stringify(viewOfDoc(before[k].doc)) === JSON.stringify(viewOfDoc(afterReload[k].doc))
      && before[k].doc.getMap('m').get('after') === k),
    { timeout: 20_000, what: 'old and new clients of every document to converge' });

    const open = await openOn();
    const moved = ids.filter((id) => open[2].has(id) && (open[0].has(id) || open[1].has(id)));
    assert.ok(moved.length > 0, `some documents moved to node 3 while their first clients stayed: ${ids.map((id) => open.map((m) => (m.has(id) ? 1 : 0)).join('')).join(' ')}`);
    for (const [k, id] of ids.entries()) {
      const stored = keysOf((await cluster.storedUpdates(id)).map((r) => r.data));
      assert.ok(stored.has('after') && stored.has(`before${typed}`), `${id}: the stored history has the edits of both sides`);
      assert.equal(before[k].doc.getMap('m').size, typed + 1);
    }
    figures('nginx reload', { documents: ids.length, movedToNode3: moved.length, editsPerDocument: typed + 1 });
  });
});
