/**
 * The participant's pending work, as the core keeps it: what is to reach the server (the
 * journalled part, `WorkItem`) and where its sending stands (`WorkStatus`, in memory only).
 */

/** An image to upload (POST /api/uploads). Its key is `uploadKey(user, type, step, field)`. */
export interface UploadWork {
  kind: 'upload';
  id: string;
  userId: string;
  createdAt: number;
  blob: Blob;
  /** Set once the server has the bytes. */
  url: string | null;
}

/**
 * A change of some fields of a step, made through the step API whatever page is open: `fields`
 * as they are, and `uploadField` set to the URL of the upload `uploadId` once it exists (the
 * change waits for that upload).
 */
export interface StepChangeWork {
  kind: 'step-change';
  id: string;
  userId: string;
  createdAt: number;
  workshopType: string;
  stepId: string;
  fields: Record<string, unknown>;
  uploadId: string | null;
  uploadField: string | null;
  /** The Idempotency-Key of its saves. */
  requestId: string;
}

/** Navigation progress to report (PUT /api/navigation-progress/<type>); reports merge. */
export interface ProgressWork {
  kind: 'progress';
  id: string;
  userId: string;
  createdAt: number;
  workshopType: string;
  currentStepId: string | null;
  completedSteps: string[];
  unlockedSteps: string[];
}

export type WorkItem = UploadWork | StepChangeWork | ProgressWork;
export type WorkKind = WorkItem['kind'];

export type Phase =
  /** being written to the device */
  | 'storing'
  /** due at `dueAt` */
  | 'queued'
  | 'sending'
  /** failed; tried again at `retryAt`, or when the network returns */
  | 'waiting'
  /** an upload the server has (`url`) */
  | 'uploaded'
  /** refused for good (`error`); not retried */
  | 'failed';

export interface WorkStatus {
  phase: Phase;
  /** Bumped by every replacement or merge: an answer for an older revision changes nothing. */
  revision: number;
  /** Failures in a row (the exponent of the next delay). */
  attempt: number;
  /** 409s in a row (re-read and re-applied at once, up to a limit). */
  conflicts: number;
  /** Not sent before this (debounce); null: at once. */
  dueAt: number | null;
  /** The first unsent change of this item (maxWait counts from it). */
  firstAt: number;
  retryAt: number | null;
  error: string | null;
  /** The item is on the device (false while storing, or when the device refused it). */
  kept: boolean;
  keepError: string | null;
}

export interface Entry {
  work: WorkItem;
  status: WorkStatus;
}

export interface SyncConfig {
  retryBaseMs: number;
  retryMaxMs: number;
  /** A Retry-After beyond this is taken as this. */
  retryAfterCapMs: number;
  /** 409s re-applied at once before backing off like any other failure. */
  maxConflictRetries: number;
  /** Progress reports wait for a pause of this long… */
  progressDebounceMs: number;
  /** …but no longer than this after the first unsent one. */
  progressMaxWaitMs: number;
  /** Requests in flight at once. */
  concurrency: number;
}

export const DEFAULT_CONFIG: SyncConfig = {
  retryBaseMs: 1000,
  retryMaxMs: 30000,
  retryAfterCapMs: 5 * 60 * 1000,
  maxConflictRetries: 5,
  progressDebounceMs: 300,
  progressMaxWaitMs: 2000,
  concurrency: 2,
};

export interface SyncState {
  entries: Readonly<Record<string, Entry>>;
  /** The browser says it is online. */
  online: boolean;
  /** The server answered 401: nothing is sent until `signed-in`. */
  signedOut: boolean;
  config: SyncConfig;
}

/** Why a send failed, as the loop classifies it. */
export type Failure =
  | { kind: 'network'; message: string }
  | { kind: 'retryable'; message: string; retryAfterMs: number | null }
  | { kind: 'conflict'; message: string }
  | { kind: 'unauthorized'; message: string }
  | { kind: 'locked'; message: string }
  | { kind: 'final'; message: string };

export type Action =
  /** New work (or a replacement of an item with the same id; progress of one workshop merges). */
  | { type: 'queued'; work: WorkItem[]; now: number }
  /** Work read back from the device; what is already known here wins. */
  | { type: 'restored'; work: WorkItem[]; now: number }
  /** The device kept (or refused) these items at this revision. */
  | { type: 'kept'; ids: string[]; revisions: Record<string, number>; kept: boolean; keepError: string | null }
  | { type: 'sending'; id: string; revision: number }
  /** The server has it; an upload's answer carries its URL. */
  | { type: 'succeeded'; id: string; revision: number; url?: string }
  /** `jitter` in [0, 1) spreads the retries of many clients. */
  | { type: 'failed'; id: string; revision: number; failure: Failure; now: number; jitter: number }
  | { type: 'removed'; ids: string[] }
  | { type: 'online'; online: boolean }
  /** Try everything that waits now (the network returned, or the participant asked). */
  | { type: 'retry-now' }
  /** The same user signed in again after a 401. */
  | { type: 'signed-in' };
