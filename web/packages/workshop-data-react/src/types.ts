import type { JournalStore } from './journal.js';
import type { MigrateStepData } from './schemaVersion.js';

export type WorkshopType = 'ast' | 'ia';

export type SaveStatus =
  | 'loading'
  | 'idle'
  | 'dirty'
  | 'saving'
  | 'saved'
  | 'offline'
  | 'not-kept'
  | 'error'
  | 'conflict'
  | 'locked'
  | 'signed-out';

export type StepDocument = Record<string, unknown>;

/** The server's record of a saved step (the `data` of a save response). */
export interface StepRecord<T extends object = StepDocument> {
  id: number;
  userId: number;
  workshopType: WorkshopType;
  stepId: string;
  data: T;
  version: number;
  /** The step's schema version `data` was written in (null: none declared; absent: a server
   * before schema versions). */
  schemaVersion?: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface ConflictInfo<T extends object> {
  /** Fields both this page and someone else changed in the same place: for texts both whole
   * versions were kept (the other's, a blank line, this page's), for other values this page's.
   * Changes in different places of a text, and items added to a list on both sides, merge
   * without a report. This page's text before the merge is kept in the step's history. */
  fields: string[];
  /** The same fields as people know them: `fieldLabels[field]`, else the field's id. */
  labels: string[];
  /** This page's data before the merge. */
  mine: T;
  /** The other copy (another tab or device), completed with initialData. */
  theirs: T;
  /** The result, now shown and saved: both sides' changes (see mergeDocuments). */
  merged: T;
}

/** The parts of BroadcastChannel the controller uses. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

/** The parts of window the controller listens to (online, pagehide, visibilitychange). */
export interface PageEvents {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

export interface StepDataOptions<T extends object> {
  /** Quiet time after the last change before saving (ms). Default 1000. */
  debounceMs?: number;
  /** Save automatically. Default true; when false only saveNow() saves (the journal still
   * records every change). */
  enableAutoSave?: boolean;
  /** Longest time a change waits while typing continues (ms). Default 10000. */
  maxWaitMs?: number;
  /** After every save the server confirmed, with its record. */
  onSaveSuccess?: (record: StepRecord<T>) => void;
  /** After every failed save (each failed attempt; `HttpError` for an answer, a TypeError for
   * the network). */
  onSaveError?: (error: Error) => void;
  /** A concurrent edit was merged and these fields had been changed on both sides. */
  onConflict?: (info: ConflictInfo<T>) => void;
  /** The label a participant knows each field by (field id → label, e.g. `whyReflection` →
   * "Why is this important to you?"), for `ConflictInfo.labels`. */
  fieldLabels?: Record<string, string>;
  /** The schema version this step's code writes (an integer from 1). Saved with every record;
   * data written in an older version (or none) is passed through `migrate` when it is loaded,
   * and saved back once in this version. Absent: no versioning (data is taken as it is). */
  schemaVersion?: number;
  /** Bring data written in `fromVersion` (null: written before the step declared any) up to
   * `schemaVersion`; runs on the server copy, on another tab's and on the device's journal,
   * before they are completed with initialData and merged. Must not throw for data it does
   * not recognise (a throw leaves the data as it was, and it is not saved back). */
  migrate?: MigrateStepData;
  /** Whose data this is (the signed-in user's id): the local journal and the tabs' channel are
   * keyed by it, so one person's unsaved text is never shown to, or sent as, another. Required:
   * a missing or empty id throws. */
  userId: string | number;
  /** Where the API lives; default '' (same origin). */
  baseUrl?: string;
  /** First retry delay (ms), doubled each attempt up to retryMaxMs, with jitter. Default 1000. */
  retryBaseMs?: number;
  /** Longest retry delay (ms). Default 30000. */
  retryMaxMs?: number;
  /** 409s in a row merged and re-sent at once before backing off like a failure. Default 5. */
  maxConflictRetries?: number;
  /** Send only what changed (a merge patch, PATCH) when the server's version is known.
   * Default true; false always sends the whole document (POST), e.g. for a server without PATCH. */
  partialSaves?: boolean;
  /** Injectables, for tests and non-browser hosts (default: the browser's). */
  fetch?: typeof fetch;
  /** Where unsaved changes are kept on the device. Default: IndexedDB (localStorage where
   * IndexedDB is unavailable); null keeps nothing (every pending change is `not-kept`). */
  journal?: JournalStore | null;
  /** Keep the journal in this Storage instead (when `journal` is not given). */
  storage?: Storage | null;
  createChannel?: ((name: string) => ChannelLike) | null;
  events?: PageEvents | null;
  document?: { visibilityState: string } | null;
  random?: () => number;
  now?: () => number;
}

/** Changes the server refused for good because the workshop is completed (423, or a load that
 * said `locked` while this device still held unsaved changes). They are no longer on screen nor
 * on the device: this is the only copy, for the app to show (and let the participant copy). */
export interface RejectedChange<T extends object> {
  /** The page's data as it was refused. */
  data: T;
  /** The top-level fields in which it differs from the server copy now shown. */
  fields: (keyof T & string)[];
  /** Why (the server's message). */
  message: string;
  /** When the workshop was completed (the server's clock), if known. */
  lockedSince: string | null;
}

/** The hook's options: StepDataOptions, where `userId` may come from a WorkshopDataProvider
 * instead (one of the two must give it, or the hook throws). */
export type UseWorkshopStepDataOptions<T extends object> = Omit<StepDataOptions<T>, 'userId'> & {
  userId?: string | number;
};

export interface StepDataState<T extends object> {
  /** The server's copy merged over initialData, plus this page's edits. */
  data: T;
  status: SaveStatus;
  /** The server's copy has been loaded. */
  loaded: boolean;
  /** A save request is in flight. */
  saving: boolean;
  /** What went wrong last (the server's message, or the network), null after a success. */
  error: string | null;
  /** The last journal write failed (quota, private mode, disabled storage): what the page
   * has not sent is NOT kept on this device. Null once a write succeeded. */
  journalError: string | null;
  /** The server version this page last saw (null: nothing saved yet). */
  version: number | null;
  /** When the server copy was last written (the server's clock), if known. */
  lastSavedAt: string | null;
  /** Something the participant entered is not yet confirmed by the server. */
  hasPendingChanges: boolean;
  /** The step is read-only: the workshop is completed (known from the load, or from a 423). */
  locked: boolean;
  /** When the workshop was completed, once locked (null if the server did not say). */
  lockedSince: string | null;
  /** What the server refused because the workshop is completed; null when nothing was. */
  rejected: RejectedChange<T> | null;
}
