// The designer's page model (host/web/designer/model.js) on its own, in
// Node: insert, move between slots, never into itself, remove, duplicate
// with fresh ids, one undo step per edit (typing into one field merges),
// redo, and what is saved.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Doc, serialise } from '../../host/web/designer/model.js';

const node = (id, material, slots = {}) => ({ id, material, version: '0.2.0', props: {}, slots, events: {}, children: [] });

test('nodes move between slots, never into themselves, and every step undoes', () => {
  const doc = new Doc();
  const changes = [];
  doc.onChange((what) => changes.push(what));
  doc.insert(node('cols', 'columns'), { parent: null, slot: null }, 0);
  doc.insert(node('card', 'card'), { parent: 'cols', slot: 'left' }, 0);
  doc.insert(node('text', 'text'), { parent: 'cols', slot: 'right' }, 0);
  assert.equal(doc.find('text').parent.id, 'cols');

  // Into the card's body, then not into itself or below itself.
  assert.equal(doc.move('text', { parent: 'card', slot: 'body' }, 0), true);
  assert.deepEqual(doc.page.nodes[0].slots.right, []);
  assert.equal(doc.find('text').parent.id, 'card');
  assert.equal(doc.move('cols', { parent: 'card', slot: 'body' }, 0), false);
  assert.equal(doc.move('card', { parent: 'card', slot: 'body' }, 0), false);

  // Typing into one field is one step; another field is another.
  doc.setProp('text', 'text', 'H');
  doc.setProp('text', 'text', 'He');
  doc.setProp('text', 'text', 'Hello');
  doc.setProp('text', 'level', 'h1');
  assert.equal(doc.undoStack.length, 6);
  doc.undo();
  assert.deepEqual(doc.find('text').node.props, { text: 'Hello' });
  doc.undo();
  assert.deepEqual(doc.find('text').node.props, {});
  doc.undo();
  assert.equal(doc.find('text').parent.id, 'cols', 'the move undone');
  doc.redo();
  doc.redo();
  doc.redo();
  assert.deepEqual(doc.find('text').node.props, { text: 'Hello', level: 'h1' });
  assert.equal(doc.redoStack.length, 0);
  // A new edit after an undo drops what could have been redone.
  doc.undo();
  doc.setProp('text', 'align', 'center');
  assert.equal(doc.redoStack.length, 0);
  assert.ok(changes.length > 0);
});

test('duplicates get fresh ids throughout, removals go, and the saved page is clean', () => {
  const doc = new Doc({ title: 'T', nodes: [node('form', 'form', { fields: [node('email', 'form-input')] })] });
  const copy = doc.duplicate('form');
  assert.notEqual(copy, 'form');
  const copied = doc.find(copy).node;
  assert.notEqual(copied.slots.fields[0].id, 'email');
  assert.equal(copied.slots.fields[0].material, 'form-input');
  doc.remove('email');
  assert.equal(doc.find('email'), null);
  const saved = serialise(doc.page);
  assert.deepEqual(Object.keys(saved), ['title', 'nodes']);
  assert.equal(saved.nodes[0].slots, undefined, 'an emptied slot is left out');
  assert.equal(saved.nodes[0].events, undefined);
  assert.equal(saved.nodes[1].slots.fields.length, 1);
  // Pages made before ids get them on load.
  const legacy = new Doc({ nodes: [{ material: 'card', version: '0.1.0', props: {}, children: [{ material: 'button', version: '0.1.0', props: {} }] }] });
  assert.match(legacy.page.nodes[0].id, /^card-/);
  assert.match(legacy.page.nodes[0].children[0].id, /^button-/);
});
