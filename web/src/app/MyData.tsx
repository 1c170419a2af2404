import { useEffect, useState } from 'react';

import type { CatalogWorkshop, User } from './api';
import {
  type DownloadProgress,
  type ExportDocument,
  ExportError,
  fetchExport,
  formatBytes,
  saveJson,
} from './exportData';
import { isFilled } from './progress';

/** The questions the step pages ask, for the readable copy; other fields get their name. */
const LABELS: Record<string, string> = {
  whyReflection: 'Why is this important to you?',
  howReflection: 'How will you approach this?',
  whatReflection: 'What do you envision?',
  nextStep: "What's your next step?",
  savedMoments: 'Your saved moments',
  currentMomentText: 'A moment not yet saved',
  currentSelectedTag: 'Its tag',
  selectedImage: 'Your vision image',
  uploadedImage: 'Your uploaded image',
  imageTitle: 'Image title',
  reflection: 'Your reflection',
  starPower: 'Your star power',
  goals: 'Your goals',
  timeline: 'Timeline',
  currentGoal: 'A goal not yet added',
};

function label(field: string): string {
  return LABELS[field] ?? field.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

function isImage(value: string): boolean {
  return value.startsWith('data:image/') || value.startsWith('/api/uploads/');
}

function Value({ value, field }: { value: unknown; field: string }) {
  if (typeof value === 'string') {
    return isImage(value) ? <img className="my-data__image" src={value} alt={label(field)} /> : <p className="my-data__text">{value}</p>;
  }
  if (Array.isArray(value)) {
    return (
      <ul>
        {value.map((item, index) => (
          <li key={index}><Item value={item} /></li>
        ))}
      </ul>
    );
  }
  if (value && typeof value === 'object') {
    return <Fields data={value as Record<string, unknown>} />;
  }
  return <p className="my-data__text">{String(value)}</p>;
}

function Item({ value }: { value: unknown }) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const { text, tag, ...others } = value as Record<string, unknown>;
    // An item's id tells the merge which item is which; it says nothing to the participant.
    const rest = Object.fromEntries(Object.entries(others).filter(([key]) => key !== 'id'));
    if (typeof text === 'string') {
      return (
        <>
          {typeof tag === 'string' && tag ? <span className="tag">{tag}</span> : null} <span className="my-data__text">{text}</span>
          {Object.keys(rest).length ? <Fields data={rest} /> : null}
        </>
      );
    }
    return <Fields data={value as Record<string, unknown>} />;
  }
  return typeof value === 'string' ? <span className="my-data__text">{value}</span> : <Value value={value} field="" />;
}

function Fields({ data }: { data: Record<string, unknown> }) {
  const filled = Object.entries(data).filter(([, value]) => isFilled(value));
  if (!filled.length) return <p className="muted">No answer yet.</p>;
  return (
    <dl className="my-data__fields">
      {filled.map(([field, value]) => (
        <div key={field}>
          <dt>{label(field)}</dt>
          <dd><Value value={value} field={field} /></dd>
        </div>
      ))}
    </dl>
  );
}

function progressText(progress: DownloadProgress): string {
  if (progress.total) return `${formatBytes(progress.received)} of ${formatBytes(progress.total)}`;
  return formatBytes(progress.received);
}

/** "Download my data": a readable, printable copy of everything the participant wrote, in
 * the catalogue's order, and the full export as a pretty-printed JSON file. */
export function MyData({ user, catalog }: { user: User; catalog: CatalogWorkshop[] }) {
  const [document, setDocument] = useState<ExportDocument | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [progress, setProgress] = useState<DownloadProgress | null>(null);
  const [downloadState, setDownloadState] = useState<string | null>(null);
  const [downloading, setDownloading] = useState(false);

  useEffect(() => {
    let live = true;
    fetchExport(user.id, (p) => live && setProgress(p)).then(
      (fetched) => live && setDocument(fetched.document),
      (err: unknown) => live && setLoadError(err instanceof ExportError ? err.message : 'Your data could not be loaded.'),
    );
    return () => {
      live = false;
    };
  }, [user.id]);

  const download = async () => {
    setDownloading(true);
    setDownloadState('Preparing your download…');
    try {
      // A fresh copy, so the file holds what was saved up to now.
      const fetched = await fetchExport(user.id, (p) => setDownloadState(`Downloading… ${progressText(p)}`));
      const size = saveJson(fetched.document, fetched.filename);
      setDownloadState(`Downloaded ${fetched.filename} (${formatBytes(size)}). Keep it somewhere safe.`);
    } catch (err) {
      setDownloadState(err instanceof ExportError ? `Not downloaded: ${err.message}` : 'Not downloaded: something went wrong.');
    } finally {
      setDownloading(false);
    }
  };

  return (
    <article className="my-data">
      <p className="eyebrow">Your data</p>
      <h1 id="page-title" tabIndex={-1}>Everything you wrote</h1>
      <p className="no-print">
        Every workshop, step by step. Print this page (or save it as a PDF from the print dialog), or download all
        of your data as a JSON file.
      </p>
      <div className="my-data__actions no-print">
        <button type="button" onClick={() => window.print()} disabled={!document}>Print this page</button>
        <button type="button" className="secondary" onClick={download} disabled={downloading}>
          {downloading ? 'Downloading…' : 'Download as JSON'}
        </button>
      </div>
      <p role="status" className="my-data__status no-print" data-testid="download-status">{downloadState}</p>
      {loadError ? <p className="error-text" role="alert">{loadError}</p> : null}
      {!document && !loadError ? (
        <p>
          Loading your data…{' '}
          {progress ? <progress max={progress.total ?? undefined} value={progress.received} aria-label="Loading your data" /> : null}
        </p>
      ) : null}
      {document ? (
        <>
          <p className="muted">
            {document.userInfo.name || document.userInfo.username} · exported {new Date(document.exportMetadata.exportedAt).toLocaleString()}
          </p>
          {catalog.map((workshop) => {
            const steps = document.workshopStepData[workshop.type] ?? {};
            const completed = document.workshopParticipation.find((p) => p.workshopType === workshop.type)?.completedAt;
            return (
              <section key={workshop.type} className="my-data__workshop" aria-labelledby={`export-${workshop.type}`}>
                <h2 id={`export-${workshop.type}`}>{workshop.name}</h2>
                <p className="muted">{completed ? `Completed ${new Date(completed).toLocaleString()}` : 'Not completed yet'}</p>
                {workshop.sections.map((section) => (
                  <section key={section.number} className="my-data__section">
                    <h3>{section.number}. {section.title}</h3>
                    {section.steps.map((step) => {
                      const saved = steps[step.id];
                      return (
                        <section key={step.id} className="my-data__step" data-step={step.id}>
                          <h4>{step.title}</h4>
                          {saved ? <Fields data={saved.data} /> : <p className="muted">No answer yet.</p>}
                        </section>
                      );
                    })}
                  </section>
                ))}
              </section>
            );
          })}
        </>
      ) : null}
    </article>
  );
}
