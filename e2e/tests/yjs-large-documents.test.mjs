// Large documents with the stock y-websocket provider: a paste past COLLAB_MAX_DOCUMENT_BYTES is refused (close
// 1009 'document-too-large', nothing of it stored) while a second document keeps working; a 50 MiB paste under a
// 512 MiB heap completes without OutOfMemoryError, reaches a reader, and is whole after a restart (served to a
// late joiner in parts, larger than the outbound bound, without the joiner being taken for a slow consumer).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import { YjsClients, sameDoc, until } from '../lib/yjs-clients.mjs';

const CHUNK = 256 * 1024;
const docId = (label) => `large-${label}-${randomUUID().slice(0, 8)}`;
const chunkText = (i) => String.fromCharCode(97 + (i % 26)).repeat(CHUNK);

// Each paste goes to the start of the text: appended pastes would be joined into one ever longer string by every
// client's Y.Doc (yjs merges adjacent items), which costs the test's clients seconds per paste at 50 MiB.
const paste = (text, i) => text.insert(0, chunkText(i));

/** Whether `text` is pastes count-1..0 of chunkText (each pasted at the start). */
function isPaste(text, count) {
  if (text.length !== count * CHUNK) return false;
  for (let i = 0; i < count; i++) {
    const at = (count - 1 - i) * CHUNK;
    if (text[at] !== chunkText(i)[0] || text[at + CHUNK - 1] !== chunkText(i)[0]) return false;
  }
  return true;
}

describe('large documents with the y-websocket provider', () => {
  let server;
  let clients;
  afterEach(async () => { await clients?.destroyAll(); await server?.dispose(); server = null; });

  test('a paste past the maximum document size is refused and not stored; other documents keep working', { timeout: 180_000 }, async () => {
    const max = 2 * 1024 * 1024;
    server = await startServer({ env: { COLLAB_MAX_DOCUMENT_BYTES: String(max) } });
    clients = new YjsClients(server);
    const big = docId('refused');
    const writer = clients.yws(big, { name: 'writer' });
    const reader = clients.yws(big, { name: 'reader' });
    await Promise.all([writer.whenSynced(30_000), reader.whenSynced(30_000)]);

    // 6 chunks (1.5 MiB) fit; the 9th would pass 2 MiB
    const text = writer.doc.getText('t');
    for (let i = 0; i < 6; i++) paste(text, i);
    await until(() => reader.doc.getText('t').length === 6 * CHUNK, { timeout: 20_000, what: 'the reader to get 1.5 MiB' });
    for (let i = 6; i < 10; i++) paste(text, i);
    await until(() => writer.closes.some((c) => c?.code === 1009), { timeout: 20_000, what: 'the writer to be refused' });
    const refusal = writer.closes.find((c) => c?.code === 1009);
    assert.equal(refusal.reason, 'document-too-large');
    writer.destroy();

    // a second document keeps working meanwhile
    const other = docId('other');
    const a = clients.yws(other, { name: 'a' });
    const b = clients.yws(other, { name: 'b' });
    await Promise.all([a.whenSynced(30_000), b.whenSynced(30_000)]);
    a.doc.getText('t').insert(0, 'still working');
    await until(() => b.doc.getText('t').toString() === 'still working', { what: 'the other document to relay' });

    // reads keep working: a late joiner syncs what was stored, which is below the maximum and has no refused chunk
    const late = clients.yws(big, { name: 'late' });
    await late.whenSynced(20_000);
    const stored = late.doc.getText('t').toString();
    assert.ok(stored.length <= max && stored.length >= 6 * CHUNK, `stored ${stored.length} characters`);
    assert.ok(isPaste(stored, stored.length / CHUNK), 'the stored text is whole chunks in order');
    assert.ok(sameDoc(late.doc, reader.doc) || reader.doc.getText('t').length >= stored.length);
    assert.match(server.stdout + server.stderr, /refused an update of [\d,]+ bytes/);
  });

  test('a 50 MiB paste under a 512 MiB heap: no OutOfMemoryError, the reader gets it all, and it is whole after a restart', { timeout: 240_000 }, async () => {
    const count = 200;
    server = await startServer({ env: { COLLAB_JAVA_OPTS: '-Xmx512m' } });
    clients = new YjsClients(server);
    const big = docId('paste');
    const writer = clients.yws(big, { name: 'writer' });
    const reader = clients.yws(big, { name: 'reader' });
    await Promise.all([writer.whenSynced(30_000), reader.whenSynced(30_000)]);
    const text = writer.doc.getText('t');
    for (let i = 0; i < count; i++) {
      paste(text, i);
      // let the socket drain now and then, as a user's pastes are apart in time
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await until(() => reader.doc.getText('t').length === count * CHUNK, { timeout: 120_000, interval: 50, what: 'the reader to get 50 MiB' });
    assert.ok(isPaste(reader.doc.getText('t').toString(), count), 'the reader has the paste in order');
    // a late joiner from memory gets the whole document (more than the 32 MiB outbound bound) in parts
    const joiner = clients.yws(big, { name: 'joiner' });
    await joiner.whenSynced(60_000);
    await until(() => joiner.doc.getText('t').length === count * CHUNK, { timeout: 60_000, what: 'the joiner to get 50 MiB' });
    assert.deepEqual(joiner.closes, [], 'the joiner was not closed');
    await clients.destroyAll();

    assert.doesNotMatch(server.stdout + server.stderr, /OutOfMemoryError/);
    await server.restart();
    const afterRestart = clients.yws(big, { name: 'after restart' });
    await afterRestart.whenSynced(60_000);
    await until(() => afterRestart.doc.getText('t').length === count * CHUNK, { timeout: 60_000, what: 'the document after the restart' });
    assert.ok(isPaste(afterRestart.doc.getText('t').toString(), count), 'the document is whole after the restart');
    assert.deepEqual(afterRestart.closes, [], 'the joiner after the restart was not closed');
  });
});
