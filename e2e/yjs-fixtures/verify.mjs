// Applies updates produced by the Java engine to fresh Y.Docs and compares the resulting content with the
// content yjs expects (see generate.mjs).
//   node e2e/yjs-fixtures/verify.mjs <fixture-dir> <java-output-dir>
// <java-output-dir>/<fixture>.json holds {"merges": [base64...], "diffs": [base64...]}, index-aligned with the
// fixture's merge and diff cases, and optionally "coalesced": {"merges": [...], "diffs": [...], "baseDiffs": [...]}:
// YUpdates.compact of each merge and diff, and diffs of the compacted full merge against each fixture base's state
// vector. A coalesced update must be indistinguishable from yjs's own result: applied to a fresh document, on top
// of each base document, and with each base applied on top of it, both documents must have the same content, the
// same state vector, the same encodeStateAsUpdate bytes (yjs joins adjacent items in its documents, so equal
// documents encode equally) and the same pending state. Exits 1 and lists the failing cases when anything differs.
import * as Y from 'yjs'
import fs from 'node:fs'
import path from 'node:path'
import { b64, unb64, contentOf } from './common.mjs'

const [fixtureDir, javaDir] = process.argv.slice(2)
if (!fixtureDir || !javaDir) {
  console.error('usage: node verify.mjs <fixture-dir> <java-output-dir>')
  process.exit(2)
}

const apply = (...updates) => {
  const doc = new Y.Doc()
  for (const u of updates) Y.applyUpdate(doc, u)
  const content = contentOf(doc)
  doc.destroy()
  return content
}

/** Everything observable about a document: content, state vector, encoded state, pending structs and deletes. */
const stateOf = (doc) => {
  const { pendingStructs, pendingDs } = doc.store
  doc.store.pendingStructs = null
  doc.store.pendingDs = null
  const update = Y.encodeStateAsUpdate(doc)
  doc.store.pendingStructs = pendingStructs
  doc.store.pendingDs = pendingDs
  return {
    content: contentOf(doc),
    sv: b64(Y.encodeStateVector(doc)),
    update: b64(update),
    pendingMissing: pendingStructs ? [...pendingStructs.missing].sort((a, b) => a[0] - b[0]) : null,
    pendingSv: pendingStructs ? b64(Y.encodeStateVectorFromUpdateV2(pendingStructs.update)) : null,
    pendingDs: pendingDs ? b64(pendingDs) : null
  }
}

const stateAfter = (...updates) => {
  const doc = new Y.Doc()
  for (const u of updates) Y.applyUpdate(doc, u)
  const state = stateOf(doc)
  doc.destroy()
  return state
}

const failures = []
let checked = 0
let coalescedChecks = 0
let coalescedBytes = 0
let referenceBytes = 0

/** The document states after `yjsUpdates` and after `javaUpdates` must be identical in every respect. */
const checkSame = (label, yjsUpdates, javaUpdates) => {
  checked++
  coalescedChecks++
  try {
    const expected = stateAfter(...yjsUpdates)
    const got = stateAfter(...javaUpdates)
    for (const key of Object.keys(expected)) {
      const e = JSON.stringify(expected[key])
      const g = JSON.stringify(got[key])
      if (e !== g) {
        failures.push(`${label}: ${key} differs\n  yjs    ${e.slice(0, 400)}\n  java   ${g.slice(0, 400)}`)
        return
      }
    }
  } catch (e) {
    failures.push(`${label}: yjs could not apply the updates: ${e && e.stack}`)
  }
}
const check = (label, run, expected) => {
  checked++
  try {
    const got = run()
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      failures.push(`${label}: content differs\n  expected ${JSON.stringify(expected).slice(0, 400)}\n  got      ${JSON.stringify(got).slice(0, 400)}`)
    }
  } catch (e) {
    failures.push(`${label}: yjs could not apply the Java output: ${e && e.stack}`)
  }
}

const { fixtures } = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'index.json'), 'utf8'))
for (const name of fixtures) {
  const fixture = JSON.parse(fs.readFileSync(path.join(fixtureDir, `${name}.json`), 'utf8'))
  const javaFile = path.join(javaDir, `${name}.json`)
  if (!fs.existsSync(javaFile)) {
    failures.push(`${name}: no Java output at ${javaFile}`)
    continue
  }
  const java = JSON.parse(fs.readFileSync(javaFile, 'utf8'))
  if (java.merges.length !== fixture.merges.length || java.diffs.length !== fixture.diffs.length) {
    failures.push(`${name}: Java output has ${java.merges.length} merges/${java.diffs.length} diffs, fixture ${fixture.merges.length}/${fixture.diffs.length}`)
    continue
  }
  fixture.merges.forEach((m, i) => check(`${name} merge ${m.name}`, () => apply(unb64(java.merges[i])), m.content))
  fixture.diffs.forEach((d, i) => {
    if (d.base) {
      // the diff applied on top of a document at the state vector's state must give the full document
      check(`${name} diff ${d.name}`, () => apply(unb64(d.base), unb64(java.diffs[i])), d.content)
    }
  })
  const coalesced = java.coalesced
  if (!coalesced) continue
  const bases = (fixture.bases || []).map((b) => ({ name: b.name, update: unb64(b.update), sv: unb64(b.sv) }))
  if (coalesced.merges.length !== fixture.merges.length || coalesced.diffs.length !== fixture.diffs.length ||
      coalesced.baseDiffs.length !== bases.length) {
    failures.push(`${name}: coalesced output does not line up with the fixture's merges, diffs and bases`)
    continue
  }
  fixture.merges.forEach((m, i) => {
    const yjs = unb64(m.output)
    const java = unb64(coalesced.merges[i])
    referenceBytes += yjs.length
    coalescedBytes += java.length
    checkSame(`${name} coalesced merge ${m.name}`, [yjs], [java])
    if (b64(Y.encodeStateVectorFromUpdate(java)) !== m.sv) {
      failures.push(`${name} coalesced merge ${m.name}: encodeStateVectorFromUpdate differs`)
    }
    for (const base of bases) {
      checkSame(`${name} coalesced merge ${m.name} on base ${base.name}`, [base.update, yjs], [base.update, java])
      checkSame(`${name} base ${base.name} on coalesced merge ${m.name}`, [yjs, base.update], [java, base.update])
    }
  })
  fixture.diffs.forEach((d, i) => {
    const yjs = unb64(d.output)
    const java = unb64(coalesced.diffs[i])
    checkSame(`${name} coalesced diff ${d.name}`, [yjs], [java])
    if (d.base) checkSame(`${name} coalesced diff ${d.name} on its base`, [unb64(d.base), yjs], [unb64(d.base), java])
  })
  // the server's sync step 2 to a client at a base's state: diff of the coalesced full state
  const full = unb64(fixture.merges[0].output)
  bases.forEach((base, i) => {
    const yjsDiff = Y.diffUpdate(full, base.sv)
    checkSame(`${name} diff of coalesced full state vs base ${base.name}`, [base.update, yjsDiff], [base.update, unb64(coalesced.baseDiffs[i])])
  })
}

if (failures.length > 0) {
  console.error(`${failures.length} of ${checked} semantic checks failed:\n${failures.join('\n')}`)
  process.exit(1)
}
console.log(`${checked} semantic checks passed` + (coalescedChecks > 0
  ? ` (${coalescedChecks} on coalesced updates; merges ${referenceBytes} bytes from yjs, ${coalescedBytes} coalesced)`
  : ''))
