/**
 * The one sync loop: it sends the participant's pending work (uploads, step changes,
 * navigation progress), each item through its performer, within a bound of requests in
 * flight; it retries with exponential backoff and jitter (or the server's Retry-After, up to a
 * cap), pauses while the browser is offline or after a 401, re-reads and re-applies after a
 * 409, and keeps every item on the device (a WorkStore) until the server has it. Its state
 * changes only through `dispatch` and the pure `reduce`.
 */
import { HttpError, isRetryable } from '../transport.js';
import { dueItems, nextWakeAt, reduce, initialState } from './reducer.js';
import { readWork, userPrefixes, type StoredValue, type WorkStore } from './store.js';
import type { Action, Entry, Failure, ProgressWork, StepChangeWork, SyncConfig, SyncState, UploadWork, WorkItem } from './work.js';

/** What sends each kind of work. They throw as fetch does (network) or an HttpError. */
export interface Performers {
  upload(work: UploadWork): Promise<{ url: string }>;
  /** `fields`: the change with the upload's URL filled in. */
  stepChange(work: StepChangeWork, fields: Record<string, unknown>): Promise<void>;
  progress(work: ProgressWork): Promise<unknown>;
}

/** Window-like: where `online` and `offline` are announced. */
export interface NetworkEvents {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

export interface SyncLoopOptions {
  performers: Performers;
  /** null: keep nothing on the device (work still goes while the page lives). */
  store?: WorkStore | null;
  events?: NetworkEvents | null;
  config?: Partial<SyncConfig>;
  /** The browser's view at the start (navigator.onLine). */
  online?: boolean;
  now?: () => number;
  random?: () => number;
  /**
   * Run `send` unless another tab of this browser is sending the same item; resolves false
   * then (the item is tried again shortly). Default: Web Locks where the browser has them.
   */
  exclusive?: ((id: string, send: () => Promise<void>) => Promise<boolean>) | null;
}

/** What an item's send brought back (an upload's URL; the server's progress). */
export type ResultListener = (work: WorkItem, result: unknown) => void;

export function classify(error: unknown): Failure {
  if (!(error instanceof HttpError)) return { kind: 'network', message: 'the network is unavailable' };
  if (error.status === 401) return { kind: 'unauthorized', message: error.message };
  if (error.status === 423) return { kind: 'locked', message: error.message };
  if (error.status === 409) return { kind: 'conflict', message: error.message };
  if (error.status < 400 || isRetryable(error)) return { kind: 'retryable', message: error.message, retryAfterMs: error.retryAfterMs };
  return { kind: 'final', message: error.message };
}

function keepErrorOf(error: unknown): string {
  return (error as { name?: unknown } | null)?.name === 'QuotaExceededError'
    ? 'This device is out of storage space: it is not kept on it.'
    : 'This device could not keep a copy.';
}

function webLocks(): SyncLoopOptions['exclusive'] {
  const locks = typeof navigator === 'undefined' ? undefined : (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return null;
  return async (id, send) =>
    await locks.request(`workshop-data:${id}`, { ifAvailable: true }, async (lock) => {
      if (!lock) return false;
      await send();
      return true;
    });
}

export class SyncLoop {
  private state: SyncState;
  private readonly listeners = new Set<() => void>();
  private readonly resultListeners = new Set<ResultListener>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly store: WorkStore | null;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly exclusive: SyncLoopOptions['exclusive'];
  private readonly restoring = new Map<string, Promise<void>>();
  /** Work this page finished or removed (id → createdAt): a restore that read the device
   * before its removal landed must not bring it back. */
  private readonly finished = new Map<string, number>();
  private disposed = false;
  private pumping = false;

  constructor(private readonly options: SyncLoopOptions) {
    this.state = initialState(options.config, options.online ?? true);
    this.store = options.store ?? null;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.exclusive = options.exclusive === undefined ? webLocks() : options.exclusive;
    options.events?.addEventListener('online', this.onOnline);
    options.events?.addEventListener('offline', this.onOffline);
  }

  getState = (): SyncState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Listen to what sends bring back. */
  onResult(listener: ResultListener): () => void {
    this.resultListeners.add(listener);
    return () => {
      this.resultListeners.delete(listener);
    };
  }

  get(id: string): Entry | null {
    return this.state.entries[id] ?? null;
  }

  /** The one way the state changes. */
  dispatch(action: Action): void {
    const next = reduce(this.state, action);
    if (next === this.state) return;
    this.state = next;
    this.listeners.forEach((listener) => listener());
    this.pump();
  }

  /**
   * Queue work (replacing items with the same ids; progress merges) and keep it on the device,
   * all items in one write. Resolves once the device has answered.
   */
  async enqueue(work: WorkItem[]): Promise<void> {
    for (const item of work) this.finished.delete(item.id);
    this.dispatch({ type: 'queued', work, now: this.now() });
    // Progress merges with what the device holds (a report this page has not read back yet).
    const progress = work.filter((w) => w.kind === 'progress').map((w) => w.id);
    if (this.store && progress.length) {
      const stored = await Promise.all(progress.map(async (id) => readWork(id, await this.store!.get(id).catch(() => null))));
      const older = stored.flat().filter((w) => this.finished.get(w.id) !== w.createdAt);
      if (older.length) this.dispatch({ type: 'restored', work: older, now: this.now() });
    }
    await this.persist(work.map((w) => w.id));
  }

  /** Write these items as the state has them, all in one write, and note whether the device kept them. */
  private async persist(ids: string[]): Promise<void> {
    const revisions: Record<string, number> = {};
    for (const id of ids) revisions[id] = this.state.entries[id]?.status.revision ?? -1;
    const items: [string, StoredValue][] = ids.flatMap((id) => {
      const entry = this.state.entries[id];
      return entry ? [[id, entry.work as unknown as StoredValue] as [string, StoredValue]] : [];
    });
    let keepError: string | null = null;
    if (!this.store) keepError = 'This device could not keep a copy.';
    else {
      try {
        await this.store.setMany(items);
      } catch (error) {
        keepError = keepErrorOf(error);
        await this.store.deleteMany(ids).catch(() => undefined);
      }
    }
    this.dispatch({ type: 'kept', ids, revisions, kept: keepError === null, keepError });
  }

  /** Resolves when the item's first attempt is over (sent, waiting, refused) or it is gone. */
  settled(id: string): Promise<void> {
    const done = () => {
      const phase = this.state.entries[id]?.status.phase;
      if (phase === 'queued') return !this.state.online || this.state.signedOut; // nothing is sent now
      return phase === undefined || phase === 'waiting' || phase === 'uploaded' || phase === 'failed';
    };
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const stop = this.subscribe(() => {
        if (!done()) return;
        stop();
        resolve();
      });
    });
  }

