// Shared by generate.mjs and verify.mjs: how a document's content is captured for comparison.
import * as Y from 'yjs'

export const ROOTS = ['text', 'map', 'array', 'xml', 'legacy']

export const b64 = (u8) => Buffer.from(u8).toString('base64')
export const unb64 = (s) => new Uint8Array(Buffer.from(s, 'base64'))

/** A JSON-safe, key-sorted picture of any value found in a Y.Doc (formatting and embeds included). */
export const snapshotValue = (v) => {
  if (v instanceof Y.XmlElement) {
    return { el: v.nodeName, attrs: sortKeys(mapValues(v.getAttributes())), children: v.toArray().map(snapshotValue) }
  }
  if (v instanceof Y.XmlHook) return { hook: v.hookName, entries: sortKeys(mapValues(Object.fromEntries(v.entries()))) }
  if (v instanceof Y.XmlText) return { xmltext: v.toDelta().map(snapshotValue) }
  if (v instanceof Y.XmlFragment) return { fragment: v.toArray().map(snapshotValue) }
  if (v instanceof Y.Text) return { text: v.toDelta().map(snapshotValue) }
  if (v instanceof Y.Map) return { map: sortKeys(mapValues(Object.fromEntries(v.entries()))) }
  if (v instanceof Y.Array) return { array: v.toArray().map(snapshotValue) }
  if (v instanceof Y.Doc) return { subdoc: v.guid }
  if (v instanceof Uint8Array) return { bytes: Array.from(v) }
  if (v === undefined) return { undefined: true }
  if (typeof v === 'bigint') return { bigint: v.toString() }
  if (typeof v === 'number' && !Number.isFinite(v)) return { number: String(v) }
  if (Array.isArray(v)) return v.map(snapshotValue)
  if (v !== null && typeof v === 'object') return sortKeys(mapValues(v))
  return v
}

const mapValues = (o) => Object.fromEntries(Object.entries(o).map(([k, x]) => [k, snapshotValue(x)]))
const sortKeys = (o) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]))

/** Content of every root type the generator uses. */
export const contentOf = (doc) => ({
  text: snapshotValue(doc.getText('text')),
  map: snapshotValue(doc.getMap('map')),
  array: snapshotValue(doc.getArray('array')),
  xml: snapshotValue(doc.getXmlFragment('xml')),
  legacy: snapshotValue(doc.getArray('legacy'))
})

/** Content of a fresh document after applying the given updates in order. */
export const contentAfter = (...updates) => {
  const doc = new Y.Doc()
  for (const u of updates) Y.applyUpdate(doc, u)
  const c = contentOf(doc)
  doc.destroy()
  return c
}
