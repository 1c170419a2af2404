/**
 * Images waiting to be uploaded, as the app sees them: one per user, workshop, step and field.
 * The work itself is the core's (`./core`): the image and the step change that will refer to
 * it ("`field` = the upload's URL") are one unit of work, journalled together in IndexedDB and
 * sent by the core's one loop whatever page is open, after a reload, offline then online. This
 * module is the queue's API over the core and the React hook of one field.
 */
import { createStore, del, get, keys as idbKeys, set, type UseStore } from 'idb-keyval';
import { useCallback, useContext, useEffect, useMemo, useSyncExternalStore } from 'react';

import { WorkshopDataContext } from './context.js';
import { defaultSyncCore } from './core/defaultCore.js';
import { httpPerformers } from './core/http.js';
import { SyncLoop } from './core/loop.js';
import { imageStepChange, UPLOAD_PREFIX, type StoredValue, type WorkStore } from './core/store.js';
import type { Entry } from './core/work.js';
import type { PageEvents } from './types.js';
import { requireUserId } from './userId.js';

const PREFIX = UPLOAD_PREFIX;
export const UPLOADS_DB = 'workshop-data-uploads';

export interface StoredUpload {
  blob: Blob;
  createdAt: number;
  /** Set once the server has the bytes. */
  url: string | null;
}

/** Where waiting images are kept. `set` rejects when the device refused the write. */
export interface UploadStore {
  get(key: string): Promise<StoredUpload | null>;
  set(key: string, value: StoredUpload): Promise<void>;
  delete(key: string): Promise<void>;
  keys(prefix: string): Promise<string[]>;
}

export type UploadState =
  /** being written to the device */
  | 'storing'
  /** being sent */
  | 'uploading'
  /** the network failed: retried with backoff and when it returns */
  | 'waiting'
  /** the server has it (`url`) */
  | 'uploaded'
  /** the server refused it (`error`); not retried */
  | 'failed';

export interface PendingUpload {
  blob: Blob;
  state: UploadState;
  /** The blob is stored on this device (false while storing, or when the device refused it). */
  kept: boolean;
  /** Why the device could not keep it, if it could not. */
  keepError: string | null;
  url: string | null;
  /** The server's or the network's last error. */
  error: string | null;
}

export interface UploadQueueOptions {
  fetch?: typeof fetch;
  baseUrl?: string;
  /** null: keep nothing on the device (uploads still go while the page lives). */
  store?: UploadStore | null;
  events?: PageEvents | null;
  retryBaseMs?: number;
  retryMaxMs?: number;
  random?: () => number;
  now?: () => number;
}

export function uploadKey(userId: string | number, workshopType: string, stepId: string, field: string): string {
  return `${PREFIX}${requireUserId(userId)}:${workshopType}:${stepId}:${field}`;
}

/** Waiting images in IndexedDB (Blobs are stored as files, not strings). */
export function indexedDbUploads(dbName = UPLOADS_DB): UploadStore {
  const store: UseStore = createStore(dbName, 'blobs');
  return {
    get: async (key) => {
      const value = await get<StoredUpload>(key, store);
      return value && typeof value === 'object' ? value : null;
    },
    set: (key, value) => set(key, value, store),
    delete: (key) => del(key, store),
    keys: async (prefix) =>
      (await idbKeys<IDBValidKey>(store)).filter((k): k is string => typeof k === 'string' && k.startsWith(prefix)),
  };
}

/** Waiting images in memory: nothing survives the page (for tests, or a device without IndexedDB). */
export function memoryUploads(): UploadStore & { readonly items: Map<string, StoredUpload>; failWrites: boolean } {
  const items = new Map<string, StoredUpload>();
  const self = {
    items,
    failWrites: false,
    get: async (key: string) => items.get(key) ?? null,
    set: async (key: string, value: StoredUpload) => {
      if (self.failWrites) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      items.set(key, value);
    },
    delete: async (key: string) => {
      items.delete(key);
    },
    keys: async (prefix: string) => [...items.keys()].filter((k) => k.startsWith(prefix)),
  };
  return self;
}

