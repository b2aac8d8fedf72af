// Writes reference fixtures for the Java Yjs update engine, computed with the real yjs package.
//   node e2e/yjs-fixtures/generate.mjs <out-dir>
// Its output is committed beside it (e2e/yjs-fixtures/*.json: `node e2e/yjs-fixtures/generate.mjs e2e/yjs-fixtures`),
// so the Java unit tests read yjs's results without Node; YjsNodeIT fails while a fresh run differs from them.
// Every fixture file holds, for one fixed seed: the updates of a randomized concurrent history (several Y.Docs
// editing text with formatting/embeds/emoji, maps, arrays, nested XML, subdocuments and exchanging updates only
// partially), yjs's mergeUpdates / encodeStateVectorFromUpdate / diffUpdate results on them, and the expected
// document content. Deterministic: same seeds, same files.
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import fs from 'node:fs'
import path from 'node:path'
import { b64, contentOf, contentAfter } from './common.mjs'

const outDir = process.argv[2]
if (!outDir) {
  console.error('usage: node generate.mjs <out-dir>')
  process.exit(2)
}
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
const BOUNDARY_SEEDS = [101, 102, 103, 104, 105, 106, 107, 108]
const REMOTE = Symbol('remote')
const MAX_CLIENT = 2 ** 53 - 1
const CLIENT_POOL = [MAX_CLIENT, MAX_CLIENT - 1, 2 ** 32 + 7, 2 ** 31 - 1, 2 ** 31, 2 ** 21, 300, 1, 0]

/** mulberry32: small deterministic PRNG. */
const makeRng = (seed) => {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  next.int = (n) => Math.floor(next() * n)
  next.pick = (arr) => arr[next.int(arr.length)]
  next.shuffle = (arr) => {
    const a2 = arr.slice()
    for (let i = a2.length - 1; i > 0; i--) {
      const j = next.int(i + 1)
      ;[a2[i], a2[j]] = [a2[j], a2[i]]
    }
    return a2
  }
  return next
}

const CHARS = ['a', 'b', 'c', 'x', ' ', 'ä', '中', '😀', '𝄞', '👍🏽', 'é', '\n']
const randomText = (rng) => {
  let s = ''
  for (let n = 1 + rng.int(4); n > 0; n--) s += rng.pick(CHARS)
  return s
}
const randomAttrs = (rng) => rng.pick([{}, {}, { bold: true }, { italic: true, color: '#c00' }, { link: 'https://e.x/😀' }, { bold: null }])

/** Values for ContentAny; `inMap` allows the ones Y.Array refuses (undefined, bigint at top level). */
const randomAny = (rng, inMap, depth = 0) => {
  const choices = [
    () => rng.int(100), () => -rng.int(100000), () => 2 ** 31, () => 2 ** 40 + 1, () => 1.5, () => 0.1,
    () => -1e300, () => randomText(rng), () => true, () => false, () => null,
    () => depth < 2 ? [randomAny(rng, false, depth + 1), randomAny(rng, false, depth + 1)] : 'leaf',
    () => depth < 2 ? { k: randomAny(rng, false, depth + 1), 'ключ😀': 7, u: undefined } : 'leaf'
  ]
  if (inMap) choices.push(() => undefined, () => -9007199254740993n)
  return rng.pick(choices)()
}

let subdocCounter = 0
const randomInsertable = (rng, seed, inMap) => {
  const r = rng()
  if (r < 0.08) return new Uint8Array([rng.int(256), 0, 255])
  if (r < 0.12) {
    const m = new Y.Map()
    m.set('inner', randomText(rng))
    return m
  }
  if (r < 0.15) {
    const t = new Y.Text()
    t.insert(0, randomText(rng), { bold: true })
    return t
  }
  if (r < 0.17) {
    return new Y.Doc({ guid: `sub-${seed}-${subdocCounter++}`, autoLoad: rng() < 0.5, meta: rng() < 0.5 ? { title: 'x' } : null })
  }
  return randomAny(rng, inMap)
}

