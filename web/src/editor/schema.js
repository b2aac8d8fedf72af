// prosemirror-schema-basic plus bullet and ordered lists. Both modes use this schema; the steps
// mode's document at version 0 is schema.topNodeType.createAndFill() (one empty paragraph), the
// same start every prosemirror-collab client of the JSON protocol agrees on.
import { Schema } from 'prosemirror-model';
import { schema as basic } from 'prosemirror-schema-basic';
import { addListNodes } from 'prosemirror-schema-list';

export const schema = new Schema({
  nodes: addListNodes(basic.spec.nodes, 'paragraph block*', 'block'),
  marks: basic.spec.marks,
});

export function initialDoc() {
  return schema.topNodeType.createAndFill();
}
