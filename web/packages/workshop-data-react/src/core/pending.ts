/**
 * What is pending on this device for a participant, whatever page is open: the core's work
 * (images, step changes, progress) and the steps with unsaved changes (mounted, or journalled by
 * a page that is gone). "All changes saved" is true only when this is empty.
 */
import type { JournalStore } from '../journal.js';
import { pendingCounts, type PendingCounts } from './reducer.js';
import { pendingStepKeys } from './steps.js';
import type { SyncState } from './work.js';

export interface PendingSummary extends PendingCounts {
  /** Steps with text (or other changes) not yet saved. */
  steps: number;
  /** Sending waits for the network (offline, or failing). */
  offline: boolean;
  /** Sending waits for a sign-in. */
  signedOut: boolean;
  /** images + steps + stepChanges + progress. */
  total: number;
}

export const NOTHING_PENDING: PendingSummary = {
  images: 0,
  stepChanges: 0,
  progress: 0,
  failed: [],
  steps: 0,
  offline: false,
  signedOut: false,
  total: 0,
};

export function summarize(state: SyncState, userId: string | number, stepKeys: readonly string[]): PendingSummary {
  const counts = pendingCounts(state, userId);
  const waiting = Object.values(state.entries).some((e) => e.work.userId === String(userId) && e.status.phase === 'waiting');
  const total = counts.images + counts.stepChanges + counts.progress + stepKeys.length;
  return { ...counts, steps: stepKeys.length, offline: total > 0 && (!state.online || waiting), signedOut: state.signedOut, total };
}

/** The summary with the journal read (async: the journal is IndexedDB). */
export async function pendingSummary(state: SyncState, userId: string | number, journal: JournalStore | null): Promise<PendingSummary> {
  return summarize(state, userId, await pendingStepKeys(userId, journal));
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The parts of the summary in words ("1 image waiting to upload", …), for the indicator and
 * the sign-out warning. */
export function describePending(summary: PendingSummary): string[] {
  const parts: string[] = [];
  if (summary.steps) parts.push(`${plural(summary.steps, 'step', 'steps')} with unsaved text`);
  if (summary.images) parts.push(`${plural(summary.images, 'image', 'images')} waiting to upload`);
  if (summary.stepChanges) parts.push(`${plural(summary.stepChanges, 'change', 'changes')} waiting to be saved`);
  if (summary.progress) parts.push('your progress through the workshop, not yet sent');
  return parts;
}

/** One line for the save indicator. */
export function pendingText(summary: PendingSummary): string {
  if (summary.total === 0) return 'All changes saved';
  const parts = describePending(summary).join(', ');
  const what = parts.charAt(0).toUpperCase() + parts.slice(1);
  if (summary.failed.length) return `${what} — not saved: ${summary.failed[0]}`;
  if (summary.signedOut) return `${what} — sign in again to save`;
  if (summary.offline) return `${what} — kept on this device, sent when the network returns`;
  return `${what} — saving…`;
}
