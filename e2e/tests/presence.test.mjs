// Presence: a client never receives its own awareness state back, whichever protocols share the room, and the
// counts a client sees (the `connected` message, the people in the room) agree with the admin API's.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { JsonClient } from '../lib/json-client.mjs';
import { startServer } from '../lib/server.mjs';
import { YjsClients, adminDoc, until } from '../lib/yjs-clients.mjs';

const TEST_TIMEOUT = 30_000;
const docId = (label) => `presence-${label}-${randomUUID().slice(0, 8)}`;

describe('presence', () => {
  let server;
  let clients;
  const sockets = [];

  before(async () => {
    server = await startServer();
    clients = new YjsClients(server);
  });
  afterEach(async () => {
    await clients.destroyAll();
    for (const s of sockets.splice(0)) s.terminate?.();
  });
  after(async () => { await server?.dispose(); });

  async function json(documentId, clientID) {
    const c = await JsonClient.connect(server.fabricUrl(documentId, clientID), { name: clientID });
    sockets.push(c.ws);
    return c;
  }

  test('a lone JSON client\'s sync reply holds no awareness: its own state is not "another client"', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('lone');
    const j = await json(documentId, 'lone');
    assert.equal((await j.next('connected')).connections, 1);
    j.send({ type: 'awareness', state: { user: { name: 'me' } } });
    j.send({ type: 'sync', version: 0 });
    const reply = await j.collectUntil((m) => m.type === 'synced');
    assert.deepEqual(reply.filter((m) => m.type === 'awareness'), [], `no awareness in ${JSON.stringify(reply)}`);
    await j.close();
  });

  test('beside a y-websocket provider a JSON client never gets its own state echoed; counts agree with the admin API', { timeout: TEST_TIMEOUT }, async () => {
    const documentId = docId('mixed');
    const j = await json(documentId, 'json-a');
    assert.equal((await j.next('connected')).connections, 1);
    j.send({ type: 'awareness', state: { user: { name: 'json-a' } } });

    // the stock provider re-sends every awareness state it sees, the JSON client's included
    const y = clients.yws(documentId, { name: 'y-websocket' });
    y.awareness.setLocalStateField('user', { name: 'yws' });
    await y.whenSynced();
    const jsonIdInYjs = () => [...y.awareness.getStates()].find(([, s]) => s?.user?.name === 'json-a')?.[0];
    await until(() => jsonIdInYjs() !== undefined, { what: 'the provider to see the JSON client\'s state' });
    // anything the provider sent before this marker has been handled by the room when the JSON client sees it
    y.awareness.setLocalStateField('marker', 1);
    await j.waitFor((m) => m.type === 'awareness' && m.state?.marker === 1);
    const own = j.received.filter((m) => m.type === 'awareness' && (m.clientID === jsonIdInYjs() || m.clientID === 'json-a'));
    assert.deepEqual(own, [], 'the JSON client never received its own state');

    // a second JSON client: its counts agree with the admin API and with the people it sees
    const k = await json(documentId, 'json-b');
    const hello = await k.next('connected');
    const admin = await adminDoc(server, documentId);
    assert.equal(hello.connections, 3);
    assert.equal(admin.connections, hello.connections, 'connected.connections is the admin count');
    k.send({ type: 'awareness', state: { user: { name: 'json-b' } } });
    k.send({ type: 'sync', version: 0 });
    const reply = await k.collectUntil((m) => m.type === 'synced');
    const others = new Map(reply.filter((m) => m.type === 'awareness' && m.state).map((m) => [m.clientID, m.state.user.name]));
    assert.deepEqual([...others.values()].sort(), ['json-a', 'yws'], 'the others, each once, not itself');
    assert.equal(1 + others.size, admin.connections, 'the demo\'s people count (itself + the others) is the admin count');
    await Promise.all([j.close(), k.close()]);
  });
});
