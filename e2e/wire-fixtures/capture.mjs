// Reference wire frames from the stock clients, for the Java codec tests.
//
//   node e2e/wire-fixtures/capture.mjs           prints fixtures (JSON, frames as base64) on stdout; they are
//                                                committed as captured.json (the unit tests read that file, so
//                                                `mvn test` needs no Node); regenerate it after a client upgrade:
//                                                node e2e/wire-fixtures/capture.mjs > e2e/wire-fixtures/captured.json
//                                                (StockClientDriveIT fails while it differs from a fresh capture)
//   node e2e/wire-fixtures/capture.mjs --drive   reads a script of server frames (JSON) on stdin, feeds it
//                                                to fresh stock providers and prints what they did
//
// Nothing here opens a network connection: the stock providers (@hocuspocus/provider, y-websocket) run
// against an in-memory WebSocket stand-in (their WebSocketPolyfill option) that records every frame they
// send and lets us deliver frames to them. Client frames therefore come from the real client code paths;
// the "server" reference frames are built with the same library encoders the clients decode them with
// (lib0 encoding, y-protocols sync/awareness/auth, @hocuspocus/common auth).
//
// Drive input:  { "hocuspocus": { "name": "doc", "token": "t", "steps": [step...] },
//                 "ywebsocket": { "room": "r", "steps": [step...] } }
//   step = { "frame": "<base64 server frame>" } | { "edit": "text appended to Y.Text 'body'" }
//        | { "stateless": "payload" } (hocuspocus only) | { "awareness": { ...local state } }
// Drive output: per provider { "opening": [client frames sent on open], "steps": [{ "sent": [client frames],
//               "events": [...], "state": {...} }] }
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as authProtocol from 'y-protocols/auth';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { writeAuthenticated, writePermissionDenied, writeTokenSyncRequest } from '@hocuspocus/common';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { WebsocketProvider } from 'y-websocket';

const CLIENT_ID = 3141592653; // > 2^31: exercises multi-byte varUints and Java longs
const SERVER_CLIENT_ID = 7;
const PEER_CLIENT_ID = 424242;
const HP_NAME = 'notes/doc-1';
const HP_TOKEN = 'secret-token';
const YWS_ROOM = 'room-1';

const b64 = (u8) => Buffer.from(u8).toString('base64');
const unb64 = (s) => new Uint8Array(Buffer.from(s, 'base64'));
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

/** In-memory WebSocket: records what the client sends, delivers what we give it. */
class FakeSocket {
  static instances = [];
  static last() {
    return FakeSocket.instances[FakeSocket.instances.length - 1];
  }

  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.CONNECTING = 0;
    this.OPEN = 1;
    this.CLOSING = 2;
    this.CLOSED = 3;
    this.readyState = 0;
    this.binaryType = 'blob';
    this.listeners = {};
    this.sent = [];
    this.closedWith = null;
    FakeSocket.instances.push(this);
  }

  addEventListener(name, fn) {
    (this.listeners[name] ??= []).push(fn);
  }

  removeEventListener(name, fn) {
    this.listeners[name] = (this.listeners[name] ?? []).filter((f) => f !== fn);
  }

  dispatch(name, event) {
    const prop = this['on' + name];
    if (typeof prop === 'function') prop.call(this, event);
    for (const fn of [...(this.listeners[name] ?? [])]) fn(event);
  }

  send(data) {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    this.sent.push(Uint8Array.from(bytes));
  }

  close(code, reason) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedWith = { code: code ?? 1005, reason: reason ?? '' };
    this.dispatch('close', { code: code ?? 1005, reason: reason ?? '', wasClean: true });
  }

  open() {
    this.readyState = 1;
    this.dispatch('open', { type: 'open' });
  }

  receive(bytes) {
    const copy = Uint8Array.from(bytes);
    this.dispatch('message', { data: copy.buffer });
  }

  takeSent() {
    const out = this.sent;
    this.sent = [];
    return out;
  }
}

function newDoc(clientID) {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  return doc;
}

function clientAwareness(doc) {
  const awareness = new Awareness(doc); // local state {} at clock 0
  awareness.setLocalState({ user: { name: 'Zoë 👩‍💻', color: '#30bced' }, cursor: null }); // clock 1
  return awareness;
}

