// Browser harness for e2e/tests/browser-*.test.mjs: Debian's Chromium (/usr/bin/chromium) driven by
// playwright-core, which never downloads a browser. Lives in its own package (e2e/browser) so
// `import 'playwright-core'` resolves from here; the tests import this file.
//
//   const browser = await launchChromium();
//   const page = await newPage(browser, 'alice');  // console errors are collected on page.problems
//   await until(page, () => document.querySelector('#status')?.dataset.state === 'connected', 'A connected');
//   await screenshot(page, 'yjs-01-connected');     // -> target/browser-artifacts/yjs-01-connected.png
import { existsSync, mkdirSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WEB_DIST = process.env.COLLAB_WEB_DIR
  ? path.resolve(REPO_ROOT, process.env.COLLAB_WEB_DIR)
  : path.join(REPO_ROOT, 'web', 'dist');
export const ARTIFACTS = path.join(REPO_ROOT, 'target', 'browser-artifacts');
export const CHROMIUM = process.env.COLLAB_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
  '--disable-dev-shm-usage', '--no-default-browser-check', '--password-store=basic',
];

/** Throws a clear message when the browser or the built pages are missing. */
export function checkPrerequisites() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set COLLAB_CHROMIUM`);
  }
  if (!existsSync(path.join(WEB_DIST, 'index.html')) || !existsSync(path.join(WEB_DIST, 'admin', 'index.html'))) {
    throw new Error(`${WEB_DIST} has no built pages: run \`cd web && npm ci && npx vite build\``);
  }
  const newest = (dir) => readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile()).reduce((m, e) => Math.max(m, statSync(path.join(e.parentPath ?? e.path, e.name)).mtimeMs), 0);
  const src = path.join(REPO_ROOT, 'web', 'src');
  if (!process.env.COLLAB_WEB_DIR && existsSync(src) && newest(src) > statSync(path.join(WEB_DIST, 'index.html')).mtimeMs) {
    process.emitWarning('web/src is newer than web/dist: the browser tests run the old build (cd web && npx vite build)');
  }
}

export async function launchChromium() {
  checkPrerequisites();
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

/**
 * A page in a fresh browser context (own cookies, storage, network state). Page errors and console
 * errors are collected on `page.problems`; `page.label` names it in failures.
 */
export async function newPage(browser, label, { viewport = { width: 1200, height: 820 }, storage } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'en-US', timezoneId: 'UTC' });
  if (storage) {
    await context.addInitScript((entries) => {
      if (sessionStorage.getItem('__seeded')) return;
      for (const [k, v] of Object.entries(entries)) localStorage.setItem(k, v);
      sessionStorage.setItem('__seeded', '1');
    }, storage);
  }
  const page = await context.newPage();
  page.label = label;
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error' || expectedNotFound(msg)) return;
    page.problems.push(`console.error: ${msg.text()}`);
  });
  page.setDefaultTimeout(15_000);
  return page;
}

// The editor asks GET /documents/{id} for the document's kind; for a document never written the documented
// answer is 404, which the page handles (it opens the mode in the URL, or Yjs), but Chromium still logs every
// failed resource as a console error. Only that request's 404 is expected; any other failed load is a problem.
function expectedNotFound(msg) {
  if (!/status of 404/.test(msg.text())) return false;
  try {
    return /^\/documents\/[^/]+$/.test(new URL(msg.location()?.url ?? '').pathname);
  } catch {
    return false;
  }
}

/**
 * Polls `predicate` inside the page until it returns a truthy value (returned), or fails after
 * `timeout` with `what` and a snapshot of the page's state. Never a fixed sleep.
 */
export async function until(page, predicate, what, { arg, timeout = 15_000, polling = 50 } = {}) {
  try {
    const handle = await page.waitForFunction(predicate, arg, { timeout, polling });
    return await handle.jsonValue();
  } catch (err) {
    let state = '';
    try {
      state = JSON.stringify(await page.evaluate(() => ({
        url: location.href,
        status: document.querySelector('#status')?.dataset.state,
        people: document.querySelector('#people')?.dataset.count,
        text: window.collab?.text?.(),
        debug: window.collab?.debug?.(),
      })));
    } catch { /* page gone */ }
    throw new Error(`${page.label ?? 'page'}: timed out after ${timeout} ms waiting for ${what}\n  page state: ${state}\n  problems: ${JSON.stringify(page.problems ?? [])}\n  (${err.message.split('\n')[0]})`);
  }
}

/** Polls a Node-side async check (e.g. reading several pages) until it returns truthy. */
export async function eventually(check, what, { timeout = 15_000, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

export async function screenshot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false, animations: 'disabled', caret: 'initial' });
  return file;
}

// --- editor page helpers ----------------------------------------------------------------------