/** The queue's store as the core's (tests and callers that pass an UploadStore). */
function asWorkStore(store: UploadStore): WorkStore {
  const value = (v: StoredValue) => v as unknown as StoredUpload;
  return {
    get: async (key) => (await store.get(key)) as unknown as StoredValue | null,
    setMany: async (items) => {
      for (const [key, v] of items) await store.set(key, value(v));
    },
    deleteMany: async (keys) => {
      await Promise.all(keys.map((key) => store.delete(key)));
    },
    keys: (prefix) => store.keys(prefix),
    entries: async (prefix) => {
      const keys = await store.keys(prefix);
      const found = await Promise.all(keys.map(async (key) => [key, (await store.get(key)) as unknown as StoredValue | null] as const));
      return found.filter((pair): pair is [string, StoredValue] => pair[1] !== null);
    },
  };
}

/** Where the step change of an image goes: "`field` of this step = the upload's URL". */
export interface ImageTarget {
  userId: string | number;
  workshopType: string;
  stepId: string;
  field: string;
  /** Other fields set with it (e.g. a gallery choice cleared). */
  alsoSet?: Record<string, unknown>;
}

function userOf(key: string): string {
  return key.startsWith(PREFIX) ? (key.slice(PREFIX.length).split(':')[0] ?? '') : '';
}

/** The queue: the images of the core's pending work, by key. */
export class UploadQueue {
  readonly core: SyncLoop;
  private readonly snapshots = new WeakMap<Entry, { paused: boolean; snapshot: PendingUpload }>();

  constructor(options: UploadQueueOptions | SyncLoop = {}) {
    if (options instanceof SyncLoop) {
      this.core = options;
      return;
    }
    this.core = new SyncLoop({
      performers: httpPerformers({ ...(options.fetch ? { fetch: options.fetch } : {}), baseUrl: options.baseUrl ?? '', ...(options.now ? { now: options.now } : {}) }),
      store: options.store ? asWorkStore(options.store) : null,
      events: options.events ?? null,
      config: { ...(options.retryBaseMs ? { retryBaseMs: options.retryBaseMs } : {}), ...(options.retryMaxMs ? { retryMaxMs: options.retryMaxMs } : {}) },
      ...(options.random ? { random: options.random } : {}),
      ...(options.now ? { now: options.now } : {}),
      exclusive: null,
    });
  }

  subscribe = (listener: () => void): (() => void) => this.core.subscribe(listener);

  get(key: string): PendingUpload | null {
    const entry = this.core.get(key);
    if (!entry || entry.work.kind !== 'upload') return null;
    const { online, signedOut } = this.core.getState();
    const paused = !online || signedOut;
    let cached = this.snapshots.get(entry);
    if (!cached || cached.paused !== paused) {
      const phase = entry.status.phase;
      const snapshot: PendingUpload = {
        blob: entry.work.blob,
        // Queued while nothing can be sent: it waits for the network (or a sign-in).
        state: phase === 'queued' ? (paused ? 'waiting' : 'uploading') : phase === 'sending' ? 'uploading' : phase,
        kept: entry.status.kept,
        keepError: entry.status.keepError,
        url: entry.work.url,
        error: entry.status.error,
      };
      cached = { paused, snapshot };
      this.snapshots.set(entry, cached);
    }
    return cached.snapshot;
  }

  /** Read what the device kept for this key's user (after a reload) and send it. Resolves
   * when `key`'s first attempt is over. */
  async restore(key: string): Promise<void> {
    const user = userOf(key);
    await this.core.restoreUser(user);
    await this.core.settled(key);
  }