/** The document a server would hold: one text insert by another client. */
function serverDocument() {
  const doc = newDoc(SERVER_CLIENT_ID);
  doc.getText('body').insert(0, 'hello from the server');
  return doc;
}

/** Awareness as a server would relay it: a peer with a state and a removed peer. */
function peerAwarenessUpdate() {
  const peerDoc = newDoc(PEER_CLIENT_ID);
  const peer = new Awareness(peerDoc);
  peer.setLocalState({ user: { name: 'Bob', color: '#ee6352' }, cursor: { anchor: 3, head: 5 } });
  const update = encodeAwarenessUpdate(peer, [PEER_CLIENT_ID]);
  peer.destroy();
  return update;
}

function frame(write) {
  const enc = encoding.createEncoder();
  write(enc);
  return encoding.toUint8Array(enc);
}

// ------------------------------------------------------------------------------------------------
// Hocuspocus provider

function hocuspocusHarness({ name = HP_NAME, token = HP_TOKEN } = {}) {
  const doc = newDoc(CLIENT_ID);
  const awareness = clientAwareness(doc);
  const events = [];
  const provider = new HocuspocusProvider({
    url: 'ws://127.0.0.1:1/',
    name,
    document: doc,
    awareness,
    token,
    WebSocketPolyfill: FakeSocket,
    onSynced: ({ state }) => events.push({ type: 'synced', state }),
    onUnsyncedChanges: ({ number }) => events.push({ type: 'unsyncedChanges', number }),
    onAuthenticated: ({ scope }) => events.push({ type: 'authenticated', scope }),
    onAuthenticationFailed: ({ reason }) => events.push({ type: 'authenticationFailed', reason }),
    onStateless: ({ payload }) => events.push({ type: 'stateless', payload }),
    onClose: ({ event }) => events.push({ type: 'close', code: event.code, reason: event.reason }),
    onConnect: () => events.push({ type: 'connect' }),
  });
  return { doc, awareness, events, provider };
}

function hocuspocusState(h) {
  return {
    synced: h.provider.synced,
    unsyncedChanges: h.provider.unsyncedChanges,
    hasUnsyncedChanges: h.provider.hasUnsyncedChanges,
    isAuthenticated: h.provider.isAuthenticated,
    authorizedScope: h.provider.authorizedScope ?? null,
    text: h.doc.getText('body').toString(),
    awareness: Object.fromEntries([...h.awareness.getStates()].map(([id, s]) => [String(id), s])),
  };
}

async function captureHocuspocus(server) {
  const h = hocuspocusHarness();
  await settle();
  const ws = FakeSocket.last();
  const url = ws.url;
  ws.open();
  await settle();
  const opening = ws.takeSent(); // token, sync step 1, awareness

  ws.receive(server.hp.syncStep1); // server's step 1 -> the client answers with step 2
  await settle();
  const step2Reply = ws.takeSent();

  ws.receive(server.hp.queryAwareness);
  await settle();
  const queryAwarenessReply = ws.takeSent();

  ws.receive(server.hp.ping);
  await settle();
  const pingReply = ws.takeSent();

  h.doc.getText('body').insert(0, 'héllo 👋');
  const updateFrames = ws.takeSent();

  h.provider.sendStateless('{"action":"hello","value":"wörld"}');
  const statelessFrames = ws.takeSent();

  h.provider.destroy(); // awareness removal, then Close for the document
  await settle();
  const destroyFrames = ws.takeSent();

  return {
    url,
    name: HP_NAME,
    token: HP_TOKEN,
    clientId: CLIENT_ID,
    opening: opening.map(b64),
    step2Reply: step2Reply.map(b64),
    queryAwarenessReply: queryAwarenessReply.map(b64),
    pingReply: pingReply.map(b64),
    update: updateFrames.map(b64),
    stateless: statelessFrames.map(b64),
    destroy: destroyFrames.map(b64),
    events: h.events,
  };
}

// ------------------------------------------------------------------------------------------------
// y-websocket provider

function ywebsocketHarness({ room = YWS_ROOM } = {}) {
  const doc = newDoc(CLIENT_ID);
  const awareness = clientAwareness(doc);
  const events = [];
  const warnings = [];
  const provider = new WebsocketProvider('ws://127.0.0.1:1/', room, doc, {
    awareness,
    WebSocketPolyfill: FakeSocket,
    disableBc: true,
    params: { token: 'abc' },
  });
  provider.on('sync', (state) => events.push({ type: 'sync', state }));
  provider.on('status', ({ status }) => events.push({ type: 'status', status }));
  provider.on('closed', ({ code, reason }) => events.push({ type: 'closed', code, reason }));
  return { doc, awareness, events, warnings, provider };
}

