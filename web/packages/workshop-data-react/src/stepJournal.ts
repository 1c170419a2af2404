/**
 * One step's entry in the local journal: kept up to date with the page (writes never overlap
 * and always carry the newest state, so fast typing coalesces), and whether the journal now
 * holds what the page would lose.
 */
import {
  defaultJournal,
  removeJournalIfHolds,
  requestPersistentStorage,
  storageJournal,
  type JournalEntry,
  type JournalStore,
} from './journal.js';
import { jsonEqual } from './merge.js';
import { otherWritersIdle, stepJournaling, type RegisteredStep } from './registry.js';
import type { StepDataOptions } from './types.js';

/** An entry with more characters of text than this is written at most once per
 * LARGE_ENTRY_INTERVAL_MS (see StepJournal.turn()). */
export const LARGE_ENTRY_CHARS = 256 * 1024;
export const LARGE_ENTRY_INTERVAL_MS = 500;

export const NOT_KEPT = 'This device could not keep a copy of your changes.';

function describeStorageError(error: unknown): string {
  if ((error as { name?: unknown } | null)?.name === 'QuotaExceededError') return 'This device is out of storage space: your changes are not kept on it.';
  return NOT_KEPT;
}

/** The characters of text in a JSON document (its strings and keys): what copying it costs,
 * counted without serialising it. */
export function textSize(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (value === null || typeof value !== 'object') return 8;
  let size = 0;
  for (const [key, item] of Object.entries(value)) size += key.length + textSize(item);
  return size;
}

/** The journal a step's options ask for: `journal`, else one in `storage`, else the page's. */
export function journalStoreOf<T extends object>(options: StepDataOptions<T>): JournalStore | null {
  if (options.journal !== undefined) return options.journal;
  if (options.storage !== undefined) return options.storage && storageJournal(options.storage);
  return defaultJournal();
}

/** What the page has for the journal now. */
export interface PageCopy<T> {
  /** The page holds something the server does not have: keep it (else remove the entry). */
  keep: boolean;
  data: T;
  /** The server copy `data` started from (null: none seen yet) and its version. */
  base: T | null;
  baseVersion: number;
  /** Fingerprints of snapshots sent and not confirmed. */
  sent: string[];
  /** The step's schema version `data` and `base` are in (null: none declared). */
  schemaVersion: number | null;
  /** Device copies not yet on the server. */
  deviceCopies: { data: T; schemaVersion: number | null }[];
}

export class StepJournal<T extends object> {
  /** The entry kept by an earlier visit has been read: writes may start. */
  private ready = false;
  /** The entry must be brought up to date with the page (a write or a removal). */
  private wanted = false;
  private running: Promise<void> | null = null;
  /** Starts the write that waits for its turn (see turn()). */
  private startWaitingWrite: (() => void) | null = null;
  /** The characters of text in the last entry written, and when that write ended. */
  private lastSize = 0;
  private lastEnded = 0;
  /** The page is being left: the next write starts without waiting for its turn. */
  private urgent = false;
  /** The journal holds what the page would lose (true when there is nothing to keep). */
  holds = true;
  /** Why the last write failed, or null. */
  failure: string | null = null;
  /** clearJournal() was called for this user: keep nothing more on the device. */
  discarded = false;
  /** Marks this page's entries, so it can tell them from another tab's. */
  private readonly writerId = Math.random().toString(36).slice(2);

  constructor(
    readonly store: JournalStore | null,
    readonly key: string,
    private readonly step: RegisteredStep,
    private readonly initial: T,
    private readonly now: () => number,
    private readonly page: { copy(): PageCopy<T>; changed(): void },
  ) {}

  /** Ask the browser to keep the journal under storage pressure (IndexedDB only). */
  askToPersist(): void {
    if (this.store?.kind === 'indexeddb') requestPersistentStorage();
  }

  /** The entry an earlier visit kept, once a step of this page that just unmounted (a quick
   * step change) has finished writing it; null when there is none or it cannot be read. */
  async readKept(): Promise<JournalEntry<T> | null> {
    await otherWritersIdle(this.step, this.key);
    try {
      return this.store ? await this.store.get<T>(this.key) : null;
    } catch {
      return null; // unreadable: nothing to replay
    }
  }

  /** The kept entry has been taken in: from now on the journal follows the page. */
  open(): void {
    this.ready = true;
  }

