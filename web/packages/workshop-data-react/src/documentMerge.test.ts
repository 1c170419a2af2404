// @vitest-environment node
// The merge of two edits of a step document: texts by character, lists by item, objects by key.
import { describe, expect, it } from 'vitest';

import { itemKey, mergeDocuments } from './documentMerge.js';
import { newItemId, withItemIds } from './itemIds.js';

describe('mergeDocuments', () => {
  it('takes each side’s changes to different fields', () => {
    const base = { why: 'a', how: 'b' };
    expect(mergeDocuments(base, { why: 'A', how: 'b' }, { why: 'a', how: 'B' })).toEqual({ merged: { why: 'A', how: 'B' }, conflicts: [] });
  });

  it('merges a text both sides changed in different places, and reports nothing', () => {
    const base = { why: 'I want to grow.' };
    expect(mergeDocuments(base, { why: 'Today: I want to grow.' }, { why: 'I want to grow. With my team.' })).toEqual({
      merged: { why: 'Today: I want to grow. With my team.' },
      conflicts: [],
    });
  });

  it('keeps both sentences written into the same field, and reports the field', () => {
    const { merged, conflicts } = mergeDocuments({ why: '', how: '' }, { why: 'On the phone.', how: '' }, { why: 'On the laptop.', how: '' });
    expect(merged).toEqual({ why: 'On the laptop.\n\nOn the phone.', how: '' });
    expect(conflicts).toEqual(['why']);
  });

  it('keeps the moments both devices added', () => {
    const first = { id: 'm1', text: 'First', tag: 'Memory' };
    const phone = { id: 'm2', text: 'On the bus', tag: 'Surprise' };
    const laptop = { id: 'm3', text: 'At my desk', tag: 'Curiosity' };
    const { merged, conflicts } = mergeDocuments(
      { savedMoments: [first] },
      { savedMoments: [first, phone] },
      { savedMoments: [first, laptop] },
    );
    expect(merged).toEqual({ savedMoments: [first, phone, laptop] });
    expect(conflicts).toEqual([]);
  });

  it('keeps list items without ids that both sides added, and duplicates a list already had', () => {
    const { merged } = mergeDocuments({ goals: ['Run', 'Run'] }, { goals: ['Run', 'Run', 'Swim'] }, { goals: ['Read', 'Run', 'Run'] });
    expect(merged).toEqual({ goals: ['Read', 'Run', 'Run', 'Swim'] });
  });

  it('takes an item both sides added once', () => {
    const item = { id: 'same', text: 'Both' };
    expect(mergeDocuments({ list: [] }, { list: [item] }, { list: [item] }).merged).toEqual({ list: [item] });
    expect(mergeDocuments({ list: ['a'] }, { list: ['a', 'b'] }, { list: ['a', 'b'] }).merged).toEqual({ list: ['a', 'b'] });
  });

  it('merges an item one side edited while the other added an item', () => {
    const moment = { id: 'm1', text: 'On the bus', tag: 'Memory' };
    const edited = { ...moment, text: 'On the night bus' };
    const added = { id: 'm2', text: 'At home', tag: 'Surprise' };
    expect(mergeDocuments({ m: [moment] }, { m: [edited] }, { m: [moment, added] }).merged).toEqual({ m: [edited, added] });
  });

  it('merges the text of one item both sides edited', () => {
    const moment = { id: 'm1', text: 'On the bus', tag: 'Memory' };
    const { merged, conflicts } = mergeDocuments(
      { m: [moment] },
      { m: [{ ...moment, text: 'Early on the bus' }] },
      { m: [{ ...moment, text: 'On the bus home' }] },
    );
    expect(merged).toEqual({ m: [{ ...moment, text: 'Early on the bus home' }] });
    expect(conflicts).toEqual([]);
  });

  it('keeps a removal, and reports it when the other side had changed the item', () => {
    const a = { id: 'a', text: 'A' };
    const b = { id: 'b', text: 'B' };
    expect(mergeDocuments({ m: [a, b] }, { m: [b] }, { m: [a, b] })).toEqual({ merged: { m: [b] }, conflicts: [] });
    expect(mergeDocuments({ m: [a, b] }, { m: [b] }, { m: [{ ...a, text: 'A!' }, b] })).toEqual({ merged: { m: [b] }, conflicts: ['m'] });
  });

  it('merges nested objects key by key', () => {
    const base = { meta: { a: 'x', b: 'y' } };
    expect(mergeDocuments(base, { meta: { a: 'X', b: 'y' } }, { meta: { a: 'x', b: 'Y' } }).merged).toEqual({ meta: { a: 'X', b: 'Y' } });
  });

  it('keeps this side’s value of anything else both sides changed, and reports it', () => {
    expect(mergeDocuments({ n: 1, tag: null }, { n: 2, tag: null }, { n: 3, tag: null })).toEqual({ merged: { n: 2, tag: null }, conflicts: ['n'] });
  });

  it('takes a field only the other side added, and keeps a field this side removed removed', () => {
    expect(mergeDocuments({ a: 'x', b: 'y' }, { a: 'x' }, { a: 'x', b: 'y', c: 'z' }).merged).toEqual({ a: 'x', c: 'z' });
  });
});

describe('item ids', () => {
  it('identifies items by id when they have one, by content otherwise', () => {
    expect(itemKey({ id: 'x', text: 'a' })).toBe(itemKey({ id: 'x', text: 'b' }));
    expect(itemKey({ text: 'a', tag: 't' })).toBe(itemKey({ tag: 't', text: 'a' }));
    expect(itemKey({ text: 'a' })).not.toBe(itemKey({ text: 'b' }));
  });

  it('gives new ids that differ, and an id to each item without one', () => {
    expect(newItemId()).not.toBe(newItemId());
    const items = withItemIds([{ text: 'a' }, { id: 'kept', text: 'b' }]);
    expect(items[1]).toEqual({ id: 'kept', text: 'b' });
    expect(typeof items[0]!.id).toBe('string');
  });
});
