// The demo editor (/) and the admin page (/admin/) in a real browser: Debian's headless Chromium
// driven by playwright-core (e2e/browser), against the real server serving the built web/dist.
//
// Every step saves a screenshot under target/browser-artifacts/. Waits are conditions polled in
// the page (waitForFunction) with timeouts, never fixed sleeps.
//
// Needs: /usr/bin/chromium, `npm ci` in e2e/browser, and web/dist built (cd web && npm ci && npx vite build).
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';

let H;
try {
  H = await import('../browser/harness.mjs');
} catch (err) {
  throw new Error(`the browser harness cannot load (${err.message.split('\n')[0]}): run \`npm ci\` in e2e/browser`);
}
const {
  caretToStart, editorDoc, editorText, eventually, focusEnd, focusEndOfFirstBlock, launchChromium, newPage, pressUntilCaret,
  screenshot, until, waitConnected, waitPeople,
} = H;

const TEST_TIMEOUT = 90_000;

const ADA = { 'collab.name': 'Ada Lovelace', 'collab.color': '#2f6feb' };
const BOB = { 'collab.name': 'Bob Marley', 'collab.color': '#e5534b' };
const CY = { 'collab.name': 'Cy Twombly', 'collab.color': '#2da44e' };

const MODES = [
  { mode: 'yjs', query: '', caret: '.ProseMirror-yjs-cursor' },
  { mode: 'steps', query: '&mode=steps', caret: '.remote-cursor' },
];

function docId(label) {
  return `browser-${label}-${randomUUID().slice(0, 8)}`;
}

/** Every character of `needle`, in order, somewhere in `hay` (concurrent typing may interleave). */
function isSubsequence(needle, hay) {
  let i = 0;
  for (const ch of hay) if (ch === needle[i]) i++;
  return i === needle.length;
}

async function sameDocument(pages, check = () => true) {
  const docs = await Promise.all(pages.map((p) => editorDoc(p)));
  const texts = await Promise.all(pages.map((p) => editorText(p)));
  const json = docs.map((d) => JSON.stringify(d));
  return json.every((j) => j === json[0]) && check(texts[0], docs[0]) ? { doc: docs[0], text: texts[0] } : false;
}

function noProblems(...pages) {
  for (const p of pages) assert.deepEqual(p.problems, [], `${p.label}: no page errors or console errors`);
}

async function closeAll(...pages) {
  await Promise.all(pages.filter(Boolean).map((p) => p.context().close().catch(() => {})));
}

function hs256(secret, claims) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

let server;
let browser;