function ywebsocketState(h) {
  return {
    synced: h.provider.synced,
    wsconnected: h.provider.wsconnected,
    text: h.doc.getText('body').toString(),
    awareness: Object.fromEntries([...h.awareness.getStates()].map(([id, s]) => [String(id), s])),
  };
}

async function captureYWebsocket(server) {
  const h = ywebsocketHarness();
  const ws = FakeSocket.last();
  const url = ws.url;
  ws.open();
  const opening = ws.takeSent(); // sync step 1, awareness

  ws.receive(server.yws.syncStep1);
  const step2Reply = ws.takeSent();

  ws.receive(server.yws.queryAwareness);
  const queryAwarenessReply = ws.takeSent();

  h.doc.getText('body').insert(0, 'héllo 👋');
  const updateFrames = ws.takeSent();

  h.awareness.setLocalStateField('cursor', { anchor: 1, head: 2 });
  const awarenessFrames = ws.takeSent();

  h.provider.disconnect(); // awareness removal, then the socket is closed
  const disconnectFrames = ws.takeSent();
  h.provider.destroy();

  return {
    url,
    room: YWS_ROOM,
    clientId: CLIENT_ID,
    opening: opening.map(b64),
    step2Reply: step2Reply.map(b64),
    queryAwarenessReply: queryAwarenessReply.map(b64),
    update: updateFrames.map(b64),
    awarenessChange: awarenessFrames.map(b64),
    disconnect: disconnectFrames.map(b64),
  };
}

// ------------------------------------------------------------------------------------------------
// Reference server frames, built with the encoders the clients decode them with

function referenceServerFrames() {
  const serverDoc = serverDocument();
  const stateVector = Y.encodeStateVector(serverDoc);
  const fullUpdate = Y.encodeStateAsUpdate(serverDoc);
  const awarenessUpdate = peerAwarenessUpdate();
  const doc = (enc, type) => {
    encoding.writeVarString(enc, HP_NAME);
    encoding.writeVarUint(enc, type);
  };
  const hp = {
    syncStep1: frame((e) => { doc(e, 0); syncProtocol.writeSyncStep1(e, serverDoc); }),
    syncStep2: frame((e) => { doc(e, 0); syncProtocol.writeSyncStep2(e, serverDoc); }),
    update: frame((e) => { doc(e, 0); syncProtocol.writeUpdate(e, fullUpdate); }),
    awareness: frame((e) => { doc(e, 1); encoding.writeVarUint8Array(e, awarenessUpdate); }),
    queryAwareness: frame((e) => doc(e, 3)),
    authenticatedReadWrite: frame((e) => { doc(e, 2); writeAuthenticated(e, 'read-write'); }),
    authenticatedReadonly: frame((e) => { doc(e, 2); writeAuthenticated(e, 'readonly'); }),
    permissionDenied: frame((e) => { doc(e, 2); writePermissionDenied(e, 'invalid token'); }),
    tokenRequest: frame((e) => { doc(e, 2); writeTokenSyncRequest(e); }),
    // the provider reads the flag with readVarInt; 1 = applied
    syncStatusApplied: frame((e) => { doc(e, 8); encoding.writeVarInt(e, 1); }),
    syncStatusRefused: frame((e) => { doc(e, 8); encoding.writeVarInt(e, 0); }),
    stateless: frame((e) => { doc(e, 5); encoding.writeVarString(e, '{"hello":"wörld"}'); }),
    close: frame((e) => { doc(e, 7); encoding.writeVarString(e, 'Forbidden'); }),
    ping: frame((e) => encoding.writeVarUint(e, 9)),
  };
  const yws = {
    syncStep1: frame((e) => { encoding.writeVarUint(e, 0); syncProtocol.writeSyncStep1(e, serverDoc); }),
    syncStep2: frame((e) => { encoding.writeVarUint(e, 0); syncProtocol.writeSyncStep2(e, serverDoc); }),
    update: frame((e) => { encoding.writeVarUint(e, 0); syncProtocol.writeUpdate(e, fullUpdate); }),
    awareness: frame((e) => { encoding.writeVarUint(e, 1); encoding.writeVarUint8Array(e, awarenessUpdate); }),
    queryAwareness: frame((e) => encoding.writeVarUint(e, 3)),
    permissionDenied: frame((e) => { encoding.writeVarUint(e, 2); authProtocol.writePermissionDenied(e, 'no access'); }),
  };
  serverDoc.destroy();
  return {
    inputs: {
      name: HP_NAME,
      stateVector,
      update: fullUpdate,
      awarenessUpdate,
      awarenessClientId: PEER_CLIENT_ID,
      permissionDenied: { hocuspocus: 'invalid token', ywebsocket: 'no access' },
      stateless: '{"hello":"wörld"}',
      close: 'Forbidden',
    },
    hp,
    yws,
  };
}

