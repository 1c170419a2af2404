import { describe, expect, it } from 'vitest';

import type { CatalogStep, CatalogWorkshop } from './api';
import { isAnswered, isFilled, missingRequired, unlockedBy } from './progress';
import { parseRoute } from './routes';

const step = (id: string, extra: Partial<CatalogStep> = {}): CatalogStep => ({
  id,
  title: id,
  required: true,
  completedWhen: 'answered',
  answerFields: null,
  ...extra,
});

const workshop: CatalogWorkshop = {
  type: 'ia',
  name: 'Imaginal Agility',
  sections: [
    { number: 1, key: 'intro', title: 'Intro', locksOnCompletion: false, steps: [step('ia-1-1', { required: false, completedWhen: 'visited' })] },
    { number: 3, key: 'imagine', title: 'Imagine', locksOnCompletion: true, steps: [step('ia-3-2', { answerFields: ['savedMoments'] }), step('ia-3-4')] },
  ],
};

describe('the completion rule', () => {
  it('counts text with more than spaces, lists with items, chosen values', () => {
    expect(isFilled('  ')).toBe(false);
    expect(isFilled('a')).toBe(true);
    expect(isFilled([])).toBe(false);
    expect(isFilled([{ text: 'x' }])).toBe(true);
    expect(isFilled(null)).toBe(false);
    expect(isFilled(0)).toBe(true);
    expect(isFilled({ a: '' })).toBe(false);
  });

  it('needs every listed answer field; a draft alone does not complete IA 3-2', () => {
    const moments = workshop.sections[1]!.steps[0]!;
    expect(isAnswered(moments, { savedMoments: [], currentMomentText: 'draft' })).toBe(false);
    expect(isAnswered(moments, { savedMoments: [{ text: 'a', tag: 'Memory' }], currentMomentText: '' })).toBe(true);
    expect(isAnswered(step('x'), { a: '', b: 'typed' })).toBe(true);
    expect(isAnswered(step('x'), { a: '', b: '' })).toBe(false);
  });

  it('unlocks the opened step and the next one, and lists missing required steps in order', () => {
    expect(unlockedBy(workshop, 'ia-1-1')).toEqual(['ia-1-1', 'ia-3-2']);
    expect(unlockedBy(workshop, 'ia-3-4')).toEqual(['ia-3-4']);
    const progress = { workshopType: 'ia' as const, currentStepId: null, completedSteps: ['ia-3-2'], unlockedSteps: [], version: 1 };
    expect(missingRequired(workshop, progress).map((s) => s.id)).toEqual(['ia-3-4']);
  });
});

describe('routes', () => {
  it('knows overviews, steps, my data, and says when a step does not exist', () => {
    expect(parseRoute('', [workshop])).toEqual({ kind: 'overview', workshopType: 'ia' });
    expect(parseRoute('#/ia', [workshop])).toEqual({ kind: 'overview', workshopType: 'ia' });
    expect(parseRoute('#/ia/ia-3-4', [workshop])).toEqual({ kind: 'step', workshopType: 'ia', stepId: 'ia-3-4' });
    expect(parseRoute('#/my-data', [workshop])).toEqual({ kind: 'my-data' });
    expect(parseRoute('#/ia/ia-9-9', [workshop])).toEqual({ kind: 'missing', workshopType: 'ia', path: 'ia/ia-9-9' });
    expect(parseRoute('#/ia/ia-3-4/x', [workshop]).kind).toBe('missing');
    expect(parseRoute('#/zz', [workshop])).toEqual({ kind: 'missing', workshopType: null, path: 'zz' });
  });
});