before(async () => {
  browser = await launchChromium();
  server = await startServer({ env: { COLLAB_WEB_DIR: H.WEB_DIST } });
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

describe('landing page', () => {
  test('without ?doc it offers a fresh document id, explains how to invite, and opens the editor', { timeout: TEST_TIMEOUT }, async () => {
    const page = await newPage(browser, 'landing', { storage: ADA });
    try {
      await page.goto(`${server.httpUrl}/`);
      const link = page.locator('#new-doc');
      await link.waitFor();
      const href = await link.getAttribute('href');
      const url = new URL(href, server.httpUrl);
      const id = url.searchParams.get('doc');
      assert.match(id, /^[a-z]+-[a-z]+-[0-9a-z]{4}$/, `a fresh readable id: ${href}`);
      assert.match(await page.locator('.invite').innerText(), /share this URL/i);
      assert.ok((await page.locator('#new-doc-url').innerText()).endsWith(`?doc=${id}`));
      await screenshot(page, 'landing-01-new-document');

      // a second visit proposes another id
      await page.reload();
      assert.notEqual(await page.locator('#new-doc').getAttribute('href'), href);

      await page.goto(url.href);
      await waitConnected(page);
      assert.equal(await page.locator('#doc-id').innerText(), id);
      assert.equal(await page.locator('.ProseMirror').count(), 1, 'the standard .ProseMirror element');
      assert.equal(await page.inputValue('#user-name'), 'Ada Lovelace', 'name from localStorage');
      await screenshot(page, 'landing-02-editor-opened');
      noProblems(page);
    } finally {
      await closeAll(page);
    }
  });

  test('a new visitor gets a random default name, kept across reloads', { timeout: TEST_TIMEOUT }, async () => {
    const page = await newPage(browser, 'newcomer');
    try {
      await page.goto(`${server.httpUrl}/?doc=${docId('name')}`);
      await waitConnected(page);
      const name = await page.inputValue('#user-name');
      assert.match(name, /^[A-Z][a-z]+ [A-Z][a-z]+$/, `a random "Colour Animal" name: ${name}`);
      await page.reload();
      await waitConnected(page);
      assert.equal(await page.inputValue('#user-name'), name);
      noProblems(page);
    } finally {
      await closeAll(page);
    }
  });
});

for (const { mode, query, caret } of MODES) {
  describe(`editor, ${mode} mode`, () => {
    const id = docId(mode);
    const docUrl = () => `${server.httpUrl}/?doc=${encodeURIComponent(id)}${query}`;
    let A;
    let B;

    after(() => closeAll(A, B));

    test('two people type into the same document and end with identical content', { timeout: TEST_TIMEOUT }, async () => {
      A = await newPage(browser, `${mode}:A`, { storage: ADA });
      B = await newPage(browser, `${mode}:B`, { storage: BOB });
      await Promise.all([A.goto(docUrl()), B.goto(docUrl())]);
      await Promise.all([waitConnected(A), waitConnected(B)]);
      await Promise.all([waitPeople(A, 2), waitPeople(B, 2)]);
      assert.equal(await A.locator('#people .people-count').innerText(), '2 people');
      await screenshot(A, `${mode}-01-both-connected`);

      // one after the other
      await focusEnd(A);
      await A.keyboard.type('Shared notes');
      await eventually(() => sameDocument([A, B], (t) => t === 'Shared notes'), 'B to see what A typed');

      // at the same time, at the same place
      await focusEnd(B);
      await focusEnd(A);
      await A.keyboard.press('Enter');
      await eventually(() => sameDocument([A, B], (t) => t === 'Shared notes\n'), 'the new paragraph on both');
      // both carets verifiably in the new, empty paragraph before anybody types
      await Promise.all([pressUntilCaret(A, ['Control+End'], 'docEnd'), focusEnd(B)]);
      const fromA = ' Ada writes this sentence.';
      const fromB = ' Bob adds another one.';
      await Promise.all([A.keyboard.type(fromA, { delay: 15 }), B.keyboard.type(fromB, { delay: 15 })]);
      // Convergence means identical documents holding every typed character in order. The length may exceed the
      // sum: when a remote insert lands right at the caret, Chromium's input handling in the editor can re-add a
      // typed space (seen once in a few runs as " Ad a writes"): an edit the page itself makes, which the server
      // then relays like any other, so both sides still end identical.
      const everybodysText = (t) => t.startsWith('Shared notes\n') && isSubsequence(fromA, t) && isSubsequence(fromB, t);
      const { text } = await eventually(() => sameDocument([A, B], everybodysText),
        'both to converge on the same document with everybody\'s text');
      assert.ok(text.length >= 'Shared notes\n'.length + fromA.length + fromB.length, `nothing typed is lost: ${JSON.stringify(text)}`);

      // the toolbar: heading, bold, list — and the other side sees the structure
      await caretToStart(A);
      await A.click('button[data-cmd="h1"]');
      await until(B, () => {
        const first = window.collab.docJSON().content[0];
        return first.type === 'heading' && first.attrs.level === 1 && first.content?.[0]?.text === 'Shared notes'
          && document.querySelector('.ProseMirror h1') !== null;
      }, 'the heading A made');
      await focusEnd(B);
      await B.keyboard.press('Enter');
      await until(B, () => {
        const blocks = window.collab.docJSON().content;
        const last = blocks[blocks.length - 1];
        return blocks.length === 3 && last.type === 'paragraph' && !last.content;
      }, 'B\'s Enter to open an empty paragraph at the end');
      await B.click('button[data-cmd="bullet_list"]');
      await B.keyboard.type('first item');
      await B.keyboard.press('Control+b');
      await B.keyboard.type(' in bold');
      await until(A, () => {
        const list = window.collab.docJSON().content.find((n) => n.type === 'bullet_list');
        const texts = list?.content?.[0]?.content?.[0]?.content ?? [];
        return texts.length === 2 && texts[0].text === 'first item' && texts[1].text === ' in bold'
          && texts[1].marks?.[0]?.type === 'strong' && document.querySelector('.ProseMirror ul > li strong') !== null;
      }, 'B\'s bullet list with bold text');
      assert.equal(await B.locator('button[data-cmd="bullet_list"]').getAttribute('aria-pressed'), 'true', 'the toolbar shows the active list');
      await eventually(() => sameDocument([A, B]), 'identical documents after formatting');
      await screenshot(A, `${mode}-02-typed-A`);
      await screenshot(B, `${mode}-02-typed-B`);
      noProblems(A, B);
    });

    test('each sees the other person\'s cursor with their name and colour', { timeout: TEST_TIMEOUT }, async () => {
      await focusEnd(A);
      await focusEnd(B);
      await B.keyboard.type('!');
      const caretOf = (name) => ({ sel: caret, name });
      const visibleCaret = ({ sel, name }) => [...document.querySelectorAll(`.ProseMirror ${sel}`)]
        .some((el) => el.textContent.includes(name) && el.getBoundingClientRect().height > 0);
      await until(A, visibleCaret, `Bob's caret in A's editor (${caret})`, { arg: caretOf('Bob Marley') });
      await until(B, visibleCaret, `Ada's caret in B's editor (${caret})`, { arg: caretOf('Ada Lovelace') });
      const color = await A.evaluate((sel) => getComputedStyle(document.querySelector(`.ProseMirror ${sel}`)).borderLeftColor, caret);
      assert.equal(color, 'rgb(229, 83, 75)', 'Bob\'s caret in his colour');
      await screenshot(A, `${mode}-03-remote-cursor-in-A`);

      // renaming shows up on the other side
      await B.fill('#user-name', 'Robert');
      await B.press('#user-name', 'Enter');
      await until(A, visibleCaret, 'the caret label to follow the new name', { arg: caretOf('Robert') });
      await until(A, () => [...document.querySelectorAll('#people .avatar')].some((a) => a.title === 'Robert'), 'the new name in the people list');
      await screenshot(A, `${mode}-04-renamed`);
      noProblems(A, B);
    });

    test('undo takes back only your own change', { timeout: TEST_TIMEOUT }, async () => {
      await focusEnd(A);
      await A.keyboard.press('Enter');
      await A.keyboard.type('UNDO-ME');
      const { text: withUndoMe } = await eventually(() => sameDocument([A, B], (t) => t.includes('UNDO-ME')), 'B to see UNDO-ME');
      const firstLine = withUndoMe.split('\n')[0];
      await focusEndOfFirstBlock(B);
      await B.keyboard.type(' KEEP');
      await eventually(() => sameDocument([A, B], (t) => t.split('\n')[0] === `${firstLine} KEEP`), 'A to see KEEP');
      await A.click('button[data-cmd="undo"]');
      const { text } = await eventually(() => sameDocument([A, B], (t) => !t.includes('UNDO-ME')), 'A\'s undo to reach both');
      assert.equal(text.split('\n')[0], `${firstLine} KEEP`, `Bob's change survives Ada's undo: ${JSON.stringify(text)}`);
      await A.click('button[data-cmd="redo"]');
      await eventually(() => sameDocument([A, B], (t) => t.includes('UNDO-ME') && t.includes('KEEP')), 'the redo to reach both');
      await screenshot(B, `${mode}-05-after-undo-redo`);
      noProblems(A, B);
    });

    test('a reload shows the stored content', { timeout: TEST_TIMEOUT }, async () => {
      const expected = await editorDoc(A);
      await closeAll(B);
      B = null;
      await waitPeople(A, 1);
      await A.reload();
      await waitConnected(A);
      await until(A, (want) => JSON.stringify(window.collab.docJSON()) === want, 'the stored document after the reload',
        { arg: JSON.stringify(expected) });
      await screenshot(A, `${mode}-06-reloaded`);

      // nobody else has it in memory: a brand-new browser context gets it from the server
      await closeAll(A);
      const C = await newPage(browser, `${mode}:C`, { storage: CY });
      try {
        await C.goto(docUrl());
        await waitConnected(C);
        await until(C, (want) => JSON.stringify(window.collab.docJSON()) === want, 'the stored document in a new context',
          { arg: JSON.stringify(expected) });
        await screenshot(C, `${mode}-07-new-visitor`);
        noProblems(C);
      } finally {
        await closeAll(C);
      }
    });

    test('edits made offline are kept and merged when back online', { timeout: TEST_TIMEOUT }, async () => {
      A = await newPage(browser, `${mode}:A2`, { storage: ADA });
      B = await newPage(browser, `${mode}:B2`, { storage: BOB });
      await Promise.all([A.goto(docUrl()), B.goto(docUrl())]);
      await Promise.all([waitConnected(A), waitConnected(B), waitPeople(A, 2), waitPeople(B, 2)]);
      const { text: before } = await eventually(() => sameDocument([A, B], (t) => t.length > 0), 'both to show the stored document');

      await A.context().setOffline(true);
      await until(A, () => document.querySelector('#status')?.dataset.state === 'offline', 'A\'s status pill to say offline');
      // (B may go on seeing Ada for a while: a vanished network sends no close, the server notices
      // at its next ping timeout)
      await focusEnd(A);
      await A.keyboard.press('Enter');
      await A.keyboard.type('written offline by Ada');
      await focusEndOfFirstBlock(B);
      await B.keyboard.type(' (online edit)');
      await until(B, () => window.collab.text().includes('(online edit)'), 'B\'s own edit');
      assert.ok(!(await editorText(B)).includes('written offline'), 'B cannot see A\'s offline edit yet');
      assert.ok(!(await editorText(A)).includes('(online edit)'), 'A cannot see B\'s edit while offline');
      assert.equal(await A.locator('#status').getAttribute('data-state'), 'offline');
      await screenshot(A, `${mode}-08-offline-A`);
      await screenshot(B, `${mode}-08-online-B`);

      await A.context().setOffline(false);
      await waitConnected(A, 'A to reconnect');
      const { text } = await eventually(() => sameDocument([A, B], (t) => t.includes('written offline by Ada') && t.includes('(online edit)')),
        'the offline and online edits to merge on both');
      // nothing lost: every line from before, B's edit at the end of the first one, A's new line at the end
      const [first, ...rest] = before.split('\n');
      assert.deepEqual(text.split('\n'), [`${first} (online edit)`, ...rest, 'written offline by Ada'], 'nothing lost, both edits merged');
      await Promise.all([waitPeople(A, 2), waitPeople(B, 2)]);
      await screenshot(A, `${mode}-09-merged-A`);
      await screenshot(B, `${mode}-09-merged-B`);
      noProblems(A, B);
    });
  });
}

describe('people count', () => {
  const pages = [];
  after(() => closeAll(...pages));

  // The demo's count, the `connected` message and the admin API count the same connections: a steps tab beside a
  // Yjs tab of one document is one person each (each page's own awareness state never comes back to it as a stranger).
  test('a Yjs tab, a steps tab and a third visitor: every page counts each connection once, as the admin API does', { timeout: TEST_TIMEOUT }, async () => {
    const id = docId('people');
    const url = (m) => `${server.httpUrl}/?doc=${encodeURIComponent(id)}${m ? `&mode=${m}` : ''}`;
    const adminCount = async () => (await server.getJson(`/admin/documents/${encodeURIComponent(id)}`, { admin: true })).body.connections;
    const counted = async (n, list) => {
      await Promise.all(list.map((p) => waitPeople(p, n)));
      for (const p of list) {
        assert.equal(await p.locator('#people .people-count').innerText(), `${n} people`, `${p.label}: the count's text`);
      }
      assert.equal(await adminCount(), n, 'the admin API counts the same connections');
    };

    const A = await newPage(browser, 'people:yjs', { storage: ADA });
    pages.push(A);
    await A.goto(url('yjs'));
    await waitConnected(A);
    await waitPeople(A, 1);
    const B = await newPage(browser, 'people:steps', { storage: BOB });
    pages.push(B);
    await B.goto(url('steps'));
    await waitConnected(B);
    await counted(2, [A, B]);
    await screenshot(A, 'people-01-yjs-beside-steps');

    const C = await newPage(browser, 'people:third', { storage: CY });
    pages.push(C);
    await C.goto(url(''));
    await waitConnected(C);
    await counted(3, [A, B, C]);
    await until(A, () => [...document.querySelectorAll('#people .avatar')].map((a) => a.title).sort().join('|')
      === 'Ada Lovelace (you)|Bob Marley|Cy Twombly', 'every name once in the people list (yourself marked)');

    await closeAll(C);
    pages.pop();
    await counted(2, [A, B]);
    await screenshot(B, 'people-02-after-one-left');
    noProblems(A, B);
  });
});

describe('admin page', () => {
  const docX = docId('adminx');
  const docY = docId('adminy');
  const pages = [];
  after(() => closeAll(...pages));

  test('lists the open documents with their connection counts, live, sortable, with totals', { timeout: TEST_TIMEOUT }, async () => {
    for (const [label, url, storage] of [
      ['x1', `/?doc=${docX}`, ADA], ['x2', `/?doc=${docX}`, BOB], ['y1', `/?doc=${docY}&mode=steps`, CY],
    ]) {
      const p = await newPage(browser, `admin:${label}`, { storage });
      pages.push(p);
      await p.goto(server.httpUrl + url);
      await waitConnected(p);
    }
    await focusEnd(pages[2]);
    await pages[2].keyboard.type('steps!');
    await until(pages[2], () => window.collab.debug().unsent === 0 && window.collab.debug().version > 0, 'the steps to be confirmed');

    const admin = await newPage(browser, 'admin');
    pages.push(admin);
    await admin.goto(`${server.httpUrl}/admin/#token=${encodeURIComponent(server.adminToken)}`);
    const row = (doc) => `#documents-body tr[data-doc="${doc}"]`;
    const connectionsIn = (doc) => admin.evaluate((sel) => document.querySelector(sel)?.querySelector('.conn-badge')?.textContent ?? null, row(doc));
    await until(admin, ([x, y]) => document.querySelector(x)?.querySelector('.conn-badge')?.textContent === '2'
      && document.querySelector(y)?.querySelector('.conn-badge')?.textContent === '1',
    'doc X with 2 connections and doc Y with 1', { arg: [row(docX), row(docY)] });
    assert.equal(await admin.evaluate(() => location.hash), '', 'the token is taken out of the address bar');
    assert.equal(await admin.evaluate(() => sessionStorage.getItem('collab.adminToken')), server.adminToken, 'and kept in sessionStorage');
    const cells = await admin.locator(row(docY)).locator('td').allInnerTexts();
    assert.equal(cells[0], docY);
    assert.equal(cells[1], 'steps', 'doc Y is a steps document');
    assert.ok(Number(cells[3]) > 0, `doc Y has a step version: ${cells}`);
    const linkY = new URL(await admin.locator(`${row(docY)} a.doc-link`).getAttribute('href'), server.httpUrl);
    assert.equal(linkY.searchParams.get('mode'), 'steps', 'the admin link opens a steps document in steps mode');

    assert.equal(await admin.locator('#total-connections').innerText(), '3');
    assert.equal(await admin.locator('#stat-connections').innerText(), '3');
    const chart = await admin.locator('#connections-chart').boundingBox();
    assert.ok(chart && chart.width > 200 && chart.height > 60, 'a connections chart');
    await screenshot(admin, 'admin-01-documents');

    // sorting: by connections (default, descending) puts X first; by document id ascending too
    const order = () => admin.$$eval('#documents-body tr', (trs) => trs.map((tr) => tr.dataset.doc));
    let ids = await order();
    assert.ok(ids.indexOf(docX) < ids.indexOf(docY), `most connections first: ${ids}`);
    await admin.click('button.sort[data-key="documentId"]');
    ids = await order();
    assert.deepEqual(ids, [...ids].sort((a, b) => a.localeCompare(b)), 'sorted by id');
    await admin.click('button.sort[data-key="documentId"]');
    ids = await order();
    assert.deepEqual(ids, [...ids].sort((a, b) => b.localeCompare(a)), 'sorted by id, descending');
    assert.equal(await admin.locator('th[aria-sort="descending"] button').getAttribute('data-key'), 'documentId');

    // the editor opened without a mode picks the document's kind
    const plain = await newPage(browser, 'admin:y-no-mode', { storage: BOB });
    pages.push(plain);
    await plain.goto(`${server.httpUrl}/?doc=${docY}`);
    await waitConnected(plain);
    assert.equal(await plain.evaluate(() => window.collab.mode), 'steps');
    await until(plain, () => window.collab.text().includes('steps!'), 'the steps text in the mode-less editor');
    await closeAll(plain);
    await until(admin, (y) => document.querySelector(y)?.querySelector('.conn-badge')?.textContent === '1', 'doc Y back to 1 connection', { arg: row(docY) });

    // live: one person leaves doc X
    await closeAll(pages[1]);
    await until(admin, (x) => document.querySelector(x)?.querySelector('.conn-badge')?.textContent === '1', 'doc X to drop to 1 connection', { arg: row(docX) });
    assert.equal(await connectionsIn(docY), '1');
    await screenshot(admin, 'admin-02-live-update');

    // a reload keeps the session (sessionStorage), no token in the URL
    await admin.reload();
    await until(admin, (x) => !!document.querySelector(x), 'the table after a reload', { arg: row(docX) });
    noProblems(admin);
  });

  test('asks for the token with a form, refuses a wrong one', { timeout: TEST_TIMEOUT }, async () => {
    const admin = await newPage(browser, 'admin-login');
    pages.push(admin);
    await admin.goto(`${server.httpUrl}/admin`); // the server redirects /admin -> /admin/
    await admin.locator('#login-form').waitFor();
    await admin.fill('#token-input', 'not-the-token');
    await admin.click('#login-form button[type=submit]');
    await until(admin, () => /not accepted/.test(document.querySelector('#login-error')?.textContent ?? ''), 'the refusal');
    assert.equal(await admin.evaluate(() => sessionStorage.getItem('collab.adminToken')), null);
    await screenshot(admin, 'admin-03-wrong-token');
    await admin.fill('#token-input', server.adminToken);
    await admin.click('#login-form button[type=submit]');
    await until(admin, (x) => !!document.querySelector(x), 'the table after signing in', { arg: `#documents-body tr[data-doc="${docX}"]` });
    assert.ok(!admin.url().includes(server.adminToken), 'never in the URL');
    await screenshot(admin, 'admin-04-signed-in');
    admin.problems = admin.problems.filter((p) => !p.includes('401')); // the refused attempt
    noProblems(admin);
  });
});

describe('access tokens (#token=)', () => {
  const secret = 'browser-test-secret-'.padEnd(48, 'x');
  let secured;
  const pages = [];

  before(async () => {
    // no admin token: this server's admin API is disabled (the admin page must say so, not retry forever)
    secured = await startServer({ env: { COLLAB_WEB_DIR: H.WEB_DIST, COLLAB_AUTH_SECRET: secret, COLLAB_ADMIN_TOKEN: '' } });
  });
  after(async () => {
    await closeAll(...pages);
    await secured?.dispose();
  });

  test('the admin page of a server without COLLAB_ADMIN_TOKEN shows the server\'s message and stops', { timeout: TEST_TIMEOUT }, async () => {
    const admin = await newPage(browser, 'admin-disabled');
    pages.push(admin);
    const asked = [];
    admin.on('request', (r) => { if (new URL(r.url()).pathname === '/admin/documents') asked.push(r.url()); });
    await admin.goto(`${secured.httpUrl}/admin/#token=anything`);
    await until(admin, () => document.querySelector('#admin-error')?.dataset.kind === 'disabled', 'the disabled message');
    assert.match(await admin.locator('#admin-error').innerText(), /disabled.*COLLAB_ADMIN_TOKEN/s);
    assert.equal(await admin.locator('#admin-status').getAttribute('data-state'), 'offline', 'not "retrying"');
    assert.equal(asked.length, 1, 'asked once, no retry loop scheduled');
    await screenshot(admin, 'admin-05-disabled');
    admin.problems = admin.problems.filter((p) => !p.includes('503'));
    noProblems(admin);
  });

  for (const { mode, query } of MODES) {
    test(`the page passes the fragment's token on (${mode} mode), and keeps it out of the address bar`, { timeout: TEST_TIMEOUT }, async () => {
      const id = docId(`token-${mode}`);
      const exp = Math.floor(Date.now() / 1000) + 3600;
      const rw = hs256(secret, { sub: 'ada', doc: id, scope: 'read-write', exp });
      const ro = hs256(secret, { sub: 'bob', doc: id, scope: 'read-only', exp });

      const writer = await newPage(browser, `token:${mode}:rw`, { storage: ADA });
      pages.push(writer);
      await writer.goto(`${secured.httpUrl}/?doc=${id}${query}#token=${rw}`);
      await waitConnected(writer);
      assert.equal(await writer.evaluate(() => location.hash), '', 'the token left the address bar');
      await focusEnd(writer);
      await writer.keyboard.type('signed in');

      const reader = await newPage(browser, `token:${mode}:ro`, { storage: BOB });
      pages.push(reader);
      await reader.goto(`${secured.httpUrl}/?doc=${id}${query}#token=${ro}`);
      await waitConnected(reader);
      await until(reader, () => window.collab.text() === 'signed in', 'the reader to see the text');
      assert.equal(await reader.locator('.ProseMirror').getAttribute('contenteditable'), 'false', 'a read-only token makes a read-only editor');
      await reader.click('.ProseMirror');
      await reader.keyboard.type('x');
      await reader.keyboard.press('Control+z');
      await reader.keyboard.press('Enter');
      await reader.click('button[data-cmd="h1"]', { force: true });
      assert.equal(await editorText(reader), 'signed in', 'typing, undo, Enter and the toolbar change nothing');
      assert.equal(await reader.evaluate(() => window.collab.docJSON().content[0].type), 'paragraph');
      await screenshot(reader, `token-${mode}-read-only`);

      const stranger = await newPage(browser, `token:${mode}:none`);
      pages.push(stranger);
      await stranger.goto(`${secured.httpUrl}/?doc=${id}${query}`);
      await until(stranger, () => ['reconnecting', 'denied'].includes(document.querySelector('#status')?.dataset.state),
        'a page without a token to stay unconnected');
      assert.notEqual(await stranger.locator('#status').getAttribute('data-state'), 'connected');
      assert.equal(await editorText(stranger), '', 'nothing of the document without a token');
      await screenshot(stranger, `token-${mode}-refused`);
      stranger.problems = []; // the browser logs the refused WebSocket handshakes
      noProblems(writer, reader);
    });
  }
});