/** All XmlElements and XmlTexts below the fragment. */
const xmlNodes = (frag) => {
  const out = []
  const walk = (node) => {
    for (const child of node.toArray()) {
      if (child instanceof Y.XmlElement) {
        out.push(child)
        walk(child)
      } else if (child instanceof Y.XmlText) {
        out.push(child)
      }
    }
  }
  walk(frag)
  return out
}

// Local edits stay on code point boundaries: yjs itself diverges when a local edit splits a surrogate pair (the
// editing doc keeps a lone surrogate, the others receive U+FFFD). Splits inside pairs are still exercised below,
// where diffs and merges cut structs at arbitrary clocks.
const plain = (text) => text.toDelta().map((op) => typeof op.insert === 'string' ? op.insert : ' ').join('')
const boundary = (str, pos) => {
  const c = str.charCodeAt(pos - 1)
  return pos > 0 && pos < str.length && c >= 0xD800 && c <= 0xDBFF ? pos + 1 : pos
}

const editText = (rng, text) => {
  const str = plain(text)
  const len = str.length
  const r = rng()
  if (r < 0.55 || len === 0) {
    text.insert(boundary(str, rng.int(len + 1)), randomText(rng), randomAttrs(rng))
    return
  }
  const pos = boundary(str, rng.int(len))
  const end = boundary(str, Math.min(len, pos + 1 + rng.int(4)))
  if (pos >= end) return
  if (r < 0.75) {
    text.delete(pos, end - pos)
  } else if (r < 0.9) {
    text.format(pos, end - pos, rng.pick([{ bold: true }, { bold: null }, { italic: true }, { size: 3 }]))
  } else {
    text.insertEmbed(pos, { image: `img-${rng.int(10)}.png` }, rng.pick([{}, { width: 10 }]))
  }
}

const operations = [
  [4, (rng, doc) => editText(rng, doc.getText('text'))],
  [2, (rng, doc, seed) => {
    const map = doc.getMap('map')
    if (rng() < 0.2 && map.size > 0) {
      map.delete(rng.pick([...map.keys()]))
    } else {
      map.set(rng.pick(['a', 'b', 'c', 'd', 'ü😀', 'nested']), randomInsertable(rng, seed, true))
    }
    const nested = map.get('nested')
    if (nested instanceof Y.Map && rng() < 0.5) nested.set(rng.pick(['x', 'y']), randomAny(rng, true))
    if (nested instanceof Y.Text && rng() < 0.5) editText(rng, nested)
  }],
  [2, (rng, doc, seed) => {
    const arr = doc.getArray('array')
    if (rng() < 0.3 && arr.length > 0) {
      const pos = rng.int(arr.length)
      arr.delete(pos, 1 + rng.int(Math.min(3, arr.length - pos)))
    } else {
      const items = []
      for (let n = 1 + rng.int(3); n > 0; n--) items.push(randomInsertable(rng, seed, false))
      arr.insert(rng.int(arr.length + 1), items)
    }
  }],
  [3, (rng, doc) => {
    const frag = doc.getXmlFragment('xml')
    const nodes = xmlNodes(frag)
    const r = rng()
    if (r < 0.25 || nodes.length === 0) {
      const el = new Y.XmlElement(rng.pick(['p', 'h1', 'blockquote', 'li']))
      el.setAttribute('data-id', String(rng.int(1000)))
      const t = new Y.XmlText()
      t.insert(0, randomText(rng), randomAttrs(rng))
      el.insert(0, [t])
      frag.insert(rng.int(frag.length + 1), [el])
      return
    }
    const node = rng.pick(nodes)
    if (node instanceof Y.XmlText) {
      editText(rng, node)
    } else if (r < 0.4) {
      node.setAttribute(rng.pick(['class', 'data-id', 'title']), rng() < 0.3 ? undefined : randomText(rng))
    } else if (r < 0.5) {
      node.removeAttribute('class')
    } else if (r < 0.62) {
      node.insert(rng.int(node.length + 1), [rng() < 0.3 ? new Y.XmlHook('mention') : new Y.XmlElement('em')])
    } else if (r < 0.75 && node.length > 0) {
      node.delete(rng.int(node.length), 1)
    } else if (frag.length > 0) {
      frag.delete(rng.int(frag.length), 1) // deletes a whole subtree: its children become GC when gc is on
    }
  }]
]
const totalWeight = operations.reduce((s, [w]) => s + w, 0)
const randomOperation = (rng) => {
  let x = rng() * totalWeight
  for (const [w, op] of operations) {
    if ((x -= w) < 0) return op
  }
  return operations[0][1]
}

