/** Structural equality of JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left).filter((k) => left[k] !== undefined);
  const otherKeys = Object.keys(right).filter((k) => right[k] !== undefined);
  return keys.length === otherKeys.length && keys.every((k) => jsonEqual(left[k], right[k]));
}

export interface MergeResult<T extends object> {
  merged: T;
  /** Fields both sides changed to different values; `mine` won. */
  conflicts: string[];
}

/**
 * Field-level three-way merge of two edits of `base`: a field only I changed keeps mine, a
 * field only they changed takes theirs, a field both changed keeps mine (and is reported).
 */
export function threeWayMerge<T extends object>(base: object, mine: T, theirs: object): MergeResult<T> {
  const b = base as Record<string, unknown>;
  const m = mine as Record<string, unknown>;
  const t = theirs as Record<string, unknown>;
  const merged: Record<string, unknown> = {};
  const conflicts: string[] = [];
  for (const key of new Set([...Object.keys(b), ...Object.keys(m), ...Object.keys(t)])) {
    const mineChanged = !jsonEqual(b[key], m[key]);
    const theirsChanged = !jsonEqual(b[key], t[key]);
    let value: unknown;
    if (mineChanged) {
      value = m[key];
      if (theirsChanged && !jsonEqual(m[key], t[key])) conflicts.push(key);
    } else if (theirsChanged) {
      value = t[key];
    } else {
      value = m[key];
    }
    if (value !== undefined) merged[key] = value;
  }
  return { merged: merged as T, conflicts };
}
