/**
 * The page's steps as a whole: the ones that are mounted, and the ones still writing their
 * journal entry, so that one call can save, resume or forget all of a user's steps.
 */
import { clearWork, resumeWork } from './core/defaultCore.js';
import { journaling, mounted, type RegisteredStep } from './core/steps.js';
import { clearStore, defaultJournal, storageJournal, type JournalStore } from './journal.js';
import { requireUserId } from './userId.js';

export { stepJournaling, stepMounted } from './core/steps.js';
export type { RegisteredStep } from './core/steps.js';

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
  const steps = [...mounted.keys()];
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
  resumeWork();
  await Promise.all([...mounted.keys()].filter((step) => String(step.userId) === id).map((step) => step.resume()));
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
  const matching = [...new Set([...mounted.keys(), ...journaling])].filter(
    (step) => (userId == null || String(step.userId) === String(userId)) && step.usesJournal(journal),
  );
  matching.forEach((step) => step.discardLocal());
  await Promise.all(matching.map((step) => step.journalIdle()));
  if (store) await clearStore(store, userId).catch(() => undefined);
  if (journal === undefined) await clearWork(userId).catch(() => undefined);
}
