// Observability: GET /observe/metrics (Prometheus text) changing as real clients connect, send and misbehave;
// /observe/health/live|ready and the friendly /health JSON.
//
// Metrics are process-wide, and the tests in this file run one after another against one server, so a test
// compares scrapes taken before and after what it does (its own clients are the only traffic meanwhile).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { JsonClient, connectFabric } from '../lib/json-client.mjs';
import { startServer } from '../lib/server.mjs';
import { YjsClients, sameDoc, until, untilAsync } from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 90_000;
const WAIT = { timeout: 20_000 };
const MAX_MESSAGE_BYTES = 1024 * 1024;
const ALLOWED_ORIGIN = 'http://allowed.test';
const docId = (label) => `ops-met-${label}-${randomUUID().slice(0, 8)}`;

let server;
let yjs;
let jsonClients = [];

before(async () => {
  server = await startServer({
    env: {
      COLLAB_ROOM_IDLE_UNLOAD_MS: '1000',
      COLLAB_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
      COLLAB_OUTBOUND_QUEUE_BYTES: String(MAX_MESSAGE_BYTES),
      COLLAB_ALLOWED_ORIGINS: ALLOWED_ORIGIN,
    },
  });
  yjs = new YjsClients(server);
});
afterEach(async () => {
  await Promise.all(jsonClients.map((c) => c.close()));
  jsonClients = [];
  await yjs.destroyAll();
});
after(async () => { await server?.dispose(); });

/** A JSON client that also records the byte size of every frame it receives. */
async function json(documentId, clientID, options = {}) {
  const c = await connectFabric(server, documentId, clientID, { timeout: WAIT.timeout, ...options });
  c.frameBytes = [];
  c.ws.on('message', (data) => c.frameBytes.push(data.length));
  jsonClients.push(c);
  await c.next('connected');
  return c;
}

// ---------------------------------------------------------------------------------------------
// Prometheus text parsing

class Scrape {
  constructor(text) {
    this.text = text;
    this.types = new Map();
    this.samples = new Map(); // 'name{k="v",...}' (labels sorted) -> number
    this.malformed = [];
    for (const line of text.split('\n')) {
      if (line.startsWith('# TYPE ')) {
        const [, , name, type] = line.split(' ');
        this.types.set(name, type);
        continue;
      }
      if (line === '' || line.startsWith('#')) continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([^ ]+)$/.exec(line);
      if (!m) {
        this.malformed.push(line);
        continue;
      }
      const labels = {};
      for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
      this.samples.set(Scrape.key(m[1], labels), Number(m[3]));
    }
  }

  static key(name, labels = {}) {
    const parts = Object.keys(labels).sort().map((k) => `${k}="${labels[k]}"`);
    return parts.length ? `${name}{${parts.join(',')}}` : name;
  }

  has(name, labels) { return this.samples.has(Scrape.key(name, labels)); }
  /** The sample's value; counters registered on first use count as 0 before that. */
  get(name, labels) { return this.samples.get(Scrape.key(name, labels)) ?? 0; }
  /** Every sample of a metric name, as [labels-string, value]. */
  all(name) { return [...this.samples].filter(([k]) => k === name || k.startsWith(`${name}{`)); }
}

async function scrape() {
  const res = await server.fetch('/observe/metrics', { signal: AbortSignal.timeout(WAIT.timeout) });
  assert.equal(res.status, 200);
  return { scrape: new Scrape(await res.text()), contentType: res.headers.get('content-type') };
}
const metrics = async () => (await scrape()).scrape;

/** Polls the metrics until `check(scrape)` is true (metrics are updated by the server's own threads). */
async function metricsUntil(what, check) {
  let last;
  await untilAsync(async () => { last = await metrics(); return check(last); }, {
    ...WAIT, interval: 50, what,
    detail: () => last.text.split('\n').filter((l) => l.startsWith('collab_') && !l.includes('_bucket')).join(' | '),
  });
  return last;
}

