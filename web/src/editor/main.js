// The page at /: without ?doc a landing card that creates a fresh document id; with ?doc=<id> the
// collaborative editor (Yjs via y-websocket, or prosemirror-collab steps with &mode=steps). Without &mode the
// editor asks the server for the document's kind (fixed by its first write) and opens that mode.
import 'prosemirror-view/style/prosemirror.css';
import '../shared/base.css';
import './editor.css';
import { h, initials } from '../shared/dom.js';
import { loadIdentity, newDocumentId, randomIdentity, saveIdentity } from '../shared/identity.js';
import { takeToken, tokenClaims } from '../shared/token.js';
import { BRAND } from '../shared/brand.js';

const TOKEN_KEY = 'collab.token';
const RECENT_KEY = 'collab.recent';
const app = document.getElementById('app');
const params = new URLSearchParams(location.search);
const documentId = params.get('doc');
const MODES = ['yjs', 'steps'];
const modeInUrl = MODES.includes(params.get('mode')) ? params.get('mode') : null;
let mode = modeInUrl ?? 'yjs';
const token = takeToken(TOKEN_KEY);

function docUrl(id, m = mode) {
  const q = new URLSearchParams({ doc: id });
  if (m === 'steps') q.set('mode', 'steps');
  return `${location.origin}/?${q}`;
}

function recentDocs() {
  try { return JSON.parse(localStorage.getItem(RECENT_KEY) || '[]').filter((r) => r && typeof r.id === 'string'); } catch { return []; }
}
function rememberDoc(id, m) {
  const list = [{ id, mode: m, at: Date.now() }, ...recentDocs().filter((r) => !(r.id === id && r.mode === m))].slice(0, 6);
  try { localStorage.setItem(RECENT_KEY, JSON.stringify(list)); } catch { /* storage disabled */ }
}

function timeAgo(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

// ------------------------------------------------------------------------------------------------
// landing

function landing() {
  document.title = 'collab · start a document';
  const id = newDocumentId();
  const url = docUrl(id, 'yjs');
  const recent = recentDocs();
  const openForm = h('form.open-form', {
    onsubmit: (e) => {
      e.preventDefault();
      const v = e.target.elements.doc.value.trim();
      if (v) location.href = docUrl(v, e.target.elements.steps.checked ? 'steps' : 'yjs');
    },
  },
  h('input', { name: 'doc', placeholder: 'document id', 'aria-label': 'Document id', autocomplete: 'off', maxlength: '256' }),
  h('label.check', h('input', { type: 'checkbox', name: 'steps' }), 'steps mode'),
  h('button.btn.btn-ghost', { type: 'submit' }, 'Open'));

  app.replaceChildren(
    h('header.topbar', BRAND(), h('span.spacer'), h('a.nav-link', { href: '/admin/' }, 'Admin')),
    h('main.landing',
      h('section.card.landing-card',
        h('p.eyebrow', 'Real-time collaborative editing'),
        h('h1', 'Write together, live.'),
        h('p.lede', 'A fresh document is ready. Open it, then send its address to anyone you want to write with — ',
          'you will see each other’s cursors as you type.'),
        h('div.cta-row',
          h('a.btn.btn-primary#new-doc', { href: url, dataset: { doc: id } }, 'Open new document', h('span.arrow', '→')),
          h('a.btn.btn-ghost#new-doc-steps', { href: docUrl(id, 'steps'), title: 'The same editor, synced with prosemirror-collab steps over the JSON protocol' }, 'Steps mode')),
        h('p.invite', h('strong', 'To invite someone,'), ' share this URL: ', h('code.url#new-doc-url', url)),
        h('div.divider'),
        h('p.small-title', 'Open an existing document'),
        openForm,
        recent.length ? h('div.recent',
          h('p.small-title', 'Recently opened here'),
          h('ul', recent.map((r) => h('li',
            h('a', { href: docUrl(r.id, r.mode) }, r.id),
            r.mode === 'steps' ? h('span.tag', 'steps') : null,
            h('span.muted', timeAgo(r.at)))))) : null),
      h('p.footnote', 'Documents are stored on this server. Everyone with the URL can edit.')),
  );
}

// ------------------------------------------------------------------------------------------------
// editor

const STATUS_TEXT = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  denied: 'Access denied',
};

