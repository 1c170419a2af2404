import { useEffect, useState } from 'react';

import type { CatalogWorkshop } from '../api';
import { orderedSteps, stepLabel } from '../routes';
import { staffApi, type GridParticipant, type SavedStep } from './staffApi';

const UPLOAD_URL = /^\/api\/uploads\/[0-9a-f]{32}$/;
const IMAGE_PATH = /^\/[\w\-./]+\.(png|jpe?g|gif|webp|svg)$/i;

function isImage(value: string): boolean {
  return UPLOAD_URL.test(value) || IMAGE_PATH.test(value);
}

function label(key: string): string {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

/** A saved answer, read-only: text as text, an image URL as the image, lists and objects
 * field by field. */
function Answer({ value, name }: { value: unknown; name: string }) {
  if (value === null || value === undefined || value === '') return <span className="muted">(empty)</span>;
  if (typeof value === 'string') {
    return isImage(value) ? <img className="answer-image" src={value} alt={name} /> : <span className="answer-text">{value}</span>;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return <span>{String(value)}</span>;
  if (Array.isArray(value)) {
    return value.length === 0 ? <span className="muted">(none)</span> : (
      <ol className="answer-list">{value.map((item, i) => <li key={i}><Answer value={item} name={`${name} ${i + 1}`} /></li>)}</ol>
    );
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([key]) => key !== 'id');
  return (
    <dl className="answer-fields">
      {entries.map(([key, item]) => (
        <div key={key}><dt>{label(key)}</dt><dd><Answer value={item} name={label(key)} /></dd></div>
      ))}
    </dl>
  );
}

/** A participant's saved answers in one workshop, read-only (refetched when their row moves). */
export function ParticipantAnswers({ workshop, participant, onClose, onError }: {
  workshop: CatalogWorkshop;
  participant: GridParticipant;
  onClose: () => void;
  onError: (err: unknown) => string;
}) {
  const [steps, setSteps] = useState<Record<string, SavedStep> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    staffApi.participantSteps(participant.userId, workshop.type).then(
      (answers) => {
        if (current) {
          setSteps(answers);
          setError(null);
        }
      },
      (err: unknown) => {
        if (current) setError(onError(err));
      },
    );
    return () => {
      current = false;
    };
  }, [participant.userId, participant.lastActivityAt, workshop.type, onError]);

  const saved = orderedSteps(workshop).filter((s) => steps?.[s.id]);
  return (
    <section className="answers" aria-labelledby="answers-title" data-testid="participant-answers">
      <div className="grid-heading">
        <h2 id="answers-title">{participant.name || participant.username}: answers (read-only)</h2>
        <button type="button" className="secondary" onClick={onClose}>Close</button>
      </div>
      {error ? <p className="error-text" role="alert">{error}</p> : null}
      {steps === null && !error ? <p className="loading">Loading…</p> : null}
      {steps && saved.length === 0 ? <p>Nothing saved in {workshop.name} yet.</p> : null}
      {saved.map((s) => (
        <article key={s.id} className="answer" data-step={s.id}>
          <h3>{stepLabel(workshop, s.id)}: {s.title} <span className="muted">(version {steps![s.id]!.version}, {new Date(steps![s.id]!.updatedAt).toLocaleString()})</span></h3>
          <Answer value={steps![s.id]!.data} name={s.title} />
        </article>
      ))}
    </section>
  );
}
