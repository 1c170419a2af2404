import { defaultStorage, journalKey, readJournal, removeJournal, writeJournal } from './journal';
import { jsonEqual, threeWayMerge } from './merge';
import type {
  ChannelLike,
  PageEvents,
  SaveStatus,
  StepDataOptions,
  StepDataState,
  StepRecord,
  WorkshopType,
} from './types';

/** Browsers cap keepalive request bodies at 64 KiB in total; stay under it. */
export const KEEPALIVE_LIMIT_BYTES = 60 * 1024;

const RETRYABLE_STATUSES = new Set([408, 429]);

export class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: Record<string, unknown> | null,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function isRetryable(error: unknown): boolean {
  if (!(error instanceof HttpError)) return true; // the network failed
  return error.status >= 500 || RETRYABLE_STATUSES.has(error.status);
}

function newRequestId(random: () => number): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.floor(random() * 1e12).toString(36)}`;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
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
}

interface BroadcastMessage {
  workshopType: string;
  stepId: string;
  data: Record<string, unknown>;
  version: number;
}

/**
 * Keeps one workshop step of one participant in step with the server. Framework-free:
 * `useWorkshopStepData` is a thin React binding over it.
 *
 * Local edits go to `data` at once and to the local journal; a debounced save (bounded by
 * maxWaitMs) sends the newest snapshot with the version it was based on. One save is in
 * flight at a time; a 409 is merged field by field and sent again; network errors, 5xx,
 * 408 and 429 are retried with exponential backoff and jitter.
 */
export class StepDataController<T extends object> {
  private state: StepDataState<T>;
  private readonly listeners = new Set<() => void>();
  private readonly initial: T;
  private readonly key: string;
  private readonly fetchFn: typeof fetch;
  private readonly storage: Storage | null;
  private readonly random: () => number;
  private readonly events: PageEvents | null;
  private readonly page: { visibilityState: string } | null;
  private readonly createChannel: ((name: string) => ChannelLike) | null;

  /** The server's data as last confirmed, merged over initialData: the base of merges. */
  private serverData: T | null = null;
  private serverVersion = 0;
  private serverLoaded = false;

  private debounceTimer: ReturnType<typeof setTimeout> | null = null;
  private maxWaitTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryAttempt = 0;
  private inFlight: Promise<void> | null = null;
  private saveAgain = false;
  /** The snapshot being retried and its request id: a retry of the same snapshot reuses it. */
  private pending: { data: T; requestId: string } | null = null;
  private generation = 0;
  private started = false;
  private channel: ChannelLike | null = null;

  constructor(
    readonly workshopType: WorkshopType,
    readonly stepId: string,
    initialData: T,
    private readonly options: () => StepDataOptions<T>,
  ) {
    const opts = options();
    this.initial = clone(initialData);
    this.key = journalKey(opts.userId, workshopType, stepId);
    this.fetchFn = opts.fetch ?? ((...args) => fetch(...args));
    this.storage = opts.storage === undefined ? defaultStorage() : opts.storage;
    this.random = opts.random ?? Math.random;
    this.events = opts.events === undefined ? (typeof window === 'undefined' ? null : window) : opts.events;
    this.page = opts.document === undefined ? (typeof document === 'undefined' ? null : document) : opts.document;
    this.createChannel =
      opts.createChannel === undefined
        ? typeof BroadcastChannel === 'undefined'
          ? null
          : (name) => new BroadcastChannel(name)
        : opts.createChannel;
    const journal = readJournal<T>(this.storage, this.key);
    this.state = {
      data: journal ? { ...this.initial, ...journal.data } : clone(this.initial),
      status: 'loading',
      loaded: false,
      saving: false,
      error: null,
      version: null,
      lastSavedAt: null,
      hasPendingChanges: journal !== null,
    };
  }

  // ---- store interface -------------------------------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): StepDataState<T> => this.state;

  private setState(patch: Partial<StepDataState<T>>): void {
    const next = { ...this.state, ...patch };
    next.saving = next.status === 'saving';
    next.hasPendingChanges = this.isDirty(next.data) || this.pending !== null;
    this.state = next;
    this.listeners.forEach((listener) => listener());
  }

  private get opts(): StepDataOptions<T> {
    return this.options();
  }

  // ---- lifecycle --------------------------------------------------------------------------

  start(): void {
    if (this.started) return;
    this.started = true;
    this.generation += 1;
    this.events?.addEventListener('online', this.onOnline);
    this.events?.addEventListener('pagehide', this.onPageHide);
    this.events?.addEventListener('visibilitychange', this.onVisibilityChange);
    if (this.createChannel && this.opts.userId != null) {
      this.channel = this.createChannel(`workshop-data:${this.opts.userId}`);
      this.channel.onmessage = (event) => this.onBroadcast(event.data as BroadcastMessage);
    }
    void this.load();
  }

  /** Stop: flush what is unsaved (keepalive, so it survives the page going away). */
  dispose(): void {
    if (!this.started) return;
    this.flushOnExit();
    this.started = false;
    this.generation += 1;
    this.clearTimers();
    this.events?.removeEventListener('online', this.onOnline);
    this.events?.removeEventListener('pagehide', this.onPageHide);
    this.events?.removeEventListener('visibilitychange', this.onVisibilityChange);
    this.channel?.close();
    this.channel = null;
    this.inFlight = null;
  }

  // ---- public actions ----------------------------------------------------------------------

  updateData = (patch: Partial<T> | ((current: T) => Partial<T>)): void => {
    const changes = typeof patch === 'function' ? patch(this.state.data) : patch;
    this.change({ ...this.state.data, ...changes });
  };

  setData = (next: T | ((current: T) => T)): void => {
    this.change(typeof next === 'function' ? (next as (current: T) => T)(this.state.data) : next);
  };

  /** Save now, without waiting for the debounce. Resolves when the server has answered. */
  saveNow = async (): Promise<void> => {
    this.clearSaveTimers();
    await this.flush();
  };

  /** Load the server's copy again (pending local changes are merged over it). */
  reload = async (): Promise<void> => {
    this.generation += 1;
    this.inFlight = null;
    this.clearTimers();
    await this.load();
  };

  // ---- loading -----------------------------------------------------------------------------

  private async load(): Promise<void> {
    const generation = this.generation;
    if (!this.serverLoaded) this.setState({ status: 'loading' });
    let body: LoadResponse;
    try {
      body = (await this.request('GET', `/api/workshop-data/step/${this.workshopType}/${encodeURIComponent(this.stepId)}`)) as LoadResponse;
    } catch (error) {
      if (generation !== this.generation) return;
      // Never save over server data this page has not seen: edits stay in the journal only.
      this.setState({
        status: isRetryable(error) && !(error instanceof HttpError) ? 'offline' : 'error',
        error: `Could not load your saved work: ${describe(error)}`,
      });
      if (isRetryable(error)) this.scheduleRetry(() => this.load(), error);
      return;
    }
    if (generation !== this.generation) return;
    this.retryAttempt = 0;
    const server = { ...this.initial, ...(body.data ?? {}) } as T;
    this.serverData = server;
    this.serverVersion = body.version ?? 0;
    this.serverLoaded = true;
    const journal = readJournal<T>(this.storage, this.key);
    let data = server;
    if (journal && !jsonEqual({ ...this.initial, ...journal.data }, server)) {
      const mine = { ...this.initial, ...journal.data } as T;
      data =
        journal.baseVersion === this.serverVersion
          ? mine
          : threeWayMerge({ ...this.initial, ...(journal.base ?? {}) }, mine, server).merged;
    } else if (journal) {
      removeJournal(this.storage, this.key);
    }
    this.setState({
      data,
      loaded: true,
      error: null,
      version: body.version,
      lastSavedAt: body.updatedAt,
      status: 'idle',
    });
    if (this.isDirty(data)) {
      this.writeJournal(data);
      this.setState({ status: 'dirty' });
      if (this.opts.enableAutoSave !== false) void this.flush();
    }
  }

  // ---- changes and scheduling --------------------------------------------------------------

  private change(next: T): void {
    if (this.state.status === 'locked') return;
    const data = clone(next);
    this.writeJournal(data);
    const dirty = this.isDirty(data);
    const status: SaveStatus =
      !this.serverLoaded || this.state.status === 'offline' || this.state.status === 'error'
        ? this.state.status
        : dirty
          ? this.inFlight
            ? 'saving'
            : 'dirty'
          : this.state.status === 'saving'
            ? 'saving'
            : 'saved';
    this.setState({ data, status });
    if (!dirty && !this.inFlight) {
      this.clearSaveTimers();
      removeJournal(this.storage, this.key);
      return;
    }
    // While a retry is pending it sends the newest snapshot; typing does not hurry it.
    if (this.serverLoaded && this.opts.enableAutoSave !== false && !this.retryTimer) this.schedule();
  }

  private schedule(): void {
    const debounceMs = this.opts.debounceMs ?? 1000;
    const maxWaitMs = this.opts.maxWaitMs ?? 10000;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.flush(), debounceMs);
    if (!this.maxWaitTimer) this.maxWaitTimer = setTimeout(() => void this.flush(), maxWaitMs);
  }

  private clearSaveTimers(): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    if (this.maxWaitTimer) clearTimeout(this.maxWaitTimer);
    this.debounceTimer = null;
    this.maxWaitTimer = null;
  }

  private clearTimers(): void {
    this.clearSaveTimers();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private isDirty(data: T): boolean {
    return this.serverData === null ? !jsonEqual(data, this.initial) : !jsonEqual(data, this.serverData);
  }

  private writeJournal(data: T): void {
    writeJournal(this.storage, this.key, {
      data,
      base: this.serverData,
      baseVersion: this.serverVersion,
      changedAt: Date.now(),
    });
  }

  // ---- saving ------------------------------------------------------------------------------

  private async flush(): Promise<void> {
    this.clearSaveTimers();
    if (!this.serverLoaded || this.state.status === 'locked') return;
    if (this.inFlight) {
      this.saveAgain = true;
      return this.inFlight;
    }
    const snapshot = clone(this.state.data);
    if (!this.isDirty(snapshot)) {
      this.pending = null;
      removeJournal(this.storage, this.key);
      if (this.state.status !== 'idle') this.setState({ status: this.state.version === null ? 'idle' : 'saved' });
      return;
    }
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    const requestId =
      this.pending && jsonEqual(this.pending.data, snapshot) ? this.pending.requestId : newRequestId(this.random);
    this.pending = { data: snapshot, requestId };
    this.inFlight = this.send(snapshot, requestId, this.generation);
    try {
      await this.inFlight;
    } finally {
      this.inFlight = null;
    }
    if (this.saveAgain && this.started) {
      this.saveAgain = false;
      if (this.isDirty(this.state.data) && !this.retryTimer) await this.flush();
    }
  }

  private async send(snapshot: T, requestId: string, generation: number): Promise<void> {
    this.setState({ status: 'saving' });
    let body: SaveResponse<T>;
    try {
      body = (await this.request('POST', '/api/workshop-data/step', {
        body: {
          workshopType: this.workshopType,
          stepId: this.stepId,
          data: snapshot,
          baseVersion: this.serverVersion,
          requestId,
        },
        headers: { 'Idempotency-Key': requestId },
      })) as SaveResponse<T>;
    } catch (error) {
      if (generation !== this.generation) return;
      this.onSaveFailed(error, snapshot);
      return;
    }
    if (generation !== this.generation) return;
    const record = body.data;
    if (record.version < this.serverVersion) return; // a newer copy arrived meanwhile
    this.retryAttempt = 0;
    this.pending = null;
    this.serverData = { ...this.initial, ...record.data } as T;
    this.serverVersion = record.version;
    this.channel?.postMessage({
      workshopType: this.workshopType,
      stepId: this.stepId,
      data: record.data as Record<string, unknown>,
      version: record.version,
    } satisfies BroadcastMessage);
    const stillDirty = this.isDirty(this.state.data);
    if (stillDirty) this.writeJournal(this.state.data);
    else removeJournal(this.storage, this.key);
    this.setState({
      status: stillDirty ? 'dirty' : 'saved',
      error: null,
      version: record.version,
      lastSavedAt: record.updatedAt,
    });
    // Changes typed meanwhile already have their debounce and maxWait timers running.
    this.opts.onSaveSuccess?.(record);
  }

  private onSaveFailed(error: unknown, snapshot: T): void {
    if (error instanceof HttpError && error.status === 409 && error.body?.code === 'version_conflict') {
      this.resolveConflict(error.body, snapshot);
      return;
    }
    if (error instanceof HttpError && error.status === 423) {
      this.pending = null;
      this.clearTimers();
      this.setState({ status: 'locked', error: describe(error) });
      this.opts.onSaveError?.(error);
      return;
    }
    const asError = error instanceof Error ? error : new Error(String(error));
    this.opts.onSaveError?.(asError);
    if (isRetryable(error)) {
      this.setState({
        status: error instanceof HttpError ? 'error' : 'offline',
        error: describe(error),
      });
      this.scheduleRetry(() => this.flush(), error);
      return;
    }
    this.pending = null;
    this.setState({ status: 'error', error: describe(error) });
  }

  private resolveConflict(body: Record<string, unknown>, snapshot: T): void {
    const current = (body.current ?? {}) as { data?: Record<string, unknown> | null; version?: number | null };
    const theirs = { ...this.initial, ...(current.data ?? {}) } as T;
    const base = this.serverData ?? this.initial;
    const { merged, conflicts } = threeWayMerge(base, this.state.data, theirs);
    this.serverData = theirs;
    this.serverVersion = current.version ?? 0;
    this.pending = null;
    this.writeJournal(merged);
    this.setState({ data: merged, status: conflicts.length ? 'conflict' : 'dirty', version: current.version ?? null });
    if (conflicts.length) this.opts.onConflict?.({ fields: conflicts, mine: snapshot, theirs });
    this.saveAgain = true;
  }

  private scheduleRetry(action: () => Promise<void>, error: unknown): void {
    if (this.retryTimer || !this.started) return;
    const base = this.opts.retryBaseMs ?? 1000;
    const max = this.opts.retryMaxMs ?? 30000;
    const exponential = Math.min(max, base * 2 ** this.retryAttempt);
    // Full jitter between half and all of the delay, so many clients do not retry in step.
    let delay = exponential / 2 + (this.random() * exponential) / 2;
    const retryAfter = error instanceof HttpError ? Number(error.body?.retryAfterSeconds ?? NaN) : NaN;
    if (Number.isFinite(retryAfter)) delay = Math.max(delay, retryAfter * 1000);
    this.retryAttempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void action();
    }, delay);
  }

  /** How many retries in a row have been scheduled since the last success. */
  get retryAttempts(): number {
    return this.retryAttempt;
  }

  // ---- page events -------------------------------------------------------------------------

  private onOnline = (): void => {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.retryAttempt = 0;
    if (!this.serverLoaded) void this.load();
    else void this.flush();
  };

  private onPageHide = (): void => {
    this.flushOnExit();
  };

  private onVisibilityChange = (): void => {
    if (this.page?.visibilityState === 'hidden') this.flushOnExit();
  };

  /** The page may be gone before a normal request completes: send what is unsaved now, with
   * keepalive when it fits. The journal keeps it either way. */
  private flushOnExit(): void {
    if (!this.serverLoaded || this.state.status === 'locked') return;
    const snapshot = clone(this.state.data);
    if (!this.isDirty(snapshot)) return;
    this.clearSaveTimers();
    const requestId =
      this.pending && jsonEqual(this.pending.data, snapshot) ? this.pending.requestId : newRequestId(this.random);
    this.pending = { data: snapshot, requestId };
    const payload = JSON.stringify({
      workshopType: this.workshopType,
      stepId: this.stepId,
      data: snapshot,
      baseVersion: this.serverVersion,
      requestId,
    });
    if (new TextEncoder().encode(payload).length > KEEPALIVE_LIMIT_BYTES) return;
    void this.fetchFn(`${this.opts.baseUrl ?? ''}/api/workshop-data/step`, {
      method: 'POST',
      keepalive: true,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': requestId },
      body: payload,
    }).catch(() => undefined);
  }

  private onBroadcast(message: BroadcastMessage): void {
    if (message.workshopType !== this.workshopType || message.stepId !== this.stepId) return;
    if (!this.serverLoaded || message.version <= this.serverVersion) return;
    const theirs = { ...this.initial, ...message.data } as T;
    const { merged } = threeWayMerge(this.serverData ?? this.initial, this.state.data, theirs);
    this.serverData = theirs;
    this.serverVersion = message.version;
    const dirty = this.isDirty(merged);
    if (dirty) this.writeJournal(merged);
    else removeJournal(this.storage, this.key);
    this.setState({
      data: merged,
      version: message.version,
      status: dirty ? (this.inFlight ? 'saving' : 'dirty') : 'saved',
    });
    if (dirty && !this.inFlight && this.opts.enableAutoSave !== false) this.schedule();
  }

  // ---- HTTP --------------------------------------------------------------------------------

  private async request(
    method: 'GET' | 'POST',
    path: string,
    extra: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<unknown> {
    const response = await this.fetchFn(`${this.opts.baseUrl ?? ''}${path}`, {
      method,
      credentials: 'same-origin',
      headers: {
        Accept: 'application/json',
        ...(extra.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...extra.headers,
      },
      body: extra.body === undefined ? undefined : JSON.stringify(extra.body),
    });
    let body: Record<string, unknown> | null = null;
    try {
      body = (await response.json()) as Record<string, unknown>;
    } catch {
      body = null;
    }
    if (!response.ok) {
      const retryAfter = response.headers?.get?.('Retry-After');
      const message = typeof body?.error === 'string' ? body.error : `The server answered ${response.status}.`;
      throw new HttpError(message, response.status, {
        ...(body ?? {}),
        ...(retryAfter ? { retryAfterSeconds: Number(retryAfter) } : {}),
      });
    }
    return body;
  }
}

function describe(error: unknown): string {
  if (error instanceof HttpError) return error.message;
  return 'the network is unavailable';
}
