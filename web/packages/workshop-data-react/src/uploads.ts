/**
 * Images waiting to be uploaded: kept on the device as Blobs in IndexedDB (one per user,
 * workshop, step and field) until `POST /api/uploads` has them, so an image chosen offline
 * survives a reload and is uploaded when the network returns. The step then refers to it by
 * the upload's URL ("/api/uploads/<id>").
 */
import { createStore, del, get, keys as idbKeys, set, type UseStore } from 'idb-keyval';
import { useCallback, useContext, useEffect, useMemo, useSyncExternalStore } from 'react';

import { WorkshopDataContext } from './context.js';
import type { PageEvents } from './types.js';
import { requireUserId } from './userId.js';

const PREFIX = 'workshop-data:upload:';
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
      // Duck-typed: a Blob from another realm (a test's, a worker's) is still a Blob.
      return value && typeof value.blob?.arrayBuffer === 'function' ? value : null;
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

function retryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

interface UploadAnswer {
  upload?: { url?: unknown };
  error?: unknown;
}

/** One image's upload, as the queue tracks it; `snapshot` is replaced on every change. */
interface Job {
  snapshot: PendingUpload;
}

/** The queue: in memory the state of every waiting image, on the device its blob. */
export class UploadQueue {
  private readonly jobs = new Map<string, Job>();
  private readonly listeners = new Set<() => void>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly attempts = new Map<string, number>();
  private readonly restoring = new Map<string, Promise<void>>();
  private readonly store: UploadStore | null;

  constructor(private readonly options: UploadQueueOptions = {}) {
    this.store = options.store === undefined ? null : options.store;
    options.events?.addEventListener('online', this.onOnline);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  get(key: string): PendingUpload | null {
    return this.jobs.get(key)?.snapshot ?? null;
  }

  /** Read what the device kept for `key` (after a reload) and upload it if it is not yet. */
  restore(key: string): Promise<void> {
    if (this.jobs.has(key)) return Promise.resolve();
    let running = this.restoring.get(key);
    if (!running) {
      running = (async () => {
        const stored = this.store ? await this.store.get(key).catch(() => null) : null;
        if (!stored || this.jobs.has(key)) return;
        const job: Job = {
          snapshot: {
            blob: stored.blob,
            state: stored.url ? 'uploaded' : 'uploading',
            kept: true,
            keepError: null,
            url: stored.url,
            error: null,
          },
        };
        this.jobs.set(key, job);
        this.notify();
        if (!stored.url) await this.upload(key, job);
      })().finally(() => this.restoring.delete(key));
      this.restoring.set(key, running);
    }
    return running;
  }

  /** Keep `blob` on the device for `key` (replacing what was there), then upload it.
   * Resolves when the first attempt is over. */
  async add(key: string, blob: Blob): Promise<void> {
    this.clearTimer(key);
    this.attempts.delete(key);
    const job: Job = { snapshot: { blob, state: 'storing', kept: false, keepError: null, url: null, error: null } };
    this.jobs.set(key, job);
    this.notify();
    let keepError: string | null = null;
    if (!this.store) keepError = 'This device could not keep a copy of the image.';
    else {
      try {
        await this.store.set(key, { blob, createdAt: (this.options.now ?? Date.now)(), url: null });
      } catch (error) {
        keepError =
          (error as { name?: unknown } | null)?.name === 'QuotaExceededError'
            ? 'This device is out of storage space: the image is not kept on it.'
            : 'This device could not keep a copy of the image.';
        await this.store.delete(key).catch(() => undefined);
      }
    }
    if (this.jobs.get(key) !== job) return;
    this.update(key, job, { kept: keepError === null, keepError });
    await this.upload(key, job);
  }

  /** Forget the image for `key`, on the device too (it was removed, replaced, or the step now
   * refers to the uploaded copy and the server has that). */
  async remove(key: string): Promise<void> {
    this.clearTimer(key);
    this.attempts.delete(key);
    if (this.jobs.delete(key)) this.notify();
    await this.store?.delete(key).catch(() => undefined);
  }

  /** Forget every waiting image whose key starts with `prefix` (sign-out). */
  async clear(prefix: string): Promise<void> {
    const stored = this.store ? await this.store.keys(prefix).catch(() => [] as string[]) : [];
    const keys = new Set([...stored, ...[...this.jobs.keys()].filter((k) => k.startsWith(prefix))]);
    await Promise.all([...keys].map((key) => this.remove(key)));
  }

  /** Try every waiting image again now (the network is back). */
  retryNow(): void {
    for (const [key, job] of this.jobs) {
      if (job.snapshot.state === 'waiting') {
        this.clearTimer(key);
        this.attempts.delete(key);
        void this.upload(key, job);
      }
    }
  }

  private onOnline = (): void => this.retryNow();

  private async upload(key: string, job: Job): Promise<void> {
    if (this.jobs.get(key) !== job) return;
    this.update(key, job, { state: 'uploading', error: null });
    const blob = job.snapshot.blob;
    let response: Response;
    try {
      response = await (this.options.fetch ?? ((...args) => fetch(...args)))(`${this.options.baseUrl ?? ''}/api/uploads`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': blob.type || 'application/octet-stream', Accept: 'application/json' },
        body: blob,
      });
    } catch {
      this.waitAndRetry(key, job, 'the network is unavailable');
      return;
    }
    let body: UploadAnswer | null = null;
    try {
      body = (await response.json()) as UploadAnswer;
    } catch {
      body = null;
    }
    if (this.jobs.get(key) !== job) return;
    const url = typeof body?.upload?.url === 'string' ? body.upload.url : null;
    if (response.ok && url) {
      this.attempts.delete(key);
      this.update(key, job, { state: 'uploaded', url, error: null });
      if (job.snapshot.kept) await this.store?.set(key, { blob, createdAt: Date.now(), url }).catch(() => undefined);
      return;
    }
    const message = typeof body?.error === 'string' ? body.error : `The server answered ${response.status}.`;
    if (response.ok || retryable(response.status)) this.waitAndRetry(key, job, message);
    else this.update(key, job, { state: 'failed', error: message });
  }

