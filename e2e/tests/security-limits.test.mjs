// Limits against the real server with the stock clients and raw sockets: message size (1009, also fragmented and
// multi-byte), message rate (JSON errors, binary protocols 1008), connections per document and per client
// address, documents per Hocuspocus socket, the Hocuspocus authentication deadline (4408), heartbeat eviction of
// a client that stops answering pings, and a paused reader cut off as a slow consumer (1013) while a normal reader
// gets every update and the server's memory stays bounded.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, describe, test } from 'node:test';
import { JsonClient } from '../lib/json-client.mjs';
import { startServer } from '../lib/server.mjs';
import {
  Y, YjsClients, adminDoc, encodeHocusAuth, encodeHocusStep1, until, untilAsync, withDeadline,
} from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 120_000;
const WAIT = { timeout: 20_000 };
const MAX_MESSAGE_BYTES = 65_536;
const RATE = 20;                // messages per second (burst 2x)
const PER_DOCUMENT = 3;
const PER_IP = 8;
const DOCS_PER_SOCKET = 2;
const AUTH_TIMEOUT_S = 2;
const PING_S = 2; // a loaded machine must not drop healthy clients: they have 2x this to answer a ping
process.setMaxListeners(100);

const docId = (label) => `lim-${label}-${randomUUID().slice(0, 8)}`;

/** A raw JSON-protocol client; `headers` e.g. X-Forwarded-For. */
async function json(server, documentId, clientID, { headers, expectConnected = true } = {}) {
  const c = await JsonClient.connect(server.fabricUrl(documentId, clientID), { headers, timeout: WAIT.timeout, name: `json ${clientID}` });
  if (expectConnected) await c.next('connected', WAIT);
  return c;
}

