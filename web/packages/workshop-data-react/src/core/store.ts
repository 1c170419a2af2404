/**
 * Where the pending work is journalled: one store interface for every kind (IndexedDB in the
 * browser, memory in tests). An image and the step change that will refer to it are written
 * in one call (`setMany`: one IndexedDB transaction), so the device keeps both or neither.
 */
import { createStore, delMany, entries as idbEntries, get, keys as idbKeys, setMany, type UseStore } from 'idb-keyval';

import type { WorkItem } from './work.js';

export const UPLOAD_PREFIX = 'workshop-data:upload:';
export const WORK_PREFIX = 'workshop-data:work:';
/** The database the images waiting for upload were always kept in; now all pending work. */
export const WORK_DB = 'workshop-data-uploads';

/** A stored value: a work item, or (from earlier versions) an image without its kind. */
export type StoredValue = Record<string, unknown>;

export interface WorkStore {
  get(key: string): Promise<StoredValue | null>;
  /** Rejects when the device refused the write (then none of `items` is kept). */
  setMany(items: [string, StoredValue][]): Promise<void>;
  deleteMany(keys: string[]): Promise<void>;
  keys(prefix: string): Promise<string[]>;
  /** Every stored value whose key starts with `prefix`. */
  entries(prefix: string): Promise<[string, StoredValue][]>;
}

export function indexedDbWorkStore(dbName = WORK_DB): WorkStore {
  const store: UseStore = createStore(dbName, 'blobs');
  const ownKey = (key: IDBValidKey, prefix: string): key is string => typeof key === 'string' && key.startsWith(prefix);
  return {
    get: async (key) => (await get<StoredValue>(key, store)) ?? null,
    setMany: (items) => setMany(items, store),
    deleteMany: (keys) => delMany(keys, store),
    keys: async (prefix) => (await idbKeys<IDBValidKey>(store)).filter((k) => ownKey(k, prefix)),
    entries: async (prefix) =>
      (await idbEntries<IDBValidKey, StoredValue>(store)).filter((pair): pair is [string, StoredValue] => ownKey(pair[0], prefix)),
  };
}

/** Pending work in memory: nothing survives the page (tests; a device without IndexedDB). */
export function memoryWorkStore(): WorkStore & { readonly items: Map<string, StoredValue>; failWrites: boolean } {
  const items = new Map<string, StoredValue>();
  const self = {
    items,
    failWrites: false,
    get: async (key: string) => items.get(key) ?? null,
    setMany: async (pairs: [string, StoredValue][]) => {
      if (self.failWrites) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      for (const [key, value] of pairs) items.set(key, value);
    },
    deleteMany: async (keys: string[]) => {
      for (const key of keys) items.delete(key);
    },
    keys: async (prefix: string) => [...items.keys()].filter((k) => k.startsWith(prefix)),
    entries: async (prefix: string) => [...items.entries()].filter(([k]) => k.startsWith(prefix)),
  };
  return self;
}

function isBlob(value: unknown): value is Blob {
  // Duck-typed: a Blob from another realm (a test's, a worker's) is still a Blob.
  const blob = value as Blob | null;
  return typeof blob?.slice === 'function' && typeof blob.size === 'number';
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Read a stored value back as work, or null if it is not one. An image an earlier version kept
 * (`{blob, createdAt, url}` under `workshop-data:upload:<user>:<type>:<step>:<field>`) becomes
 * the upload and the step change that refers to it, as the page that chose it would have made.
 */
export function readWork(key: string, value: StoredValue | null): WorkItem[] {
  if (!value || typeof value !== 'object') return [];
  const v = value as Record<string, unknown>;
  const text = (x: unknown) => (typeof x === 'string' ? x : null);
  const createdAt = typeof v.createdAt === 'number' ? v.createdAt : 0;
  if (v.kind === undefined && key.startsWith(UPLOAD_PREFIX) && isBlob(v.blob)) {
    const [userId, workshopType, stepId, field] = key.slice(UPLOAD_PREFIX.length).split(':');
    if (!userId || !workshopType || !stepId || !field) return [];
    const upload: WorkItem = { kind: 'upload', id: key, userId, createdAt, blob: v.blob, url: text(v.url) };
    return [upload, imageStepChange(upload.id, userId, workshopType, stepId, field, {}, createdAt)];
  }
  const id = text(v.id);
  const userId = text(v.userId);
  if (id !== key || !userId) return [];
  if (v.kind === 'upload' && isBlob(v.blob)) return [{ kind: 'upload', id, userId, createdAt, blob: v.blob, url: text(v.url) }];
  if (v.kind === 'step-change' && text(v.workshopType) && text(v.stepId) && v.fields && typeof v.fields === 'object') {
    return [
      {
        kind: 'step-change',
        id,
        userId,
        createdAt,
        workshopType: text(v.workshopType)!,
        stepId: text(v.stepId)!,
        fields: v.fields as Record<string, unknown>,
        uploadId: text(v.uploadId),
        uploadField: text(v.uploadField),
        requestId: text(v.requestId) ?? id,
      },
    ];
  }
  if (v.kind === 'progress' && text(v.workshopType)) {
    return [
      {
        kind: 'progress',
        id,
        userId,
        createdAt,
        workshopType: text(v.workshopType)!,
        currentStepId: text(v.currentStepId),
        completedSteps: strings(v.completedSteps),
        unlockedSteps: strings(v.unlockedSteps),
      },
    ];
  }
  return [];
}

export function stepChangeKey(userId: string, workshopType: string, stepId: string, field: string): string {
  return `${WORK_PREFIX}${userId}:step:${workshopType}:${stepId}:${field}`;
}

export function progressKey(userId: string, workshopType: string): string {
  return `${WORK_PREFIX}${userId}:progress:${workshopType}`;
}

/** The step change "`field` of the step = the URL of upload `uploadId` once it exists" (and
 * `fields` as they are). */
export function imageStepChange(
  uploadId: string,
  userId: string,
  workshopType: string,
  stepId: string,
  field: string,
  fields: Record<string, unknown>,
  createdAt: number,
  requestId?: string,
): WorkItem {
  return {
    kind: 'step-change',
    id: stepChangeKey(userId, workshopType, stepId, field),
    userId,
    createdAt,
    workshopType,
    stepId,
    fields,
    uploadId,
    uploadField: field,
    requestId: requestId ?? `${uploadId}@${createdAt}`,
  };
}

/** The prefixes of a user's work (without a user: everyone's). */
export function userPrefixes(userId?: string | number | null): string[] {
  return userId == null ? [UPLOAD_PREFIX, WORK_PREFIX] : [`${UPLOAD_PREFIX}${userId}:`, `${WORK_PREFIX}${userId}:`];
}
