import type { SaveStatus } from 'workshop-data-react';

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

/** The step's save state, announced politely to screen readers. */
export function SaveState(props: { status: SaveStatus; error: string | null; loaded: boolean; locked: boolean; also?: StatusOverride | null }) {
  const shown = worse({ status: props.status, error: props.error }, props.also ?? null);
  const status = props.locked ? 'locked' : shown.status;
  return (
    <p className={`save-state save-state--${status}`} data-testid="save-state" data-status={status} role="status" aria-live="polite">
      {saveStateText(shown.status, shown.error, props.loaded, props.locked)}
    </p>
  );
}
