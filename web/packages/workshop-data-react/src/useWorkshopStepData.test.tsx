import { act, render, renderHook, screen, fireEvent } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';

import { WorkshopDataProvider } from './context.js';
import { journalKey } from './journal.js';
import { FakeEvents, FakeServer, MemoryStorage } from './testing/fakeServer.js';
import type { StepDataOptions } from './types.js';
import { UploadQueue, memoryUploads, uploadKey, usePendingUpload } from './uploads.js';
import { useWorkshopStepData } from './useWorkshopStepData.js';

let server: FakeServer;
let storage: MemoryStorage;
let events: FakeEvents;

beforeEach(() => {
  vi.useFakeTimers();
  server = new FakeServer();
  storage = new MemoryStorage();
  events = new FakeEvents();
});

afterEach(() => {
  vi.useRealTimers();
});

function options(extra: Partial<StepDataOptions<object>> = {}): StepDataOptions<object> {
  return { fetch: server.fetch, storage, events, createChannel: null, userId: 1, ...extra };
}

async function flush(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 8; i += 1) await vi.advanceTimersByTimeAsync(0);
  });
}

async function advance(ms: number): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
  await flush();
}

it('loads, edits, saves after the debounce, reports each state and flushes on unmount', async () => {
  server.put('ia:ia-3-4', { whyReflection: 'saved before' }, 2);
  const seen: string[] = [];
  const opts = options();
  const { result, unmount } = renderHook(() => {
    const hook = useWorkshopStepData('ia', 'ia-3-4', { whyReflection: '', nextStep: '' }, opts);
    if (seen.at(-1) !== hook.status) seen.push(hook.status);
    return hook;
  });
  expect(result.current).toMatchObject({ status: 'loading', loaded: false });
  await flush();
  expect(result.current.loaded).toBe(true);
  expect(result.current.data).toEqual({ whyReflection: 'saved before', nextStep: '' });

  act(() => result.current.updateData({ nextStep: 'Talk to Sam' }));
  expect(result.current).toMatchObject({ status: 'dirty', hasPendingChanges: true, data: { nextStep: 'Talk to Sam' } });
  expect(server.saves()).toHaveLength(0);

  let release!: () => void;
  server.gate = new Promise<void>((resolve) => (release = resolve));
  await advance(1000);
  expect(result.current).toMatchObject({ status: 'saving', saving: true });
  server.gate = null;
  release();
  await flush();
  expect(server.saves()).toHaveLength(1);
  // Only the change, as a merge patch on version 2.
  expect(server.saves()[0]).toMatchObject({ method: 'PATCH', baseVersion: 2, body: { nextStep: 'Talk to Sam' } });
  expect(server.docs.get('ia:ia-3-4')?.data).toEqual({ whyReflection: 'saved before', nextStep: 'Talk to Sam' });
  expect(result.current).toMatchObject({ status: 'saved', version: 3, saving: false, hasPendingChanges: false });
  expect(result.current.lastSavedAt).toBe('2026-01-01T00:00:03.000000Z');
  expect(seen).toEqual(['loading', 'idle', 'dirty', 'saving', 'saved']);

  act(() => result.current.updateData({ nextStep: 'unsaved at unmount' }));
  unmount();
  expect(server.saves()).toHaveLength(2);
  expect(server.saves()[1]).toMatchObject({ keepalive: true, method: 'PATCH', body: { nextStep: 'unsaved at unmount' } });
});

it('a step change flushes the previous step and loads the next with its own defaults', async () => {
  server.put('ast:3-2', { goals: ['Ship it'] }, 1);
  const opts = options();
  const { result, rerender } = renderHook(
    ({ step, initial }: { step: string; initial: Record<string, unknown> }) => useWorkshopStepData('ast', step, initial, opts),
    { initialProps: { step: '2-1', initial: { starPower: '', reflection: '' } as Record<string, unknown> } },
  );
  await flush();
  act(() => result.current.updateData({ starPower: 'Feeling' }));
  rerender({ step: '3-2', initial: { goals: [], timeline: '' } });
  expect(server.saves()).toHaveLength(1);
  expect(server.saves()[0]).toMatchObject({ keepalive: true, body: { stepId: '2-1', data: { starPower: 'Feeling', reflection: '' } } });
  await flush();
  expect(result.current.data).toEqual({ goals: ['Ship it'], timeline: '' });
  expect(server.docs.get('ast:2-1')?.data).toEqual({ starPower: 'Feeling', reflection: '' });
});

it('takes userId and other defaults from WorkshopDataProvider; the hook options win', async () => {
  const onSaveSuccess = vi.fn();
  const wrapper = ({ children }: { children: ReactNode }) => (
    <WorkshopDataProvider {...options({ userId: 42, onSaveSuccess, debounceMs: 5000 })}>{children}</WorkshopDataProvider>
  );
  const { result } = renderHook(() => useWorkshopStepData('ia', 'ia-4-2', { reflection: '' }, { debounceMs: 200 }), { wrapper });
  await flush();
  act(() => result.current.updateData({ reflection: 'provided' }));
  await flush();
  expect(storage.getItem(journalKey(42, 'ia', 'ia-4-2'))).toContain('provided');
  await advance(200);
  expect(server.saves()).toHaveLength(1);
  expect(onSaveSuccess).toHaveBeenCalledTimes(1);
});

