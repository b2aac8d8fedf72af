// PostgreSQL and Redis for the `cluster` scenario, from Debian's binaries on free loopback ports with their data in
// temporary directories — the approach of e2e/lib/cluster.mjs and packaging/cluster.sh (./collab cluster), reduced to
// start / query / CPU / stop (the bench kills nothing mid-run). As root, PostgreSQL runs as `postgres` (initdb refuses root).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, cpuSeconds } from './servers.mjs';

const IS_ROOT = process.getuid?.() === 0;

function pgBin() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(base, versions[0], 'bin') : null;
}
const PG_BIN = pgBin();
const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p)) ?? null;

export function missingClusterServers() {
  const missing = [];
  if (!PG_BIN) missing.push('PostgreSQL (apt-get install postgresql)');
  if (!REDIS_SERVER) missing.push('Redis (apt-get install redis-server)');
  return missing.length ? `not installed: ${missing.join(', ')}` : null;
}

const cleanups = new Set();
process.on('exit', () => { for (const f of [...cleanups]) { try { f(); } catch { /* best effort */ } } });

const asPostgres = (cmd, args) => (IS_ROOT ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** PostgreSQL with a database `collab` (user collab, trust auth on loopback). */
export async function startPostgres() {
  const dir = mkdtempSync(path.join(tmpdir(), 'collab-bench-pg-'));
  chmodSync(dir, 0o755);
  if (IS_ROOT) {
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  }
  const data = path.join(dir, 'data');
  const port = await freePort();
  const pgCtl = (...a) => { const [c, args] = asPostgres(path.join(PG_BIN, 'pg_ctl'), ['-D', data, ...a]); execFileSync(c, args, { stdio: 'ignore', timeout: 60_000 }); };
  const stopSync = () => { try { pgCtl('-m', 'immediate', '-w', 'stop'); } catch { /* not running */ } rmSync(dir, { recursive: true, force: true }); };
  cleanups.add(stopSync);
  const [c, a] = asPostgres(path.join(PG_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'collab', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  execFileSync(c, a, { stdio: 'ignore', timeout: 120_000 });
  // durable commits (fsync and synchronous_commit as shipped) unless BENCH_PG_FSYNC=off (a diagnostic: what the
  // disk's flushes cost in latency)
  const fsync = process.env.BENCH_PG_FSYNC === 'off' ? ' -c fsync=off -c synchronous_commit=off' : '';
  pgCtl('-l', path.join(dir, 'postgres.log'), '-w', '-t', '60', 'start', '-o',
    `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c max_connections=200${fsync}`);
  const query = (sql) => execFileSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'collab', '-d', 'collab', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql],
    { timeout: 60_000 }).toString().trim();
  execFileSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'collab', '-d', 'postgres', '-c', 'CREATE DATABASE collab'], { stdio: 'ignore' });
  const postmaster = () => Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    port,
    jdbcUrl: `jdbc:postgresql://127.0.0.1:${port}/collab`,
    query,
    /** CPU seconds of the postmaster and every backend (its children) */
    cpuSeconds() {
      const pm = postmaster();
      let s = cpuSeconds(pm);
      try {
        for (const pid of readFileSync(`/proc/${pm}/task/${pm}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
          try { s += cpuSeconds(Number(pid)); } catch { /* gone */ }
        }
      } catch { /* no children file */ }
      return s;
    },
    stop() { stopSync(); cleanups.delete(stopSync); },
  };
}

export async function startRedis() {
  const dir = mkdtempSync(path.join(tmpdir(), 'collab-bench-redis-'));
  const port = await freePort();
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output = (output + d).slice(-4000); });
  child.stderr.on('data', (d) => { output = (output + d).slice(-4000); });
  const stopSync = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } rmSync(dir, { recursive: true, force: true }); };
  cleanups.add(stopSync);
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start on ${port}: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, url: `redis://127.0.0.1:${port}`, pid: child.pid, stop() { stopSync(); cleanups.delete(stopSync); } };
}
