// Formatting commands, keymaps, input rules and the toolbar, shared by both modes. Undo and redo
// are passed in, since each mode has its own history (y-prosemirror's UndoManager or
// prosemirror-history), both of which only undo the local user's changes.
import { baseKeymap, chainCommands, exitCode, setBlockType, toggleMark } from 'prosemirror-commands';
import {
  InputRule, inputRules, smartQuotes, ellipsis, emDash, textblockTypeInputRule, wrappingInputRule,
} from 'prosemirror-inputrules';
import { keymap } from 'prosemirror-keymap';
import { Plugin } from 'prosemirror-state';
import { liftListItem, sinkListItem, splitListItem, wrapInList } from 'prosemirror-schema-list';
import { h } from '../shared/dom.js';
import { schema } from './schema.js';

const { strong, em, code } = schema.marks;
const { heading, paragraph, bullet_list: bulletList, ordered_list: orderedList, list_item: listItem,
  hard_break: hardBreak, blockquote } = schema.nodes;

function markActive(state, type) {
  const { from, $from, to, empty } = state.selection;
  if (empty) return !!type.isInSet(state.storedMarks || $from.marks());
  return state.doc.rangeHasMark(from, to, type);
}

function blockActive(state, type, attrs = {}) {
  const { $from, to } = state.selection;
  if (to > $from.end()) return false;
  const parent = $from.parent;
  return parent.type === type && Object.entries(attrs).every(([k, v]) => parent.attrs[k] === v);
}

function listType(state) {
  const { $from } = state.selection;
  for (let d = $from.depth; d > 0; d--) {
    const node = $from.node(d);
    if (node.type === bulletList || node.type === orderedList) return node.type;
  }
  return null;
}

/** Heading level n, or back to a paragraph when the block already is one. */
function toggleHeading(level) {
  return (state, dispatch) => blockActive(state, heading, { level })
    ? setBlockType(paragraph)(state, dispatch)
    : setBlockType(heading, { level })(state, dispatch);
}

/** Wrap in a list of this type; inside one: switch its type, or lift out when it already is. */
function toggleList(type) {
  return (state, dispatch) => {
    const current = listType(state);
    if (!current) return wrapInList(type)(state, dispatch);
    if (current === type) return liftListItem(listItem)(state, dispatch);
    const { $from } = state.selection;
    for (let d = $from.depth; d > 0; d--) {
      if ($from.node(d).type === current) {
        if (dispatch) dispatch(state.tr.setNodeMarkup($from.before(d), type));
        return true;
      }
    }
    return false;
  };
}

/** Swallows editing keys (undo, formatting, Enter…) while the editor is not editable (read-only token). */
export function readOnlyGuard() {
  return new Plugin({
    props: {
      handleKeyDown: (view, event) => !view.editable && !event.key.startsWith('Arrow') && !['Home', 'End', 'PageUp', 'PageDown', 'Tab'].includes(event.key),
    },
  });
}

export function formattingKeymap({ undo, redo }) {
  const isMac = typeof navigator !== 'undefined' && /Mac|iP(hone|[oa]d)/.test(navigator.platform);
  const keys = {
    'Mod-z': undo,
    'Shift-Mod-z': redo,
    'Mod-b': toggleMark(strong),
    'Mod-B': toggleMark(strong),
    'Mod-i': toggleMark(em),
    'Mod-I': toggleMark(em),
    'Mod-`': toggleMark(code),
    'Mod-Alt-0': setBlockType(paragraph),
    'Mod-Alt-1': toggleHeading(1),
    'Mod-Alt-2': toggleHeading(2),
    'Mod-Alt-3': toggleHeading(3),
    'Shift-Ctrl-8': toggleList(bulletList),
    'Shift-Ctrl-9': toggleList(orderedList),
    Enter: splitListItem(listItem),
    'Mod-[': liftListItem(listItem),
    'Mod-]': sinkListItem(listItem),
    Tab: sinkListItem(listItem),
    'Shift-Tab': liftListItem(listItem),
  };
  if (!isMac) keys['Mod-y'] = redo;
  const br = chainCommands(exitCode, (state, dispatch) => {
    if (dispatch) dispatch(state.tr.replaceSelectionWith(hardBreak.create()).scrollIntoView());
    return true;
  });
  keys['Shift-Enter'] = br;
  if (isMac) keys['Ctrl-Enter'] = br;
  return [keymap(keys), keymap(baseKeymap)];
}

