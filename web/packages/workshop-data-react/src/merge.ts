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

/** JSON with object keys sorted, so equal documents serialise alike whatever their key order
 * (PostgreSQL's JSONB does not keep it). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/** A short fingerprint of a JSON document (64-bit FNV-1a of its canonical JSON), to recognise a
 * document this page sent without keeping a copy of it. */
export function fingerprint(value: unknown): string {
  const text = canonicalJson(value);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return `${(h1 >>> 0).toString(36)}.${(h2 >>> 0).toString(36)}.${text.length.toString(36)}`;
}

export interface MergeResult<T extends object> {
  merged: T;
  /** Fields both sides changed to different values; `mine` won. */
  conflicts: string[];
}

/**
 * Field-level three-way merge of two edits of `base`: a field only I changed keeps mine, a
 * field only they changed takes theirs, a field both changed keeps mine (and is reported
 * unless both made the same change).
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

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The RFC 7396 merge patch that turns `base` into `target`, or null when none can: merge
 * patch reads null as "delete this key", so a change that sets a value to null (outside an
 * array, which is replaced whole) needs a full save. Keys `target` lacks become null
 * (deleted); nested objects are diffed; arrays and other values are replaced.
 */
export function createMergePatch(base: object, target: object): Record<string, unknown> | null {
  const from = base as Record<string, unknown>;
  const to = target as Record<string, unknown>;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(from)) {
    if (from[key] !== undefined && to[key] === undefined) patch[key] = null;
  }
  for (const key of Object.keys(to)) {
    const next = to[key];
    if (next === undefined) continue;
    const previous = from[key];
    if (previous !== undefined && jsonEqual(previous, next)) continue;
    if (next === null) return null;
    if (isPlainObject(next)) {
      const nested = createMergePatch(isPlainObject(previous) ? previous : {}, next);
      if (nested === null) return null;
      // Replacing a non-object with {} needs the key set, not merged into.
      if (Object.keys(nested).length === 0 && isPlainObject(previous)) continue;
      patch[key] = nested;
    } else {
      patch[key] = next;
    }
  }
  return patch;
}

/** Apply an RFC 7396 merge patch (what the server does with a PATCH). */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** Top-level fields in which `data` differs from `base`. */
export function changedFields<T extends object>(base: T, data: T): (keyof T & string)[] {
  const before = base as Record<string, unknown>;
  const after = data as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.filter((key) => !jsonEqual(before[key], after[key])) as (keyof T & string)[];
}
