// Applies each given v1 update file to a fresh Y.Doc and prints one JSON line per file: the text of the root
// 'text' type, the document's content (common.mjs), state vector and encodeStateAsUpdate (base64), the update's
// size and how long Y.applyUpdate took (median of `--runs N` fresh documents, default 1).
//   node e2e/yjs-fixtures/describe.mjs [--runs N] <update-file>...
import * as Y from 'yjs'
import fs from 'node:fs'
import { b64, contentOf } from './common.mjs'

const args = process.argv.slice(2)
let runs = 1
if (args[0] === '--runs') {
  runs = Number(args[1])
  args.splice(0, 2)
}
for (const file of args) {
  const update = new Uint8Array(fs.readFileSync(file))
  const times = []
  let doc = null
  for (let k = 0; k < runs; k++) {
    if (doc) doc.destroy()
    doc = new Y.Doc()
    const t0 = process.hrtime.bigint()
    Y.applyUpdate(doc, update)
    times.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  times.sort((a, b) => a - b)
  console.log(JSON.stringify({
    file,
    bytes: update.length,
    applyMs: times[Math.floor(times.length / 2)],
    text: doc.getText('text').toString(),
    content: contentOf(doc),
    sv: b64(Y.encodeStateVector(doc)),
    state: b64(Y.encodeStateAsUpdate(doc))
  }))
  doc.destroy()
}
