// Steps mode: prosemirror-collab over the server's JSON protocol (/ws/fabric, docs/protocol.md).
//
//   * local edits become unconfirmed steps; one batch is in flight at a time ({"type":"steps"});
//   * incoming steps go through receiveTransaction, which confirms ours (by clientID) and rebases
//     the unconfirmed ones over everybody else's;
//   * {"type":"conflict"} and every (re)connect -> {"type":"sync","version":v}, then send again;
//   * offline: edits pile up as unconfirmed steps and are sent after the next sync;
//   * collaborators come from {"type":"awareness"} messages: name, colour and selection.
import { collab, getVersion, receiveTransaction, sendableSteps } from 'prosemirror-collab';
import { history, redo, undo } from 'prosemirror-history';
import { EditorState } from 'prosemirror-state';
import { Step } from 'prosemirror-transform';
import { EditorView } from 'prosemirror-view';
import { wsBase } from '../shared/dom.js';
import { formattingKeymap, markdownishInputRules, readOnlyGuard, toolbarPlugin } from './commands.js';
import { remoteCursorsKey, remoteCursorsPlugin } from './cursors.js';
import { failureHint } from './status.js';
import { initialDoc, schema } from './schema.js';

const DENIED_CODES = new Set([1008, 4401, 4403]);
const PING_EVERY_MS = 10_000;
const SILENCE_LIMIT_MS = 30_000; // nothing at all from the server for this long: reconnect
const MAX_BACKOFF_MS = 2_500;

