/**
 * What one step knows (the server copy, the page's edits, the sends and their failures) and
 * the snapshot it shows from that; StepDataController, the state machine, moves it.
 */
import { DeviceCopies } from './deviceCopies.js';
import { journalKey, type JournalStore } from './journal.js';
import { mergeDocuments } from './documentMerge.js';
import { jsonEqual } from './merge.js';
import { pageOf } from './pageAdapters.js';
import type { RegisteredStep } from './registry.js';
import { buildSaveRequest, SentSnapshots, type SaveRequest } from './saveRequest.js';
import { SaveTimers } from './saveTimers.js';
import { migrateStepData } from './schemaVersion.js';
import { journalStoreOf, StepJournal, type PageCopy } from './stepJournal.js';
import { requestJson, retryDelayMs, RetryTimer } from './transport.js';
import type { RejectedChange, SaveStatus, StepDataOptions, StepDataState, StepRecord, WorkshopType } from './types.js';
import { requireUserId } from './userId.js';

/**
 * A copy of a JSON document as `JSON.parse(JSON.stringify(value))` makes it (undefined and
 * functions dropped, or null in arrays; non-finite numbers null; `toJSON` used), without
 * serialising it: objects and arrays are new, strings are shared (they cannot change), so a
 * keystroke in a field of megabytes costs the document's structure, not its text.
 */
export function clone<T>(value: T): T {
  return jsonCopy(value) as T;
}

function jsonCopy(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) value = value.valueOf();
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value + 0 : null; // -0 + 0 is 0, as JSON writes it
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object':
      break;
    default:
      return undefined; // undefined, functions, symbols
  }
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((item) => jsonCopy(item) ?? null);
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const copied = jsonCopy(item);
    if (copied === undefined) continue;
    // An own "__proto__" key (JSON.parse makes one) must stay a key, not become the prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: copied, enumerable: true, writable: true, configurable: true });
    else copy[key] = copied;
  }
  return copy;
}

/** A step's state and the snapshot derived from it (what `useSyncExternalStore` reads); the
 * transitions are StepDataController's. */
export abstract class StepStore<T extends object> implements RegisteredStep {
  protected state: StepDataState<T>;
  protected readonly listeners = new Set<() => void>();
  protected readonly initial: T;
  protected readonly key: string;
  protected readonly fetchFn: typeof fetch;
  protected readonly random: () => number;
  protected readonly now: () => number;
  protected readonly page: ReturnType<typeof pageOf>;
  protected readonly journal: StepJournal<T>;
  protected readonly sent: SentSnapshots<T>;
  protected readonly retry = new RetryTimer();
  /** This page's own texts a merge replaced, on their way to the step's history. */
  protected readonly copies: DeviceCopies<T>;

  /** The newest server copy this page knows (merged over initialData): the base of merges. */
  protected serverData: T | null = null;
  protected serverVersion = 0;
  protected serverLoaded = false;
  /** The server's copy is in an older schema version than this page writes (migrated on
   * load): it is saved back once, in this page's version, even if nobody types. */
  protected serverOutdated = false;
  /** Before the load: the server copy the journal's edits started from, if any. */
  protected journalBase: { data: T | null; version: number } | null = null;
  /** Before the load: the journal or this page changed something. */
  protected localEdits = false;

  protected everSaved = false;
  protected locked = false;
  protected lockMessage: string | null = null;
  protected lockedSince: string | null = null;
  protected rejected: RejectedChange<T> | null = null;
  /** The server answered 401: nothing is sent until resume() (the journal keeps the edits). */
  protected signedOut = false;
  protected failure: { network: boolean; message: string } | null = null;
  protected conflictPending = false;
  protected inFlight = false;

