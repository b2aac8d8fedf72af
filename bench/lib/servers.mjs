// The servers under test: this project, the peers (installed with npm into a temporary directory at benchmark
// time), and the floor (a bare relay on the project's transport, compiled at benchmark time). Each is started fresh for a scenario, as
// its own process whose pid is the server itself, so /proc/<pid> gives its CPU time and RSS.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(BENCH_DIR, '..');

// Exact versions of the peers, installed at benchmark time (nothing of theirs is committed).
export const PEER_PACKAGES = {
  '@y/websocket-server': '0.1.1', // 0.1.x on yjs 13 (0.1.5 moved to yjs 14)
  '@hocuspocus/server': '4.7.0',
  '@hocuspocus/extension-redis': '4.7.0', // the cluster scenario's peer: Hocuspocus instances relaying through Redis
  yjs: '13.6.33',
  'y-protocols': '1.0.7',
  ws: '8.23.0', // @y/websocket-server imports 'ws' but lists it only as optional (^6); its bin runs on whatever is installed
};

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

// Settings of this project that would otherwise refuse the benchmark's traffic (all connections come from
// 127.0.0.1 and writers may exceed 500 messages/s in the saturation ramp). The peers have no such limits.
export const PROJECT_BENCH_ENV = {
  COLLAB_MAX_CONNECTIONS_PER_IP: '1000000',
  COLLAB_MAX_CONNECTIONS_PER_DOCUMENT: '100000',
  COLLAB_MESSAGES_PER_SECOND: '100000000',
  COLLAB_LOG_LEVEL: 'WARNING',
  COLLAB_WEB_DIR: '/nonexistent',
};

const live = new Set();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => process.exit(130));
process.on('exit', () => {
  for (const p of live) {
    try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

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

// ---- /proc ---------------------------------------------------------------------------------------------------

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Time the process's threads spent runnable but waiting for a CPU (ms, from /proc/<pid>/task/<tid>/schedstat). */
export function runqueueWaitMs(pid) {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
      } catch { /* thread gone */ }
    }
  } catch { return NaN; }
  return ns / 1e6;
}

/**
 * With autogroup scheduling (Linux's default for desktop-like setups, on here) CPU is shared between sessions first and
 * nice values only count inside a session. Each server runs in its own session (detached), so its session's nice is set.
 */
export function setAutogroupNice(pid, nice) {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
    return true;
  } catch {
    return false;
  }
}

