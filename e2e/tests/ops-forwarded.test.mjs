// X-Forwarded-For is believed only from COLLAB_TRUSTED_PROXIES: the resolved address is what the per-address
// connection limit counts and what the connection log lines show. Also COLLAB_LOG_LEVEL.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { JsonClient } from '../lib/json-client.mjs';
import { startServer } from '../lib/server.mjs';
import { WebSocket, YjsClients, until, untilAsync, withDeadline } from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 90_000;
const WAIT = { timeout: 20_000 };
const docId = (label) => `ops-xff-${label}-${randomUUID().slice(0, 8)}`;
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let jsonClients = [];

/** Opens a JSON connection with the given X-Forwarded-For (undefined = no header); resolves once open. */
async function open(server, documentId, clientID, forwardedFor) {
  const headers = forwardedFor === undefined ? {} : { 'X-Forwarded-For': forwardedFor };
  const c = await JsonClient.connect(server.fabricUrl(documentId, clientID), {
    name: `${clientID} (XFF ${forwardedFor ?? 'none'})`, timeout: WAIT.timeout, headers,
  });
  jsonClients.push(c);
  return c;
}

/** Opens a connection that must be accepted: its first message is "connected". */
async function accepted(server, documentId, clientID, forwardedFor) {
  const c = await open(server, documentId, clientID, forwardedFor);
  assert.equal((await c.next('connected', WAIT)).clientID, clientID);
  return c;
}

/** Opens a connection that must be refused by the per-address limit: closed with 1008 before "connected". */
async function refusedPerAddress(server, documentId, clientID, forwardedFor) {
  const c = await open(server, documentId, clientID, forwardedFor);
  const info = await withDeadline(c.closed, WAIT.timeout, `${c.name} to be closed by the per-address limit`);
  assert.equal(info.code, 1008, `${c.name}: ${JSON.stringify(info)}`);
  assert.equal(info.reason, 'too many connections from your address');
  assert.deepEqual(c.received.filter((m) => m.type === 'connected'), [], `${c.name} must not join the room`);
}

/** Waits until the server's log has a line matching `pattern`; returns that line. */
async function logLine(server, pattern, what) {
  let line;
  await until(() => {
    line = server.stderr.split('\n').find((l) => pattern.test(l));
    return line;
  }, { ...WAIT, what: `log line ${what ?? pattern}`, detail: () => server.stderr.split('\n').filter((l) => l.includes('protocol=')).slice(-10).join('\n') });
  return line;
}

/** A `ws` WebSocket class that adds an X-Forwarded-For header, for the stock providers. */
function forwardedWebSocket(address) {
  return class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { headers: { 'X-Forwarded-For': address } });
    }
  };
}

async function openConnections(server) {
  const health = await server.health();
  assert.equal(health.status, 200);
  return health.body.connections;
}

afterEach(async () => {
  await Promise.all(jsonClients.map((c) => c.close()));
  jsonClients = [];
});

