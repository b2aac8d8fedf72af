#!/usr/bin/env node
// Benchmark (not part of the test suites): how long a NEW stock y-websocket client takes to be synced with a
// document built from 100 000 single-character updates, and how many bytes it receives, before and after the
// server compacted the document's update log.
//
//   cd e2e && node bench/late-join.mjs                 # BENCH_UPDATES=100000 BENCH_JOINERS=5 by default
//   E2E_SERVER_COMMAND=... node bench/late-join.mjs     # against another build (see lib/server.mjs)
//
// Steps: start the server with compaction effectively off; send the updates as fast as possible through one raw
// y-websocket connection; wait until GET /admin/documents reports every one of them stored; then measure
// joiners (a WebsocketProvider on a byte-counting `ws`, from construction to its 'synced' event):
//   warm  = the room is in memory (the first warm joiner after the build also pays the server's merge of the log)
//   cold  = first joiner after a server restart (the room is loaded from SQLite)
// After each warm joiner a raw socket times the server alone: sync step 1 sent -> whole step 2 received.
// Then restart with a small COLLAB_COMPACTION_UPDATES, so loading the room compacts the log into one row, wait
// for the admin API to show 1 row, and measure again (cold after another restart, then warm).
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { startServer } from '../lib/server.mjs';
import { RawYws, adminDoc, untilAsync, until } from '../lib/yjs-clients.mjs';

const UPDATES = Number(process.env.BENCH_UPDATES || 100_000);
const JOINERS = Number(process.env.BENCH_JOINERS || 5);
const DOC = `bench-late-join-${Date.now()}`;
const NO_COMPACTION = { COLLAB_COMPACTION_UPDATES: '100000000', COLLAB_COMPACTION_BYTES: '1000000000000' };
const COMPACTION = { COLLAB_COMPACTION_UPDATES: '500', COLLAB_COMPACTION_BYTES: '4194304' };

process.setMaxListeners(100);
const log = (...a) => console.error('[bench]', ...a);

/** A `ws` WebSocket that counts what it receives (payload bytes and, from the TCP socket, wire bytes). */
class CountingWebSocket extends WebSocket {
  static instances = [];

  constructor(...args) {
    super(...args);
    this.payloadBytes = 0;
    this.messages = 0;
    this.on('message', (data) => { this.payloadBytes += data.byteLength ?? data.length; this.messages++; });
    CountingWebSocket.instances.push(this);
  }

  get wireBytes() { return this._socket?.bytesRead ?? NaN; }
}