/** Runs one randomized history; returns the recorded updates and snapshots. */
const runHistory = (seed) => {
  const rng = makeRng(seed)
  const nDocs = 2 + rng.int(3)
  const ids = rng.shuffle(CLIENT_POOL).slice(0, nDocs)
  const docs = ids.map((id) => {
    const doc = new Y.Doc({ gc: rng() < 0.7 })
    doc.clientID = id
    return doc
  })
  const updates = [] // every local transaction, every sync message, every snapshot
  const snapshots = []
  const queues = docs.map(() => docs.map(() => [])) // queues[from][to]: local updates not yet delivered
  docs.forEach((doc, i) => doc.on('update', (u, origin) => {
    if (origin === REMOTE) return
    updates.push(u)
    docs.forEach((_, j) => { if (j !== i) queues[i][j].push(u) })
  }))
  const steps = 80 + rng.int(100)
  for (let step = 0; step < steps; step++) {
    const r = rng()
    if (r < 0.72) {
      const doc = rng.pick(docs)
      const ops = 1 + (rng() < 0.2 ? rng.int(3) : 0)
      doc.transact(() => { for (let k = 0; k < ops; k++) randomOperation(rng)(rng, doc, seed) })
    } else if (r < 0.86) {
      // deliver a random part of the outstanding updates, in random order
      const from = rng.int(nDocs)
      const to = (from + 1 + rng.int(nDocs - 1)) % nDocs
      const queue = queues[from][to]
      const chosen = rng.shuffle(queue.map((_, k) => k)).slice(0, rng.int(queue.length + 1))
      for (const k of chosen) Y.applyUpdate(docs[to], queue[k], REMOTE)
      queues[from][to] = queue.filter((_, k) => !chosen.includes(k))
    } else if (r < 0.93) {
      const from = rng.int(nDocs)
      const to = (from + 1 + rng.int(nDocs - 1)) % nDocs
      const msg = Y.encodeStateAsUpdate(docs[from], Y.encodeStateVector(docs[to]))
      Y.applyUpdate(docs[to], msg, REMOTE)
      updates.push(msg)
    } else {
      const snap = Y.encodeStateAsUpdate(rng.pick(docs))
      snapshots.push(snap)
      updates.push(snap)
    }
  }
  for (let round = 0; round < 2; round++) {
    for (const a of docs) for (const b of docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a), REMOTE)
  }
  const content = contentOf(docs[0])
  for (const d of docs) {
    const differing = Object.keys(content).filter((k) => JSON.stringify(contentOf(d)[k]) !== JSON.stringify(content[k]))
    if (differing.length > 0) throw new Error(`seed ${seed}: documents did not converge (${differing.join(', ')})`)
  }
  snapshots.push(Y.encodeStateAsUpdate(docs[0]))
  return { rng, updates, snapshots, content, stateVectors: docs.map((d) => Y.encodeStateVector(d)) }
}

/** A state vector with random clocks for the clients of `update` (splits structs anywhere, surrogates included). */
const randomStateVector = (rng, update) => {
  const sv = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update))
  const out = new Map()
  for (const [client, clock] of sv) if (rng() < 0.8) out.set(client, rng.int(clock + 2))
  if (rng() < 0.5) out.set(4242, 3) // a client the update does not know
  return Y.encodeStateVector(out)
}

