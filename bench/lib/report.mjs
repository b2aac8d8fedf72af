// Writes docs/benchmarks.md and docs/bench/*.png from a results object (bench/results/latest.json).
// The hand-written analysis (profiling findings) lives in bench/analysis.md and is included verbatim.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { barChart, percentileChart } from './png.mjs';

const f = (v, d = 1) => (v == null || Number.isNaN(v) ? '–' : Number(v).toFixed(d));
const int = (v) => (v == null || Number.isNaN(v) ? '–' : Math.round(v).toLocaleString('en-US'));
const ratio = (a, b) => (a == null || b == null || !b ? '–' : `${(a / b).toFixed(2)}×`);
const byTarget = (rows, name) => rows?.find((r) => r.target === name);

const PAIRS = [
  ['collab/y-websocket', 'y-websocket-server'],
  ['collab/hocuspocus', 'hocuspocus-server'],
  ['collab/y-websocket', 'floor'],
];

export function evaluateTargets(r) {
  const out = [];
  for (const key of ['fanout', 'hotroom']) {
    const rows = r[key]?.rows;
    const a = byTarget(rows, 'collab/y-websocket');
    const b = byTarget(rows, 'y-websocket-server');
    if (!a || !b) continue;
    const cpuOk = a.cpuUsPerMsg <= 0.5 * b.cpuUsPerMsg;
    const p99Ok = a.p99 <= b.p99;
    const lossOk = a.loss === 0 && a.dups === 0;
    out.push({
      target: `${key === 'fanout' ? '1 fan-out' : '2 hot room'}: CPU per delivered update ≤ 0.5 × y-websocket-server, p99 no worse, zero loss`,
      measured: `CPU ${f(a.cpuUsPerMsg, 2)} vs ${f(b.cpuUsPerMsg, 2)} µs/msg = ${ratio(a.cpuUsPerMsg, b.cpuUsPerMsg)} (${cpuOk ? 'ok' : 'missed'}); p99 ${f(a.p99, 2)} vs ${f(b.p99, 2)} ms (${p99Ok ? 'ok' : 'missed'}); loss ${a.loss} (${lossOk ? 'ok' : 'missed'})`,
      met: cpuOk && p99Ok && lossOk,
    });
  }
  const sa = byTarget(r.saturation?.rows, 'collab/y-websocket');
  const sb = byTarget(r.saturation?.rows, 'y-websocket-server');
  if (sa && sb) {
    const a = sa.best?.offeredUpdatesPerS ?? 0;
    const b = sb.best?.offeredUpdatesPerS ?? 0;
    out.push({
      target: '3 saturation: clean rate ≥ 2 × y-websocket-server',
      measured: `${int(a)} vs ${int(b)} updates/s offered = ${ratio(a, b)}`,
      met: b > 0 && a >= 2 * b,
    });
  }
  const lj = r.latejoin?.rows?.find((x) => x.label.startsWith('collab, compaction'));
  if (lj) {
    const worst = Math.max(lj.warm.medianMs, lj.cold?.medianMs ?? 0);
    out.push({
      target: '4 late join ≤ 100 ms after compaction',
      measured: `room in memory ${f(lj.warm.medianMs)} ms, room loaded from SQLite ${f(lj.cold?.medianMs)} ms (medians)`,
      met: worst <= 100,
    });
  }
  out.push(...largeTargets(r));
  const ia = byTarget(r.idle?.rows, 'collab/y-websocket');
  const ib = byTarget(r.idle?.rows, 'y-websocket-server');
  if (ia && ib) {
    out.push({
      target: '5 idle memory per connection ≤ y-websocket-server',
      measured: `${f(ia.kbPerConnection)} vs ${f(ib.kbPerConnection)} KiB = ${ratio(ia.kbPerConnection, ib.kbPerConnection)}`,
      met: ia.kbPerConnection <= ib.kbPerConnection,
    });
    out.push({
      target: '5 idle CPU for the silent connections ≤ 2 × y-websocket-server',
      measured: `${f(ia.idleCpuPct)} vs ${f(ib.idleCpuPct)} % of a core = ${ratio(ia.idleCpuPct, ib.idleCpuPct)}`,
      met: ia.idleCpuPct <= 2 * ib.idleCpuPct,
    });
  }
  out.push(...stormTargets(r), ...bigMessageTargets(r));
  return out;
}

/** Scenario 7's target: every client synced, time and server CPU ≤ 0.5 × y-websocket-server's, none refused. */
export function stormTargets(r) {
  const a = byTarget(r.storm?.rows, 'collab/y-websocket');
  const b = byTarget(r.storm?.rows, 'y-websocket-server');
  if (!a || !b) return [];
  const all = a.synced === a.clients && !a.refused && !a.closedBeforeSync;
  return [{
    target: `7 storm: ${int(a.clients)} clients on ${a.docs} × ${a.docKiB} KiB documents, time to all synced and server CPU ≤ 0.5 × y-websocket-server, none refused or dropped`,
    measured: `${int(a.synced)}/${int(a.clients)} synced by ${f(a.allSyncedS, 2)} vs ${f(b.allSyncedS, 2)} s = ${ratio(a.allSyncedS, b.allSyncedS)}; CPU ${f(a.serverCpuS, 2)} vs ${f(b.serverCpuS, 2)} s = ${ratio(a.serverCpuS, b.serverCpuS)}; ${a.refused} refused, ${a.closedBeforeSync} closed before sync`,
    met: all && a.allSyncedS <= 0.5 * b.allSyncedS && a.serverCpuS <= 0.5 * b.serverCpuS,
  }];
}

