import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { clearJournal, journalKey } from './journal';
import { jsonEqual, threeWayMerge } from './merge';
import { StepDataController } from './stepDataController';
import { ChannelHub, FakeEvents, FakeServer, MemoryStorage } from './testing/fakeServer';
import type { StepDataOptions } from './types';

interface Reflection {
  why: string;
  how: string;
  next: string;
}

const INITIAL: Reflection = { why: '', how: '', next: '' };
const KEY = 'ia:ia-3-4';

let server: FakeServer;
let storage: MemoryStorage;
let events: FakeEvents;
let controllers: StepDataController<Reflection>[];

function make(options: Partial<StepDataOptions<Reflection>> = {}, initial: Reflection = INITIAL) {
  const opts: StepDataOptions<Reflection> = {
    fetch: server.fetch,
    storage,
    events,
    document: { visibilityState: 'visible' },
    createChannel: null,
    random: () => 0.5,
    userId: 7,
    ...options,
  };
  const controller = new StepDataController<Reflection>('ia', 'ia-3-4', initial, () => opts);
  controllers.push(controller);
  return controller;
}

/** Let pending promises (fetches, their JSON) resolve without moving the clock. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await vi.advanceTimersByTimeAsync(0);
}

async function started(options: Partial<StepDataOptions<Reflection>> = {}) {
  const controller = make(options);
  controller.start();
  await settle();
  return controller;
}

beforeEach(() => {
  vi.useFakeTimers();
  server = new FakeServer();
  storage = new MemoryStorage();
  events = new FakeEvents();
  controllers = [];
});

afterEach(() => {
  controllers.forEach((c) => c.dispose());
  vi.useRealTimers();
});

describe('loading', () => {
  it('merges the server copy over initialData and saves nothing', async () => {
    server.put(KEY, { why: 'stored' }, 3);
    const controller = await started();
    const state = controller.getSnapshot();
    expect(state.data).toEqual({ why: 'stored', how: '', next: '' });
    expect(state).toMatchObject({ loaded: true, status: 'idle', version: 3, hasPendingChanges: false });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(server.saves()).toHaveLength(0);
  });

  it('does not save before the load has completed', async () => {
    server.gate = null;
    let release!: () => void;
    const loadHeld = new Promise<void>((resolve) => (release = resolve));
    const slowFetch: typeof fetch = async (input, init) => {
      if ((init?.method ?? 'GET') === 'GET') await loadHeld;
      return server.fetch(input, init);
    };
    const controller = make({ fetch: slowFetch });
    controller.start();
    controller.updateData({ why: 'typed while loading' });
    await vi.advanceTimersByTimeAsync(15_000);
    expect(server.saves()).toHaveLength(0);
    release();
    await settle();
    await vi.advanceTimersByTimeAsync(1);
    expect(server.saves()).toHaveLength(1);
    expect(server.saves()[0]?.body?.data).toEqual({ why: 'typed while loading', how: '', next: '' });
  });

  it('never saves after a failed load, and saves once a retried load succeeds', async () => {
    server.put(KEY, { why: 'server copy' }, 2);
    server.fail('GET', { kind: 'status', status: 500 });
    const controller = await started();
    expect(controller.getSnapshot()).toMatchObject({ status: 'error', loaded: false });
    controller.updateData({ how: 'typed after the failure' });
    await vi.advanceTimersByTimeAsync(500);
    expect(server.saves()).toHaveLength(0);
    expect(storage.getItem(journalKey(7, 'ia', 'ia-3-4'))).toContain('typed after the failure');

    await vi.advanceTimersByTimeAsync(1000); // the load's retry
    await settle();
    await vi.advanceTimersByTimeAsync(10);
    const saves = server.saves();
    expect(saves).toHaveLength(1);
    expect(saves[0]?.body?.data).toEqual({ why: 'server copy', how: 'typed after the failure', next: '' });
    expect(saves[0]?.body?.baseVersion).toBe(2);
  });

  it('a load that fails with 401 is an error and is not retried', async () => {
    server.fail('GET', { kind: 'status', status: 401, body: { success: false, error: 'Sign in again.', code: 'not_authenticated' } });
    const controller = await started();
    expect(controller.getSnapshot()).toMatchObject({ status: 'error', error: 'Could not load your saved work: Sign in again.' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.requests.filter((r) => r.method === 'GET')).toHaveLength(1);
  });
});

describe('debounce and maxWait', () => {
  it('sends one save after the debounce however many changes came before', async () => {
    const controller = await started();
    for (let i = 1; i <= 10; i += 1) {
      controller.updateData({ why: 'x'.repeat(i) });
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(server.saves()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(server.saves()).toHaveLength(1);
    expect(server.saves()[0]?.body?.data).toEqual({ why: 'xxxxxxxxxx', how: '', next: '' });
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', version: 1, hasPendingChanges: false });
  });

  it('maxWait bounds what continuous typing can lose', async () => {
    const controller = await started({ debounceMs: 1000, maxWaitMs: 10_000 });
    const sentAt: number[] = [];
    const started_ = Date.now();
    for (let t = 0; t < 25_000; t += 200) {
      controller.updateData({ why: `typed ${t}` });
      const before = server.saves().length;
      await vi.advanceTimersByTimeAsync(200);
      if (server.saves().length > before) sentAt.push(Date.now() - started_);
    }
    expect(sentAt).toEqual([10_000, 20_000]);
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(server.saves()).toHaveLength(3);
    expect(server.saves()[2]?.body?.data).toMatchObject({ why: 'typed 24800' });
  });

  it('saveNow saves at once', async () => {
    const controller = await started();
    controller.updateData({ next: 'now' });
    await controller.saveNow();
    expect(server.saves()).toHaveLength(1);
  });

  it('does not save when auto-save is off until saveNow', async () => {
    const controller = await started({ enableAutoSave: false });
    controller.updateData({ next: 'manual' });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(server.saves()).toHaveLength(0);
    await controller.saveNow();
    expect(server.saves()).toHaveLength(1);
  });
});

describe('what is sent', () => {
  it('saves a cleared field: empty values are data', async () => {
    server.put(KEY, { why: 'something' }, 1);
    const controller = await started();
    controller.updateData({ why: '' });
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(server.saves()).toHaveLength(1);
    expect(server.docs.get(KEY)?.data).toEqual({ why: '', how: '', next: '' });
  });

  it('does not re-send data equal to what the server has', async () => {
    server.put(KEY, { why: 'same' }, 1);
    const controller = await started();
    controller.updateData({ why: 'different' });
    controller.updateData({ why: 'same' });
    await vi.advanceTimersByTimeAsync(15_000);
    expect(server.saves()).toHaveLength(0);
    expect(controller.getSnapshot().hasPendingChanges).toBe(false);
    expect(storage.length).toBe(0);
  });

  it('sends baseVersion (0 for a new step) and an Idempotency-Key equal to requestId', async () => {
    const controller = await started();
    controller.updateData({ why: 'first' });
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    controller.updateData({ why: 'second' });
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    const [first, second] = server.saves();
    expect(first?.body?.baseVersion).toBe(0);
    expect(second?.body?.baseVersion).toBe(1);
    for (const save of [first, second]) {
      expect(save?.headers['Idempotency-Key']).toBeTruthy();
      expect(save?.headers['Idempotency-Key']).toBe(save?.body?.requestId);
    }
    expect(first?.body?.requestId).not.toBe(second?.body?.requestId);
  });
});

describe('retries', () => {
  it('retries network errors with exponential backoff and jitter', async () => {
    const controller = await started({ retryBaseMs: 1000, retryMaxMs: 30_000, random: () => 0.5 });
    server.fail('POST', { kind: 'network' }, 4);
    controller.updateData({ why: 'flaky' });
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(server.saves()).toHaveLength(1);
    expect(controller.getSnapshot().status).toBe('offline');
    // random 0.5: each delay is 75% of base * 2^attempt.
    const expected = [750, 1500, 3000, 6000];
    for (const delay of expected) {
      const count = server.saves().length;
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(server.saves()).toHaveLength(count);
      await vi.advanceTimersByTimeAsync(1);
      await settle();
      expect(server.saves()).toHaveLength(count + 1);
    }
    expect(controller.getSnapshot().status).toBe('saved');
    const keys = new Set(server.saves().map((s) => s.headers['Idempotency-Key']));
    expect(keys.size).toBe(1); // every retry of the same snapshot reuses its key
  });

  it('keeps the jitter between half and all of the exponential delay, capped', async () => {
    for (const [random, first] of [
      [0, 500],
      [0.999, 999],
    ] as const) {
      server = new FakeServer();
      const controller = await started({ retryBaseMs: 1000, random: () => random });
      server.fail('POST', { kind: 'network' });
      controller.updateData({ why: `r${random}` });
      await vi.advanceTimersByTimeAsync(1000);
      await settle();
      await vi.advanceTimersByTimeAsync(first - 1);
      expect(server.saves()).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      await settle();
      expect(server.saves()).toHaveLength(2);
      controller.dispose();
    }
    server = new FakeServer();
    const capped = await started({ retryBaseMs: 1000, retryMaxMs: 2000, random: () => 0.999 });
    server.fail('POST', { kind: 'status', status: 503 }, 6);
    capped.updateData({ why: 'cap' });
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    // Capped at 2 s, five retries fit in 10 s; uncapped (1, 2, 4, 8 s) only three would.
    for (let ms = 0; ms < 10_000; ms += 500) {
      await vi.advanceTimersByTimeAsync(500);
      await settle();
    }
    expect(server.saves().length).toBeGreaterThanOrEqual(6);
  });

  it('honours Retry-After on 429', async () => {
    const controller = await started({ retryBaseMs: 100 });
    server.fail('POST', { kind: 'status', status: 429, headers: { 'Retry-After': '5' } });
    controller.updateData({ why: 'slow down' });
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    await vi.advanceTimersByTimeAsync(4999);
    expect(server.saves()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(server.saves()).toHaveLength(2);
  });

  it.each([500, 503, 408, 429])('retries a %s', async (status) => {
    const controller = await started();
    server.fail('POST', { kind: 'status', status });
    controller.updateData({ why: `after ${status}` });
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(controller.getSnapshot().status).toBe('error');
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(server.saves()).toHaveLength(2);
    expect(controller.getSnapshot().status).toBe('saved');
  });

  it.each([400, 401, 403, 413])('does not retry a %s, and reports it', async (status) => {
    const onSaveError = vi.fn();
    const controller = await started({ onSaveError });
    server.fail('POST', { kind: 'status', status, body: { success: false, error: `Refused ${status}.`, code: 'x' } });
    controller.updateData({ why: 'refused' });
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.saves()).toHaveLength(1);
    expect(controller.getSnapshot()).toMatchObject({ status: 'error', error: `Refused ${status}.` });
    expect(onSaveError).toHaveBeenCalledTimes(1);
    expect(storage.getItem(journalKey(7, 'ia', 'ia-3-4'))).toContain('refused');
  });

  it('a 423 makes the controller read-only', async () => {
    const controller = await started();
    server.fail('POST', {
      kind: 'status',
      status: 423,
      body: { success: false, code: 'workshop_locked', error: 'The IA workshop was completed.' },
    });
    controller.updateData({ why: 'too late' });
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(controller.getSnapshot().status).toBe('locked');
    controller.updateData({ why: 'ignored' });
    expect(controller.getSnapshot().data.why).toBe('too late');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.saves()).toHaveLength(1);
  });
});

describe('one save in flight', () => {
  it('sends changes made during a save after it, on the new version', async () => {
    const controller = await started();
    let release!: () => void;
    server.gate = new Promise<void>((resolve) => (release = resolve));
    controller.updateData({ why: 'one' });
    await vi.advanceTimersByTimeAsync(1000);
    controller.updateData({ why: 'two' });
    controller.updateData({ how: 'three' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.saves()).toHaveLength(1); // still in flight: nothing else is sent
    server.gate = null;
    release();
    await settle();
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    const saves = server.saves();
    expect(saves).toHaveLength(2);
    expect(saves[1]?.body?.baseVersion).toBe(1);
    expect(saves[1]?.body?.data).toEqual({ why: 'two', how: 'three', next: '' });
    expect(server.docs.get(KEY)?.version).toBe(2);
  });

  it('ignores a response that arrives after reload()', async () => {
    server.put(KEY, { why: 'server' }, 5);
    const onConflict = vi.fn();
    const controller = await started({ onConflict });
    let release!: () => void;
    server.gate = new Promise<void>((resolve) => (release = resolve));
    controller.updateData({ why: 'mine' });
    await vi.advanceTimersByTimeAsync(1000); // save A (base 5) is now in flight
    server.put(KEY, { why: 'other', how: 'other' }, 6);
    await controller.reload(); // sees version 6 and merges the unsaved change over it
    expect(controller.getSnapshot().data).toEqual({ why: 'mine', how: 'other', next: '' });
    await settle();
    server.gate = null;
    release();
    await settle();
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    // Save A's answer (a 409 against version 6) belongs to the time before the reload: had it
    // been handled, it would have reported a conflict on `why` and saved once more.
    expect(onConflict).not.toHaveBeenCalled();
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'mine', how: 'other', next: '' }, version: 7 });
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', version: 7 });
  });
});

describe('the journal', () => {
  it('keeps unsaved changes across a reload and saves them', async () => {
    server.put(KEY, { why: 'old' }, 1);
    const first = await started();
    server.fail('POST', { kind: 'network' }, 10);
    first.updateData({ why: 'typed offline' });
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    first.dispose();

    const second = make();
    expect(second.getSnapshot().data.why).toBe('typed offline'); // shown before the load
    expect(second.getSnapshot().hasPendingChanges).toBe(true);
    server.clearFailures();
    second.start();
    await settle();
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'typed offline', how: '', next: '' });
    expect(storage.getItem(journalKey(7, 'ia', 'ia-3-4'))).toBeNull();
  });

  it('is cleared only when the server confirms', async () => {
    const controller = await started();
    let release!: () => void;
    server.gate = new Promise<void>((resolve) => (release = resolve));
    controller.updateData({ next: 'pending' });
    const key = journalKey(7, 'ia', 'ia-3-4');
    expect(storage.getItem(key)).toContain('pending');
    await vi.advanceTimersByTimeAsync(1000);
    expect(storage.getItem(key)).toContain('pending'); // sent, not yet confirmed
    server.gate = null;
    release();
    await settle();
    expect(storage.getItem(key)).toBeNull();
  });

  it('merges a journal over a server copy that moved on', async () => {
    server.put(KEY, { why: 'base', how: 'base' }, 1);
    const first = await started();
    server.fail('POST', { kind: 'network' }, 1);
    first.updateData({ why: 'mine' });
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    first.dispose();
    server.put(KEY, { why: 'base', how: 'theirs' }, 2);
    const second = await started();
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'mine', how: 'theirs', next: '' });
    expect(second.getSnapshot().version).toBe(3);
  });

  it('clearJournal removes one user\'s entries only', () => {
    storage.setItem(journalKey(7, 'ia', 'ia-3-4'), '{}');
    storage.setItem(journalKey(7, 'ast', '2-1'), '{}');
    storage.setItem(journalKey(8, 'ia', 'ia-3-4'), '{}');
    storage.setItem('unrelated', 'x');
    clearJournal(7, storage);
    expect(storage.getItem(journalKey(7, 'ia', 'ia-3-4'))).toBeNull();
    expect(storage.getItem(journalKey(7, 'ast', '2-1'))).toBeNull();
    expect(storage.getItem(journalKey(8, 'ia', 'ia-3-4'))).toBe('{}');
    expect(storage.getItem('unrelated')).toBe('x');
  });
});

describe('conflicts', () => {
  it('merges field by field on 409 and saves again on the current version', async () => {
    server.put(KEY, { why: 'base', how: 'base', next: 'base' }, 1);
    const onConflict = vi.fn();
    const controller = await started({ onConflict });
    server.put(KEY, { why: 'base', how: 'theirs', next: 'theirs' }, 2); // another tab saved
    controller.updateData({ why: 'mine', next: 'mine too' });
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    const saves = server.saves();
    expect(saves).toHaveLength(2);
    expect(saves[0]?.body?.baseVersion).toBe(1);
    expect(saves[1]?.body?.baseVersion).toBe(2);
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'mine', how: 'theirs', next: 'mine too' });
    expect(onConflict).toHaveBeenCalledTimes(1);
    expect(onConflict.mock.calls[0]?.[0].fields).toEqual(['next']);
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', version: 3 });
  });

  it('threeWayMerge and jsonEqual', () => {
    expect(threeWayMerge({ a: 1, b: 1, c: 1 }, { a: 2, b: 1, c: 3 }, { a: 1, b: 2, c: 4 })).toEqual({
      merged: { a: 2, b: 2, c: 3 },
      conflicts: ['c'],
    });
    expect(threeWayMerge({ a: 1 }, { a: 1 }, {})).toEqual({ merged: {}, conflicts: [] });
    expect(threeWayMerge({}, { list: [1] }, { list: [1] })).toEqual({ merged: { list: [1] }, conflicts: [] });
    expect(jsonEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(jsonEqual({ a: '' }, { a: null })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
  });
});

describe('leaving the page', () => {
  it('flushes on dispose with keepalive', async () => {
    const controller = await started();
    controller.updateData({ why: 'closing' });
    controller.dispose();
    const saves = server.saves();
    expect(saves).toHaveLength(1);
    expect(saves[0]?.keepalive).toBe(true);
    expect(saves[0]?.body?.data).toEqual({ why: 'closing', how: '', next: '' });
  });

  it('flushes on pagehide and on visibilitychange to hidden', async () => {
    const page = { visibilityState: 'visible' };
    const controller = await started({ document: page });
    controller.updateData({ why: 'hiding' });
    events.fire('pagehide');
    expect(server.saves().map((s) => s.keepalive)).toEqual([true]);
    await settle();
    controller.updateData({ why: 'hidden tab' });
    page.visibilityState = 'hidden';
    events.fire('visibilitychange');
    expect(server.saves().map((s) => s.keepalive)).toEqual([true, true]);
    expect(server.saves()[1]?.body?.data).toMatchObject({ why: 'hidden tab' });
  });

  it('does not use keepalive for bodies over 60 KiB (the journal keeps them)', async () => {
    const controller = await started();
    controller.updateData({ why: 'x'.repeat(70 * 1024) });
    controller.dispose();
    expect(server.saves()).toHaveLength(0);
    expect(storage.getItem(journalKey(7, 'ia', 'ia-3-4'))?.length).toBeGreaterThan(70 * 1024);
  });
});

describe('tabs', () => {
  it('adopts what another tab saved for fields it has not changed', async () => {
    const hub = new ChannelHub();
    const first = await started({ createChannel: hub.create });
    const second = await started({ createChannel: hub.create });
    second.updateData({ how: 'second tab, unsaved' });
    first.updateData({ why: 'first tab' });
    await first.saveNow();
    await settle();
    expect(second.getSnapshot().data).toEqual({ why: 'first tab', how: 'second tab, unsaved', next: '' });
    expect(second.getSnapshot().version).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'first tab', how: 'second tab, unsaved', next: '' });
    expect(server.saves().at(-1)?.body?.baseVersion).toBe(1);
  });
});
