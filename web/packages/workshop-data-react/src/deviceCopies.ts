/**
 * Device copies: before a merge replaces this page's own unsaved text (another device changed
 * the same words), that text is kept in the step's history on the server
 * (`POST …/step/{type}/{step}/history`), so every version a device held stays restorable. A
 * copy waits here, and in the step's journal entry, until the server has it; it is sent at
 * once and retried like a save (network errors, 5xx, 408, 429, with backoff), again after
 * `resume()` when the server answered 401, and dropped when the server refuses it for good
 * (a completed workshop's 423, another 4xx).
 */
import { stepPath } from './saveRequest.js';
import { HttpError, isRetryable, requestJson } from './transport.js';

export interface DeviceCopy<T> {
  data: T;
  /** The step's schema version `data` is in (null: none declared). */
  schemaVersion: number | null;
}

export interface DeviceCopySender {
  fetchFn: typeof fetch;
  url(path: string): string;
  now(): number;
  /** May copies be sent now (loaded, not locked, signed in, alive)? */
  canSend(): boolean;
  retryDelay(attempt: number, error: unknown): number;
  /** The pending copies changed: the journal must follow. */
  changed(): void;
}

export class DeviceCopies<T> {
  /** Oldest first. */
  pending: DeviceCopy<T>[] = [];
  private sending: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;

  constructor(
    private readonly workshopType: string,
    private readonly stepId: string,
    private readonly sender: DeviceCopySender,
  ) {}

  /** Keep `copy` (and send it when sending is possible). */
  add(copy: DeviceCopy<T>): void {
    this.pending.push(copy);
    this.sender.changed();
    void this.send();
  }

  /** Copies an earlier visit's journal kept. */
  restore(copies: DeviceCopy<T>[]): void {
    this.pending.push(...copies);
  }

  /** Send what is pending now (after a load, `online`, `resume()`), without waiting for a
   * scheduled retry. Resolves when done or stopped. */
  send(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.sending ??= this.run().finally(() => {
      this.sending = null;
    });
    return this.sending;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The step is locked: no copy can be kept any more (the server would refuse it, 423). */
  drop(): void {
    this.stop();
    this.pending = [];
  }

  private async run(): Promise<void> {
    while (this.pending.length && this.sender.canSend()) {
      const copy = this.pending[0]!;
      try {
        await requestJson(
          this.sender.fetchFn,
          this.sender.url(`${stepPath(this.workshopType, this.stepId)}/history`),
          {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ data: copy.data, ...(copy.schemaVersion !== null ? { schemaVersion: copy.schemaVersion } : {}) }),
          },
          this.sender.now,
        );
      } catch (error) {
        if (error instanceof HttpError && error.status === 401) return; // sent after resume()
        if (isRetryable(error)) {
          const delay = this.sender.retryDelay(this.attempt, error);
          this.attempt += 1;
          this.timer = setTimeout(() => void this.send(), delay);
          return;
        }
        // Refused for good (the workshop was completed, or the copy is over a limit).
      }
      this.attempt = 0;
      if (this.pending[0] === copy) this.pending.shift();
      this.sender.changed();
    }
  }
}
