import { useCallback, useEffect, useRef, useState } from 'react';

import { defaultSyncCore, progressKey, type ProgressWork, type SyncLoop, type WorkshopType } from 'workshop-data-react';
import { api, type CatalogStep, type CatalogWorkshop, type NavigationProgress } from './api';
import { orderedSteps } from './routes';
import { recall, remember } from './storage';

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
  /** The server could not be asked: `progress` is the last known on this device (with what
   * this device has not sent yet). */
  fromDevice: boolean;
  /** The participant opened this step. */
  visit: (stepId: string) => void;
  /** This step's saved answer satisfies its completion rule. */
  answered: (stepId: string) => void;
  /** Read the stored progress again (another tab or device may have added to it). */
  refresh: () => void;
}

/** Where the last progress the server confirmed is kept on this device, per user and workshop. */
function lastKnownKey(userId: string | number, workshopType: string): string {
  return `workshop-data:progress:${userId}:${workshopType}`;
}

/** The reports of this workshop the core still has to send (journalled on the device). */
function unsent(core: SyncLoop, userId: string | number, workshopType: string): ProgressWork | null {
  const work = core.get(progressKey(String(userId), workshopType))?.work;
  return work?.kind === 'progress' ? work : null;
}

function withUnsent(progress: NavigationProgress, work: ProgressWork | null): NavigationProgress {
  if (!work) return progress;
  return {
    ...progress,
    currentStepId: work.currentStepId ?? progress.currentStepId,
    completedSteps: union(progress.completedSteps, work.completedSteps),
    unlockedSteps: union(progress.unlockedSteps, work.unlockedSteps),
  };
}

/**
 * The workshop's navigation progress. Reports are the package core's work: journalled on the
 * device and sent by its one loop (merged, retried, sent when the network returns, after a
 * reload too); the server merges them (grow-only). Offline, the progress shown is the last the
 * server confirmed on this device plus what is unsent, marked as from this device; it is read
 * again from the server when the network returns.
 */
export function useNavigationProgress(
  workshop: CatalogWorkshop | null,
  userId: string | number,
  onError: (error: unknown) => void,
  core: SyncLoop = defaultSyncCore(),
): ProgressApi {
  const workshopType: WorkshopType | null = workshop?.type ?? null;
  const [progress, setProgress] = useState<NavigationProgress | null>(null);
  const [fromDevice, setFromDevice] = useState(false);
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;

  const [generation, setGeneration] = useState(0);
  const refresh = useCallback(() => setGeneration((n) => n + 1), []);

  /** The server confirmed `stored`: keep it on the device, show it with what is unsent. */
  const confirmed = useCallback(
    (stored: NavigationProgress) => {
      remember(lastKnownKey(userId, stored.workshopType), stored);
      setFromDevice(false);
      setProgress((local) => withUnsent(merge(stored, local), unsent(core, userId, stored.workshopType)));
    },
    [core, userId],
  );

  useEffect(() => {
    setProgress(null);
    setFromDevice(false);
  }, [workshopType]);
  useEffect(() => {
    if (!workshopType) return;
    let live = true;
    void core.restoreUser(userId).then(() => {
      if (live) setProgress((local) => (local ? withUnsent(local, unsent(core, userId, workshopType)) : local));
    });
    api.progress(workshopType).then(
      (stored) => live && confirmed(stored),
      (err: unknown) => {
        if (!live) return;
        const known = recall<NavigationProgress>(lastKnownKey(userId, workshopType)) ?? { workshopType, ...EMPTY };
        setFromDevice(true);
        setProgress((local) => withUnsent(merge(known, local), unsent(core, userId, workshopType)));
        onErrorRef.current(err);
      },
    );
    return () => {
      live = false;
    };
  }, [workshopType, generation, core, userId, confirmed]);

  // What the loop sends comes back as the server's merged progress.
  useEffect(
    () =>
      core.onResult((work, result) => {
        if (work.kind !== 'progress' || work.userId !== String(userId) || work.workshopType !== workshopType) return;
        const stored = result as NavigationProgress | null;
        if (stored && Array.isArray(stored.completedSteps)) confirmed(stored);
      }),
    [core, userId, workshopType, confirmed],
  );

  // Back online: ask the server again (the loop sends what is unsent by itself).
  useEffect(() => {
    window.addEventListener('online', refresh);
    return () => window.removeEventListener('online', refresh);
  }, [refresh]);

  const send = useCallback(
    (report: { currentStepId?: string; completedSteps: string[]; unlockedSteps: string[] }) => {
      if (!workshopType) return;
      const work: ProgressWork = {
        kind: 'progress',
        id: progressKey(String(userId), workshopType),
        userId: String(userId),
        createdAt: Date.now(),
        workshopType,
        currentStepId: report.currentStepId ?? null,
        completedSteps: report.completedSteps,
        unlockedSteps: report.unlockedSteps,
      };
      setProgress((local) => withUnsent(local ?? { workshopType, ...EMPTY }, work));
      void core.enqueue([work]);
    },
    [workshopType, userId, core],
  );

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

  return { progress, fromDevice, visit, answered, refresh };
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
