import { useContext, useEffect, useState } from 'react';

import { WorkshopDataContext } from './context.js';
import { defaultSyncCore } from './core/defaultCore.js';
import type { SyncLoop } from './core/loop.js';
import { NOTHING_PENDING, pendingSummary, type PendingSummary } from './core/pending.js';
import { subscribeSteps } from './core/steps.js';
import { defaultJournal, type JournalStore } from './journal.js';

/** How often the journal is read again (another tab's entries, a removal on its way). */
const JOURNAL_POLL_MS = 1000;
/** How often the core reads the device again: work another tab queued and then closed
 * (Web Locks keep two tabs from sending one item at once). */
const RESCAN_EVERY = 5;

/**
 * Everything of the signed-in user pending on this device, whatever page is open: the core's
 * work (read back from the device on first use, and sent) and the steps with unsaved changes.
 * A thin adapter: the core and the registry hold the state, this hook only reads it.
 */
export function usePendingWork(
  options: { userId?: string | number; core?: SyncLoop; journal?: JournalStore | null } = {},
): PendingSummary {
  const defaults = useContext(WorkshopDataContext);
  const userId = options.userId ?? defaults.userId;
  const core = options.core ?? defaultSyncCore();
  const journal = options.journal === undefined ? defaultJournal() : options.journal;
  const [summary, setSummary] = useState<PendingSummary>(NOTHING_PENDING);
  useEffect(() => {
    if (userId == null) return;
    let live = true;
    let reading = false;
    let again = false;
    const read = async () => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      do {
        again = false;
        const next = await pendingSummary(core.getState(), userId, journal);
        if (live) setSummary((old) => (JSON.stringify(old) === JSON.stringify(next) ? old : next));
      } while (again && live);
      reading = false;
    };
    void core.restoreUser(userId);
    const stopCore = core.subscribe(() => void read());
    const stopSteps = subscribeSteps(() => void read());
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
      if (ticks % RESCAN_EVERY === 0) void core.restoreUser(userId);
      void read();
    }, JOURNAL_POLL_MS);
    void read();
    return () => {
      live = false;
      stopCore();
      stopSteps();
      clearInterval(timer);
    };
  }, [core, journal, userId]);
  return summary;
}
