// One generator thread. The main thread (lib/main.mjs) splits the benchmark clients over a few of these; each owns
// its WebSockets, sends its writers' pre-generated updates on schedule and records, for every update its receivers
// get, the end-to-end latency (receive time - send time written into the update, both CLOCK_MONOTONIC µs, so
// clients on different threads compare exactly) and whether it was a duplicate.
//
// Messages from the main thread: {id, op, ...}; every one is answered with {id, ...result} or {id, error}.
import { parentPort } from 'node:worker_threads';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import {
  MARKER_PREFIX, MARKER_LENGTH, TIME_OFFSET, markerText, nowUs, writeDec16, readDec16, readHex8, readVarUint,
  yws, hp,
} from './wire.mjs';

const clients = new Map(); // key -> Client

// ---- what is being measured --------------------------------------------------------------------------------
// Update index = writerIndex * per + k. Indexes with k in [lo, hi) are "measured"; anything else is counted as stray.
let arm = { per: 1, lo: 0, hi: 0, writers: 0 };
let lat = new Float64Array(1 << 16);
let latN = 0;
let counters = newCounters();
// receivers may name a group (spec.group: the cluster scenario's 'same' / 'cross' node); their latencies are also kept per group
let groups = new Map(); // group -> { lat: number[], received }

function newCounters() {
  return { received: 0, dups: 0, echoes: 0, stray: 0, acks: 0, nacks: 0, closes: 0, closeCodes: {} };
}

function pushLat(v) {
  if (latN === lat.length) {
    const bigger = new Float64Array(lat.length * 2);
    bigger.set(lat);
    lat = bigger;
  }
  lat[latN++] = v;
}

function record(c, buf) {
  let pos = buf.indexOf(MARKER_PREFIX);
  if (pos < 0) return;
  const now = nowUs();
  while (pos >= 0 && pos + MARKER_LENGTH <= buf.length) {
    const idx = readHex8(buf, pos + 3);
    const sent = readDec16(buf, pos + TIME_OFFSET);
    const w = Math.floor(idx / arm.per);
    const k = idx - w * arm.per;
    if (c.writerIndex === w) {
      counters.echoes++;
    } else if (k < arm.lo || k >= arm.hi || w >= arm.writers || sent === 0) {
      counters.stray++;
    } else {
      const span = arm.hi - arm.lo;
      const bit = w * span + (k - arm.lo);
      if (!c.seen || c.seen.length * 8 < arm.writers * span) c.seen = new Uint8Array((arm.writers * span + 7) >> 3);
      const byte = bit >> 3;
      const mask = 1 << (bit & 7);
      if (c.seen[byte] & mask) {
        counters.dups++;
      } else {
        c.seen[byte] |= mask;
        counters.received++;
        pushLat(now - sent);
        if (c.group) {
          let g = groups.get(c.group);
          if (!g) groups.set(c.group, (g = { lat: [], received: 0 }));
          g.lat.push(now - sent);
          g.received++;
        }
      }
    }
    pos = buf.indexOf(MARKER_PREFIX, pos + MARKER_LENGTH);
  }
}

// ---- clients ----------------------------------------------------------------------------------------------

class Client {
  constructor(spec) {
    this.key = spec.key;
    this.url = spec.url;
    this.proto = spec.proto; // 'yws' | 'hp' | 'raw'
    this.doc = spec.doc;
    this.writerIndex = spec.writerIndex ?? -1; // >= 0 for writers
    this.group = spec.group ?? null;
    this.ws = null;
    this.synced = false;
    this.seen = null;
    this.frames = null;
    this.offsets = null;
  }