const buildFixture = (name, { rng, updates, snapshots, content, stateVectors }) => {
  const fixture = { name, updates: [], merges: [], diffs: [] }
  for (const u of updates) fixture.updates.push({ update: b64(u), sv: b64(Y.encodeStateVectorFromUpdate(u)) })
  const addMerge = (caseName, inputs, expectContent) => {
    const output = Y.mergeUpdates(inputs)
    const got = contentAfter(output)
    if (expectContent && JSON.stringify(got) !== JSON.stringify(expectContent)) throw new Error(`${name}/${caseName}: merge lost content`)
    fixture.merges.push({ name: caseName, inputs: inputs.map(b64), output: b64(output), sv: b64(Y.encodeStateVectorFromUpdate(output)), content: got })
    return output
  }
  const full = addMerge('all-in-order', updates, content)
  addMerge('all-shuffled', rng.shuffle(updates), content)
  addMerge('reversed', updates.slice().reverse(), content)
  const partial = []
  for (let k = 0; k < 3; k++) {
    const subset = rng.shuffle(updates).slice(0, 1 + rng.int(updates.length))
    partial.push(addMerge(`subset-${k}`, subset, null))
  }
  // merge of merges: chunks of consecutive updates merged separately, then together
  const chunks = []
  for (let at = 0; at < updates.length;) {
    const len = 1 + rng.int(12)
    chunks.push(Y.mergeUpdates(updates.slice(at, at + len)))
    at += len
  }
  addMerge('merge-of-merges', rng.shuffle(chunks), content)
  addMerge('snapshots-and-partials', [...snapshots, ...partial], null)
  addMerge('pair', updates.slice(0, 2), null)
  for (let k = 0; k < 3; k++) {
    // the diff starts at arbitrary clocks (inside surrogate pairs too), so merging it with the full state slices
    const cut = Y.diffUpdate(full, randomStateVector(rng, full))
    addMerge(`full-and-cut-${k}`, k % 2 === 0 ? [full, cut] : [cut, full], null)
    addMerge(`cut-and-updates-${k}`, [cut, ...rng.shuffle(updates).slice(0, 5)], null)
  }

  const addDiff = (caseName, update, sv, base) => {
    const output = Y.diffUpdate(update, sv)
    const entry = { name: caseName, update: b64(update), sv: b64(sv), output: b64(output), outputSv: b64(Y.encodeStateVectorFromUpdate(output)) }
    if (base) {
      entry.base = b64(base)
      entry.content = contentAfter(base, output)
      if (JSON.stringify(entry.content) !== JSON.stringify(content)) throw new Error(`${name}/${caseName}: base + diff != full`)
    }
    fixture.diffs.push(entry)
  }
  snapshots.forEach((snap, k) => addDiff(`full-vs-snapshot-${k}`, full, Y.encodeStateVectorFromUpdate(snap), snap))
  addDiff('full-vs-empty', full, Y.encodeStateVector(new Map()), Y.mergeUpdates([]))
  stateVectors.forEach((sv, k) => addDiff(`full-vs-doc-${k}`, full, sv, null))
  for (let k = 0; k < 6; k++) addDiff(`full-vs-random-${k}`, full, randomStateVector(rng, full), null)
  partial.forEach((p, k) => {
    addDiff(`subset-${k}-vs-random`, p, randomStateVector(rng, p), null)
    addDiff(`subset-${k}-vs-empty`, p, Y.encodeStateVector(new Map()), null)
  })
  for (let k = 0; k < 4; k++) {
    const u = rng.pick(updates)
    addDiff(`update-vs-random-${k}`, u, randomStateVector(rng, u), null)
  }
  fixture.content = content
  fixture.bases = documentBases(rng, updates, snapshots, full)
  return fixture
}

/**
 * Documents at various states, as updates, for checking that a coalesced update (YUpdates.compact) acts like
 * yjs's own merge on top of an existing document, and under it: a few snapshots, merges of the first k updates,
 * and documents cut at random state vectors (anywhere inside items, surrogate pairs included, so some hold
 * pending structs) with either no deletions or the full document's.
 */