  /** Forget these items (and the step changes that wait for these uploads), on the device too. */
  async remove(ids: string[]): Promise<void> {
    const linked = Object.values(this.state.entries)
      .filter((e) => e.work.kind === 'step-change' && e.work.uploadId !== null && ids.includes(e.work.uploadId))
      .map((e) => e.work.id);
    const all = [...new Set([...ids, ...linked])];
    this.markFinished(all);
    this.dispatch({ type: 'removed', ids: all });
    await this.store?.deleteMany(all).catch(() => undefined);
  }

  /** Forget a user's work on this device (sign-out); without a user, everyone's. */
  async clear(userId?: string | number | null): Promise<void> {
    const prefixes = userPrefixes(userId);
    await this.clearPrefix(prefixes);
  }

  async clearPrefix(prefixes: string[]): Promise<void> {
    const stored = this.store ? (await Promise.all(prefixes.map((p) => this.store!.keys(p).catch(() => [] as string[])))).flat() : [];
    const known = Object.keys(this.state.entries).filter((id) => prefixes.some((p) => id.startsWith(p)));
    const ids = [...new Set([...stored, ...known])];
    this.markFinished(ids);
    this.dispatch({ type: 'removed', ids });
    await this.store?.deleteMany(ids).catch(() => undefined);
  }

  /** Read back what the device kept under these prefixes (a reload, another tab) and send it. */
  restore(prefixes: string[]): Promise<void> {
    const name = prefixes.join('|');
    let running = this.restoring.get(name);
    if (!running) {
      running = (async () => {
        if (!this.store) return;
        const found = (await Promise.all(prefixes.map((p) => this.store!.entries(p).catch(() => [] as [string, StoredValue][])))).flat();
        const work = found.flatMap(([key, value]) => readWork(key, value)).filter((w) => this.finished.get(w.id) !== w.createdAt);
        if (!work.length) return;
        this.dispatch({ type: 'restored', work, now: this.now() });
        // Reports merged with one made before the read are written back merged.
        const merged = work.filter((w) => this.state.entries[w.id]?.status.kept === false).map((w) => w.id);
        if (merged.length) await this.persist(merged);
      })().finally(() => this.restoring.delete(name));
      this.restoring.set(name, running);
    }
    return running;
  }

  /** Read back one user's work. */
  restoreUser(userId: string | number): Promise<void> {
    return this.restore(userPrefixes(userId));
  }

  retryNow(): void {
    this.dispatch({ type: 'retry-now' });
  }

  /** The same user signed in again after a 401: send again. */
  signedIn(): void {
    this.dispatch({ type: 'signed-in' });
    this.dispatch({ type: 'retry-now' });
  }

