/**
 * The local journal: unsaved changes kept on the device until the server confirms them, so a
 * reload, a closed tab, a crash or a lost network loses nothing.
 *
 * Entries live in IndexedDB (through idb-keyval): it holds far more than localStorage's ~5 MB
 * per origin and does not block the page while writing. localStorage is used only where
 * IndexedDB is unavailable (no `indexedDB`, or it cannot be opened). Every operation is
 * asynchronous and a write that fails rejects: the controller turns that into `journalError`.
 */
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';

import { jsonEqual } from './merge.js';
import { requireUserId } from './userId.js';

const PREFIX = 'workshop-data:journal:';
export const JOURNAL_DB = 'workshop-data-journal';

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
  /** The step's schema version `data` and `base` are in (null or absent: none declared). */
  schemaVersion?: number | null;
  /** This device's own texts a merge replaced, not yet kept in the step's history on the
   * server (see deviceCopies.ts), oldest first. */
  deviceCopies?: { data: T; schemaVersion: number | null }[];
}

/** Where journal entries are kept. `set` rejects when the device refused the write. */
export interface JournalStore {
  readonly kind: 'indexeddb' | 'localstorage';
  get<T>(key: string): Promise<JournalEntry<T> | null>;
  set<T>(key: string, entry: JournalEntry<T>): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix`. */
  keys(prefix: string): Promise<string[]>;
}

export function journalKey(userId: string | number, workshopType: string, stepId: string): string {
  return `${PREFIX}${requireUserId(userId)}:${workshopType}:${stepId}`;
}

export function userPrefix(userId?: string | number | null): string {
  return userId == null ? PREFIX : `${PREFIX}${userId}:`;
}

function validEntry<T>(value: unknown): JournalEntry<T> | null {
  if (!value || typeof value !== 'object') return null;
  const entry = value as JournalEntry<T>;
  return entry.data && typeof entry.data === 'object' ? entry : null;
}

/** Read an entry from a Storage (localStorage), synchronously; null when absent or unreadable. */
export function readJournal<T>(storage: Storage | null, key: string): JournalEntry<T> | null {
  if (!storage) return null;
  try {
    const raw = storage.getItem(key);
    return raw ? validEntry<T>(JSON.parse(raw)) : null;
  } catch {
    return null;
  }
}

/** A journal in a Storage (localStorage, or an in-memory one in tests). */
export function storageJournal(storage: Storage): JournalStore & { readonly storage: Storage } {
  return {
    kind: 'localstorage',
    storage,
    get: async <T>(key: string) => readJournal<T>(storage, key),
    set: async <T>(key: string, entry: JournalEntry<T>) => {
      storage.setItem(key, JSON.stringify(entry));
    },
    delete: async (key: string) => {
      storage.removeItem(key);
    },
    keys: async (prefix: string) => {
      const found: string[] = [];
      for (let i = 0; i < storage.length; i += 1) {
        const key = storage.key(i);
        if (key?.startsWith(prefix)) found.push(key);
      }
      return found;
    },
  };
}

/**
 * A journal in IndexedDB. Entries an earlier version of the app left in `legacy`
 * (localStorage) are still read, so an upgrade loses nothing; deleting removes both.
 */
export function indexedDbJournal(dbName = JOURNAL_DB, legacy: Storage | null = null): JournalStore {
  const store: UseStore = createStore(dbName, 'entries');
  // Every transaction is committed as soon as its request is made, not once the page has seen
  // the answer: a write started as the page is left (pagehide, a reload) waits for the
  // transactions begun before it, and a read that needed the page to live on to finish (the
  // pending-work indicator lists the keys every second and on each keystroke) would keep that
  // write from ever being applied.
  const run = <R>(mode: IDBTransactionMode, request: (objects: IDBObjectStore) => IDBRequest<R> | void): Promise<R | void> =>
    store(mode, (objects) => {
      const made = request(objects);
      objects.transaction.commit?.();
      return made ? promisifyRequest(made) : promisifyRequest(objects.transaction);
    });
  return {
    kind: 'indexeddb',
    get: async <T>(key: string) => {
      const entry = validEntry<T>(await run('readonly', (objects) => objects.get(key)));
      return entry ?? readJournal<T>(legacy, key);
    },
    set: async <T>(key: string, entry: JournalEntry<T>) => {
      await run('readwrite', (objects) => {
        objects.put(entry, key);
      });
    },
    delete: async (key: string) => {
      await run('readwrite', (objects) => {
        objects.delete(key);
      });
      try {
        legacy?.removeItem(key);
      } catch {
        // An unreadable legacy entry cannot be replayed either.
      }
    },
    keys: async (prefix: string) => {
      const all = (await run('readonly', (objects) => objects.getAllKeys())) ?? [];
      const stored = all.filter((k): k is string => typeof k === 'string' && k.startsWith(prefix));
      const old = legacy ? await storageJournal(legacy).keys(prefix).catch(() => []) : [];
      return [...new Set([...stored, ...old])];
    },
  };
}

/** Remove the entry if it holds exactly `confirmed` (completed with `defaults`): the server has
 * it. Another tab's newer entry for the same step stays. */
export async function removeJournalIfHolds<T extends object>(store: JournalStore, key: string, confirmed: T, defaults: T): Promise<void> {
  const entry = await store.get<T>(key);
  // Device copies not yet sent keep the entry: the next visit sends them.
  if (entry && !entry.deviceCopies?.length && jsonEqual({ ...defaults, ...entry.data }, confirmed)) await store.delete(key);
}

/** Forget a user's entries in `store` (without a user: everyone's). */
export async function clearStore(store: JournalStore, userId?: string | number | null): Promise<void> {
  const found = await store.keys(userPrefix(userId));
  await Promise.all(found.map((key) => store.delete(key).catch(() => undefined)));
}

export function defaultStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function indexedDbAvailable(): boolean {
  try {
    return typeof indexedDB !== 'undefined' && indexedDB !== null;
  } catch {
    return false;
  }
}

let persistenceAsked = false;

/** Ask the browser to keep this origin's storage under storage pressure (once per page). */
export function requestPersistentStorage(): void {
  if (persistenceAsked) return;
  persistenceAsked = true;
  try {
    const storage = typeof navigator === 'undefined' ? undefined : navigator.storage;
    void storage?.persist?.().catch(() => false);
  } catch {
    // Not offered here: the journal works without it, it may just be evicted sooner.
  }
}

/**
 * IndexedDB, falling back to localStorage when IndexedDB is missing or cannot be opened
 * (a probe that fails to open, as in some private modes). A write IndexedDB refuses (quota)
 * is reported as failed, not retried in localStorage: it would not fit there either.
 */
export function createDefaultJournal(): JournalStore | null {
  const local = defaultStorage();
  const localJournal = local ? storageJournal(local) : null;
  if (!indexedDbAvailable()) return localJournal;
  const idb = indexedDbJournal(JOURNAL_DB, local);
  let chosen: Promise<JournalStore | null> | null = null;
  const pick = (): Promise<JournalStore | null> => {
    chosen ??= idb
      .keys('\u0000probe')
      .then(() => idb)
      .catch(() => localJournal);
    return chosen;
  };
  const use = async (): Promise<JournalStore> => {
    const store = await pick();
    if (!store) throw new Error('This device offers no storage.');
    return store;
  };
  return {
    kind: 'indexeddb',
    get: async (key) => (await use()).get(key),
    set: async (key, entry) => (await use()).set(key, entry),
    delete: async (key) => (await use()).delete(key),
    keys: async (prefix) => (await use()).keys(prefix),
  };
}

let shared: JournalStore | null | undefined;

/** The journal the hook uses unless told otherwise (one per page). */
export function defaultJournal(): JournalStore | null {
  if (shared === undefined) shared = createDefaultJournal();
  return shared;
}
