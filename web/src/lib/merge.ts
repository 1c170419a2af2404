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
