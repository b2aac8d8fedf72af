// Starts the real collab-server (through `<repo>/collab run --no-build`) for end-to-end tests.
//
//   const server = await startServer({ env: { SOME_SETTING: '1' } });
//   server.port / server.url (ws://…) / server.httpUrl (http://…) / server.adminToken / server.dbPath
//   await server.stop();      // SIGTERM, wait for exit (SIGKILL after a grace period, reported as forced)
//   await server.kill();      // SIGKILL, wait for exit
//   await server.restart();   // stop if running, start again on the same database, new random port
//   await server.dispose();   // stop and remove the temporary data directory
//
// Every process started here is killed when the test process exits, however it exits (normal end,
// uncaught error, SIGINT/SIGTERM), so a failing test never leaves a JVM behind.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LAUNCHER = path.join(REPO_ROOT, 'collab');
export const JAR = path.join(REPO_ROOT, 'target', 'collab-server.jar');

const READY_LINE = /collab-server listening on port (\d+)\s*$/;
const DEFAULT_START_TIMEOUT_MS = Number(process.env.E2E_SERVER_START_TIMEOUT_MS || 30_000);
const STOP_GRACE_MS = 10_000;
const MAX_CAPTURE_CHARS = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: every live child and every temp dir is cleaned up on exit.
const liveChildren = new Set();
const tempDirs = new Set();
let exitHooksInstalled = false;

function killGroupSync(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the child leads its own process group (detached)
  } catch {
    try { child.kill(signal); } catch { /* already gone */ }
  }
}

function cleanupSync() {
  for (const child of liveChildren) killGroupSync(child, 'SIGKILL');
  liveChildren.clear();
  if (!process.env.E2E_KEEP_DATA) {
    for (const dir of tempDirs) {
      try { rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
    }
    tempDirs.clear();
  }
}

function installExitHooks() {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      cleanupSync();
      // re-raise so the process ends the way it would have without our handler
      process.kill(process.pid, sig);
    });
  }
}

// ---------------------------------------------------------------------------------------------

function tail(text, max = 4000) {
  return text.length > max ? '…' + text.slice(-max) : text;
}

function waitForExit(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((resolve) => { timer = setTimeout(() => resolve(null), ms); }),
  ]).finally(() => clearTimeout(timer));
}

export class ServerProcess {
  #child = null;
  #stdout = '';
  #stderr = '';
  #port = null;

  constructor({ dataDir, dbPath, adminToken, env, startTimeoutMs, echo, command }) {
    this.command = command; // [program, ...args]; null = the launcher
    this.dataDir = dataDir;
    this.dbPath = dbPath;
    this.adminToken = adminToken;
    this.extraEnv = { ...env };
    this.startTimeoutMs = startTimeoutMs;
    this.echo = echo;
    this.starts = 0;
  }