  /** Bring the entry up to date with the page; each outcome sets `holds` and `failure`. */
  sync(): void {
    if (this.discarded) return;
    this.wanted = true;
    if (this.page.copy().keep) this.holds = false;
    if (!this.ready || this.running) return;
    const run = this.run().finally(() => {
      this.running = null;
      stepJournaling(this.step, false);
    });
    this.running = run;
    stepJournaling(this.step, true);
  }

  /** Resolves when no write of this entry is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Does clearJournal(…, journal) concern this entry? */
  uses(journal: JournalStore | Storage | null | undefined): boolean {
    if (journal === undefined) return this.store === defaultJournal();
    if (journal === null || this.store === null) return journal === this.store;
    return this.store === journal || (this.store as { storage?: Storage }).storage === journal;
  }

  /** A page that is gone learned its save (`confirmed`) was stored: no need to replay it. */
  forgetStored(confirmed: T): void {
    if (!this.store || this.discarded) return;
    void this.idle()
      .then(() => (this.store ? removeJournalIfHolds(this.store, this.key, confirmed, this.initial) : undefined))
      .catch(() => undefined);
  }

  /** The page is being left (a timer may never run again, a write's answer may never come):
   * the newest copy is written now, its entry taken in the caller's task. */
  flush(): void {
    this.urgent = true;
    if (this.startWaitingWrite) {
      this.startWaitingWrite();
      return;
    }
    // A write is running, and the page may be gone before it ends and the next one starts:
    // the newest copy is written now, beside it (IndexedDB applies the two in the order they
    // began). The loop still writes it again after the running one if the page lives on.
    if (this.running && this.wanted && !this.discarded) {
      const copy = this.page.copy();
      if (copy.keep) void this.write(copy);
    }
  }

  /**
   * Resolves when the next write may start. A small entry: at once (after the caller's change,
   * in a microtask). A large one: in a task of its own and at least LARGE_ENTRY_INTERVAL_MS
   * after the previous write ended, so that typing into a field of megabytes does not copy
   * them into IndexedDB on every keystroke; flush() starts it at once.
   */
  private turn(): Promise<void> {
    if (this.urgent || this.lastSize <= LARGE_ENTRY_CHARS) {
      this.urgent = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const start = (): void => {
        clearTimeout(timer);
        this.startWaitingWrite = null;
        this.urgent = false;
        resolve();
      };
      const timer = setTimeout(start, Math.max(0, this.lastEnded + LARGE_ENTRY_INTERVAL_MS - this.now()));
      this.startWaitingWrite = start;
    });
  }

  private async run(): Promise<void> {
    while (this.wanted && !this.discarded) {
      await this.turn(); // changes made meanwhile go into this write (coalesced)
      if (this.discarded) return;
      this.wanted = false;
      let failure: string | null = null;
      const copy = this.page.copy();
      if (copy.keep) {
        failure = await this.write(copy);
      } else if (this.store) {
        await this.remove().catch(() => undefined);
      }
      this.lastEnded = this.now();
      if (this.discarded) return;
      this.failure = failure;
      if (!this.wanted) this.holds = failure === null;
      this.page.changed();
    }
  }

  /** Write the page's copy; the failure's message, or null. A stale entry must never outlive
   * a failed write, or it would later be replayed over newer work: it is removed. */
  private async write(copy: PageCopy<T>): Promise<string | null> {
    if (!this.store) return NOT_KEPT;
    const entry: JournalEntry<T> & { writer: string } = {
      data: copy.data,
      base: copy.base,
      baseVersion: copy.baseVersion,
      changedAt: this.now(),
      writer: this.writerId,
      ...(copy.sent.length ? { sent: copy.sent } : {}),
      ...(copy.schemaVersion !== null ? { schemaVersion: copy.schemaVersion } : {}),
      ...(copy.deviceCopies.length ? { deviceCopies: copy.deviceCopies } : {}),
    };
    this.lastSize = textSize(copy.data) + textSize(copy.base);
    try {
      await this.store.set(this.key, entry);
      return null;
    } catch (error) {
      await this.store.delete(this.key).catch(() => undefined);
      return describeStorageError(error);
    }
  }

  /** Nothing to keep: remove this page's entry, or any entry that holds what the server has
   * (another tab's newer entry stays). */
  private async remove(): Promise<void> {
    const store = this.store;
    if (!store) return;
    const entry = await store.get<T>(this.key);
    if (!entry) return;
    const mine = (entry as { writer?: string }).writer === this.writerId;
    const othersCopies = !mine && Boolean(entry.deviceCopies?.length);
    if (mine || (!othersCopies && jsonEqual({ ...this.initial, ...entry.data }, this.page.copy().data))) await store.delete(this.key);
  }
}
