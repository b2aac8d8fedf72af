// `./collab cluster` as a person uses it: it starts PostgreSQL, Redis, the nodes and nginx, prints the addresses and
// `collab cluster ready: wss://…`; the stock clients sync through it; a node killed with kill -9 is reported while
// the rest carries on (its documents are served by the other node); SIGTERM (what Ctrl-C does to it) stops every
// part and removes the temporary directory.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { missingServers, until } from '../lib/cluster.mjs';
import { ensureNginx, freePort, request, webSocketTrusting } from '../lib/nginx-proxy.mjs';
import { LAUNCHER, REPO_ROOT } from '../lib/server.mjs';

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe('./collab cluster', () => {
  test('starts PostgreSQL, Redis, two nodes and nginx; clients sync through it; a killed node is survived; SIGTERM stops everything', { timeout: 240_000 }, async (t) => {
    const reason = missingServers();
    const nginx = await ensureNginx();
    if (reason || !nginx.available) { t.skip(reason ?? nginx.reason); return; }
    const port = await freePort();
    const child = spawn(LAUNCHER, ['cluster', '--nodes', '2', '--listen', String(port)], {
      cwd: REPO_ROOT, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    let postmaster = null; // PostgreSQL leaves the launcher's process group: killed by itself should the test fail
    t.after(() => {
      for (const kill of [() => process.kill(-child.pid, 'SIGKILL'), () => postmaster && process.kill(postmaster, 'SIGKILL')]) {
        try { kill(); } catch { /* stopped */ }
      }
    });

    await until(() => /collab cluster ready: wss:\/\//.test(out), { timeout: 180_000, interval: 100,
      what: '"collab cluster ready"', detail: () => `${out}\n${err}` });
    const url = /collab cluster ready: (wss:\S+)/.exec(out)[1];
    assert.equal(url, `wss://127.0.0.1:${port}`, 'a bare --listen port is on loopback');
    const dir = /data and logs in (\S+);/.exec(err)[1];
    const ca = readFileSync(/certificate (\S+) /.exec(err)[1]);
    const nodes = [...err.matchAll(/node-(\d)\s+http:\/\/127\.0\.0\.1:(\d+) \(pid (\d+)/g)].map((m) => ({ id: `node-${m[1]}`, port: Number(m[2]), pid: Number(m[3]) }));
    assert.equal(nodes.length, 2, err);
    postmaster = Number(readFileSync(`${dir}/pg/data/postmaster.pid`, 'utf8').split('\n')[0]);
    assert.match(err, /PostgreSQL \d+\.\d+ on 127\.0\.0\.1:\d+/);
    assert.match(err, /Redis \d+\.\d+\.\d+ on 127\.0\.0\.1:\d+/);

    const health = (await request(`https://127.0.0.1:${port}/health`, { ca })).body;
    assert.equal(health.status, 'UP');
    assert.match(health.node, /^node-[12]$/);

    const Tls = webSocketTrusting(ca);
    const clients = [];
    const client = (id) => {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(`${url}/yjs`, id, doc, { WebSocketPolyfill: Tls, disableBc: true });
      clients.push(provider);
      return { doc, provider };
    };
    // the provider's destroy leaves its Y.Doc's awareness timer running, which keeps this test file's process
    // alive after its test ends (the runner then waits for good): destroy the documents too
    const destroyAll = () => clients.forEach((p) => { p.destroy(); p.doc.destroy(); });
    t.after(destroyAll);
    const a = client('launcher-doc');
    const b = client('launcher-doc');
    a.doc.getText('t').insert(0, 'hello through ./collab cluster');
    await until(() => b.doc.getText('t').toString() === 'hello through ./collab cluster', { timeout: 15_000, what: 'the second client to get the edit' });

    // kill -9 of one node: reported, the cluster carries on, a new client of the document is served by the other
    process.kill(nodes[0].pid, 'SIGKILL');
    await until(() => err.includes(`node-1 (pid ${nodes[0].pid}) exited; the others carry on`), { timeout: 15_000, what: 'the launcher to report the dead node' });
    const c = client('launcher-doc');
    await until(() => c.doc.getText('t').toString() === 'hello through ./collab cluster', { timeout: 20_000, what: 'a new client served after the kill' });

    destroyAll();
    process.kill(child.pid, 'SIGTERM');
    const { code } = await exited;
    assert.equal(code, 143, `exit status after SIGTERM\n${err.slice(-2000)}`);
    assert.match(err, /collab cluster: stopped/);
    assert.ok(!existsSync(dir), 'the temporary directory is removed');
    assert.ok(!alive(nodes[1].pid), 'the surviving node is stopped (the launcher waits for it)');
    // pg_ctl stop -w returns once the pid file is gone; the postmaster exits a moment later
    await until(() => !alive(postmaster), { timeout: 10_000, what: 'PostgreSQL to be stopped' });
  });
});