  protected readonly saveTimers = new SaveTimers();

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
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.page = pageOf(opts);
    this.sent = new SentSnapshots<T>(this.random, this.now);
    this.journal = new StepJournal<T>(journalStoreOf(opts), this.key, this, this.initial, this.now, {
      copy: () => this.journalCopy(),
      changed: () => this.setState(),
    });
    this.copies = new DeviceCopies<T>(workshopType, stepId, {
      fetchFn: this.fetchFn,
      url: (path) => this.url(path),
      now: this.now,
      canSend: () => this.canSendCopies(),
      retryDelay: (attempt, error) => this.retryDelay(attempt, error),
      changed: () => this.journal.sync(),
    });
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

  /** Where this step's journal entry is kept. */
  get journalKey(): string {
    return this.key;
  }

  /** Does clearJournal(…, journal) concern this step? */
  usesJournal(journal: JournalStore | Storage | null | undefined): boolean {
    return this.journal.uses(journal);
  }

  /** See clearJournal(): keep nothing more on the device and send nothing more. */
  discardLocal(): void {
    this.journal.discarded = true;
    this.journal.flush(); // a write waiting for its turn ends at once, writing nothing
    this.clearTimers();
  }

  /** Resolves when no journal write of this step is running. */
  journalIdle(): Promise<void> {
    return this.journal.idle();
  }

  protected setState(patch: Partial<StepDataState<T>> = {}): void {
    const data = patch.data ?? this.state.data;
    const next: StepDataState<T> = {
      data,
      status: this.deriveStatus(data),
      loaded: patch.loaded ?? this.state.loaded,
      saving: this.inFlight,
      error: this.locked ? this.lockMessage : (this.failure?.message ?? null),
      journalError: this.journal.failure,
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

  protected hasPending(data: T): boolean {
    return this.serverLoaded ? this.isDirty(data) : this.localEdits || !jsonEqual(data, this.initial);
  }

  protected deriveStatus(data: T): SaveStatus {
    if (this.locked) return 'locked';
    const pending = this.hasPending(data);
    // Never "kept on this device" unless a journal write of exactly this data succeeded.
    if (pending && this.journal.failure) return 'not-kept';
    if (this.signedOut) return 'signed-out';
    const offline = !pending || this.journal.holds ? 'offline' : 'dirty';
    if (!this.serverLoaded) return this.failure ? (this.failure.network ? offline : 'error') : 'loading';
    if (this.failure && (this.failure.network || !this.inFlight)) return this.failure.network ? offline : 'error';
    if (this.conflictPending) return 'conflict';
    if (this.inFlight) return 'saving';
    if (this.isDirty(data)) return 'dirty';
    return this.everSaved ? 'saved' : 'idle';
  }

  /** Call an application callback; its failure must not break saving. */
  protected callback<A>(fn: ((arg: A) => void) | undefined, arg: A): void {
    if (!fn) return;
    try {
      fn(arg);
    } catch (error) {
      if (typeof reportError === 'function') reportError(error);
      else console.error(error);
    }
  }

  protected get opts(): StepDataOptions<T> {
    return this.options();
  }

  protected get autoSave(): boolean {
    return this.opts.enableAutoSave !== false;
  }

  protected clearTimers(): void {
    this.saveTimers.clear();
    this.retry.cancel();
  }

  /** May device copies be sent now? */
  protected canSendCopies(): boolean {
    return this.serverLoaded && !this.locked && !this.signedOut && !this.journal.discarded;
  }

  protected isDirty(data: T): boolean {
    return this.serverOutdated || !jsonEqual(data, this.serverData ?? this.initial);
  }

  /** A server document with initialData's defaults for the fields it lacks. */
  protected complete(raw: object | null | undefined): T {
    const fields = raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {};
    return clone({ ...this.initial, ...fields } as T);
  }

  /** A document written in schema version `writtenIn` (null: none declared; undefined: not
   * known, taken as current), as this page's version expects it, completed with initialData;
   * `migrated` when migrate() had to bring it up to date. Nothing stored, nothing to migrate. */
  protected upToDate(raw: object | null | undefined, writtenIn: number | null | undefined): { data: T; migrated: boolean } {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw) || writtenIn === undefined) return { data: this.complete(raw), migrated: false };
    const { schemaVersion, migrate, onSaveError } = this.opts;
    const result = migrateStepData(raw as Record<string, unknown>, writtenIn, schemaVersion, migrate, (error) => this.callback(onSaveError, error));
    return { data: this.complete(result.data), migrated: result.migrated };
  }

