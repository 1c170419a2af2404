import {
  clearStore,
  defaultJournal,
  journalKey,
  removeJournalIfHolds,
  requestPersistentStorage,
  storageJournal,
  type JournalEntry,
  type JournalStore,
} from './journal.js';
import { createMergePatch, fingerprint, jsonEqual, threeWayMerge } from './merge.js';
import { clearUploads } from './uploads.js';
import { requireUserId } from './userId.js';
import type {
  ChannelLike,
  PageEvents,
  RejectedChange,
  SaveStatus,
  StepDataOptions,
  StepDataState,
  StepRecord,
  WorkshopType,
} from './types.js';

/** Browsers cap keepalive request bodies at 64 KiB in total; stay under it. */
export const KEEPALIVE_LIMIT_BYTES = 60 * 1024;

/** How many sent-but-unconfirmed snapshots are remembered (as fingerprints). */
const MAX_UNCONFIRMED = 8;
/** A Retry-After beyond this is taken as this. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/** An answer from the server that was not a success. */
export class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: Record<string, unknown> | null,
    /** The answer's Retry-After, in ms, when it had one. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Network errors, 5xx, 408 and 429 are worth retrying; other answers are final. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof HttpError)) return true;
  return error.status >= 500 || error.status === 408 || error.status === 429;
}

/** Retry-After as delta-seconds or an HTTP date, in ms from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  if (!value) return null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(MAX_RETRY_AFTER_MS, Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** UTF-8 bytes: what the keepalive limit counts (not UTF-16 units). */
export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

const NOT_KEPT = 'This device could not keep a copy of your changes.';
const LOCKED = 'The workshop is completed, so this step can no longer be changed.';

/** Top-level fields in which `data` differs from `base`. */
function changedFields<T extends object>(base: T, data: T): (keyof T & string)[] {
  const before = base as Record<string, unknown>;
  const after = data as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.filter((key) => !jsonEqual(before[key], after[key])) as (keyof T & string)[];
}

function describeStorageError(error: unknown): string {
  if ((error as { name?: unknown } | null)?.name === 'QuotaExceededError') return 'This device is out of storage space: your changes are not kept on it.';
  return NOT_KEPT;
}

function isStorage(value: unknown): value is Storage {
  return typeof value === 'object' && value !== null && typeof (value as Storage).getItem === 'function';
}

function describe(error: unknown): string {
  if (error instanceof HttpError) return error.message;
  return 'the network is unavailable';
}

interface SaveResponse<T extends object> {
  success: true;
  data: StepRecord<T>;
}

interface LoadResponse {
  success: true;
  data: Record<string, unknown> | null;
  version: number | null;
  updatedAt: string | null;
  /** The workshop is completed and this step's section locks (servers before it: absent). */
  locked?: boolean;
  lockedSince?: string | null;
}

/** What a tab that saved tells the user's other tabs. */
export interface BroadcastMessage {
  workshopType: string;
  stepId: string;
  data: Record<string, unknown>;
  version: number;
}

type SendOutcome = 'done' | 'again' | 'stop';

/** One save as it goes on the wire. */
export interface SaveRequest {
  method: 'POST' | 'PATCH';
  path: string;
  body: string;
  headers: Record<string, string>;
}

/** Controllers that are started (mounted), for saveAllNow(). */
const active = new Set<StepDataController<object>>();
/** Controllers with a journal write still running (a step just unmounted may have one). */
const journaling = new Set<StepDataController<object>>();

/**
 * Save every mounted step at once (before signing out or completing a workshop). Resolves when
 * the server has answered; true when nothing is left unsaved.
 */
export async function saveAllNow(): Promise<boolean> {
  const controllers = [...active];
  await Promise.all(controllers.map((controller) => controller.saveNow()));
  return controllers.every((controller) => !controller.getSnapshot().hasPendingChanges);
}

/**
 * After a 401 (status `signed-out`), once the same user has signed in again: every mounted step
 * of that user loads again if it had not loaded, and sends what is pending. Resolves when the
 * server has answered.
 */
export async function resumeAfterSignIn(userId: string | number): Promise<void> {
  const id = String(requireUserId(userId));
  await Promise.all([...active].filter((controller) => String(controller.userId) === id).map((controller) => controller.resume()));
}

/**
 * Forget a user's unsaved changes on this device: call it at sign-out, so the next person on
 * the device finds nothing. Mounted steps of that user stop journalling and will not send
 * anything when they unmount. Without a user: everyone's. `journal` defaults to the page's
 * journal (IndexedDB, and localStorage entries of earlier versions), whose images waiting
 * for upload are removed too; a Storage or a JournalStore clears that one only.
 */