export function markdownishInputRules() {
  return inputRules({
    rules: [
      ...smartQuotes, ellipsis, emDash,
      textblockTypeInputRule(/^(#{1,3})\s$/, heading, (m) => ({ level: m[1].length })),
      wrappingInputRule(/^\s*([-+*])\s$/, bulletList),
      wrappingInputRule(/^(\d+)\.\s$/, orderedList, (m) => ({ order: +m[1] }),
        (m, node) => node.childCount + node.attrs.order === +m[1]),
      wrappingInputRule(/^\s*>\s$/, blockquote),
      new InputRule(/\*\*([^*]+)\*\*$/, (state, m, start, end) =>
        state.tr.replaceWith(start, end, schema.text(m[1], [strong.create()])).removeStoredMark(strong)),
    ],
  });
}

const ICONS = {
  bold: '<path d="M7 5h6a3.5 3.5 0 0 1 0 7H7zM7 12h7a3.5 3.5 0 0 1 0 7H7z"/>',
  italic: '<path d="M10 5h8M6 19h8M14 5l-4 14"/>',
  bullet: '<path d="M9 6h11M9 12h11M9 18h11"/><circle cx="4.5" cy="6" r="1.2"/><circle cx="4.5" cy="12" r="1.2"/><circle cx="4.5" cy="18" r="1.2"/>',
  ordered: '<path d="M10 6h10M10 12h10M10 18h10"/><path d="M4 4.5h1.5V9M3.5 9h3M3.5 14.2c.3-.8 2.8-1 2.8.4 0 1-2.8 1.8-2.8 3.4h3"/>',
  undo: '<path d="M9 14 4 9l5-5"/><path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11"/>',
  redo: '<path d="m15 14 5-5-5-5"/><path d="M20 9H9.5a5.5 5.5 0 0 0 0 11H13"/>',
};

function icon(name) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.innerHTML = ICONS[name];
  return svg;
}

/**
 * A toolbar that stays in sync with the selection: active marks and blocks are highlighted and
 * commands that cannot apply are disabled. Returns a plugin; the bar is rendered into `container`.
 */
export function toolbarPlugin(container, { undo, redo }) {
  const isMac = /Mac|iP(hone|[oa]d)/.test(navigator.platform);
  const mod = isMac ? '⌘' : 'Ctrl+';
  const items = [
    { id: 'bold', label: 'Bold', title: `Bold (${mod}B)`, icon: 'bold', run: toggleMark(strong), active: (s) => markActive(s, strong) },
    { id: 'italic', label: 'Italic', title: `Italic (${mod}I)`, icon: 'italic', run: toggleMark(em), active: (s) => markActive(s, em) },
    'sep',
    { id: 'paragraph', label: 'Text', title: 'Normal text', text: '¶', run: setBlockType(paragraph), active: (s) => blockActive(s, paragraph) },
    { id: 'h1', label: 'Heading 1', title: 'Heading 1', text: 'H1', run: toggleHeading(1), active: (s) => blockActive(s, heading, { level: 1 }) },
    { id: 'h2', label: 'Heading 2', title: 'Heading 2', text: 'H2', run: toggleHeading(2), active: (s) => blockActive(s, heading, { level: 2 }) },
    'sep',
    { id: 'bullet_list', label: 'Bullet list', title: 'Bullet list', icon: 'bullet', run: toggleList(bulletList), active: (s) => listType(s) === bulletList },
    { id: 'ordered_list', label: 'Numbered list', title: 'Numbered list', icon: 'ordered', run: toggleList(orderedList), active: (s) => listType(s) === orderedList },
    'sep',
    { id: 'undo', label: 'Undo', title: `Undo your last change (${mod}Z)`, icon: 'undo', run: undo },
    { id: 'redo', label: 'Redo', title: `Redo (${isMac ? '⇧⌘Z' : 'Ctrl+Y'})`, icon: 'redo', run: redo },
  ];

  let view = null;
  const buttons = [];
  container.replaceChildren();
  for (const item of items) {
    if (item === 'sep') { container.append(h('span.toolbar-sep', { 'aria-hidden': 'true' })); continue; }
    const btn = h('button.tool', {
      type: 'button', title: item.title, 'aria-label': item.label, dataset: { cmd: item.id },
      onmousedown: (e) => e.preventDefault(), // keep the editor's selection and focus
      onclick: () => {
        if (!view || !view.editable) return;
        item.run(view.state, view.dispatch, view);
        view.focus();
      },
    }, item.icon ? icon(item.icon) : h('span.tool-text', item.text));
    buttons.push({ item, btn });
    container.append(btn);
  }

  const update = () => {
    if (!view) return;
    const state = view.state;
    for (const { item, btn } of buttons) {
      let enabled = true;
      try { enabled = !!item.run(state, undefined, view); } catch { enabled = false; }
      btn.disabled = !enabled && item.id !== 'paragraph';
      const active = item.active ? !!item.active(state) : false;
      btn.classList.toggle('is-active', active);
      btn.setAttribute('aria-pressed', String(active));
    }
  };

  return new Plugin({
    view(editorView) {
      view = editorView;
      update();
      return { update, destroy() { view = null; } };
    },
  });
}