  /** At the first start: take what the journal kept (data, base, sent snapshots). Edits made
   * before it answered are merged over it (they are newer). */
  protected async readJournalAtMount(): Promise<void> {
    const entry = await this.journal.readKept();
    if (entry && !this.journal.discarded) {
      // Written by this step's code of its day: migrated like a server copy of that version.
      const writtenIn = typeof entry.schemaVersion === 'number' ? entry.schemaVersion : null;
      this.journalBase = {
        data: entry.base ? this.upToDate(entry.base, writtenIn).data : null,
        version: typeof entry.baseVersion === 'number' ? entry.baseVersion : 0,
      };
      this.sent.restore(Array.isArray(entry.sent) ? entry.sent : []);
      if (Array.isArray(entry.deviceCopies)) this.copies.restore(entry.deviceCopies);
      const kept = this.upToDate(entry.data, writtenIn).data;
      const data = this.localEdits ? mergeDocuments(this.initial, this.state.data, kept).merged : kept;
      this.localEdits = true;
      this.setState({ data });
    }
    this.journal.open();
    if (this.localEdits) this.journal.sync();
  }

  /** What the journal must hold now: the page's data (and its base), or nothing when the
   * server has it. */
  protected journalCopy(): PageCopy<T> {
    return {
      keep: (this.serverLoaded ? this.isDirty(this.state.data) : this.localEdits) || this.copies.pending.length > 0,
      data: this.state.data,
      base: this.serverLoaded ? this.serverData : (this.journalBase?.data ?? null),
      baseVersion: this.serverLoaded ? this.serverVersion : (this.journalBase?.version ?? 0),
      sent: this.sent.fingerprints,
      schemaVersion: this.opts.schemaVersion ?? null,
      deviceCopies: this.copies.pending,
    };
  }

  /** Note a snapshot as sent (so finding it on the server later is recognised as our own). */
  protected markSent(snapshot: T): void {
    this.sent.mark(snapshot);
    this.journal.sync();
  }

  /** The one request both sends make: `snapshot` on the server copy this page has now (a
   * retry of the same snapshot keeps its request id). */
  protected requestFor(snapshot: T): { request: SaveRequest; baseVersion: number } {
    const baseVersion = this.serverVersion;
    return { request: this.saveRequest(snapshot, baseVersion, this.sent.requestIdFor(snapshot)), baseVersion };
  }

  /**
   * The request that saves `snapshot` on `baseVersion`: a merge patch (PATCH) of what changed
   * since that version when the page has it and the change can be written as one, so its size
   * does not depend on the document's; else the whole document (POST).
   */
  saveRequest(snapshot: T, baseVersion: number, requestId: string): SaveRequest {
    // A server copy in an older schema version is replaced whole: a patch would apply to it.
    const partial = this.opts.partialSaves !== false && baseVersion > 0 && this.serverData !== null && !this.serverOutdated;
    return buildSaveRequest(this, snapshot, baseVersion, requestId, partial ? this.serverData : null, this.opts.schemaVersion);
  }

  protected transmit(request: SaveRequest, keepalive: boolean): Promise<Record<string, unknown>> {
    const { method, body, headers } = request;
    return requestJson(this.fetchFn, this.url(request.path), { method, body, headers, keepalive }, this.now);
  }

  protected url(path: string): string {
    return `${this.opts.baseUrl ?? ''}${path}`;
  }

  /** Exponential backoff with jitter: between half and all of base·2^attempt (at most
   * retryMaxMs), or the server's Retry-After if that is longer. */
  retryDelay(attempt: number, error: unknown): number {
    return retryDelayMs(attempt, error, this.opts, this.random);
  }

  // What the registry calls (saveAllNow, resumeAfterSignIn): transitions, so the controller's.
  abstract saveNow: () => Promise<void>;
  abstract resume: () => Promise<void>;
}