/** Scenario 8's targets: server CPU for one message, absolute (medians of 5). */
export function bigMessageTargets(r) {
  const a = byTarget(r.bigmessage?.rows, 'collab/y-websocket');
  if (!a) return [];
  const b = byTarget(r.bigmessage?.rows, 'y-websocket-server');
  const peer = (k) => (b ? ` (y-websocket-server ${f(b[k], 0)} ms)` : '');
  return [{
    target: '8 one message: ≤ 50 ms of server CPU for 8 MiB, ≤ 10 ms for 1 MiB (received, committed, relayed)',
    measured: `8 MiB ${f(a.cpuMs8MiB, 0)} ms${peer('cpuMs8MiB')}, 1 MiB ${f(a.cpuMs1MiB, 0)} ms${peer('cpuMs1MiB')}`,
    met: a.cpuMs8MiB <= 50 && a.cpuMs1MiB <= 10,
  }];
}

function stormTable(sc) {
  const lines = [
    '| target | clients synced | refused | closed before sync | all synced s | p50 synced s | server CPU s | RSS growth MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const x of sc.rows) {
    lines.push(`| ${x.target} | ${int(x.synced)} / ${int(x.clients)} | ${x.refused} | ${x.closedBeforeSync} | ${f(x.allSyncedS, 2)} | ${f(x.p50SyncS, 2)} | ${f(x.serverCpuS, 2)} | ${f(x.rssGrowthMb, 0)} |`);
  }
  const a = byTarget(sc.rows, 'collab/y-websocket');
  const b = byTarget(sc.rows, 'y-websocket-server');
  if (a && b) {
    lines.push('', '| ratio (project ÷ peer) | all synced | server CPU | RSS growth |', '|---|---:|---:|---:|',
      `| collab/y-websocket ÷ y-websocket-server | ${ratio(a.allSyncedS, b.allSyncedS)} | ${ratio(a.serverCpuS, b.serverCpuS)} | ${ratio(a.rssGrowthMb, b.rssGrowthMb)} |`);
  }
  return lines.join('\n');
}

function bigMessageTable(sc) {
  const all = (v) => (v ? v.map((x) => f(x, 0)).join(', ') : '–');
  const lines = [
    '| target | 1 MiB: median ms (all) | 8 MiB: median ms (all) |',
    '|---|---:|---:|',
  ];
  for (const x of sc.rows) {
    lines.push(`| ${x.target} | ${f(x.cpuMs1MiB, 0)} (${all(x.cpuMs1MiBAll)}) | ${f(x.cpuMs8MiB, 0)} (${all(x.cpuMs8MiBAll)}) |`);
  }
  const a = byTarget(sc.rows, 'collab/y-websocket');
  lines.push('', '| ratio (project ÷ peer) | 1 MiB | 8 MiB |', '|---|---:|---:|');
  for (const peer of ['y-websocket-server', 'floor']) {
    const b = byTarget(sc.rows, peer);
    if (a && b) lines.push(`| collab/y-websocket ÷ ${peer} | ${ratio(a.cpuMs1MiB, b.cpuMs1MiB)} | ${ratio(a.cpuMs8MiB, b.cpuMs8MiB)} |`);
  }
  return lines.join('\n');
}

/** Scenario 9's targets, judged against y-websocket-server in the same run. */
export function largeTargets(r) {
  const a = byTarget(r.large?.rows, 'collab/y-websocket');
  const b = byTarget(r.large?.rows, 'y-websocket-server');
  if (!a || !b || a.failed || b.failed) return [];
  const joins = [a.joinMemory?.medianMs, a.joinRestart?.firstMs].filter((v) => v != null);
  const growthA = Math.max(a.rssGrowth5sMb, 0);
  const growthB = Math.max(b.rssGrowth5sMb, 0);
  return [
    { target: '9 large document: probe delivery p99 during the paste ≤ 100 ms', measured: `${f(a.probeDelivery.p99)} ms (y-websocket-server ${f(b.probeDelivery.p99)} ms)`, met: a.probeDelivery.p99 <= 100 && !a.probeLost },
    { target: '9 large document: server CPU for the paste ≤ 0.5 × y-websocket-server', measured: `${f(a.cpuS, 2)} vs ${f(b.cpuS, 2)} s = ${ratio(a.cpuS, b.cpuS)}`, met: a.cpuS <= 0.5 * b.cpuS },
    { target: '9 large document: RSS growth 5 s after the paste ≤ 2 × y-websocket-server', measured: `${f(a.rssGrowth5sMb, 0)} vs ${f(b.rssGrowth5sMb, 0)} MB = ${ratio(growthA, growthB)}`, met: growthA <= 2 * growthB },
    { target: '9 large document: reader complete no later than y-websocket-server; late join ≤ 1 s (memory and after a restart)', measured: `reader ${f(a.readerCompleteS, 2)} vs ${f(b.readerCompleteS, 2)} s; join from memory ${f(a.joinMemory?.medianMs, 0)} ms, after a restart ${f(a.joinRestart?.firstMs, 0)} ms`, met: a.readerCompleteS <= b.readerCompleteS && joins.length === 2 && Math.max(...joins) <= 1000 },
  ];
}