  open(timeoutMs) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
      this.ws = ws;
      ws.binaryType = 'nodebuffer';
      let done = false;
      const finish = (err) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        err ? reject(err) : resolve();
      };
      this.onSynced = () => finish();
      const timer = setTimeout(() => finish(new Error(`${this.proto} ${this.url}: not synced within ${timeoutMs} ms`)), timeoutMs);
      ws.on('open', () => {
        if (this.proto === 'yws') {
          ws.send(yws.step1());
        } else if (this.proto === 'hp') {
          ws.send(hp.auth(this.doc));
          ws.send(hp.step1(this.doc));
        } else {
          this.synced = true;
          finish();
        }
      });
      ws.on('message', (data) => this.onMessage(data));
      ws.on('error', (e) => finish(e));
      ws.on('close', (code) => {
        if (!this.closing) {
          counters.closes++;
          counters.closeCodes[code] = (counters.closeCodes[code] || 0) + 1;
        }
        finish(new Error(`${this.proto} ${this.url}: closed with ${code} before syncing`));
      });
    });
  }

  onMessage(buf) {
    if (this.proto === 'yws') {
      if (buf[0] === 0) {
        const sub = buf[1];
        if (sub === 2) return record(this, buf);
        if (sub === 0) return this.ws.send(yws.step2());
        if (sub === 1) {
          record(this, buf);
          if (!this.synced) {
            this.synced = true;
            this.onSynced?.();
          }
        }
      }
      return;
    }
    if (this.proto === 'hp') {
      if (buf.length === 1) {
        if (buf[0] === 9) this.ws.send(hp.pong());
        return;
      }
      let [len, pos] = readVarUint(buf, 0);
      pos += len;
      let type;
      [type, pos] = readVarUint(buf, pos);
      if (type === 0) {
        const sub = buf[pos];
        if (sub === 2) return record(this, buf);
        if (sub === 0) return this.ws.send(hp.step2(this.doc));
        if (sub === 1) {
          record(this, buf);
          if (!this.synced) {
            this.synced = true;
            this.onSynced?.();
          }
        }
      } else if (type === 8) {
        const [v] = readVarUint(buf, pos); // varInt 1 / 0: small positive values encode like varUint
        if (v === 1) counters.acks++;
        else counters.nacks++;
      } else if (type === 2 && buf[pos] === 1) {
        counters.closes++;
        counters.closeCodes['permission-denied'] = (counters.closeCodes['permission-denied'] || 0) + 1;
      }
      return;
    }
    record(this, buf); // raw (floor): every message is a relayed update
  }

  /** Pre-generates `count` real Yjs updates (one marker string inserted at the end of a Y.Text each). */
  prepare(per, count) {
    const ydoc = new Y.Doc();
    const text = ydoc.getText('t');
    const updates = [];
    ydoc.on('update', (u) => updates.push(u));
    const base = this.writerIndex * per;
    let length = 0;
    for (let k = 0; k < count; k++) {
      const s = markerText(base + k);
      text.insert(length, s);
      length += s.length;
    }
    this.frames = new Array(count);
    this.offsets = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      const u = updates[k];
      const frame = this.proto === 'hp' ? hp.update(this.doc, u) : yws.update(u);
      const at = frame.indexOf(MARKER_PREFIX);
      if (at < 0) throw new Error('marker not found in a generated update');
      this.frames[k] = frame;
      this.offsets[k] = at + TIME_OFFSET;
    }
    ydoc.destroy();
  }

  send(k) {
    const frame = this.frames[k];
    if (!frame) throw new Error(`writer ${this.key} has no update #${k}`);
    writeDec16(frame, this.offsets[k], nowUs());
    this.frames[k] = null;
    this.ws.send(frame);
  }

  close() {
    this.closing = true;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => { ws.terminate(); resolve(); }, 3000);
      ws.once('close', () => { clearTimeout(t); resolve(); });
      try { ws.close(1000); } catch { ws.terminate(); }
    });
  }
}

// ---- JSON step editors (scenario 6) ------------------------------------------------------------------------------

const STEP = { stepType: 'replace', from: 1, to: 1, slice: { content: [{ type: 'text', text: 'x' }] } };