describe('behind a trusted proxy (COLLAB_TRUSTED_PROXIES=127.0.0.1, COLLAB_MAX_CONNECTIONS_PER_IP=1)', () => {
  let server;
  let yjs;
  before(async () => {
    server = await startServer({ env: { COLLAB_TRUSTED_PROXIES: '127.0.0.1', COLLAB_MAX_CONNECTIONS_PER_IP: '1' } });
    yjs = new YjsClients(server);
  });
  afterEach(async () => { await yjs.destroyAll(); });
  after(async () => { await server?.dispose(); });

  test('the forwarded address is logged and counted per address', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('trusted');
    await accepted(server, documentId, 'alice', '203.0.113.7');
    const line = await logLine(server, new RegExp(`open protocol=json doc=${escape(documentId)} client=alice .*addr=203\\.0\\.113\\.7( |$)`));
    assert.doesNotMatch(line, /addr=127\.0\.0\.1/);

    // another forwarded address has its own count
    await accepted(server, documentId, 'bob', '198.51.100.9');
    await logLine(server, new RegExp(`client=bob .*addr=198\\.51\\.100\\.9( |$)`));
    // the proxy's own address (no header) too
    await accepted(server, documentId, 'proxy-itself', undefined);
    await logLine(server, new RegExp(`client=proxy-itself .*addr=127\\.0\\.0\\.1( |$)`));

    // a second connection from 203.0.113.7 is over the limit of one per address
    await refusedPerAddress(server, documentId, 'alice-2', '203.0.113.7');
    await refusedPerAddress(server, documentId, 'bob-2', '198.51.100.9');
    assert.ok(!server.stderr.includes('client=alice-2'), 'a refused connection is never opened');

    // the nearest address that is not a trusted proxy counts: our proxy's hop is skipped, and whatever the
    // client put in front of it (a spoofing attempt) is ignored
    await accepted(server, documentId, 'via-two-proxies', '203.0.113.50, 127.0.0.1');
    await logLine(server, /client=via-two-proxies .*addr=203\.0\.113\.50( |$)/);
    await accepted(server, documentId, 'spoofer', '203.0.113.7, 203.0.113.60');
    await logLine(server, /client=spoofer .*addr=203\.0\.113\.60( |$)/);

    // once alice leaves, her address may connect again
    const before = await openConnections(server);
    await jsonClients.find((c) => c.name.startsWith('alice ')).close();
    await untilAsync(async () => (await openConnections(server)) === before - 1, { ...WAIT, what: "alice's connection to be gone" });
    await accepted(server, documentId, 'alice-again', '203.0.113.7');
  });

  test('y-websocket and Hocuspocus connections are logged with the forwarded address too', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('yjs');
    const y = yjs.yws(documentId, { WebSocketPolyfill: forwardedWebSocket('192.0.2.10') });
    const h = yjs.hocus(documentId, { WebSocketPolyfill: forwardedWebSocket('192.0.2.20') });
    await Promise.all([y.whenSynced(WAIT.timeout), h.whenSynced(WAIT.timeout)]);
    await logLine(server, new RegExp(`open protocol=y-websocket doc=${escape(documentId)} .*addr=192\\.0\\.2\\.10( |$)`));
    await logLine(server, new RegExp(`open protocol=hocuspocus doc=${escape(documentId)} .*addr=192\\.0\\.2\\.20( |$)`));
    // and counted: a JSON client from the y-websocket client's address is over the limit
    await refusedPerAddress(server, documentId, 'same-as-yws', '192.0.2.10');
  });
});

describe('without trusted proxies (COLLAB_MAX_CONNECTIONS_PER_IP=1)', () => {
  let server;
  before(async () => { server = await startServer({ env: { COLLAB_MAX_CONNECTIONS_PER_IP: '1' } }); });
  after(async () => { await server?.dispose(); });

  test('X-Forwarded-For is ignored: the peer address is logged and counted', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('untrusted');
    await accepted(server, documentId, 'alice', '203.0.113.7');
    const line = await logLine(server, new RegExp(`open protocol=json doc=${escape(documentId)} client=alice .*addr=127\\.0\\.0\\.1( |$)`));
    assert.doesNotMatch(line, /203\.0\.113\.7/);
    assert.ok(!server.stderr.includes('203.0.113.7'), 'the header value appears nowhere in the log');
    // a different claimed address does not escape the limit: both are 127.0.0.1
    await refusedPerAddress(server, documentId, 'bob', '198.51.100.9');
    await refusedPerAddress(server, documentId, 'carol', undefined);
  });
});

describe('COLLAB_LOG_LEVEL', () => {
  test('WARNING hides connection events but keeps warnings', { timeout: TEST_TIMEOUT }, async () => {
    const server = await startServer({ env: { COLLAB_LOG_LEVEL: 'WARNING' } });
    try {
      const documentId = docId('quiet');
      const c = await accepted(server, documentId, 'quiet-client', undefined);
      c.ws.send('not json');
      await c.next('error', WAIT);
      await c.close();
      await untilAsync(async () => (await openConnections(server)) === 0, { ...WAIT, what: 'the close to be processed' });
    } finally {
      await server.stop();   // the stop logs at INFO as well: after the exit, all output has been read
    }
    assert.match(server.stderr, /WARNING dev\.collab\.Main: \*\*\* COLLAB_AUTH_SECRET is not set/);
    assert.ok(!/ INFO dev\.collab\./.test(server.stderr), `no INFO lines of the server's own loggers:\n${server.stderr}`);
    assert.ok(!server.stderr.includes('protocol=json'), 'no connection events');
    await server.dispose();
  });

  test('an unknown level stops the server at start with a clear message', { timeout: TEST_TIMEOUT }, async () => {
    await assert.rejects(startServer({ env: { COLLAB_LOG_LEVEL: 'CHATTY' } }),
      /code 2[\s\S]*COLLAB_LOG_LEVEL \(collab\.log-level\) must be one of trace, debug, info, warn, error, got 'CHATTY'/);
  });
});
