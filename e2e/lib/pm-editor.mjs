// A headless ProseMirror collaborative editor (EditorState + prosemirror-collab, no view) that
// talks to the server's JSON protocol the way a real prosemirror-collab client would:
//
//   * local edits become unconfirmed steps; sendableSteps() are sent as {"type":"steps"}, one batch
//     in flight at a time;
//   * incoming {"type":"steps"} go through receiveTransaction (which confirms our own steps by
//     clientID and rebases the unconfirmed ones over everybody else's);
//   * {"type":"conflict"} -> re-sync from our version, then send the (rebased) steps again;
//   * disconnect()/connect() -> edit offline, then sync from the version we had.
//
//   const ed = new PMEditor({ server, documentId: 'doc', seed: 1 });
//   await ed.connect();
//   ed.randomEdits(5);
//   await ed.idle();                // everything we typed is confirmed by the server
import { collab, getVersion, receiveTransaction, sendableSteps } from 'prosemirror-collab';
import { schema } from 'prosemirror-schema-basic';
import { EditorState, TextSelection } from 'prosemirror-state';
import { Step } from 'prosemirror-transform';
import { JsonClient } from './json-client.mjs';

export { schema };

/** The agreed document at version 0: one empty paragraph. */
export function initialDoc() {
  return schema.topNodeType.createAndFill();
}

/** Small deterministic PRNG (mulberry32) so a failing random run can be replayed with its seed. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n); // 0 .. n-1
  next.pick = (arr) => arr[next.int(arr.length)];
  return next;
}

let clientCounter = 0;
/** A fresh numeric client id (compares equal whether the server echoes it as number or string). */
export function newClientID() {
  clientCounter += 1;
  return (Math.floor(Math.random() * 0x3fffffff) * 16 + clientCounter) >>> 0;
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'x', 'yz', 'lorem', 'ipsum', ' ', 'é', '字'];

export class PMEditor {
  /**
   * options: server (from startServer) or url (ws base url), documentId, clientID, seed,
   * name, autoFlush (default true: send steps as soon as possible), timeout (default waits).
   */
  constructor({ server, url, documentId, clientID = newClientID(), seed = 1, name, autoFlush = true, timeout = 10_000 }) {
    this.server = server;
    this.baseUrl = url;
    this.documentId = documentId;
    this.clientID = clientID;
    this.name = name ?? `editor ${clientID}`;
    this.random = rng(seed);
    this.autoFlush = autoFlush;
    this.timeout = timeout;

    this.state = EditorState.create({ schema, doc: initialDoc(), plugins: [collab({ clientID, version: 0 })] });

    this.client = null;        // current JsonClient
    this.connected = false;    // socket open and "connected" seen
    this.syncing = false;      // sync sent, "synced" not yet received
    this.inFlight = null;      // { version, count } of the steps batch awaiting echo or conflict
    this.lastConnected = null; // the server's "connected" message for the current connection
    this.lastSync = null;      // { request, messages } of the last sync exchange
    this.stats = { sent: 0, sentSteps: 0, confirmedBatches: 0, conflicts: 0, received: 0, duplicateSteps: 0, syncs: 0 };
    this.anomalies = [];       // protocol violations seen (gaps, unexpected messages)
    this.errors = [];          // {"type":"error"} messages from the server
    this.#waiters = new Set();
  }

  #waiters;

  get version() { return getVersion(this.state); }
  get doc() { return this.state.doc; }
  docJSON() { return this.state.doc.toJSON(); }
  text() { return this.state.doc.textBetween(0, this.state.doc.content.size, '\n'); }
  sendable() { return sendableSteps(this.state); }