  /** Stop listening and stop the timer (the page's work stays on the device). */
  dispose(): void {
    this.disposed = true;
    this.options.events?.removeEventListener('online', this.onOnline);
    this.options.events?.removeEventListener('offline', this.onOffline);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private onOnline = (): void => {
    this.dispatch({ type: 'online', online: true });
    // Another tab may have queued work meanwhile (or finished some).
    const users = new Set(Object.values(this.state.entries).map((e) => e.work.userId));
    users.forEach((user) => void this.restore(userPrefixes(user)));
  };

  private onOffline = (): void => this.dispatch({ type: 'online', online: false });

  /** Start what is due, one item at a time (each `sending` changes what is due next). */
  private pump(): void {
    if (this.disposed || this.pumping) return;
    this.pumping = true;
    try {
      for (let entry = dueItems(this.state, this.now())[0]; entry; entry = dueItems(this.state, this.now())[0]) {
        this.dispatch({ type: 'sending', id: entry.work.id, revision: entry.status.revision });
        void this.run(entry);
      }
    } finally {
      this.pumping = false;
    }
    this.wake();
  }

  private wake(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const at = nextWakeAt(this.state);
    if (at === null || !this.state.online || this.state.signedOut) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, Math.max(0, at - this.now()));
  }

  private async run(entry: Entry): Promise<void> {
    const { work } = entry;
    const revision = entry.status.revision;
    let result: unknown = null;
    let failure: Failure | null = null;
    const send = async () => {
      if (await this.doneElsewhere(entry)) return;
      try {
        result = await this.perform(work);
      } catch (error) {
        failure = classify(error);
      }
    };
    const ran = this.exclusive ? await this.exclusive(work.id, send).catch(() => false) : (await send(), true);
    if (!ran) failure = { kind: 'retryable', message: 'Another tab is sending this.', retryAfterMs: null };
    if (this.state.entries[work.id]?.status.revision !== revision) return; // replaced or removed meanwhile
    if (this.state.entries[work.id]?.status.phase !== 'sending') return; // settled by doneElsewhere
    if (failure) {
      this.dispatch({ type: 'failed', id: work.id, revision, failure, now: this.now(), jitter: this.random() });
      return;
    }
    const url = work.kind === 'upload' ? (result as { url: string }).url : undefined;
    // An upload's URL is on the device before anything relies on it; other work is removed
    // from the device once the state no longer has it.
    if (work.kind === 'upload') await this.persistSuccess(entry, url);
    if (this.state.entries[work.id]?.status.revision !== revision) return;
    if (work.kind !== 'upload') this.markFinished([work.id, ...(work.kind === 'step-change' && work.uploadId ? [work.uploadId] : [])]);
    this.dispatch({ type: 'succeeded', id: work.id, revision, ...(url ? { url } : {}) });
    if (work.kind !== 'upload') await this.persistSuccess(entry, url);
    this.resultListeners.forEach((listener) => listener(work, result));
  }

  /** Another tab sent this item already: take its result. */
  private async doneElsewhere(entry: Entry): Promise<boolean> {
    if (!this.store || !entry.status.kept) return false;
    const stored = await this.store.get(entry.work.id).catch(() => undefined);
    if (stored === undefined) return false;
    const revision = entry.status.revision;
    if (stored === null) {
      this.dispatch({ type: 'removed', ids: [entry.work.id] });
      return true;
    }
    const [again] = readWork(entry.work.id, stored);
    if (entry.work.kind === 'upload' && again?.kind === 'upload' && again.url) {
      this.dispatch({ type: 'succeeded', id: entry.work.id, revision, url: again.url });
      return true;
    }
    return false;
  }

  private markFinished(ids: string[]): void {
    for (const id of ids) {
      const work = this.state.entries[id]?.work;
      if (work) this.finished.set(id, work.createdAt);
    }
  }

  private async perform(work: WorkItem): Promise<unknown> {
    const performers = this.options.performers;
    if (work.kind === 'upload') return performers.upload(work);
    if (work.kind === 'progress') return performers.progress(work);
    const fields = { ...work.fields };
    if (work.uploadId && work.uploadField) {
      const upload = this.state.entries[work.uploadId]?.work;
      if (upload?.kind === 'upload' && upload.url) fields[work.uploadField] = upload.url;
    }
    return performers.stepChange(work, fields);
  }

  private async persistSuccess(entry: Entry, url: string | undefined): Promise<void> {
    if (!this.store) return;
    const { work } = entry;
    const now = this.state.entries[work.id];
    if (work.kind === 'upload') {
      if (entry.status.kept && now?.status.revision === entry.status.revision) await this.store.setMany([[work.id, { ...work, url } as unknown as StoredValue]]).catch(() => undefined);
      return;
    }
    // A newer revision (merged while this was sent) stays on the device.
    const gone = now ? [] : [work.id];
    if (work.kind === 'step-change' && work.uploadId) gone.push(work.uploadId);
    if (gone.length) await this.store.deleteMany(gone).catch(() => undefined);
  }
}
