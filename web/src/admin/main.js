// The admin page at /admin/: a live, sortable table of the documents with open connections
// (GET /admin/documents with the admin token as a Bearer header), totals, and a chart of the total
// connection count over the last minutes. The token comes from a #token= fragment or the form and
// is kept in sessionStorage, never in a query string.
import '../shared/base.css';
import './admin.css';
import { BRAND } from '../shared/brand.js';
import { formatBytes, formatNumber, h } from '../shared/dom.js';
import { readToken, storeToken, takeToken } from '../shared/token.js';
import { ConnectionsChart } from './chart.js';

const TOKEN_KEY = 'collab.adminToken';
const REFRESH_MS = 3000;
const WINDOW_MS = 10 * 60 * 1000;

const COLUMNS = [
  { key: 'documentId', label: 'Document', type: 'text' },
  { key: 'kind', label: 'Kind', type: 'text' },
  { key: 'connections', label: 'Connections', type: 'num' },
  { key: 'version', label: 'Step version', type: 'num' },
  { key: 'updates', label: 'Stored updates', type: 'num' },
  { key: 'updateBytes', label: 'Update bytes', type: 'bytes' },
];

const app = document.getElementById('app');
let token = takeToken(TOKEN_KEY);
let sort = loadSort();
let rows = [];
let filter = '';
let timer = null;
let lastOk = 0;
let inFlight = null;
const samples = []; // { t, connections }

function loadSort() {
  try {
    const s = JSON.parse(sessionStorage.getItem('collab.adminSort') || 'null');
    if (s && COLUMNS.some((c) => c.key === s.key)) return s;
  } catch { /* ignore */ }
  return { key: 'connections', dir: 'desc' };
}

// ---- layout ------------------------------------------------------------------------------------
const statusPill = h('span.pill#admin-status', { dataset: { state: 'connecting' } }, h('span.dot'), h('span.pill-text', 'Loading…'));
const updated = h('span.updated.muted');
const signOut = h('button.btn.btn-small.btn-ghost#sign-out', { type: 'button', hidden: true, onclick: () => { storeToken(TOKEN_KEY, ''); token = ''; stop(); showLogin(); } }, 'Sign out');

const statDocs = stat('Documents open', 'stat-documents');
const statConns = stat('Connections', 'stat-connections');
const statUpdates = stat('Stored updates', 'stat-updates');
const statBytes = stat('Update bytes', 'stat-bytes');
const protoLine = h('p.proto-line.muted#protocols');

function stat(label, id) {
  const value = h(`span.stat-value#${id}`, '–');
  return { value, el: h('div.stat.card', h('span.stat-label', label), value) };
}

const chartCanvas = h('canvas.chart#connections-chart', { height: 140, 'aria-label': 'Total connections over the last 10 minutes', role: 'img' });
const chart = new ConnectionsChart(chartCanvas, { windowMs: WINDOW_MS });

const thead = h('thead');
const tbody = h('tbody#documents-body');
const tfoot = h('tfoot');
const table = h('table.docs#documents', thead, tbody, tfoot);
const empty = h('div.empty#documents-empty', { hidden: true }, h('p.empty-title', 'No open documents'),
  h('p.muted', 'Documents show up here while someone has them open. ', h('a', { href: '/', target: '_blank', rel: 'noopener' }, 'Open the editor'), ' to start one.'));
const search = h('input.search#filter', { type: 'search', placeholder: 'Filter documents…', 'aria-label': 'Filter documents',
  oninput: (e) => { filter = e.target.value.trim().toLowerCase(); renderTable(); } });

const errorBox = h('div.alert#admin-error', { hidden: true });

const dashboard = h('main.admin#dashboard', { hidden: true },
  errorBox,
  h('section.stats', statDocs.el, statConns.el, statUpdates.el, statBytes.el),
  h('section.card.chart-card',
    h('div.card-head', h('h2', 'Connections'), h('span.muted.small', 'all documents · up to the last 10 minutes · sampled every 3 s')),
    chartCanvas,
    protoLine),
  h('section.card.table-card',
    h('div.card-head', h('h2', 'Documents with open connections'), h('span.spacer'), search),
    h('div.table-scroll', table),
    empty));

