// Helpers for the Yjs end-to-end suites: stock y-websocket / Hocuspocus providers against the real server,
// a raw y-websocket socket for hand-made frames, a seeded PRNG and random Yjs edits, document comparison,
// and condition waits that always have a deadline.
//
//   const clients = new YjsClients(server);
//   const a = clients.yws('doc-1');                      // WebsocketProvider (disableBc) + its own Y.Doc
//   const h = clients.hocus('doc-1');                    // HocuspocusProvider with its own socket
//   await Promise.all([a.whenSynced(), h.whenSynced()]);
//   randomEdit(a.doc, mulberry32(1));
//   await until(() => sameDoc(a.doc, h.doc), { what: 'a and h converge', detail: () => diffText(a.doc, h.doc) });
//   await clients.destroyAll();
//
// Providers are created with BroadcastChannel disabled: in one Node process, y-websocket would otherwise sync
// providers of the same room through BroadcastChannel, behind the server's back.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebsocketProvider } from 'y-websocket';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { JsonClient } from './json-client.mjs';

export { Y, WebSocket };

// ---------------------------------------------------------------------------------------------
// waiting

/**
 * Resolves with the first truthy value of `check()` (re-evaluated every `interval` ms); rejects after
 * `timeout` ms with `what` and, if given, `detail()` (a description of the state at the deadline).
 */
export function until(check, { timeout = 5_000, interval = 5, what = String(check), detail } = {}) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeout;
    const tick = () => {
      let value;
      try {
        value = check();
      } catch (err) {
        reject(err);
        return;
      }
      if (value) {
        resolve(value);
      } else if (Date.now() >= deadline) {
        let extra = '';
        if (detail) {
          try { extra = `; ${detail()}`; } catch (err) { extra = `; (detail failed: ${err.message})`; }
        }
        reject(new Error(`timed out after ${timeout} ms waiting for ${what}${extra}`));
      } else {
        setTimeout(tick, interval);
      }
    };
    tick();
  });
}

