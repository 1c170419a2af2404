/**
 * The page's steps as the core sees them: the ones that are mounted (a step's own controller
 * saves them) and the ones still writing their journal entry. The core applies a step change
 * through the mounted controller of that step, when there is one, so its screen shows it; and
 * counts the steps with unsaved changes on this device (mounted, or journalled by a page that
 * is gone) in the pending work.
 */
import { userPrefix, type JournalStore } from '../journal.js';

/** What the core and the registry need of a step (a StepDataController). */
export interface RegisteredStep {
  readonly userId: string | number;
  readonly journalKey: string;
  readonly workshopType?: string;
  readonly stepId?: string;
  saveNow(): Promise<unknown>;
  resume(): Promise<void>;
  /** The server has `version` of this step (a live event): fetch and merge it if newer. */
  serverHasVersion?(version: number): void;
  getSnapshot(): { hasPendingChanges: boolean; locked?: boolean; loaded?: boolean };
  /** Does clearJournal(…, journal) concern this step? */
  usesJournal(journal: JournalStore | Storage | null | undefined): boolean;
  /** Keep nothing more on the device and send nothing more. */
  discardLocal(): void;
  /** Resolves when no journal write of this step is running. */
  journalIdle(): Promise<void>;
  /** Change some fields as the participant would (saved by the step's own loop); its
   * parameter is the step's own data type, hence `never` here. */
  updateData?(patch: never): void;
  subscribe?(listener: () => void): () => void;
}

/** Steps that are started (mounted), and what stops listening to each. */
export const mounted = new Map<RegisteredStep, () => void>();
/** Steps with a journal write still running (a step just unmounted may have one). */
export const journaling = new Set<RegisteredStep>();
const listeners = new Set<() => void>();

function notify(): void {
  listeners.forEach((listener) => listener());
}

/** Listen to every change of a mounted step (and to steps mounting and unmounting). */
export function subscribeSteps(listener: () => void): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

export function stepMounted(step: RegisteredStep, isMounted: boolean): void {
  if (isMounted && !mounted.has(step)) mounted.set(step, step.subscribe?.(notify) ?? (() => undefined));
  if (!isMounted) {
    mounted.get(step)?.();
    mounted.delete(step);
  }
  notify();
}

export function stepJournaling(step: RegisteredStep, isJournaling: boolean): void {
  if (isJournaling) journaling.add(step);
  else journaling.delete(step);
}

/** The mounted step of this user, workshop and step that can take a change, if one is. */
export function openStep(userId: string | number, workshopType: string, stepId: string): RegisteredStep | null {
  for (const step of mounted.keys()) {
    if (String(step.userId) !== String(userId) || step.workshopType !== workshopType || step.stepId !== stepId) continue;
    const snapshot = step.getSnapshot();
    if (step.updateData && !snapshot.locked) return step;
  }
  return null;
}

/**
 * The journal keys of this user's steps with changes the server has not confirmed: mounted
 * steps with pending changes, and entries in `journal` (a page that is gone left them; the
 * journal holds an entry exactly while its step has unsaved changes).
 */
export async function pendingStepKeys(userId: string | number, journal: JournalStore | null): Promise<string[]> {
  const id = String(userId);
  const open = [...mounted.keys()].filter((step) => String(step.userId) === id);
  const keys = new Set(open.filter((step) => step.getSnapshot().hasPendingChanges).map((step) => step.journalKey));
  const settled = new Set(open.filter((step) => !step.getSnapshot().hasPendingChanges).map((step) => step.journalKey));
  const stored = journal ? await journal.keys(userPrefix(id)).catch(() => [] as string[]) : [];
  // A mounted step that is saved may still have its entry's removal on its way.
  for (const key of stored) if (!settled.has(key)) keys.add(key);
  return [...keys];
}
