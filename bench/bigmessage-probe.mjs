#!/usr/bin/env node
// One large y-websocket update through a running server, as bench scenario 8 sends it, with the server's CPU split
// by thread for each message (/proc/PID/task/*/stat): node bench/bigmessage-probe.mjs ws://127.0.0.1:PORT/yjs PID [MiB] [n]
import { readdirSync, readFileSync } from 'node:fs';
import WebSocket from 'ws';
import * as Y from 'yjs';

const [url, pid, mib = '8', n = '5'] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const varUint = (v) => { const out = []; while (v > 127) { out.push((v & 127) | 128); v = Math.floor(v / 128); } out.push(v); return out; };
const threads = () => {
  const m = new Map();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim().replace(/\d+/g, 'N');
      const f = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1].split(' ');
      m.set(comm, (m.get(comm) || 0) + Number(f[11]) + Number(f[12]));
    } catch { /* gone */ }
  }
  return m;
};
const open = (u, onMessage) => new Promise((resolve, reject) => {
  const ws = new WebSocket(u);
  ws.binaryType = 'nodebuffer';
  ws.on('open', () => resolve(ws));
  ws.on('error', reject);
  ws.on('message', onMessage);
});
for (let k = 0; k < Number(n); k++) {
  const size = Number(mib) * (1 << 20);
  const doc = new Y.Doc();
  doc.getText('t').insert(0, `${k} `.padEnd(size - 64, 'y'));
  const update = Buffer.from(Y.encodeStateAsUpdate(doc));
  const message = Buffer.concat([Buffer.from([0, 2]), Buffer.from(varUint(update.length)), update]);
  let got;
  const done = new Promise((r) => { got = r; });
  const name = `probe-${mib}-${k}-${Date.now()}`;
  const receiver = await open(`${url}/${name}`, (buf) => { if (buf.length >= update.length) got(); });
  const sender = await open(`${url}/${name}`, () => {});
  await sleep(300);
  const before = threads();
  const t0 = process.hrtime.bigint();
  sender.send(message);
  await done;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const after = threads();
  const diff = [...after].map(([k2, v]) => [k2, (v - (before.get(k2) || 0)) * 10]).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  console.log(`${mib} MiB #${k}: ${ms.toFixed(0)} ms wall, server cpu ${diff.reduce((a, [, v]) => a + v, 0)} ms: ${diff.map(([k2, v]) => `${k2} ${v}`).join(', ')}`);
  sender.close();
  receiver.close();
  await sleep(1500);
}
process.exit(0);
