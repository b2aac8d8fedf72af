// Yjs mode: y-prosemirror bound to a Y.Doc that the stock y-websocket provider syncs through the
// server's /yjs/<doc> endpoint. Offline edits stay in the Y.Doc and merge on reconnect (the
// provider exchanges state vectors as its first step).
import { EditorState } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import { WebsocketProvider } from 'y-websocket';
import { redoCommand, undoCommand, yCursorPlugin, ySyncPlugin, yUndoPlugin } from 'y-prosemirror';
import * as Y from 'yjs';
import { wsBase } from '../shared/dom.js';
import { formattingKeymap, markdownishInputRules, readOnlyGuard, toolbarPlugin } from './commands.js';
import { caretBuilder, selectionBuilder } from './cursors.js';
import { failureHint } from './status.js';
import { schema } from './schema.js';

const DENIED_CODES = new Set([1008, 4401, 4403]);

export function startYjsEditor({ mount, toolbar, documentId, token, user, onStatus, onPeople }) {
  const ydoc = new Y.Doc();
  const provider = new WebsocketProvider(`${wsBase()}/yjs`, documentId, ydoc, {
    params: token ? { token } : {},
    disableBc: true, // every change goes through the server, even between tabs of one browser
    connect: false,
  });
  const awareness = provider.awareness;
  awareness.setLocalStateField('user', { name: user.name, color: user.color });

  const history = { undo: undoCommand, redo: redoCommand };
  const state = EditorState.create({
    schema,
    plugins: [
      ySyncPlugin(ydoc.getXmlFragment('prosemirror')),
      yCursorPlugin(awareness, { cursorBuilder: caretBuilder, selectionBuilder }),
      yUndoPlugin(),
      readOnlyGuard(),
      markdownishInputRules(),
      ...formattingKeymap(history),
      toolbarPlugin(toolbar, history),
    ],
  });
  const view = new EditorView(mount, { state, attributes: { spellcheck: 'true', 'aria-label': 'Document' } });

  // --- connection state ---------------------------------------------------------------------
  let failures = 0; // connections closed since the last successful sync
  let everSynced = false;
  let offline = !navigator.onLine;
  let denied = null;
  const report = () => {
    let status;
    if (denied) status = 'denied';
    else if (offline) status = 'offline';
    else if (provider.wsconnected && provider.synced) status = 'connected';
    else status = failures > 0 || everSynced ? 'reconnecting' : 'connecting';
    onStatus(status, denied ? `closed: ${denied.reason || denied.code}` : failureHint(failures, token));
  };
  provider.on('status', report);
  provider.on('sync', (synced) => { if (synced) { failures = 0; everSynced = true; } report(); });
  provider.on('connection-close', () => { if (!offline) failures++; report(); });
  provider.on('closed', (event) => {
    if (DENIED_CODES.has(event.code)) { denied = event; report(); }
  });

  // The browser knows first when the network is gone: drop the socket right away (edits keep
  // going into the Y.Doc) and reconnect as soon as it is back instead of waiting for a backoff.
  const goOffline = () => { offline = true; provider.disconnect(); report(); };
  const goOnline = () => { offline = false; if (!denied) provider.connect(); report(); };
  window.addEventListener('offline', goOffline);
  window.addEventListener('online', goOnline);

  // --- people ---------------------------------------------------------------------------------
  const people = () => {
    const list = [];
    awareness.getStates().forEach((s, clientID) => {
      if (!s?.user) return;
      list.push({ id: clientID, name: String(s.user.name ?? 'Anonymous'), color: s.user.color, self: clientID === ydoc.clientID });
    });
    onPeople(list);
  };
  awareness.on('change', people);

  if (!offline) provider.connect();
  report();
  people();

  return {
    mode: 'yjs',
    view,
    setUser(next) { awareness.setLocalStateField('user', { name: next.name, color: next.color }); },
    text: () => view.state.doc.textContent,
    debug: () => ({ mode: 'yjs', wsconnected: provider.wsconnected, synced: provider.synced, clientID: ydoc.clientID }),
    destroy() {
      window.removeEventListener('offline', goOffline);
      window.removeEventListener('online', goOnline);
      provider.destroy();
      view.destroy();
      ydoc.destroy();
    },
  };
}
