import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';

import { FakeEvents, FakeServer, MemoryStorage } from './testing/fakeServer';
import { useWorkshopStepData } from './useWorkshopStepData';

let server: FakeServer;

beforeEach(() => {
  vi.useFakeTimers();
  server = new FakeServer();
});

afterEach(() => {
  vi.useRealTimers();
});

async function flush(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 5; i += 1) await vi.advanceTimersByTimeAsync(0);
  });
}

it('loads, edits, saves after the debounce and reports each state', async () => {
  server.put('ia:ia-3-4', { whyReflection: 'saved before' }, 2);
  const seen: string[] = [];
  const options = {
    fetch: server.fetch,
    storage: new MemoryStorage(),
    events: new FakeEvents(),
    createChannel: null,
    userId: 1,
  };
  const { result, unmount } = renderHook(() => {
    const hook = useWorkshopStepData('ia', 'ia-3-4', { whyReflection: '', nextStep: '' }, options);
    if (seen.at(-1) !== hook.status) seen.push(hook.status);
    return hook;
  });
  expect(result.current.status).toBe('loading');
  await flush();
  expect(result.current.loaded).toBe(true);
  expect(result.current.data).toEqual({ whyReflection: 'saved before', nextStep: '' });

  act(() => result.current.updateData({ nextStep: 'Talk to Sam' }));
  expect(result.current.status).toBe('dirty');
  expect(result.current.hasPendingChanges).toBe(true);
  expect(server.saves()).toHaveLength(0);

  await act(async () => {
    await vi.advanceTimersByTimeAsync(1000);
  });
  await flush();
  expect(server.saves()).toHaveLength(1);
  expect(server.saves()[0]?.body).toMatchObject({
    workshopType: 'ia',
    stepId: 'ia-3-4',
    baseVersion: 2,
    data: { whyReflection: 'saved before', nextStep: 'Talk to Sam' },
  });
  expect(result.current).toMatchObject({ status: 'saved', version: 3, saving: false, hasPendingChanges: false });
  expect(seen).toEqual(['loading', 'idle', 'dirty', 'saving', 'saved']);

  act(() => result.current.updateData({ nextStep: 'unsaved at unmount' }));
  unmount();
  expect(server.saves().at(-1)).toMatchObject({ keepalive: true });
});
