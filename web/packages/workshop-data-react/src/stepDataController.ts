import { mergeDocuments } from './documentMerge.js';
import { changedFields, fingerprint, jsonEqual } from './merge.js';
import { fitsKeepalive, listenToPage, readBroadcast, TabChannel, type BroadcastMessage } from './pageAdapters.js';
import { stepMounted } from './registry.js';
import { conflictCopy, schemaVersionOf, stepPath, storedRecord, type LoadResponse } from './saveRequest.js';
import { clone, StepStore } from './stepStore.js';
import { describeFailure, HttpError, isRetryable, requestJson, type RetryKind } from './transport.js';
import type { StepRecord } from './types.js';

const LOCKED = 'The workshop is completed, so this step can no longer be changed.';

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
export class StepDataController<T extends object> extends StepStore<T> {
  /** Reading the journal at the first start; the server copy is adopted only after it. */
  private journalRead: Promise<void> | null = null;
  private conflictsInRow = 0;
  /** The running save loop; flush() while it runs asks it to go round once more. */
  private loop: Promise<void> | null = null;
  private again = false;
  private lastExitSend: { fingerprint: string; baseVersion: number } | null = null;
  private loadSeq = 0;
  private alive = false;
  private channel: TabChannel | null = null;
  private stopListening: (() => void) | null = null;

  // ---- lifecycle --------------------------------------------------------------------------

  /** Begin: load the server copy, listen to the page and to the user's other tabs. */
  start(): void {
    if (this.alive) return;
    this.alive = true;
    stepMounted(this, true);
    this.stopListening = listenToPage(this.page.events, this.page.page, {
      online: () => this.onOnline(),
      leaving: () => this.leaving(),
    });
    this.journal.askToPersist();
    this.journalRead ??= this.readJournalAtMount();
    this.channel = TabChannel.open(this.page.createChannel, this.opts.userId, (raw) => this.onBroadcast(raw));
    void this.load();
  }

  /** Stop: send what is unsaved (keepalive, so it outlives the page); the journal keeps it too. */
  dispose(): void {
    if (!this.alive) return;
    this.leaving();
    this.alive = false;
    stepMounted(this, false);
    this.loadSeq += 1;
    this.clearTimers();
    this.copies.stop();
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

  /** The server has `version` of this step (another device saved it): when that is newer than
   * this page's copy, load it and merge this page's edits over it, as any newer copy. */
  serverHasVersion = (version: number): void => {
    if (!this.alive || !this.serverLoaded || this.locked || version <= this.serverVersion) return;
    void this.reload();
  };

  /** See resumeAfterSignIn(): after a 401, load (if the load was refused) or send what is
   * pending. Does nothing unless the server had answered 401. */
  resume = async (): Promise<void> => {
    if (!this.signedOut || !this.alive) return;
    this.signedOut = false;
    this.failure = null;
    this.retry.attempt = 0;
    this.setState();
    void this.copies.send();
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
    this.adoptServer(body.data, version, schemaVersionOf(body.schemaVersion));
    this.setState({ loaded: true, lastSavedAt: body.updatedAt ?? null });
    if (body.locked === true) {
      // Read-only before anyone types; edits the journal kept can no longer be saved.
      this.lock(LOCKED, typeof body.lockedSince === 'string' ? body.lockedSince : null);
      return;
    }
    void this.copies.send(); // what an earlier visit's journal kept
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
    this.serverOutdated = false;
    this.lockMessage = message;
    this.lockedSince = lockedSince;
    this.failure = null;
    this.conflictPending = false;
    this.sent.forget();
    this.localEdits = false;
    this.copies.drop();
    this.clearTimers();
    if (refused) this.rejected = { data: refused, fields: changedFields(server, refused), message, lockedSince };
    this.setState({ data: clone(server) });
    this.journal.sync();
  }

  /**
   * Take `raw` (version `version`, written in schema version `writtenIn`) as the newest server
   * copy, migrated to this page's schema version, and merge this page's edits with it
   * (mergeDocuments: texts by word, lists by item; what both changed in the same place is
   * kept from both where it can be — a text as both whole versions — and reported). A copy this page sent itself is not
   * someone else's change: its edits simply stay. Every server copy comes through here (the
   * load, a 409's current copy, another tab's save).
   */
  private adoptServer(raw: object | null | undefined, version: number, writtenIn: number | null | undefined): void {
    const { data: theirs, migrated } = this.upToDate(raw, writtenIn);
    const base = this.serverLoaded && this.serverData ? this.serverData : (this.journalBase?.data ?? this.initial);
    const mine = this.state.data;
    const own = this.sent.takeOwn(theirs);
    const { merged, conflicts } = own ? { merged: mine, conflicts: [] as string[] } : mergeDocuments(base, mine, theirs);
    this.serverData = theirs;
    this.serverOutdated = migrated;
    this.serverVersion = version;
    this.serverLoaded = true;
    this.journalBase = null;
    // This page's own text is about to be replaced by a merge with someone else's change of
    // the same words: it is kept in the step's history first, as its own version.
    if (conflicts.length && !jsonEqual(merged, mine)) this.copies.add({ data: clone(mine), schemaVersion: this.opts.schemaVersion ?? null });
    if (!this.isDirty(merged)) this.conflictPending = false;
    else if (conflicts.length) this.conflictPending = true;
    this.setState({ data: merged });
    this.journal.sync();
    if (conflicts.length) {
      const labels = this.opts.fieldLabels ?? {};
      this.callback(this.opts.onConflict, {
        fields: conflicts,
        labels: conflicts.map((field) => (Object.hasOwn(labels, field) ? labels[field]! : field)),
        mine: clone(mine),
        theirs: clone(theirs),
        merged: clone(merged),
      });
    }
  }

  protected override canSendCopies(): boolean {
    return this.alive && super.canSendCopies();
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
      this.saveTimers.clear();
    }
    this.setState({ data });
    this.journal.sync();
  }