const loginError = h('p.form-error#login-error', { hidden: true });
const tokenInput = h('input#token-input', { type: 'password', name: 'token', autocomplete: 'current-password', placeholder: 'COLLAB_ADMIN_TOKEN', 'aria-label': 'Admin token', required: true });
const login = h('main.login#login', { hidden: true },
  h('form.card.login-card#login-form', {
    onsubmit: (e) => {
      e.preventDefault();
      const t = tokenInput.value.trim();
      if (!t) return;
      token = t;
      storeToken(TOKEN_KEY, t);
      tokenInput.value = '';
      start();
    },
  },
  h('h1', 'Admin sign-in'),
  h('p.muted', 'Enter the server’s admin token (COLLAB_ADMIN_TOKEN). It is kept in this tab only, and sent as an Authorization header.'),
  tokenInput, loginError,
  h('button.btn.btn-primary', { type: 'submit' }, 'Show documents'),
  h('p.muted.small', 'Tip: open ', h('code', '/admin/#token=…'), ' to sign in directly.')));

app.replaceChildren(
  h('header.topbar', BRAND('admin'), h('span.spacer'), updated, statusPill, signOut, h('a.nav-link', { href: '/' }, 'Editor')),
  login, dashboard);

// ---- data --------------------------------------------------------------------------------------
function setStatus(state, text) {
  statusPill.dataset.state = state;
  statusPill.querySelector('.pill-text').textContent = text;
}

function showLogin(message) {
  dashboard.hidden = true;
  login.hidden = false;
  signOut.hidden = true;
  updated.textContent = '';
  setStatus('offline', 'Signed out');
  loginError.hidden = !message;
  loginError.textContent = message || '';
  tokenInput.focus();
}

function showDisabled(message) {
  login.hidden = true;
  dashboard.hidden = false;
  signOut.hidden = false;
  errorBox.hidden = false;
  errorBox.dataset.kind = 'disabled';
  errorBox.textContent = `The admin API is disabled on this server: ${message}`;
  setStatus('offline', 'Disabled');
}

function stop() {
  clearTimeout(timer);
  timer = null;
  inFlight?.abort();
  inFlight = null;
}

function start() {
  stop();
  login.hidden = true;
  dashboard.hidden = false;
  signOut.hidden = false;
  setStatus('connecting', 'Loading…');
  refresh();
}

