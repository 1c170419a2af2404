/**
 * Reports how many changes this browser holds that the server does not have yet
 * (`POST /api/events/presence`), so that a facilitator sees "3 changes not yet saved on their
 * device": on each change, at most once per `minIntervalMs`, only while online, and again
 * every `refreshMs` while something is pending (so "last seen" stays true). Framework-free.
 */

export interface PresenceReporterOptions {
  fetch?: (input: string, init: RequestInit) => Promise<{ ok: boolean; status: number }>;
  url?: string;
  minIntervalMs?: number;
  refreshMs?: number;
  isOnline?: () => boolean;
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}

export class PresenceReporter {
  private readonly send: NonNullable<PresenceReporterOptions['fetch']>;
  private readonly url: string;
  private readonly minIntervalMs: number;
  private readonly refreshMs: number;
  private readonly isOnline: () => boolean;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private pending: number | null = null;
  private reported: number | null = null;
  private lastSentAt = -Infinity;
  private timer: unknown = null;
  private stopped = false;
  /** Set when the server has no presence endpoint or refuses this user: stop asking. */
  private refused = false;

  constructor(options: PresenceReporterOptions = {}) {
    this.send = options.fetch ?? ((input, init) => fetch(input, init));
    this.url = options.url ?? '/api/events/presence';
    this.minIntervalMs = options.minIntervalMs ?? 5000;
    this.refreshMs = options.refreshMs ?? 60_000;
    this.isOnline = options.isOnline ?? (() => (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine !== false);
    this.now = options.now ?? (() => Date.now());
    this.setTimer = options.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimeout ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  }

  /** The current number of pending changes; sends it when due. */
  report(pending: number): void {
    if (this.stopped || this.refused) return;
    this.pending = Math.max(0, Math.min(100_000, Math.floor(pending)));
    this.reschedule();
  }

  /** Back online: send what changed meanwhile. */
  wake(): void {
    this.reschedule();
  }

  private reschedule(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }

  private due(): boolean {
    if (this.pending === null) return false;
    if (this.pending !== this.reported) return true;
    return this.pending > 0 && this.now() - this.lastSentAt >= this.refreshMs;
  }

  private schedule(): void {
    if (this.stopped || this.refused || this.timer !== null) return;
    const wait = Math.max(0, this.lastSentAt + this.minIntervalMs - this.now());
    if (this.due() && wait === 0) {
      void this.flush();
      return;
    }
    const next = this.due() ? wait : this.pending ? Math.max(wait, this.lastSentAt + this.refreshMs - this.now()) : null;
    if (next === null) return;
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.schedule();
    }, next);
  }

  private async flush(): Promise<void> {
    if (!this.isOnline() || this.pending === null) return; // `wake` sends it once back online
    const pending = this.pending;
    this.lastSentAt = this.now();
    try {
      const answer = await this.send(this.url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ pending }),
      });
      if (answer.ok) this.reported = pending;
      else if (answer.status === 404 || answer.status === 403) this.refused = true;
      else if (answer.status === 401) this.reported = pending; // signed out: wait for a change
    } catch {
      // Unreachable: the next change or `wake` tries again.
    }
    this.schedule();
  }
}
