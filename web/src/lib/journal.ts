/**
 * The local journal: unsaved changes kept in localStorage until the server confirms them, so a
 * reload, a closed tab, a crash or a lost network loses nothing.
 */
import { jsonEqual } from './merge';

const PREFIX = 'workshop-data:journal:';

export interface JournalEntry<T> {
  /** What the participant has now. */
  data: T;
  /** The server copy those changes started from (null: none seen yet) and its version (0: none existed). */
  base: T | null;
  baseVersion: number;
  /** When the entry was written (ms since the epoch). */
  changedAt: number;
  /** Fingerprints of snapshots sent but not yet confirmed: finding one of them on the server
   * later is this device's own write, not someone else's. */
  sent?: string[];
}

export function journalKey(userId: string | number | null | undefined, workshopType: string, stepId: string): string {
  return `${PREFIX}${userId ?? 'anonymous'}:${workshopType}:${stepId}`;
}

export function readJournal<T>(storage: Storage | null, key: string): JournalEntry<T> | null {
  if (!storage) return null;
  try {
    const raw = storage.getItem(key);
    if (!raw) return null;
    const entry = JSON.parse(raw) as JournalEntry<T>;
    return entry && typeof entry === 'object' && entry.data && typeof entry.data === 'object' ? entry : null;
  } catch {
    return null;
  }
}

/** Write an entry; false when storage refused it (full, disabled). A stale entry must never
 * outlive a failed write, or it would later be replayed over newer work: it is removed. */
export function writeJournal<T>(storage: Storage | null, key: string, entry: JournalEntry<T>): boolean {
  if (!storage) return false;
  try {
    storage.setItem(key, JSON.stringify(entry));
    return true;
  } catch {
    removeJournal(storage, key);
    return false;
  }
}

export function removeJournal(storage: Storage | null, key: string): void {
  try {
    storage?.removeItem(key);
  } catch {
    // Nothing to do: the entry cannot be read back either.
  }
}

/** Remove the entry if it holds exactly `confirmed` (completed with `defaults`): the server has
 * it. Another tab's newer entry for the same step stays. */
export function removeJournalIfHolds<T extends object>(storage: Storage | null, key: string, confirmed: T, defaults: T): void {
  const entry = readJournal<T>(storage, key);
  if (entry && jsonEqual({ ...defaults, ...entry.data }, confirmed)) removeJournal(storage, key);
}

/** Forget a user's unsaved changes on this device (call it at logout). Without a user: everyone's. */
export function clearJournal(userId?: string | number | null, storage: Storage | null = defaultStorage()): void {
  if (!storage) return;
  const prefix = userId == null ? PREFIX : `${PREFIX}${userId}:`;
  const keys: string[] = [];
  try {
    for (let i = 0; i < storage.length; i += 1) {
      const key = storage.key(i);
      if (key?.startsWith(prefix)) keys.push(key);
    }
  } catch {
    return;
  }
  keys.forEach((key) => removeJournal(storage, key));
}

export function defaultStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}
