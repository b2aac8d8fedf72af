// What an operator reads: COLLAB_LOG_FORMAT=json (one object per line, structured fields), close lines with code and
// reason, refusals aggregated per connection and reason, the rate limit's answers capped at one per second,
// the Origin allowlist (normal form, logged at start-up, refusals logged once per origin per minute), and the
// metrics a fresh server exposes (JVM/process meters, every collab_* meter at 0).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { JsonClient, connectFabric } from '../lib/json-client.mjs';
import { startServer } from '../lib/server.mjs';
import { until, untilAsync } from '../lib/yjs-clients.mjs';

const WAIT = { timeout: 20_000 };
const RATE = 20;
const docId = (label) => `ops-logs-${label}-${randomUUID().slice(0, 8)}`;

let server;
before(async () => {
  server = await startServer({
    env: {
      COLLAB_LOG_FORMAT: 'json',
      COLLAB_MESSAGES_PER_SECOND: String(RATE),
      COLLAB_ALLOWED_ORIGINS: ' https://Editor.Example.com:443/ ,http://localhost:5173',
    },
  });
});
after(async () => { await server?.dispose(); });

/** Every log record so far; fails on a stderr line that is not one JSON object. */
function records() {
  return server.stderr.split('\n').filter((l) => l.trim() !== '').map((line) => {
    try {
      const o = JSON.parse(line);
      assert.equal(typeof o, 'object');
      return o;
    } catch {
      assert.fail(`a stderr line is not a JSON object: ${line}`);
    }
  });
}