/** Scenario 9's table: one row per server. */
export function largeTable(sc) {
  const lines = [
    '| server | reader has everything: s from the first paste (after the last) | server CPU s | RSS MB before → after → 5 s after | probes: sync p50 / p99 / max ms | probes: delivery p50 / p99 / max ms | late join from memory: median ms (bytes) | late join after a restart: first / median ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const x of sc.rows) {
    if (x.failed) {
      lines.push(`| ${x.target} | failed: ${x.failed.replaceAll('|', '/')} | – | – | – | – | – | – |`);
      continue;
    }
    const lost = x.probeLost ? `, ${x.probeLost} lost` : '';
    const errs = x.probeErrors?.length ? `, ${x.probeErrors.length} failed` : '';
    lines.push(`| ${x.target} | ${f(x.readerCompleteS, 2)} (${f(x.readerAfterLastSendS, 2)}) | ${f(x.cpuS, 2)} | ${f(x.rssBeforeMb, 0)} → ${f(x.rssAfterMb, 0)} → ${f(x.rss5sMb, 0)} | ${f(x.probeSync.p50)} / ${f(x.probeSync.p99)} / ${f(x.probeSync.max)} (${x.probes}${errs}) | ${f(x.probeDelivery.p50)} / ${f(x.probeDelivery.p99)} / ${f(x.probeDelivery.max)}${lost} | ${f(x.joinMemory?.medianMs, 0)} (${int(x.joinMemory?.bytes)}) | ${x.joinRestart ? `${f(x.joinRestart.firstMs, 0)} / ${f(x.joinRestart.medianMs, 0)}` : 'n/a (keeps nothing across a restart)'} |`);
  }
  return lines.join('\n');
}

/** Scenario 9's section of docs/benchmarks.md. */
export function largeSection(r) {
  const sc = r.large;
  return `## 9. Large document — ${sc.pastes} pastes × ${sc.pasteBytes / 1024} KiB (${f(sc.pastes * sc.pasteBytes / 2 ** 20, 0)} MiB) into one document

One writer sends ${sc.pastes} Yjs updates, each appending ${sc.pasteBytes / 1024} KiB to a \`Y.Text\`, as fast as its socket takes them,
while one reader takes what it receives until it has the whole text (it reads the writer's clock from each update
with yjs's \`parseUpdateMeta\`: applying appended pastes to a \`Y.Doc\` costs the client more than any server). Meanwhile a probe opens a pair
of clients on a fresh small document every 500 ms and times their sync (socket to sync step 2) and the delivery of one
edit from the first to the second. Server CPU is counted from the first paste until the reader is complete, RSS before
the paste, when the reader is complete and 5 s later. Then a late joiner syncs the ${f(sc.pastes * sc.pasteBytes / 2 ** 20, 0)} MiB document three times
(from memory, the reader and writer still connected) and, for collab-server, three times after a restart on the same
database (the first loads it from SQLite).

${largeTable(sc)}
`;
}

function roomsTable(sc) {
  const rows = sc.rows;
  const lines = [
    '| target | delivered msg/s | p50 ms | p99 ms | max ms | loss | dup | server CPU µs / delivered msg | server CPU s | RSS MB | generator max lag ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const x of rows) {
    lines.push(`| ${x.target} | ${int(x.deliveredPerS)} | ${f(x.p50, 2)} | ${f(x.p99, 2)} | ${f(x.max, 1)} | ${x.loss} | ${x.dups} | ${f(x.cpuUsPerMsg, 2)} | ${f(x.cpuS, 2)} | ${f(x.rssMb, 0)} | ${f(x.generatorMaxLagMs, 1)} |`);
  }
  lines.push('', '| ratio (project ÷ peer) | CPU per msg | p50 | p99 | max | RSS |', '|---|---:|---:|---:|---:|---:|');
  for (const [a, b] of PAIRS) {
    const x = byTarget(rows, a);
    const y = byTarget(rows, b);
    if (!x || !y) continue;
    lines.push(`| ${a} ÷ ${b} | ${ratio(x.cpuUsPerMsg, y.cpuUsPerMsg)} | ${ratio(x.p50, y.p50)} | ${ratio(x.p99, y.p99)} | ${ratio(x.max, y.max)} | ${ratio(x.rssMb, y.rssMb)} |`);
  }
  return lines.join('\n');
}