function randomClientID() {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return 'pm-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function startStepsEditor({ mount, toolbar, documentId, token, user, onStatus, onPeople }) {
  const clientID = randomClientID(); // one per page: the server confirms our steps by it
  let me = { name: user.name, color: user.color };

  const hist = { undo, redo };
  const view = new EditorView(mount, {
    state: EditorState.create({
      schema,
      doc: initialDoc(),
      plugins: [
        collab({ version: 0, clientID }),
        history(),
        remoteCursorsPlugin(),
        readOnlyGuard(),
        markdownishInputRules(),
        ...formattingKeymap(hist),
        toolbarPlugin(toolbar, hist),
      ],
    }),
    attributes: { spellcheck: 'true', 'aria-label': 'Document' },
    dispatchTransaction(tr) {
      const before = view.state;
      view.updateState(view.state.apply(tr));
      if (tr.docChanged) flush();
      if (!before.selection.eq(view.state.selection) || tr.docChanged) scheduleAwareness();
    },
  });

  // --- connection -----------------------------------------------------------------------------
  let ws = null;
  let ready = false;      // "synced" seen on the current socket
  let syncing = false;    // a sync is outstanding
  let inFlight = null;    // { version } of the steps batch awaiting its echo or a conflict
  let offline = !navigator.onLine;
  let denied = null;
  let attempts = 0;       // failed connections in a row
  let everSynced = false;
  let reconnectTimer = null;
  let pingTimer = null;
  let lastHeard = 0;
  const remote = new Map(); // clientID -> awareness state (other people)
  const stats = { sentBatches: 0, conflicts: 0, syncs: 0, received: 0, reconnects: 0 };

  const report = () => {
    let status;
    if (denied) status = 'denied';
    else if (offline) status = 'offline';
    else if (ready) status = 'connected';
    else status = attempts > 0 || everSynced ? 'reconnecting' : 'connecting';
    const pending = sendableSteps(view.state)?.steps.length ?? 0;
    onStatus(status, denied ? `closed: ${denied.reason || denied.code}`
      : failureHint(attempts, token) || (pending && status !== 'offline' ? `${pending} unsent` : ''));
  };

  const send = (msg) => {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(msg)); return true; }
    return false;
  };

  function url() {
    const q = new URLSearchParams({ documentId, clientID });
    if (token) q.set('token', token);
    return `${wsBase()}/ws/fabric?${q}`;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (ws || offline || denied) return;
    const socket = new WebSocket(url());
    ws = socket;
    ready = false;
    syncing = false;
    inFlight = null;
    report();
    socket.onopen = () => { lastHeard = Date.now(); };
    socket.onmessage = (event) => {
      if (ws !== socket) return;
      lastHeard = Date.now();
      let msg;
      try { msg = JSON.parse(event.data); } catch { return; }
      handle(msg);
    };
    socket.onclose = (event) => {
      if (ws !== socket) return;
      dropped(event);
    };
  }

  function dropped(event) {
    ws = null;
    ready = false;
    syncing = false;
    inFlight = null;
    if (remote.size) { remote.clear(); refreshPeople(); }
    if (event && DENIED_CODES.has(event.code)) denied = event;
    report();
    if (!offline && !denied) {
      attempts++;
      stats.reconnects++;
      reconnectTimer = setTimeout(connect, Math.min(100 * 2 ** attempts, MAX_BACKOFF_MS));
    }
  }

  function closeSocket() {
    const socket = ws;
    if (!socket) return;
    ws = null;
    try { socket.close(1000, 'client going away'); } catch { /* already closed */ }
    dropped(null);
  }

  function sync() {
    syncing = true;
    stats.syncs++;
    send({ type: 'sync', documentId, version: getVersion(view.state) });
  }

  function handle(msg) {
    switch (msg.type) {
      case 'connected':
        sync();
        break;
      case 'steps':
        receiveSteps(msg);
        break;
      case 'conflict':
        stats.conflicts++;
        inFlight = null;
        if (!syncing) sync();
        break;
      case 'synced':
        syncing = false;
        ready = true;
        attempts = 0;
        everSynced = true;
        inFlight = null; // whatever was in flight is either in the sync reply or must go again
        sendAwareness();
        flush();
        report();
        break;
      case 'awareness':
        receiveAwareness(msg);
        break;
      case 'error':
        console.warn('collab server error', msg);
        if (inFlight && (msg.code === 'invalid-version' || msg.code === 'invalid-steps')) {
          inFlight = null;
          if (!syncing) sync();
        }
        break;
      default: // pong, update (Yjs state of the same document), message, ack
        break;
    }
  }

  function receiveSteps(msg) {
    stats.received++;
    const version = getVersion(view.state);
    const steps = Array.isArray(msg.steps) ? msg.steps : [];
    const ids = Array.isArray(msg.clientIDs) ? msg.clientIDs : [];
    if (msg.version > version) { // a gap: we missed something, catch up from where we are
      if (!syncing) sync();
      return;
    }
    const skip = version - msg.version; // already applied (overlap after a resync)
    if (skip >= steps.length) return;
    let parsed;
    try {
      parsed = steps.slice(skip).map((j) => Step.fromJSON(schema, j));
    } catch (err) {
      console.error('cannot parse steps from the server', err);
      return;
    }
    const tr = receiveTransaction(view.state, parsed, ids.slice(skip).map(String), { mapSelectionBackward: true });
    view.dispatch(tr);
    if (inFlight && ids.some((id) => String(id) === clientID)) inFlight = null;
    flush();
    report();
  }

  function flush() {
    if (!ready || syncing || inFlight) { report(); return; }
    const sendable = sendableSteps(view.state);
    if (!sendable) { report(); return; }
    if (send({ type: 'steps', version: sendable.version, steps: sendable.steps.map((s) => s.toJSON()) })) {
      inFlight = { version: sendable.version };
      stats.sentBatches++;
    }
    report();
  }

  // --- awareness --------------------------------------------------------------------------------
  let awarenessTimer = null;
  function scheduleAwareness() {
    if (awarenessTimer) return;
    awarenessTimer = setTimeout(() => { awarenessTimer = null; sendAwareness(); }, 60);
  }

  function sendAwareness() {
    if (!ready) return;
    const { anchor, head } = view.state.selection;
    send({
      type: 'awareness',
      state: { user: me, cursor: { anchor, head }, mode: 'steps' },
    });
  }

  function receiveAwareness(msg) {
    const id = String(msg.clientID);
    if (id === clientID) return;
    if (msg.state == null) remote.delete(id);
    else remote.set(id, msg.state);
    refreshPeople();
  }

  function refreshPeople() {
    const cursors = new Map();
    const list = [{ id: clientID, name: me.name, color: me.color, self: true }];
    for (const [id, s] of remote) {
      if (!s || typeof s !== 'object' || !s.user) continue;
      list.push({ id, name: String(s.user.name ?? 'Anonymous'), color: s.user.color, self: false });
      // only JSON-protocol editors of this mode share positions in ProseMirror coordinates
      const c = s.cursor;
      if (s.mode === 'steps' && c && Number.isInteger(c.anchor) && Number.isInteger(c.head)) {
        cursors.set(id, { user: s.user, anchor: c.anchor, head: c.head });
      }
    }
    view.dispatch(view.state.tr.setMeta(remoteCursorsKey, cursors).setMeta('addToHistory', false));
    onPeople(list);
  }

  // --- liveness, network events -----------------------------------------------------------------
  pingTimer = setInterval(() => {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastHeard > SILENCE_LIMIT_MS) { closeSocket(); return; }
    send({ type: 'ping' });
  }, PING_EVERY_MS);

  const goOffline = () => { offline = true; closeSocket(); report(); };
  const goOnline = () => { offline = false; connect(); report(); };
  window.addEventListener('offline', goOffline);
  window.addEventListener('online', goOnline);

  connect();
  report();
  refreshPeople();

  return {
    mode: 'steps',
    view,
    setUser(next) {
      me = { name: next.name, color: next.color };
      sendAwareness();
      refreshPeople();
    },
    text: () => view.state.doc.textContent,
    debug: () => ({
      mode: 'steps', clientID, version: getVersion(view.state), ready, syncing, inFlight,
      unsent: sendableSteps(view.state)?.steps.length ?? 0, ...stats,
    }),
    destroy() {
      window.removeEventListener('offline', goOffline);
      window.removeEventListener('online', goOnline);
      clearInterval(pingTimer);
      clearTimeout(reconnectTimer);
      closeSocket();
      view.destroy();
    },
  };
}
