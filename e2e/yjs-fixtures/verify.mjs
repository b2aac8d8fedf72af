// Applies updates produced by the Java engine to fresh Y.Docs and compares the resulting content with the
// content yjs expects (see generate.mjs).
//   node e2e/yjs-fixtures/verify.mjs <fixture-dir> <java-output-dir>
// <java-output-dir>/<fixture>.json holds {"merges": [base64...], "diffs": [base64...]}, index-aligned with the
// fixture's merge and diff cases. Exits 1 and lists the failing cases when any content differs.
import * as Y from 'yjs'
import fs from 'node:fs'
import path from 'node:path'
import { unb64, contentOf } from './common.mjs'

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

const failures = []
let checked = 0
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
}

if (failures.length > 0) {
  console.error(`${failures.length} of ${checked} semantic checks failed:\n${failures.join('\n')}`)
  process.exit(1)
}
console.log(`${checked} semantic checks passed`)