function saturationTable(sc) {
  const lines = [
    '| target | highest clean offered updates/s | delivered msg/s there | p99 ms there | CPU µs/msg there | server CPU there (cores) | first step that was not clean |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const t of sc.rows) {
    const b = t.best;
    const dirty = t.steps.find((s) => !s.clean);
    const why = dirty
      ? `${int(dirty.offeredUpdatesPerS)}/s: p99 ${f(dirty.p99, 1)} ms, loss ${dirty.loss}${dirty.unexpectedCloses ? `, ${dirty.unexpectedCloses} closes` : ''}, server ${f(dirty.cpuS / sc.shape.stepS, 2)} cores`
      : 'none (ladder exhausted)';
    lines.push(`| ${t.target} | ${b ? int(b.offeredUpdatesPerS) : 'none'} | ${b ? int(b.deliveredPerS) : '–'} | ${b ? f(b.p99, 2) : '–'} | ${b ? f(b.cpuUsPerMsg, 2) : '–'} | ${b ? f(b.cpuS / sc.shape.stepS, 2) : '–'} | ${why} |`);
  }
  lines.push('', '| ratio (project ÷ peer) | highest clean rate | CPU per msg at own highest clean rate |', '|---|---:|---:|');
  for (const [a, b] of PAIRS) {
    const x = byTarget(sc.rows, a);
    const y = byTarget(sc.rows, b);
    if (!x || !y) continue;
    lines.push(`| ${a} ÷ ${b} | ${ratio(x.best?.offeredUpdatesPerS, y.best?.offeredUpdatesPerS)} | ${ratio(x.best?.cpuUsPerMsg, y.best?.cpuUsPerMsg)} |`);
  }
  lines.push('', '<details><summary>every step</summary>', '', '| target | offered updates/s | delivered msg/s | p50 ms | p99 ms | max ms | loss | server cores | CPU µs/msg | clean |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const t of sc.rows) {
    for (const s of t.steps) {
      lines.push(`| ${t.target} | ${int(s.offeredUpdatesPerS)} | ${int(s.deliveredPerS)} | ${f(s.p50, 2)} | ${f(s.p99, 2)} | ${f(s.max, 1)} | ${s.loss} | ${f(s.cpuS / sc.shape.stepS, 2)} | ${f(s.cpuUsPerMsg, 2)} | ${s.clean ? 'yes' : 'no'} |`);
    }
  }
  lines.push('', '</details>');
  return lines.join('\n');
}

function lateJoinTable(sc) {
  const lines = [
    '| server | load 100k updates: s (server CPU s) | join, room in memory: median ms (min–max) | bytes to the joiner | join through the other protocol: median ms | join, room loaded from SQLite: median ms (min–max) | bytes |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const x of sc.rows) {
    if (x.failed) {
      lines.push(`| ${x.label} | failed: ${x.failed.replaceAll('|', '/')} | – | – | – | – | – |`);
      continue;
    }
    lines.push(`| ${x.label} | ${f(x.loadS)} (${f(x.loadCpuS)}) | ${f(x.warm.medianMs)} (${f(x.warm.minMs)}–${f(x.warm.maxMs)}) | ${int(x.warm.bytes)} | ${x.warmOtherProtocol ? `${f(x.warmOtherProtocol.medianMs)} (${x.warmOtherProtocol.proto === 'hp' ? 'Hocuspocus' : 'y-websocket'})` : '–'} | ${x.cold ? `${f(x.cold.medianMs)} (${f(x.cold.minMs)}–${f(x.cold.maxMs)})` : 'n/a (keeps nothing once empty)'} | ${x.cold ? int(x.cold.bytes) : '–'} |`);
  }
  const a = sc.rows.find((x) => x.label.startsWith('collab, compaction'));
  const lines2 = ['', '| ratio (project with compaction ÷ peer) | join, room in memory | bytes |', '|---|---:|---:|'];
  for (const peer of ['y-websocket-server', 'hocuspocus-server']) {
    const b = sc.rows.find((x) => x.label === peer && !x.failed);
    if (a && b) lines2.push(`| collab ÷ ${peer} | ${ratio(a.warm.medianMs, b.warm.medianMs)} | ${ratio(a.warm.bytes, b.warm.bytes)} |`);
  }
  return lines.join('\n') + '\n' + lines2.join('\n');
}

function idleTable(sc) {
  const lines = [
    '| target | connections | RSS before → after MB | KiB per connection | server CPU while idle | threads before → after | connect time s |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const x of sc.rows) {
    lines.push(`| ${x.target} | ${int(x.connections)} (${x.stillOpen} still open) | ${f(x.rssBeforeMb, 0)} → ${f(x.rssAfterMb, 0)} | ${f(x.kbPerConnection, 1)} | ${f(x.idleCpuPct, 1)} % | ${x.threadsBefore} → ${x.threadsAfter} | ${f(x.connectS, 1)} |`);
  }
  lines.push('', '| ratio (project ÷ peer) | memory per connection |', '|---|---:|');
  for (const [a, b] of PAIRS) {
    const x = byTarget(sc.rows, a);
    const y = byTarget(sc.rows, b);
    if (x && y) lines.push(`| ${a} ÷ ${b} | ${ratio(x.kbPerConnection, y.kbPerConnection)} |`);
  }
  return lines.join('\n');
}

