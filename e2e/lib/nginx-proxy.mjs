// Runs nginx in front of real collab-server nodes for end-to-end tests, through nginx/proxy.sh (the
// script behind `./collab proxy`), and talks to it over https:// and wss:// with its self-signed
// certificate.
//
//   const nginx = await ensureNginx();                 // { available, nginx } or { available: false, reason }
//   const proxy = await startProxy({ upstreams: [`127.0.0.1:${server.port}`], readTimeout: 5, httpRedirect: true });
//   proxy.wssUrl / proxy.httpsUrl / proxy.httpUrl (redirect listener) / proxy.ca (PEM of the certificate)
//   const TlsWebSocket = webSocketTrusting(proxy.ca); // `ws` subclass for WebSocketPolyfill options
//   const c = await JsonSocket.connect(`${proxy.wssUrl}/ws/fabric?documentId=d`, { ca: proxy.ca });
//   await request(`${proxy.httpsUrl}/health`, { ca: proxy.ca });
//   await proxy.stop();
//
// Every proxy started here is killed and its directory removed when the test process exits.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { REPO_ROOT } from './server.mjs';

export const PROXY_SCRIPT = path.join(REPO_ROOT, 'nginx', 'proxy.sh');
const EX_UNAVAILABLE = 69;
const READY_LINE = /collab proxy ready: (wss:\/\/\S+)/;

// ---------------------------------------------------------------------------------------------
// bookkeeping: live proxies and their directories are cleaned up however the test process ends
const live = new Set();
let hooksInstalled = false;

function killGroup(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try { process.kill(-child.pid, signal); } catch { try { child.kill(signal); } catch { /* gone */ } }
}

function cleanupSync() {
  for (const p of live) {
    killGroup(p.child, 'SIGKILL');
    try { rmSync(p.root, { recursive: true, force: true }); } catch { /* best effort */ }
  }
  live.clear();
}

function installHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, cleanupSync);
}

function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Runs a command; resolves { code, out, err } (never rejects; code -1 when it could not start). */
export function run(cmd, args, { timeout = 120_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.once('error', (e) => { clearTimeout(timer); resolve({ code: -1, out, err: err + e.message }); });
    child.once('close', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? signal, out, err }); });
  });
}

/**
 * Makes sure nginx is there: proxy.sh --ensure-nginx installs it with apt-get when missing and running
 * as root. Resolves { available: true, nginx: path } or { available: false, reason }.
 */