/** Like until() for an async check (e.g. an HTTP poll); `interval` is the pause between polls. */
export async function untilAsync(check, { timeout = 5_000, interval = 20, what = String(check), detail } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() >= deadline) {
      let extra = '';
      if (detail) {
        try { extra = `; ${await detail(last)}`; } catch (err) { extra = `; (detail failed: ${err.message})`; }
      }
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${extra}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** One turn of the event loop: lets queued socket callbacks run (not a wait for a condition). */
export const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A function giving fresh document ids `prefix-label-xxxxxxxx`, so suites sharing a server never collide. */
export const docIds = (prefix) => (label) => `${prefix}-${label}-${randomUUID().slice(0, 8)}`;

/** Resolves when the promise does, rejects with `what` after `timeout` ms. */
export function withDeadline(promise, timeout, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms waiting for ${what}`)), timeout);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// randomness and edits

/** Small seeded PRNG (mulberry32): a function returning floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rng, n) => Math.floor(rng() * n);
const pick = (rng, list) => list[int(rng, list.length)];
const WORDS = ['alpha', 'beta', 'gamma', 'δέλτα', 'Ωmega', 'naïve', '日本語', 'x', 'yz', ' ', '\n', '😀', '👍🏽', 'a😀b'];
const ATTRS = [null, null, { bold: true }, { italic: true }, { bold: true, italic: true }, { color: '#c00' }, { link: 'https://example.invalid/p' }];

function randomValue(rng) {
  switch (int(rng, 7)) {
    case 0: return int(rng, 1_000_000) - 500_000;
    case 1: return rng();
    case 2: return pick(rng, WORDS);
    case 3: return rng() < 0.5;
    case 4: return null;
    case 5: return [int(rng, 10), pick(rng, WORDS), { nested: rng() < 0.5 }];
    default: return { k: pick(rng, WORDS), n: int(rng, 100), list: [1, 2, 3].slice(0, int(rng, 4)) };
  }
}

/** Positions 0..text.length of a Y.Text that are not between the halves of a surrogate pair (embeds count 1). */
export function codePointBoundaries(text) {
  const out = [0];
  let pos = 0;
  for (const op of text.toDelta()) {
    if (typeof op.insert === 'string') {
      const s = op.insert;
      for (let i = 0; i < s.length; i++) {
        pos++;
        const c = s.charCodeAt(i);
        const isHigh = c >= 0xd800 && c <= 0xdbff;
        const nextLow = i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
        if (!(isHigh && nextLow)) out.push(pos);
      }
    } else {
      pos++;
      out.push(pos);
    }
  }
  return out;
}

/**
 * One random edit (one transaction, so one update) on the shared types every suite compares:
 * Y.Text 'text' (inserts with formatting, embeds, deletes, formatting of ranges, emoji / surrogate pairs),
 * Y.Map 'map' (JSON values and nested Y.Maps), Y.Array 'array' (push, insert, delete) and
 * Y.XmlFragment 'xml' (elements with attributes and text).
 */
export function randomEdit(doc, rng, tag = '') {
  const text = doc.getText('text');
  // Positions inside a surrogate pair are avoided: yjs itself does not converge there (the author keeps the
  // pair's halves as U+FFFD differently from a replica that applies the same updates), so such edits would
  // make the reference documents disagree without any server involved.
  const boundaries = codePointBoundaries(text);
  const at = () => pick(rng, boundaries);
  const rangeFrom = (start, maxLen) => {
    const i = boundaries.indexOf(start);
    const end = boundaries[Math.min(boundaries.length - 1, i + 1 + int(rng, maxLen))];
    return [start, end - start];
  };
  const map = doc.getMap('map');
  const array = doc.getArray('array');
  const xml = doc.getXmlFragment('xml');
  const r = rng();
  doc.transact(() => {
    if (r < 0.32 || text.length === 0) {
      const attrs = pick(rng, ATTRS);
      const s = pick(rng, WORDS) + tag;
      if (attrs) text.insert(at(), s, attrs);
      else text.insert(at(), s);
    } else if (r < 0.47) {
      const [from, len] = rangeFrom(pick(rng, boundaries.slice(0, -1)), 6);
      text.delete(from, len);
    } else if (r < 0.54) {
      const [from, len] = rangeFrom(pick(rng, boundaries.slice(0, -1)), 8);
      text.format(from, len, pick(rng, [{ bold: true }, { bold: null }, { italic: true }, { color: '#0a0' }]));
    } else if (r < 0.57) {
      text.insertEmbed(at(), { image: `img-${int(rng, 100)}${tag}` }, rng() < 0.5 ? { width: 10 } : undefined);
    } else if (r < 0.70) {
      const key = `k${int(rng, 8)}`;
      if (rng() < 0.15) {
        const sub = new Y.Map();
        map.set(key, sub);
        sub.set('inner', randomValue(rng));
      } else if (rng() < 0.1 && map.has(key)) {
        map.delete(key);
      } else {
        map.set(key, randomValue(rng));
      }
    } else if (r < 0.82) {
      const items = Array.from({ length: 1 + int(rng, 3) }, () => randomValue(rng));
      if (rng() < 0.5) array.push(items);
      else array.insert(int(rng, array.length + 1), items);
    } else if (r < 0.90) {
      if (array.length > 0) {
        const at = int(rng, array.length);
        array.delete(at, Math.min(1 + int(rng, 3), array.length - at));
      } else {
        array.push([tag || 'first']);
      }
    } else {
      if (xml.length > 0 && rng() < 0.4) {
        const el = xml.get(int(rng, xml.length));
        if (el instanceof Y.XmlElement) el.setAttribute(`a${int(rng, 3)}`, pick(rng, WORDS));
        else xml.delete(0, 1);
      } else {
        const el = new Y.XmlElement(pick(rng, ['p', 'h1', 'blockquote']));
        el.setAttribute('id', `${int(rng, 1000)}${tag}`);
        const t = new Y.XmlText();
        el.insert(0, [t]);
        t.insert(0, pick(rng, WORDS), rng() < 0.5 ? { bold: true } : undefined);
        xml.insert(int(rng, xml.length + 1), [el]);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// comparing documents

/** The content of the shared types the suites use, in a form deepStrictEqual compares exactly. */
export function contentOf(doc) {
  return {
    text: doc.getText('text').toDelta(),
    map: doc.getMap('map').toJSON(),
    array: doc.getArray('array').toJSON(),
    xml: doc.getXmlFragment('xml').toString(),
  };
}

/** Same state vector, same delete set (Y.snapshot) and same content. */
export function sameDoc(a, b) {
  return Y.equalSnapshots(Y.snapshot(a), Y.snapshot(b)) && isDeepStrictEqual(contentOf(a), contentOf(b));
}

/** A short description of how two documents differ, for failure messages. */
export function describeDiff(a, b, names = ['a', 'b']) {
  const sv = (d) => JSON.stringify([...Y.decodeStateVector(Y.encodeStateVector(d))]);
  const ca = contentOf(a);
  const cb = contentOf(b);
  const parts = [];
  if (sv(a) !== sv(b)) parts.push(`state vectors ${names[0]}=${sv(a)} ${names[1]}=${sv(b)}`);
  for (const k of Object.keys(ca)) {
    if (!isDeepStrictEqual(ca[k], cb[k])) {
      const sa = JSON.stringify(ca[k]);
      const sb = JSON.stringify(cb[k]);
      parts.push(`${k} differs: ${names[0]}=${sa.slice(0, 300)}${sa.length > 300 ? '…' : ''} ` +
        `${names[1]}=${sb.slice(0, 300)}${sb.length > 300 ? '…' : ''}`);
    }
  }
  if (!parts.length && !Y.equalSnapshots(Y.snapshot(a), Y.snapshot(b))) parts.push('delete sets differ');
  return parts.join('; ') || 'no difference';
}

/** A copy of a document's current state in a fresh Y.Doc. */
export function cloneDoc(doc) {
  const copy = new Y.Doc();
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
  return copy;
}

/** Resolves once every client's document equals the first one's (sameDoc), with the differences at the deadline. */
export function converged(clients, timeout = 5_000) {
  const [first, ...rest] = clients;
  return until(() => rest.every((c) => sameDoc(first.doc, c.doc)), {
    timeout,
    what: `${clients.map((c) => c.name).join(', ')} to converge`,
    detail: () => rest.filter((c) => !sameDoc(first.doc, c.doc))
      .map((c) => describeDiff(first.doc, c.doc, [first.name, c.name])).join(' | '),
  });
}

/** A document rebuilt from updates with yjs itself (the reference the server's result is compared with). */
export function docFromUpdates(updates) {
  const doc = new Y.Doc();
  for (const u of updates) Y.applyUpdate(doc, u);
  return doc;
}

/** Records every update a document produces locally (origin is not a provider), for reference rebuilds. */
export function recordLocalUpdates(doc, isRemote) {
  const updates = [];
  doc.on('update', (u, origin) => { if (!isRemote(origin)) updates.push(u); });
  return updates;
}

// ---------------------------------------------------------------------------------------------
// clients

/** A WebSocket (the `ws` package) that counts the payload bytes it receives, for the providers. */
export class CountingWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    this.bytesReceived = 0;
    this.messagesReceived = 0;
    this.on('message', (data) => {
      this.bytesReceived += data.byteLength ?? data.length;
      this.messagesReceived++;
    });
  }
}

/** Tracks every client a test creates so that afterEach can destroy them all. */
export class YjsClients {
  constructor(server) {
    this.server = server;
    this.all = [];
    this.sockets = [];
  }

  /** y-websocket WebsocketProvider on /yjs/<documentId> with its own Y.Doc (or `doc`). */
  yws(documentId, { doc = new Y.Doc(), connect = true, name, WebSocketPolyfill = WebSocket, ...opts } = {}) {
    const provider = new WebsocketProvider(`${this.server.url}/yjs`, documentId, doc, {
      WebSocketPolyfill, disableBc: true, connect, ...opts,
    });
    const closes = [];
    provider.on('connection-close', (event) => closes.push(event ? { code: event.code, reason: event.reason } : null));
    const client = {
      kind: 'y-websocket',
      name: name ?? `yws:${documentId}`,
      documentId,
      doc,
      provider,
      awareness: provider.awareness,
      /** close events the provider saw (null = closed locally) */
      closes,
      whenSynced: (timeout = 5_000) => until(() => provider.synced && provider.wsconnected,
        { timeout, what: `${client.name} to be synced` }),
      destroy: () => { provider.destroy(); doc.destroy(); },
    };
    this.all.push(client);
    return client;
  }

  /** A shared HocuspocusProviderWebsocket on /hocuspocus, for multiplexing. */
  hocusSocket(opts = {}) {
    const socket = new HocuspocusProviderWebsocket({
      url: `${this.server.url}/hocuspocus`, WebSocketPolyfill: WebSocket, ...opts,
    });
    this.sockets.push(socket);
    return socket;
  }

  /**
   * HocuspocusProvider for `documentId`: its own socket, or attached to `socket` (a shared
   * HocuspocusProviderWebsocket; in provider 4.x a provider on a shared socket must be attach()ed).
   */
  hocus(documentId, { doc = new Y.Doc(), socket, name, token = 'e2e-token', ...opts } = {}) {
    const events = { authenticated: [], authenticationFailed: [], stateless: [], close: [] };
    const config = socket
      ? { websocketProvider: socket, name: documentId, document: doc, token, ...opts }
      : { url: `${this.server.url}/hocuspocus`, name: documentId, document: doc, token, WebSocketPolyfill: WebSocket, ...opts };
    const provider = new HocuspocusProvider(config);
    provider.on('authenticated', (e) => events.authenticated.push(e));
    provider.on('authenticationFailed', (e) => events.authenticationFailed.push(e));
    provider.on('stateless', (e) => events.stateless.push(e.payload));
    provider.on('close', (e) => events.close.push(e?.event ? { code: e.event.code, reason: e.event.reason } : null));
    if (socket) provider.attach();
    const client = {
      kind: 'hocuspocus',
      name: name ?? `hocus:${documentId}`,
      documentId,
      doc,
      provider,
      awareness: provider.awareness,
      events,
      whenSynced: (timeout = 5_000) => until(() => provider.isSynced,
        { timeout, what: `${client.name} to be synced` }),
      whenAcknowledged: (timeout = 5_000) => until(() => provider.isSynced && provider.unsyncedChanges === 0,
        { timeout, what: `${client.name} to have no unsynced changes`, detail: () => `unsyncedChanges=${provider.unsyncedChanges}` }),
      destroy: () => { provider.destroy(); doc.destroy(); },
    };
    this.all.push(client);
    return client;
  }

  /** JSON-protocol client on /ws/fabric holding its own Y.Doc (see JsonYjsPeer); resolves once synced. */
  async json(documentId, clientID = `json-${Math.random().toString(36).slice(2, 10)}`, opts = {}) {
    const peer = new JsonYjsPeer(this.server, documentId, clientID, opts);
    this.all.push(peer);
    await peer.connect();
    return peer;
  }

  /** Raw y-websocket socket on /yjs/<documentId> (see RawYws). */
  async raw(documentId, opts) {
    const c = await RawYws.connect(`${this.server.url}/yjs/${documentId}`, opts);
    this.all.push({ destroy: () => c.terminate() });
    return c;
  }

  /** Raw Hocuspocus socket on /hocuspocus. */
  async rawHocus(opts) {
    const c = await RawHocus.connect(`${this.server.url}/hocuspocus`, opts);
    this.all.push({ destroy: () => c.terminate() });
    return c;
  }

  async destroyAll() {
    const all = this.all.splice(0);
    for (const c of all) {
      try { c.destroy(); } catch { /* already gone */ }
    }
    for (const s of this.sockets.splice(0)) {
      try { s.destroy(); } catch { /* already gone */ }
    }
  }
}

/** A bare `ws` socket with its received frames and close event recorded. */
export class RawSocket {
  static connect(url, opts = {}) {
    const s = new this(url, opts);
    return s.opened.then(() => s);
  }

  constructor(url, { timeout = 5_000 } = {}) {
    this.url = url;
    this.frames = [];           // { data: Uint8Array | string, binary }
    this.bytesReceived = 0;
    this.closeInfo = null;
    this.ws = new WebSocket(url, { handshakeTimeout: timeout });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', (err) => reject(new Error(`could not connect to ${url}: ${err.message}`)));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
      });
    });
    this.ws.on('error', (err) => { this.lastError = err; });
    this.ws.on('message', (data, binary) => {
      this.bytesReceived += data.length;
      this.frames.push({ data: binary ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data.toString(), binary });
      this.onFrame?.(this.frames[this.frames.length - 1]);
    });
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  send(data) { this.ws.send(data); }

  /** Sends several frames in one TCP write (the socket is corked around them), so they arrive together. */
  sendBurst(frames) {
    const tcp = this.ws._socket;
    tcp?.cork();
    for (const f of frames) this.ws.send(f);
    tcp?.uncork();
  }

  /** Resolves with the close info once the peer closed the socket; rejects after `timeout`. */
  whenClosed(timeout = 5_000, what = `${this.url} to be closed by the server`) {
    return withDeadline(this.closed, timeout, what);
  }

  terminate() { this.ws.terminate(); return this.closed; }
}

/** Raw y-websocket client: decodes the server's frames (sync step1/step2/update, awareness, query). */
export class RawYws extends RawSocket {
  constructor(url, opts) {
    super(url, opts);
    this.messages = [];
    this.onFrame = (f) => {
      if (!f.binary) return;
      try {
        this.messages.push(decodeYwsFrame(f.data));
      } catch (err) {
        this.messages.push({ type: 'undecodable', error: err.message, bytes: f.data.length });
      }
    };
  }

  sendSyncStep1(stateVector = new Uint8Array([0])) {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint8Array(e, stateVector);
    this.send(encoding.toUint8Array(e));
  }

  sendUpdate(update) { this.send(encodeYwsUpdate(update)); }

  sendAwareness(awarenessUpdate) {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint8Array(e, awarenessUpdate);
    this.send(encoding.toUint8Array(e));
  }

  sendQueryAwareness() { this.send(new Uint8Array([3])); }
}

/** [0 sync][2 update][varUint8Array update] */
export function encodeYwsUpdate(update) {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0);
  encoding.writeVarUint(e, 2);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}

/** Decodes one y-websocket frame into { type: 'step1'|'step2'|'update'|'awareness'|'query-awareness'|'auth', ... }. */
export function decodeYwsFrame(bytes) {
  const d = decoding.createDecoder(bytes);
  const type = decoding.readVarUint(d);
  if (type === 0) {
    const sub = decoding.readVarUint(d);
    const payload = decoding.readVarUint8Array(d);
    return { type: ['step1', 'step2', 'update'][sub] ?? `sync-${sub}`, payload };
  }
  if (type === 1) {
    const payload = decoding.readVarUint8Array(d);
    const ad = decoding.createDecoder(payload);
    const n = decoding.readVarUint(ad);
    const entries = [];
    for (let i = 0; i < n; i++) {
      const clientID = decoding.readVarUint(ad);
      const clock = decoding.readVarUint(ad);
      entries.push({ clientID, clock, state: JSON.parse(decoding.readVarString(ad)) });
    }
    return { type: 'awareness', payload, entries };
  }
  if (type === 3) return { type: 'query-awareness' };
  if (type === 2) return { type: 'auth', sub: decoding.readVarUint(d) };
  return { type: `unknown-${type}` };
}

/** An awareness update for one client id: varUint n, then (clientID, clock, JSON state). */
export function encodeAwarenessEntry(clientID, clock, state) {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 1);
  encoding.writeVarUint(e, clientID);
  encoding.writeVarUint(e, clock);
  encoding.writeVarString(e, JSON.stringify(state));
  return encoding.toUint8Array(e);
}

// ---------------------------------------------------------------------------------------------
// admin API

/** The admin summary of one document ({documentId, connections, version, updates, updateBytes}) or undefined. */
export async function adminDoc(server, documentId) {
  const res = await server.adminDocuments();
  if (res.status !== 200) throw new Error(`GET /admin/documents answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.find((d) => d.documentId === documentId);
}

/** The client ids the admin API lists for one document's open connections. */
export async function documentClients(server, documentId) {
  const res = await server.getJson(`/admin/documents/${encodeURIComponent(documentId)}`, { admin: true });
  if (res.status !== 200) {
    throw new Error(`GET /admin/documents/${documentId} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  // clients are objects since the admin API lists user, protocol and address per connection; the ids are enough here
  return res.body.clients.map((c) => c.clientID);
}

// ---------------------------------------------------------------------------------------------
// raw Hocuspocus frames: varString(document name) + varUint(type) + payload

export const HOCUS = { Sync: 0, Awareness: 1, Auth: 2, QueryAwareness: 3, Stateless: 5, Close: 7, SyncStatus: 8, Ping: 9, Pong: 10 };

function hocusFrame(name, type, write) {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, name);
  encoding.writeVarUint(e, type);
  write?.(e);
  return encoding.toUint8Array(e);
}

/** Auth: [name][2][0 Token][varString token][varString provider version] */
export const encodeHocusAuth = (name, token = 'e2e-token', version = '4.8.0') =>
  hocusFrame(name, HOCUS.Auth, (e) => { encoding.writeVarUint(e, 0); encoding.writeVarString(e, token); encoding.writeVarString(e, version); });

/** Sync step 1: [name][0][0][varUint8Array state vector] */
export const encodeHocusStep1 = (name, stateVector = new Uint8Array([0])) =>
  hocusFrame(name, HOCUS.Sync, (e) => { encoding.writeVarUint(e, 0); encoding.writeVarUint8Array(e, stateVector); });

/** Sync update: [name][0][2][varUint8Array update] */
export const encodeHocusUpdate = (name, update) =>
  hocusFrame(name, HOCUS.Sync, (e) => { encoding.writeVarUint(e, 2); encoding.writeVarUint8Array(e, update); });

/** Decodes a server frame: { name, type, ... } (auth: sub + scope/reason; sync: sub + payload; sync status: ok). */
export function decodeHocusFrame(bytes) {
  if (bytes.length === 1) return { type: bytes[0] === HOCUS.Ping ? 'ping' : `bare-${bytes[0]}` };
  const d = decoding.createDecoder(bytes);
  const name = decoding.readVarString(d);
  const type = decoding.readVarUint(d);
  switch (type) {
    case HOCUS.Auth: {
      const sub = decoding.readVarUint(d);
      return { name, type: 'auth', sub: ['token', 'permission-denied', 'authenticated'][sub] ?? sub, text: decoding.hasContent(d) ? decoding.readVarString(d) : null };
    }
    case HOCUS.Sync: {
      const sub = decoding.readVarUint(d);
      return { name, type: ['step1', 'step2', 'update'][sub] ?? `sync-${sub}`, payload: decoding.readVarUint8Array(d) };
    }
    case HOCUS.SyncStatus: return { name, type: 'sync-status', ok: decoding.readVarInt(d) === 1 };
    case HOCUS.Stateless: return { name, type: 'stateless', payload: decoding.readVarString(d) };
    case HOCUS.Close: return { name, type: 'close', reason: decoding.readVarString(d) };
    case HOCUS.Awareness: return { name, type: 'awareness' };
    default: return { name, type: `type-${type}` };
  }
}

/** Raw Hocuspocus socket: decodes what the server sends. */
export class RawHocus extends RawSocket {
  constructor(url, opts) {
    super(url, opts);
    this.messages = [];
    this.onFrame = (f) => {
      if (!f.binary) return;
      try {
        this.messages.push(decodeHocusFrame(f.data));
      } catch (err) {
        this.messages.push({ type: 'undecodable', error: err.message });
      }
    };
  }

  /** Sends Auth for `name` and waits for the answer (resolves with the auth message). */
  async authenticate(name, token, timeout = 5_000) {
    this.send(encodeHocusAuth(name, token));
    return until(() => this.messages.find((m) => m.type === 'auth' && m.name === name),
      { timeout, what: `the server's answer to Auth for "${name}"` });
  }
}

// ---------------------------------------------------------------------------------------------
// JSON protocol with Yjs updates

const SERVER = Symbol('from the server');

/**
 * A JSON-protocol client (/ws/fabric) that keeps its own Y.Doc: the server's {"type":"update"} messages are
 * applied with Y.applyUpdate, local changes go out as {"type":"update","update":<base64>,"id":n} and are
 * counted until their {"type":"ack"}; awareness arrives as {"type":"awareness","clientID","state"}.
 */
export class JsonYjsPeer {
  constructor(server, documentId, clientID, { doc = new Y.Doc(), name } = {}) {
    this.server = server;
    this.documentId = documentId;
    this.clientID = clientID;
    this.name = name ?? `json:${clientID}`;
    this.kind = 'json';
    this.doc = doc;
    this.awareness = new Map();   // clientID (number or string) -> state
    this.awarenessLog = [];       // every awareness message, in order
    this.errors = [];
    this.unacked = 0;
    this.synced = false;
    this.nextId = 1;
    this.hadContent = doc.store.clients.size > 0;
    // local changes made while the socket is not open are not queued (only content present at connect is sent)
    this.onDocUpdate = (update, origin) => {
      if (origin === SERVER || !this.client?.isOpen) return;
      this.unacked++;
      this.client.send({ type: 'update', update: Buffer.from(update).toString('base64'), id: this.nextId++ });
    };
    doc.on('update', this.onDocUpdate);
  }

  async connect() {
    this.client = await JsonClient.connect(this.server.fabricUrl(this.documentId, this.clientID), {
      name: this.name,
      onMessage: (m) => this.#onMessage(m),
    });
    await this.client.next('connected');
    this.client.send({ type: 'sync', stateVector: Buffer.from(Y.encodeStateVector(this.doc)).toString('base64') });
    await this.client.next('synced');
    this.synced = true;
    // content the document had before connecting goes up as one update (the server keeps no duplicates)
    if (this.hadContent) this.onDocUpdate(Y.encodeStateAsUpdate(this.doc), null);
    return this;
  }

  #onMessage(m) {
    switch (m.type) {
      case 'update':
        Y.applyUpdate(this.doc, Buffer.from(m.update, 'base64'), SERVER);
        break;
      case 'ack':
        this.unacked--;
        break;
      case 'awareness':
        this.awarenessLog.push(m);
        if (m.state === null) this.awareness.delete(m.clientID);
        else this.awareness.set(m.clientID, m.state);
        break;
      case 'error':
        this.errors.push(m);
        break;
      default:
    }
  }

  setAwareness(state) { this.client.send({ type: 'awareness', state }); }

  whenAcknowledged(timeout = 5_000) {
    return until(() => this.unacked === 0, { timeout, what: `${this.name} to have every update acknowledged`, detail: () => `unacked=${this.unacked}` });
  }

  destroy() {
    this.doc.off('update', this.onDocUpdate);
    this.client?.terminate();
  }

  close() { return this.client.close(); }
}

/**
 * A copy of a one-client update whose first struct has content ref 31 (no such content kind), which yjs
 * itself cannot decode: [clients][structs][client][clock][info] -> info := 0x1f (keeping no origin flags).
 */
export function withUnknownContentRef(update) {
  const d = decoding.createDecoder(update);
  for (let i = 0; i < 4; i++) decoding.readVarUint(d);   // client count, struct count, client id, first clock
  const at = d.pos;
  if ((update[at] & 0x1f) === 0 || (update[at] & 0x1f) === 10) throw new Error('the first struct is not an Item');
  const bad = Uint8Array.from(update);
  bad[at] = (update[at] & 0xe0) | 0x1f;
  return bad;
}