function runEditors(specs, warmMs, measureMs) {
  return new Promise((resolve, reject) => {
    const editors = [];
    const stats = { submitted: 0, committed: 0, conflicts: 0, errors: 0, lat: [], firstVersion: null, lastVersion: null };
    let measuring = false;
    let stopping = false;
    let connected = 0;
    const submit = (e) => {
      if (stopping) return;
      e.inflight = true;
      e.sentAt = nowUs();
      e.ws.send(JSON.stringify({ type: 'steps', version: e.version, steps: [STEP] }));
      if (measuring) stats.submitted++;
    };
    for (const spec of specs) {
      const e = { spec, version: 0, inflight: false, waitFor: -1 };
      e.ws = new WebSocket(spec.url, { perMessageDeflate: false });
      e.ws.on('message', (data) => {
        const m = JSON.parse(data.toString());
        if (m.type === 'connected') {
          e.version = m.version;
          if (++connected === specs.length) start();
        } else if (m.type === 'steps') {
          if (m.version === e.version) e.version = m.version + m.steps.length;
          if (e.inflight && m.clientIDs[0] === spec.clientID) {
            e.inflight = false;
            if (measuring) {
              stats.committed += m.steps.length;
              stats.lat.push(nowUs() - e.sentAt);
            }
            submit(e);
          } else if (e.waitFor >= 0 && e.version >= e.waitFor) {
            e.waitFor = -1;
            submit(e);
          }
        } else if (m.type === 'conflict') {
          e.inflight = false;
          if (measuring) stats.conflicts++;
          if (e.version >= m.version) submit(e);
          else e.waitFor = m.version;
        } else if (m.type === 'error') {
          stats.errors++;
          e.inflight = false;
          if (!stats.firstError) stats.firstError = m;
          setTimeout(() => submit(e), 10);
        }
      });
      e.ws.on('error', (err) => reject(err));
      editors.push(e);
    }
    function start() {
      for (const e of editors) submit(e);
      setTimeout(() => {
        measuring = true;
        stats.firstVersion = Math.max(...editors.map((e) => e.version));
        stats.t0 = nowUs();
        setTimeout(() => {
          measuring = false;
          stopping = true;
          stats.t1 = nowUs();
          stats.lastVersion = Math.max(...editors.map((e) => e.version));
          for (const e of editors) e.ws.close();
          resolve(stats);
        }, measureMs);
      }, warmMs);
    }
  });
}

// ---- the run loop -------------------------------------------------------------------------------------------------

function runWriters({ t0, from, to, rate }) {
  const period = 1e6 / rate;
  const writers = [...clients.values()].filter((c) => c.writerIndex >= 0);
  for (const w of writers) {
    const phase = ((w.writerIndex * 0.6180339887) % 1) * period;
    w.start = t0 + phase;
    w.k = from;
    w.to = to;
    w.period = period;
    w.due = w.start;
  }
  let sent = 0;
  let maxLagUs = 0;
  return new Promise((resolve) => {
    const tick = () => {
      let now = nowUs();
      let next = Infinity;
      for (const w of writers) {
        while (w.k < w.to && w.due <= now) {
          const lag = now - w.due;
          if (lag > maxLagUs) maxLagUs = lag;
          if (w.ws.readyState === WebSocket.OPEN) {
            w.send(w.k);
            sent++;
          }
          w.k++;
          w.due = w.start + (w.k - from) * w.period;
          now = nowUs();
        }
        if (w.k < w.to && w.due < next) next = w.due;
      }
      if (next === Infinity) {
        resolve({ sent, maxLagUs, end: nowUs() });
      } else {
        setTimeout(tick, Math.max(0, (next - nowUs()) / 1000 - 0.2));
      }
    };
    const wait = (t0 - nowUs()) / 1000;
    setTimeout(tick, Math.max(0, wait));
  });
}

