// ProseMirror collaboration through the JSON protocol (/ws/fabric), driven by headless
// prosemirror-collab editors (lib/pm-editor.mjs) against the real server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { sendableSteps } from 'prosemirror-collab';
import { connectFabric } from '../lib/json-client.mjs';
import { PMEditor, settle } from '../lib/pm-editor.mjs';
import { startServer } from '../lib/server.mjs';

const TEST_TIMEOUT = 30_000;

function docId(label) {
  return `pm-${label}-${randomUUID().slice(0, 8)}`;
}

/** steps messages of a sync reply: contiguous from `from`, returns the total number of steps. */
function assertContiguousSteps(messages, from) {
  const batches = messages.filter((m) => m.type === 'steps');
  let expected = from;
  for (const b of batches) {
    assert.equal(b.version, expected, `steps batch should start at version ${expected}: ${JSON.stringify(b).slice(0, 200)}`);
    assert.ok(Array.isArray(b.steps) && b.steps.length > 0, 'a steps batch carries at least one step');
    assert.equal(b.clientIDs.length, b.steps.length, 'one clientID per step');
    expected += b.steps.length;
  }
  return expected - from;
}

/**
 * steps messages received around a re-sync (a broadcast may cross the sync reply, so a step can come
 * twice): each batch lies within [from, to) and together they cover it without a gap.
 */
function assertStepsCover(messages, from, to) {
  const batches = messages.filter((m) => m.type === 'steps');
  let covered = from;
  for (const b of batches) {
    const end = b.version + b.steps.length;
    assert.ok(b.version >= from && end <= to, `steps batch ${b.version}..${end} lies within ${from}..${to}`);
    assert.ok(b.version <= covered, `no gap before the steps batch at ${b.version} (covered up to ${covered})`);
    covered = Math.max(covered, end);
  }
  assert.equal(covered, to, `the steps received cover ${from}..${to}`);
}

function assertHealthy(...editors) {
  for (const e of editors) {
    assert.deepEqual(e.anomalies, [], `${e.name} saw protocol anomalies`);
    assert.deepEqual(e.errors, [], `${e.name} got error messages`);
  }
}

function assertConverged(editors) {
  const [first, ...rest] = editors;
  for (const e of rest) {
    assert.equal(e.version, first.version, `${e.name} and ${first.name} are at the same version`);
    assert.deepEqual(e.docJSON(), first.docJSON(), `${e.name} has the same document as ${first.name}`);
  }
  for (const e of editors) assert.equal(sendableSteps(e.state), null, `${e.name} has no unconfirmed steps`);
}

/** The version the server reports to a fresh connection. */
async function serverVersion(server, documentId) {
  const probe = await connectFabric(server, documentId, `probe-${randomUUID().slice(0, 8)}`);
  try {
    const hello = await probe.next('connected');
    assert.equal(hello.documentId, documentId);
    return hello.version;
  } finally {
    await probe.close();
  }
}

// One server for the whole file (JVM start-up dominates the run time); the durability tests come
// last because they stop, kill and restart it. Each test uses its own document ids.
let server;
let editors = [];
const editor = (opts) => {
  const e = new PMEditor({ server, ...opts });
  editors.push(e);
  return e;
};

before(async () => { server = await startServer(); });
afterEach(async () => {
  await Promise.all(editors.map((e) => e.disconnect()));
  editors = [];
});
after(async () => { await server?.dispose(); });