function packageVersion(name) {
  const file = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

function encodeAll(obj) {
  if (obj instanceof Uint8Array) return b64(obj);
  if (Array.isArray(obj)) return obj.map(encodeAll);
  if (obj && typeof obj === 'object') {
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, encodeAll(v)]));
  }
  return obj;
}

async function capture() {
  const server = referenceServerFrames();
  const hocuspocus = await captureHocuspocus(server);
  const ywebsocket = await captureYWebsocket(server);
  return {
    versions: {
      hocuspocusProvider: packageVersion('@hocuspocus/provider'),
      yWebsocket: packageVersion('y-websocket'),
      yProtocols: packageVersion('y-protocols'),
      yjs: packageVersion('yjs'),
    },
    server: encodeAll({ inputs: server.inputs, hocuspocus: server.hp, ywebsocket: server.yws }),
    hocuspocus,
    ywebsocket,
  };
}

// ------------------------------------------------------------------------------------------------
// Drive mode: feed server frames (e.g. produced by the Java encoders) to the real providers

async function runSteps(steps, ws, h, state) {
  const out = [];
  for (const step of steps) {
    h.events.length = 0;
    if (step.frame !== undefined) {
      ws.receive(unb64(step.frame));
    } else if (step.edit !== undefined) {
      const text = h.doc.getText('body');
      text.insert(text.length, step.edit);
    } else if (step.stateless !== undefined) {
      h.provider.sendStateless(step.stateless);
    } else if (step.awareness !== undefined) {
      h.awareness.setLocalState(step.awareness);
    } else {
      throw new Error('unknown step ' + JSON.stringify(step));
    }
    await settle();
    out.push({
      sent: ws.takeSent().map(b64),
      events: [...h.events],
      closedWith: ws.closedWith,
      state: state(h),
    });
  }
  return out;
}

async function drive(input) {
  const result = {};
  const originalWarn = console.warn;
  const originalError = console.error;
  const logged = [];
  console.warn = (...args) => logged.push({ level: 'warn', message: args.map(String).join(' ') });
  console.error = (...args) => logged.push({ level: 'error', message: args.map(String).join(' ') });
  try {
    if (input.hocuspocus) {
      const h = hocuspocusHarness({ name: input.hocuspocus.name, token: input.hocuspocus.token });
      await settle();
      const ws = FakeSocket.last();
      ws.open();
      await settle();
      const opening = ws.takeSent().map(b64);
      const initialState = hocuspocusState(h);
      const steps = await runSteps(input.hocuspocus.steps ?? [], ws, h, hocuspocusState);
      h.provider.destroy();
      result.hocuspocus = { opening, initialState, steps };
    }
    if (input.ywebsocket) {
      const h = ywebsocketHarness({ room: input.ywebsocket.room });
      const ws = FakeSocket.last();
      ws.open();
      const opening = ws.takeSent().map(b64);
      const initialState = ywebsocketState(h);
      const steps = await runSteps(input.ywebsocket.steps ?? [], ws, h, ywebsocketState);
      h.provider.destroy();
      result.ywebsocket = { opening, initialState, steps };
    }
  } finally {
    console.warn = originalWarn;
    console.error = originalError;
  }
  result.logged = logged;
  return result;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const mode = process.argv[2];
let output;
if (mode === '--drive') {
  output = await drive(JSON.parse(await readStdin()));
} else if (mode === undefined) {
  output = await capture();
} else {
  console.error('usage: node capture.mjs [--drive]');
  process.exit(2);
}
process.stdout.write(JSON.stringify(output, null, 2) + '\n', () => process.exit(0));
