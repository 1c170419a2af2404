/**
 * Stable identities for list items (moments, goals…), so that a merge matches an item by
 * who it is rather than by where it is or what it says: two devices that each add an item
 * keep both, and one that edits an item while the other adds one keeps the edit.
 */

function randomHex(bytes: number): string {
  const values = new Uint8Array(bytes);
  if (typeof crypto !== 'undefined' && typeof crypto.getRandomValues === 'function') crypto.getRandomValues(values);
  else for (let i = 0; i < bytes; i += 1) values[i] = Math.floor(Math.random() * 256);
  return Array.from(values, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A new item id: random, 16 bytes as hex (unique across devices without coordination). */
export function newItemId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return randomHex(16);
}

/** The items, each object without an `id` given a new one (the others unchanged). */
export function withItemIds<T extends object>(items: readonly T[]): (T & { id: string | number })[] {
  return items.map((item) => {
    const id = (item as { id?: unknown }).id;
    return typeof id === 'string' || typeof id === 'number'
      ? (item as T & { id: string | number })
      : { ...item, id: newItemId() };
  });
}
