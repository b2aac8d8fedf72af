// A real cluster for the end-to-end suites: PostgreSQL and Redis from Debian's packages, started here on free
// loopback ports with their data in temporary directories, and collab-server nodes on them
// (COLLAB_STORE=postgres, COLLAB_BUS=redis) — the same parts `./collab cluster` (packaging/cluster.sh) starts,
// started one by one here so that a test can kill -9 and restart each of them.
//
//   const pg = await startPostgres();          // pg.port, pg.jdbcUrl(db), pg.query(db, sql), pg.kill(), pg.restart()
//   const redis = await startRedis();          // redis.url, redis.kill(), redis.restart()
//   const cluster = await startCluster({ nodes: 3, env: { COLLAB_COMPACTION_UPDATES: '40' } });
//   cluster.nodes[i]                           // ServerProcess (lib/server.mjs): port, kill(), nodeId
//   await cluster.dispose();
//
// As root, PostgreSQL runs as the `postgres` user (initdb refuses root). Everything started here is killed, and
// its directory removed, when the test process exits however it exits.
import { execFileSync, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { afterEach, after, before } from 'node:test';
import { ensureNginx, freePort, run, startProxy } from './nginx-proxy.mjs';
import { startServer } from './server.mjs';

const ROOT = process.getuid?.() === 0;

function pgBin() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(base, versions[0], 'bin') : null;
}
export const PG_BIN = pgBin();
export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p)) ?? null;

/** Why the cluster suites cannot run here (PostgreSQL or Redis missing), or null. `./collab test` installs both. */
export function missingServers() {
  const missing = [];
  if (!PG_BIN) missing.push('PostgreSQL (apt-get install postgresql)');
  if (!REDIS_SERVER) missing.push('Redis (apt-get install redis-server)');
  return missing.length ? `not installed: ${missing.join(', ')}` : null;
}

