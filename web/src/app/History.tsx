import { useCallback, useEffect, useState } from 'react';

import { HttpError } from 'workshop-data-react';
import { api, type StepHistory } from './api';
import { formatBytes } from './exportData';
import type { Step } from './steps/common';

function newKey(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/**
 * "Previous versions" of a step: the versions the server kept (GET …/history), newest first,
 * each restorable. A restore saves what is on screen first, then makes the chosen version
 * the step's new version (based on the version this page has, so an edit made elsewhere in
 * the meantime is not overwritten unseen) and loads it. The version replaced stays listed.
 * A device copy (a device's own text, kept before a merge replaced it) is listed as "From
 * a device before merging", restorable like any version.
 */
export function HistoryPanel<T extends object>({ step }: { step: Step<T> }) {
  const { workshopType, stepId } = step.props;
  const [open, setOpen] = useState(false);
  const [history, setHistory] = useState<StepHistory | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(() => {
    api.history(workshopType, stepId).then(setHistory, (err: unknown) =>
      setMessage(err instanceof HttpError ? err.message : 'The previous versions could not be loaded.'),
    );
  }, [workshopType, stepId]);

  useEffect(() => {
    if (open) refresh();
  }, [open, refresh, step.version]);

  const restore = async (version: number) => {
    setBusy(true);
    setMessage(null);
    try {
      // The base is the version the save just produced, not the one this render saw.
      const base = await step.saveNow();
      const restored = await api.restore(workshopType, stepId, version, base, newKey());
      await step.reload();
      setMessage(
        version < 1
          ? `Restored the text from a device before merging; it is now version ${restored.data.version}.`
          : `Restored version ${version}; it is now version ${restored.data.version}.`,
      );
      refresh();
    } catch (err) {
      setMessage(
        err instanceof HttpError && err.status === 409
          ? 'This step was changed elsewhere just now. Look at the current text, then restore again if you still want to.'
          : err instanceof HttpError
            ? err.message
            : 'The version could not be restored. Check your connection and try again.',
      );
      await step.reload();
    } finally {
      setBusy(false);
    }
  };

  return (
    <details className="history" data-testid="history" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Previous versions</summary>
      {history === null ? (
        <p>Loading…</p>
      ) : history.versions.length === 0 ? (
        <p className="muted">Nothing saved yet.</p>
      ) : (
        <ol aria-label="Saved versions">
          {history.versions.map((v) => (
            <li key={v.version} data-version={v.version} data-source={v.source ?? 'save'}>
              {v.source === 'device' ? (
                <strong>From a device before merging</strong>
              ) : (
                <strong>Version {v.version}</strong>
              )}
              <time dateTime={v.savedAt}>{new Date(v.savedAt).toLocaleString()}</time>
              <span className="muted">{formatBytes(v.size)}</span>
              <span className="history__preview">{v.preview || '(empty)'}</span>
              {v.current ? (
                <span className="badge">Current</span>
              ) : (
                <button type="button" className="secondary" disabled={busy || step.locked}
                  aria-label={v.source === 'device' ? `Restore the text from a device before merging, kept ${new Date(v.savedAt).toLocaleString()}` : `Restore version ${v.version}`}
                  onClick={() => restore(v.version)}>
                  Restore
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
      {history ? <p className="muted">{history.retention}</p> : null}
      <p role="status" data-testid="history-message">{message}</p>
    </details>
  );
}
