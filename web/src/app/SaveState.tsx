import type { SaveStatus } from '../lib';

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
};

export function saveStateText(status: SaveStatus, error: string | null, loaded: boolean, locked: boolean): string {
  if (locked) return TEXT.locked;
  if (status === 'error') {
    if (!loaded) return error ?? 'Could not load your saved work.';
    return error ? `Not saved: ${error}` : 'Not saved';
  }
  return TEXT[status];
}

/** The step's save state, announced politely to screen readers. */
export function SaveState(props: { status: SaveStatus; error: string | null; loaded: boolean; locked: boolean }) {
  const status = props.locked ? 'locked' : props.status;
  return (
    <p className={`save-state save-state--${status}`} data-testid="save-state" data-status={status} role="status" aria-live="polite">
      {saveStateText(props.status, props.error, props.loaded, props.locked)}
    </p>
  );
}