/** The document's text (blocks separated by newlines) from the editor state, without cursor labels. */
export const editorText = (page) => page.evaluate(() => window.collab?.text() ?? null);
export const editorDoc = (page) => page.evaluate(() => window.collab?.docJSON() ?? null);

export function waitConnected(page, what = 'the status pill to say connected') {
  return until(page, () => document.querySelector('#status')?.dataset.state === 'connected', what);
}

export function waitPeople(page, n) {
  return until(page, (want) => document.querySelector('#people')?.dataset.count === String(want),
    `${n} people in the document`, { arg: n });
}

// Where the caret is, read from the editor's own state (window.collab.editor.view), not guessed from
// the keys pressed: ProseMirror reads the DOM selection asynchronously (selectionchange), and right
// after the editor gains focus it may put its previous selection back into the DOM, so a key pressed
// just after a click can be undone. The helpers below press real keys and poll until the editor
// reports the caret where it should be, pressing again if it is not.

/** In the page: the caret's place in the editor's state, or null when the editor lacks focus or the DOM disagrees. */
function caretState() {
  const view = window.collab?.editor?.view;
  if (!view || !view.hasFocus()) return null;
  const { selection: sel, doc } = view.state;
  if (!sel.empty) return null;
  // the DOM selection must say the same (no pending selectionchange, no restore still to come)
  const dom = document.getSelection();
  if (!dom || !dom.isCollapsed || !view.dom.contains(dom.focusNode)) return null;
  try {
    if (view.posAtDOM(dom.focusNode, dom.focusOffset) !== sel.head) return null;
  } catch {
    return null;
  }
  const Sel = sel.constructor; // TextSelection inherits Selection.atStart / atEnd
  return {
    head: sel.head,
    atDocStart: Sel.atStart(doc).head === sel.head,
    atDocEnd: Sel.atEnd(doc).head === sel.head,
    block: sel.$head.index(0), // which top-level block
    atBlockEnd: sel.$head.parentOffset === sel.$head.parent.content.size,
  };
}

const CARET_CHECKS = {
  docStart: (c) => c?.atDocStart === true,
  docEnd: (c) => c?.atDocEnd === true,
  firstBlockEnd: (c) => c?.block === 0 && c.atBlockEnd === true,
};

/**
 * Presses `keys` (one after the other) until the editor's caret satisfies CARET_CHECKS[want], polling
 * after each round; fails after `timeout` with where the caret is.
 */
export async function pressUntilCaret(page, keys, want, { timeout = 10_000, settle = 1_000 } = {}) {
  const deadline = Date.now() + timeout;
  if (!CARET_CHECKS[want]) throw new Error(`unknown caret place ${want}`);
  const probe = `(${caretState.toString()})()`;
  const check = `(${CARET_CHECKS[want].toString()})`;
  let last = null;
  for (;;) {
    for (const key of keys) await page.keyboard.press(key);
    try {
      await page.waitForFunction(`${check}(${probe})`, undefined, { timeout: Math.min(settle, Math.max(1, deadline - Date.now())), polling: 25 });
      return;
    } catch { /* not there (yet): press again */ }
    last = await page.evaluate(probe).catch(() => null);
    if (Date.now() > deadline) {
      throw new Error(`${page.label ?? 'page'}: the caret did not reach ${want} after pressing ${keys.join(', ')} for ${timeout} ms (caret: ${JSON.stringify(last)}, text: ${JSON.stringify(await page.evaluate(() => window.collab?.text?.()).catch(() => null))})`);
    }
  }
}

async function clickAndFocus(page, selector) {
  await page.click(selector);
  await until(page, () => window.collab?.editor?.view?.hasFocus() === true, `the editor to have focus after clicking ${selector}`);
}

/** Click into the editor and put the caret at the end of the document (Control+End), verified. */
export async function focusEnd(page) {
  await clickAndFocus(page, '.ProseMirror');
  await pressUntilCaret(page, ['Control+End'], 'docEnd');
}

/** Put the caret at the start of the document (Control+Home), verified; the editor must have focus. */
export async function caretToStart(page) {
  await until(page, () => window.collab?.editor?.view?.hasFocus() === true, 'the editor to have focus');
  await pressUntilCaret(page, ['Control+Home'], 'docStart');
}

/** Click the first block (e.g. the heading) and put the caret at its end (End), verified. */
export async function focusEndOfFirstBlock(page) {
  await clickAndFocus(page, '.ProseMirror > :first-child');
  try {
    await pressUntilCaret(page, ['End'], 'firstBlockEnd', { timeout: 2_000 });
  } catch {
    // the click landed somewhere else (a remote caret label, below the text): go there by keyboard
    await pressUntilCaret(page, ['Control+Home', 'End'], 'firstBlockEnd');
  }
}