/** Resident set size in KiB (VmRSS). */
export function rssKb(pid) {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

export function threads(pid) {
  const m = /Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

// ---- Java -----------------------------------------------------------------------------------------------------


export function findJava() {
  const candidates = [];
  if (process.env.COLLAB_JAVA) candidates.push(process.env.COLLAB_JAVA);
  if (process.env.JAVA_HOME) candidates.push(path.join(process.env.JAVA_HOME, 'bin', 'java'));
  try {
    for (const d of readdirSync('/usr/lib/jvm')) candidates.push(path.join('/usr/lib/jvm', d, 'bin', 'java'));
  } catch { /* none */ }
  let best = null;
  let bestV = 0;
  for (const bin of candidates) {
    if (!existsSync(bin) || !existsSync(path.join(path.dirname(bin), 'javac'))) continue;
    const text = spawnSyncText(bin, ['-version']);
    const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
    if (!m) continue;
    const v = m[1] === '1' ? Number(m[2]) : Number(m[1]);
    if (bin === process.env.COLLAB_JAVA && v >= 21) return { java: bin, version: v };
    if (v >= 21 && v > bestV) { best = bin; bestV = v; }
  }
  if (!best) throw new Error('no JDK >= 21 found (COLLAB_JAVA, JAVA_HOME, /usr/lib/jvm/*)');
  return { java: best, version: bestV };
}

function spawnSyncText(bin, args) {
  const r = spawnSync(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

export function javaVersionText(java) {
  const out = spawnSyncText(java, ['-version']);
  return out.split('\n').filter(Boolean).slice(0, 2).join('; ');
}

// ---- a snapshot of this project's build -----------------------------------------------------------------------
// target/ is shared with whoever else builds in this work tree; a jar replaced under a running JVM breaks its class
// loading. So the benchmark copies the launcher, the jar and its libs once, at start, and runs `collab run --no-build`
// from that copy (the launcher runs target/collab-server.jar beside itself).
export function snapshotProject(log) {
  const dir = mkdtempSync(path.join(tmpdir(), 'collab-bench-build-'));
  mkdirSync(path.join(dir, 'target'));
  const jar = path.join(ROOT, 'target', 'collab-server.jar');
  if (!existsSync(jar)) throw new Error(`${jar} is missing: run ./collab build first`);
  cpSync(path.join(ROOT, 'collab'), path.join(dir, 'collab'));
  // the launcher sources its helpers (packaging/java.sh) from beside itself
  if (existsSync(path.join(ROOT, 'packaging'))) cpSync(path.join(ROOT, 'packaging'), path.join(dir, 'packaging'), { recursive: true });
  cpSync(jar, path.join(dir, 'target', 'collab-server.jar'));
  cpSync(path.join(ROOT, 'target', 'libs'), path.join(dir, 'target', 'libs'), { recursive: true });
  log(`project build copied to ${dir} (jar of ${statSync(jar).mtime.toISOString()})`);
  return { dir, jarTime: statSync(jar).mtime.toISOString(), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---- preparing the peers and the floor -----------------------------------------------------------------------

export function preparePeers(log) {
  let dir = process.env.BENCH_PEERS_DIR;
  let created = false;
  if (!dir) {
    dir = mkdtempSync(path.join(tmpdir(), 'collab-bench-peers-'));
    created = true;
  }
  const haveAll = Object.keys(PEER_PACKAGES).every((n) => existsSync(path.join(dir, 'node_modules', n, 'package.json')));
  if (!haveAll) {
    log(`installing the peers with npm into ${dir}: ${Object.entries(PEER_PACKAGES).map(([n, v]) => `${n}@${v}`).join(' ')}`);
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'collab-bench-peers', private: true, type: 'module' }, null, 2));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--no-package-lock',
      ...Object.entries(PEER_PACKAGES).map(([n, v]) => `${n}@${v}`)], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  writeFileSync(path.join(dir, 'y-websocket-server.mjs'), `// launcher written by ./collab bench: @y/websocket-server's own bin/server.js, on a given host/port
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { setupWSConnection } from '@y/websocket-server/utils';
const port = Number(process.env.PORT);
const wss = new WebSocketServer({ noServer: true });
const server = http.createServer((_req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('okay'); });
wss.on('connection', setupWSConnection);
server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
server.listen(port, '127.0.0.1', () => console.log('y-websocket-server listening on port ' + port));
`);
  writeFileSync(path.join(dir, 'hocuspocus-server.mjs'), `// launcher written by ./collab bench: a Hocuspocus server with its defaults (no extensions, no persistence)
import { Server } from '@hocuspocus/server';
const port = Number(process.env.PORT);
const server = new Server({ port, address: '127.0.0.1', quiet: true });
await server.listen();
console.log('hocuspocus-server listening on port ' + port);
`);
  writeFileSync(path.join(dir, 'hocuspocus-redis-server.mjs'), `// launcher written by ./collab bench: a Hocuspocus server with its Redis extension (defaults otherwise, no persistence)
import { Server } from '@hocuspocus/server';
import { Redis } from '@hocuspocus/extension-redis';
const port = Number(process.env.PORT);
const server = new Server({ port, address: '127.0.0.1', quiet: true,
  extensions: [new Redis({ host: '127.0.0.1', port: Number(process.env.REDIS_PORT), identifier: 'hp-' + port })] });
await server.listen();
console.log('hocuspocus-redis-server listening on port ' + port);
`);
  const versions = {};
  for (const n of Object.keys(PEER_PACKAGES)) {
    versions[n] = JSON.parse(readFileSync(path.join(dir, 'node_modules', n, 'package.json'), 'utf8')).version;
  }
  return { dir, created, versions, cleanup: () => { if (created && !process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true }); } };
}

/** The floor relays on the project's own transport: its jar (with the upgrade provider) and libraries. */
function floorClasspath(build) {
  return `${path.join(build.dir, 'target', 'collab-server.jar')}:${path.join(build.dir, 'target', 'libs', '*')}`;
}

export function prepareFloor(java, build, log) {
  const out = mkdtempSync(path.join(tmpdir(), 'collab-bench-floor-'));
  const javac = path.join(path.dirname(java), 'javac');
  log(`compiling bench/floor/RelayServer.java against the project's jar and target/libs`);
  execFileSync(javac, ['-cp', floorClasspath(build), '-d', out, path.join(BENCH_DIR, 'floor', 'RelayServer.java')],
    { stdio: ['ignore', 'inherit', 'inherit'] });
  return { dir: out, cleanup: () => rmSync(out, { recursive: true, force: true }) };
}

// ---- starting and stopping --------------------------------------------------------------------------------------

/**
 * kind: 'project' | 'y-websocket-server' | 'hocuspocus-server' | 'hocuspocus-redis-server' | 'floor'.
 * Returns { kind, pid, port, base (ws://127.0.0.1:port), paths, stop() }.
 */
export async function startServer(kind, { env = {}, build, peers, floor, java, log, timeoutMs = 60000 } = {}) {
  const port = await freePort();
  let program;
  let args;
  let procEnv = { ...process.env };
  let dataDir = null;
  let ready;
  if (kind === 'project') {
    dataDir = mkdtempSync(path.join(tmpdir(), 'collab-bench-db-'));
    program = path.join(build.dir, 'collab');
    args = ['run', '--no-build'];
    procEnv = { ...procEnv, SERVER_PORT: String(port), SERVER_HOST: '127.0.0.1', COLLAB_DB_PATH: path.join(dataDir, 'collab.db'),
      ...PROJECT_BENCH_ENV, ...env };
    ready = /collab-server listening on port (\d+)/;
  } else if (kind === 'y-websocket-server' || kind === 'hocuspocus-server' || kind === 'hocuspocus-redis-server') {
    program = process.execPath;
    args = [path.join(peers.dir, `${kind}.mjs`)];
    procEnv = { ...procEnv, PORT: String(port), NODE_ENV: 'production', ...env };
    ready = /listening on port (\d+)/;
  } else if (kind === 'floor') {
    program = java;
    // the JVM options ./collab run gives the project's server (handed over by the launcher's bench command)
    const jvm = (process.env.COLLAB_SERVER_JVM_OPTS ?? '').split(/\s+/).filter(Boolean);
    args = [...jvm, '-cp', `${floor.dir}:${floorClasspath(build)}`, 'RelayServer', String(port)];
    ready = /relay listening on port (\d+)/;
  } else {
    throw new Error(`unknown server ${kind}`);
  }
  const child = spawn(program, args, { cwd: ROOT, env: procEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  live.add(child);
  let output = '';
  const onData = (d) => { output = (output + d.toString()).slice(-20000); };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      if (ready.test(output)) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`${kind} exited (${code ?? sig}) before it was ready:\n${output}`)); });
  });
  child.removeAllListeners('exit');
  const pid = child.pid; // `collab run` execs java, so this is the JVM itself
  if (process.env.BENCH_NICE_VALUE) setAutogroupNice(pid, Number(process.env.BENCH_NICE_VALUE));
  const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  return {
    kind,
    pid,
    comm,
    port,
    base: `ws://127.0.0.1:${port}`,
    httpBase: `http://127.0.0.1:${port}`,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        try { process.kill(-pid, 'SIGTERM'); } catch { /* gone */ }
        const t = setTimeout(() => { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }, 10000);
        await exited;
        clearTimeout(t);
      }
      live.delete(child);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** URL of a document for a protocol on a server. */
export function docUrl(server, proto, doc) {
  if (proto === 'yws' || proto === 'raw') return `${server.base}/yjs/${encodeURIComponent(doc)}`;
  if (proto === 'hp') return server.kind === 'project' ? `${server.base}/hocuspocus` : `${server.base}/`;
  throw new Error(proto);
}