export async function ensureNginx({ timeout = 540_000 } = {}) {
  const r = await run(PROXY_SCRIPT, ['--ensure-nginx'], { timeout });
  if (r.code === 0) return { available: true, nginx: r.out.trim() };
  const reason = r.code === EX_UNAVAILABLE
    ? `nginx is not installed and cannot be installed here: ${r.err.trim().split('\n').slice(-2).join(' ')}`
    : `nginx/proxy.sh --ensure-nginx failed (exit ${r.code}): ${r.err.slice(-2000)}`;
  return { available: false, reason, unavailable: r.code === EX_UNAVAILABLE };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export class ProxyProcess {
  constructor({ child, root, port, httpPort }) {
    this.child = child;
    this.root = root; // our TMPDIR for proxy.sh: its mktemp directory is the one folder inside
    this.port = port;
    this.httpPort = httpPort;
    this.stdout = '';
    this.stderr = '';
  }

  get wssUrl() { return `wss://127.0.0.1:${this.port}`; }
  get httpsUrl() { return `https://127.0.0.1:${this.port}`; }
  get httpUrl() { return this.httpPort ? `http://127.0.0.1:${this.httpPort}` : null; }
  get running() { return this.child.exitCode === null && this.child.signalCode === null; }

  /** proxy.sh's working directory (rendered config, certificate, logs), while it runs. */
  get dir() {
    let entries;
    try { entries = readdirSync(this.root).filter((n) => n.startsWith('collab-proxy.')); } catch { return null; }
    return entries.length ? path.join(this.root, entries[0]) : null;
  }

  /** The rendered nginx configuration (collab.conf as proxy.sh wrote it). */
  renderedConfig() { return readFileSync(path.join(this.dir, 'collab.conf'), 'utf8'); }

  /** nginx's access log (log_format collab: document key and upstream of every request). */
  accessLog() {
    try { return readFileSync(path.join(this.dir, 'access.log'), 'utf8'); } catch { return ''; }
  }

  describe() {
    return `\n--- proxy.sh stdout ---\n${this.stdout.slice(-3000) || '(empty)'}` +
      `\n--- proxy.sh stderr ---\n${this.stderr.slice(-3000) || '(empty)'}`;
  }

  /** SIGTERM to proxy.sh and nginx, wait; SIGKILL after a grace period. Removes the directory. */
  async stop({ graceMs = 5_000 } = {}) {
    let result = { forced: false };
    if (this.running) {
      killGroup(this.child, 'SIGTERM');
      let timer;
      const done = await Promise.race([
        exited(this.child),
        new Promise((r) => { timer = setTimeout(() => r(null), graceMs); }),
      ]);
      clearTimeout(timer);
      if (!done) {
        killGroup(this.child, 'SIGKILL');
        await exited(this.child);
        result = { forced: true };
      } else {
        result = { ...done, forced: false };
      }
    }
    const leftover = this.dir; // proxy.sh removes its directory itself when it exits normally
    rmSync(this.root, { recursive: true, force: true });
    live.delete(this);
    return { ...result, leftover };
  }
}

async function startOnce({ upstreams, readTimeout, httpRedirect, extraArgs, startTimeoutMs, echo }) {
  const port = await freePort();
  const httpPort = httpRedirect ? await freePort() : null;
  const root = mkdtempSync(path.join(tmpdir(), 'collab-e2e-nginx-'));
  chmodSync(root, 0o711); // nginx workers run as an unprivileged user and must reach their temp dirs
  const args = ['--listen', `127.0.0.1:${port}`];
  if (httpPort) args.push('--http-listen', `127.0.0.1:${httpPort}`);
  for (const u of upstreams) args.push('--upstream', u);
  if (readTimeout !== undefined) args.push('--read-timeout', String(readTimeout));
  args.push(...extraArgs);

  const child = spawn(PROXY_SCRIPT, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, TMPDIR: root },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: proxy.sh, the nginx master and its workers
  });
  const proxy = new ProxyProcess({ child, root, port, httpPort });
  live.add(proxy);

  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => {
      const s = c.toString('utf8');
      if (echo) process.stderr.write(`[proxy] ${s}`);
      proxy.stdout += s;
      if (READY_LINE.test(proxy.stdout)) resolve();
    });
    child.stderr.on('data', (c) => {
      const s = c.toString('utf8');
      if (echo) process.stderr.write(`[proxy] ${s}`);
      proxy.stderr += s;
    });
    child.once('error', (err) => reject(new Error(`could not spawn ${PROXY_SCRIPT}: ${err.message}`)));
    child.once('exit', (code, signal) => reject(Object.assign(
      new Error(`nginx/proxy.sh exited (code ${code}, signal ${signal}) before it was ready${proxy.describe()}`),
      { portClash: /Address already in use/.test(proxy.stderr) })));
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(
      `nginx/proxy.sh did not print "collab proxy ready" within ${startTimeoutMs} ms${proxy.describe()}`)), startTimeoutMs);
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (err) {
    await proxy.stop({ graceMs: 1_000 });
    throw err;
  } finally {
    clearTimeout(timer);
  }
  proxy.ca = readFileSync(path.join(proxy.dir, 'cert.pem'));
  return proxy;
}

/**
 * Start nginx through nginx/proxy.sh on free ports of 127.0.0.1. Call ensureNginx() first (an
 * install can take minutes). options: upstreams (['HOST:PORT', ...]), readTimeout (seconds),
 * httpRedirect (also a plain-HTTP listener that redirects), extraArgs, startTimeoutMs, echo.
 */
