export type WorkshopType = 'ast' | 'ia';

export type SaveStatus =
  | 'loading'
  | 'idle'
  | 'dirty'
  | 'saving'
  | 'saved'
  | 'offline'
  | 'error'
  | 'conflict'
  | 'locked';

export type StepDocument = Record<string, unknown>;

/** The server's record of a saved step (the `data` of a save response). */
export interface StepRecord<T extends object = StepDocument> {
  id: number;
  userId: number;
  workshopType: WorkshopType;
  stepId: string;
  data: T;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ConflictInfo<T extends object> {
  /** Fields both this page and someone else changed; this page's values were kept. */
  fields: string[];
  mine: T;
  theirs: T;
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
  /** Save automatically. Default true; when false only saveNow() saves. */
  enableAutoSave?: boolean;
  /** Longest time a change waits while typing continues (ms). Default 10000. */
  maxWaitMs?: number;
  onSaveSuccess?: (record: StepRecord<T>) => void;
  onSaveError?: (error: Error) => void;
  onConflict?: (info: ConflictInfo<T>) => void;
  /** Whose journal this is: the local journal is keyed by user, workshop and step. */
  userId?: string | number | null;
  /** Where the API lives; default '' (same origin). */
  baseUrl?: string;
  /** First retry delay (ms), doubled each attempt up to retryMaxMs, with jitter. Default 1000. */
  retryBaseMs?: number;
  /** Longest retry delay (ms). Default 30000. */
  retryMaxMs?: number;
  /** Injectables, for tests and non-browser hosts. */
  fetch?: typeof fetch;
  storage?: Storage | null;
  createChannel?: ((name: string) => ChannelLike) | null;
  events?: PageEvents | null;
  document?: { visibilityState: string } | null;
  random?: () => number;
}

export interface StepDataState<T extends object> {
  data: T;
  status: SaveStatus;
  loaded: boolean;
  saving: boolean;
  error: string | null;
  version: number | null;
  lastSavedAt: string | null;
  hasPendingChanges: boolean;
}