// --- bookkeeping ---------------------------------------------------------------------------------
const cleanups = new Set();
let hooked = false;
function onExit(fn) {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => { for (const f of [...cleanups].reverse()) { try { f(); } catch { /* best effort */ } } });
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.once(sig, () => { process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 })[sig]); });
    }
  }
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Resolves with check()'s first truthy value; rejects after `timeout` ms naming `what`. */
export async function until(check, { timeout = 10_000, interval = 20, what = String(check), detail } = {}) {
  const deadline = performance.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${detail ? `; ${await detail()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

const asPostgres = (cmd, args) => (ROOT ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);

// --- PostgreSQL ----------------------------------------------------------------------------------
export class Postgres {
  constructor(dir, port) {
    this.dir = dir;
    this.data = path.join(dir, 'data');
    this.log = path.join(dir, 'postgres.log');
    this.port = port;
  }

  jdbcUrl(db) { return `jdbc:postgresql://127.0.0.1:${this.port}/${db}`; }

  async #pgCtl(...args) {
    const [cmd, a] = asPostgres(path.join(PG_BIN, 'pg_ctl'), ['-D', this.data, ...args]);
    return run(cmd, a);
  }

  async start() {
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir}` +
      ' -c fsync=off -c max_connections=200';
    // after a kill -9 the old backends may hold the shared memory for a moment: try again until it starts
    await until(async () => (await this.#pgCtl('-l', this.log, '-w', '-t', '30', 'start', '-o', opts)).code === 0,
      { timeout: 60_000, interval: 200, what: `PostgreSQL to start on ${this.port}`, detail: () => this.logTail() });
  }

  logTail() { try { return readFileSync(this.log, 'utf8').slice(-2000); } catch { return '(no log)'; } }

  postmasterPid() { return Number(readFileSync(path.join(this.data, 'postmaster.pid'), 'utf8').split('\n')[0]); }

  /** kill -9 of the postmaster, as a crash would; resolves once it is gone. */
  async kill() {
    const pid = this.postmasterPid();
    process.kill(pid, 'SIGKILL');
    await until(() => { try { process.kill(pid, 0); return false; } catch { return true; } },
      { what: `postmaster ${pid} to exit` });
  }

  restart() { return this.start(); }

  /** Runs SQL through psql; resolves with the rows, each an array of column strings. */
  async query(db, sql) {
    const r = await run('psql', ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'collab', '-d', db,
      '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', sql], { timeout: 60_000 });
    if (r.code !== 0) throw new Error(`psql failed (${r.code}): ${r.err}`);
    return r.out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
  }

  async createDatabase(name) {
    await this.query('postgres', `CREATE DATABASE ${name}`);
    return this.jdbcUrl(name);
  }

  stopSync() {
    try {
      const [cmd, a] = asPostgres(path.join(PG_BIN, 'pg_ctl'), ['-D', this.data, '-m', 'immediate', '-w', 'stop']);
      execFileSync(cmd, a, { stdio: 'ignore', timeout: 30_000 });
    } catch { /* not running */ }
    rmSync(this.dir, { recursive: true, force: true });
  }

  async stop() { this.stopSync(); this.unhook?.(); }
}

export async function startPostgres() {
  if (!PG_BIN) throw new Error('PostgreSQL is not installed (apt-get install postgresql); ./collab test installs it');
  const dir = mkdtempSync(path.join(tmpdir(), 'collab-e2e-pg-'));
  chmodSync(dir, 0o755);
  if (ROOT) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const pg = new Postgres(dir, await freePort());
  pg.unhook = onExit(() => pg.stopSync());
  const [cmd, a] = asPostgres(path.join(PG_BIN, 'initdb'),
    ['-D', pg.data, '-A', 'trust', '-U', 'collab', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const r = await run(cmd, a);
  if (r.code !== 0) throw new Error(`initdb failed: ${r.err}${r.out}`);
  await pg.start();
  return pg;
}

// --- Redis ---------------------------------------------------------------------------------------
export class Redis {
  constructor(dir, port) { this.dir = dir; this.port = port; this.child = null; this.output = ''; }

  get url() { return `redis://127.0.0.1:${this.port}`; }

  async start() {
    const child = spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no', '--dir', this.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.on('data', (c) => { this.output = (this.output + c).slice(-4000); });
    child.stderr.on('data', (c) => { this.output = (this.output + c).slice(-4000); });
    child.unref();
    await until(() => canConnect(this.port), { timeout: 30_000, what: `redis-server on ${this.port}`, detail: () => this.output });
  }

  /** kill -9; resolves once it is gone. */
  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  restart() { return this.start(); }

  stopSync() {
    try { this.child?.kill('SIGKILL'); } catch { /* gone */ }
    rmSync(this.dir, { recursive: true, force: true });
  }

  async stop() { await this.kill(); this.stopSync(); this.unhook?.(); }
}

export async function startRedis() {
  if (!REDIS_SERVER) throw new Error('redis-server is not installed (apt-get install redis-server); ./collab test installs it');
  const redis = new Redis(mkdtempSync(path.join(tmpdir(), 'collab-e2e-redis-')), await freePort());
  redis.unhook = onExit(() => redis.stopSync());
  await redis.start();
  return redis;
}

// --- the cluster ---------------------------------------------------------------------------------
let databases = 0;

/**
 * PostgreSQL, Redis and `nodes` server nodes on them (node-1 … node-N). env: extra settings for every node.
 * Resolves { pg, redis, db, nodes, adminToken, nodeEnv(i), addNode(), dispose() }.
 */