  private waitAndRetry(key: string, job: Job, message: string): void {
    if (this.jobs.get(key) !== job) return;
    this.update(key, job, { state: 'waiting', error: message });
    if (this.timers.has(key)) return;
    const attempt = this.attempts.get(key) ?? 0;
    this.attempts.set(key, attempt + 1);
    const exponential = Math.min(this.options.retryMaxMs ?? 30000, (this.options.retryBaseMs ?? 1000) * 2 ** attempt);
    const delay = exponential / 2 + ((this.options.random ?? Math.random)() * exponential) / 2;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (this.jobs.get(key) === job && job.snapshot.state === 'waiting') void this.upload(key, job);
      }, delay),
    );
  }

  private clearTimer(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }

  private update(key: string, job: Job, patch: Partial<PendingUpload>): void {
    if (this.jobs.get(key) !== job) return;
    job.snapshot = { ...job.snapshot, ...patch };
    this.notify();
  }

  private notify(): void {
    this.listeners.forEach((listener) => listener());
  }
}

let shared: UploadQueue | null = null;

function indexedDbAvailable(): boolean {
  try {
    return typeof indexedDB !== 'undefined' && indexedDB !== null;
  } catch {
    return false;
  }
}

/** The page's queue: IndexedDB, the browser's fetch, `online` events of window. */
export function defaultUploadQueue(): UploadQueue {
  shared ??= new UploadQueue({
    store: indexedDbAvailable() ? indexedDbUploads() : null,
    events: typeof window === 'undefined' ? null : window,
  });
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
  /** Keep and upload this image for the field (replaces a pending one). */
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
  options: { userId?: string | number; queue?: UploadQueue } = {},
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
  const choose = useCallback((next: Blob) => queue.add(key, next), [queue, key]);
  const discard = useCallback(() => queue.remove(key), [queue, key]);
  return { pending, previewUrl, choose, discard };
}