async function refresh() {
  clearTimeout(timer);
  const ctrl = new AbortController();
  inFlight = ctrl;
  const timeout = setTimeout(() => ctrl.abort(), 8000);
  try {
    const res = await fetch('/admin/documents', { headers: { Authorization: `Bearer ${token}` }, signal: ctrl.signal, cache: 'no-store' });
    if (res.status === 401 || res.status === 403) {
      storeToken(TOKEN_KEY, '');
      token = '';
      stop();
      showLogin(res.status === 401 ? 'That token was not accepted.' : 'The admin API is disabled on this server (no COLLAB_ADMIN_TOKEN).');
      return;
    }
    if (res.status === 503) {
      // the admin API is switched off (no COLLAB_ADMIN_TOKEN): retrying cannot help, so say what the server says
      const body = await res.json().catch(() => null);
      if (body?.error === 'admin-disabled') {
        stop();
        showDisabled(body.message);
        return;
      }
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const data = await res.json();
    if (!Array.isArray(data)) throw new Error('unexpected response');
    rows = data;
    lastOk = Date.now();
    const total = rows.reduce((n, r) => n + (r.connections || 0), 0);
    samples.push({ t: lastOk, connections: total });
    while (samples.length && samples[0].t < lastOk - WINDOW_MS) samples.shift();
    errorBox.hidden = true;
    delete errorBox.dataset.kind;
    setStatus('connected', 'Live');
    renderAll();
    refreshHealth();
  } catch (err) {
    if (ctrl.signal.aborted && inFlight !== ctrl) return; // stopped
    errorBox.hidden = false;
    errorBox.textContent = `Could not reach the server (${err.message || err}). Retrying…`;
    setStatus('reconnecting', 'Retrying…');
  } finally {
    clearTimeout(timeout);
    if (inFlight === ctrl) {
      inFlight = null;
      if (token) timer = setTimeout(refresh, REFRESH_MS);
    }
  }
}

async function refreshHealth() {
  try {
    const res = await fetch('/health', { cache: 'no-store' });
    const body = await res.json();
    const by = Object.entries(body.connectionsByProtocol || {}).filter(([, n]) => n > 0);
    protoLine.textContent = `Server ${body.status === 'UP' ? 'up' : body.status} for ${duration(body.uptimeSeconds)}` +
      (by.length ? ` · by protocol: ${by.map(([p, n]) => `${p} ${n}`).join(', ')}` : '');
  } catch { /* the table is what matters */ }
}

function duration(s) {
  if (!Number.isFinite(s)) return '–';
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

// ---- rendering ---------------------------------------------------------------------------------
function renderAll() {
  const sum = (k) => rows.reduce((n, r) => n + (Number(r[k]) || 0), 0);
  statDocs.value.textContent = formatNumber(rows.length);
  statConns.value.textContent = formatNumber(sum('connections'));
  statUpdates.value.textContent = formatNumber(sum('updates'));
  statBytes.value.textContent = formatBytes(sum('updateBytes'));
  updated.textContent = `updated ${new Date(lastOk).toLocaleTimeString()}`;
  chart.draw(samples);
  renderTable();
}

/** The editor in the document's own mode (a steps document opened in Yjs mode would look empty). */
function editorLink(r) {
  const q = new URLSearchParams({ doc: r.documentId });
  if (r.kind === 'steps') q.set('mode', 'steps');
  return `/?${q}`;
}

function compare(a, b) {
  const col = COLUMNS.find((c) => c.key === sort.key);
  const av = a[sort.key];
  const bv = b[sort.key];
  const r = col.type === 'text' ? String(av ?? '').localeCompare(String(bv ?? '')) : (Number(av) || 0) - (Number(bv) || 0);
  return (sort.dir === 'asc' ? r : -r) || String(a.documentId).localeCompare(String(b.documentId));
}

function renderTable() {
  thead.replaceChildren(h('tr', COLUMNS.map((c) => {
    const active = sort.key === c.key;
    return h(`th.${c.type}`, { scope: 'col', 'aria-sort': active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none' },
      h('button.sort', { type: 'button', dataset: { key: c.key }, onclick: () => setSort(c.key) },
        c.label, h('span.sort-icon', active ? (sort.dir === 'asc' ? '▲' : '▼') : '↕')));
  })));
  const visible = rows.filter((r) => !filter || String(r.documentId).toLowerCase().includes(filter)).sort(compare);
  tbody.replaceChildren(...visible.map((r) => h('tr', { dataset: { doc: r.documentId } },
    h('td.text', h('a.doc-link', { href: editorLink(r), target: '_blank', rel: 'noopener', title: 'Open in the editor' }, r.documentId)),
    h('td.text.kind', r.kind ?? h('span.muted', 'not written')),
    h('td.num.connections', h('span.conn-badge', { dataset: { n: String(r.connections) } }, formatNumber(r.connections))),
    h('td.num', formatNumber(r.version)),
    h('td.num', formatNumber(r.updates)),
    h('td.num', formatBytes(r.updateBytes)))));
  const sum = (k) => visible.reduce((n, r) => n + (Number(r[k]) || 0), 0);
  tfoot.replaceChildren(visible.length ? h('tr',
    h('th.text', { scope: 'row' }, `Total · ${visible.length} ${visible.length === 1 ? 'document' : 'documents'}`),
    h('td.text', ''),
    h('td.num#total-connections', formatNumber(sum('connections'))),
    h('td.num', formatNumber(sum('version'))),
    h('td.num', formatNumber(sum('updates'))),
    h('td.num', formatBytes(sum('updateBytes')))) : '');
  table.hidden = visible.length === 0;
  empty.hidden = visible.length !== 0;
  if (!visible.length && rows.length) empty.querySelector('.empty-title').textContent = 'No document matches the filter';
  else empty.querySelector('.empty-title').textContent = 'No open documents';
}

function setSort(key) {
  if (sort.key === key) sort = { key, dir: sort.dir === 'asc' ? 'desc' : 'asc' };
  else sort = { key, dir: COLUMNS.find((c) => c.key === key).type === 'text' ? 'asc' : 'desc' };
  try { sessionStorage.setItem('collab.adminSort', JSON.stringify(sort)); } catch { /* ignore */ }
  renderTable();
}

window.addEventListener('resize', () => chart.draw(samples));
document.addEventListener('visibilitychange', () => { if (!document.hidden && token && !inFlight) refresh(); });

if (token || readToken(TOKEN_KEY)) start();
else showLogin();