  get port() { return this.#port; }
  get url() { return `ws://127.0.0.1:${this.#port}`; }
  get httpUrl() { return `http://127.0.0.1:${this.#port}`; }
  get pid() { return this.#child?.pid ?? null; }
  get running() {
    return !!this.#child && this.#child.exitCode === null && this.#child.signalCode === null;
  }
  /** stdout/stderr captured from the current (or last) process, trimmed to the last 64 KiB. */
  get stdout() { return this.#stdout; }
  get stderr() { return this.#stderr; }

  /** ws:// URL of the JSON-protocol endpoint for a document. */
  fabricUrl(documentId, clientID) {
    const q = new URLSearchParams({ documentId: String(documentId) });
    if (clientID !== undefined && clientID !== null) q.set('clientID', String(clientID));
    return `${this.url}/ws/fabric?${q}`;
  }

  env() {
    return {
      ...process.env,
      SERVER_PORT: '0',
      COLLAB_DB_PATH: this.dbPath,
      COLLAB_ADMIN_TOKEN: this.adminToken,
      ...this.extraEnv,
    };
  }

  async start() {
    if (this.running) throw new Error(`server already running (pid ${this.pid})`);
    const [program, ...args] = this.command ?? [LAUNCHER, 'run', '--no-build'];
    if (!this.command && !existsSync(JAR)) {
      throw new Error(`${JAR} does not exist: build it first with \`./collab build\` (or run \`./collab test\`)`);
    }
    this.#stdout = '';
    this.#stderr = '';
    this.#port = null;
    this.starts++;

    const child = spawn(program, args, {
      cwd: REPO_ROOT,
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group, so the whole tree can be signalled
    });
    this.#child = child;
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));

    const append = (which, chunk) => {
      const s = chunk.toString('utf8');
      if (this.echo) process.stderr.write(`[server ${which}] ${s}`);
      if (which === 'stdout') this.#stdout = (this.#stdout + s).slice(-MAX_CAPTURE_CHARS);
      else this.#stderr = (this.#stderr + s).slice(-MAX_CAPTURE_CHARS);
    };

    const ready = new Promise((resolve, reject) => {
      let buffered = '';
      const onData = (chunk) => {
        append('stdout', chunk);
        buffered += chunk.toString('utf8');
        // only complete lines: a chunk may end in the middle of the port number
        const lines = buffered.split('\n');
        buffered = lines.pop().slice(-MAX_CAPTURE_CHARS);
        for (const line of lines) {
          const m = READY_LINE.exec(line);
          if (m) {
            child.stdout.off('data', onData);
            child.stdout.on('data', (c) => append('stdout', c));
            resolve(Number(m[1]));
            return;
          }
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (c) => append('stderr', c));
      child.once('error', (err) => reject(new Error(`could not spawn ${program}: ${err.message}`)));
      child.once('exit', (code, signal) => reject(new Error(
        `server exited (code ${code}, signal ${signal}) before printing "collab-server listening on port <N>"` +
        this.#describeOutput())));
    });

    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(
        `server did not print "collab-server listening on port <N>" on stdout within ${this.startTimeoutMs} ms` +
        (/collab-server listening on port \d+/.test(this.#stderr) ? ' (it printed it on stderr instead)' : '') +
        this.#describeOutput())), this.startTimeoutMs);
    });

    try {
      const port = await Promise.race([ready, timeout]);
      if (!(port > 0 && port < 65536)) throw new Error(`server reported an invalid port ${port}` + this.#describeOutput());
      this.#port = port;
      // A running server must not keep the test process alive on its own (a test that forgets
      // dispose() would otherwise hang the run); the exit hook kills it when the process ends.
      child.unref();
      child.stdout.unref?.();
      child.stderr.unref?.();
      return this;
    } catch (err) {
      killGroupSync(child, 'SIGKILL');
      await waitForExit(child);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  #describeOutput() {
    return `\n--- server stdout ---\n${tail(this.#stdout) || '(empty)'}\n--- server stderr ---\n${tail(this.#stderr) || '(empty)'}`;
  }

  /**
   * SIGTERM, then wait for the exit. If the server is still alive after the grace period it is
   * SIGKILLed and the result says forced: true.
   */
  async stop({ graceMs = STOP_GRACE_MS } = {}) {
    const child = this.#child;
    if (!child) return { code: null, signal: null, forced: false };
    if (!this.running) return { ...(await waitForExit(child)), forced: false };
    killGroupSync(child, 'SIGTERM');
    const exited = await withTimeout(waitForExit(child), graceMs);
    if (exited) return { ...exited, forced: false };
    killGroupSync(child, 'SIGKILL');
    return { ...(await waitForExit(child)), forced: true };
  }

  /** SIGKILL (kill -9) and wait for the exit. */
  async kill() {
    const child = this.#child;
    if (!child) return { code: null, signal: null };
    killGroupSync(child, 'SIGKILL');
    const exited = await withTimeout(waitForExit(child), STOP_GRACE_MS); // the timer keeps us alive meanwhile
    if (!exited) throw new Error(`server pid ${child.pid} did not exit within ${STOP_GRACE_MS} ms of SIGKILL`);
    return exited;
  }

  /** Stop (if running) and start again on the same database; the port is a new random one. */
  async restart() {
    if (this.running) await this.stop();
    return this.start();
  }

  /** Stop the server and delete its temporary data directory. Safe to call twice. */
  async dispose() {
    const result = await this.stop();
    if (!process.env.E2E_KEEP_DATA && this.dataDir && tempDirs.has(this.dataDir)) {
      rmSync(this.dataDir, { recursive: true, force: true });
      tempDirs.delete(this.dataDir);
    }
    return result;
  }

  // --- HTTP helpers --------------------------------------------------------------------------

  async fetch(pathname, { admin = false, headers = {}, ...init } = {}) {
    const h = { ...headers };
    if (admin) h.Authorization = `Bearer ${this.adminToken}`;
    return fetch(`${this.httpUrl}${pathname}`, { ...init, headers: h, signal: init.signal ?? AbortSignal.timeout(10_000) });
  }

  async getJson(pathname, opts) {
    const res = await this.fetch(pathname, opts);
    const text = await res.text();
    let body;
    try { body = text ? JSON.parse(text) : undefined; } catch { body = text; }
    return { status: res.status, headers: res.headers, body };
  }

  health() { return this.getJson('/health'); }
  adminDocuments() { return this.getJson('/admin/documents', { admin: true }); }
}

/**
 * Start a server on a fresh temporary database.
 * options: env (extra environment), adminToken, startTimeoutMs, echo (copy server output to stderr;
 * also on with E2E_SERVER_LOG=1), dataDir (reuse an existing directory instead of a new temp one),
 * command ([program, ...args] instead of `collab run --no-build`; also E2E_SERVER_COMMAND, split on
 * spaces — for running the suites against a debug build or a stand-in).
 */
export async function startServer(options = {}) {
  installExitHooks();
  let dataDir = options.dataDir;
  if (!dataDir) {
    dataDir = mkdtempSync(path.join(tmpdir(), 'collab-e2e-'));
    tempDirs.add(dataDir);
  }
  const server = new ServerProcess({
    dataDir,
    dbPath: path.join(dataDir, 'collab.db'),
    adminToken: options.adminToken ?? randomBytes(18).toString('base64url'),
    env: options.env ?? {},
    startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    echo: options.echo ?? !!process.env.E2E_SERVER_LOG,
    command: options.command ?? (process.env.E2E_SERVER_COMMAND ? process.env.E2E_SERVER_COMMAND.split(' ').filter(Boolean) : null),
  });
  await server.start();
  return server;
}

/** Runs `./collab ARGS` to its exit with `env` added; resolves { code, stdout, stderr }. */
export function runLauncher(args, env = {}, { timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(LAUNCHER, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`./collab ${args.join(' ')} still running after ${timeoutMs} ms\n${stdout}\n${stderr}`)); }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}
