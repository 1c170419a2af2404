import { useCallback, useEffect, useRef, useState } from 'react';

import { HttpError, type WorkshopType } from 'workshop-data-react';
import { api, type CatalogStep, type CatalogWorkshop, type NavigationProgress } from './api';
import { orderedSteps } from './routes';

/**
 * When a step counts as completed (the catalogue states it per step, `completedWhen`):
 * - 'visited': once the participant opens it (the introductions);
 * - 'answered': once a save the server confirmed holds a non-empty answer: every field in
 *   `answerFields` when the catalogue lists them, otherwise any field.
 * A value is non-empty when it is text with something other than spaces, a list with an item,
 * a chosen value (not null), a number, `true`, or an object with a non-empty value.
 * Progress only grows: clearing an answer later does not undo a completed step.
 */
export function isFilled(value: unknown): boolean {
  if (value === null || value === undefined || value === false) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.values(value).some(isFilled);
  return true;
}

export function isAnswered(step: CatalogStep, data: object): boolean {
  const record = data as Record<string, unknown>;
  if (step.answerFields && step.answerFields.length > 0) return step.answerFields.every((f) => isFilled(record[f]));
  return Object.values(record).some(isFilled);
}

/** Opening a step unlocks it and the step after it (the catalogue's order). */
export function unlockedBy(workshop: CatalogWorkshop, stepId: string): string[] {
  const ordered = orderedSteps(workshop);
  const index = ordered.findIndex((s) => s.id === stepId);
  return ordered.slice(index, index + 2).map((s) => s.id);
}

export function missingRequired(workshop: CatalogWorkshop, progress: NavigationProgress | null): CatalogStep[] {
  const done = new Set(progress?.completedSteps ?? []);
  return orderedSteps(workshop).filter((s) => s.required && !done.has(s.id));
}

const EMPTY: Omit<NavigationProgress, 'workshopType'> = {
  currentStepId: null,
  completedSteps: [],
  unlockedSteps: [],
  version: null,
};

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}

export interface ProgressApi {
  progress: NavigationProgress | null;
  /** The participant opened this step. */
  visit: (stepId: string) => void;
  /** This step's saved answer satisfies its completion rule. */
  answered: (stepId: string) => void;
  /** Read the stored progress again (another tab or device may have added to it). */
  refresh: () => void;
}

/**
 * The workshop's navigation progress, reported to the server as the participant moves. The
 * server merges reports (grow-only); steps a failed report carried are sent again with the
 * next one, and when the browser is back online.
 */
export function useNavigationProgress(
  workshop: CatalogWorkshop | null,
  onError: (error: unknown) => void,
): ProgressApi {
  const workshopType: WorkshopType | null = workshop?.type ?? null;
  const [progress, setProgress] = useState<NavigationProgress | null>(null);
  const pending = useRef<{ completed: string[]; unlocked: string[] }>({ completed: [], unlocked: [] });
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;

  const [generation, setGeneration] = useState(0);
  const refresh = useCallback(() => setGeneration((n) => n + 1), []);
  useEffect(() => {
    setProgress(null);
    pending.current = { completed: [], unlocked: [] };
  }, [workshopType]);
  useEffect(() => {
    if (!workshopType) return;
    let live = true;
    api.progress(workshopType).then(
      (stored) => live && setProgress((local) => merge(stored, local)),
      (err: unknown) => {
        if (!live) return;
        setProgress((local) => local ?? { workshopType, ...EMPTY });
        onErrorRef.current(err);
      },
    );
    return () => {
      live = false;
    };
  }, [workshopType, generation]);

  const send = useCallback(
    (report: { currentStepId?: string; completedSteps: string[]; unlockedSteps: string[] }) => {
      if (!workshopType) return;
      const queued = pending.current;
      const body = {
        ...report,
        completedSteps: union(queued.completed, report.completedSteps),
        unlockedSteps: union(queued.unlocked, report.unlockedSteps),
      };
      pending.current = { completed: [], unlocked: [] };
      setProgress((local) => merge({ ...(local ?? { workshopType, ...EMPTY }), ...body, version: local?.version ?? null }, local));
      api.reportProgress(workshopType, body).then(
        (stored) => setProgress((local) => merge(stored, local)),
        (err: unknown) => {
          // Sent again with the next report; a refused report (4xx) is not retried.
          if (!(err instanceof HttpError)) {
            pending.current = {
              completed: union(pending.current.completed, body.completedSteps),
              unlocked: union(pending.current.unlocked, body.unlockedSteps),
            };
          }
          onErrorRef.current(err);
        },
      );
    },
    [workshopType],
  );

  useEffect(() => {
    const retry = () => {
      if (pending.current.completed.length || pending.current.unlocked.length) send({ completedSteps: [], unlockedSteps: [] });
    };
    window.addEventListener('online', retry);
    return () => window.removeEventListener('online', retry);
  }, [send]);

  const progressRef = useRef(progress);
  progressRef.current = progress;

  const visit = useCallback(
    (stepId: string) => {
      if (!workshop) return;
      const step = orderedSteps(workshop).find((s) => s.id === stepId);
      if (!step) return;
      send({
        currentStepId: stepId,
        completedSteps: step.completedWhen === 'visited' ? [stepId] : [],
        unlockedSteps: unlockedBy(workshop, stepId),
      });
    },
    [workshop, send],
  );

  const answered = useCallback(
    (stepId: string) => {
      if (progressRef.current?.completedSteps.includes(stepId)) return;
      send({ completedSteps: [stepId], unlockedSteps: [] });
    },
    [send],
  );

  return { progress, visit, answered, refresh };
}

/** The server's progress, plus what this page already knows (reports still on their way). */
function merge(stored: NavigationProgress, local: NavigationProgress | null): NavigationProgress {
  if (!local || local.workshopType !== stored.workshopType) return stored;
  return {
    ...stored,
    completedSteps: union(stored.completedSteps, local.completedSteps),
    unlockedSteps: union(stored.unlockedSteps, local.unlockedSteps),
  };
}