export async function startProxy({ upstreams, readTimeout, httpRedirect = false, extraArgs = [],
  startTimeoutMs = 20_000, echo = !!process.env.E2E_SERVER_LOG } = {}) {
  installHooks();
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce({ upstreams, readTimeout, httpRedirect, extraArgs, startTimeoutMs, echo });
    } catch (err) {
      // a free port can be taken between freePort() and nginx's bind(): try other ports
      if (!err.portClash || attempt >= 3) throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// clients that trust the proxy's self-signed certificate

/**
 * A `ws` WebSocket class that trusts `ca`, for the stock providers' WebSocketPolyfill option
 * (they call `new WebSocketPolyfill(url[, protocols])`).
 */
export function webSocketTrusting(ca) {
  return class TrustingWebSocket extends WebSocket {
    constructor(address, protocols, options) {
      if (protocols && typeof protocols === 'object' && !Array.isArray(protocols)) {
        options = protocols;
        protocols = undefined;
      }
      super(address, protocols, { ...options, ca });
    }
  };
}

/**
 * One HTTP(S) request, no redirects followed. Resolves { status, headers, body } (body parsed as
 * JSON when it is JSON).
 */
export function request(url, { ca, method = 'GET', headers = {}, body, timeout = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(u, { method, headers, ca, agent: false, timeout }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let parsed = text;
        try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${timeout} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Minimal JSON-protocol socket over wss:// (lib/json-client.mjs cannot take TLS options): every
 * message is logged in `received`; next(pred) waits for the first not yet taken one that matches.
 */
export class JsonSocket {
  static connect(url, { ca, headers, timeout = 10_000 } = {}) {
    const s = new JsonSocket(url, { ca, headers, timeout });
    return s.opened.then(() => s);
  }

  constructor(url, { ca, headers, timeout }) {
    this.url = url;
    this.timeout = timeout;
    this.received = [];
    this.taken = new Set();
    this.waiters = new Set();
    this.closeInfo = null;
    this.ws = new WebSocket(url, { ca, headers, handshakeTimeout: timeout });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`${url}: upgrade refused with HTTP ${res.statusCode}`)));
      this.ws.once('error', (err) => reject(new Error(`${url}: ${err.message}`)));
    });
    this.opened.catch(() => {});
    this.ws.on('error', (err) => { this.lastError = err; });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString(), at: performance.now() };
        for (const w of [...this.waiters]) w();
        resolve(this.closeInfo);
      });
    });
    this.ws.on('message', (data) => {
      let msg;
      try { msg = JSON.parse(data.toString('utf8')); } catch { msg = { type: '__unparseable', raw: data.toString('utf8') }; }
      this.received.push(msg);
      for (const w of [...this.waiters]) w();
    });
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  send(msg) { this.ws.send(JSON.stringify(msg)); }

  /** The first received message (not taken before) for which pred holds; takes it. */
  next(pred, { timeout = this.timeout, what = String(pred) } = {}) {
    const match = typeof pred === 'string' ? (m) => m.type === pred : pred;
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.received.findIndex((m, idx) => !this.taken.has(idx) && match(m));
        if (i >= 0) {
          this.taken.add(i);
          finish();
          resolve(this.received[i]);
        } else if (this.closeInfo) {
          finish();
          reject(new Error(`${this.url}: closed (${this.closeInfo.code}) while waiting for ${what}; ` +
            `received ${JSON.stringify(this.received).slice(-600)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${this.url}: timed out after ${timeout} ms waiting for ${what}; ` +
          `received ${JSON.stringify(this.received).slice(-600)}`));
      }, timeout);
      const finish = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  close() {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve(this.closeInfo);
    try { this.ws.close(1000); } catch { /* not open yet */ }
    const timer = setTimeout(() => this.ws.terminate(), 2_000);
    return this.closed.finally(() => clearTimeout(timer));
  }
}
