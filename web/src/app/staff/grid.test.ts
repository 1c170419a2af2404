import { describe, expect, it } from 'vitest';
import type { CatalogWorkshop } from '../api';
import { cellState, mayNeedHelp, stepCounts } from './grid';
import type { GridParticipant } from './staffApi';

const step = (id: string) => ({ id, title: id, required: true, completedWhen: 'answered' as const, answerFields: null });
const workshop: CatalogWorkshop = {
  type: 'ia',
  name: 'IA',
  sections: [
    { number: 1, key: 'intro', title: 'Intro', locksOnCompletion: false, steps: [step('a')] },
    { number: 2, key: 'work', title: 'Work', locksOnCompletion: true, steps: [step('b'), step('c'), step('d')] },
  ],
};
const base: GridParticipant = {
  userId: 1, username: 'u', name: 'U', currentStepId: 'c', completedSteps: ['a', 'b'], startedAt: '2026-12-08T10:00:00Z',
  completedAt: null, lastActivityAt: '2026-12-08T10:00:00Z', steps: { d: { version: 1, updatedAt: '2026-12-08T10:00:00Z' } },
};

describe('grid', () => {
  it('tells not started, in progress, done and locked apart', () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => workshop.sections.flatMap((s) => s.steps).find((s) => s.id === id)!);
    expect([a, b, c, d].map((s) => cellState(workshop, base, s!))).toEqual(['done', 'done', 'in-progress', 'in-progress']);
    expect(cellState(workshop, { ...base, currentStepId: null, steps: {} }, c!)).toBe('not-started');
    const completed = { ...base, completedAt: '2026-12-08T11:00:00Z' };
    expect([a, b, c].map((s) => cellState(workshop, completed, s!))).toEqual(['done', 'locked', 'locked']);
    expect(stepCounts(workshop, [base, completed], b!)).toEqual({ 'not-started': 0, 'in-progress': 0, done: 1, locked: 1 });
  });
  it('flags who went quiet mid-workshop, after the chosen minutes', () => {
    const at = Date.parse('2026-12-08T10:00:00Z');
    expect(mayNeedHelp(base, 10, at + 9 * 60_000)).toBe(false);
    expect(mayNeedHelp(base, 10, at + 10 * 60_000)).toBe(true);
    expect(mayNeedHelp({ ...base, completedAt: '2026-12-08T10:00:00Z' }, 10, at + 60 * 60_000)).toBe(false);
    expect(mayNeedHelp({ ...base, lastActivityAt: null }, 10, at + 60 * 60_000)).toBe(false);
  });
});