export async function startCluster({ nodes = 3, env = {}, startTimeoutMs = Number(process.env.E2E_SERVER_START_TIMEOUT_MS || 90_000) } = {}) {
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  const db = `cluster_${process.pid}_${++databases}`;
  await pg.createDatabase(db);
  const adminToken = randomBytes(18).toString('base64url');
  const nodeEnv = (i) => ({
    SERVER_HOST: '127.0.0.1',
    COLLAB_STORE: 'postgres',
    COLLAB_POSTGRES_URL: pg.jdbcUrl(db),
    COLLAB_POSTGRES_USER: 'collab',
    COLLAB_BUS: 'redis',
    COLLAB_REDIS_URL: redis.url,
    COLLAB_NODE_ID: `node-${i}`,
    COLLAB_TRUSTED_PROXIES: '127.0.0.1',
    ...env,
  });
  const startNode = async (i) => {
    const node = await startServer({ env: nodeEnv(i), adminToken, startTimeoutMs });
    node.nodeId = `node-${i}`;
    return node;
  };
  const started = await Promise.all(Array.from({ length: nodes }, (_, k) => startNode(k + 1)));
  const cluster = {
    pg, redis, db, adminToken, nodeEnv, nodes: started,
    /** the stored Yjs log of a document, in sequence order: [{ seq, data: Buffer }] */
    async storedUpdates(id) {
      const rows = await pg.query(db, `SELECT seq, encode(data, 'hex') FROM yjs_updates WHERE document_id = '${id}' ORDER BY seq`);
      return rows.map(([seq, b64]) => ({ seq: Number(seq), data: Buffer.from(b64, 'hex') }));
    },
    /** the stored step versions of a document, in order, with their client ids */
    async storedSteps(id) {
      const rows = await pg.query(db, `SELECT version, client_id FROM pm_steps WHERE document_id = '${id}' ORDER BY version`);
      return rows.map(([v, c]) => ({ version: Number(v), clientId: c }));
    },
    /** GET /documents/{id}/yjs from one node (its merged state: memory when the room is loaded) */
    async yjsFrom(node, id) {
      const res = await node.fetch(`/documents/${encodeURIComponent(id)}/yjs`, { admin: true });
      if (res.status !== 200) throw new Error(`GET /documents/${id}/yjs on ${node.nodeId}: ${res.status} ${await res.text()}`);
      return new Uint8Array(await res.arrayBuffer());
    },
    async dispose() {
      await Promise.all(cluster.nodes.map((n) => n.dispose()));
      await Promise.all([redis.stop(), pg.stop()]);
    },
  };
  return cluster;
}

/**
 * The fixture of a cluster suite, as node:test hooks of the enclosing describe(): before() starts the cluster and
 * nginx with nginx/collab-cluster.conf in front of every node (installing nginx if needed); afterEach() runs what the
 * test deferred; after() stops everything. Without PostgreSQL, Redis or nginx (and no way to install nginx) the
 * tests skip, saying why. Returns { cluster, proxy, skip(t), defer(fn) } (cluster and proxy once before() ran).
 */
export function clusterSuite({ nodes = 3, env = {} } = {}) {
  const ctx = { cluster: null, proxy: null, skipReason: null, cleanups: [] };
  ctx.defer = (fn) => { ctx.cleanups.push(fn); return fn; };
  ctx.skip = (t) => { if (ctx.skipReason) { t.skip(ctx.skipReason); return true; } return false; };
  before(async () => {
    ctx.skipReason = missingServers();
    const nginx = await ensureNginx();
    if (!nginx.available) {
      if (nginx.unavailable) { ctx.skipReason = nginx.reason; return; }
      throw new Error(nginx.reason);
    }
    if (ctx.skipReason) return;
    ctx.cluster = await startCluster({ nodes, env });
    ctx.proxy = await startProxy({ upstreams: ctx.cluster.nodes.map((n) => `127.0.0.1:${n.port}`), extraArgs: ['--cluster'] });
  }, { timeout: 240_000 });
  afterEach(async () => {
    for (const fn of ctx.cleanups.splice(0).reverse()) {
      try { await fn(); } catch { /* best effort */ }
    }
  });
  after(async () => {
    await ctx.proxy?.stop();
    await ctx.cluster?.dispose();
  });
  return ctx;
}