async function metric(name, label) {
  const text = await (await server.fetch('/observe/metrics')).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (label && !line.includes(label)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('logs', () => {
  test('json format: every line is an object with time, level, logger, message; open and close carry the fields', async () => {
    const documentId = docId('fields');
    const c = await connectFabric(server, documentId, 'alice', WAIT);
    await c.next('connected', WAIT);
    c.ws.close(4001, 'bye for now');
    await c.closed;
    const close = await until(() => records().find((r) => r.doc === documentId && r.message.startsWith('close')),
      { ...WAIT, what: 'the close record' });
    const open = records().find((r) => r.doc === documentId && r.message.startsWith('open'));
    for (const r of [open, close]) {
      assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.equal(r.level, 'INFO');
      assert.equal(r.logger, 'dev.collab.protocol.json.JsonSession');
      assert.equal(r.protocol, 'json');
      assert.equal(r.client, 'alice');
    }
    assert.equal(open.addr, '127.0.0.1');
    assert.equal(close.conn, open.conn, 'the same connection id on open and close');
    assert.equal(close.code, 4001, 'the close line carries the client\'s code');
    assert.equal(close.reason, 'bye for now');
    assert.ok(records().some((r) => r.level === 'WARN' && /COLLAB_AUTH_SECRET is not set/.test(r.message)), 'levels use the usual names');
  });

  test('rate limit: one rate-limited error per second at most, the rest counted; refusals logged per connection and reason', async () => {
    const documentId = docId('rate');
    const c = await connectFabric(server, documentId, 'fast', WAIT);
    await c.next('connected', WAIT);
    const before = await metric('collab_rejected_total', 'reason="rate-limit"');
    const burst = 3000;
    const started = performance.now(); // monotonic: this VM's wall clock can jump
    for (let i = 0; i < burst; i++) c.send({ type: 'ping' });
    // every ping is either answered with a pong or counted as dropped
    await untilAsync(async () => c.received.filter((m) => m.type === 'pong').length
      + (await metric('collab_rejected_total', 'reason="rate-limit"')) - before === burst,
    { ...WAIT, interval: 100, what: 'each ping answered or counted' });
    const seconds = (performance.now() - started) / 1000;
    const pongs = c.received.filter((m) => m.type === 'pong').length;
    const errors = c.received.filter((m) => m.type === 'error' && m.code === 'rate-limited').length;
    const dropped = burst - pongs;
    assert.ok(dropped >= burst / 2, `most of the burst is dropped (${dropped})`);
    assert.ok(errors >= 1, 'the client is told it is rate-limited');
    assert.ok(errors <= Math.ceil(seconds) + 1, `${errors} rate-limited errors in ${seconds.toFixed(1)} s: at most one per second`);
    assert.ok(c.isOpen, 'a JSON client is told, not disconnected');

    const conn = records().find((r) => r.doc === documentId && r.message.startsWith('open')).conn;
    const first = records().filter((r) => r.conn === conn && r.reason === 'rate-limit');
    assert.equal(first.length, 1, `one line while open, not one per message: ${JSON.stringify(first)}`);
    await c.close();
    const summary = await until(() => records().find((r) => r.conn === conn && r.reason === 'rate-limit'
      && r.count !== undefined), { ...WAIT, what: 'the refusal summary at close' });
    assert.equal(summary.count, dropped, 'the summary counts every dropped message');
    assert.equal(records().filter((r) => r.conn === conn && r.reason === 'rate-limit').length, 2);
  });

  test('allowed origins: normalised, logged at start-up; a refused origin is logged once per minute', async () => {
    assert.ok(records().some((r) => r.message === 'allowed origins: https://editor.example.com, http://localhost:5173'),
      'the effective allowlist is logged in normal form');
    for (const origin of ['https://editor.example.com', 'HTTPS://EDITOR.EXAMPLE.COM', 'https://editor.example.com:443',
      'http://localhost:5173', 'http://LOCALHOST:5173/']) {
      const c = await JsonClient.connect(server.fabricUrl(docId('ok'), 'o'), { headers: { Origin: origin }, ...WAIT });
      await c.next('connected', WAIT);
      await c.close();
    }
    const evil = `https://evil-${randomUUID().slice(0, 8)}.example`;
    for (let i = 0; i < 5; i++) {
      await assert.rejects(JsonClient.connect(server.fabricUrl(docId('evil'), 'e'), { headers: { Origin: evil }, ...WAIT }),
        /HTTP 403/);
    }
    for (const origin of ['https://editor.example.com:8443', 'http://editor.example.com']) {
      await assert.rejects(JsonClient.connect(server.fabricUrl(docId('port'), 'p'), { headers: { Origin: origin }, ...WAIT }),
        /HTTP 403/, `${origin} is another origin`);
    }
    const lines = records().filter((r) => r.origin === evil);
    assert.equal(lines.length, 1, `one line for five refusals: ${JSON.stringify(lines)}`);
    assert.equal(lines[0].reason, 'origin');
  });
});

describe('metrics at start-up', () => {
  test('JVM and process meters from Micrometer\'s binders; every collab_* meter exists at 0', async () => {
    const fresh = await startServer();
    try {
      const text = await (await fresh.fetch('/observe/metrics')).text();
      for (const name of ['jvm_memory_used_bytes', 'jvm_gc_memory_allocated_bytes_total', 'jvm_threads_live_threads',
        'jvm_classes_loaded_classes', 'process_cpu_usage', 'system_cpu_count', 'process_uptime_seconds',
        'process_files_open_files']) {
        assert.match(text, new RegExp(`^${name}[{ ]`, 'm'), `${name} is exposed`);
      }
      const zero = (name, labels = '') => {
        const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(labels));
        assert.ok(line, `${name}${labels} exists at start-up`);
        assert.equal(Number(line.slice(line.lastIndexOf(' ') + 1)), 0, line);
      };
      for (const reason of ['origin', 'auth', 'too-big', 'rate-limit', 'connections-per-ip', 'document-full', 'read-only']) {
        zero('collab_rejected_total{', `reason="${reason}"`);
      }
      for (const protocol of ['json', 'y-websocket', 'hocuspocus']) {
        zero('collab_slow_consumers_total{', `protocol="${protocol}"`);
        zero('collab_connections_open{', `protocol="${protocol}"`);
        zero('collab_messages_total{', `direction="in",kind="other",protocol="${protocol}"`);
        zero('collab_message_bytes_total{', `direction="out",kind="other",protocol="${protocol}"`);
      }
      zero('collab_auth_failures_total');
      zero('collab_store_commit_seconds_count');
      zero('collab_documents_in_memory');
      assert.match(fresh.stderr, /^\S+ INFO dev\.collab\.Main: allowed origins: any origin/m, 'text is the default log format');
    } finally {
      await fresh.dispose();
    }
  });
});
