/**
 * The three-way merge of two edits of a step document (this page's and another tab's or
 * device's), used on a 409 and when a journal is replayed over a newer server copy:
 *
 * - a value only one side changed takes that side's change;
 * - texts both sides changed are merged word by word (mergeText): edits in different places
 *   both survive; where both changed the same or neighbouring words, both versions are kept
 *   whole, the other side's first, then a blank line, then this side's (the field is
 *   reported);
 * - objects are merged key by key, the same way;
 * - lists are merged item by item (mergeSequences): items with an `id` are matched by it (and
 *   their contents merged), others by their content, so items both sides added are all kept;
 *   an item one side removed stays removed (reported if the other side had changed it);
 * - any other value both sides changed differently keeps this side's value (reported).
 */
import { canonicalJson, jsonEqual } from './merge.js';
import { mergeSequences, mergeText } from './textMerge.js';

export interface DocumentMergeResult<T extends object> {
  merged: T;
  /** Top-level fields both sides changed in the same place: for texts both whole versions are
   * kept, for other values this side's. */
  conflicts: string[];
}

type Json = unknown;

function isPlainObject(value: Json): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The identity of a list item: its `id` when it has one, else its content. */
export function itemKey(item: Json): string {
  if (isPlainObject(item)) {
    const id = item['id'];
    if (typeof id === 'string' || typeof id === 'number') return `id:${String(id)}`;
  }
  return `json:${canonicalJson(item)}`;
}

/** Does any list item carry an `id`? */
function byId(item: Json): item is Record<string, Json> & { id: string | number } {
  return isPlainObject(item) && (typeof item['id'] === 'string' || typeof item['id'] === 'number');
}

interface Outcome {
  value: Json;
  conflicted: boolean;
}

function mergeLists(base: Json[], ours: Json[], theirs: Json[]): Outcome {
  const keyed = (items: Json[]) => items.map((item) => ({ key: itemKey(item), item }));
  type Keyed = { key: string; item: Json };
  const chunks = mergeSequences<Keyed>(keyed(base), keyed(ours), keyed(theirs), { same: (a, b) => a.key === b.key });
  const find = (items: Json[], key: string) => items.find((item) => byId(item) && itemKey(item) === key);
  let conflicted = false;
  const merged: Json[] = [];
  const seenIds = new Set<string>();
  const add = ({ key, item }: Keyed) => {
    if (!byId(item)) {
      merged.push(item);
      return;
    }
    if (seenIds.has(key)) return;
    seenIds.add(key);
    const mine = find(ours, key);
    const other = find(theirs, key);
    if (mine === undefined || other === undefined) {
      merged.push(mine ?? other ?? item);
      return;
    }
    const outcome = mergeValues(find(base, key), mine, other);
    conflicted ||= outcome.conflicted;
    merged.push(outcome.value);
  };
  for (const chunk of chunks) {
    if ('ok' in chunk) {
      chunk.ok.forEach(add);
      continue;
    }
    // Both sides added or changed items here: all are kept, an item both added only once.
    chunk.ours.forEach(add);
    const mineKeys = chunk.ours.map((entry) => entry.key);
    for (const entry of chunk.theirs) {
      const twin = mineKeys.indexOf(entry.key);
      if (twin >= 0) mineKeys.splice(twin, 1);
      else add(entry);
    }
  }
  // An item one side removed while the other changed it: removed, but reported.
  for (const item of base) {
    if (!byId(item)) continue;
    const key = itemKey(item);
    if (seenIds.has(key)) continue;
    const mine = find(ours, key);
    const other = find(theirs, key);
    if ((mine !== undefined && !jsonEqual(mine, item)) || (other !== undefined && !jsonEqual(other, item))) conflicted = true;
  }
  return { value: merged, conflicted };
}

function mergeObjects(base: Record<string, Json>, ours: Record<string, Json>, theirs: Record<string, Json>): Outcome & { fields: string[] } {
  const merged: Record<string, Json> = {};
  const fields: string[] = [];
  for (const key of new Set([...Object.keys(base), ...Object.keys(ours), ...Object.keys(theirs)])) {
    const outcome = mergeValues(base[key], ours[key], theirs[key]);
    if (outcome.conflicted) fields.push(key);
    if (outcome.value !== undefined) merged[key] = outcome.value;
  }
  return { value: merged, conflicted: fields.length > 0, fields };
}

function mergeValues(base: Json, ours: Json, theirs: Json): Outcome {
  if (jsonEqual(ours, theirs) || jsonEqual(base, theirs)) return { value: ours, conflicted: false };
  if (jsonEqual(base, ours)) return { value: theirs, conflicted: false };
  if (typeof ours === 'string' && typeof theirs === 'string') {
    const merged = mergeText(typeof base === 'string' ? base : '', ours, theirs);
    return { value: merged.text, conflicted: merged.conflicted };
  }
  if (Array.isArray(ours) && Array.isArray(theirs)) return mergeLists(Array.isArray(base) ? base : [], ours, theirs);
  if (isPlainObject(ours) && isPlainObject(theirs)) return mergeObjects(isPlainObject(base) ? base : {}, ours, theirs);
  return { value: ours, conflicted: true };
}

/** Merge `mine` and `theirs`, two edits of `base` (see the module's description). */
export function mergeDocuments<T extends object>(base: object, mine: T, theirs: object): DocumentMergeResult<T> {
  const { value, fields } = mergeObjects(base as Record<string, Json>, mine as Record<string, Json>, theirs as Record<string, Json>);
  return { merged: value as T, conflicts: fields };
}
