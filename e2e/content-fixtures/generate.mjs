// Writes the reference fixtures for the Java content conversion (dev.collab.yjs.YDocument / YContent /
// ProseMirrorEncoder), computed with the real yjs and y-prosemirror:
//   cd e2e && node content-fixtures/generate.mjs     (rewrites e2e/content-fixtures/*.json; they are committed)
// Each fixture holds the updates several clients sent (in the order a server received them), yjs's merged state,
// and what the JavaScript libraries make of the document: yXmlFragmentToProsemirrorJSON of the field,
// JSON.stringify(ydoc.toJSON()) and the plain-text rule (checked against ProseMirror textBetween where they must
// agree). Deterministic: fixed seeds and client ids.
import * as Y from 'yjs'
import { RICH, li, link, normalForm, p, proseMirrorText, ruleText, schema, strong, em, t } from './documents.mjs'
import { prosemirrorToYXmlFragment, prosemirrorJSONToYXmlFragment, yXmlFragmentToProsemirrorJSON } from 'y-prosemirror'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const outDir = path.dirname(fileURLToPath(import.meta.url))
const b64 = (u8) => Buffer.from(u8).toString('base64')

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
  return next
}

const newDoc = (clientID) => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  return doc
}

/** Records every update a doc emits (what a provider would send). */
const record = (doc, log) => doc.on('update', (u) => log.push(u))

/** Y.XmlText descendants of a type, in document order. */
const texts = (type, out = []) => {
  for (const c of type.toArray()) {
    if (c instanceof Y.XmlText) out.push(c)
    else if (c instanceof Y.XmlElement) texts(c, out)
  }
  return out
}
/** Block containers (fragment, blockquote, list items) and their paragraph-like children. */
const containers = (type, out = []) => {
  if (type instanceof Y.XmlFragment && !(type instanceof Y.XmlElement)) out.push(type)
  for (const c of type.toArray()) {
    if (c instanceof Y.XmlElement) {
      if (['blockquote', 'list_item'].includes(c.nodeName)) out.push(c)
      containers(c, out)
    }
  }
  return out
}

const WORDS = ['alpha', ' ', 'beta', 'ä', '中文', '😀', 'x', ' gamma ', '👍🏽', 'é']
const MARKS = [undefined, {}, { strong: {} }, { em: {} }, { strong: {}, em: {} }, { link: { href: 'https://e.x/😀', title: null } }, { code: {} }]

/** One random edit of the shape editors make, on the XML fragment of a doc. */
const randomEdit = (rng, frag) => {
  const all = texts(frag)
  const kind = rng.int(10)
  if (kind < 4 && all.length) {
    const x = rng.pick(all)
    const at = rng.int(x.length + 1)
    const attrs = rng.pick(MARKS)
    x.insert(at, rng.pick(WORDS) + rng.pick(WORDS), attrs)
  } else if (kind < 6 && all.length) {
    const x = rng.pick(all)
    if (x.length > 1) {
      const at = rng.int(x.length - 1)
      x.format(at, 1 + rng.int(x.length - at), rng.pick([{ strong: {} }, { strong: null }, { em: {} }, { em: null }, { link: null }]))
    }
  } else if (kind < 8 && all.length) {
    const x = rng.pick(all)
    if (x.length > 0) {
      const at = rng.int(x.length)
      x.delete(at, 1 + rng.int(Math.min(4, x.length - at)))
    }
  } else if (kind < 9) {
    const c = rng.pick(containers(frag))
    const el = new Y.XmlElement(rng.pick(['paragraph', 'paragraph', 'heading']))
    if (el.nodeName === 'heading') el.setAttribute('level', 1 + rng.int(3))
    const x = new Y.XmlText()
    el.insert(0, [x])
    x.insert(0, rng.pick(WORDS), rng.pick(MARKS))
    c.insert(rng.int(c.length + 1), [el])
  } else {
    const c = rng.pick(containers(frag))
    if (c.length > 1) c.delete(rng.int(c.length), 1)
  }
}

/** Sends each doc's pending updates to a random subset of the others (partial, out-of-order exchange). */
const exchange = (rng, docs, pending) => {
  for (let i = 0; i < docs.length; i++) {
    for (let j = 0; j < docs.length; j++) {
      if (i !== j && rng() < 0.6) {
        Y.applyUpdate(docs[j], Y.encodeStateAsUpdate(docs[i], Y.encodeStateVector(docs[j])), 'remote')
      }
    }
  }
}

/** The fixture record of a final state and the updates that built it. */
const fixture = (name, field, updates, kinds, { schemaValid = false } = {}) => {
  const merged = Y.mergeUpdates(updates)
  const fresh = new Y.Doc()
  Y.applyUpdate(fresh, merged)
  const roots = [...fresh.share.keys()]
  for (const root of roots) {
    const kind = kinds[root] ?? 'xml'
    if (kind === 'xml') fresh.getXmlFragment(root)
    else if (kind === 'text') fresh.getText(root)
    else if (kind === 'map') fresh.getMap(root)
    else if (kind === 'array') fresh.getArray(root)
  }
  const out = { name, field, roots, updates: updates.map(b64), merged: b64(merged), json: JSON.stringify(fresh.toJSON()) }
  if (field !== null) {
    const pm = yXmlFragmentToProsemirrorJSON(fresh.getXmlFragment(field))
    out.prosemirror = JSON.stringify(pm)
    out.text = ruleText(fresh.getXmlFragment(field))
    if (schemaValid && out.text !== proseMirrorText(pm)) throw new Error(name + ': the text rule and textBetween differ')
  }
  fs.writeFileSync(path.join(outDir, name + '.json'), JSON.stringify(out, null, 1) + '\n')
  return name
}