async function join(server, label) {
  const doc = new Y.Doc();
  CountingWebSocket.instances = [];
  const t0 = performance.now();
  const provider = new WebsocketProvider(`${server.url}/yjs`, DOC, doc, { WebSocketPolyfill: CountingWebSocket, disableBc: true });
  let opened = null;
  provider.on('status', ({ status }) => { if (status === 'connected' && opened === null) opened = performance.now(); });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: not synced after 120 s`)), 120_000);
    provider.once('synced', () => { clearTimeout(timer); resolve(); });
  });
  const t1 = performance.now();
  const ws = CountingWebSocket.instances[0];
  const result = {
    label,
    ms: t1 - t0,
    openMs: opened - t0,
    payloadBytes: ws.payloadBytes,
    wireBytes: ws.wireBytes,
    messages: ws.messages,
    textLength: doc.getText('text').length,
  };
  provider.destroy();
  doc.destroy();
  if (result.textLength !== UPDATES) throw new Error(`${label}: synced text has ${result.textLength} characters, expected ${UPDATES}`);
  return result;
}

let lastServerState = null;

/** Raw y-websocket socket: time from sending sync step 1 (empty state vector) to receiving the whole step 2. */
async function rawStep2(server) {
  const raw = await RawYws.connect(`${server.url}/yjs/${DOC}`);
  try {
    await until(() => raw.messages.some((m) => m.type === 'step1'), { timeout: 120_000, what: 'the server step 1' });
    const t0 = performance.now();
    raw.sendSyncStep1();
    const step2 = await until(() => raw.messages.find((m) => m.type === 'step2'), { timeout: 120_000, interval: 1, what: 'step 2' });
    const ms = performance.now() - t0;
    lastServerState = step2.payload;
    return ms;
  } finally {
    await raw.terminate();
  }
}

async function joiners(server, label, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = await join(server, `${label} #${i + 1}`);
    r.rawMs = await rawStep2(server);
    out.push(r);
  }
  return out;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function main() {
  const server = await startServer({ env: NO_COMPACTION });
  const rows = [];
  try {
    // --- build ---------------------------------------------------------------------------------
    const builder = await RawYws.connect(`${server.url}/yjs/${DOC}`);
    const src = new Y.Doc();
    const text = src.getText('text');
    const frames = [];
    src.on('update', (u) => frames.push(u));
    const alphabet = 'abcdefghijklmnopqrstuvwxyz ';
    for (let i = 0; i < UPDATES; i++) text.insert(i, alphabet[i % alphabet.length]);
    const updateBytes = frames.reduce((n, u) => n + u.length, 0);
    const tb = performance.now();
    for (const u of frames) builder.sendUpdate(u);
    const stored = await untilAsync(async () => {
      const d = await adminDoc(server, DOC);
      return d && d.updates >= UPDATES ? d : null;
    }, { timeout: 600_000, interval: 250, what: `${UPDATES} stored updates`, detail: async () => JSON.stringify(await adminDoc(server, DOC)) });
    const buildMs = performance.now() - tb;
    const merged = Y.encodeStateAsUpdate(src);
    log(`built ${UPDATES} updates (${updateBytes} bytes) in ${buildMs.toFixed(0)} ms; admin: ${JSON.stringify(stored)}`);

    // --- before compaction -----------------------------------------------------------------------
    const warmBefore = await joiners(server, 'before compaction, warm', JOINERS);
    await builder.terminate();
    await server.restart();
    const coldBefore = await join(server, 'before compaction, cold (after restart)');
    const rowsBefore = (await adminDoc(server, DOC)) ?? stored; // listed only while connected
    rows.push({ scenario: 'before compaction: first joiner after the build (server merges the log)', rows: stored.updates, ...pick(warmBefore[0]) });
    rows.push({ scenario: `before compaction: warm, median of ${JOINERS - 1} more`, rows: stored.updates, ...medianOf(warmBefore.slice(1)) });
    rows.push({ scenario: 'before compaction: cold (first joiner after restart)', rows: rowsBefore.updates, ...pick(coldBefore) });

    // --- compact ---------------------------------------------------------------------------------
    server.extraEnv = { ...server.extraEnv, ...COMPACTION };
    await server.restart();
    const holder = await RawYws.connect(`${server.url}/yjs/${DOC}`);   // loads the room: the log is over the threshold
    const tc = performance.now();
    const compacted = await untilAsync(async () => {
      const d = await adminDoc(server, DOC);
      return d && d.updates === 1 ? d : null;
    }, { timeout: 300_000, interval: 100, what: 'the log to be compacted to one row', detail: async () => JSON.stringify(await adminDoc(server, DOC)) });
    log(`compacted to ${JSON.stringify(compacted)} ${(performance.now() - tc).toFixed(0)} ms after the room was loaded`);
    await holder.terminate();

    // --- after compaction ------------------------------------------------------------------------
    await server.restart();
    const coldAfter = await join(server, 'after compaction, cold (after restart)');
    const holder2 = await RawYws.connect(`${server.url}/yjs/${DOC}`);   // keep the room loaded and listed
    await until(() => holder2.messages.some((m) => m.type === 'step1'), { what: 'the holder to be open' });
    const warmAfter = await joiners(server, 'after compaction, warm', JOINERS);
    const rowsAfter = await adminDoc(server, DOC);
    await holder2.terminate();
    rows.push({ scenario: 'after compaction: cold (first joiner after restart)', rows: rowsAfter.updates, ...pick(coldAfter) });
    rows.push({ scenario: `after compaction: warm, median of ${JOINERS}`, rows: rowsAfter.updates, ...medianOf(warmAfter) });

    // --- report ----------------------------------------------------------------------------------
    console.log(`\nLate join of a y-websocket client to a document built from ${UPDATES.toLocaleString('en')} single-character updates`);
    console.log(`(${updateBytes.toLocaleString('en')} bytes of updates; yjs's own encodeStateAsUpdate of the result: ${merged.length.toLocaleString('en')} bytes; build took ${(buildMs / 1000).toFixed(1)} s)\n`);
    const header = ['scenario', 'stored rows', 'time to synced (ms)', 'ws open (ms)', 'raw step1->step2 (ms)', 'payload bytes received', 'wire bytes received'];
    const table = rows.map((r) => [r.scenario, String(r.rows), r.ms.toFixed(1), r.openMs.toFixed(1), Number.isNaN(r.rawMs) ? '-' : r.rawMs.toFixed(1), r.payloadBytes.toLocaleString('en'), r.wireBytes.toLocaleString('en')]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
    const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
    console.log(line(header));
    console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
    for (const row of table) console.log(line(row));
    console.log('\nall samples (ms):');
    for (const r of [...warmBefore, coldBefore, coldAfter, ...warmAfter]) {
      console.log(`  ${r.label}: ${r.ms.toFixed(1)} ms to synced, ${r.payloadBytes} payload bytes in ${r.messages} messages` +
        (r.rawMs ? `; then a raw step1->step2 took ${r.rawMs.toFixed(1)} ms` : ''));
    }
    console.log(`\nclient side alone (this process): Y.applyUpdate of the server's ${lastServerState.length}-byte step 2 takes ` +
      `${median([1, 2, 3].map(() => applyMs(lastServerState))).toFixed(1)} ms; of yjs's own ${merged.length}-byte encodeStateAsUpdate ` +
      `${median([1, 2, 3].map(() => applyMs(merged))).toFixed(1)} ms (median of 3)`);
  } finally {
    await server.dispose();
  }
}

function applyMs(update) {
  const d = new Y.Doc();
  const t0 = performance.now();
  Y.applyUpdate(d, update);
  const ms = performance.now() - t0;
  d.destroy();
  return ms;
}

function pick(r) {
  return { ms: r.ms, openMs: r.openMs, rawMs: r.rawMs ?? NaN, payloadBytes: r.payloadBytes, wireBytes: r.wireBytes };
}

function medianOf(rs) {
  return { ms: median(rs.map((r) => r.ms)), openMs: median(rs.map((r) => r.openMs)), rawMs: median(rs.map((r) => r.rawMs)), payloadBytes: median(rs.map((r) => r.payloadBytes)), wireBytes: median(rs.map((r) => r.wireBytes)) };
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
