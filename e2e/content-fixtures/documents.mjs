// ProseMirror documents and renderings shared by generate.mjs and the e2e content tests: the demo schema with
// lists, a rich document, y-prosemirror's normal form of ProseMirror JSON and the documented plain-text rule.
import * as Y from 'yjs'
import { Schema } from 'prosemirror-model'
import { schema as basic } from 'prosemirror-schema-basic'
import { addListNodes } from 'prosemirror-schema-list'

export const schema = new Schema({
  nodes: addListNodes(basic.spec.nodes, 'paragraph block*', 'block'),
  marks: basic.spec.marks
})
/** ProseMirror's textBetween with "\n" between blocks and hard breaks as "\n". */
export const proseMirrorText = (json) => {
  const node = schema.nodeFromJSON(json)
  return node.textBetween(0, node.content.size, '\n', (leaf) => leaf.type.name === 'hard_break' ? '\n' : '')
}

/**
 * The plain-text rule of GET /documents/{id}/content?format=text (README), on the real Y types: text blocks
 * (elements with a text child, or childless elements where blocks stand) joined by "\n". For schema-valid
 * documents without leaf blocks (horizontal rules) it is ProseMirror's textBetween, which fixture() checks.
 */
export const ruleText = (fragment) => {
  const blocks = []
  const inline = (children) => children.map((c) => c instanceof Y.XmlText
    ? c.toDelta().map((d) => typeof d.insert === 'string' ? d.insert : '').join('')
    : c instanceof Y.XmlElement ? (['hard_break', 'hardBreak'].includes(c.nodeName) ? '\n' : inline(c.toArray())) : '').join('')
  const walk = (container) => {
    for (const c of container.toArray()) {
      if (c instanceof Y.XmlText) blocks.push(inline([c]))
      else if (c instanceof Y.XmlElement) {
        const children = c.toArray()
        if (children.length === 0 || children.some((x) => x instanceof Y.XmlText)) blocks.push(inline(children))
        else walk(c)
      }
    }
  }
  walk(fragment)
  return blocks.join('\n')
}

export const p = (...content) => ({ type: 'paragraph', ...(content.length ? { content } : {}) })
export const t = (text, ...marks) => ({ type: 'text', text, ...(marks.length ? { marks } : {}) })
export const strong = { type: 'strong' }
export const em = { type: 'em' }
export const code = { type: 'code' }
export const link = (href, title = null) => ({ type: 'link', attrs: { href, title } })
export const li = (...content) => ({ type: 'list_item', content })

/** A document with every construct the demo schema has (no horizontal rule: its text rule differs, see README). */
export const RICH = {
  type: 'doc',
  content: [
    { type: 'heading', attrs: { level: 1 }, content: [t('Release notes '), t('2.0', em)] },
    p(t('Plain, '), t('bold', strong), t(' and '), t('both', strong, em), t(', '), t('code()', code), t(' with a '),
      t('link', link('https://example.com/a?b=1', 'Example')), t(' and 😀 emoji.')),
    p(),
    { type: 'blockquote', content: [p(t('Quoted ')), p(t('twice', em), { type: 'hard_break' }, t('after a break'))] },
    {
      type: 'ordered_list',
      attrs: { order: 3 },
      content: [
        li(p(t('first'))),
        li(p(t('second')), { type: 'bullet_list', content: [li(p(t('nested a'))), li(p(t('nested b', strong)),
          { type: 'bullet_list', content: [li(p(t('deeper')))] })] }),
        li(p())
      ]
    },
    { type: 'code_block', content: [t('const x = 1;\nreturn x')] },
    p(t('An image '), { type: 'image', attrs: { src: 'https://example.com/i.png', alt: 'pic', title: null } }, t(' inline.')),
    p()
  ]
}

/** y-prosemirror's normal form of ProseMirror JSON: marks always carry attrs, null node attrs are not stored. */
export const normalForm = (node) => {
  const out = { type: node.type }
  const attrs = Object.entries(node.attrs ?? {}).filter(([, v]) => v !== null)
  if (node.type !== 'text' && attrs.length) out.attrs = Object.fromEntries(attrs)
  if (node.text !== undefined) out.text = node.text
  if (node.marks) out.marks = node.marks.map((m) => ({ type: m.type, attrs: m.attrs ?? {} }))
  if (node.content?.length) out.content = node.content.map(normalForm)
  return out
}

