// Remote carets and selections. Yjs mode feeds y-prosemirror's yCursorPlugin with caretBuilder /
// selectionBuilder below (so its `.ProseMirror-yjs-cursor` elements get the same look); steps
// mode uses remoteCursorsPlugin, which draws `.remote-cursor` carets from JSON awareness states
// and maps their positions through every local transaction until the next awareness update.
import { Plugin, PluginKey } from 'prosemirror-state';
import { Decoration, DecorationSet } from 'prosemirror-view';

function caretLabel(user) {
  const label = document.createElement('span');
  label.className = 'collab-caret-label';
  label.style.backgroundColor = user.color;
  label.textContent = user.name;
  return label;
}

/** y-prosemirror cursorBuilder: keeps the stock class, adds ours. */
export function caretBuilder(user) {
  const caret = document.createElement('span');
  caret.className = 'ProseMirror-yjs-cursor collab-caret';
  caret.style.borderColor = user.color;
  caret.style.setProperty('--caret-color', user.color);
  caret.append('\u2060', caretLabel(user), '\u2060');
  return caret;
}

export function selectionBuilder(user) {
  return { style: `background-color: ${user.color}33`, class: 'ProseMirror-yjs-selection collab-selection' };
}

export const remoteCursorsKey = new PluginKey('remote-cursors');

function stepsCaret(user, clientID) {
  const caret = document.createElement('span');
  caret.className = 'remote-cursor collab-caret';
  caret.dataset.client = String(clientID);
  caret.style.borderColor = user.color;
  caret.style.setProperty('--caret-color', user.color);
  caret.append('\u2060', caretLabel(user), '\u2060');
  return caret;
}

const validColor = (c) => (typeof c === 'string' && /^#[0-9a-f]{6}$/i.test(c) ? c : '#868e96');

function buildDecorations(doc, cursors) {
  const max = doc.content.size;
  const decos = [];
  for (const [clientID, c] of cursors) {
    const user = { name: String(c.user?.name ?? `User ${clientID}`).slice(0, 64), color: validColor(c.user?.color) };
    const anchor = Math.max(0, Math.min(c.anchor, max));
    const head = Math.max(0, Math.min(c.head, max));
    decos.push(Decoration.widget(head, () => stepsCaret(user, clientID), { key: `${clientID}:${user.name}:${user.color}`, side: 10 }));
    if (anchor !== head) {
      decos.push(Decoration.inline(Math.min(anchor, head), Math.max(anchor, head),
        { style: `background-color: ${user.color}33`, class: 'remote-selection collab-selection' },
        { inclusiveStart: false, inclusiveEnd: true }));
    }
  }
  return DecorationSet.create(doc, decos);
}

/**
 * Plugin state: Map clientID -> { user, anchor, head } in this editor's coordinates. Set the whole
 * map with tr.setMeta(remoteCursorsKey, map).
 */
export function remoteCursorsPlugin() {
  return new Plugin({
    key: remoteCursorsKey,
    state: {
      init: (_, state) => ({ cursors: new Map(), decos: DecorationSet.create(state.doc, []) }),
      apply(tr, value, _old, newState) {
        const next = tr.getMeta(remoteCursorsKey);
        if (next) return { cursors: next, decos: buildDecorations(newState.doc, next) };
        if (!tr.docChanged) return value;
        const cursors = new Map();
        for (const [id, c] of value.cursors) {
          cursors.set(id, { ...c, anchor: tr.mapping.map(c.anchor), head: tr.mapping.map(c.head) });
        }
        return { cursors, decos: buildDecorations(newState.doc, cursors) };
      },
    },
    props: {
      decorations: (state) => remoteCursorsKey.getState(state).decos,
    },
  });
}
