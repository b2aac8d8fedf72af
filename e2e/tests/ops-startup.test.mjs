// Start-up as an operator meets it: the launcher's arguments and exit statuses, a missing JDK, configuration
// mistakes and an address that cannot be listened on. Every case runs `./collab` as a process and checks its exit
// status and output; failed starts must leave the database untouched.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { LAUNCHER, REPO_ROOT, startServer } from '../lib/server.mjs';

const RUN_TIMEOUT_MS = 60_000;
const work = mkdtempSync(path.join(tmpdir(), 'collab-startup-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the launcher to its exit; resolves { code, stdout, stderr }. */
function launcher(args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(LAUNCHER, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`./collab ${args.join(' ')} still running after ${RUN_TIMEOUT_MS} ms\n${stdout}\n${stderr}`)); }, RUN_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** A database path in a directory that does not exist yet: a start that touches the database creates it. */
function untouchedDb(label) {
  const dir = path.join(work, `db-${label}`);
  return { dir, env: { COLLAB_DB_PATH: path.join(dir, 'collab.db') } };
}

function assertOneErrorLine(r, pattern, what) {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('collab:'));
  assert.equal(lines.length, 1, `${what}: one "collab:" line expected on stderr\n${r.stderr}`);
  assert.match(lines[0], pattern, what);
  assert.doesNotMatch(r.stderr, /\tat |Exception/, `${what}: no stack trace\n${r.stderr}`);
  assert.doesNotMatch(r.stdout, /listening/, `${what}: no "listening" line`);
}

describe('launcher arguments', () => {
  for (const args of [['help'], ['--help'], ['-h'], ['run', '--port', '9000', '--help']]) {
    test(`./collab ${args.join(' ')} prints the usage and exits 0`, async () => {
      const r = await launcher(args);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\.\/collab run \[--no-build\] \[--port N\] \[--db PATH\]/);
      assert.match(r.stdout, /\.\/collab backup FILE/);
    });
  }

  for (const args of [['run', '--no-build', '--bogus'], ['run', '--no-build', 'extra'], ['frobnicate']]) {
    test(`./collab ${args.join(' ')} is refused with the usage (exit 2)`, async () => {
      const r = await launcher(args);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /collab: (run: unknown argument|unknown command)/);
      assert.match(r.stderr, /\.\/collab run \[--no-build\]/);
      assert.doesNotMatch(r.stdout, /listening/);
    });
  }

  test('--port N and --db PATH set SERVER_PORT and COLLAB_DB_PATH', async () => {
    const port = await freePort();
    const db = path.join(work, 'shortcut', 'via-flag.db');
    const server = await startServer({ command: [LAUNCHER, 'run', '--no-build', '--port', String(port), '--db', db] });
    try {
      assert.equal(server.port, port);
      assert.equal((await server.health()).status, 200);
      assert.ok(existsSync(db), `the database was created at ${db}`);
    } finally {
      await server.dispose();
    }
  });
});

