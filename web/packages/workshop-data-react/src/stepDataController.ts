import { journalKey } from './journal.js';
import { fingerprint, jsonEqual, threeWayMerge } from './merge.js';
import { fitsKeepalive, listenToPage, pageOf, readBroadcast, TabChannel, type BroadcastMessage } from './pageAdapters.js';
import { stepMounted } from './registry.js';
import { buildSaveRequest, SentSnapshots, stepPath, storedRecord, type SaveRequest } from './saveRequest.js';
import { journalStoreOf, StepJournal, type PageCopy } from './stepJournal.js';
import { describeFailure, HttpError, isRetryable, requestJson, retryDelayMs, RetryTimer, type RetryKind } from './transport.js';
import { requireUserId } from './userId.js';
import type { JournalStore } from './journal.js';
import type { RejectedChange, SaveStatus, StepDataOptions, StepDataState, StepRecord, WorkshopType } from './types.js';

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

const LOCKED = 'The workshop is completed, so this step can no longer be changed.';

/** Top-level fields in which `data` differs from `base`. */
function changedFields<T extends object>(base: T, data: T): (keyof T & string)[] {
  const before = base as Record<string, unknown>;
  const after = data as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.filter((key) => !jsonEqual(before[key], after[key])) as (keyof T & string)[];
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

/** The server copy a 409 (`version_conflict`) answer carries, or null for any other failure. */
function conflictCopy(error: unknown): { data: object | null; version: number } | null {
  if (!(error instanceof HttpError) || error.status !== 409 || error.body?.code !== 'version_conflict') return null;
  const current = (error.body.current ?? {}) as { data?: Record<string, unknown> | null; version?: number | null };
  return { data: current.data ?? null, version: typeof current.version === 'number' ? current.version : 0 };
}

type SendOutcome = 'done' | 'again' | 'stop';

/**
 * Keeps one workshop step of one participant in step with the server. Framework-free:
 * `useWorkshopStepData` is a thin React binding over it.
 *
 * Edits go to `data` at once and to the local journal; a debounced save (bounded by maxWaitMs)
 * sends the newest snapshot with the version it is based on. One save is in flight at a time;
 * an answer is applied only if it is not older than what this page already knows; a server
 * copy newer than the page's (a load, a 409's, another tab's) is merged in `adoptServer`;
 * network errors, 5xx, 408 and 429 are retried with exponential backoff and jitter.
 */
export class StepDataController<T extends object> {
  private state: StepDataState<T>;
  private readonly listeners = new Set<() => void>();
  private readonly initial: T;
  private readonly key: string;
  private readonly fetchFn: typeof fetch;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly page: ReturnType<typeof pageOf>;
  private readonly journal: StepJournal<T>;
  private readonly sent: SentSnapshots<T>;
  private readonly retry = new RetryTimer();

  /** The newest server copy this page knows (merged over initialData): the base of merges. */
  private serverData: T | null = null;
  private serverVersion = 0;
  private serverLoaded = false;
  /** Before the load: the server copy the journal's edits started from, if any. */
  private journalBase: { data: T | null; version: number } | null = null;
  /** Before the load: the journal or this page changed something. */
  private localEdits = false;
  /** Reading the journal at the first start; the server copy is adopted only after it. */
  private journalRead: Promise<void> | null = null;

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
  private conflictsInRow = 0;
  /** The running save loop; flush() while it runs asks it to go round once more. */
  private loop: Promise<void> | null = null;
  private again = false;
  private lastExitSend: { fingerprint: string; baseVersion: number } | null = null;
  private loadSeq = 0;
  private alive = false;
  private channel: TabChannel | null = null;
  private stopListening: (() => void) | null = null;

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
    return this.retry.attempt;
  }

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
    this.clearTimers();
  }

  /** Resolves when no journal write of this step is running. */
  journalIdle(): Promise<void> {
    return this.journal.idle();
  }

  private setState(patch: Partial<StepDataState<T>> = {}): void {
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

  private hasPending(data: T): boolean {
    return this.serverLoaded ? this.isDirty(data) : this.localEdits || !jsonEqual(data, this.initial);
  }

  private deriveStatus(data: T): SaveStatus {
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
    stepMounted(this, true);
    this.stopListening = listenToPage(this.page.events, this.page.page, {
      online: () => this.onOnline(),
      leaving: () => this.sendOnExit(),
    });
    this.journal.askToPersist();
    this.journalRead ??= this.readJournalAtMount();
    this.channel = TabChannel.open(this.page.createChannel, this.opts.userId, (raw) => this.onBroadcast(raw));
    void this.load();
  }

  /** Stop: send what is unsaved (keepalive, so it outlives the page); the journal keeps it too. */
  dispose(): void {
    if (!this.alive) return;
    this.sendOnExit();
    this.alive = false;
    stepMounted(this, false);
    this.loadSeq += 1;
    this.clearTimers();
    this.stopListening?.();
    this.stopListening = null;
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
    if (this.retry.kind === 'save') this.retry.cancel();
    await this.flush();
  };

  /** Load the server copy again; unsaved local edits are merged over it (three-way). */
  reload = async (): Promise<void> => {
    if (this.retry.kind === 'load') this.retry.cancel();
    await this.load();
  };

  /** See resumeAfterSignIn(): after a 401, load (if the load was refused) or send what is
   * pending. Does nothing unless the server had answered 401. */
  resume = async (): Promise<void> => {
    if (!this.signedOut || !this.alive) return;
    this.signedOut = false;
    this.failure = null;
    this.retry.attempt = 0;
    this.setState();
    await (this.serverLoaded ? this.flush() : this.load());
  };

  // ---- loading -----------------------------------------------------------------------------

  private async load(): Promise<void> {
    if (!this.alive) return;
    const seq = ++this.loadSeq;
    let body: LoadResponse;
    try {
      body = (await requestJson(this.fetchFn, this.url(stepPath(this.workshopType, this.stepId)), { method: 'GET' }, this.now)) as unknown as LoadResponse;
    } catch (error) {
      if (seq !== this.loadSeq || !this.alive) return;
      // Never save over a server copy this page has not seen: edits go to the journal only.
      this.signedOut = error instanceof HttpError && error.status === 401;
      this.failure = { network: !(error instanceof HttpError), message: `Could not load your saved work: ${describeFailure(error)}` };
      this.setState();
      if (isRetryable(error)) this.scheduleRetry('load', error);
      return;
    }
    // Edits the journal kept from an earlier visit, and their base, must be known first.
    await this.journalRead;
    if (seq !== this.loadSeq || !this.alive) return;
    this.retry.attempt = 0;
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
    this.sent.forget();
    this.localEdits = false;
    this.clearTimers();
    if (refused) this.rejected = { data: refused, fields: changedFields(server, refused), message, lockedSince };
    this.setState({ data: clone(server) });
    this.journal.sync();
  }

  /**
   * Take `raw` (version `version`) as the newest server copy and merge this page's edits over it:
   * fields only this page changed keep its value, fields only the server copy changed take
   * theirs, fields both changed keep this page's (reported). A copy this page sent itself is
   * not someone else's change: its edits simply stay. Every server copy comes through here
   * (the load, a 409's current copy, another tab's save).
   */
  private adoptServer(raw: object | null | undefined, version: number): void {
    const theirs = this.complete(raw);
    const base = this.serverLoaded && this.serverData ? this.serverData : (this.journalBase?.data ?? this.initial);
    const mine = this.state.data;
    const own = this.sent.takeOwn(theirs);
    const { merged, conflicts } = own ? { merged: mine, conflicts: [] as string[] } : threeWayMerge(base, mine, theirs);
    this.serverData = theirs;
    this.serverVersion = version;
    this.serverLoaded = true;
    this.journalBase = null;
    if (!this.isDirty(merged)) this.conflictPending = false;
    else if (conflicts.length) this.conflictPending = true;
    this.setState({ data: merged });
    this.journal.sync();
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
      this.journal.sync();
      return;
    }
    if (this.isDirty(data)) {
      // While a retry is pending it sends the newest snapshot; typing does not hurry it.
      if (this.autoSave && this.alive && !this.retry.pending) this.schedule();
    } else {
      // Back to the server copy (an edit undone): nothing to save, nothing to replay.
      this.clearSaveTimers();
    }
    this.setState({ data });
    this.journal.sync();
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

  private clearTimers(): void {
    this.clearSaveTimers();
    this.retry.cancel();
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
    const entry = await this.journal.readKept();
    if (entry && !this.journal.discarded) {
      this.journalBase = {
        data: entry.base ? this.complete(entry.base) : null,
        version: typeof entry.baseVersion === 'number' ? entry.baseVersion : 0,
      };
      this.sent.restore(Array.isArray(entry.sent) ? entry.sent : []);
      const kept = this.complete(entry.data);
      const data = this.localEdits ? threeWayMerge(this.initial, this.state.data, kept).merged : kept;
      this.localEdits = true;
      this.setState({ data });
    }
    this.journal.open();
    if (this.localEdits) this.journal.sync();
  }

  /** What the journal must hold now: the page's data (and its base), or nothing when the
   * server has it. */
  private journalCopy(): PageCopy<T> {
    return {
      keep: this.serverLoaded ? this.isDirty(this.state.data) : this.localEdits,
      data: this.state.data,
      base: this.serverLoaded ? this.serverData : (this.journalBase?.data ?? null),
      baseVersion: this.serverLoaded ? this.serverVersion : (this.journalBase?.version ?? 0),
      sent: this.sent.fingerprints,
    };
  }

  /** Note a snapshot as sent (so finding it on the server later is recognised as our own). */
  private markSent(snapshot: T): void {
    this.sent.mark(snapshot);
    this.journal.sync();
  }

  // ---- saving ------------------------------------------------------------------------------

  /** Save the newest snapshot unless the server has it. While a save is in flight, ask the
   * running loop to go round once more (the newest snapshot wins); resolves when it is done. */
  private flush(): Promise<void> {
    this.clearSaveTimers();
    if (!this.serverLoaded || this.locked || this.signedOut || !this.alive || this.journal.discarded) return Promise.resolve();
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
      if (!this.alive || this.locked || this.signedOut || !this.serverLoaded || this.journal.discarded) return;
      const snapshot = clone(this.state.data);
      if (!this.isDirty(snapshot)) {
        this.setState();
        return;
      }
      if (this.retry.kind === 'save') this.retry.cancel();
      const outcome = await this.send(snapshot);
      if (outcome === 'stop') return;
      if (outcome === 'done' && !this.again) break;
    }
    // Edits whose timers fired during the save were sent above; edits still waiting have
    // their own timers; anything else still unsaved (a merge from another tab) gets one.
    if (this.alive && this.autoSave && this.isDirty(this.state.data) && !this.debounceTimer && !this.retry.pending) {
      this.schedule();
    }
  }

  private async send(snapshot: T): Promise<SendOutcome> {
    const { request, baseVersion } = this.requestFor(snapshot);
    this.markSent(snapshot);
    this.inFlight = true;
    this.setState();
    let record: StepRecord<T> | null = null;
    let failure: unknown = null;
    try {
      record = storedRecord<T>(await this.transmit(request, false));
      if (!record) failure = new HttpError('The server sent an unexpected answer.', 200, null);
    } catch (error) {
      failure = error;
    }
    this.inFlight = false;
    if (record) return this.stored(record, true) ? 'done' : 'stop';
    if (!this.alive) return 'stop';
    return this.onSaveFailed(failure, baseVersion);
  }

  /**
   * The page may be gone before a normal request completes: send what is unsaved now with
   * keepalive, if it fits the browser's keepalive budget (the journal keeps it either way).
   * Its answer is applied like any other if the page lives on; the normal timers stay, so a
   * lost keepalive is followed by a normal save (same request id: the server recognises it).
   */
  private sendOnExit(): void {
    if (!this.serverLoaded || this.locked || this.signedOut || !this.autoSave || this.journal.discarded) return;
    const snapshot = clone(this.state.data);
    if (!this.isDirty(snapshot)) return;
    const print = fingerprint(snapshot);
    if (this.lastExitSend?.fingerprint === print && this.lastExitSend.baseVersion === this.serverVersion) return;
    const { request, baseVersion } = this.requestFor(snapshot);
    // Too big for keepalive (the change itself is over the limit): the journal keeps it and
    // the next save (if the page lives on) or the next visit sends it.
    if (!fitsKeepalive(request.body)) return;
    this.markSent(snapshot);
    this.lastExitSend = { fingerprint: print, baseVersion };
    this.transmit(request, true)
      .then((body) => {
        const record = storedRecord<T>(body);
        if (record) this.stored(record, false);
      })
      .catch(() => undefined);
  }

  /** The one request both sends make: `snapshot` on the server copy this page has now (a
   * retry of the same snapshot keeps its request id). */
  private requestFor(snapshot: T): { request: SaveRequest; baseVersion: number } {
    const baseVersion = this.serverVersion;
    return { request: this.saveRequest(snapshot, baseVersion, this.sent.requestIdFor(snapshot)), baseVersion };
  }

  /**
   * The request that saves `snapshot` on `baseVersion`: a merge patch (PATCH) of what changed
   * since that version when the page has it and the change can be written as one, so its size
   * does not depend on the document's; else the whole document (POST).
   */
  saveRequest(snapshot: T, baseVersion: number, requestId: string): SaveRequest {
    const partial = this.opts.partialSaves !== false && baseVersion > 0 && this.serverData !== null;
    return buildSaveRequest(this, snapshot, baseVersion, requestId, partial ? this.serverData : null);
  }

  private transmit(request: SaveRequest, keepalive: boolean): Promise<Record<string, unknown>> {
    const { method, body, headers } = request;
    return requestJson(this.fetchFn, this.url(request.path), { method, body, headers, keepalive }, this.now);
  }

  private url(path: string): string {
    return `${this.opts.baseUrl ?? ''}${path}`;
  }

  /**
   * The one handler of a stored save, for both sends: applied if this page lives on (false if
   * it is gone, and then the journal need not replay it). The normal send's success also ends
   * its run of failures and conflicts; an exit send's answer leaves those to the save loop.
   */
  private stored(record: StepRecord<T>, endsFailures: boolean): boolean {
    if (!this.alive) {
      this.journal.forgetStored(this.complete(record.data));
      return false;
    }
    if (endsFailures) {
      this.failure = null;
      this.retry.attempt = 0;
      this.conflictsInRow = 0;
    }
    this.applyConfirmed(record);
    this.callback(this.opts.onSaveSuccess, record);
    return true;
  }

  /** The server stored `record`. Applied only if it is not older than what this page knows
   * (answers can arrive late and out of order). */
  private applyConfirmed(record: StepRecord<T>): void {
    if (record.version < this.serverVersion) {
      this.setState();
      return;
    }
    const confirmed = this.complete(record.data);
    this.sent.takeOwn(confirmed);
    this.serverData = confirmed;
    this.serverVersion = record.version;
    this.everSaved = true;
    this.conflictPending = false;
    this.sent.confirmed(confirmed);
    const message: BroadcastMessage = {
      workshopType: this.workshopType,
      stepId: this.stepId,
      data: record.data as Record<string, unknown>,
      version: record.version,
    };
    this.channel?.post(message);
    this.setState({ lastSavedAt: record.updatedAt ?? this.state.lastSavedAt });
    this.journal.sync(); // on the new base, or removed
  }

  private onSaveFailed(error: unknown, baseVersion: number): SendOutcome {
    const conflict = conflictCopy(error);
    if (conflict) {
      // This page learned a newer version while the request was out: just send on that.
      if (baseVersion !== this.serverVersion) return 'again';
      this.adoptServer(conflict.data, conflict.version);
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
      this.failure = { network: false, message: describeFailure(error) };
      this.clearTimers();
      this.setState();
      this.callback(this.opts.onSaveError, error);
      return 'stop';
    }
    const asError = error instanceof Error ? error : new Error(String(error));
    this.failure = { network: !(error instanceof HttpError), message: describeFailure(error) };
    this.setState();
    this.callback(this.opts.onSaveError, asError);
    if (isRetryable(error)) this.scheduleRetry('save', error);
    return 'stop';
  }

  /** Exponential backoff with jitter: between half and all of base·2^attempt (at most
   * retryMaxMs), or the server's Retry-After if that is longer. */
  retryDelay(attempt: number, error: unknown): number {
    return retryDelayMs(attempt, error, this.opts, this.random);
  }

  private scheduleRetry(kind: RetryKind, error: unknown): void {
    if (this.retry.pending || !this.alive) return;
    this.retry.start(kind, this.retryDelay(this.retry.attempt, error), () => void (kind === 'load' ? this.load() : this.flush()));
  }

  // ---- the page and the other tabs ---------------------------------------------------------

  private onOnline(): void {
    if (!this.alive) return;
    const kind = this.retry.kind;
    this.retry.cancel();
    this.retry.attempt = 0;
    if (!this.serverLoaded || kind === 'load') void this.load();
    else void this.flush();
  }

  private onBroadcast(raw: unknown): void {
    const message = readBroadcast(raw, this.workshopType, this.stepId);
    if (!message || !this.serverLoaded || this.locked || message.version <= this.serverVersion) return;
    this.everSaved = true;
    this.adoptServer(message.data, message.version);
    if (this.isDirty(this.state.data) && this.autoSave && !this.loop && !this.retry.pending && !this.debounceTimer) {
      this.schedule();
    }
  }
}
