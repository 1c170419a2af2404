/**
 * The page's steps as a whole: the ones that are mounted, and the ones still writing their
 * journal entry, so that one call can save, resume or forget all of a user's steps.
 */
import { clearStore, defaultJournal, storageJournal, type JournalStore } from './journal.js';
import { clearUploads } from './uploads.js';
import { requireUserId } from './userId.js';

/** What the registry needs of a step (a StepDataController). */
export interface RegisteredStep {
  readonly userId: string | number;
  readonly journalKey: string;
  saveNow(): Promise<void>;
  resume(): Promise<void>;
  getSnapshot(): { hasPendingChanges: boolean };
  /** Does clearJournal(…, journal) concern this step? */
  usesJournal(journal: JournalStore | Storage | null | undefined): boolean;
  /** Keep nothing more on the device and send nothing more. */
  discardLocal(): void;
  /** Resolves when no journal write of this step is running. */
  journalIdle(): Promise<void>;
}

/** Steps that are started (mounted). */
const mounted = new Set<RegisteredStep>();
/** Steps with a journal write still running (a step just unmounted may have one). */
const journaling = new Set<RegisteredStep>();

export function stepMounted(step: RegisteredStep, isMounted: boolean): void {
  if (isMounted) mounted.add(step);
  else mounted.delete(step);
}

export function stepJournaling(step: RegisteredStep, isJournaling: boolean): void {
  if (isJournaling) journaling.add(step);
  else journaling.delete(step);
}

/** Resolves when no other step of this page is writing the journal entry `key`. */
export async function otherWritersIdle(step: RegisteredStep, key: string): Promise<void> {
  const writers = [...journaling].filter((other) => other !== step && other.journalKey === key);
  await Promise.all(writers.map((other) => other.journalIdle()));
}

/**
 * Save every mounted step at once (before signing out or completing a workshop). Resolves when
 * the server has answered; true when nothing is left unsaved.
 */
export async function saveAllNow(): Promise<boolean> {
  const steps = [...mounted];
  await Promise.all(steps.map((step) => step.saveNow()));
  return steps.every((step) => !step.getSnapshot().hasPendingChanges);
}

/**
 * After a 401 (status `signed-out`), once the same user has signed in again: every mounted step
 * of that user loads again if it had not loaded, and sends what is pending. Resolves when the
 * server has answered.
 */
export async function resumeAfterSignIn(userId: string | number): Promise<void> {
  const id = String(requireUserId(userId));
  await Promise.all([...mounted].filter((step) => String(step.userId) === id).map((step) => step.resume()));
}

function isStorage(value: unknown): value is Storage {
  return typeof value === 'object' && value !== null && typeof (value as Storage).getItem === 'function';
}

/**
 * Forget a user's unsaved changes on this device: call it at sign-out, so the next person on
 * the device finds nothing. Mounted steps of that user stop journalling and will not send
 * anything when they unmount. Without a user: everyone's. `journal` defaults to the page's
 * journal (IndexedDB, and localStorage entries of earlier versions), whose images waiting
 * for upload are removed too; a Storage or a JournalStore clears that one only.
 */
export async function clearJournal(userId?: string | number | null, journal?: JournalStore | Storage | null): Promise<void> {
  const store = journal === undefined ? defaultJournal() : isStorage(journal) ? storageJournal(journal) : journal;
  const matching = [...new Set([...mounted, ...journaling])].filter(
    (step) => (userId == null || String(step.userId) === String(userId)) && step.usesJournal(journal),
  );
  matching.forEach((step) => step.discardLocal());
  await Promise.all(matching.map((step) => step.journalIdle()));
  if (store) await clearStore(store, userId).catch(() => undefined);
  if (journal === undefined) await clearUploads(userId).catch(() => undefined);
}