  /** Keep `blob` on the device for `key` (replacing what was there), then upload it; with a
   * `target`, the step's field refers to the upload once it exists (one unit of work).
   * Resolves when the first attempt is over. */
  async add(key: string, blob: Blob, target?: ImageTarget): Promise<void> {
    const userId = target ? String(target.userId) : userOf(key);
    const now = Date.now();
    const upload = { kind: 'upload' as const, id: key, userId, createdAt: now, blob, url: null };
    const work = target
      ? [upload, imageStepChange(key, userId, target.workshopType, target.stepId, target.field, target.alsoSet ?? {}, now, newRequestId())]
      : [upload];
    await this.core.enqueue(work);
    await this.core.settled(key);
  }

  /** Forget the image for `key` and the step change waiting for it, on the device too. */
  async remove(key: string): Promise<void> {
    await this.core.remove([key]);
  }

  /** Forget every waiting image (and its step change) whose key starts with `prefix` (sign-out). */
  async clear(prefix: string): Promise<void> {
    const user = prefix.startsWith(PREFIX) ? prefix.slice(PREFIX.length) : '';
    await this.core.clearPrefix(user ? [prefix, `workshop-data:work:${user}`] : [prefix, 'workshop-data:work:']);
  }

  /** Try every waiting image again now (the network is back). */
  retryNow(): void {
    this.core.retryNow();
  }
}

function newRequestId(): string {
  return typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}`;
}

let shared: UploadQueue | null = null;

/** The page's queue: over the page's core (IndexedDB, the browser's fetch, window's events). */
export function defaultUploadQueue(): UploadQueue {
  shared ??= new UploadQueue(defaultSyncCore());
  return shared;
}

/** Forget a user's waiting images on this device (clearJournal does this at sign-out). */
export async function clearUploads(userId?: string | number | null, queue: UploadQueue = defaultUploadQueue()): Promise<void> {
  await queue.clear(userId == null ? PREFIX : `${PREFIX}${userId}:`);
}

export interface UsePendingUpload {
  /** The image waiting for (or just done with) its upload, if any. */
  pending: PendingUpload | null;
  /** An object URL of the pending image, to show it at once. */
  previewUrl: string | null;
  /** Keep and upload this image for the field (replaces a pending one); the step's field
   * refers to the upload once it exists, whatever page is open then. */
  choose: (blob: Blob) => Promise<void>;
  /** Forget the pending image. */
  discard: () => Promise<void>;
}

/**
 * The pending image of one field of a step, for the signed-in user (`userId` here or from the
 * WorkshopDataProvider; required, as for useWorkshopStepData). After a reload it is read back
 * from the device and uploaded.
 */
export function usePendingUpload(
  workshopType: string,
  stepId: string,
  field: string,
  options: { userId?: string | number; queue?: UploadQueue; alsoSet?: Record<string, unknown> } = {},
): UsePendingUpload {
  const defaults = useContext(WorkshopDataContext);
  const userId = options.userId ?? defaults.userId;
  const queue = options.queue ?? defaultUploadQueue();
  const key = uploadKey(requireUserId(userId), workshopType, stepId, field);
  const pending = useSyncExternalStore(queue.subscribe, () => queue.get(key), () => queue.get(key));
  useEffect(() => {
    void queue.restore(key);
  }, [queue, key]);
  const blob = pending?.blob ?? null;
  const previewUrl = useMemo(() => (blob && typeof URL.createObjectURL === 'function' ? URL.createObjectURL(blob) : null), [blob]);
  useEffect(
    () => () => {
      if (previewUrl) URL.revokeObjectURL(previewUrl);
    },
    [previewUrl],
  );
  const alsoSet = JSON.stringify(options.alsoSet ?? {});
  const choose = useCallback(
    (next: Blob) =>
      queue.add(key, next, { userId: requireUserId(userId), workshopType, stepId, field, alsoSet: JSON.parse(alsoSet) as Record<string, unknown> }),
    [queue, key, userId, workshopType, stepId, field, alsoSet],
  );
  const discard = useCallback(() => queue.remove(key), [queue, key]);
  return { pending, previewUrl, choose, discard };
}
