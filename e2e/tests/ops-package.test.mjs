// The release: `./collab package` builds target/collab-server-<version>.tar.gz; unpacked into an empty directory it
// starts with its own start script (a Java 21+ runtime and nothing else: no Maven, no Node, no source tree), serves
// the web pages it carries, and its example systemd unit passes `systemd-analyze verify` when that is available.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { LAUNCHER, REPO_ROOT, startServer } from '../lib/server.mjs';

const work = mkdtempSync(path.join(tmpdir(), 'collab-package-'));
after(() => rmSync(work, { recursive: true, force: true }));

function run(program, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('./collab package: a tarball that unpacks into an empty directory and starts with only a Java runtime', { timeout: 600_000 }, async () => {
  const version = /<artifactId>collab-server<\/artifactId>\s*<version>([^<]+)<\/version>/.exec(readFileSync(path.join(REPO_ROOT, 'pom.xml'), 'utf8'))[1];
  const r = await run(LAUNCHER, ['package'], { cwd: REPO_ROOT });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const tarball = path.join(REPO_ROOT, 'target', `collab-server-${version}.tar.gz`);
  assert.ok(existsSync(tarball), `${tarball} was built`);

  const dest = path.join(work, 'empty');
  execFileSync('mkdir', ['-p', dest]);
  execFileSync('tar', ['-xzf', tarball, '-C', dest]);
  const app = path.join(dest, `collab-server-${version}`);
  for (const f of ['bin/collab-server', 'bin/java.sh', 'lib/collab-server.jar', 'web/index.html', 'web/admin/index.html',
    'systemd/collab-server.service', 'nginx/collab.conf', 'README.md']) {
    assert.ok(existsSync(path.join(app, f)), `the release has ${f}`);
  }
  const libs = readdirSync(path.join(app, 'lib', 'libs'));
  assert.ok(libs.some((f) => f.startsWith('helidon-webserver-')) && libs.some((f) => f.startsWith('sqlite-jdbc-')), 'its libraries');

  // its own start script, JAVA_HOME unset (it finds a Java >= 21 on PATH or under /usr/lib/jvm)
  const env = { PATH: '/usr/bin:/bin', JAVA_HOME: '' };
  const server = await startServer({ command: [path.join(app, 'bin', 'collab-server')], env });
  try {
    assert.equal((await server.health()).status, 200);
    const page = await server.fetch('/');
    assert.equal(page.status, 200, 'the release serves its own web pages');
    assert.match(await page.text(), /<html/i);
  } finally {
    await server.dispose();
  }
});

test('the example systemd unit passes systemd-analyze verify', { timeout: 120_000 }, async (t) => {
  const which = await run('sh', ['-c', 'command -v systemd-analyze']);
  if (which.code !== 0) {
    t.skip('systemd-analyze is not installed');
    return;
  }
  const unit = readFileSync(path.join(REPO_ROOT, 'packaging', 'collab-server.service'), 'utf8');
  // the unit names /opt/collab-server; point it at an executable that exists here so ExecStart can be checked
  const file = path.join(work, 'collab-server.service');
  writeFileSync(file, unit.replace('ExecStart=/opt/collab-server/bin/collab-server', `ExecStart=${path.join(REPO_ROOT, 'packaging', 'collab-server')}`));
  const r = await run('systemd-analyze', ['verify', file]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stderr.trim(), '', `no warnings: ${r.stderr}`);
});