function stepsTable(sc) {
  const x = sc.rows[0];
  return [
    '| server | editors | steps committed/s | submissions/s | conflicts/s | submit → own steps echoed: p50 / p99 / max ms | server CPU µs per committed step | server CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    `| ${x.target} | ${x.editors} | ${int(x.committedPerS)} | ${int(x.submittedPerS)} | ${int(x.conflictsPerS)} | ${f(x.commitLatency.p50, 2)} / ${f(x.commitLatency.p99, 2)} / ${f(x.commitLatency.max, 1)} | ${f(x.cpuUsPerCommit, 1)} | ${f(x.cpuPct, 0)} % |`,
  ].join('\n');
}

function charts(r, dir) {
  mkdirSync(dir, { recursive: true });
  const written = [];
  const put = (name, png) => {
    const file = path.join(dir, name);
    writeFileSync(file, png);
    written.push(file);
  };
  const names = ['collab/y-websocket', 'y-websocket-server', 'collab/hocuspocus', 'hocuspocus-server', 'floor'];
  for (const [key, title] of [['fanout', '1 FAN-OUT: 20 ROOMS X 10 CLIENTS, 40 WRITERS X 20/S'], ['hotroom', '2 HOT ROOM: 100 CLIENTS, 5 WRITERS X 50/S']]) {
    const rows = r[key]?.rows;
    if (!rows) continue;
    put(`latency-${key}.png`, percentileChart({
      title: `${title}`,
      subtitle: 'END-TO-END LATENCY, SEND TO EVERY RECEIVER, BY PERCENTILE',
      series: rows.map((x) => ({ label: x.target, curve: x.curve })),
    }));
  }
  const groups = [];
  for (const [key, label] of [['fanout', '1 FAN-OUT'], ['hotroom', '2 HOT ROOM']]) {
    const rows = r[key]?.rows;
    if (rows) groups.push({ label, values: names.map((n) => byTarget(rows, n)?.cpuUsPerMsg ?? null) });
  }
  if (r.saturation?.rows) {
    groups.push({ label: '3 AT OWN HIGHEST CLEAN RATE', values: names.map((n) => byTarget(r.saturation.rows, n)?.best?.cpuUsPerMsg ?? null) });
  }
  if (groups.length) {
    put('cpu-per-message.png', barChart({
      title: 'SERVER CPU PER DELIVERED MESSAGE', subtitle: 'UTIME+STIME OF THE SERVER PROCESS / MESSAGES RECEIVED BY CLIENTS (LOWER IS BETTER)',
      yLabel: 'CPU µS / MESSAGE', groups, series: names,
    }));
  }
  if (r.saturation?.rows) {
    put('saturation.png', barChart({
      title: '3 SATURATION: HIGHEST CLEAN RATE', subtitle: 'OFFERED UPDATES/S WITH P99 <= 50 MS AND NO LOSS (20 ROOMS X 10 CLIENTS, 9 RECEIVERS EACH)',
      yLabel: 'UPDATES / S', groups: [{ label: 'HIGHEST CLEAN OFFERED RATE', values: names.map((n) => byTarget(r.saturation.rows, n)?.best?.offeredUpdatesPerS ?? null) }],
      series: names, height: 480,
    }));
  }
  if (r.idle?.rows) {
    put('idle-memory.png', barChart({
      title: '5 IDLE: MEMORY PER CONNECTION', subtitle: `(RSS AFTER - RSS BEFORE) / ${r.idle.rows[0]?.connections} CONNECTIONS OVER ${r.idle.rows[0]?.docs} DOCUMENTS`,
      yLabel: 'KIB / CONNECTION', groups: [{ label: 'KIB PER IDLE CONNECTION', values: names.map((n) => byTarget(r.idle.rows, n)?.kbPerConnection ?? null) }],
      series: names, height: 480,
    }));
  }
  if (r.latejoin?.rows) {
    const rows = r.latejoin.rows;
    put('late-join.png', barChart({
      title: `4 LATE JOIN: ${r.latejoin.n / 1000}K SINGLE-CHARACTER UPDATES`, subtitle: 'TIME FROM CONNECT TO SYNC STEP 2 RECEIVED (MEDIAN)',
      yLabel: 'MS', groups: [
        { label: 'ROOM IN MEMORY', values: rows.map((x) => x.warm?.medianMs ?? null) },
        { label: 'ROOM LOADED FROM SQLITE', values: rows.map((x) => x.cold?.medianMs ?? null) },
      ],
      series: rows.map((x) => x.label.replace('collab, compaction (default: 500 updates)', 'collab, compaction 500')), height: 500,
    }));
  }
  return written;
}