const conn = (s, protocol) => s.get('collab_connections_open', { protocol });
const msgs = (s, direction, protocol, kind) => s.get('collab_messages_total', { direction, protocol, kind });
const bytes = (s, direction, protocol, kind) => s.get('collab_message_bytes_total', { direction, protocol, kind });
const rejected = (s, reason) => s.get('collab_rejected_total', { reason });
const commits = (s) => s.get('collab_store_commit_seconds_count');
const PROTOCOLS = ['json', 'y-websocket', 'hocuspocus'];

// ---------------------------------------------------------------------------------------------

describe('GET /observe/metrics', () => {
  test('Prometheus text with every metric family of the server', { timeout: TEST_TIMEOUT }, async () => {
    // some traffic first, so the counters registered on first use exist too
    const a = await json(docId('families'), 'a');
    a.send({ type: 'steps', version: 0, steps: [{ stepType: 'replace', from: 0, to: 0 }] });
    await a.next('steps', WAIT);
    a.send({ type: 'nonsense' });
    await a.next('error', WAIT);

    const { scrape: s, contentType } = await scrape();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.deepEqual(s.malformed, [], 'every sample line is "name{labels} value"');
    const expectedTypes = {
      collab_connections_open: 'gauge',
      collab_documents_in_memory: 'gauge',
      collab_messages_total: 'counter',
      collab_message_bytes_total: 'counter',
      collab_store_commit_seconds: 'histogram',
      collab_rejected_total: 'counter',
      collab_auth_failures_total: 'counter',
    };
    for (const [name, type] of Object.entries(expectedTypes)) {
      assert.equal(s.types.get(name), type, `# TYPE ${name} ${type}`);
    }
    for (const protocol of PROTOCOLS) assert.ok(s.has('collab_connections_open', { protocol }), `gauge for ${protocol}`);
    assert.ok(s.has('collab_documents_in_memory'));
    assert.ok(s.has('collab_auth_failures_total'));
    for (const suffix of ['_count', '_sum']) assert.ok(s.has(`collab_store_commit_seconds${suffix}`));
    assert.ok(s.has('collab_store_commit_seconds_bucket', { le: '+Inf' }));
    assert.equal(s.get('collab_store_commit_seconds_bucket', { le: '+Inf' }), commits(s), '+Inf bucket == count');
    for (const [key] of s.all('collab_messages_total')) {
      assert.match(key, /direction="(in|out)"/);
      assert.match(key, /kind="[a-z0-9-]+"/);
      assert.match(key, /protocol="(json|y-websocket|hocuspocus)"/);
    }
    assert.ok(msgs(s, 'in', 'json', 'steps') >= 1);
    assert.ok(rejected(s, 'invalid-message') >= 1);
  });

  test('open connections by protocol and documents in memory follow clients connecting and leaving', { timeout: TEST_TIMEOUT }, async () => {
    // rooms of earlier tests unload after a second: start from a quiet server
    const base = await metricsUntil('no connections and no rooms',
      (s) => PROTOCOLS.every((p) => conn(s, p) === 0) && s.get('collab_documents_in_memory') === 0);

    const d1 = docId('gauge-1');
    const d2 = docId('gauge-2');
    const d3 = docId('gauge-3');
    const a = await json(d1, 'a');
    const b = await json(d1, 'b');
    const y = yjs.yws(d1);
    // one Hocuspocus socket carrying two documents is one connection
    const socket = yjs.hocusSocket();
    const h2 = yjs.hocus(d2, { socket });
    const h3 = yjs.hocus(d3, { socket });
    await Promise.all([y.whenSynced(WAIT.timeout), h2.whenSynced(WAIT.timeout), h3.whenSynced(WAIT.timeout)]);

    await metricsUntil('2 json, 1 y-websocket, 1 hocuspocus connection and 3 rooms', (s) =>
      conn(s, 'json') === 2 && conn(s, 'y-websocket') === 1 && conn(s, 'hocuspocus') === 1 &&
      s.get('collab_documents_in_memory') === 3);
    const health = await server.health();
    assert.equal(health.status, 200);
    assert.equal(health.body.connections, 4);
    assert.deepEqual(health.body.connectionsByProtocol, { json: 2, 'y-websocket': 1, hocuspocus: 1 });
    assert.equal(health.body.documents, 3);

    await a.close();
    await metricsUntil('1 json connection after one closed', (s) => conn(s, 'json') === 1 && conn(s, 'y-websocket') === 1);
    await b.terminate(); // dropped without a close handshake
    await metricsUntil('0 json connections after one dropped', (s) => conn(s, 'json') === 0);
    y.destroy();
    await metricsUntil('0 y-websocket connections', (s) => conn(s, 'y-websocket') === 0 && conn(s, 'hocuspocus') === 1);
    await yjs.destroyAll();
    const end = await metricsUntil('no connections and, after the idle delay, no rooms', (s) =>
      PROTOCOLS.every((p) => conn(s, p) === 0) && s.get('collab_documents_in_memory') === 0);
    assert.equal(end.get('collab_documents_in_memory'), base.get('collab_documents_in_memory'));
  });

  test('message and byte counters by direction, protocol and kind; the commit histogram counts commits', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('traffic');
    const a = await json(documentId, 'a');
    const b = await json(documentId, 'b');
    const before = await metrics();

    const msg = { type: 'steps', version: 0, steps: [{ stepType: 'replace', from: 0, to: 0, text: 'ünïcode 😀' }] };
    const sentBytes = Buffer.byteLength(JSON.stringify(msg), 'utf8');
    const framesA = a.frameBytes.length;
    const framesB = b.frameBytes.length;
    a.send(msg);
    await a.next('steps', WAIT);
    await b.next('steps', WAIT);
    const outBytes = a.frameBytes[framesA] + b.frameBytes[framesB];

    const s = await metricsUntil('the steps counted in and out', (m) =>
      msgs(m, 'out', 'json', 'steps') === msgs(before, 'out', 'json', 'steps') + 2);
    assert.equal(msgs(s, 'in', 'json', 'steps'), msgs(before, 'in', 'json', 'steps') + 1, 'one steps message in');
    assert.equal(bytes(s, 'in', 'json', 'steps'), bytes(before, 'in', 'json', 'steps') + sentBytes, 'its UTF-8 size');
    assert.equal(bytes(s, 'out', 'json', 'steps'), bytes(before, 'out', 'json', 'steps') + outBytes,
      'the two frames the clients received');
    await metricsUntil('the commit histogram to count the commit', (m) => commits(m) > commits(before));

    // a Yjs update through the JSON protocol: in json/update, out ack to the sender. On a second document: a
    // document holds steps or Yjs updates, never both (its kind is fixed by its first write)
    const yjsId = docId('traffic-yjs');
    const c = await json(yjsId, 'c');
    const ack0 = msgs(s, 'out', 'json', 'ack');
    c.send({ type: 'update', update: 'AAA=', id: 1 }); // an empty Yjs update (0 structs, 0 deletes)
    await c.next('ack', WAIT);
    await metricsUntil('the update and its ack counted', (m) =>
      msgs(m, 'in', 'json', 'update') === msgs(before, 'in', 'json', 'update') + 1 && msgs(m, 'out', 'json', 'ack') === ack0 + 1);

    // the binary protocols count by y-protocols message kind
    const y = yjs.yws(yjsId);
    const h = yjs.hocus(yjsId);
    await Promise.all([y.whenSynced(WAIT.timeout), h.whenSynced(WAIT.timeout)]);
    const mid = await metrics();
    const commitsMid = commits(mid);
    y.doc.getText('text').insert(0, 'counted');
    await until(() => sameDoc(y.doc, h.doc), { ...WAIT, what: 'the hocuspocus provider to get the edit' });
    h.doc.getText('text').insert(0, 'and this ');
    await h.whenAcknowledged(WAIT.timeout);
    await until(() => sameDoc(y.doc, h.doc), { ...WAIT, what: 'the y-websocket provider to get the edit' });
    const after = await metricsUntil('y-websocket and hocuspocus updates counted both ways', (m) =>
      msgs(m, 'in', 'y-websocket', 'sync-update') > msgs(mid, 'in', 'y-websocket', 'sync-update') &&
      msgs(m, 'out', 'hocuspocus', 'sync-update') > msgs(mid, 'out', 'hocuspocus', 'sync-update') &&
      msgs(m, 'in', 'hocuspocus', 'sync-update') > msgs(mid, 'in', 'hocuspocus', 'sync-update') &&
      msgs(m, 'out', 'y-websocket', 'sync-update') > msgs(mid, 'out', 'y-websocket', 'sync-update') &&
      msgs(m, 'out', 'json', 'update') >= msgs(mid, 'out', 'json', 'update') + 2 &&
      msgs(m, 'out', 'hocuspocus', 'sync-status') > msgs(mid, 'out', 'hocuspocus', 'sync-status'));
    assert.ok(commits(after) >= commitsMid + 2, `two more commits: ${commitsMid} -> ${commits(after)}`);
    assert.ok(after.get('collab_store_commit_seconds_sum') > before.get('collab_store_commit_seconds_sum'));
    assert.ok(bytes(after, 'in', 'y-websocket', 'sync-update') > bytes(mid, 'in', 'y-websocket', 'sync-update'));
  });

  test('rejected messages are counted by reason; client-chosen types never become labels', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('rejected');
    const a = await json(documentId, 'a');
    const before = await metrics();

    a.ws.send('this is not json');
    assert.equal((await a.next('error', WAIT)).code, 'invalid-json');
    a.send({ type: 'zzz-made-up-kind' });
    assert.equal((await a.next('error', WAIT)).code, 'unknown-type');
    a.send({ type: 'steps', version: 99, steps: [{ stepType: 'replace' }] });
    assert.equal((await a.next('error', WAIT)).code, 'invalid-version');

    // outbound frames are counted once written, which may be just after the client has read them: await both
    let s = await metricsUntil('three rejected messages and their three errors', (m) =>
      rejected(m, 'invalid-message') === rejected(before, 'invalid-message') + 3 &&
      msgs(m, 'out', 'json', 'error') === msgs(before, 'out', 'json', 'error') + 3);
    assert.equal(msgs(s, 'in', 'json', 'other'), msgs(before, 'in', 'json', 'other') + 2,
      'the frame that is not JSON and the made-up type are both counted as kind "other"');
    assert.ok(!s.text.includes('zzz-made-up-kind'), 'a type the client made up must not become a label value');

    // a message larger than COLLAB_MAX_MESSAGE_BYTES in fragments that are each below it: closed with 1009
    // and counted (a single oversized frame is closed with 1009 by Helidon itself, before the server sees it)
    const big = await json(documentId, 'big');
    const half = 'x'.repeat(Math.ceil(MAX_MESSAGE_BYTES * 0.6));
    big.ws.send(`{"type":"message","payload":"${half}`, { fin: false });
    big.ws.send(`${half}"}`, { fin: true });
    assert.equal((await withTimeout(big.closed, WAIT.timeout, 'the oversized message to close the socket')).code, 1009);
    s = await metricsUntil('the message that was too big', (m) => rejected(m, 'too-big') === rejected(before, 'too-big') + 1);
    const single = await json(documentId, 'single');
    single.send({ type: 'message', payload: 'x'.repeat(MAX_MESSAGE_BYTES + 10) });
    assert.equal((await withTimeout(single.closed, WAIT.timeout, 'the oversized frame to close the socket')).code, 1009);
    // the connection that sent nothing wrong is still fine
    a.send({ type: 'ping' });
    await a.next('pong', WAIT);

    // a missing documentId refuses the upgrade
    await assert.rejects(JsonClient.connect(`${server.url}/ws/fabric`, { timeout: WAIT.timeout }), /HTTP 400/);
    await metricsUntil('the refused upgrade', (m) => rejected(m, 'upgrade') === rejected(before, 'upgrade') + 1);
  });

  test('auth failures: an Origin outside COLLAB_ALLOWED_ORIGINS is refused and counted', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('origin');
    const before = await metrics();
    const url = server.fabricUrl(documentId, 'intruder');
    await assert.rejects(JsonClient.connect(url, { timeout: WAIT.timeout, headers: { Origin: 'http://evil.test' } }), /HTTP 403/);
    await assert.rejects(JsonClient.connect(url, { timeout: WAIT.timeout, headers: { Origin: 'http://evil.test' } }), /HTTP 403/);
    const s = await metricsUntil('two origin refusals', (m) => rejected(m, 'origin') === rejected(before, 'origin') + 2);
    assert.equal(s.get('collab_auth_failures_total'), before.get('collab_auth_failures_total') + 2);
    // the allowed origin connects and is not counted
    const ok = await json(documentId, 'welcome', { headers: { Origin: ALLOWED_ORIGIN } });
    assert.ok(ok.isOpen);
    const after = await metrics();
    assert.equal(after.get('collab_auth_failures_total'), s.get('collab_auth_failures_total'));
  });

  test('a client that stops reading is closed as a slow consumer and counted', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('slow');
    const writer = await json(documentId, 'writer');
    const slow = await json(documentId, 'slow');
    const before = await metrics();
    slow.ws._socket.pause(); // stop reading: the kernel buffers fill, then the server's outbound queue
    const payload = 'p'.repeat(MAX_MESSAGE_BYTES - 4096);
    let sent = 0;
    let s = before;
    // each message is relayed to the slow client; the loop ends as soon as the server gives up on it
    while (s.get('collab_slow_consumers_total', { protocol: 'json' }) === before.get('collab_slow_consumers_total', { protocol: 'json' })) {
      assert.ok(sent < 200, `the server never closed the slow consumer after ${sent} MiB`);
      writer.send({ type: 'message', payload });
      sent++;
      // let the writer's frames leave before looking (a bounded wait on a real condition: the socket drained)
      await until(() => writer.ws.bufferedAmount === 0, { ...WAIT, what: 'the writer to flush' });
      if (sent % 4 === 0) s = await metrics();
    }
    assert.equal(s.types.get('collab_slow_consumers_total'), 'counter');
    assert.equal(s.get('collab_slow_consumers_total', { protocol: 'json' }), before.get('collab_slow_consumers_total', { protocol: 'json' }) + 1);
    slow.ws._socket.resume();
    const closed = await withTimeout(slow.closed, WAIT.timeout, 'the slow client to be closed');
    assert.ok([1013, 1006].includes(closed.code), `slow consumer closed with 1013 (or dropped): ${closed.code}`);
    // the writer is unaffected
    writer.send({ type: 'ping' });
    await writer.next('pong', WAIT);
    assert.match(server.stderr, /closing slow consumer/);
  });
});

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  })]).finally(() => clearTimeout(timer));
}

describe('health', () => {
  test('/observe/health/live, /observe/health/ready and /health', { timeout: TEST_TIMEOUT }, async () => {
    const live = await server.getJson('/observe/health/live');
    assert.equal(live.status, 200);
    assert.equal(live.body.status, 'UP');
    const ready = await server.getJson('/observe/health/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'UP', checks: { database: 'UP' } });
    const observe = await server.getJson('/observe/health');
    assert.equal(observe.status, 200);
    assert.equal(observe.body.status, 'UP');
    // no token needed for any of them (probes have none)
    const documentId = docId('health');
    const a = await json(documentId, 'a');
    const friendly = await server.health();
    assert.equal(friendly.status, 200);
    assert.match(friendly.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(friendly.body.status, 'UP');
    assert.ok(friendly.body.connections >= 1);
    assert.ok(friendly.body.connectionsByProtocol.json >= 1);
    assert.ok(friendly.body.documents >= 1);
    assert.equal(typeof friendly.body.uptimeSeconds, 'number');
    await a.close();
  });
});