  #url() {
    const base = this.server ? this.server.url : this.baseUrl;
    const q = new URLSearchParams({ documentId: this.documentId, clientID: String(this.clientID) });
    return `${base}/ws/fabric?${q}`;
  }

  // ------------------------------------------------------------------------------------------
  // connection

  /**
   * Open a connection, wait for "connected", then sync from our current version and wait for
   * "synced". Resolves { connected, sync: [messages of the sync reply] }.
   */
  async connect({ timeout = this.timeout } = {}) {
    if (this.client && !this.client.closeInfo) throw new Error(`${this.name}: already connected`);
    const client = new JsonClient(this.#url(), {
      name: this.name,
      timeout,
      onMessage: (msg, c) => this.#onMessage(msg, c),
    });
    this.client = client;
    client.closed.then(() => {
      if (this.client === client) {
        this.connected = false;
        this.syncing = false;
        this.inFlight = null;
        this.#notify();
      }
    });
    await client.opened;
    const connected = await client.next('connected', { timeout });
    await this.#awaitSynced(timeout);
    return { connected, sync: this.lastSync.messages };
  }

  async #awaitSynced(timeout) {
    await this.until(() => this.connected && !this.syncing, { what: 'the end of the sync ("synced")', timeout });
  }

  /** Close our socket cleanly (unconfirmed steps stay local and are sent after connect()). */
  async disconnect() {
    const c = this.client;
    if (!c) return;
    this.connected = false;
    this.syncing = false;
    this.inFlight = null;
    await c.close();
  }

  /** Send a sync for our current version. */
  sync() {
    const request = { type: 'sync', documentId: this.documentId, version: this.version };
    this.syncing = true;
    this.stats.syncs++;
    this.lastSync = { request, messages: [] };
    this.client.send(request);
  }

  // ------------------------------------------------------------------------------------------
  // incoming messages

  #onMessage(msg, client) {
    if (client !== this.client) return; // late message on a socket we already abandoned
    this.stats.received++;
    if (this.syncing && this.lastSync) this.lastSync.messages.push(msg);
    try {
      switch (msg.type) {
        case 'connected':
          this.lastConnected = msg;
          this.connected = true;
          this.inFlight = null;
          this.sync();
          break;
        case 'steps':
          this.#receiveSteps(msg);
          break;
        case 'conflict':
          this.stats.conflicts++;
          if (!this.inFlight) this.anomalies.push(`conflict without steps in flight: ${JSON.stringify(msg)}`);
          this.inFlight = null;
          if (!this.syncing) this.sync();
          break;
        case 'synced':
          if (!this.syncing) this.anomalies.push(`"synced" without a sync request: ${JSON.stringify(msg)}`);
          this.syncing = false;
          if (typeof msg.version === 'number' && msg.version > this.version) {
            this.anomalies.push(`"synced" says version ${msg.version} but the steps received only bring us to ${this.version}`);
          }
          break;
        case 'error':
          this.errors.push(msg);
          break;
        default:
          break; // update / awareness / ack: not used by the ProseMirror editor
      }
    } catch (err) {
      this.anomalies.push(`error handling ${msg.type}: ${err.stack || err}`);
    }
    this.#maybeFlush();
    this.#notify();
  }

  #receiveSteps(msg) {
    const ours = (id) => id == this.clientID; // eslint-disable-line eqeqeq -- number or string
    const current = this.version;
    if (!Array.isArray(msg.steps) || !Array.isArray(msg.clientIDs) || msg.steps.length !== msg.clientIDs.length ||
        typeof msg.version !== 'number') {
      this.anomalies.push(`malformed steps message: ${JSON.stringify(msg).slice(0, 300)}`);
      return;
    }
    if (msg.version > current) {
      this.anomalies.push(`gap: steps message starts at version ${msg.version} but we are at ${current}`);
      if (!this.syncing) this.sync();
      return;
    }
    let steps = msg.steps;
    let clientIDs = msg.clientIDs;
    const skip = current - msg.version;
    if (skip > 0) { // overlap with what we already have (e.g. broadcast and sync crossing)
      this.stats.duplicateSteps += Math.min(skip, steps.length);
      steps = steps.slice(skip);
      clientIDs = clientIDs.slice(skip);
    }
    if (steps.length === 0) return;

    if (this.inFlight && current === this.inFlight.version) {
      if (ours(clientIDs[0])) {
        this.inFlight = null; // our batch was committed (echo); confirmed below by receiveTransaction
        this.stats.confirmedBatches++;
      }
      // else: somebody else won this version; our batch will be answered with "conflict"
    }
    const parsed = steps.map((json) => Step.fromJSON(schema, json));
    this.state = this.state.apply(receiveTransaction(this.state, parsed, clientIDs));
  }

  // ------------------------------------------------------------------------------------------
  // outgoing steps

  #maybeFlush() {
    if (this.autoFlush) this.flush();
  }

  /**
   * Send our unconfirmed steps now if the protocol allows it (connected, not syncing, nothing
   * in flight). Returns the message sent, or null.
   */
  flush() {
    if (!this.connected || this.syncing || this.inFlight || !this.client?.isOpen) return null;
    const sendable = sendableSteps(this.state);
    if (!sendable) return null;
    const msg = { type: 'steps', version: sendable.version, steps: sendable.steps.map((s) => s.toJSON()) };
    this.inFlight = { version: sendable.version, count: sendable.steps.length };
    this.stats.sent++;
    this.stats.sentSteps += sendable.steps.length;
    this.client.send(msg);
    return msg;
  }

  // ------------------------------------------------------------------------------------------
  // local edits

  #apply(tr) {
    this.state = this.state.apply(tr);
    this.#maybeFlush();
    this.#notify();
    return tr;
  }

  /** Positions inside textblocks (where inline content may go), as [{pos, block start, block end}]. */
  #textPositions() {
    const out = [];
    this.state.doc.descendants((node, pos) => {
      if (node.isTextblock) {
        const start = pos + 1;
        const end = pos + 1 + node.content.size;
        for (let p = start; p <= end; p++) out.push({ pos: p, start, end });
        return false;
      }
      return true;
    });
    return out;
  }

  insertText(text, pos) {
    if (pos === undefined) pos = this.random.pick(this.#textPositions()).pos;
    return this.#apply(this.state.tr.insertText(text, pos));
  }

  /** Insert text at the end of the last textblock. */
  appendText(text) {
    const positions = this.#textPositions();
    return this.insertText(text, positions[positions.length - 1].pos);
  }

  deleteRange(from, to) {
    return this.#apply(this.state.tr.delete(from, to));
  }

  splitAt(pos) {
    return this.#apply(this.state.tr.split(pos));
  }

  addMark(from, to, markName = 'strong') {
    return this.#apply(this.state.tr.addMark(from, to, schema.marks[markName].create()));
  }

  /**
   * One random edit: insert text, delete a range (possibly across blocks), split a paragraph,
   * add or remove a mark. Returns a short description.
   */
  randomEdit() {
    const r = this.random;
    const positions = this.#textPositions();
    const size = this.state.doc.content.size;
    const kind = size < 8 ? 'insert' : r.pick(['insert', 'insert', 'insert', 'delete', 'split', 'mark', 'unmark']);
    const at = r.pick(positions);
    switch (kind) {
      case 'insert': {
        const text = r.pick(WORDS) + (r() < 0.5 ? ' ' : '');
        this.insertText(text, at.pos);
        return `insert ${JSON.stringify(text)} @${at.pos}`;
      }
      case 'delete': {
        const other = r() < 0.8
          ? at.start + r.int(at.end - at.start + 1) // inside the same block
          : r.pick(positions).pos;                  // possibly across blocks (joins them)
        const from = Math.min(at.pos, other);
        const to = Math.min(Math.max(at.pos, other), from + 12);
        if (from === to) return this.randomEdit();
        const tr = this.state.tr.delete(from, to);
        if (!tr.docChanged) return this.randomEdit();
        this.#apply(tr);
        return `delete ${from}-${to}`;
      }
      case 'split': {
        const tr = this.state.tr.split(at.pos);
        this.#apply(tr);
        return `split @${at.pos}`;
      }
      case 'mark':
      case 'unmark': {
        const to = Math.min(at.end, at.pos + 1 + r.int(6));
        if (to <= at.pos) return this.randomEdit();
        const mark = schema.marks[r.pick(['strong', 'em', 'code'])].create();
        const tr = kind === 'mark' ? this.state.tr.addMark(at.pos, to, mark) : this.state.tr.removeMark(at.pos, to, mark.type);
        if (!tr.docChanged) return this.randomEdit();
        this.#apply(tr);
        return `${kind} ${mark.type.name} ${at.pos}-${to}`;
      }
      default:
        throw new Error(kind);
    }
  }

  randomEdits(n) {
    const done = [];
    for (let i = 0; i < n; i++) done.push(this.randomEdit());
    return done;
  }

  // ------------------------------------------------------------------------------------------
  // waiting

  #notify() {
    for (const w of [...this.#waiters]) w();
  }

  /** Wait until condition(this) is truthy, re-checked after every message / edit. */
  until(condition, { what = String(condition), timeout = this.timeout, allowDisconnected = true } = {}) {
    return new Promise((resolve, reject) => {
      let timer;
      const check = () => {
        let v;
        try { v = condition(this); } catch (err) { done(); reject(err); return; }
        if (v) { done(); resolve(v); return; }
        if (!allowDisconnected && !this.connected && this.client?.closeInfo) {
          done();
          reject(new Error(`${this.name}: connection closed (${JSON.stringify(this.client.closeInfo)}) while waiting for ${what}; ${this.describe()}`));
        }
      };
      const done = () => { clearTimeout(timer); this.#waiters.delete(check); };
      timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: timed out after ${timeout} ms waiting for ${what}; ${this.describe()}`));
      }, timeout);
      this.#waiters.add(check);
      check();
    });
  }

  /** Everything we typed is confirmed: connected, not syncing, nothing in flight, no sendable steps. */
  idle(opts = {}) {
    return this.until(
      (e) => e.connected && !e.syncing && !e.inFlight && sendableSteps(e.state) === null,
      { what: 'all local steps to be confirmed', allowDisconnected: false, ...opts });
  }

  waitForVersion(v, opts = {}) {
    return this.until((e) => e.version >= v, { what: `version >= ${v}`, allowDisconnected: false, ...opts });
  }

  describe() {
    const s = sendableSteps(this.state);
    return `[${this.name}: version ${this.version}, connected ${this.connected}, syncing ${this.syncing}, ` +
      `inFlight ${JSON.stringify(this.inFlight)}, unconfirmed ${s ? s.steps.length : 0}, stats ${JSON.stringify(this.stats)}, ` +
      `anomalies ${JSON.stringify(this.anomalies)}, errors ${JSON.stringify(this.errors)}, ` +
      `last received ${JSON.stringify(this.client?.received.slice(-3) ?? []).slice(0, 600)}]`;
  }
}

/** Wait until every editor is idle and all are at the same version; returns that version. */
export async function settle(editors, { timeout = 15_000 } = {}) {
  const deadline = Date.now() + timeout;
  const left = () => Math.max(1, deadline - Date.now());
  for (;;) {
    await Promise.all(editors.map((e) => e.idle({ timeout: left() })));
    const target = Math.max(...editors.map((e) => e.version));
    await Promise.all(editors.map((e) => e.waitForVersion(target, { timeout: left() })));
    // receiving the last steps may have rebased nothing new, but check idleness again in case an
    // editor still had something to send (it would then bump the version again)
    if (editors.every((e) => e.connected && !e.syncing && !e.inFlight && !sendableSteps(e.state) && e.version === target)) {
      return target;
    }
  }
}

export { TextSelection };
