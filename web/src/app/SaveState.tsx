import type { SaveStatus } from '../lib';

const TEXT: Record<SaveStatus, string> = {
  loading: 'Loading…',
  idle: 'All changes saved',
  dirty: 'Unsaved changes',
  saving: 'Saving…',
  saved: 'All changes saved',
  offline: 'Offline — kept on this device',
  error: 'Not saved',
  conflict: 'Merged with changes made elsewhere',
  locked: 'Locked',
};

export function SaveState({ status, error }: { status: SaveStatus; error: string | null }) {
  const text = status === 'error' && error ? `Not saved: ${error}` : TEXT[status];
  return (
    <p className={`save-state save-state--${status}`} data-testid="save-state" data-status={status} aria-live="polite" role="status">
      {text}
    </p>
  );
}
