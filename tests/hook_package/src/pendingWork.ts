// The core's entry point and its types, as another app (or a framework other than React) uses them.
import { SyncLoop, httpPerformers, memoryWorkStore, pendingText, summarize, type PendingSummary } from 'workshop-data-react/core';

export function describeNothingPending(): string {
  const core = new SyncLoop({ performers: httpPerformers(), store: memoryWorkStore() });
  const summary: PendingSummary = summarize(core.getState(), 42, []);
  return pendingText(summary);
}