async function openAll(specs, concurrency, timeoutMs) {
  let i = 0;
  let failed = 0;
  const errors = [];
  const worker = async () => {
    while (i < specs.length) {
      const spec = specs[i++];
      const c = new Client(spec);
      clients.set(spec.key, c);
      try {
        await c.open(timeoutMs);
      } catch (e) {
        failed++;
        if (errors.length < 3) errors.push(String(e.message || e));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
  return { opened: specs.length - failed, failed, errors };
}

const handlers = {
  async open({ specs, concurrency = 50, timeoutMs = 30000 }) {
    return openAll(specs, concurrency, timeoutMs);
  },
  async prepare({ per, count }) {
    let n = 0;
    for (const c of clients.values()) {
      if (c.writerIndex >= 0) {
        c.prepare(per, count);
        n++;
      }
    }
    return { writers: n };
  },
  async arm({ per, lo, hi, writers }) {
    arm = { per, lo, hi, writers };
    latN = 0;
    groups = new Map();
    counters = newCounters();
    for (const c of clients.values()) c.seen = null;
    return {};
  },
  async run(args) {
    return runWriters(args);
  },
  async status() {
    let open = 0;
    for (const c of clients.values()) if (c.ws && c.ws.readyState === WebSocket.OPEN) open++;
    return { ...counters, open, clients: clients.size };
  },
  async collect() {
    const out = lat.slice(0, latN);
    const byGroup = Object.fromEntries([...groups].map(([k, g]) => [k, { lat: Float64Array.from(g.lat), received: g.received }]));
    const result = { ...counters, lat: out, groups: byGroup };
    latN = 0;
    groups = new Map();
    return result;
  },
  async closeAll() {
    const all = [...clients.values()];
    clients.clear();
    await Promise.all(all.map((c) => c.close()));
    counters = newCounters();
    latN = 0;
    return { closed: all.length };
  },
  async editors({ specs, warmMs, measureMs }) {
    return runEditors(specs, warmMs, measureMs);
  },
  async storm(args) {
    return runStorm(args);
  },
};

// ---- connection storm: stock y-websocket providers, all started within spreadMs ----------------------------------
// Each provider gets its own Y.Doc; a client counts as synced at the provider's 'sync' event with the document's
// full length in its Y.Text (so a sync that delivered less is not counted). Resolves when all are synced, or at the
// timeout with what was reached; the providers are destroyed before it resolves.
async function runStorm({ serverUrl, docs, t0Us, spreadMs, expectLength, timeoutMs }) {
  const providers = [];
  const syncUs = [];
  let refused = 0;
  let closedBeforeSync = 0;
  const done = new Promise((resolve) => {
    let pending = docs.length;
    const timer = setTimeout(resolve, timeoutMs);
    docs.forEach((doc, i) => {
      setTimeout(() => {
        const ydoc = new Y.Doc();
        const provider = new WebsocketProvider(serverUrl, doc, ydoc, { WebSocketPolyfill: WebSocket, disableBc: true, resyncInterval: -1 });
        providers.push(provider);
        let synced = false;
        provider.on('connection-close', (event) => {
          if (synced) return;
          closedBeforeSync++;
          if (event && event.code >= 1008) refused++;
        });
        provider.on('connection-error', () => { if (!synced) refused++; });
        provider.on('sync', (isSynced) => {
          if (!isSynced || synced) return;
          if (ydoc.getText('t').length < expectLength) return;
          synced = true;
          syncUs.push(nowUs() - t0Us);
          if (--pending === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
      }, Math.max(0, (t0Us - nowUs()) / 1000 + (i * spreadMs) / docs.length));
    });
  });
  await done;
  for (const p of providers) p.destroy();
  return { started: providers.length, synced: syncUs.length, syncUs, refused, closedBeforeSync };
}

parentPort.on('message', async (msg) => {
  try {
    const result = await handlers[msg.op](msg);
    const transfer = result && result.lat instanceof Float64Array ? [result.lat.buffer] : [];
    parentPort.postMessage({ id: msg.id, ...result }, transfer);
  } catch (e) {
    parentPort.postMessage({ id: msg.id, error: String(e && e.stack || e) });
  }
});
