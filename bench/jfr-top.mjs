#!/usr/bin/env node
// Summarises the CPU samples of a JFR recording: the hottest frames by self time, by inclusive time, and grouped
// by the first frame of this project (dev.collab.*) on the stack.
//
//   COLLAB_JAVA_OPTS="-XX:StartFlightRecording=filename=/tmp/x.jfr,settings=profile,dumponexit=true" \
//     ./collab bench fanout --targets=collab/y-websocket
//   node bench/jfr-top.mjs /tmp/x.jfr [top=25]
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const file = process.argv[2];
const top = Number(process.argv[3] || 25);
if (!file) {
  console.error('usage: node bench/jfr-top.mjs FILE.jfr [top]');
  process.exit(2);
}
const jfr = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'jfr')
  : process.env.COLLAB_JAVA ? path.join(path.dirname(process.env.COLLAB_JAVA), 'jfr') : 'jfr';
const json = execFileSync(jfr, ['print', '--json', '--stack-depth', '64', '--events', 'jdk.ExecutionSample', file], { maxBuffer: 1 << 30 }).toString();
const events = JSON.parse(json).recording.events;

const self = new Map();
const incl = new Map();
const firstOwn = new Map();
const threads = new Map();
const bump = (m, k) => m.set(k, (m.get(k) || 0) + 1);
const name = (f) => `${f.method.type.name}.${f.method.name}`;

for (const e of events) {
  const frames = e.values.stackTrace?.frames ?? [];
  if (!frames.length) continue;
  bump(self, name(frames[0]));
  const seen = new Set();
  for (const f of frames) {
    const n = name(f);
    if (!seen.has(n)) {
      seen.add(n);
      bump(incl, n);
    }
  }
  const own = frames.find((f) => f.method.type.name.startsWith('dev.collab.'));
  bump(firstOwn, own ? `${name(own)} (line ${own.lineNumber})` : '(no dev.collab frame: JDK/Helidon only)');
  const t = e.values.sampledThread?.javaName ?? e.values.sampledThread?.osName ?? '?';
  bump(threads, t.replace(/\d+/g, 'N'));
}

const total = events.length;
const print = (title, m) => {
  console.log(`\n## ${title} (${total} samples)`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
};
print('self (top frame)', self);
print('inclusive', incl);
print('first dev.collab frame on the stack', firstOwn);
print('threads', threads);
