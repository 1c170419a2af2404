import { useRef, useState } from 'react';

import type { CatalogWorkshop, NavigationProgress, WorkshopStatus } from './api';
import { missingRequired } from './progress';
import { stepHref } from './routes';

function titles(sections: { title: string }[]): string {
  return sections.length ? sections.map((s) => s.title).join(', ') : 'none';
}

/** What completing locks, by the catalogue's `locksOnCompletion` (the server's lock policy). */
export function lockPolicy(workshop: CatalogWorkshop) {
  return {
    locked: workshop.sections.filter((s) => s.locksOnCompletion),
    editable: workshop.sections.filter((s) => !s.locksOnCompletion),
  };
}

/**
 * "Complete workshop": enabled only when every required step is done (the missing ones are
 * listed otherwise), asks for confirmation in a modal dialog that names what will be locked,
 * and once completed states which sections are locked and which stay editable.
 */
export function CompletionPanel(props: {
  workshop: CatalogWorkshop;
  progress: NavigationProgress | null;
  status: WorkshopStatus | null;
  onComplete: () => Promise<string | null>;
}) {
  const { workshop, progress, status } = props;
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const { locked, editable } = lockPolicy(workshop);

  if (status?.completed) {
    return (
      <section className="completion" aria-labelledby="completion-title" data-testid="workshop-completed">
        <h2 id="completion-title">Workshop completed</h2>
        <p>
          You completed {workshop.name}
          {status.completedAt ? ` on ${new Date(status.completedAt).toLocaleString()}` : ''}.
        </p>
        <p data-testid="locked-sections">
          <strong>Locked, read-only:</strong> {titles(locked)}. Your answers there are kept but can no longer be
          changed; an administrator can reopen the workshop.
        </p>
        <p data-testid="editable-sections">
          <strong>Still editable:</strong> {titles(editable)}.
        </p>
      </section>
    );
  }

  const missing = progress ? missingRequired(workshop, progress) : [];
  const ready = progress !== null && missing.length === 0;

  const confirm = async () => {
    dialog.current?.close();
    setBusy(true);
    setMessage(null);
    setMessage(await props.onComplete());
    setBusy(false);
  };

  return (
    <section className="completion" aria-labelledby="completion-title">
      <h2 id="completion-title">Complete the workshop</h2>
      {progress === null ? <p>Loading your progress…</p> : null}
      {missing.length > 0 ? (
        <div id="completion-missing">
          <p>Complete these {missing.length} required steps first:</p>
          <ul className="missing" data-testid="missing-steps">
            {missing.map((step) => (
              <li key={step.id}>
                <a href={stepHref(workshop.type, step.id)}>{step.title}</a>
              </li>
            ))}
          </ul>
        </div>
      ) : ready ? (
        <p id="completion-missing">Every required step is done. Completing locks: {titles(locked)}.</p>
      ) : null}
      <button type="button" disabled={!ready || busy} aria-describedby="completion-missing"
        onClick={() => {
          dialog.current?.showModal();
          cancel.current?.focus(); // the safe choice first
        }}>
        {busy ? 'Completing…' : 'Complete workshop'}
      </button>
      <p role="status" className="complete__message" data-testid="workshop-message">{message}</p>
      <dialog ref={dialog} className="dialog" aria-labelledby="confirm-title" aria-describedby="confirm-text">
        <h2 id="confirm-title">Complete {workshop.name}?</h2>
        <div id="confirm-text">
          <p>
            These sections will be <strong>locked</strong>: {titles(locked)}. You will be able to read your
            answers there but not change them; only an administrator can reopen the workshop.
          </p>
          <p>These stay editable: {titles(editable)}.</p>
        </div>
        <div className="dialog__actions">
          <button type="button" onClick={confirm}>Complete and lock</button>
          <button type="button" className="secondary" ref={cancel} onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
    </section>
  );
}