/** Prometheus sample value (0 when absent) of `name` with the given label, from /observe/metrics. */
async function metric(server, name, label) {
  const res = await server.fetch('/observe/metrics');
  const text = await res.text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (label && !line.includes(label)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

const closeCodes = (events) => events.filter(Boolean).map((e) => e.code);

describe('limits (small settings)', () => {
  let server;
  let clients;
  let jsonClients = [];
  const track = (c) => { jsonClients.push(c); return c; };

  before(async () => {
    server = await startServer({
      env: {
        COLLAB_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
        COLLAB_OUTBOUND_QUEUE_BYTES: String(1 << 20),
        COLLAB_MESSAGES_PER_SECOND: String(RATE),
        COLLAB_MAX_CONNECTIONS_PER_DOCUMENT: String(PER_DOCUMENT),
        COLLAB_MAX_CONNECTIONS_PER_IP: String(PER_IP),
        COLLAB_TRUSTED_PROXIES: '127.0.0.1',
        COLLAB_MAX_DOCUMENTS_PER_SOCKET: String(DOCS_PER_SOCKET),
        COLLAB_AUTH_TIMEOUT_SECONDS: String(AUTH_TIMEOUT_S),
        COLLAB_PING_INTERVAL_SECONDS: String(PING_S),
      },
    });
    clients = new YjsClients(server);
  });
  afterEach(async () => {
    await Promise.all(jsonClients.map((c) => c.terminate()));
    jsonClients = [];
    await clients.destroyAll();
    // the next test starts with this address's connections released
    await untilAsync(async () => (await server.health()).body.connections === 0,
      { ...WAIT, what: 'every connection of the test to be gone' });
  });
  after(async () => { await server?.dispose(); });

  test('oversized messages close with 1009 on every protocol (single, fragmented, multi-byte); the limit itself passes',
    { timeout: TEST_TIMEOUT }, async () => {
      const documentId = docId('big');
      // JSON: just under the limit is relayed, just over closes
      const a = track(await json(server, documentId, 'a'));
      const b = track(await json(server, documentId, 'b'));
      const envelope = JSON.stringify({ type: 'message', payload: '' }).length;
      a.send({ type: 'message', payload: 'x'.repeat(MAX_MESSAGE_BYTES - envelope) });
      assert.equal((await b.next('message', WAIT)).payload.length, MAX_MESSAGE_BYTES - envelope);
      a.send({ type: 'message', payload: 'x'.repeat(MAX_MESSAGE_BYTES - envelope + 1) });
      assert.equal((await a.closed).code, 1009, 'one byte over the limit');
      // fragmented: each fragment is small, the whole is not
      const f = track(await json(server, documentId, 'f'));
      const half = 'y'.repeat(MAX_MESSAGE_BYTES / 2 + 10);
      f.ws.send(`{"type":"message","payload":"${half}`, { fin: false });
      f.ws.send(`${half}"}`, { fin: true });
      assert.equal((await f.closed).code, 1009, 'fragments are reassembled and capped');
      // multi-byte: fewer characters than the limit, more UTF-8 bytes
      const u = track(await json(server, documentId, 'u'));
      u.send({ type: 'message', payload: '€'.repeat(Math.ceil(MAX_MESSAGE_BYTES / 3) + 10) });
      assert.equal((await u.closed).code, 1009, 'the limit counts UTF-8 bytes');
      assert.equal(b.isOpen, true, 'other connections are unaffected');

      // The stock providers paste more than the limit. Helidon (4.3.1) refuses a single frame over its frame limit
      // itself, writing the 1009 close from the reader thread through the same unsynchronized send buffer the
      // connection's writer uses, so a server frame in flight at that moment can reach the client corrupted (seen
      // as the provider's lib0 decoder throwing "Unexpected end of array"; reported with issue 4). The providers
      // therefore run without awareness and paste only once the handshake traffic is over, so nothing else is
      // being sent to them when they are cut off.
      const y = clients.yws(documentId, { name: 'yws', connect: false });
      y.awareness.setLocalState(null);
      y.provider.connect();
      await y.whenSynced(WAIT.timeout);
      y.doc.getText('text').insert(0, 'p'.repeat(MAX_MESSAGE_BYTES + 100));
      await until(() => closeCodes(y.closes).includes(1009), { ...WAIT, what: 'the y-websocket provider to be closed with 1009', detail: () => JSON.stringify(y.closes) });
      y.destroy();
      // the document allows PER_DOCUMENT connections: wait until the server has let the closed ones leave
      // (only b is left), or the provider may be refused as one too many
      await untilAsync(async () => (await adminDoc(server, documentId))?.connections === 1,
        { ...WAIT, what: 'the closed connections to leave the room' });
      const h = clients.hocus(documentId, { name: 'hocus', awareness: null });
      await h.whenAcknowledged(WAIT.timeout);
      h.doc.getText('text').insert(0, 'q'.repeat(MAX_MESSAGE_BYTES + 100));
      await until(() => closeCodes(h.events.close).includes(1009), { ...WAIT, what: 'the Hocuspocus provider to be closed with 1009', detail: () => JSON.stringify(h.events.close) });
      h.destroy();
      // nothing of it was stored
      // nothing of it was stored: the document only ever saw relayed messages and refused updates, so it was
      // never written (404, not an empty state)
      const stored = await server.fetch(`/documents/${documentId}/yjs`, { admin: true });
      assert.equal(stored.status, 404, 'no oversized update reached the document');
      // single frames over the limit are refused by Helidon's frame limit (set to the same size) before the server's
      // own check sees them; the fragmented message is the server's reassembly cap, counted as too-big
      assert.ok(await metric(server, 'collab_rejected_total', 'reason="too-big"') >= 1, 'counted as too-big');
    });

  test('message rate: JSON answers rate-limited (at most once a second) and stays open; y-websocket and Hocuspocus close with 1008', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('rate');
    const c = track(await json(server, documentId, 'fast'));
    const burst = 200;
    const droppedBefore = await metric(server, 'collab_rejected_total', 'reason="rate-limit"');
    for (let i = 0; i < burst; i++) c.send({ type: 'ping' });
    // every ping is answered with a pong or dropped; drops are counted, and answered at most once a second
    await untilAsync(async () => c.received.filter((m) => m.type === 'pong').length
      + (await metric(server, 'collab_rejected_total', 'reason="rate-limit"')) - droppedBefore === burst,
    { ...WAIT, interval: 100, what: `each of ${burst} pings answered or counted as dropped` });
    const pongs = c.received.filter((m) => m.type === 'pong').length;
    const limited = c.received.filter((m) => m.type === 'error' && m.code === 'rate-limited').length;
    assert.ok(burst - pongs >= burst / 2, `most of a ${burst}-message burst is dropped (${burst - pongs})`);
    assert.ok(limited >= 1 && limited < burst - pongs, `the client is told, not once per dropped message (${limited} errors)`);
    assert.ok(pongs >= 2 * RATE * 0.9, `the burst allowance (${2 * RATE}) gets through (pongs ${pongs})`);
    assert.ok(c.isOpen, 'a JSON client is told, not disconnected');
    // the bucket refills: a later ping is answered with a pong again
    await untilAsync(async () => {
      const seen = c.received.filter((m) => m.type === 'pong').length;
      c.send({ type: 'ping' });
      return c.until(() => c.received.filter((m) => m.type === 'pong').length > seen, { timeout: 500 })
        .then(() => true, () => false);
    }, { ...WAIT, interval: 250, what: 'the rate limit to let a ping through again' });

    const y = await clients.raw(documentId);
    for (let i = 0; i < burst; i++) y.sendQueryAwareness();
    assert.equal((await y.whenClosed(WAIT.timeout)).code, 1008, 'y-websocket has no error message: close 1008');
    const h = await clients.rawHocus();
    h.send(encodeHocusAuth(documentId, 't'));
    for (let i = 0; i < burst; i++) h.send(new Uint8Array([10])); // pong frames
    assert.equal((await h.whenClosed(WAIT.timeout)).code, 1008, 'Hocuspocus: close 1008');
    assert.ok(await metric(server, 'collab_rejected_total', 'reason="rate-limit"') >= burst / 2);
  });

  test(`connections per document (${PER_DOCUMENT}): JSON and y-websocket closed 1013, Hocuspocus permission-denied; a freed slot is reusable`,
    { timeout: TEST_TIMEOUT }, async () => {
      const documentId = docId('full');
      const j1 = track(await json(server, documentId, 'j1'));
      track(await json(server, documentId, 'j2'));
      const y = clients.yws(documentId, { name: 'yws-in' });
      await y.whenSynced(WAIT.timeout);
      assert.equal((await adminDoc(server, documentId)).connections, PER_DOCUMENT);

      const j4 = track(await json(server, documentId, 'j4', { expectConnected: false }));
      const closed = await withDeadline(j4.closed, WAIT.timeout, 'the 4th JSON connection to be closed');
      assert.equal(closed.code, 1013, `JSON: ${JSON.stringify(closed)}`);
      assert.match(closed.reason, /already has 3 connections/);
      assert.equal(j4.received.filter((m) => m.type === 'connected').length, 0, 'never joined');
      const y4 = clients.yws(documentId, { name: 'yws-out' });
      await until(() => closeCodes(y4.closes).includes(1013), { ...WAIT, what: 'the 4th y-websocket provider to be closed with 1013' });
      assert.equal(y4.provider.synced, false);
      y4.destroy();
      const h4 = clients.hocus(documentId, { name: 'hocus-out' });
      await until(() => h4.events.authenticationFailed.length > 0, { ...WAIT, what: 'the Hocuspocus provider to be denied' });
      assert.match(h4.events.authenticationFailed[0].reason, /already has 3 connections/);
      assert.equal(h4.provider.isSynced, false);
      h4.destroy();
      assert.equal((await adminDoc(server, documentId)).connections, PER_DOCUMENT, 'the refused ones never counted');

      await j1.close();
      await untilAsync(async () => (await adminDoc(server, documentId)).connections === PER_DOCUMENT - 1, { ...WAIT, what: 'j1 to leave' });
      const h = clients.hocus(documentId, { name: 'hocus-in' });
      await h.whenSynced(WAIT.timeout);
      assert.equal((await adminDoc(server, documentId)).connections, PER_DOCUMENT);
    });

  test(`connections per client address (${PER_IP}, X-Forwarded-For from a trusted proxy): the next one is closed 1008`,
    { timeout: TEST_TIMEOUT }, async () => {
      const crowd = { 'X-Forwarded-For': '198.51.100.23' };
      const open = [];
      for (let i = 0; i < PER_IP; i++) open.push(track(await json(server, docId(`ip${i}`), `c${i}`, { headers: crowd })));
      const extra = track(await json(server, docId('ip-extra'), 'extra', { headers: crowd, expectConnected: false }));
      const closed = await withDeadline(extra.closed, WAIT.timeout, 'the connection over the per-address limit to be closed');
      assert.equal(closed.code, 1008, JSON.stringify(closed));
      assert.match(closed.reason, /too many connections from your address/);
      // other addresses are not affected: another forwarded client, and the proxy's own address
      track(await json(server, docId('ip-other'), 'other', { headers: { 'X-Forwarded-For': '198.51.100.24' } }));
      track(await json(server, docId('ip-direct'), 'direct'));
      // a client claiming an address only behind one of our proxies: the proxy's last hop counts
      track(await json(server, docId('ip-chain'), 'chain', { headers: { 'X-Forwarded-For': '198.51.100.23, 203.0.113.5' } }));
      assert.ok(open.every((c) => c.isOpen), 'the first connections stay open');
      // a freed slot is reusable
      await open[0].close();
      await untilAsync(async () => {
        const c = await json(server, docId('ip-again'), 'again', { headers: crowd, expectConnected: false });
        track(c);
        const first = await Promise.race([c.next('connected', WAIT).then(() => 'connected'), c.closed.then(() => 'closed')]);
        return first === 'connected';
      }, { ...WAIT, interval: 100, what: 'a slot to be free again for the address' });
    });

  test(`documents per Hocuspocus socket (${DOCS_PER_SOCKET}): the next is permission-denied, a closed one frees its slot`,
    { timeout: TEST_TIMEOUT }, async () => {
      const socket = clients.hocusSocket();
      const docs = [docId('s1'), docId('s2'), docId('s3')];
      const [p1, p2, p3] = docs.map((d) => clients.hocus(d, { socket, name: d }));
      await Promise.all([p1.whenSynced(WAIT.timeout), p2.whenSynced(WAIT.timeout)]);
      await until(() => p3.events.authenticationFailed.length > 0, { ...WAIT, what: 'the third document to be denied' });
      assert.match(p3.events.authenticationFailed[0].reason, /already has 2 documents open/);
      assert.equal(p3.provider.isSynced, false);
      assert.equal(await adminDoc(server, docs[2]), undefined);
      // p1 leaves (provider destroy sends Close for its document): the socket has room again
      p1.destroy();
      await untilAsync(async () => (await adminDoc(server, docs[0])) === undefined, { ...WAIT, what: 'p1 to leave its room' });
      const p4 = clients.hocus(docId('s4'), { socket, name: 's4' });
      await p4.whenSynced(WAIT.timeout);
      assert.deepEqual(p4.events.authenticated, [{ scope: 'read-write' }]);
    });

  test(`a Hocuspocus socket that never authenticates is closed with 4408 after ${AUTH_TIMEOUT_S} s`, { timeout: TEST_TIMEOUT }, async () => {
    const start = Date.now();
    const silent = await clients.rawHocus();
    const authenticated = await clients.rawHocus();
    const answer = await authenticated.authenticate(docId('auth-ok'), 't', WAIT.timeout);
    assert.equal(answer.sub, 'authenticated');
    const closed = await silent.whenClosed(WAIT.timeout);
    const elapsed = Date.now() - start;
    assert.equal(closed.code, 4408, JSON.stringify(closed));
    assert.ok(elapsed >= AUTH_TIMEOUT_S * 1000 - 250, `not before the deadline (${elapsed} ms)`);
    assert.ok(authenticated.isOpen, 'an authenticated socket of the same age stays open');
    // frames for a document without its Auth are queued, not processed, and do not count as authenticating
    const queued = await clients.rawHocus();
    queued.send(encodeHocusStep1(docId('auth-never')));
    assert.equal((await queued.whenClosed(WAIT.timeout)).code, 4408);
  });

  test(`heartbeat: a client that stops answering pings is dropped within 2x${PING_S} s (+1 sweep); others stay`,
    { timeout: TEST_TIMEOUT }, async () => {
      const documentId = docId('heartbeat');
      const healthy = track(await json(server, documentId, 'healthy'));
      const silent = track(await json(server, documentId, 'silent'));
      const y = clients.yws(documentId, { name: 'stock yws' });
      await y.whenSynced(WAIT.timeout);
      assert.equal((await adminDoc(server, documentId)).connections, 3);
      const evictionsBefore = await metric(server, 'collab_rejected_total', 'reason="heartbeat"');
      // stop reading: the client's `ws` never sees the server's pings, so it never answers them
      silent.ws._socket.pause();
      const paused = Date.now();
      await untilAsync(async () => (await adminDoc(server, documentId))?.connections === 2,
        { ...WAIT, interval: 100, what: 'the silent client to be dropped' });
      const took = Date.now() - paused;
      assert.ok(took <= (3 * PING_S + 2) * 1000 + 5_000, `dropped in ${took} ms`);
      assert.equal(await metric(server, 'collab_rejected_total', 'reason="heartbeat"'), evictionsBefore + 1);
      assert.match(server.stdout + server.stderr, /silent for two ping intervals; dropping/);
      // the others answered every ping and are still there and working
      healthy.send({ type: 'ping' });
      await healthy.next('pong', WAIT);
      assert.ok(y.provider.wsconnected);
      assert.equal((await adminDoc(server, documentId)).connections, 2);
    });
});

describe('slow consumers (outbound queue 1 MiB, heap capped at 256 MiB)', () => {
  const QUEUE_BYTES = 1 << 20;
  const CHUNK = 256 * 1024;
  let server;
  let clients;

  before(async () => {
    server = await startServer({
      env: {
        COLLAB_OUTBOUND_QUEUE_BYTES: String(QUEUE_BYTES),
        COLLAB_MAX_MESSAGE_BYTES: String(QUEUE_BYTES),
        COLLAB_PING_INTERVAL_SECONDS: '120', // no heartbeat eviction during the tests: the queue bound must act
        // no compaction during the 32 MiB y-websocket test: merging a document that size needs several times its
        // size in heap at once, which is not what these tests measure (see the report of issue 4)
        COLLAB_COMPACTION_BYTES: String(1 << 30),
        // a server that kept everything for a client that does not read would run out of heap and exit
        COLLAB_JAVA_OPTS: '-Xmx256m -XX:+ExitOnOutOfMemoryError',
      },
    });
    clients = new YjsClients(server);
  });
  afterEach(async () => { await clients.destroyAll(); });
  after(async () => { await server?.dispose(); });

  const rssMiB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]) / 1024;

  /** Counts what a socket receives without keeping it; `reached(n)` resolves once n messages arrived. */
  function counter(ws, accept = () => true) {
    const c = { count: 0, bytes: 0, waiters: [] };
    ws.on('message', (data) => {
      if (!accept(data)) return;
      c.count++;
      c.bytes += data.length;
      c.waiters = c.waiters.filter((w) => (c.count >= w.n ? (w.resolve(), false) : true));
    });
    c.reached = (n, what) => (c.count >= n ? Promise.resolve()
      : withDeadline(new Promise((resolve) => c.waiters.push({ n, resolve })), WAIT.timeout, what));
    return c;
  }

  test('y-websocket: a paused reader is closed 1013 while a normal reader gets all 32 MiB of updates, intact and in order',
    { timeout: 240_000 }, async (t) => {
      const UPDATES = 128;
      const documentId = docId('slow-yws');
      const writer = await clients.raw(documentId, { timeout: WAIT.timeout });
      const reader = await clients.raw(documentId, { timeout: WAIT.timeout });
      const paused = await clients.raw(documentId, { timeout: WAIT.timeout });
      await untilAsync(async () => (await adminDoc(server, documentId))?.connections === 3, { ...WAIT, what: 'three connections' });
      const slowBefore = await metric(server, 'collab_slow_consumers_total', 'protocol="y-websocket"');
      paused.ws._socket.pause();
      const rssBefore = rssMiB();

      const doc = new Y.Doc();
      doc.clientID = 4242;
      const sent = [];
      doc.on('update', (u) => sent.push(u));
      const text = doc.getText('text');
      const received = () => reader.messages.filter((m) => m.type === 'update');
      for (let i = 0; i < UPDATES; i++) {
        text.insert(text.length, String(i % 10).repeat(CHUNK));
        writer.sendUpdate(sent[i]);
        // at most two updates in flight, so the normal reader never has much queued (it must never be "slow")
        if (i >= 1) await until(() => received().length >= i - 1, { ...WAIT, what: `the reader to get update ${i - 1}` });
      }
      await until(() => received().length === UPDATES, { ...WAIT, what: 'the reader to get every update' });
      const got = received();
      for (let i = 0; i < UPDATES; i++) assert.ok(Buffer.from(got[i].payload).equals(Buffer.from(sent[i])), `update ${i} relayed intact and in order`);

      await untilAsync(async () => (await metric(server, 'collab_slow_consumers_total', 'protocol="y-websocket"')) === slowBefore + 1,
        { ...WAIT, what: 'the paused reader to be counted as a slow consumer' });
      assert.ok(writer.isOpen && reader.isOpen, 'the writer and the normal reader were not affected');
      // once it reads again it gets what was already on the wire, then the close frame
      paused.ws._socket.resume();
      const closed = await paused.whenClosed(WAIT.timeout);
      assert.equal(closed.code, 1013, JSON.stringify(closed));
      assert.match(closed.reason, /slow consumer/);
      assert.ok(paused.bytesReceived < UPDATES * CHUNK / 2, `the paused reader got only part (${paused.bytesReceived} bytes)`);
      await untilAsync(async () => (await adminDoc(server, documentId))?.connections === 2, { ...WAIT, what: 'the slow consumer to leave the room' });
      assert.match(server.stdout + server.stderr, /closing slow consumer/);
      t.diagnostic(`server VmRSS ${Math.round(rssBefore)} MiB before, ${Math.round(rssMiB())} MiB after`);
    });

  test('memory stays bounded: 320 MiB relayed past a reader that stopped reading, under a 256 MiB heap', { timeout: 240_000 }, async (t) => {
    const MESSAGES = 1280; // x 256 KiB = 320 MiB, more than the server's whole heap
    const documentId = docId('slow-mem');
    const writer = await json(server, documentId, 'writer');
    const reader = await json(server, documentId, 'reader');
    const paused = await json(server, documentId, 'paused');
    try {
      // the reader counts relayed messages without keeping them
      reader.ws.removeAllListeners('message');
      const relayed = counter(reader.ws);
      paused.ws._socket.pause();
      const rssBefore = rssMiB();
      let rssMax = rssBefore;
      const payload = 'm'.repeat(CHUNK);
      const frame = JSON.stringify({ type: 'message', payload });
      for (let i = 0; i < MESSAGES; i++) {
        writer.ws.send(frame);
        if (i >= 1) await relayed.reached(i - 1, `the reader to get message ${i - 1}`);
        if (i % 64 === 0) rssMax = Math.max(rssMax, rssMiB());
      }
      await relayed.reached(MESSAGES, 'the reader to get every message');
      rssMax = Math.max(rssMax, rssMiB());
      assert.ok(server.running, 'the server is alive (it would have exited on OutOfMemoryError)');
      assert.equal(relayed.bytes, MESSAGES * (frame.length + ',"from":{"type":"client","id":"writer"}'.length),
        'every message arrived whole');
      paused.ws._socket.resume();
      const closed = await withDeadline(paused.closed, WAIT.timeout, 'the paused reader to be closed');
      assert.equal(closed.code, 1013, JSON.stringify(closed));
      assert.ok(writer.isOpen && reader.isOpen);
      t.diagnostic(`server VmRSS ${Math.round(rssBefore)} MiB before, at most ${Math.round(rssMax)} MiB while relaying ${MESSAGES * CHUNK >> 20} MiB`);
      // generous: heap (<= 256 MiB) + metaspace, code cache, thread stacks, SQLite and the JVM itself
      assert.ok(rssMax < 700, `server VmRSS peaked at ${Math.round(rssMax)} MiB`);
    } finally {
      await Promise.all([writer, reader, paused].map((c) => c.terminate()));
    }
  });
});
