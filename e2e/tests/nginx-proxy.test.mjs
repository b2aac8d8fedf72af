// nginx in front of the real server, started through nginx/proxy.sh (`./collab proxy`) with the
// production config nginx/collab.conf: the stock y-websocket client, the Hocuspocus provider and a
// JSON client over wss://; consistent-hash routing over two nodes; a long-idle connection kept alive
// through the proxy's read timeout by the server's pings; the HTTP→HTTPS redirect; /health.
//
// nginx is installed with apt-get when it is missing and the test runs as root; without root and
// without nginx the suite is skipped, saying why.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { startServer } from '../lib/server.mjs';
import { ensureNginx, JsonSocket, PROXY_SCRIPT, request, startProxy, webSocketTrusting } from '../lib/nginx-proxy.mjs';

const PING_SECONDS = 2; // COLLAB_PING_INTERVAL_SECONDS of the servers
const READ_TIMEOUT = 5; // proxy_read_timeout of the proxy in front of them (production: 120 s)
const IDLE_MS = 12_000; // how long the idle connection stays quiet: well past READ_TIMEOUT

const docId = (label) => `nginx-${label}-${randomUUID().slice(0, 8)}`;

/** Resolves once check() is truthy; rejects after `timeout` ms naming `what` and detail(). */
async function until(check, { timeout = 10_000, what, detail } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${detail ? `; ${await detail()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('nginx wss proxy (nginx/collab.conf through nginx/proxy.sh)', () => {
  let skipReason = null;
  let nginxBinary;
  let nodes = []; // two collab-server nodes behind one nginx
  let proxy; // nginx in front of both, read timeout READ_TIMEOUT
  let echo; // a plain WebSocket/HTTP server that records what nginx sends and never pings
  let echoProxy; // nginx in front of `echo`
  let TlsWebSocket;
  let cleanups = [];

  const defer = (fn) => cleanups.push(fn);

  before(async () => {
    const nginx = await ensureNginx();
    if (!nginx.available) {
      // only a machine where nginx cannot be installed (not root) may skip; any other failure fails
      if (nginx.unavailable) { skipReason = nginx.reason; return; }
      throw new Error(nginx.reason);
    }
    nginxBinary = nginx.nginx;
    nodes = await Promise.all([1, 2].map(() => startServer({
      env: { COLLAB_PING_INTERVAL_SECONDS: String(PING_SECONDS), COLLAB_TRUSTED_PROXIES: '127.0.0.1' },
    })));

    // a plain HTTP + WebSocket upstream: answers HTTP with the request headers it got, echoes frames
    echo = { upgrades: [], requests: [] };
    echo.http = http.createServer((req, res) => {
      echo.requests.push(req.headers);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ headers: req.headers }));
    });
    echo.wss = new WebSocketServer({ server: echo.http });
    echo.wss.on('connection', (ws, req) => {
      echo.upgrades.push(req.headers);
      ws.on('message', (data) => ws.send(data.toString('utf8')));
    });
    await new Promise((resolve) => echo.http.listen(0, '127.0.0.1', resolve));

    [proxy, echoProxy] = await Promise.all([
      startProxy({ upstreams: nodes.map((s) => `127.0.0.1:${s.port}`), readTimeout: READ_TIMEOUT, httpRedirect: true }),
      startProxy({ upstreams: [`127.0.0.1:${echo.http.address().port}`], readTimeout: 2 }),
    ]);
    TlsWebSocket = webSocketTrusting(proxy.ca);
  }, { timeout: 600_000 });

  afterEach(async () => {
    const fns = cleanups.reverse();
    cleanups = [];
    for (const fn of fns) {
      try { await fn(); } catch { /* best effort */ }
    }
  });

  after(async () => {
    const stopped = await Promise.all([proxy, echoProxy].filter(Boolean).map((p) => p.stop()));
    if (echo?.http) {
      for (const ws of echo.wss.clients) ws.terminate();
      echo.wss.close();
      echo.http.closeAllConnections();
      await new Promise((r) => echo.http.close(() => r()));
    }
    await Promise.all(nodes.map((s) => s.dispose()));
    for (const s of stopped) assert.equal(s.leftover, null, 'proxy.sh removed its temporary directory');
  });

  // --- helpers that need the fixtures ---------------------------------------------------------

  function yws(documentId) {
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(`${proxy.wssUrl}/yjs`, documentId, doc, {
      WebSocketPolyfill: TlsWebSocket, disableBc: true,
    });
    defer(() => { provider.destroy(); doc.destroy(); });
    return { doc, provider, synced: () => provider.synced && provider.wsconnected };
  }

  /** A Hocuspocus provider with its own socket; `hint` adds ?document= for the proxy's routing. */
  function hocus(documentId, { hint = true } = {}) {
    const doc = new Y.Doc();
    const url = `${proxy.wssUrl}/hocuspocus${hint ? `?document=${encodeURIComponent(documentId)}` : ''}`;
    const provider = new HocuspocusProvider({
      url, name: documentId, document: doc, token: 'e2e-token', WebSocketPolyfill: TlsWebSocket,
    });
    defer(() => { provider.destroy(); doc.destroy(); });
    return { doc, provider, synced: () => provider.isSynced };
  }

  async function json(documentId, clientID, target = proxy) {
    const q = new URLSearchParams({ documentId, clientID });
    const c = await JsonSocket.connect(`${target.wssUrl}/ws/fabric?${q}`, { ca: target.ca });
    defer(() => c.close());
    return c;
  }

  /** For each node, the ids of the documents it has open connections to (asked directly, not via nginx). */
  async function documentsByNode() {
    return Promise.all(nodes.map(async (s) => {
      const r = await s.adminDocuments();
      assert.equal(r.status, 200, `GET /admin/documents on node :${s.port}`);
      return new Map(r.body.map((d) => [d.documentId, d]));
    }));
  }

  /** The one node a document lives on (asserting it is on exactly one), as an index into `nodes`. */
  async function nodeOf(documentId, { connections } = {}) {
    let where = [];
    await until(async () => {
      const byNode = await documentsByNode();
      where = byNode.map((m, i) => [i, m.get(documentId)]).filter(([, d]) => d);
      const total = where.reduce((n, [, d]) => n + d.connections, 0);
      return where.length > 0 && (connections === undefined || total >= connections);
    }, { what: `document ${documentId} open on a node`, detail: () => JSON.stringify(where) });
    assert.equal(where.length, 1, `document ${documentId} is open on exactly one node: ${JSON.stringify(where)}`);
    if (connections !== undefined) assert.equal(where[0][1].connections, connections, `connections to ${documentId}`);
    return where[0][0];
  }

  function skipIfNoNginx(t) {
    if (skipReason) { t.skip(skipReason); return true; }
    return false;
  }

  // --- tests -----------------------------------------------------------------------------------

  test('GET /health over https through nginx', async (t) => {
    if (skipIfNoNginx(t)) return;
    const r = await request(`${proxy.httpsUrl}/health`, { ca: proxy.ca });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'UP');
    assert.match(r.headers.server ?? '', /nginx/, 'answered through nginx');
  });

  test('the admin and internal APIs are not published on the public listener', async (t) => {
    if (skipIfNoNginx(t)) return;
    const auth = { Authorization: `Bearer ${nodes[0].adminToken}` };
    for (const [method, path] of [['GET', '/admin/documents'], ['GET', '/admin/'], ['GET', '/admin'],
      ['POST', '/internal/documents/x/broadcast']]) {
      const r = await request(`${proxy.httpsUrl}${path}`, { ca: proxy.ca, method, headers: auth, body: method === 'POST' ? '{"type":"t","payload":1}' : undefined });
      assert.equal(r.status, 403, `${method} ${path} through nginx: ${r.status}`);
    }
    // the node itself still answers them
    assert.equal((await nodes[0].adminDocuments()).status, 200);
    // and the public API still goes through
    assert.equal((await request(`${proxy.httpsUrl}/health`, { ca: proxy.ca })).status, 200);
  });

  test('plain HTTP is redirected to HTTPS, path and query kept', async (t) => {
    if (skipIfNoNginx(t)) return;
    const r = await request(`${proxy.httpUrl}/health?probe=1`);
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, `${proxy.httpsUrl}/health?probe=1`);
    const followed = await request(r.headers.location, { ca: proxy.ca });
    assert.equal(followed.status, 200);
    assert.equal(followed.body.status, 'UP');
  });

  test('the certificate is verified (an untrusting client is refused)', async (t) => {
    if (skipIfNoNginx(t)) return;
    await assert.rejects(request(`${proxy.httpsUrl}/health`), /self[- ]signed|certificate/i);
  });

  test('y-websocket, Hocuspocus and JSON clients of one document sync over wss:// on the same node', async (t) => {
    if (skipIfNoNginx(t)) return;
    // three documents, so that with two nodes a routing that ignored the document would show
    const ids = [docId('sync-a'), docId('sync-b'), docId('sync-c')];
    await Promise.all(ids.map(async (id) => {
      const a = yws(id);
      const h = hocus(id);
      await until(() => a.synced() && h.synced(), { what: `${id}: both stock providers synced` });

      // the JSON client joins the same room, reached through a different hash source (documentId=)
      const j = await json(id, `json-${id}`);
      const hello = await j.next('connected');
      assert.equal(hello.documentId, id);
      assert.equal(hello.connections, 3, `${id}: the JSON client sees the two stock providers in its room`);

      // stock clients ↔ each other and → JSON (Yjs updates relayed as base64)
      a.doc.getText('t').insert(0, 'from y-websocket;');
      await until(() => h.doc.getText('t').toString().includes('from y-websocket;'),
        { what: `${id}: Hocuspocus gets the y-websocket edit` });
      h.doc.getText('t').insert(0, 'from hocuspocus;');
      await until(() => a.doc.getText('t').toString().includes('from hocuspocus;'),
        { what: `${id}: y-websocket gets the Hocuspocus edit` });
      await j.next('update', { what: 'a Yjs update relayed to the JSON client' });

      // JSON → stock clients: a Yjs update sent as base64
      const jdoc = new Y.Doc();
      jdoc.getMap('m').set('json', 'hello');
      j.send({ type: 'update', update: Buffer.from(Y.encodeStateAsUpdate(jdoc)).toString('base64'), id: 1 });
      await j.next('ack');
      await until(() => a.doc.getMap('m').get('json') === 'hello' && h.doc.getMap('m').get('json') === 'hello',
        { what: `${id}: both stock clients get the JSON client's update` });

      // ProseMirror steps go to a steps document of their own (this one is a Yjs document): submitted and
      // received back, confirmed with our client id
      const pm = await json(`${id}-pm`, `pm-${id}`);
      const pmHello = await pm.next('connected');
      pm.send({ type: 'steps', version: pmHello.version, steps: [{ stepType: 'replace', from: 0, to: 0 }] });
      const steps = await pm.next('steps');
      assert.equal(steps.version, pmHello.version);
      assert.deepEqual(steps.steps, [{ stepType: 'replace', from: 0, to: 0 }]);
      assert.deepEqual(steps.clientIDs, [`pm-${id}`]);

      // and the server's own view: the room with all three lives on one node only
      await nodeOf(id, { connections: 3 });
    }));
  });

  test('documents are spread over the nodes by consistent hash, each on exactly one', async (t) => {
    if (skipIfNoNginx(t)) return;
    const ids = Array.from({ length: 24 }, (_, i) => docId(`spread${i}`));
    const clients = await Promise.all(ids.map((id) => json(id, 'c1')));
    await Promise.all(clients.map((c) => c.next('connected')));
    // a second connection to every document, over the y-websocket path: same node as the JSON one
    const providers = ids.map((id) => yws(id));
    await until(() => providers.every((p) => p.synced()), { what: 'every y-websocket provider synced' });

    const byNode = await until(async () => {
      const m = await documentsByNode();
      return ids.every((id) => m.some((n) => n.get(id)?.connections === 2)) && m;
    }, { what: 'every document open with two connections' });
    const homes = ids.map((id) => byNode.map((n, i) => (n.has(id) ? i : -1)).filter((i) => i >= 0));
    for (const [k, id] of ids.entries()) {
      assert.equal(homes[k].length, 1, `${id} is open on exactly one node`);
    }
    const perNode = nodes.map((_, i) => homes.filter((h) => h[0] === i).length);
    assert.ok(perNode.every((n) => n > 0), `both nodes hold documents: ${perNode.join(' + ')}`);

    // the same documents again: consistent hashing sends them to the same homes
    for (const c of clients) await c.close();
    const again = await Promise.all(ids.slice(0, 6).map((id) => json(id, 'c2')));
    await Promise.all(again.map((c) => c.next('connected')));
    for (const [k, id] of ids.slice(0, 6).entries()) {
      assert.equal(await nodeOf(id), homes[k][0], `${id} reconnects to the same node`);
    }

    // the access log (written when a connection ends) shows the hash key nginx used
    providers[0].provider.destroy();
    const yLine = new RegExp(`GET /yjs/${ids[0]} HTTP/1\\.1" 101 .* doc="${ids[0]}" upstream=127\\.0\\.0\\.1:${nodes[homes[0][0]].port} `);
    const jLine = new RegExp(`GET /ws/fabric\\?documentId=${ids[0]}&clientID=c1 HTTP/1\\.1" 101 .* doc="${ids[0]}" upstream=127\\.0\\.0\\.1:${nodes[homes[0][0]].port} `);
    await until(() => yLine.test(proxy.accessLog()) && jLine.test(proxy.accessLog()),
      { what: 'the access log lines of the document', detail: () => proxy.accessLog().slice(-1500) });
  });

  test('Hocuspocus sockets without the ?document= hint are all pinned to one node', async (t) => {
    if (skipIfNoNginx(t)) return;
    const ids = Array.from({ length: 6 }, (_, i) => docId(`unhinted${i}`));
    const hs = ids.map((id) => hocus(id, { hint: false }));
    await until(() => hs.every((h) => h.synced()), { what: 'every unhinted Hocuspocus provider synced' });
    const homes = await Promise.all(ids.map((id) => nodeOf(id)));
    assert.equal(new Set(homes).size, 1, `all unhinted Hocuspocus documents on one node: ${homes.join(',')}`);
  });

  test(`an idle connection outlives proxy_read_timeout (${READ_TIMEOUT} s) thanks to the server's pings`, async (t) => {
    if (skipIfNoNginx(t)) return;
    const id = docId('idle');
    const idle = await json(id, 'idle');
    const hello = await idle.next('connected');
    const y = yws(docId('idle-yws'));
    await until(() => y.synced(), { what: 'idle y-websocket provider synced' });

    // control: the same kind of idle socket through nginx to an upstream that never pings is cut
    // by nginx after its read timeout (2 s here) — so the timeout really is in force
    const control = await JsonSocket.connect(`${echoProxy.wssUrl}/ws/fabric?documentId=x`, { ca: echoProxy.ca });
    defer(() => control.close());
    const controlOpened = performance.now(); // monotonic: this VM's wall clock can jump

    const started = performance.now();
    await sleep(IDLE_MS); // the waiting is what is under test: nobody sends anything for IDLE_MS

    assert.ok(control.closeInfo, 'nginx closed the control connection (no pings) after its read timeout');
    const cutAfter = control.closeInfo.at - controlOpened;
    assert.ok(cutAfter >= 1_500 && cutAfter < 10_000, `control cut after ${cutAfter} ms (read timeout 2 s)`);

    // timers may fire a little before performance.now() says their delay is over (libuv keeps its own coarser clock);
    // what matters is that the connections sat idle far past the read timeout
    assert.ok(performance.now() - started >= IDLE_MS - 100, `idle for ${performance.now() - started} ms`);
    assert.equal(idle.closeInfo, null, `the idle JSON connection is still open: ${JSON.stringify(idle.closeInfo)}`);
    assert.ok(idle.isOpen);
    assert.ok(y.provider.wsconnected, 'the idle y-websocket provider is still connected');
    // ... and still works
    idle.send({ type: 'steps', version: hello.version, steps: [{ stepType: 'replace', from: 0, to: 0 }] });
    const back = await idle.next('steps');
    assert.deepEqual(back.clientIDs, ['idle']);
    idle.send({ type: 'ping' });
    await idle.next('pong');
  });

  test('what nginx sends upstream: upgrade, Host, X-Forwarded-For/-Proto; keepalive for plain HTTP', async (t) => {
    if (skipIfNoNginx(t)) return;
    echo.upgrades.length = 0;
    const c = await JsonSocket.connect(`${echoProxy.wssUrl}/ws/fabric?documentId=h`, {
      ca: echoProxy.ca, headers: { 'X-Forwarded-For': '203.0.113.7' },
    });
    defer(() => c.close());
    c.send({ type: 'hello' });
    assert.deepEqual(await c.next('hello'), { type: 'hello' }, 'frames pass both ways');
    const up = echo.upgrades.at(-1);
    assert.equal(up.upgrade, 'websocket');
    assert.equal(up.connection, 'upgrade');
    assert.equal(up.host, '127.0.0.1');
    assert.equal(up['x-forwarded-proto'], 'https');
    assert.equal(up['x-forwarded-for'], '203.0.113.7, 127.0.0.1', 'the client address is appended after what it sent');

    const r = await request(`${echoProxy.httpsUrl}/health`, { ca: echoProxy.ca });
    assert.equal(r.status, 200);
    const h = r.body.headers;
    assert.equal(h.upgrade, undefined);
    assert.equal(h.connection, undefined, 'no "Connection: close" upstream, so keepalive connections are reused');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
  });

  test('the rendered config is nginx/collab.conf with only the local parts replaced', async (t) => {
    if (skipIfNoNginx(t)) return;
    const conf = proxy.renderedConfig();
    assert.doesNotMatch(conf, /# render:[a-z]/, 'every tagged line was rendered');
    assert.doesNotMatch(conf, /collab-\d\.internal|example\.com|\/etc\/ssl/, 'no production placeholder left');
    assert.match(conf, /hash \$collab_document consistent;/);
    for (const s of nodes) assert.match(conf, new RegExp(`server 127\\.0\\.0\\.1:${s.port} max_fails=0;`));
    assert.equal(conf.match(/proxy_read_timeout 5s;/g)?.length, 3, 'the three WebSocket locations got --read-timeout');
    assert.match(conf, new RegExp(`return 301 https://\\$host:${proxy.port}\\$request_uri;`));
  });
  test('the production file itself, placeholders filled in, passes `nginx -t` in Debian\'s nginx.conf', async (t) => {
    if (skipIfNoNginx(t)) return;
    if (!existsSync('/etc/nginx/nginx.conf')) { t.skip('no /etc/nginx/nginx.conf (not Debian\'s nginx package)'); return; }
    const dir = mkdtempSync(path.join(tmpdir(), 'collab-e2e-nginx-t-'));
    try {
      // a private copy of /etc/nginx, so the test neither needs nor touches the system's files
      cpSync('/etc/nginx', dir, { recursive: true, verbatimSymlinks: true });
      const main = readFileSync(path.join(dir, 'nginx.conf'), 'utf8')
        .replaceAll('/etc/nginx', dir).replaceAll('/var/log/nginx', dir).replace(/^\s*pid .*$/m, `pid ${dir}/nginx.pid;`);
      writeFileSync(path.join(dir, 'nginx.conf'), main);
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-days', '1', '-subj', '/CN=collab.example.com', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
      { stdio: 'ignore' });
      let port = 18000;
      const conf = readFileSync(path.join(path.dirname(PROXY_SCRIPT), 'collab.conf'), 'utf8')
        .replace(/collab-\d\.internal:8080/g, () => `127.0.0.1:${port++}`)
        .replace('/etc/ssl/collab/fullchain.pem', path.join(dir, 'cert.pem'))
        .replace('/etc/ssl/collab/privkey.pem', path.join(dir, 'key.pem'))
        .replaceAll('/var/log/nginx', dir);
      writeFileSync(path.join(dir, 'conf.d', 'collab.conf'), conf);
      try {
        execFileSync(nginxBinary, ['-t', '-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf')], { stdio: 'pipe' });
      } catch (err) {
        assert.fail(`nginx -t refused nginx/collab.conf: ${err.stderr}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