function clusterSection(sc) {
  if (sc.skipped) return `## 10. Cluster — skipped: ${sc.skipped}\n`;
  const lines = [`## 10. Cluster — three nodes on PostgreSQL + Redis, beside Hocuspocus + its Redis extension and one SQLite node

The fan-out (${sc.shapes.fanout.rooms} rooms × ${sc.shapes.fanout.perRoom} clients, ${sc.shapes.fanout.writersPerRoom} writers × ${sc.shapes.fanout.rate} updates/s) and hot-room (${sc.shapes.hotroom.rooms} room × ${sc.shapes.hotroom.perRoom} clients, ${sc.shapes.hotroom.writersPerRoom} writers × ${sc.shapes.hotroom.rate} updates/s) loads,
${sc.params.measureS} s measured after ${sc.params.warmS} s warm-up. In every room the writers and a third of the readers are on node 1,
the other readers on nodes 2 and 3 (clients straight to each node's port: stock y-websocket framing for collab-server,
Hocuspocus framing for Hocuspocus). Same-node = receivers on the writers' node, cross-node = the others. CPU per
delivered update = the node's CPU ÷ every update delivered in the room(s), per node; PostgreSQL (postmaster + backends)
and Redis CPU are listed apart. Commits: \`sum(documents.update_seq)\` (updates committed) and \`xact_commit\` (transactions).
Hocuspocus has no persistence configured (its default), so it commits nothing.
`, '| target | load | delivered / expected | same-node p50 / p99 ms | cross-node p50 / p99 ms | cross p99 ÷ same p99 | CPU µs per delivered update, per node | all nodes | PostgreSQL / Redis CPU s | updates committed/s (transactions/s) |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const x of sc.rows ?? []) {
    lines.push(`| ${x.target} | ${x.load} | ${int(x.received)} / ${int(x.expected)}${x.dups ? ` (${x.dups} dups)` : ''} | ${f(x.same.p50, 2)} / ${f(x.same.p99, 2)} | ${x.cross ? `${f(x.cross.p50, 2)} / ${f(x.cross.p99, 2)}` : '–'} | ${x.cross ? ratio(x.cross.p99, x.same.p99) : '–'} | ${x.perNode.map((p) => f(p.cpuUsPerDelivered, 2)).join(' / ')} | ${f(x.cpuUsPerDeliveredAllNodes, 2)} | ${x.pgCpuS || x.redisCpuS ? `${f(x.pgCpuS, 2)} / ${f(x.redisCpuS, 2)}` : '–'} | ${x.updatesCommittedPerS != null ? `${int(x.updatesCommittedPerS)} (${int(x.pgTransactionsPerS)})` : '–'} |`);
  }
  return lines.join('\n') + '\n';
}

