// The main thread's handle on the generator threads (lib/worker.mjs).
import { Worker } from 'node:worker_threads';

export class Generator {
  constructor(n) {
    this.n = n;
    this.nextId = 1;
    this.pending = new Map();
    this.workers = Array.from({ length: n }, () => {
      const w = new Worker(new URL('./worker.mjs', import.meta.url));
      w.on('message', (m) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.error) p.reject(new Error(`generator thread: ${m.error}`));
        else p.resolve(m);
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      return w;
    });
  }

  call(i, msg) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[i].postMessage({ ...msg, id });
    });
  }

  all(msg) {
    return Promise.all(this.workers.map((_, i) => this.call(i, msg)));
  }

  /** Opens (and syncs) the clients, spread round-robin over the threads. */
  async open(specs, { concurrency = 50, timeoutMs = 30000 } = {}) {
    const parts = Array.from({ length: this.n }, () => []);
    specs.forEach((s, i) => parts[i % this.n].push(s));
    const res = await Promise.all(parts.map((p, i) => this.call(i, { op: 'open', specs: p, concurrency, timeoutMs })));
    return {
      opened: res.reduce((a, r) => a + r.opened, 0),
      failed: res.reduce((a, r) => a + r.failed, 0),
      errors: res.flatMap((r) => r.errors),
    };
  }

  async status() {
    const res = await this.all({ op: 'status' });
    const sum = {};
    for (const r of res) {
      for (const [k, v] of Object.entries(r)) {
        if (typeof v === 'number') sum[k] = (sum[k] || 0) + v;
        else if (k === 'closeCodes') {
          sum.closeCodes ??= {};
          for (const [c, n] of Object.entries(v)) sum.closeCodes[c] = (sum.closeCodes[c] || 0) + n;
        }
      }
    }
    return sum;
  }

  async collect() {
    const res = await this.all({ op: 'collect' });
    const total = res.reduce((a, r) => a + r.lat.length, 0);
    const lat = new Float64Array(total);
    let off = 0;
    const sum = {};
    const groups = {};
    for (const r of res) {
      for (const [k, g] of Object.entries(r.groups ?? {})) {
        const acc = (groups[k] ??= { parts: [], received: 0 });
        acc.parts.push(g.lat);
        acc.received += g.received;
      }
      lat.set(r.lat, off);
      off += r.lat.length;
      for (const [k, v] of Object.entries(r)) if (typeof v === 'number') sum[k] = (sum[k] || 0) + v;
    }
    for (const g of Object.values(groups)) {
      g.lat = new Float64Array(g.parts.reduce((a, p) => a + p.length, 0));
      let o = 0;
      for (const p of g.parts) { g.lat.set(p, o); o += p.length; }
      delete g.parts;
    }
    return { ...sum, lat, groups };
  }

  closeAll() {
    return this.all({ op: 'closeAll' });
  }

  async terminate() {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