describe('launcher without a JDK >= 21', () => {
  // a JDK 17 look-alike as JAVA_HOME and as the only JVM in the search directory
  const jvms = path.join(work, 'jvms');
  const jdk17 = path.join(jvms, 'jdk-17');
  mkdirSync(path.join(jdk17, 'bin'), { recursive: true });
  for (const tool of ['java', 'javac']) {
    writeFileSync(path.join(jdk17, 'bin', tool), '#!/bin/sh\necho \'openjdk version "17.0.9" 2023-10-17\' >&2\n');
    chmodSync(path.join(jdk17, 'bin', tool), 0o755);
  }
  const env = { JAVA_HOME: jdk17, COLLAB_JVM_DIR: jvms };

  for (const args of [['run'], ['run', '--no-build'], ['build'], ['test'], ['bench'], ['backup', path.join(work, 'b.db')], ['package']]) {
    test(`./collab ${args.join(' ')} stops with the hint and a non-zero status`, async () => {
      const r = await launcher(args, env);
      assert.notEqual(r.code, 0, `exit status ${r.code}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /collab: no JDK 21 or newer found/);
      assert.match(r.stderr, /set JAVA_HOME to a JDK >= 21/);
      assert.equal(r.stdout, '', 'nothing ran after the hint');
      assert.doesNotMatch(r.stderr, /UnsupportedClassVersionError|mvn|building/);
    });
  }
});

describe('configuration errors: one line naming the variable, exit 2, nothing opened', () => {
  const cases = [
    ['COLLAB_SQLITE_SYNCHRONOUS', 'bogus', /COLLAB_SQLITE_SYNCHRONOUS .*must be one of NORMAL, FULL.*'BOGUS'/],
    ['COLLAB_LOG_LEVEL', 'verbose', /COLLAB_LOG_LEVEL .*must be one of trace, debug, info, warn, error.*'verbose'/],
    ['SERVER_PORT', '99999', /SERVER_PORT .*0\.\.65535.*'99999'/],
    ['COLLAB_AUTH_SECRET', 'too-short', /COLLAB_AUTH_SECRET .*at least 32 bytes/],
    ['COLLAB_LOG_FORMAT', 'xml', /COLLAB_LOG_FORMAT .*must be one of text, json/],
    ['COLLAB_MAX_MESSAGE_BYTES', 'lots', /COLLAB_MAX_MESSAGE_BYTES .*whole number.*'lots'/],
    ['COLLAB_ALLOWED_ORIGINS', 'https://ok.example, editor.example.com', /COLLAB_ALLOWED_ORIGINS .*must be origins like.*'editor\.example\.com'/],
    ['COLLAB_ALLOWED_ORIGINS', 'https://editor.example.com/app', /COLLAB_ALLOWED_ORIGINS .*no path.*'https:\/\/editor\.example\.com\/app'/],
  ];
  for (const [name, value, pattern] of cases) {
    test(`${name}=${value}`, async () => {
      const db = untouchedDb(name);
      const r = await launcher(['run', '--no-build'], { ...db.env, [name]: value });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assertOneErrorLine(r, pattern, `${name}=${value}`);
      assert.ok(!existsSync(db.dir), 'the database directory was not created');
    });
  }

  test('a database path whose parent is a file', async () => {
    const file = path.join(work, 'plain-file');
    writeFileSync(file, 'not a directory');
    const r = await launcher(['run', '--no-build'], { COLLAB_DB_PATH: path.join(file, 'collab.db') });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assertOneErrorLine(r, /COLLAB_DB_PATH .*plain-file is a file/, 'db under a file');
  });

  for (const level of ['debug', 'WARN', 'Warning', 'error', 'trace', 'INFO']) {
    test(`COLLAB_LOG_LEVEL=${level} is accepted`, async () => {
      const server = await startServer({ env: { COLLAB_LOG_LEVEL: level } });
      await server.dispose();
    });
  }

  test('an unknown COLLAB_* variable is warned about with the closest known name; the launcher\'s own are known', async () => {
    const server = await startServer({ env: { COLLAB_ADMIN_TOKN: 'x', COLLAB_JAVA_OPTS: '-Xss1m' } });
    try {
      assert.match(server.stderr, /unknown environment variable COLLAB_ADMIN_TOKN is ignored; did you mean COLLAB_ADMIN_TOKEN\?/);
      // ./collab itself exports COLLAB_JAVA and the test passes COLLAB_JAVA_OPTS: both are known
      assert.doesNotMatch(server.stderr, /unknown environment variable COLLAB_JAVA/);
    } finally {
      await server.dispose();
    }
  });
});

describe('an address that cannot be listened on', () => {
  test('port in use: one line naming the port and SERVER_PORT, exit non-zero, database untouched', async () => {
    const blocker = net.createServer();
    await new Promise((resolve) => blocker.listen(0, '0.0.0.0', resolve));
    const port = blocker.address().port;
    try {
      const db = untouchedDb('port-in-use');
      const r = await launcher(['run', '--no-build'], { ...db.env, SERVER_PORT: String(port) });
      assert.notEqual(r.code, 0, 'a supervisor must see the failure');
      assertOneErrorLine(r, new RegExp(`^collab: cannot listen on 0\\.0\\.0\\.0:${port} \\(SERVER_PORT\\): address already in use$`), 'port in use');
      assert.ok(!existsSync(db.dir), 'the database was not touched');
    } finally {
      blocker.close();
    }
  });

  test('an address not on this host: names SERVER_HOST', async () => {
    const db = untouchedDb('bad-host');
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to a local interface
    const r = await launcher(['run', '--no-build'], { ...db.env, SERVER_HOST: '192.0.2.1', SERVER_PORT: '8080' });
    assert.notEqual(r.code, 0);
    assertOneErrorLine(r, /^collab: cannot listen on 192\.0\.2\.1:8080 \(SERVER_HOST\): cannot assign requested address$/, 'bad host');
    assert.ok(!existsSync(db.dir), 'the database was not touched');
  });
});

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}