  private schedule(): void {
    this.saveTimers.schedule(this.opts.debounceMs ?? 1000, this.opts.maxWaitMs ?? 10000, () => void this.flush());
  }

  // ---- saving ------------------------------------------------------------------------------

  /** Save the newest snapshot unless the server has it. While a save is in flight, ask the
   * running loop to go round once more (the newest snapshot wins); resolves when it is done. */
  private flush(): Promise<void> {
    this.saveTimers.clear();
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
      // This page's text before a merge goes to the history before the merge is saved (one
      // attempt; a failed one is retried on its own).
      if (this.copies.pending.length) await this.copies.send();
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
    if (this.alive && this.autoSave && this.isDirty(this.state.data) && !this.saveTimers.debouncing && !this.retry.pending) {
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

  /** The page may be gone soon: what is unsaved is sent, and the journal's waiting write
   * (with what was just sent) starts now. */
  private leaving(): void {
    this.sendOnExit();
    this.journal.flush();
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
    this.serverOutdated = false; // written by this page, in its schema version
    this.serverVersion = record.version;
    this.everSaved = true;
    this.conflictPending = false;
    this.sent.confirmed(confirmed);
    const message: BroadcastMessage = {
      workshopType: this.workshopType,
      stepId: this.stepId,
      data: record.data as Record<string, unknown>,
      version: record.version,
      ...(this.opts.schemaVersion !== undefined ? { schemaVersion: this.opts.schemaVersion } : {}),
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
      this.adoptServer(conflict.data, conflict.version, conflict.schemaVersion);
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
    void this.copies.send();
    if (!this.serverLoaded || kind === 'load') void this.load();
    else void this.flush();
  }

  private onBroadcast(raw: unknown): void {
    const message = readBroadcast(raw, this.workshopType, this.stepId);
    if (!message || !this.serverLoaded || this.locked || message.version <= this.serverVersion) return;
    this.everSaved = true;
    this.adoptServer(message.data, message.version, schemaVersionOf(message.schemaVersion));
    if (this.isDirty(this.state.data) && this.autoSave && !this.loop && !this.retry.pending && !this.saveTimers.debouncing) {
      this.schedule();
    }
  }
}