describe('prosemirror-collab over the JSON protocol', () => {
  test('three editors making concurrent random edits converge', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('converge');
    const eds = [1, 2, 3].map((seed) => editor({ documentId, seed, name: `editor-${seed}` }));
    for (const e of eds) {
      const { connected, sync } = await e.connect();
      assert.equal(connected.version, 0, 'a new document starts at version 0');
      assert.equal(connected.documentId, documentId);
      assert.equal(String(connected.clientID), String(e.clientID), 'connected echoes our clientID');
      assert.equal(sync.at(-1).type, 'synced');
    }

    const plan = [];
    for (let round = 0; round < 15; round++) {
      const before = eds.map((e) => e.version);
      for (const e of eds) plan.push(...e.randomEdits(1 + e.random.int(3)));
      // let the edits race: wait (by condition) until something new was committed and delivered
      const watcher = eds[round % 3];
      await watcher.until((w) => w.version > before[round % 3], { what: `a commit after round ${round}`, allowDisconnected: false });
    }

    const version = await settle(eds);
    assertConverged(eds);
    assertHealthy(...eds);
    assert.ok(eds[0].doc.textContent.length > 0, 'the document is not empty');
    // all three sent their first batch at version 0, so at least two of them were told to re-sync
    const conflicts = eds.reduce((n, e) => n + e.stats.conflicts, 0);
    assert.ok(conflicts >= 2, `expected conflicts, got ${conflicts}`);
    assert.equal(await serverVersion(server, documentId), version, 'the server is at the version the editors reached');
  });

  test('a late joiner at version 0 gets every step and the same document', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('late');
    const a = editor({ documentId, seed: 11, name: 'A' });
    const b = editor({ documentId, seed: 12, name: 'B' });
    await a.connect();
    await b.connect();
    for (let i = 0; i < 5; i++) {
      a.randomEdits(3);
      b.randomEdits(3);
      await a.idle();
    }
    const version = await settle([a, b]);
    assert.ok(version > 0);

    const late = editor({ documentId, seed: 13, name: 'late' });
    const { connected, sync } = await late.connect();
    assert.equal(connected.version, version, 'connected reports the current version');
    assert.equal(sync.at(-1).type, 'synced');
    assert.equal(sync.at(-1).version, version, 'synced reports the current version');
    assert.equal(assertContiguousSteps(sync, 0), version, 'the sync reply carries every step from 0');
    assert.equal(late.version, version);
    assertConverged([a, b, late]);

    // and the late joiner is a full participant
    late.appendText(' LATE');
    await settle([a, b, late]);
    assertConverged([a, b, late]);
    assert.match(a.text(), /LATE/);
    assertHealthy(a, b, late);
  });

  test('a reconnecting editor receives only the steps after its version and rebases its offline edits', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('reconnect');
    const a = editor({ documentId, seed: 21, name: 'A' });
    const b = editor({ documentId, seed: 22, name: 'B' });
    await a.connect();
    await b.connect();
    a.insertText('Shared start. ');
    a.randomEdits(4);
    b.randomEdits(4);
    const v = await settle([a, b]);

    await a.disconnect();
    assert.equal(a.connected, false);

    // B edits while A is away
    for (let i = 0; i < 3; i++) {
      b.randomEdits(3);
      await b.idle();
    }
    b.insertText('ONLINE-B ', 1);
    await b.idle();
    const bVersion = b.version;
    assert.ok(bVersion > v);

    // A edits offline
    a.randomEdits(3);
    a.insertText('OFFLINE-A1 ', 1);
    a.appendText(' OFFLINE-A2');
    const offline = a.sendable();
    assert.equal(offline.version, v, 'offline steps are based on the version A had');

    const { connected, sync } = await a.connect();
    assert.equal(connected.version, bVersion, 'connected reports the current version');
    assert.equal(a.lastSync.request.version, v, 'A syncs from the version it had');
    const stepsMessages = sync.filter((m) => m.type === 'steps');
    assert.ok(stepsMessages.length >= 1, 'A gets the steps it missed');
    assert.equal(stepsMessages[0].version, v, 'the first steps message starts at the version A had, not at 0');
    assert.equal(assertContiguousSteps(sync, v), bVersion - v, 'exactly the steps after A\'s version');
    assert.ok(stepsMessages.every((m) => m.clientIDs.every((id) => String(id) === String(b.clientID))),
      'the missed steps are all B\'s');

    const final = await settle([a, b]);
    assert.ok(final > bVersion, 'A\'s rebased offline steps were committed after B\'s');
    assertConverged([a, b]);
    for (const marker of ['OFFLINE-A1', 'OFFLINE-A2', 'ONLINE-B']) {
      assert.ok(b.text().includes(marker), `${marker} is in the final document: ${JSON.stringify(b.text())}`);
    }
    assertHealthy(a, b);
  });

  test('two editors submitting at the same version: one gets conflict, both edits survive the re-sync', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('conflict');
    const a = editor({ documentId, seed: 31, name: 'A', autoFlush: false });
    const b = editor({ documentId, seed: 32, name: 'B', autoFlush: false });
    await a.connect();
    await b.connect();
    a.insertText('Hello world');
    a.flush();
    await a.idle();
    await b.waitForVersion(a.version);
    const v = a.version;
    const mark = { a: a.client.received.length, b: b.client.received.length };

    a.insertText('ALPHA ', 1);
    b.insertText(' BRAVO', b.doc.content.size - 1);
    const sentA = a.flush();
    const sentB = b.flush();
    assert.equal(sentA.version, v);
    assert.equal(sentB.version, v);

    // each submission is answered: the own steps echoed back, or a conflict followed by a re-sync
    const outcome = (e) => e.until((x) => !x.inFlight && !x.syncing, { what: 'the answer to its steps', allowDisconnected: false });
    await Promise.all([outcome(a), outcome(b)]);
    const losers = [a, b].filter((e) => e.stats.conflicts > 0);
    assert.equal(losers.length, 1, `exactly one editor gets a conflict (A: ${a.stats.conflicts}, B: ${b.stats.conflicts})`);
    const loser = losers[0];
    const winner = loser === a ? b : a;
    const sinceFlush = (e) => e.client.received.slice(e === a ? mark.a : mark.b);

    const echo = sinceFlush(winner).find((m) => m.type === 'steps');
    assert.ok(echo, 'the winner gets its own steps back');
    assert.equal(echo.version, v);
    assert.deepEqual(echo.clientIDs.map(String), [String(winner.clientID)]);
    assert.equal(echo.steps.length, 1);

    const conflicts = sinceFlush(loser).filter((m) => m.type === 'conflict');
    assert.equal(conflicts.length, 1, 'the loser gets one conflict');
    assert.equal(conflicts[0].version, v + 1,
      `conflict must report the current version, the one that beat the loser's steps at ${v}; ` +
      `got ${JSON.stringify(conflicts[0])} (a conflict naming the version the client sent tells it nothing to catch up to)`);
    // the loser re-syncs from the version it has (v, or v + 1 when the winner's broadcast came
    // first); the steps it receives (broadcast and sync reply may overlap) bring it to v + 1
    const resyncFrom = loser.lastSync.request.version;
    assert.ok(resyncFrom === v || resyncFrom === v + 1, `re-sync from ${resyncFrom}`);
    assert.equal(loser.lastSync.messages.at(-1).type, 'synced');
    await loser.waitForVersion(v + 1);
    assertStepsCover(sinceFlush(loser), v, v + 1);
    assert.equal(loser.version, v + 1, 'the loser has exactly the winner\'s step');
    const pending = loser.sendable();
    assert.ok(pending, 'the loser still holds its (rebased) step');
    assert.equal(pending.version, v + 1);
    assert.equal(pending.steps.length, 1);

    loser.autoFlush = true;
    winner.autoFlush = true;
    loser.flush();
    const final = await settle([a, b]);
    assert.equal(final, v + 2);
    assertConverged([a, b]);
    assert.equal(a.text(), 'ALPHA Hello world BRAVO');
    // the conflict went to the sender only (the winner has seen the loser's later steps, so a
    // conflict sent to it would have arrived before them)
    assert.equal(winner.client.received.filter((m) => m.type === 'conflict').length, 0, 'the winner never gets a conflict');
    assert.equal(winner.stats.conflicts, 0);
    assertHealthy(a, b);
  });
});