const documentBases = (rng, updates, snapshots, full) => {
  const bases = []
  const add = (name, update) => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, update)
    bases.push({ name, update: b64(update), sv: b64(Y.encodeStateVector(doc)) })
    doc.destroy()
  }
  const pick = (arr, n) => arr.length <= n ? arr : Array.from({ length: n }, (_, k) => arr[Math.floor(k * arr.length / n)])
  pick(snapshots.slice(0, -1), 3).forEach((snap, k) => add(`snapshot-${k}`, snap))
  for (const at of new Set([1, 2, Math.floor(updates.length / 3), Math.floor(updates.length / 2), updates.length - 1])) {
    if (at > 0 && at < updates.length) add(`prefix-${at}`, Y.mergeUpdates(updates.slice(0, at)))
  }
  for (let k = 0; k < 4; k++) {
    const origin = new Y.Doc({ gc: false })
    Y.applyUpdate(origin, full)
    const sv = new Map()
    for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(origin))) {
      if (rng() < 0.85) sv.set(client, rng.int(clock + 1))
    }
    const ds = k % 2 === 0 ? Y.createDeleteSet() : Y.snapshot(origin).ds
    const doc = Y.createDocFromSnapshot(origin, Y.createSnapshot(ds, sv))
    add(`cut-${k}`, Y.encodeStateAsUpdate(doc))
    doc.destroy()
    origin.destroy()
  }
  return bases
}

/** Many single-character edits by two typists: mergeUpdates over thousands of tiny updates. */
const typingHistory = (seed) => {
  const rng = makeRng(seed)
  const docs = [MAX_CLIENT, 77].map((id) => {
    const d = new Y.Doc()
    d.clientID = id
    return d
  })
  const updates = []
  docs.forEach((d, i) => d.on('update', (u, origin) => {
    if (origin === REMOTE) return
    updates.push(u)
    Y.applyUpdate(docs[1 - i], u, REMOTE)
  }))
  for (let k = 0; k < 2000; k++) {
    const text = rng.pick(docs).getText('text')
    const str = text.toString()
    if (str.length > 1 && rng() < 0.15) {
      const pos = boundary(str, rng.int(str.length - 1))
      text.delete(pos, str.charCodeAt(pos) >= 0xD800 && str.charCodeAt(pos) <= 0xDBFF ? 2 : 1)
    } else {
      text.insert(rng() < 0.8 ? str.length : boundary(str, rng.int(str.length + 1)), rng.pick(['x', 'y', '😀']))
    }
  }
  return { rng, updates, snapshots: [Y.encodeStateAsUpdate(docs[0])], content: contentOf(docs[0]), stateVectors: docs.map((d) => Y.encodeStateVector(d)) }
}

/**
 * Histories aimed at item boundaries, for coalescing (YUpdates.compact): every character is its own transaction,
 * as typing produces it, so merges hold runs of one-character items; several clients type at the same positions
 * concurrently (one client's cursor taken by another before they sync), insert between the characters of another
 * client's run, delete and format inside runs, type surrogate pairs, build runs of array values (ContentAny) and
 * set the same map keys repeatedly (map entries must never be joined). Delivery is partial and out of order.
 */