const names = []

// 1. A rich document written by one client through y-prosemirror, in the "default" field (Tiptap's name)
{
  const doc = newDoc(1001)
  const log = []
  record(doc, log)
  prosemirrorJSONToYXmlFragment(schema, RICH, doc.getXmlFragment('default'))
  names.push(fixture('rich', 'default', log, {}, { schemaValid: true }))
}

// 2. The same document edited through y-prosemirror's diffing (what the sync plugin does on each transaction):
//    text typed into existing blocks, marks toggled, a block removed, a list item added
{
  const doc = newDoc(2002)
  const log = []
  record(doc, log)
  const frag = doc.getXmlFragment('prosemirror')
  prosemirrorJSONToYXmlFragment(schema, RICH, frag)
  const edited = JSON.parse(JSON.stringify(RICH))
  edited.content[1].content[1] = t('bold, now italic too', strong, em)
  edited.content[2] = p(t('was empty'))
  edited.content.splice(5, 1)
  edited.content[4].content.push(li(p(t('added '), t('later', link('https://x.y')))))
  prosemirrorToYXmlFragment(schema.nodeFromJSON(edited), frag)
  names.push(fixture('edited', 'prosemirror', log, {}, { schemaValid: true }))
}

// 3. Concurrent random editing by three clients with partial exchanges, then full sync; deletions included
for (const seed of [1, 2, 3, 4, 5, 6]) {
  const rng = makeRng(seed)
  const docs = [newDoc(10 + seed), newDoc(4000000000 + seed), newDoc(700 + seed)]
  const log = []
  docs.forEach((d) => d.on('update', (u, origin) => { if (origin !== 'remote') log.push(u) }))
  prosemirrorJSONToYXmlFragment(schema, RICH, docs[0].getXmlFragment('default'))
  Y.applyUpdate(docs[1], Y.encodeStateAsUpdate(docs[0]), 'remote')
  Y.applyUpdate(docs[2], Y.encodeStateAsUpdate(docs[0]), 'remote')
  for (let round = 0; round < 12; round++) {
    for (const d of docs) {
      for (let k = rng.int(4); k >= 0; k--) randomEdit(rng, d.getXmlFragment('default'))
    }
    exchange(rng, docs)
  }
  names.push(fixture('concurrent-' + seed, 'default', log, {}))
}

// 4. Every kind of top-level shared type for format=json (and a fully deleted text, whose kind only its use shows)
{
  const doc = newDoc(31337)
  const log = []
  record(doc, log)
  const map = doc.getMap('settings')
  map.set('title', 'Überschrift 😀')
  map.set('count', 42)
  map.set('ratio', 0.1)
  map.set('big', 2 ** 40 + 1)
  map.set('tiny', 1e-7)
  map.set('huge', -1e300)
  map.set('flag', false)
  map.set('nothing', null)
  map.set('list', [1, 'two', { three: 3 }, [4]])
  map.set('obj', { b: 1, a: 2, 10: 'ten', 2: 'two' })
  map.set('bytes', new Uint8Array([1, 2, 255]))
  map.set('count', 43)
  const nested = new Y.Map()
  map.set('nested', nested)
  nested.set('inner', 'value')
  map.set('gone', 'soon')
  map.delete('gone')
  const arr = doc.getArray('items')
  arr.insert(0, [1, 2.5, 'three', true, null, { k: 'v' }])
  const sub = new Y.Array()
  arr.insert(2, [sub])
  sub.insert(0, ['a', 'b'])
  arr.delete(0, 1)
  const text = doc.getText('notes')
  text.insert(0, 'Hello world 😀\n', { bold: true })
  text.insert(5, ', dear', { italic: true })
  text.format(0, 3, { bold: null })
  text.insertEmbed(3, { image: 'x.png' })
  const gone = doc.getText('scratch')
  gone.insert(0, 'typed then removed')
  gone.delete(0, gone.length)
  const frag = doc.getXmlFragment('xml')
  const el = new Y.XmlElement('Widget')
  el.setAttribute('b', 2)
  el.setAttribute('a', 'x"y')
  el.setAttribute('list', [1, 2])
  frag.insert(0, [el])
  const x = new Y.XmlText()
  el.insert(0, [x])
  x.insert(0, 'bold', { strong: {} })
  x.insert(4, ' link', { link: { href: 'h', title: null } })
  x.insert(9, ' plain')
  names.push(fixture('shared-types', null, log, { settings: 'map', items: 'array', notes: 'text', scratch: 'text', xml: 'xml' }))
}

// 5. A template for POST /documents/{id}/content: the JSON, its normal form, and what y-prosemirror reads back
//    from its own encoding of it (the same but for the order of marks, which ProseMirror does not care about)
{
  const doc = newDoc(5)
  prosemirrorJSONToYXmlFragment(schema, RICH, doc.getXmlFragment('default'))
  const normal = yXmlFragmentToProsemirrorJSON(doc.getXmlFragment('default'))
  const text = ruleText(doc.getXmlFragment('default'))
  if (text !== proseMirrorText(normal)) throw new Error('template: the text rule and textBetween differ')
  fs.writeFileSync(path.join(outDir, 'template.json'), JSON.stringify({
    name: 'template', template: JSON.stringify(RICH), normal: JSON.stringify(normalForm(RICH)), readBack: JSON.stringify(normal), text
  }, null, 1) + '\n')
}

fs.writeFileSync(path.join(outDir, 'index.json'), JSON.stringify({ fixtures: names }, null, 1) + '\n')
console.log('wrote', names.length + 1, 'fixtures to', outDir)