it('works under StrictMode: one load is used, one save is sent', async () => {
  server.put('ia:ia-3-4', { whyReflection: 'before' }, 1);
  const opts = options();
  function Step() {
    const { data, updateData, status } = useWorkshopStepData('ia', 'ia-3-4', { whyReflection: '' }, opts);
    return (
      <div>
        <label htmlFor="whyReflection">Why?</label>
        <textarea id="whyReflection" value={data.whyReflection} onChange={(e) => updateData({ whyReflection: e.target.value })} />
        <p data-testid="save-state">{status}</p>
      </div>
    );
  }
  render(
    <StrictMode>
      <Step />
    </StrictMode>,
  );
  await flush();
  const field = screen.getByLabelText('Why?') as HTMLTextAreaElement;
  expect(field.value).toBe('before');
  fireEvent.change(field, { target: { value: 'typed in the page' } });
  expect(screen.getByTestId('save-state').textContent).toBe('dirty');
  await advance(1000);
  expect(server.saves()).toHaveLength(1);
  expect(server.docs.get('ia:ia-3-4')).toMatchObject({ data: { whyReflection: 'typed in the page' }, version: 2 });
  expect(screen.getByTestId('save-state').textContent).toBe('saved');
});

it('a 423 makes the hook read-only', async () => {
  const opts = options();
  const { result } = renderHook(() => useWorkshopStepData('ia', 'ia-3-4', { whyReflection: '' }, opts));
  await flush();
  server.fail('POST', { kind: 'status', status: 423, body: { success: false, code: 'workshop_locked', error: 'Completed.' } });
  act(() => result.current.updateData({ whyReflection: 'late' }));
  await advance(1000);
  expect(result.current).toMatchObject({ status: 'locked', locked: true, error: 'Completed.', hasPendingChanges: false });
  expect(result.current.rejected).toMatchObject({ data: { whyReflection: 'late' }, fields: ['whyReflection'], message: 'Completed.' });
  act(() => result.current.updateData({ whyReflection: 'ignored' }));
  expect(result.current.data.whyReflection).toBe(''); // the server copy
});

it('usePendingUpload restores a waiting image after a reload, previews it, and discards it', async () => {
  const store = memoryUploads();
  const key = uploadKey(7, 'ia', 'ia-3-3', 'uploadedImage');
  await store.set(key, { blob: new Blob(['png'], { type: 'image/png' }), createdAt: 0, url: null });
  const offline: typeof fetch = async () => {
    throw new TypeError('Failed to fetch');
  };
  const q = new UploadQueue({ fetch: offline, store, events });
  URL.createObjectURL = vi.fn(() => 'blob:preview');
  URL.revokeObjectURL = vi.fn();
  const { result } = renderHook(() => usePendingUpload('ia', 'ia-3-3', 'uploadedImage', { userId: 7, queue: q }));
  await flush();
  expect(result.current.pending).toMatchObject({ state: 'waiting', kept: true });
  expect(result.current.previewUrl).toBe('blob:preview');
  await act(() => result.current.discard());
  expect(result.current.pending).toBeNull();
  expect(store.items.size).toBe(0);
  expect(URL.revokeObjectURL).toHaveBeenCalledWith('blob:preview');
});

it('throws a clear error without a userId (none in the options, no provider), and sends nothing', () => {
  const fetch = vi.fn(server.fetch);
  const { userId: _none, ...withoutUser } = options({ fetch });
  const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  expect(() => renderHook(() => useWorkshopStepData('ia', 'ia-3-4', { whyReflection: '' }, withoutUser))).toThrow(
    /userId is required/,
  );
  expect(() => renderHook(() => useWorkshopStepData('ia', 'ia-3-4', { whyReflection: '' }, { ...withoutUser, userId: '' }))).toThrow(
    /userId is required/,
  );
  consoleError.mockRestore();
  expect(fetch).not.toHaveBeenCalled();
  // @ts-expect-error a provider must say whose data it is
  const provider = <WorkshopDataProvider fetch={server.fetch}>{null}</WorkshopDataProvider>;
  expect(provider).toBeTruthy();
});

it('is locked from the load on when the workshop is completed, before any keystroke', async () => {
  server.put('ia:ia-3-4', { whyReflection: 'final' }, 4);
  server.lockedSince = '2026-01-01T00:00:30.000000Z';
  const opts = options();
  const { result } = renderHook(() => useWorkshopStepData('ia', 'ia-3-4', { whyReflection: '' }, opts));
  await flush();
  expect(result.current).toMatchObject({ status: 'locked', locked: true, lockedSince: '2026-01-01T00:00:30.000000Z', rejected: null });
  act(() => result.current.updateData({ whyReflection: 'too late' }));
  await advance(5000);
  expect(result.current.data.whyReflection).toBe('final');
  expect(server.saves()).toHaveLength(0);
});