const boundaryHistory = (seed) => {
  const rng = makeRng(seed)
  const nDocs = 3 + rng.int(2)
  const ids = rng.shuffle(CLIENT_POOL).slice(0, nDocs)
  const docs = ids.map((id) => {
    const doc = new Y.Doc({ gc: rng() < 0.6 })
    doc.clientID = id
    return doc
  })
  const updates = []
  const snapshots = []
  const queues = docs.map(() => docs.map(() => []))
  docs.forEach((doc, i) => doc.on('update', (u, origin) => {
    if (origin === REMOTE) return
    updates.push(u)
    docs.forEach((_, j) => { if (j !== i) queues[i][j].push(u) })
  }))
  const cursors = docs.map(() => 0)
  const arrayCursors = docs.map(() => 0)
  const RUN_CHARS = ['a', 'b', 'c', 'x', '😀', '𝄞', '中', 'é', '\n', ' ']
  const steps = 150 + rng.int(120)
  for (let step = 0; step < steps; step++) {
    const r = rng()
    const d = rng.int(nDocs)
    const doc = docs[d]
    const text = doc.getText('text')
    if (r < 0.5) {
      // a run of single-character transactions
      const str = plain(text)
      const mode = rng()
      let pos = mode < 0.4 ? cursors[d] : mode < 0.7 ? cursors[rng.int(nDocs)] : rng.int(str.length + 1)
      pos = boundary(str, Math.min(pos, str.length))
      const attrs = rng() < 0.2 ? rng.pick([{ bold: true }, { italic: true }, { bold: null }]) : undefined
      for (let n = 1 + rng.int(8); n > 0; n--) {
        const ch = rng.pick(RUN_CHARS)
        doc.transact(() => attrs ? text.insert(pos, ch, attrs) : text.insert(pos, ch))
        pos += ch.length
      }
      cursors[d] = pos
    } else if (r < 0.58) {
      const str = plain(text)
      if (str.length > 0) {
        const pos = boundary(str, rng.int(str.length))
        const end = boundary(str, Math.min(str.length, pos + 1 + rng.int(3)))
        if (end > pos) doc.transact(() => text.delete(pos, end - pos))
        cursors[d] = pos
      }
    } else if (r < 0.63) {
      const str = plain(text)
      if (str.length > 0) {
        const pos = boundary(str, rng.int(str.length))
        const end = boundary(str, Math.min(str.length, pos + 1 + rng.int(5)))
        if (end > pos) text.format(pos, end - pos, rng.pick([{ bold: true }, { bold: null }, { italic: true }]))
      }
    } else if (r < 0.7) {
      // a run of single array values, sometimes at another client's position
      const arr = doc.getArray('array')
      let pos = Math.min(rng() < 0.6 ? arrayCursors[d] : arrayCursors[rng.int(nDocs)], arr.length)
      for (let n = 1 + rng.int(5); n > 0; n--) {
        doc.transact(() => arr.insert(pos, [rng() < 0.8 ? rng.int(100) : randomText(rng)]))
        pos++
      }
      arrayCursors[d] = pos
    } else if (r < 0.73) {
      const arr = doc.getArray('array')
      if (arr.length > 0) {
        const pos = rng.int(arr.length)
        arr.delete(pos, Math.min(1 + rng.int(2), arr.length - pos))
      }
    } else if (r < 0.77) {
      const map = doc.getMap('map')
      const key = rng.pick(['a', 'b'])
      for (let n = 1 + rng.int(4); n > 0; n--) doc.transact(() => map.set(key, rng.int(10)))
    } else if (r < 0.9) {
      const from = rng.int(nDocs)
      const to = (from + 1 + rng.int(nDocs - 1)) % nDocs
      const queue = queues[from][to]
      const chosen = rng.shuffle(queue.map((_, k) => k)).slice(0, rng.int(queue.length + 1))
      for (const k of chosen) Y.applyUpdate(docs[to], queue[k], REMOTE)
      queues[from][to] = queue.filter((_, k) => !chosen.includes(k))
    } else if (r < 0.96) {
      const from = rng.int(nDocs)
      const to = (from + 1 + rng.int(nDocs - 1)) % nDocs
      const msg = Y.encodeStateAsUpdate(docs[from], Y.encodeStateVector(docs[to]))
      Y.applyUpdate(docs[to], msg, REMOTE)
      updates.push(msg)
    } else {
      const snap = Y.encodeStateAsUpdate(rng.pick(docs))
      snapshots.push(snap)
      updates.push(snap)
    }
  }
  for (let round = 0; round < 2; round++) {
    for (const a of docs) for (const b of docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a), REMOTE)
  }
  const content = contentOf(docs[0])
  for (const d of docs) {
    if (JSON.stringify(contentOf(d)) !== JSON.stringify(content)) throw new Error(`boundary seed ${seed}: documents did not converge`)
  }
  snapshots.push(Y.encodeStateAsUpdate(docs[0]))
  return { rng, updates, snapshots, content, stateVectors: docs.map((d) => Y.encodeStateVector(d)) }
}

