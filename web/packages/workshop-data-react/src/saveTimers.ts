/** When a step's next save is due: after a pause in typing (debounce), and at the latest a
 * while after the first unsaved change (maxWait). */
export class SaveTimers {
  private debounceTimer: ReturnType<typeof setTimeout> | null = null;
  private maxWaitTimer: ReturnType<typeof setTimeout> | null = null;

  /** A save is waiting for the pause in typing. */
  get debouncing(): boolean {
    return this.debounceTimer !== null;
  }

  /** Save (`save`) after `debounceMs` without a further call, or `maxWaitMs` after the first. */
  schedule(debounceMs: number, maxWaitMs: number, save: () => void): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      save();
    }, debounceMs);
    // The first unsaved change starts the maxWait clock; further typing does not move it.
    if (!this.maxWaitTimer) {
      this.maxWaitTimer = setTimeout(() => {
        this.maxWaitTimer = null;
        save();
      }, maxWaitMs);
    }
  }

  clear(): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    if (this.maxWaitTimer) clearTimeout(this.maxWaitTimer);
    this.debounceTimer = null;
    this.maxWaitTimer = null;
  }
}