/** The document's kind ('yjs' or 'steps'), or null when it was never written or the server cannot say. */
async function documentKind(id) {
  try {
    const res = await fetch(`/documents/${encodeURIComponent(id)}`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: 'no-store',
    });
    if (!res.ok) return null;
    const body = await res.json();
    return MODES.includes(body.kind) ? body.kind : null;
  } catch {
    return null;
  }
}

async function editorPage() {
  document.title = `${documentId} · collab`;
  const kind = await documentKind(documentId);
  mode = modeInUrl ?? kind ?? 'yjs';
  rememberDoc(documentId, mode);
  let identity = loadIdentity();

  const statusPill = h('span.pill#status', { dataset: { state: 'connecting' }, role: 'status', 'aria-live': 'polite' },
    h('span.dot'), h('span.pill-text', STATUS_TEXT.connecting));
  const statusDetail = h('span.status-detail#status-detail');
  const avatars = h('div.avatars');
  const peopleCount = h('span.people-count', '1 person');
  const people = h('div.people#people', { dataset: { count: '1' }, title: 'People in this document' }, avatars, peopleCount);

  const colorInput = h('input.color-input#user-color', { type: 'color', value: identity.color, title: 'Your colour', 'aria-label': 'Your colour' });
  const nameInput = h('input.name-input#user-name', { value: identity.name, maxlength: '40', spellcheck: 'false', 'aria-label': 'Your name', title: 'Your name, shown next to your cursor' });
  const shuffle = h('button.icon-btn', { type: 'button', title: 'Pick a random name', 'aria-label': 'Random name',
    onclick: () => { const r = randomIdentity(); nameInput.value = r.name; colorInput.value = r.color; applyIdentity(); } }, '⟳');
  const who = h('div.identity', h('label.swatch', { style: { background: identity.color } }, colorInput), nameInput, shuffle);

  const other = mode === 'steps' ? 'yjs' : 'steps';
  // a written document has one kind: the other mode would show an empty editor whose edits the server refuses
  const modeLink = (m, label, title) => h(`a${mode === m ? '.is-on' : ''}${kind && kind !== m ? '.is-off' : ''}`,
    { href: docUrl(documentId, m), title: kind && kind !== m ? `This is a ${kind} document` : title }, label);
  const modeSwitch = h('div.segmented', { role: 'group', 'aria-label': 'Sync mode' },
    modeLink('yjs', 'Yjs', 'Yjs CRDT via y-websocket'),
    modeLink('steps', 'Steps', 'prosemirror-collab steps via the JSON protocol'));

  const toolbar = h('div.toolbar#toolbar', { role: 'toolbar', 'aria-label': 'Formatting' });
  const mount = h('div.editor-mount#editor');
  const shareUrl = docUrl(documentId);
  const copyBtn = h('button.btn.btn-small', { type: 'button', onclick: async () => {
    try { await navigator.clipboard.writeText(shareUrl); copyBtn.textContent = 'Copied'; } catch { urlBox.select(); copyBtn.textContent = 'Press Ctrl+C'; }
    setTimeout(() => { copyBtn.textContent = 'Copy link'; }, 1600);
  } }, 'Copy link');
  const urlBox = h('input.share-url', { value: shareUrl, readonly: true, 'aria-label': 'Share URL', onfocus: (e) => e.target.select() });

  app.replaceChildren(
    h('header.topbar',
      BRAND(),
      h('div.doc-chip', h('span.doc-label', 'Document'), h('span.doc-id#doc-id', { title: documentId }, documentId)),
      modeSwitch,
      h('span.spacer'),
      people,
      h('div.status-wrap', statusPill, statusDetail),
      who),
    h('main.editor-page',
      h('div.paper', toolbar, mount),
      h('div.share-bar', h('span.share-text', h('strong', 'Share this URL to invite someone'), ' — they will edit the same document with you.'), urlBox, copyBtn),
      h('p.footnote', mode === 'steps'
        ? 'Steps mode: edits travel as ProseMirror steps (prosemirror-collab) over the JSON protocol.'
        : 'Yjs mode: edits travel as Yjs updates through the stock y-websocket provider.',
      ' ', kind && kind !== mode
        ? h('strong#kind-warning', 'This is a ', kind, ' document: edits made here are refused. ',
          h('a', { href: docUrl(documentId, kind) }, `Open it in ${kind === 'steps' ? 'steps' : 'Yjs'} mode`), '.')
        : kind ? `A document keeps the mode of its first edit.`
          : h('span', h('a', { href: docUrl(documentId, other) }, `Switch to ${other === 'steps' ? 'steps' : 'Yjs'} mode`),
            ' (the first edit fixes the document’s mode).'))),
  );

  const onStatus = (state, detail) => {
    statusPill.dataset.state = state;
    statusPill.querySelector('.pill-text').textContent = STATUS_TEXT[state] ?? state;
    const extra = state === 'offline' ? 'edits are kept and sync when you are back' : detail;
    statusDetail.textContent = extra || '';
    document.body.dataset.connection = state;
  };
  const onPeople = (list) => {
    const sorted = [...list].sort((a, b) => (b.self - a.self) || a.name.localeCompare(b.name));
    people.dataset.count = String(sorted.length);
    peopleCount.textContent = `${sorted.length} ${sorted.length === 1 ? 'person' : 'people'}`;
    const shown = sorted.slice(0, 5);
    avatars.replaceChildren(...shown.map((p) => h('span.avatar', {
      style: { background: /^#[0-9a-f]{6}$/i.test(p.color || '') ? p.color : '#868e96' },
      title: p.self ? `${p.name} (you)` : p.name,
    }, initials(p.name))));
    if (sorted.length > shown.length) avatars.append(h('span.avatar.more', `+${sorted.length - shown.length}`));
  };

  const start = mode === 'steps'
    ? (await import('./steps-mode.js')).startStepsEditor
    : (await import('./yjs-mode.js')).startYjsEditor;
  const editor = start({ mount, toolbar, documentId, token, user: identity, onStatus, onPeople });

  // With an access token: a read-only scope makes the editor read-only; an expired one says so.
  const claims = tokenClaims(token);
  if (claims?.scope === 'read-only') {
    editor.view.setProps({ editable: () => false });
    toolbar.classList.add('is-readonly');
    statusDetail.before(h('span.tag.readonly-tag#readonly', 'read-only'));
  }
  if (Number.isFinite(claims?.exp) && claims.exp * 1000 <= Date.now()) {
    statusDetail.before(h('span.tag.expired-tag', { title: 'Ask for a new link' }, 'access token expired'));
  }

  function applyIdentity() {
    const name = nameInput.value.trim().slice(0, 40) || identity.name;
    const color = /^#[0-9a-f]{6}$/i.test(colorInput.value) ? colorInput.value.toLowerCase() : identity.color;
    identity = { name, color };
    saveIdentity(identity);
    who.querySelector('.swatch').style.background = color;
    editor.setUser(identity);
  }
  nameInput.addEventListener('change', applyIdentity);
  nameInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); nameInput.blur(); editor.view.focus(); } });
  colorInput.addEventListener('input', applyIdentity);

  // for people poking around in the console, and for the browser tests
  window.collab = {
    mode, kind, documentId, editor,
    text: () => editor.view.state.doc.textBetween(0, editor.view.state.doc.content.size, '\n'),
    docJSON: () => editor.view.state.doc.toJSON(),
    debug: () => editor.debug(),
  };
  editor.view.focus();
}

if (documentId && documentId.length <= 256 && !/[\u0000-\u001f\u007f]/.test(documentId)) {
  editorPage();
} else {
  landing();
}