export async function clearJournal(userId?: string | number | null, journal?: JournalStore | Storage | null): Promise<void> {
  const store = journal === undefined ? defaultJournal() : isStorage(journal) ? storageJournal(journal) : journal;
  const matching = [...new Set([...active, ...journaling])].filter(
    (controller) => (userId == null || String(controller.userId) === String(userId)) && controller.usesJournal(journal),
  );
  matching.forEach((controller) => controller.discardLocal());
  await Promise.all(matching.map((controller) => controller.journalIdle()));
  if (store) await clearStore(store, userId).catch(() => undefined);
  if (journal === undefined) await clearUploads(userId).catch(() => undefined);
}

/**
 * Keeps one workshop step of one participant in step with the server. Framework-free:
 * `useWorkshopStepData` is a thin React binding over it.
 *
 * Edits go to `data` at once and to the local journal; a debounced save (bounded by maxWaitMs)
 * sends the newest snapshot with the version it is based on. One save is in flight at a time;
 * an answer is applied only if it is not older than what this page already knows; a 409 is
 * merged field by field and sent again; network errors, 5xx, 408 and 429 are retried with
 * exponential backoff and jitter.
 */
export class StepDataController<T extends object> {
  private state: StepDataState<T>;
  private readonly listeners = new Set<() => void>();
  private readonly initial: T;
  private readonly key: string;
  private readonly fetchFn: typeof fetch;
  private readonly journal: JournalStore | null;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly events: PageEvents | null;
  private readonly page: { visibilityState: string } | null;
  private readonly createChannel: ((name: string) => ChannelLike) | null;

  /** The newest server copy this page knows (merged over initialData): the base of merges. */
  private serverData: T | null = null;
  private serverVersion = 0;
  private serverLoaded = false;
  /** Before the load: the server copy the journal's edits started from, if any. */
  private journalBase: { data: T | null; version: number } | null = null;
  /** Before the load: the journal or this page changed something. */
  private localEdits = false;
  /** Fingerprints of snapshots sent and not yet confirmed, oldest first. */
  private unconfirmed: string[] = [];

  /** Reading the journal at the first start; the server copy is adopted only after it. */
  private journalRead: Promise<void> | null = null;
  private journalReady = false;
  /** The journal must be brought up to date with the page (a write or a removal). */
  private journalWanted = false;
  private journalRun: Promise<void> | null = null;
  /** The journal holds what the page would lose (true when there is nothing to keep). */
  private journalHolds = true;
  private journalFailure: string | null = null;
  /** Marks this page's entries, so it can tell them from another tab's. */
  private readonly writerId = Math.random().toString(36).slice(2);

  private everSaved = false;
  private locked = false;
  private lockMessage: string | null = null;
  private lockedSince: string | null = null;
  private rejected: RejectedChange<T> | null = null;
  /** The server answered 401: nothing is sent until resume() (the journal keeps the edits). */
  private signedOut = false;
  private failure: { network: boolean; message: string } | null = null;
  private conflictPending = false;
  private inFlight = false;

  private debounceTimer: ReturnType<typeof setTimeout> | null = null;
  private maxWaitTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryKind: 'load' | 'save' | null = null;
  private retryAttempt = 0;
  private conflictsInRow = 0;
  /** The running save loop; flush() while it runs asks it to go round once more. */
  private loop: Promise<void> | null = null;
  private again = false;
  /** The last snapshot sent and its request id: a retry of the same snapshot reuses the id. */
  private pending: { data: T; requestId: string } | null = null;
  private lastExitSend: { fingerprint: string; baseVersion: number } | null = null;
  private loadSeq = 0;
  private alive = false;
  /** clearJournal() was called for this user: keep nothing on the device, send nothing more. */
  private discarded = false;
  private channel: ChannelLike | null = null;

  /** The user this step belongs to (keys the journal). */
  readonly userId: string | number;

  constructor(
    readonly workshopType: WorkshopType,
    readonly stepId: string,
    initialData: T,
    private readonly options: () => StepDataOptions<T>,
  ) {
    const opts = options();
    this.userId = requireUserId(opts.userId);
    this.initial = clone(initialData);
    this.key = journalKey(this.userId, workshopType, stepId);
    this.fetchFn = opts.fetch ?? ((...args) => fetch(...args));
    this.journal =
      opts.journal !== undefined
        ? opts.journal
        : opts.storage !== undefined
          ? opts.storage && storageJournal(opts.storage)
          : defaultJournal();
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.events = opts.events === undefined ? (typeof window === 'undefined' ? null : window) : opts.events;
    this.page = opts.document === undefined ? (typeof document === 'undefined' ? null : document) : opts.document;
    this.createChannel =
      opts.createChannel === undefined
        ? typeof BroadcastChannel === 'undefined'
          ? null
          : (name) => new BroadcastChannel(name)
        : opts.createChannel;
    this.state = {
      data: clone(this.initial),
      status: 'loading',
      loaded: false,
      saving: false,
      error: null,
      journalError: null,
      version: null,
      lastSavedAt: null,
      hasPendingChanges: false,
      locked: false,
      lockedSince: null,
      rejected: null,
    };
  }

