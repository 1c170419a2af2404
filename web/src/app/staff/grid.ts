import type { CatalogStep, CatalogWorkshop } from '../api';
import type { GridParticipant } from './staffApi';

export type CellState = 'not-started' | 'in-progress' | 'done' | 'locked';

export const CELL_LABEL: Record<CellState, string> = {
  'not-started': 'Not started',
  'in-progress': 'In progress',
  done: 'Done',
  locked: 'Completed and locked',
};

/** One participant's state in one step: locked once the workshop is completed (in a section
 * that locks), done once in their completed steps, in progress where they are or have saved
 * something, otherwise not started. */
export function cellState(workshop: CatalogWorkshop, participant: GridParticipant, step: CatalogStep): CellState {
  const section = workshop.sections.find((s) => s.steps.some((t) => t.id === step.id));
  if (participant.completedAt && section?.locksOnCompletion) return 'locked';
  if (participant.completedSteps.includes(step.id)) return 'done';
  if (participant.currentStepId === step.id || participant.steps[step.id]) return 'in-progress';
  return 'not-started';
}

/** Started, not completed, and nothing for `minutes` minutes. */
export function mayNeedHelp(participant: GridParticipant, minutes: number, now: number): boolean {
  if (participant.completedAt || !participant.lastActivityAt) return false;
  return now - Date.parse(participant.lastActivityAt) >= minutes * 60_000;
}

export function stepCounts(workshop: CatalogWorkshop, participants: GridParticipant[], step: CatalogStep): Record<CellState, number> {
  const counts: Record<CellState, number> = { 'not-started': 0, 'in-progress': 0, done: 0, locked: 0 };
  for (const participant of participants) counts[cellState(workshop, participant, step)] += 1;
  return counts;
}