/**
 * ContentJSON (ref 2) is no longer produced by yjs but must still be read: a hand-encoded legacy update whose
 * JSON items get split by diffs and merges, followed by ordinary edits from a current client. yjs re-encodes
 * JSON content as JSON.stringify(JSON.parse(text)); with `canonical` false the texts are not in that form, so
 * yjs's output bytes differ from the input's (the Java engine copies them) and only the content can be compared.
 */
const legacyHistory = (seed, canonical) => {
  const rng = makeRng(seed)
  const legacyClient = 2 ** 40 + 3
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, 1) // one client section
  encoding.writeVarUint(enc, 2) // two structs
  encoding.writeVarUint(enc, legacyClient)
  encoding.writeVarUint(enc, 0) // first clock
  encoding.writeUint8(enc, 2) // ContentJSON, no origins: parent follows
  encoding.writeVarUint(enc, 1) // parent is a root type key
  encoding.writeVarString(enc, 'legacy')
  const first = canonical
    ? ['{"a":1,"b":[true,null]}', 'undefined', '"😀 x"', '[1,2.5,"z"]']
    : ['{"a": 1, "b":[true,null]}', 'undefined', '"\\u00e9 x"', ' [1,2.50,"z"]']
  encoding.writeVarUint(enc, first.length)
  first.forEach((s) => encoding.writeVarString(enc, s))
  encoding.writeUint8(enc, 0x80 | 2) // ContentJSON with origin
  encoding.writeVarUint(enc, legacyClient)
  encoding.writeVarUint(enc, first.length - 1)
  const second = canonical ? ['null', '-500'] : ['null', '-0.5e3']
  encoding.writeVarUint(enc, second.length)
  second.forEach((s) => encoding.writeVarString(enc, s))
  encoding.writeVarUint(enc, 0) // empty delete set
  const legacyUpdate = encoding.toUint8Array(enc)

  const doc = new Y.Doc()
  doc.clientID = 5
  const updates = [legacyUpdate]
  doc.on('update', (u, origin) => { if (origin !== REMOTE) updates.push(u) })
  Y.applyUpdate(doc, legacyUpdate, REMOTE)
  const snapshots = [Y.encodeStateAsUpdate(doc)]
  const arr = doc.getArray('legacy')
  arr.delete(2, 1)
  arr.insert(1, ['new', 1])
  snapshots.push(Y.encodeStateAsUpdate(doc))
  arr.delete(0, 1)
  doc.getText('text').insert(0, 'done')
  return { rng, updates, snapshots, content: contentOf(doc), stateVectors: [Y.encodeStateVector(doc)] }
}

fs.mkdirSync(outDir, { recursive: true })
const written = []
const write = (name, fixture) => {
  fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(fixture))
  written.push(name)
}
for (const seed of SEEDS) write(`history-${seed}`, buildFixture(`history-${seed}`, runHistory(seed)))
write('typing', buildFixture('typing', typingHistory(99)))
for (const seed of BOUNDARY_SEEDS) write(`boundary-${seed}`, buildFixture(`boundary-${seed}`, boundaryHistory(seed)))
write('legacy-json', buildFixture('legacy-json', legacyHistory(7, true)))
write('legacy-json-noncanonical', { ...buildFixture('legacy-json-noncanonical', legacyHistory(8, false)), byteExact: false })
fs.writeFileSync(path.join(outDir, 'index.json'), JSON.stringify({ yjs: '13.6.33', fixtures: written }))
console.log(`wrote ${written.length} fixtures to ${outDir}`)