  // ---- store interface -------------------------------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  getSnapshot = (): StepDataState<T> => this.state;

  /** How many retries in a row have been scheduled since the last success. */
  get retryAttempts(): number {
    return this.retryAttempt;
  }

  /** Where this step's journal entry is kept. */
  get journalKey(): string {
    return this.key;
  }

  /** Does clearJournal(…, journal) concern this step? */
  usesJournal(journal: JournalStore | Storage | null | undefined): boolean {
    if (journal === undefined) return this.journal === defaultJournal();
    if (journal === null || this.journal === null) return journal === this.journal;
    return this.journal === journal || (this.journal as { storage?: Storage }).storage === journal;
  }

  /** See clearJournal(): keep nothing more on the device and send nothing more. */
  discardLocal(): void {
    this.discarded = true;
    this.clearTimers();
  }

  /** Resolves when no journal write of this step is running. */
  async journalIdle(): Promise<void> {
    while (this.journalRun) await this.journalRun;
  }

  private setState(patch: Partial<StepDataState<T>> = {}): void {
    const data = patch.data ?? this.state.data;
    const next: StepDataState<T> = {
      data,
      status: this.deriveStatus(data),
      loaded: patch.loaded ?? this.state.loaded,
      saving: this.inFlight,
      error: this.locked ? this.lockMessage : (this.failure?.message ?? null),
      journalError: this.journalFailure,
      version: this.serverLoaded && this.serverVersion > 0 ? this.serverVersion : null,
      lastSavedAt: patch.lastSavedAt !== undefined ? patch.lastSavedAt : this.state.lastSavedAt,
      hasPendingChanges: this.hasPending(data),
      locked: this.locked,
      lockedSince: this.lockedSince,
      rejected: this.rejected,
    };
    const previous = this.state;
    const same = (Object.keys(next) as (keyof StepDataState<T>)[]).every((k) => next[k] === previous[k]);
    if (same) return;
    this.state = next;
    this.listeners.forEach((listener) => listener());
  }

  private hasPending(data: T): boolean {
    return this.serverLoaded ? this.isDirty(data) : this.localEdits || !jsonEqual(data, this.initial);
  }

  private deriveStatus(data: T): SaveStatus {
    if (this.locked) return 'locked';
    const pending = this.hasPending(data);
    // Never "kept on this device" unless a journal write of exactly this data succeeded.
    if (pending && this.journalFailure) return 'not-kept';
    if (this.signedOut) return 'signed-out';
    const offline = !pending || this.journalHolds ? 'offline' : 'dirty';
    if (!this.serverLoaded) return this.failure ? (this.failure.network ? offline : 'error') : 'loading';
    if (this.failure && (this.failure.network || !this.inFlight)) return this.failure.network ? offline : 'error';
    if (this.conflictPending) return 'conflict';
    if (this.inFlight) return 'saving';
    if (this.isDirty(data)) return 'dirty';
    return this.everSaved ? 'saved' : 'idle';
  }

  /** Call an application callback; its failure must not break saving. */
  private callback<A>(fn: ((arg: A) => void) | undefined, arg: A): void {
    if (!fn) return;
    try {
      fn(arg);
    } catch (error) {
      if (typeof reportError === 'function') reportError(error);
      else console.error(error);
    }
  }

  private get opts(): StepDataOptions<T> {
    return this.options();
  }

