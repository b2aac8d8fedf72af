// Failures in a three-node cluster on one real PostgreSQL and Redis (Debian's servers, started by the test on
// loopback), behind Debian's nginx with the shipped nginx/collab-cluster.conf, in this order: kill -9 of Redis, of
// PostgreSQL's postmaster, of a node under steady writes (that node stays down). A write counts as acknowledged
// only when the server's ack arrived; after each failure every acknowledged write must be stored and reach the
// clients on the other nodes; a cursor on the dead node is shown on the live ones and must vanish from them once
// the node's heartbeat lapses (the time is printed). The figures (acknowledged, stored, missing, recovery
// times) are printed as `cluster figures: …` lines.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { before, describe, test } from 'node:test';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { AckedWriter, clusterSuite, figures, keysOf, until } from '../lib/cluster.mjs';
import { webSocketTrusting } from '../lib/nginx-proxy.mjs';
import { JsonYjsPeer } from '../lib/yjs-clients.mjs';

const docId = (label) => `clf-${label}-${randomUUID().slice(0, 8)}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms)); // only for an outage's length (what is under test)
const missingFrom = (acked, have) => [...acked].filter((k) => !have.has(k));
const mapKeys = (doc) => new Set(doc.getMap('m').keys());

describe('cluster failures: kill -9 of a node, of Redis, of PostgreSQL', () => {
  const suite = clusterSuite({ nodes: 3 });
  const { defer, skip } = suite;
  let cluster;
  let proxy;
  before(() => ({ cluster, proxy } = suite));

  async function observer(node, id, name) {
    const peer = new JsonYjsPeer(node, id, name);
    defer(() => peer.destroy());
    await peer.connect();
    return peer;
  }

  function writer(url, id, prefix, ca) {
    const w = new AckedWriter({ url, documentId: id, prefix, ca });
    defer(() => w.stop({ settleMs: 0 }));
    return w;
  }

  async function storedKeys(id) {
    return keysOf((await cluster.storedUpdates(id)).map((r) => r.data));
  }

  test('kill -9 of Redis, restart: cross-node delivery resumes, gaps are filled, nothing is missing', async (t) => {
    if (skip(t)) return;
    const [n1, n2, n3] = cluster.nodes;
    const id = docId('redis');
    const w = writer(() => `${n1.url}/ws/fabric?documentId=${id}&clientID=w`, id, 'r');
    const o2 = await observer(n2, id, 'obs2');
    const o3 = await observer(n3, id, 'obs3');
    w.start(10);
    await until(() => w.acked.size >= 30, { what: 'writes acknowledged before the kill' });
    await cluster.redis.kill();
    const killedAt = performance.now();
    await sleep(2_500);
    const ackedInOutage = new Set(w.acked);
    await cluster.redis.restart();
    const restartedAt = performance.now();
    // everything acknowledged before and during the outage reaches both other nodes (from the store)
    await until(() => [o2, o3].every((o) => missingFrom(ackedInOutage, mapKeys(o.doc)).length === 0),
      { timeout: 20_000, what: 'the other nodes to have every write acknowledged until the restart' });
    const gapFilledMs = performance.now() - restartedAt;
    // and new writes flow again
    const marker = w.n + 1;
    await until(() => w.acked.has(`r-${marker}`), { timeout: 10_000, what: 'a write after the restart acknowledged' });
    await until(() => [o2, o3].every((o) => o.doc.getMap('m').has(`r-${marker}`)), { timeout: 10_000, what: 'a write after the restart delivered' });
    const resumedMs = performance.now() - restartedAt;
    await until(() => w.acked.size >= marker + 10, { what: 'writes going on after the restart' });
    await w.stop();
    await until(() => [o2, o3].every((o) => missingFrom(w.acked, mapKeys(o.doc)).length === 0),
      { timeout: 15_000, what: 'the other nodes to have every acknowledged write' });
    const stored = await storedKeys(id);
    const missing = missingFrom(w.acked, stored);
    figures('redis kill -9', { acknowledged: w.acked.size, stored: stored.size, missing: missing.length, outageMs: restartedAt - killedAt,
      gapFilledMs, deliveryResumedMs: resumedMs, refused: w.errors.length });
    assert.deepEqual(missing, []);
    assert.deepEqual(w.errors, [], 'Redis down refuses no write (it is only a hint)');
  });

  test('kill -9 of PostgreSQL\'s postmaster, restart: writes in the outage are refused, nothing acknowledged is missing, the nodes recover by themselves', async (t) => {
    if (skip(t)) return;
    const [n1, n2, n3] = cluster.nodes;
    const id = docId('pg');
    const w1 = writer(() => `${n1.url}/ws/fabric?documentId=${id}&clientID=w1`, id, 'p1');
    const w2 = writer(() => `${n2.url}/ws/fabric?documentId=${id}&clientID=w2`, id, 'p2');
    const o3 = await observer(n3, id, 'obs3');
    w1.start(15);
    w2.start(15);
    await until(() => w1.acked.size > 20 && w2.acked.size > 20, { what: 'writes acknowledged before the kill' });
    await cluster.pg.kill();
    const killedAt = performance.now();
    await until(() => w1.errors.length > 0 && w2.errors.length > 0, { timeout: 20_000, what: 'writes refused on both nodes while PostgreSQL is down' });
    await sleep(1_000);
    const beforeRestart = performance.now();
    await cluster.pg.restart();
    const restartedAt = performance.now();
    await until(() => w1.firstAckAfter(restartedAt) && w2.firstAckAfter(restartedAt),
      { timeout: 30_000, interval: 50, what: 'both nodes acknowledging writes again' });
    const recovered = Math.max(w1.firstAckAfter(restartedAt), w2.firstAckAfter(restartedAt)) - restartedAt;
    await until(() => [w1, w2].every((w) => w.ackTimes.filter((x) => x > restartedAt).length >= 10), { what: 'writes going on after the restart' });
    await Promise.all([w1.stop(), w2.stop()]);
    const acked = new Set([...w1.acked, ...w2.acked]);
    // acks that arrived while the database was down (before its restart began): commits made before the kill only
    const ackTimes = [...w1.ackTimes, ...w2.ackTimes];
    const ackedInOutage = ackTimes.filter((x) => x > killedAt + 1_000 && x < beforeRestart).length;
    const stored = await storedKeys(id);
    const missing = missingFrom(acked, stored);
    await until(() => missingFrom(acked, mapKeys(o3.doc)).length === 0, { timeout: 15_000, what: 'node 3\'s client to have every acknowledged write' });
    const refused = w1.errors.length + w2.errors.length;
    figures('postgres kill -9', { acknowledged: acked.size, stored: stored.size, missing: missing.length, refused,
      refusedCodes: [...new Set([...w1.errors, ...w2.errors].map((e) => e.code))].join('+'),
      ackedDuringOutage: ackedInOutage, outageMs: restartedAt - killedAt, recoveryMs: recovered });
    assert.deepEqual(missing, [], 'every acknowledged write is stored');
    assert.equal(ackedInOutage, 0, 'no write acknowledged while the database was down');
    assert.ok([...w1.errors, ...w2.errors].every((e) => e.code === 'storage-failure'), 'refusals say storage-failure');
  });

  test('kill -9 of a node under steady writes: every acknowledged write is stored and reaches the other nodes; its clients reconnect through nginx and catch up', async (t) => {
    if (skip(t)) return;
    const Tls = webSocketTrusting(proxy.ca);
    const ids = Array.from({ length: 9 }, (_, i) => docId(`node${i}`));
    const writers = ids.map((id, i) => writer(() => `${proxy.wssUrl}/ws/fabric?documentId=${id}&clientID=w${i}`, id, `w${i}`, proxy.ca));
    for (const w of writers) w.connect();
    await until(() => writers.every((w) => w.open), { what: 'every writer connected through nginx' });
    // a stock y-websocket client of every document, through nginx too (hashed to the writer's node)
    const readers = ids.map((id) => {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(`${proxy.wssUrl}/yjs`, id, doc, { WebSocketPolyfill: Tls, disableBc: true });
      defer(() => { provider.destroy(); doc.destroy(); });
      return { doc, provider };
    });
    await until(() => readers.every((r) => r.provider.synced), { timeout: 15_000, what: 'every y-websocket reader synced' });

    // the victim: the node holding most of these documents
    const open = await Promise.all(cluster.nodes.map(async (n) => new Set((await n.adminDocuments()).body.map((d) => d.documentId))));
    const victim = [0, 1, 2].sort((a, b) => ids.filter((id) => open[b].has(id)).length - ids.filter((id) => open[a].has(id)).length)[0];
    const hit = ids.filter((id) => open[victim].has(id));
    assert.ok(hit.length > 0, 'the victim holds some of the documents');
    const live = cluster.nodes.filter((_, i) => i !== victim);
    const observers = await Promise.all(hit.flatMap((id) => live.map((n) => observer(n, id, `obs-${n.nodeId}`).then((o) => ({ id, o })))));
    // a cursor of a client on the victim, seen on the live nodes; it must go with its node (heartbeat TTL)
    const cursorOwner = await observer(cluster.nodes[victim], hit[0], 'cursor-on-victim');
    cursorOwner.setAwareness({ cursor: 'on the victim' });
    const seesCursor = (o) => [...o.awareness.values()].some((st) => st?.cursor === 'on the victim');
    const watchers = observers.filter(({ id }) => id === hit[0]).map(({ o }) => o);
    await until(() => watchers.every(seesCursor), { what: 'the live nodes to show the victim\'s cursor' });

    for (const w of writers) { w.timer = setInterval(() => w.write(), 20); }
    await until(() => writers.every((w) => w.acked.size >= 20), { what: 'steady writes acknowledged before the kill' });
    const killedAt = performance.now();
    await cluster.nodes[victim].kill();
    // the victim's writers and readers reconnect (through nginx, to a live node) and writing goes on
    await until(() => hit.every((id) => writers[ids.indexOf(id)].firstAckAfter(killedAt)), { timeout: 20_000, what: 'an acknowledged write on every moved document after the kill' });
    // the node's heartbeat TTL (5 s) removes its cursor everywhere; the stock providers on the live nodes relay that
    // removal again under the numeric id only, and JSON clients must still be told under the owner's clientID
    await until(() => !watchers.some(seesCursor), { timeout: 15_000, what: 'the dead node\'s cursor to disappear' });
    const cursorGoneMs = performance.now() - killedAt;
    const recovery = Math.max(...hit.map((id) => writers[ids.indexOf(id)].firstAckAfter(killedAt) - killedAt));
    await until(() => hit.every((id) => writers[ids.indexOf(id)].ackTimes.filter((x) => x > killedAt).length >= 10),
      { what: 'writes going on after the failover' });
    await Promise.all(writers.map((w) => w.stop()));
    const acked = new Set(writers.flatMap((w) => [...w.acked]));

    const stored = new Set();
    for (const id of ids) for (const k of await storedKeys(id)) stored.add(k);
    const missingStored = missingFrom(acked, stored);
    // the other nodes' clients get every acknowledged write of their document (including the victim's last ones)
    const ackedOf = (id) => new Set(writers[ids.indexOf(id)].acked);
    await until(() => observers.every(({ id, o }) => missingFrom(ackedOf(id), mapKeys(o.doc)).length === 0),
      { timeout: 20_000, what: 'the observers on the live nodes to have every acknowledged write',
        detail: () => observers.map(({ id, o }) => missingFrom(ackedOf(id), mapKeys(o.doc)).length).join(',') });
    // the stock readers that were on the victim are connected again (to a live node) and caught up
    await until(() => readers.every((r, k) => r.provider.wsconnected && r.provider.synced && missingFrom(ackedOf(ids[k]), mapKeys(r.doc)).length === 0),
      { timeout: 20_000, what: 'every y-websocket reader reconnected and caught up' });
    figures('node kill -9', { documentsOnVictim: hit.length, acknowledged: acked.size, stored: stored.size, missing: missingStored.length,
      writerRecoveryMs: recovery, readersCaughtUpMs: performance.now() - killedAt, cursorGoneMs,
      writerReconnects: hit.reduce((n, id) => n + writers[ids.indexOf(id)].connects - 1, 0) });
    assert.deepEqual(missingStored, [], 'every acknowledged write is stored');
    assert.ok(acked.size > 100, `steady writes went on: ${acked.size} acknowledged`);

    // the victim stays down: this is the suite's last test (a restart would cost another JVM start)
  });
});