describe('prosemirror-collab history is durable', () => {
  test('history survives a server restart', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('restart');
    const a = editor({ documentId, seed: 41, name: 'A' });
    const b = editor({ documentId, seed: 42, name: 'B' });
    await a.connect();
    await b.connect();
    for (let i = 0; i < 4; i++) {
      a.randomEdits(3);
      b.randomEdits(2);
      await a.idle();
    }
    const version = await settle([a, b]);
    const doc = a.docJSON();

    const stopped = await server.stop();
    assert.equal(stopped.forced, false, 'the server exits on SIGTERM');
    await a.until((e) => !e.connected, { what: 'the connection to drop' });
    await server.restart();
    assert.ok(server.port > 0);

    const fresh = editor({ documentId, seed: 43, name: 'fresh' });
    const { connected, sync } = await fresh.connect();
    assert.equal(connected.version, version, 'the version survives the restart');
    assert.equal(assertContiguousSteps(sync, 0), version, 'every step survives the restart');
    assert.deepEqual(fresh.docJSON(), doc, 'the document survives the restart');

    // the old editor reconnects at its version: nothing to catch up, and editing continues
    const again = await a.connect();
    assert.equal(again.sync.filter((m) => m.type === 'steps').length, 0, 'no steps for an up-to-date editor');
    a.appendText(' after restart');
    await settle([a, fresh]);
    assertConverged([a, fresh]);
    assert.equal(a.version, version + 1);
    assertHealthy(a, fresh);
  });

  test('steps acknowledged before kill -9 are there after restart', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('kill9');
    const a = editor({ documentId, seed: 51, name: 'A' });
    await a.connect();
    // a burst of small transactions: several round trips of steps batches
    for (let i = 0; i < 10; i++) a.randomEdits(2);
    a.appendText(' LAST');
    await a.idle();
    // the last echo just came back: kill the server right now
    const exit = await server.kill();
    assert.equal(exit.signal, 'SIGKILL');
    const version = a.version;
    const doc = a.docJSON();
    assert.ok(version >= 21, `expected at least 21 steps, got ${version}`);
    assert.ok(a.stats.confirmedBatches >= 2, 'several batches were acknowledged');

    await server.restart();
    const fresh = editor({ documentId, seed: 52, name: 'fresh' });
    const { connected, sync } = await fresh.connect();
    assert.equal(connected.version, version, 'every acknowledged step survives kill -9');
    assert.equal(assertContiguousSteps(sync, 0), version);
    assert.deepEqual(fresh.docJSON(), doc);
    assert.match(fresh.text(), /LAST$/);
    assertHealthy(a, fresh);
  });
});