export { clusterSection };
export function renderMarkdown(r, { analysis = '' } = {}) {
  const m = r.meta;
  const t = evaluateTargets(r);
  const out = [];
  out.push(`# Benchmarks: collab-server vs y-websocket-server and Hocuspocus

Generated by \`./collab bench\` on ${m.date.slice(0, 16).replace('T', ' ')} UTC (project ${m.projectCommit}, total ${f(m.totalSeconds / 60, 1)} min).
Raw results: [\`bench/results/latest.json\`](../bench/results/latest.json). Everything below the analysis section is
regenerated by each full run; the analysis is [\`bench/analysis.md\`](../bench/analysis.md), written by hand.

## Targets (same run, ratios)

| target | measured | met |
|---|---|---|
${t.map((x) => `| ${x.target} | ${x.measured} | ${x.met ? '**yes**' : '**no**'} |`).join('\n')}
`);
  if (analysis) out.push(analysis.trim() + '\n');
  out.push(`## Rerun

\`\`\`sh
./collab bench                       # everything (~20 minutes), rewrites this file and docs/bench/*.png
./collab bench --quick               # short smoke run; results in bench/results/quick.json only
./collab bench fanout saturation     # chosen scenarios (fanout hotroom saturation latejoin idle steps storm bigmessage large, or 1-9)
./collab bench --targets=collab/y-websocket,y-websocket-server hotroom
\`\`\`

Options: \`--workers=N\` generator threads (default 2), \`--docs\` to rewrite the docs from a partial run,
\`BENCH_NICE\` (default -10 as root), \`BENCH_PEERS_DIR\` to reuse an installed peer directory, \`BENCH_KEEP=1\` to keep it.
A server can be profiled during a run with \`COLLAB_JAVA_OPTS="-XX:StartFlightRecording=filename=/tmp/x.jfr,settings=profile"\`.

## Machine and software

- ${m.machine.cpus} × ${m.machine.cpuModel}, ${m.machine.memGiB} GiB, ${m.machine.os}, Linux ${m.machine.kernel}; load average at start ${m.loadAvgAtStart.map((x) => x.toFixed(1)).join(' / ')}
  (the machine is shared: other jobs ran during the benchmark; see caveats)
- Node ${m.node} (generator, y-websocket-server, Hocuspocus); ${m.java} (collab-server, floor)
- Peers, installed with npm into a temporary directory at benchmark time: ${Object.entries(m.peers).map(([n, v]) => `\`${n}@${v}\``).join(', ')}
- collab-server settings changed for the benchmark (the peers have no such limits): ${Object.entries(m.projectEnv).map(([k, v]) => `\`${k}=${v}\``).join(', ')};
  everything else default: SQLite WAL, \`synchronous=NORMAL\`, every update committed before it is relayed.

## What is measured

- **Targets.** \`collab/y-websocket\` and \`collab/hocuspocus\` are this server (\`collab run --no-build\`, a fresh temporary
  database each time) driven through its y-websocket endpoint (\`/yjs/<doc>\`) and its Hocuspocus endpoint (\`/hocuspocus\`);
  \`y-websocket-server\` is \`@y/websocket-server\`'s \`setupWSConnection\` (what its \`bin/server.js\` runs) and \`hocuspocus-server\` is
  \`new Server({ port }).listen()\` with no extensions; both keep documents in memory only. \`floor\` is
  [\`bench/floor/RelayServer.java\`](../bench/floor/RelayServer.java): a bare Helidon 4.3.1 WebSocket server that sends
  every message to every other connection on the same path, with no protocol, rooms or storage — the platform's limit.
  Every (scenario, target) gets a fresh server process.
- **Updates are real Yjs updates**, made with \`yjs\` before the timed phase: each writer owns a \`Y.Doc\` and inserts a
  28-character marker (\`~Bw\` + update index + send time) at the end of a \`Y.Text\`; right before sending, the generator
  writes the send time (CLOCK_MONOTONIC µs) into those bytes of the update (same length, still a valid update). Every
  server relays the string intact, so a receiver finds the marker with a byte search.
- **Latency** = receive time − send time, for every receiver (writers excluded for their own updates; y-websocket-server and
  Hocuspocus also echo each update to its sender, collab-server does not — echoes are not counted). Exact percentiles over
  all samples. **Loss** = expected deliveries (updates sent × other clients in the room) − distinct deliveries within 3 s
  of the last send. **Delivered msg/s** = distinct deliveries / measured seconds.
- **Server CPU** = utime + stime of the server process (/proc/<pid>/stat, ${m.clkTck} ticks/s) from the start of the measured phase
  until every delivery arrived; divided by the deliveries. **RSS** = VmRSS at the end.
- Each throughput phase has ${r.meta.params.warmS} s of the same load first (not measured: JIT warm-up for every server), then ${r.meta.params.measureS} s measured.
- **Generator**: one Node process, ${m.workers} worker threads sharing the clients (\`ws\` 8, no compression), on the same 2 cores as
  the server. The floor shows where the generator (and the kernel's loopback) stops: a server near the floor is limited by
  the generator, not by itself. "generator max lag" is how late the generator sent its latest update versus schedule.
`);
  if (r.fanout?.rows) out.push(`## 1. Fan-out — 20 rooms × 10 clients, 2 writers per room × 20 updates/s, ${r.fanout.shape.measureS} s\n\n${roomsTable(r.fanout)}\n\n![latency fan-out](bench/latency-fanout.png)\n`);
  if (r.hotroom?.rows) out.push(`## 2. Hot room — 1 room × 100 clients, 5 writers × 50 updates/s, ${r.hotroom.shape.measureS} s\n\n${roomsTable(r.hotroom)}\n\n![latency hot room](bench/latency-hotroom.png)\n`);
  if (r.fanout?.rows || r.hotroom?.rows) out.push('![CPU per message](bench/cpu-per-message.png)\n');
  if (r.saturation?.rows) out.push(`## 3. Saturation — fan-out shape, offered rate raised step by step

20 rooms × 10 clients, 2 writers per room; per-writer rate ${r.saturation.shape.rates.join(', ')} updates/s, ${r.saturation.shape.stepS} s per step on fresh rooms, stopping at the first
step whose p99 exceeds 50 ms or that loses or duplicates anything. "Clean rate" = offered updates/s of the last clean step
(each update reaches 9 receivers).

${saturationTable(r.saturation)}

![saturation](bench/saturation.png)
`);
  if (r.latejoin?.rows) out.push(`## 4. Late join — a document of ${int(r.latejoin.n)} single-character updates

One client sends ${int(r.latejoin.n)} single-character Yjs updates (one \`Y.Text.insert\` each); once the server's state vector
shows all of them, ${r.meta.params.joins} fresh clients join one after the other: time from \`new WebSocket\` to the
server's sync step 2 received, and the bytes the server sent until then. For collab-server also: with every client gone and
the room unloaded (\`COLLAB_ROOM_IDLE_UNLOAD_MS=1000\`), so the join loads the document from SQLite — with compaction off
(\`COLLAB_COMPACTION_UPDATES\`/\`_BYTES\` = 2·10⁹: ${int(r.latejoin.n)} rows) and at the default (every 500 updates: one row).
The peers keep nothing once a document has no connection, so they have no such case. Joins are checked: the joiner applies
the step 2 to a \`Y.Doc\` and must find ${int(r.latejoin.n)} characters.

${lateJoinTable(r.latejoin)}
${r.latejoin.anomalies?.length ? `\nAnomalies (server closed a fresh connection before syncing it; the join was retried): ${r.latejoin.anomalies.length} — ${[...new Set(r.latejoin.anomalies)].join('; ')}\n` : ''}
![late join](bench/late-join.png)
`);
  if (r.idle?.rows) out.push(`## 5. Idle — ${int(r.idle.rows[0]?.connections)} connections over ${r.idle.rows[0]?.docs} documents

Each connection completes the sync handshake and then stays silent. Memory per connection = (RSS with the connections
open − RSS before) / connections, measured ${r.meta.params.idleSettleS} s and ${2 * r.meta.params.idleSettleS} s after the last connect (the larger).

${idleTable(r.idle)}

![idle memory](bench/idle-memory.png)
`);
  if (r.steps?.rows) out.push(`## 6. ProseMirror steps — 10 concurrent editors on one document (JSON protocol, collab-server only)

Each editor keeps one submission in flight (as \`prosemirror-collab\` does): it sends one step at its known version;
on its own steps echoed back it sends the next; on \`conflict\` it waits for the steps it lacks and resubmits. Every
accepted step is committed to SQLite before it is broadcast. ${r.meta.params.stepsS} s measured after ${r.meta.params.stepsWarmS} s warm-up.

${stepsTable(r.steps)}
`);
  if (r.storm?.rows) out.push(`## 7. Connection storm — ${int(r.storm.rows[0]?.clients)} stock y-websocket clients on ${r.storm.rows[0]?.docs} documents of ${r.storm.rows[0]?.docKiB} KiB

What a deploy causes: every client reconnects at once. The documents are preloaded (one writer per document stays
connected, so y-websocket-server keeps them too); then the clients, each a stock \`WebsocketProvider\` with its own
\`Y.Doc\`, connect within one second and count as synced at the provider's \`sync\` event with the whole text. Server
CPU and RSS growth from just before the first connect until the last is synced (or the 180 s limit). The clients
decode the documents on the generator's threads, which bounds how fast any server can get them all synced here.

${stormTable(r.storm)}
`);
  if (r.bigmessage?.rows) out.push(`## 8. One large message — a 1 MiB and an 8 MiB y-websocket update

One client sends one update, another in the same document receives it; server CPU from just before the send until the
receiver has the whole message (collab-server: decoded, validated, committed to SQLite, relayed), median of 5 per
size, each on a fresh document. CPU is read in 10 ms ticks. The floor is the transport alone (receive and relay).

${bigMessageTable(r.bigmessage)}
`);
  if (r.large?.rows) out.push(largeSection(r));
  if (r.cluster) out.push(clusterSection(r.cluster));
  out.push(`## Caveats

- **Shared, noisy machine.** Other sessions' builds and browser tests ran on the same 2 cores during the run (load average
  at start ${m.loadAvgAtStart[0].toFixed(1)}; after each scenario: ${['fanout', 'hotroom', 'saturation', 'latejoin', 'idle', 'steps', 'storm', 'bigmessage', 'large'].filter((s) => r[s]?.loadAvgAfter).map((s) => `${s} ${r[s].loadAvgAfter[0].toFixed(1)}`).join(', ')}).
  Absolute numbers move between runs; the targets are therefore judged on ratios within one run, and even those carry
  noise of tens of percent, more in the tails (p99, max). Rerun before drawing fine conclusions.
- **Generator on the same cores.** The generator's threads compete with the server for 2 cores; at high rates the
  generator itself delays sends and receives, which adds to every target's latency (the floor shows how much).
- **Unequal work.** collab-server commits every update to SQLite before relaying it and answers Hocuspocus updates with a
  \`SyncStatus\` only after the commit; the peers keep documents in memory (and echo each update to its sender).
  collab-server's per-IP, per-document and rate limits were raised for the benchmark.
- **JIT.** Every server gets the same warm-up, but a fresh JVM is still compiling during short phases; Node's JIT warms
  faster. Long-running servers would do somewhat better than these figures for the JVM targets.
- **Memory** is RSS: for the JVM it includes heap the collector has not given back, for Node the V8 heap and buffers.
`);
  return out.join('\n');
}

export function writeReport(r, { root }) {
  const docs = path.join(root, 'docs');
  const written = charts(r, path.join(docs, 'bench'));
  const analysisFile = path.join(root, 'bench', 'analysis.md');
  const analysis = existsSync(analysisFile) ? readFileSync(analysisFile, 'utf8') : '';
  const md = path.join(docs, 'benchmarks.md');
  writeFileSync(md, renderMarkdown(r, { analysis }));
  written.push(md);
  return written;
}
