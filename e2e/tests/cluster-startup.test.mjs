// A node told to use PostgreSQL (COLLAB_STORE=postgres) or Redis (COLLAB_BUS=redis) that cannot reach it at
// start-up refuses to start, in the start-up error style of ops-startup: one `collab:` line naming the service,
// its address and the variable, a non-zero exit, no stack trace, and nothing opened (Redis is checked before the
// database is migrated). The reachable-PostgreSQL cases use a real one (Debian's, started here on loopback).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { missingServers, startPostgres } from '../lib/cluster.mjs';
import { freePort } from '../lib/nginx-proxy.mjs';
import { runLauncher } from '../lib/server.mjs';

const work = mkdtempSync(path.join(tmpdir(), 'collab-cluster-startup-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** `./collab run --no-build` to its exit, with a database path whose directory a start would create. */
function run(label, env) {
  const dbDir = path.join(work, label);
  return runLauncher(['run', '--no-build'], { SERVER_PORT: '0', COLLAB_DB_PATH: path.join(dbDir, 'collab.db'), ...env },
    { timeoutMs: 60_000 }).then((r) => ({ ...r, dbDirCreated: existsSync(dbDir) }));
}

function assertRefused(r, pattern, what) {
  assert.notEqual(r.code, 0, `${what}: a supervisor must see the failure\n${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('collab:'));
  assert.equal(lines.length, 1, `${what}: one "collab:" line expected on stderr\n${r.stderr}`);
  assert.match(lines[0], pattern, what);
  assert.doesNotMatch(r.stderr, /\tat |Exception/, `${what}: no stack trace\n${r.stderr}`);
  assert.doesNotMatch(r.stdout, /listening/, `${what}: never listened`);
  assert.equal(r.dbDirCreated, false, `${what}: the SQLite path was not touched`);
}

describe('a node refuses to start without the PostgreSQL or Redis it was told to use', () => {
  let pg;
  let skipReason = null;
  before(async () => {
    skipReason = missingServers();
    if (!skipReason) pg = await startPostgres();
  }, { timeout: 120_000 });
  after(async () => { await pg?.stop(); });

  test('PostgreSQL unreachable: names it, its URL and COLLAB_POSTGRES_URL', async () => {
    const port = await freePort();
    const url = `jdbc:postgresql://127.0.0.1:${port}/collab`;
    const r = await run('pg-down', { COLLAB_STORE: 'postgres', COLLAB_POSTGRES_URL: url });
    assertRefused(r, new RegExp(`^collab: cannot reach PostgreSQL at ${url.replace(/[.]/g, '\\.')} \\(COLLAB_POSTGRES_URL\\): connection refused$`), 'PostgreSQL down');
  });

  test('Redis unreachable: names it, its URL and COLLAB_REDIS_URL; the database is not migrated', async (t) => {
    if (skipReason) { t.skip(skipReason); return; }
    await pg.createDatabase('redis_down');
    const port = await freePort();
    const r = await run('redis-down', {
      COLLAB_STORE: 'postgres', COLLAB_POSTGRES_URL: pg.jdbcUrl('redis_down'), COLLAB_POSTGRES_USER: 'collab',
      COLLAB_BUS: 'redis', COLLAB_REDIS_URL: `redis://127.0.0.1:${port}`,
    });
    assertRefused(r, new RegExp(`^collab: cannot reach Redis at redis://127\\.0\\.0\\.1:${port} \\(COLLAB_REDIS_URL\\): connection refused$`), 'Redis down');
    const tables = await pg.query('redis_down', "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'");
    assert.equal(tables[0][0], '0', 'no table created: the node stopped before migrating');
  });

  test('PostgreSQL reachable but the database does not exist: says so', async (t) => {
    if (skipReason) { t.skip(skipReason); return; }
    const url = pg.jdbcUrl('no_such_db');
    const r = await run('pg-no-db', { COLLAB_STORE: 'postgres', COLLAB_POSTGRES_URL: url, COLLAB_POSTGRES_USER: 'collab' });
    assertRefused(r, /^collab: cannot reach PostgreSQL at jdbc:postgresql:\/\/127\.0\.0\.1:\d+\/no_such_db \(COLLAB_POSTGRES_URL\): database "no_such_db" does not exist$/, 'no database');
  });

  test('COLLAB_STORE and COLLAB_BUS mistakes are configuration errors (exit 2)', async () => {
    for (const [env, pattern] of [
      [{ COLLAB_STORE: 'mysql' }, /^collab: collab\.store \(COLLAB_STORE\) must be sqlite or postgres, got 'mysql'$/],
      [{ COLLAB_BUS: 'redis' }, /^collab: COLLAB_BUS=redis needs COLLAB_STORE=postgres/],
    ]) {
      const r = await run(`config-${Object.values(env)[0]}`, env);
      assertRefused(r, pattern, JSON.stringify(env));
      assert.equal(r.code, 2, JSON.stringify(env));
    }
  });
});
