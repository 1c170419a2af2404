import { describe, expect, it } from 'vitest';

import type { LiveEvent } from './eventStream';
import { followStepEvents, routeStepEvent, type FollowedStep } from './followSteps';

function step(userId: number, workshopType: string, stepId: string) {
  const seen: number[] = [];
  const s: FollowedStep & { seen: number[] } = { userId, workshopType, stepId, seen, serverHasVersion: (v) => seen.push(v) };
  return s;
}
const saved = (over: Partial<Extract<LiveEvent, { kind: 'step' }>> = {}): LiveEvent => ({
  kind: 'step', userId: 7, workshopType: 'ia', stepId: 'ia-3-4', version: 5, savedAt: '2026-12-08T01:00:00Z', deviceId: 'tab-other', ...over,
});

describe('routing a live event to the open step', () => {
  it('tells the open step of that user and step, for another device only', () => {
    const open = step(7, 'ia', 'ia-3-4');
    const otherStep = step(7, 'ia', 'ia-3-2');
    const otherUser = step(8, 'ia', 'ia-3-4');
    const steps = [open, otherStep, otherUser];
    expect(routeStepEvent(saved(), 7, steps, 'tab-me')).toBe(1);
    expect(open.seen).toEqual([5]);
    expect(routeStepEvent(saved({ deviceId: 'tab-me' }), 7, steps, 'tab-me')).toBe(0);
    expect(routeStepEvent(saved({ userId: 8 }), 7, steps, 'tab-me')).toBe(0);
    expect(routeStepEvent(saved({ workshopType: 'ast' }), 7, steps, 'tab-me')).toBe(0);
    expect(routeStepEvent(saved({ deviceId: null }), 7, steps, 'tab-me')).toBe(1);
    expect([otherStep.seen, otherUser.seen]).toEqual([[], []]);
  });

  it('has every open step of the user check after a resync; ignores other kinds', () => {
    const a = step(7, 'ia', 'ia-3-4');
    const b = step(7, 'ast', '2-1');
    expect(routeStepEvent({ kind: 'resync', reason: 'beyond_retention' }, 7, [a, b], 'tab-me')).toBe(2);
    expect(routeStepEvent({ kind: 'progress', userId: 7, workshopType: 'ia', at: 'x' }, 7, [a, b], 'tab-me')).toBe(0);
    expect(a.seen).toEqual([Number.MAX_SAFE_INTEGER]);
  });

  it('follows a stream until stopped', () => {
    const listeners = new Set<(e: LiveEvent) => void>();
    const stream = { subscribe: (l: (e: LiveEvent) => void) => (listeners.add(l), () => listeners.delete(l)) };
    const open = step(7, 'ia', 'ia-3-4');
    const stop = followStepEvents(stream, 7, () => [open], 'tab-me');
    listeners.forEach((l) => l(saved()));
    stop();
    listeners.forEach((l) => l(saved({ version: 6 })));
    expect(open.seen).toEqual([5]);
    expect(listeners.size).toBe(0);
  });
});
