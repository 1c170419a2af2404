import { pendingText, type PendingSummary, type SaveStatus } from 'workshop-data-react';

import { usePendingHere } from './pendingWork';

const TEXT: Record<Exclude<SaveStatus, 'error'>, string> = {
  loading: 'Loading…',
  idle: 'All changes saved',
  dirty: 'Saving…', // a save is scheduled
  saving: 'Saving…',
  saved: 'All changes saved',
  offline: 'Offline — kept on this device',
  'not-kept': 'Not saved yet — this device could not keep a copy',
  conflict: 'Merged with changes made elsewhere',
  locked: 'Locked',
  'signed-out': 'Signed out — not saved yet; sign in again to save',
};

export function saveStateText(status: SaveStatus, error: string | null, loaded: boolean, locked: boolean): string {
  if (locked) return TEXT.locked;
  if (status === 'error') {
    if (!loaded) return error ?? 'Could not load your saved work.';
    return error ? `Not saved: ${error}` : 'Not saved';
  }
  return TEXT[status];
}

/** Something else the step waits for (an image upload) and what it means for the state. */
export interface StatusOverride {
  status: SaveStatus;
  error: string | null;
}

/** From "all is well" to "something may be lost": the indicator shows the worse of two. */
const SEVERITY: SaveStatus[] = ['idle', 'saved', 'dirty', 'saving', 'conflict', 'offline', 'error', 'signed-out', 'not-kept'];

export function worse(step: StatusOverride, other: StatusOverride | null): StatusOverride {
  if (!other || step.status === 'loading' || step.status === 'locked') return step;
  return SEVERITY.indexOf(other.status) > SEVERITY.indexOf(step.status) ? other : step;
}

/** "All changes saved" is said only when nothing of the participant's is pending in this
 * browser; otherwise what is pending elsewhere is said instead. */
function settled(status: SaveStatus): boolean {
  return status === 'idle' || status === 'saved';
}

/** The step's save state, announced politely to screen readers. */
export function SaveState(props: { status: SaveStatus; error: string | null; loaded: boolean; locked: boolean; also?: StatusOverride | null }) {
  const elsewhere = usePendingHere();
  const shown = worse({ status: props.status, error: props.error }, props.also ?? null);
  const status = props.locked ? 'locked' : shown.status;
  const pendingElsewhere = !props.locked && settled(shown.status) && elsewhere.total > 0;
  return (
    <p className={`save-state save-state--${pendingElsewhere ? 'pending' : status}`} data-testid="save-state"
      data-status={pendingElsewhere ? 'pending' : status} role="status" aria-live="polite">
      {pendingElsewhere ? pendingText(elsewhere) : saveStateText(shown.status, shown.error, props.loaded, props.locked)}
    </p>
  );
}

/** The page-independent indicator in the top bar: what of the participant's is pending on this
 * device, or "All changes saved". */
export function PendingWork({ summary }: { summary: PendingSummary }) {
  const state = summary.total === 0 ? 'saved' : summary.failed.length ? 'error' : summary.offline || summary.signedOut ? 'offline' : 'saving';
  return (
    <p className={`pending-work pending-work--${state}`} data-testid="pending-work" data-state={state} data-pending={summary.total}
      role="status" aria-live="polite">
      {pendingText(summary)}
    </p>
  );
}
