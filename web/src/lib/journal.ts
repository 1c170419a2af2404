/**
 * The local journal: unsaved changes kept in localStorage until the server confirms them,
 * so a reload, a closed tab or a lost network loses nothing.
 */
const PREFIX = 'workshop-data:journal:';

export interface JournalEntry<T> {
  /** What the participant has now. */
  data: T;
  /** The server data those changes started from, and its version (0: none existed). */
  base: T | null;
  baseVersion: number;
  changedAt: number;
}

export function journalKey(userId: string | number | null | undefined, workshopType: string, stepId: string): string {
  return `${PREFIX}${userId ?? 'anonymous'}:${workshopType}:${stepId}`;
}

export function readJournal<T>(storage: Storage | null, key: string): JournalEntry<T> | null {
  if (!storage) return null;
  try {
    const raw = storage.getItem(key);
    return raw ? (JSON.parse(raw) as JournalEntry<T>) : null;
  } catch {
    return null;
  }
}

export function writeJournal<T>(storage: Storage | null, key: string, entry: JournalEntry<T>): void {
  if (!storage) return;
  try {
    storage.setItem(key, JSON.stringify(entry));
  } catch {
    // Storage full or unavailable: the server copy and the in-memory state remain.
  }
}

export function removeJournal(storage: Storage | null, key: string): void {
  try {
    storage?.removeItem(key);
  } catch {
    // Nothing to do: the entry cannot be read back either.
  }
}

/** Forget a user's unsaved changes on this device (call it at logout). Without a user: all. */
export function clearJournal(userId?: string | number | null, storage: Storage | null = defaultStorage()): void {
  if (!storage) return;
  const prefix = userId == null ? PREFIX : `${PREFIX}${userId}:`;
  const keys: string[] = [];
  for (let i = 0; i < storage.length; i += 1) {
    const key = storage.key(i);
    if (key?.startsWith(prefix)) keys.push(key);
  }
  keys.forEach((key) => storage.removeItem(key));
}

export function defaultStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}
