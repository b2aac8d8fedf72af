// A client for the server's JSON WebSocket protocol (/ws/fabric) with an awaitable message queue.
//
//   const c = await JsonClient.connect(server.fabricUrl('doc-1', 'client-1'));
//   const hello = await c.next('connected');            // first queued message of that type
//   c.send({ type: 'sync', documentId: 'doc-1', version: 0 });
//   const msgs = await c.collectUntil((m) => m.type === 'synced');
//   await c.waitFor((m) => m.type === 'awareness' && m.state === null, { timeout: 2000 });
//   await c.close();
//
// Every received message goes to `received` (the full log, never consumed) and to the queue that
// next()/waitFor()/collectUntil() consume from. Waits always have a timeout; a timeout or an
// unexpected close rejects with an error that lists what was received, so a failing test says why.
import WebSocket from 'ws';

export const DEFAULT_TIMEOUT_MS = 5_000;

function describe(msg) {
  const s = JSON.stringify(msg);
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}

export class JsonClient {
  /** Open a connection; resolves once the socket is open. */
  static connect(url, options = {}) {
    const client = new JsonClient(url, options);
    return client.opened.then(() => client);
  }

  /**
   * options: onMessage(msg, client) called synchronously for every message before it is queued
   * (registered before the socket opens, so nothing is missed); timeout (default for waits);
   * name (used in error messages).
   */
  constructor(url, { onMessage, timeout = DEFAULT_TIMEOUT_MS, name, headers } = {}) {
    this.url = url;
    this.name = name ?? url;
    this.defaultTimeout = timeout;
    this.received = [];
    this.queue = [];
    this.sent = [];
    this.closeInfo = null; // { code, reason } once closed
    this.#onMessage = onMessage;
    this.ws = new WebSocket(url, { headers, handshakeTimeout: timeout });

    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('unexpected-response', (req, res) => {
        let body = '';
        res.on('data', (c) => { body += c; });
        res.on('end', () => reject(new Error(`${this.name}: upgrade refused with HTTP ${res.statusCode}: ${body.slice(0, 500)}`)));
        res.on('error', () => reject(new Error(`${this.name}: upgrade refused with HTTP ${res.statusCode}`)));
      });
      this.ws.once('error', (err) => reject(new Error(`${this.name}: could not connect to ${url}: ${err.message}`)));
    });
    this.opened.catch(() => {}); // the rejection is reported to whoever awaits `opened`/connect

    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.#notify();
        resolve(this.closeInfo);
      });
    });
    this.ws.on('error', (err) => { this.lastError = err; });
    this.ws.on('message', (data, isBinary) => this.#receive(data, isBinary));
  }

  #onMessage;
  #waiters = new Set();

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  #receive(data, isBinary) {
    let msg;
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch {
      msg = { type: '__unparseable', binary: isBinary, raw: data.toString('utf8').slice(0, 500) };
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      msg = { type: '__not-an-object', raw: msg };
    }
    this.received.push(msg);
    if (this.#onMessage) {
      try { this.#onMessage(msg, this); } catch (err) { this.handlerError ??= err; }
    }
    this.queue.push(msg);
    this.#notify();
  }

  #notify() {
    for (const w of [...this.#waiters]) w.check();
  }

  send(msg) {
    if (!this.isOpen) throw new Error(`${this.name}: send on a socket that is not open: ${describe(msg)}`);
    this.sent.push(msg);
    this.ws.send(JSON.stringify(msg));
  }

  /**
   * Generic wait: `check()` returns undefined to keep waiting, anything else resolves the wait.
   * Rejects on timeout or when the socket closes (unless allowClosed).
   */
  #wait(what, check, { timeout = this.defaultTimeout, allowClosed = false } = {}) {
    return new Promise((resolve, reject) => {
      const waiter = {
        check: () => {
          let result;
          try {
            result = check();
          } catch (err) {
            finish();
            reject(err);
            return;
          }
          if (result !== undefined) {
            finish();
            resolve(result);
          } else if (this.closeInfo && !allowClosed) {
            finish();
            reject(new Error(`${this.name}: socket closed (code ${this.closeInfo.code}` +
              `${this.closeInfo.reason ? `, reason "${this.closeInfo.reason}"` : ''}) while waiting for ${what}; ` +
              this.#recentSummary()));
          }
        },
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${this.name}: timed out after ${timeout} ms waiting for ${what}; ${this.#recentSummary()}`));
      }, timeout);
      const finish = () => { clearTimeout(timer); this.#waiters.delete(waiter); };
      this.#waiters.add(waiter);
      waiter.check();
    });
  }

  #recentSummary() {
    const recent = this.received.slice(-8).map(describe);
    return `received ${this.received.length} message(s)` +
      (recent.length ? `, last: ${recent.join(' | ')}` : '') +
      `; ${this.queue.length} still queued`;
  }

  /**
   * Remove and return the first queued message of the given type (other messages stay queued).
   * Without a type: the next queued message, whatever it is.
   */
  next(type, opts = {}) {
    const pred = type === undefined ? () => true : (m) => m.type === type;
    return this.waitFor(pred, { ...opts, what: type === undefined ? 'any message' : `a "${type}" message` });
  }

  /** Remove and return the first queued message that satisfies the predicate. */
  waitFor(predicate, { what = `a message matching ${predicate}`, ...opts } = {}) {
    return this.#wait(what, () => {
      const i = this.queue.findIndex(predicate);
      if (i < 0) return undefined;
      return this.queue.splice(i, 1)[0];
    }, opts);
  }

  /**
   * Remove and return queued messages in order, up to and including the first one that satisfies
   * the predicate (e.g. a sync reply up to "synced").
   */
  collectUntil(predicate, { what = `a message matching ${predicate}`, ...opts } = {}) {
    return this.#wait(what, () => {
      const i = this.queue.findIndex(predicate);
      if (i < 0) return undefined;
      return this.queue.splice(0, i + 1);
    }, opts);
  }

  /** Wait until an arbitrary condition (re-checked on every message) holds; resolves its value. */
  until(condition, { what = `condition ${condition}`, ...opts } = {}) {
    return this.#wait(what, () => {
      const v = condition(this);
      return v ? v : undefined;
    }, opts);
  }

  /** Queued messages of a type, without consuming them. */
  peek(type) {
    return this.queue.filter((m) => type === undefined || m.type === type);
  }

  /** Drop everything queued so far (the `received` log keeps it). */
  drain() {
    const all = this.queue;
    this.queue = [];
    return all;
  }

  /**
   * Send a request and wait for the matching reply: request(msg, 'ack') etc. The queue is not
   * drained first, so make sure no stale message of that type is queued.
   */
  async request(msg, replyType, opts) {
    this.send(msg);
    return this.next(replyType, opts);
  }

  /** Close the connection and wait until it is closed. */
  async close(code = 1000, { timeout = this.defaultTimeout } = {}) {
    if (this.closeInfo) return this.closeInfo;
    if (this.ws.readyState === WebSocket.CONNECTING) {
      await this.opened.catch(() => {});
    }
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code);
    let timer;
    const result = await Promise.race([
      this.closed,
      new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeout); }),
    ]);
    clearTimeout(timer);
    if (!result) { // no closing handshake from the peer in time: drop the TCP connection
      this.ws.terminate();
      return this.closed;
    }
    return result;
  }

  /** Drop the TCP connection without a close handshake (simulates a network failure). */
  terminate() {
    this.ws.terminate();
    return this.closed;
  }
}

/** Convenience: connect to a server's /ws/fabric endpoint. */
export function connectFabric(server, documentId, clientID, options = {}) {
  return JsonClient.connect(server.fabricUrl(documentId, clientID), {
    name: `client ${clientID ?? '?'}@${documentId}`,
    ...options,
  });
}