// --- acknowledged writes -------------------------------------------------------------------------

/**
 * Writes to one Yjs document over the JSON protocol (/ws/fabric), each write an independent one-key update
 * (`map.set(key, n)` from a fresh Y.Doc, so no write depends on another) sent with an id; a write counts as
 * acknowledged only when its {"type":"ack"} arrives. The socket goes to `url()` (through nginx, or to a node); when
 * it closes, the writer reconnects (after `retryMs`) and goes on. Refusals ({"type":"error"}) are counted.
 */
export class AckedWriter {
  constructor({ url, documentId, prefix, ca, retryMs = 50, field = 'm' }) {
    this.url = url; // () => ws(s) URL of /ws/fabric?documentId=…
    this.documentId = documentId;
    this.prefix = prefix;
    this.ca = ca;
    this.retryMs = retryMs;
    this.field = field;
    this.sent = new Map();     // id -> key
    this.acked = new Set();    // keys
    this.ackTimes = [];        // performance.now() of every ack
    this.errors = [];
    this.connects = 0;
    this.closes = [];
    this.n = 0;
    this.stopped = false;
    this.ws = null;
    this.open = false;
  }

  connect() {
    if (this.stopped) return;
    const ws = new WebSocket(this.url(), { ca: this.ca, handshakeTimeout: 5_000 });
    this.ws = ws;
    ws.on('open', () => { this.connects++; });
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString('utf8'));
      if (m.type === 'connected') { this.open = true; return; }
      if (m.type === 'ack' && this.sent.has(m.id)) {
        this.acked.add(this.sent.get(m.id));
        this.ackTimes.push(performance.now());
      } else if (m.type === 'error') {
        this.errors.push({ ...m, at: performance.now() });
      }
    });
    ws.on('error', () => { /* the close follows */ });
    ws.on('close', (code) => {
      this.open = false;
      this.closes.push({ code, at: performance.now() });
      if (!this.stopped) setTimeout(() => this.connect(), this.retryMs);
    });
  }

  /** One write, if the socket is open; returns its key or null. */
  write() {
    if (!this.open || this.ws.readyState !== WebSocket.OPEN) return null;
    const n = ++this.n;
    const key = `${this.prefix}-${n}`;
    const doc = new Y.Doc();
    doc.getMap(this.field).set(key, n);
    const id = n;
    this.sent.set(id, key);
    this.ws.send(JSON.stringify({ type: 'update', update: Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64'), id }));
    doc.destroy();
    return key;
  }

  /** Writes every `everyMs` until stop(). */
  start(everyMs = 20) {
    this.connect();
    this.timer = setInterval(() => this.write(), everyMs);
    return this;
  }

  /** Stops writing; waits up to `settleMs` for the acks of what is in flight, then closes. */
  async stop({ settleMs = 3_000 } = {}) {
    clearInterval(this.timer);
    const deadline = performance.now() + settleMs;
    while (this.open && this.acked.size + this.errors.length < this.sent.size && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    this.stopped = true;
    this.ws?.terminate();
  }

  /** The first ack at or after `t` (ms), or null. */
  firstAckAfter(t) { return this.ackTimes.find((x) => x >= t) ?? null; }
}

/** Prints one `cluster figures: WHAT: k=v …` line (the figures the closing notes quote). */
export function figures(what, values) {
  console.log(`cluster figures: ${what}: ${Object.entries(values).map(([k, v]) => `${k}=${typeof v === 'number' ? Math.round(v) : v}`).join(' ')}`);
}

/** The keys of map `field` in the Yjs state `update` (a merged state or one of many updates). */
export function keysOf(updates, field = 'm') {
  const doc = new Y.Doc();
  for (const u of [].concat(updates)) Y.applyUpdate(doc, u);
  const keys = new Set(doc.getMap(field).keys());
  doc.destroy();
  return keys;
}