  private get autoSave(): boolean {
    return this.opts.enableAutoSave !== false;
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /** Begin: load the server copy, listen to the page and to the user's other tabs. */
  start(): void {
    if (this.alive) return;
    this.alive = true;
    active.add(this as unknown as StepDataController<object>);
    this.events?.addEventListener('online', this.onOnline);
    this.events?.addEventListener('pagehide', this.onPageHide);
    this.events?.addEventListener('visibilitychange', this.onVisibilityChange);
    if (this.journal?.kind === 'indexeddb') requestPersistentStorage();
    this.journalRead ??= this.readJournalAtMount();
    const userId = this.opts.userId;
    if (this.createChannel && userId != null) {
      try {
        this.channel = this.createChannel(`workshop-data:${userId}`);
        this.channel.onmessage = (event) => this.onBroadcast(event.data);
      } catch {
        this.channel = null;
      }
    }
    void this.load();
  }

  /** Stop: send what is unsaved (keepalive, so it outlives the page); the journal keeps it too. */
  dispose(): void {
    if (!this.alive) return;
    this.flushOnExit();
    this.alive = false;
    active.delete(this as unknown as StepDataController<object>);
    this.loadSeq += 1;
    this.clearTimers();
    this.events?.removeEventListener('online', this.onOnline);
    this.events?.removeEventListener('pagehide', this.onPageHide);
    this.events?.removeEventListener('visibilitychange', this.onVisibilityChange);
    this.channel?.close();
    this.channel = null;
  }

  // ---- public actions ----------------------------------------------------------------------

  /** Change some fields (ignored once the workshop is locked). */
  updateData = (patch: Partial<T> | ((current: T) => Partial<T>)): void => {
    const changes = typeof patch === 'function' ? patch(this.state.data) : patch;
    this.change({ ...this.state.data, ...changes });
  };

  /** Replace the whole document (ignored once the workshop is locked). */
  setData = (next: T | ((current: T) => T)): void => {
    this.change(typeof next === 'function' ? (next as (current: T) => T)(this.state.data) : next);
  };

  /** Save the newest data now, without waiting for the debounce (or a pending retry).
   * Resolves when the server has answered; nothing is sent before the load succeeded. */
  saveNow = async (): Promise<void> => {
    if (this.retryKind === 'save') this.clearRetry();
    await this.flush();
  };

  /** Load the server copy again; unsaved local edits are merged over it (three-way). */
  reload = async (): Promise<void> => {
    if (this.retryKind === 'load') this.clearRetry();
    await this.load();
  };

  /** See resumeAfterSignIn(): after a 401, load (if the load was refused) or send what is
   * pending. Does nothing unless the server had answered 401. */
  resume = async (): Promise<void> => {
    if (!this.signedOut || !this.alive) return;
    this.signedOut = false;
    this.failure = null;
    this.retryAttempt = 0;
    this.setState();
    await (this.serverLoaded ? this.flush() : this.load());
  };

  // ---- loading -----------------------------------------------------------------------------

  private async load(): Promise<void> {
    if (!this.alive) return;
    const seq = ++this.loadSeq;
    let body: LoadResponse;
    try {
      body = (await this.request(
        'GET',
        `/api/workshop-data/step/${encodeURIComponent(this.workshopType)}/${encodeURIComponent(this.stepId)}`,
      )) as LoadResponse;
    } catch (error) {
      if (seq !== this.loadSeq || !this.alive) return;
      // Never save over a server copy this page has not seen: edits go to the journal only.
      this.signedOut = error instanceof HttpError && error.status === 401;
      this.failure = { network: !(error instanceof HttpError), message: `Could not load your saved work: ${describe(error)}` };
      this.setState();
      if (isRetryable(error)) this.scheduleRetry('load', error);
      return;
    }
    // Edits the journal kept from an earlier visit, and their base, must be known first.
    await this.journalRead;
    if (seq !== this.loadSeq || !this.alive) return;
    this.retryAttempt = 0;
    this.failure = null;
    const version = typeof body.version === 'number' ? body.version : 0;
    if (this.serverLoaded && version < this.serverVersion) {
      this.setState(); // older than a copy this page already has
      return;
    }
    this.adoptServer(body.data, version);
    this.setState({ loaded: true, lastSavedAt: body.updatedAt ?? null });
    if (body.locked === true) {
      // Read-only before anyone types; edits the journal kept can no longer be saved.
      this.lock(LOCKED, typeof body.lockedSince === 'string' ? body.lockedSince : null);
      return;
    }
    if (this.isDirty(this.state.data) && this.autoSave) void this.flush();
  }

  /**
   * The workshop is completed: read-only from now on. What the server has not got can never be
   * saved, so it is taken off the screen (the server copy is shown) and off the device (the
   * journal entry is removed, so it is not replayed and refused on every visit); the app gets
   * it as `rejected`, to show and let the participant copy.
   */
  private lock(message: string, lockedSince: string | null): void {
    const server = this.serverData ?? this.initial;
    const refused = this.isDirty(this.state.data) ? clone(this.state.data) : null;
    this.locked = true;
    this.lockMessage = message;
    this.lockedSince = lockedSince;
    this.failure = null;
    this.conflictPending = false;
    this.pending = null;
    this.unconfirmed = [];
    this.localEdits = false;
    this.clearTimers();
    if (refused) this.rejected = { data: refused, fields: changedFields(server, refused), message, lockedSince };
    this.setState({ data: clone(server) });
    this.syncJournal();
  }

  /**
   * Take `raw` (version `version`) as the newest server copy and merge this page's edits over it:
   * fields only this page changed keep its value, fields only the server copy changed take
   * theirs, fields both changed keep this page's (reported). A copy this page sent itself is
   * not someone else's change: its edits simply stay.
   */
  private adoptServer(raw: object | null | undefined, version: number): void {
    const theirs = this.complete(raw);
    const base = this.serverLoaded && this.serverData ? this.serverData : (this.journalBase?.data ?? this.initial);
    const mine = this.state.data;
    const own = this.takeOwn(theirs);
    const { merged, conflicts } = own ? { merged: mine, conflicts: [] as string[] } : threeWayMerge(base, mine, theirs);
    this.serverData = theirs;
    this.serverVersion = version;
    this.serverLoaded = true;
    this.journalBase = null;
    if (!this.isDirty(merged)) this.conflictPending = false;
    else if (conflicts.length) this.conflictPending = true;
    this.setState({ data: merged });
    this.syncJournal();
    if (conflicts.length) {
      this.callback(this.opts.onConflict, {
        fields: conflicts,
        mine: clone(mine),
        theirs: clone(theirs),
        merged: clone(merged),
      });
    }
  }

  // ---- changes and scheduling --------------------------------------------------------------

  private change(next: T): void {
    if (this.locked) return;
    const data = clone(next);
    if (!this.serverLoaded) {
      this.localEdits = true;
      this.setState({ data });
      this.syncJournal();
      return;
    }
    if (this.isDirty(data)) {
      // While a retry is pending it sends the newest snapshot; typing does not hurry it.
      if (this.autoSave && this.alive && !this.retryTimer) this.schedule();
    } else {
      // Back to the server copy (an edit undone): nothing to save, nothing to replay.
      this.clearSaveTimers();
    }
    this.setState({ data });
    this.syncJournal();
  }

  private schedule(): void {
    const debounceMs = this.opts.debounceMs ?? 1000;
    const maxWaitMs = this.opts.maxWaitMs ?? 10000;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      void this.flush();
    }, debounceMs);
    // The first unsaved change starts the maxWait clock; further typing does not move it.
    if (!this.maxWaitTimer) {
      this.maxWaitTimer = setTimeout(() => {
        this.maxWaitTimer = null;
        void this.flush();
      }, maxWaitMs);
    }
  }

  private clearSaveTimers(): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    if (this.maxWaitTimer) clearTimeout(this.maxWaitTimer);
    this.debounceTimer = null;
    this.maxWaitTimer = null;
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryKind = null;
  }

  private clearTimers(): void {
    this.clearSaveTimers();
    this.clearRetry();
  }

  private isDirty(data: T): boolean {
    return !jsonEqual(data, this.serverData ?? this.initial);
  }

  /** A server document with initialData's defaults for the fields it lacks. */
  private complete(raw: object | null | undefined): T {
    const fields = raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {};
    return clone({ ...this.initial, ...fields } as T);
  }

  // ---- the journal -------------------------------------------------------------------------

  /** At the first start: take what the journal kept (data, base, sent snapshots). Edits made
   * before it answered are merged over it (they are newer). */
  private async readJournalAtMount(): Promise<void> {
    let entry: JournalEntry<T> | null = null;
    // A step of this page that just unmounted (a quick step change) may still be writing it.
    const writers = [...journaling].filter((other) => other !== (this as unknown) && other.journalKey === this.key);
    await Promise.all(writers.map((other) => other.journalIdle()));
    try {
      entry = this.journal ? await this.journal.get<T>(this.key) : null;
    } catch {
      entry = null; // unreadable: nothing to replay
    }
    if (entry && !this.discarded) {
      this.journalBase = {
        data: entry.base ? this.complete(entry.base) : null,
        version: typeof entry.baseVersion === 'number' ? entry.baseVersion : 0,
      };
      const sent = Array.isArray(entry.sent) ? entry.sent : [];
      this.unconfirmed = [...sent, ...this.unconfirmed].slice(-MAX_UNCONFIRMED);
      const kept = this.complete(entry.data);
      const data = this.localEdits ? threeWayMerge(this.initial, this.state.data, kept).merged : kept;
      this.localEdits = true;
      this.setState({ data });
    }
    this.journalReady = true;
    if (this.localEdits) this.syncJournal();
  }

  /** What the journal must hold now: the page's data, or nothing when the server has it. */
  private needsKeeping(): boolean {
    return this.serverLoaded ? this.isDirty(this.state.data) : this.localEdits;
  }

  /** Bring the journal up to date with the page. Writes never overlap and always carry the
   * newest state, so fast typing coalesces; each outcome sets journalHolds/journalError. */
  private syncJournal(): void {
    if (this.discarded) return;
    this.journalWanted = true;
    if (this.needsKeeping()) this.journalHolds = false;
    if (!this.journalReady || this.journalRun) return;
    const run = this.runJournal().finally(() => {
      this.journalRun = null;
      journaling.delete(this as unknown as StepDataController<object>);
    });
    this.journalRun = run;
    journaling.add(this as unknown as StepDataController<object>);
  }

  private async runJournal(): Promise<void> {
    while (this.journalWanted && !this.discarded) {
      await Promise.resolve(); // let the caller finish its change first
      this.journalWanted = false;
      let failure: string | null = null;
      if (this.needsKeeping()) {
        failure = await this.writeEntry();
      } else if (this.journal) {
        await this.removeEntry().catch(() => undefined);
      }
      if (this.discarded) return;
      this.journalFailure = failure;
      if (!this.journalWanted) this.journalHolds = failure === null;
      this.setState();
    }
  }

  /** Write the page's data; the failure's message, or null. A stale entry must never
   * outlive a failed write, or it would later be replayed over newer work: it is removed. */
  private async writeEntry(): Promise<string | null> {
    if (!this.journal) return NOT_KEPT;
    const entry: JournalEntry<T> & { writer: string } = {
      data: this.state.data,
      base: this.serverLoaded ? this.serverData : (this.journalBase?.data ?? null),
      baseVersion: this.serverLoaded ? this.serverVersion : (this.journalBase?.version ?? 0),
      changedAt: this.now(),
      writer: this.writerId,
      ...(this.unconfirmed.length ? { sent: [...this.unconfirmed] } : {}),
    };
    try {
      await this.journal.set(this.key, entry);
      return null;
    } catch (error) {
      await this.journal.delete(this.key).catch(() => undefined);
      return describeStorageError(error);
    }
  }

  /** Nothing to keep: remove this page's entry, or any entry that holds what the server has
   * (another tab's newer entry stays). */
  private async removeEntry(): Promise<void> {
    const journal = this.journal;
    if (!journal) return;
    const entry = await journal.get<T>(this.key);
    if (!entry) return;
    const mine = (entry as { writer?: string }).writer === this.writerId;
    if (mine || jsonEqual({ ...this.initial, ...entry.data }, this.state.data)) await journal.delete(this.key);
  }

  /** Note a snapshot as sent (so finding it on the server later is recognised as our own). */
  private markSent(snapshot: T): void {
    const print = fingerprint(snapshot);
    this.unconfirmed = [...this.unconfirmed.filter((p) => p !== print), print].slice(-MAX_UNCONFIRMED);
    this.syncJournal();
  }

  /** Is `data` a snapshot this page (or this device, before a reload) sent? Forget it and
   * everything sent before it. */
  private takeOwn(data: T): boolean {
    const index = this.unconfirmed.indexOf(fingerprint(data));
    if (index < 0) return false;
    this.unconfirmed = this.unconfirmed.slice(index + 1);
    return true;
  }

  private requestIdFor(snapshot: T): string {
    if (this.pending && jsonEqual(this.pending.data, snapshot)) return this.pending.requestId;
    const requestId = this.newRequestId();
    this.pending = { data: snapshot, requestId };
    return requestId;
  }

  private newRequestId(): string {
    if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const part = () => Math.floor(this.random() * 2 ** 32).toString(16).padStart(8, '0');
    return `${this.now().toString(16)}-${part()}-${part()}-${part()}`;
  }

  // ---- saving ------------------------------------------------------------------------------

  /** Save the newest snapshot unless the server has it. While a save is in flight, ask the
   * running loop to go round once more (the newest snapshot wins); resolves when it is done. */
  private flush(): Promise<void> {
    this.clearSaveTimers();
    if (!this.serverLoaded || this.locked || this.signedOut || !this.alive || this.discarded) return Promise.resolve();
    if (this.loop) {
      this.again = true;
      return this.loop;
    }
    const loop = this.runLoop().finally(() => {
      if (this.loop === loop) this.loop = null;
    });
    this.loop = loop;
    return loop;
  }

  private async runLoop(): Promise<void> {
    for (;;) {
      this.again = false;
      if (!this.alive || this.locked || this.signedOut || !this.serverLoaded || this.discarded) return;
      const snapshot = clone(this.state.data);
      if (!this.isDirty(snapshot)) {
        this.setState();
        return;
      }
      if (this.retryKind === 'save') this.clearRetry();
      const outcome = await this.send(snapshot);
      if (outcome === 'stop') return;
      if (outcome === 'done' && !this.again) break;
    }
    // Edits whose timers fired during the save were sent above; edits still waiting have
    // their own timers; anything else still unsaved (a merge from another tab) gets one.
    if (this.alive && this.autoSave && this.isDirty(this.state.data) && !this.debounceTimer && !this.retryTimer) {
      this.schedule();
    }
  }

  private async send(snapshot: T): Promise<SendOutcome> {
    const requestId = this.requestIdFor(snapshot);
    const baseVersion = this.serverVersion;
    this.markSent(snapshot);
    this.inFlight = true;
    this.setState();
    let record: StepRecord<T> | null = null;
    let failure: unknown = null;
    try {
      const save = this.saveRequest(snapshot, baseVersion, requestId);
      const body = (await this.request(save.method, save.path, { raw: save.body, headers: save.headers })) as SaveResponse<T> | null;
      record = validRecord(body);
      if (!record) failure = new HttpError('The server sent an unexpected answer.', 200, null);
    } catch (error) {
      failure = error;
    }
    this.inFlight = false;
    if (!this.alive) {
      if (record) this.forgetConfirmed(record);
      return 'stop';
    }
    if (record) {
      this.failure = null;
      this.retryAttempt = 0;
      this.conflictsInRow = 0;
      this.applyConfirmed(record);
      this.callback(this.opts.onSaveSuccess, record);
      return 'done';
    }
    return this.onSaveFailed(failure, baseVersion);
  }

  /**
   * The request that saves `snapshot` on `baseVersion`: a merge patch (PATCH) of what changed
   * since that version when the page has it and the change can be written as one, so its size
   * does not depend on the document's; else the whole document (POST).
   */
  saveRequest(snapshot: T, baseVersion: number, requestId: string): SaveRequest {
    const partial = this.opts.partialSaves !== false && baseVersion > 0 && this.serverData;
    const patch = partial ? createMergePatch(this.serverData!, snapshot) : null;
    if (patch) {
      return {
        method: 'PATCH',
        path: `/api/workshop-data/step/${encodeURIComponent(this.workshopType)}/${encodeURIComponent(this.stepId)}`,
        body: JSON.stringify(patch),
        headers: { 'Content-Type': 'application/merge-patch+json', 'If-Match': `"${baseVersion}"`, 'Idempotency-Key': requestId },
      };
    }
    return {
      method: 'POST',
      path: '/api/workshop-data/step',
      body: JSON.stringify({ workshopType: this.workshopType, stepId: this.stepId, data: snapshot, baseVersion, requestId }),
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': requestId },
    };
  }

  /** The server stored `record`. Applied only if it is not older than what this page knows
   * (answers can arrive late and out of order). */
  private applyConfirmed(record: StepRecord<T>): void {
    if (record.version < this.serverVersion) {
      this.setState();
      return;
    }
    const confirmed = this.complete(record.data);
    this.takeOwn(confirmed);
    this.serverData = confirmed;
    this.serverVersion = record.version;
    this.everSaved = true;
    this.conflictPending = false;
    if (this.pending && jsonEqual(this.pending.data, confirmed)) this.pending = null;
    const message: BroadcastMessage = {
      workshopType: this.workshopType,
      stepId: this.stepId,
      data: record.data as Record<string, unknown>,
      version: record.version,
    };
    try {
      this.channel?.postMessage(message);
    } catch {
      // A closed channel: the other tabs will see the change on their next save or load.
    }
    this.setState({ lastSavedAt: record.updatedAt ?? this.state.lastSavedAt });
    this.syncJournal(); // on the new base, or removed
  }

  /** A page that is gone learned its save was stored: the journal need not replay it. */
  private forgetConfirmed(record: StepRecord<T>): void {
    if (!this.journal || this.discarded) return;
    void this.journalIdle()
      .then(() => (this.journal ? removeJournalIfHolds(this.journal, this.key, this.complete(record.data), this.initial) : undefined))
      .catch(() => undefined);
  }

  private onSaveFailed(error: unknown, baseVersion: number): SendOutcome {
    if (error instanceof HttpError && error.status === 409 && error.body?.code === 'version_conflict') {
      // This page learned a newer version while the request was out: just send on that.
      if (baseVersion !== this.serverVersion) return 'again';
      const current = (error.body.current ?? {}) as { data?: Record<string, unknown> | null; version?: number | null };
      this.adoptServer(current.data ?? null, typeof current.version === 'number' ? current.version : 0);
      this.conflictsInRow += 1;
      if (this.conflictsInRow <= (this.opts.maxConflictRetries ?? 5)) return 'again';
      // Someone keeps writing: back off like any other failure instead of racing.
      this.failure = { network: false, message: 'This step keeps changing elsewhere; trying again shortly.' };
      this.setState();
      this.scheduleRetry('save', error);
      return 'stop';
    }
    if (error instanceof HttpError && error.status === 423) {
      const since = error.body?.lockedSince;
      this.lock(error.message, typeof since === 'string' ? since : null);
      this.callback(this.opts.onSaveError, error);
      return 'stop';
    }
    if (error instanceof HttpError && error.status === 401) {
      // Signed out (expired, or ended elsewhere): wait for resume(); the journal keeps the edits.
      this.signedOut = true;
      this.failure = { network: false, message: describe(error) };
      this.clearTimers();
      this.setState();
      this.callback(this.opts.onSaveError, error);
      return 'stop';
    }
    const asError = error instanceof Error ? error : new Error(String(error));
    this.failure = { network: !(error instanceof HttpError), message: describe(error) };
    this.setState();
    this.callback(this.opts.onSaveError, asError);
    if (isRetryable(error)) this.scheduleRetry('save', error);
    return 'stop';
  }

  /** Exponential backoff with jitter: between half and all of base·2^attempt (at most
   * retryMaxMs), or the server's Retry-After if that is longer. */
  retryDelay(attempt: number, error: unknown): number {
    const base = this.opts.retryBaseMs ?? 1000;
    const max = this.opts.retryMaxMs ?? 30000;
    const exponential = Math.min(max, base * 2 ** attempt);
    const delay = exponential / 2 + (this.random() * exponential) / 2;
    const retryAfter = error instanceof HttpError ? error.retryAfterMs : null;
    return retryAfter === null ? delay : Math.max(delay, retryAfter);
  }

  private scheduleRetry(kind: 'load' | 'save', error: unknown): void {
    if (this.retryTimer || !this.alive) return;
    const delay = this.retryDelay(this.retryAttempt, error);
    this.retryAttempt += 1;
    this.retryKind = kind;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retryKind = null;
      void (kind === 'load' ? this.load() : this.flush());
    }, delay);
  }

  // ---- page events -------------------------------------------------------------------------

  private onOnline = (): void => {
    if (!this.alive) return;
    const kind = this.retryKind;
    this.clearRetry();
    this.retryAttempt = 0;
    if (!this.serverLoaded || kind === 'load') void this.load();
    else void this.flush();
  };

  private onPageHide = (): void => {
    this.flushOnExit();
  };

  private onVisibilityChange = (): void => {
    if (this.page?.visibilityState === 'hidden') this.flushOnExit();
  };

  /**
   * The page may be gone before a normal request completes: send what is unsaved now with
   * keepalive, if it fits the browser's keepalive budget (the journal keeps it either way).
   * Its answer is applied like any other if the page lives on; the normal timers stay, so a
   * lost keepalive is followed by a normal save (same request id: the server recognises it).
   */
  private flushOnExit(): void {
    if (!this.serverLoaded || this.locked || this.signedOut || !this.autoSave || this.discarded) return;
    const snapshot = clone(this.state.data);
    if (!this.isDirty(snapshot)) return;
    const print = fingerprint(snapshot);
    if (this.lastExitSend?.fingerprint === print && this.lastExitSend.baseVersion === this.serverVersion) return;
    const requestId = this.requestIdFor(snapshot);
    const save = this.saveRequest(snapshot, this.serverVersion, requestId);
    // Too big for keepalive (the change itself is over the limit): the journal keeps it and
    // the next save (if the page lives on) or the next visit sends it.
    if (byteLength(save.body) > KEEPALIVE_LIMIT_BYTES) return;
    this.markSent(snapshot);
    this.lastExitSend = { fingerprint: print, baseVersion: this.serverVersion };
    let sent: Promise<Response>;
    try {
      sent = this.fetchFn(`${this.opts.baseUrl ?? ''}${save.path}`, {
        method: save.method,
        keepalive: true,
        credentials: 'same-origin',
        headers: { Accept: 'application/json', ...save.headers },
        body: save.body,
      });
    } catch {
      return;
    }
    sent
      .then(async (response) => {
        if (!response.ok) return;
        const record = validRecord((await response.json()) as SaveResponse<T>);
        if (!record) return;
        if (this.alive) {
          this.applyConfirmed(record);
          this.callback(this.opts.onSaveSuccess, record);
        } else {
          this.forgetConfirmed(record);
        }
      })
      .catch(() => undefined);
  }

  private onBroadcast(raw: unknown): void {
    if (!raw || typeof raw !== 'object') return;
    const message = raw as Partial<BroadcastMessage>;
    if (message.workshopType !== this.workshopType || message.stepId !== this.stepId) return;
    if (typeof message.version !== 'number' || !message.data || typeof message.data !== 'object') return;
    if (!this.serverLoaded || this.locked || message.version <= this.serverVersion) return;
    this.everSaved = true;
    this.adoptServer(message.data, message.version);
    if (this.isDirty(this.state.data) && this.autoSave && !this.loop && !this.retryTimer && !this.debounceTimer) {
      this.schedule();
    }
  }

  // ---- HTTP --------------------------------------------------------------------------------

  private async request(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    extra: { raw?: string; headers?: Record<string, string> } = {},
  ): Promise<unknown> {
    const response = await this.fetchFn(`${this.opts.baseUrl ?? ''}${path}`, {
      method,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', ...extra.headers },
      body: extra.raw,
    });
    let body: Record<string, unknown> | null = null;
    try {
      body = (await response.json()) as Record<string, unknown>;
    } catch {
      body = null;
    }
    if (!response.ok) {
      const message = typeof body?.error === 'string' ? body.error : `The server answered ${response.status}.`;
      const retryAfter = parseRetryAfter(response.headers?.get?.('Retry-After'), this.now());
      throw new HttpError(message, response.status, body, retryAfter);
    }
    if (body === null || typeof body !== 'object') {
      throw new HttpError('The server sent an unexpected answer.', response.status, null);
    }
    return body;
  }
}

function validRecord<T extends object>(body: SaveResponse<T> | null | undefined): StepRecord<T> | null {
  const record = body?.data;
  if (!record || typeof record !== 'object' || typeof record.version !== 'number') return null;
  if (!record.data || typeof record.data !== 'object') return null;
  return record;
}
