import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { journalKey, readJournal } from './journal.js';
import { canonicalJson, fingerprint, jsonEqual, threeWayMerge } from './merge.js';
import { KEEPALIVE_LIMIT_BYTES } from './pageAdapters.js';
import { clearJournal, saveAllNow } from './registry.js';
import { StepDataController } from './stepDataController.js';
import { HttpError, isRetryable, parseRetryAfter } from './transport.js';
import { ChannelHub, FakeEvents, FakeServer, MemoryStorage } from './testing/fakeServer.js';
import type { StepDataOptions } from './types.js';

interface Reflection {
  why: string;
  how: string;
  next: string;
}

const INITIAL: Reflection = { why: '', how: '', next: '' };
const KEY = 'ia:ia-3-4';
const JOURNAL = journalKey(7, 'ia', 'ia-3-4');

let server: FakeServer;
let storage: MemoryStorage;
let events: FakeEvents;
let controllers: StepDataController<Reflection>[];

function make(options: Partial<StepDataOptions<Reflection>> = {}, stepId = 'ia-3-4') {
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
  const controller = new StepDataController<Reflection>('ia', stepId, INITIAL, () => opts);
  controllers.push(controller);
  return controller;
}

/** Let pending promises (fetches, their JSON) resolve without moving the clock. */
async function settle(): Promise<void> {
  for (let i = 0; i < 8; i += 1) await vi.advanceTimersByTimeAsync(0);
}

/** Move the clock, letting answers arrive on the way. */
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await settle();
}

async function started(options: Partial<StepDataOptions<Reflection>> = {}, stepId = 'ia-3-4') {
  const controller = make(options, stepId);
  controller.start();
  await settle();
  return controller;
}

function held(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
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
    server.put(KEY, { why: 'stored', extra: 'kept' }, 3);
    const controller = await started();
    const state = controller.getSnapshot();
    expect(state.data).toEqual({ why: 'stored', how: '', next: '', extra: 'kept' });
    expect(state).toMatchObject({ loaded: true, status: 'idle', version: 3, hasPendingChanges: false, error: null });
    await advance(20_000);
    expect(server.saves()).toHaveLength(0);
  });

  it('does not save before the load has completed, then saves what was typed meanwhile', async () => {
    const loadHeld = held();
    const slowFetch: typeof fetch = async (input, init) => {
      if ((init?.method ?? 'GET') === 'GET') await loadHeld.promise;
      return server.fetch(input, init);
    };
    server.put(KEY, { how: 'on the server' }, 4);
    const controller = make({ fetch: slowFetch });
    controller.start();
    controller.updateData({ why: 'typed while loading' });
    expect(controller.getSnapshot()).toMatchObject({ status: 'loading', loaded: false, hasPendingChanges: true });
    await settle(); // the journal is written asynchronously (IndexedDB)
    expect(readJournal(storage, JOURNAL)?.data).toMatchObject({ why: 'typed while loading' });
    await controller.saveNow(); // an explicit save, or leaving the page, sends nothing either
    events.fire('pagehide');
    await advance(15_000);
    expect(server.saves()).toHaveLength(0);
    loadHeld.release();
    await settle();
    expect(server.saves()).toHaveLength(1);
    expect(server.saves()[0]).toMatchObject({ method: 'PATCH', body: { why: 'typed while loading' }, baseVersion: 4 });
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'typed while loading', how: 'on the server' });
  });

  it('never saves after a failed load, and saves once a retried load succeeds', async () => {
    server.put(KEY, { why: 'server copy' }, 2);
    server.fail('GET', { kind: 'status', status: 500 });
    const controller = await started();
    expect(controller.getSnapshot()).toMatchObject({ status: 'error', loaded: false });
    expect(controller.getSnapshot().error).toMatch(/^Could not load your saved work/);
    controller.updateData({ how: 'typed after the failure' });
    await advance(500);
    expect(server.saves()).toHaveLength(0);
    expect(readJournal(storage, JOURNAL)?.data).toMatchObject({ how: 'typed after the failure' });

    await advance(500); // the load's retry (750 ms after the failure)
    const saves = server.saves();
    expect(server.loads()).toHaveLength(2);
    expect(saves).toHaveLength(1);
    // A patch on version 2: the server copy keeps what it had and gains what was typed.
    expect(saves[0]?.method).toBe('PATCH');
    expect(saves[0]?.body).toEqual({ how: 'typed after the failure' });
    expect(saves[0]?.document).toEqual({ why: 'server copy', how: 'typed after the failure' });
    expect(saves[0]?.baseVersion).toBe(2);
  });

  it('a load that fails with a network error shows offline and sends nothing, not even on dispose', async () => {
    server.fail('GET', { kind: 'network' }, 100);
    const controller = await started();
    expect(controller.getSnapshot()).toMatchObject({ status: 'offline', loaded: false });
    controller.updateData({ why: 'offline typing' });
    await advance(60_000);
    controller.dispose();
    events.fire('pagehide');
    expect(server.saves()).toHaveLength(0);
    expect(server.loads().length).toBeGreaterThan(3); // the load kept being retried
    expect(readJournal(storage, JOURNAL)?.data).toMatchObject({ why: 'offline typing' });
  });

  it('a load that fails with 401 is signed-out and is not retried', async () => {
    server.fail('GET', { kind: 'status', status: 401, body: { success: false, error: 'Sign in again.', code: 'not_authenticated' } });
    const controller = await started();
    expect(controller.getSnapshot()).toMatchObject({ status: 'signed-out', error: 'Could not load your saved work: Sign in again.' });
    controller.updateData({ why: 'x' });
    await advance(60_000);
    expect(server.loads()).toHaveLength(1);
    expect(server.saves()).toHaveLength(0);
  });

  it('a journal written while the load kept failing keeps the base it started from', async () => {
    // Earlier visit: the server had why='A'; the participant cleared it, and it was never saved.
    server.put(KEY, { why: 'A' }, 1);
    const first = await started();
    server.fail('POST', { kind: 'network' }, 50);
    first.updateData({ why: '' });
    first.dispose();
    // This visit: the load fails, the participant types elsewhere, then the load succeeds.
    server.clearFailures();
    server.fail('GET', { kind: 'network' });
    const second = await started();
    second.updateData({ how: 'new' });
    await advance(1000);
    expect(server.docs.get(KEY)?.data).toEqual({ why: '', how: 'new' }); // the clear survived
  });
});

describe('debounce and maxWait', () => {
  it('sends one save after the debounce however many changes came before', async () => {
    const controller = await started();
    for (let i = 1; i <= 10; i += 1) {
      controller.updateData({ why: 'x'.repeat(i) });
      expect(controller.getSnapshot().status).toBe('dirty');
      await advance(100);
    }
    // The last change was 100 ms ago: the save goes 1000 ms after it.
    expect(server.saves()).toHaveLength(0);
    await advance(899);
    expect(server.saves()).toHaveLength(0);
    await advance(1);
    expect(server.saves()).toHaveLength(1);
    expect(server.saves()[0]?.document).toEqual({ why: 'xxxxxxxxxx', how: '', next: '' });
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', version: 1, hasPendingChanges: false, saving: false });
  });

  it('maxWait bounds what continuous typing can lose', async () => {
    const controller = await started({ debounceMs: 1000, maxWaitMs: 10_000 });
    const t0 = Date.now();
    for (let t = 0; t < 25_000; t += 200) {
      controller.updateData({ why: `typed ${t}` });
      await advance(200);
    }
    expect(server.saves().map((s) => s.at - t0)).toEqual([10_000, 20_000]);
    expect(server.saves()[0]?.document).toMatchObject({ why: 'typed 9800' });
    await advance(1000);
    expect(server.saves().map((s) => s.at - t0)).toEqual([10_000, 20_000, 25_800]);
    expect(server.docs.get(KEY)?.data).toMatchObject({ why: 'typed 24800' });
  });

  it('saveNow saves at once and resolves when the server has answered', async () => {
    const controller = await started();
    controller.updateData({ next: 'now' });
    await controller.saveNow();
    expect(server.saves()).toHaveLength(1);
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', version: 1 });
    await advance(20_000);
    expect(server.saves()).toHaveLength(1); // the debounce did not send it again
  });

  it('saveNow during a save resolves only once the newest snapshot is confirmed', async () => {
    const controller = await started();
    const gate = held();
    server.gate = gate.promise;
    controller.updateData({ why: 'first' });
    const first = controller.saveNow();
    await settle();
    controller.updateData({ why: 'second' });
    let done = false;
    const second = controller.saveNow().then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    server.gate = null;
    gate.release();
    await Promise.all([first, second]);
    expect(server.docs.get(KEY)?.data).toMatchObject({ why: 'second' });
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', version: 2, hasPendingChanges: false });
  });

  it('does not save when auto-save is off, not even on dispose, until saveNow', async () => {
    const controller = await started({ enableAutoSave: false });
    controller.updateData({ next: 'manual' });
    await advance(30_000);
    events.fire('pagehide');
    expect(server.saves()).toHaveLength(0);
    expect(readJournal(storage, JOURNAL)?.data).toMatchObject({ next: 'manual' });
    await controller.saveNow();
    expect(server.saves()).toHaveLength(1);
  });
});

describe('what is sent', () => {
  it('saves a cleared field: empty values are data', async () => {
    server.put(KEY, { why: 'something' }, 1);
    const controller = await started();
    controller.updateData({ why: '' });
    await advance(1000);
    expect(server.saves()).toHaveLength(1);
    expect(server.saves()[0]?.body).toEqual({ why: '' });
    expect(server.docs.get(KEY)?.data).toEqual({ why: '' });
  });

  it('does not re-send data equal to what the server has', async () => {
    server.put(KEY, { why: 'same' }, 1);
    const controller = await started();
    controller.updateData({ why: 'different' });
    controller.updateData({ why: 'same' });
    await advance(15_000);
    expect(server.saves()).toHaveLength(0);
    expect(controller.getSnapshot().hasPendingChanges).toBe(false);
    expect(storage.getItem(JOURNAL)).toBeNull();

    controller.updateData({ why: 'changed' });
    await advance(1000);
    expect(server.saves()).toHaveLength(1);
    await controller.saveNow();
    controller.setData((d) => ({ ...d }));
    events.fire('pagehide');
    await advance(15_000);
    expect(server.saves()).toHaveLength(1);
  });

  it('sends baseVersion (0 for a new step), JSON, the session cookie and an Idempotency-Key equal to requestId', async () => {
    const controller = await started({ baseUrl: 'https://workshop.example' });
    controller.updateData({ why: 'first' });
    await advance(1000);
    controller.updateData({ why: 'second' });
    await advance(1000);
    const [first, second] = server.saves();
    // No acknowledged base yet: the whole document.
    expect(first?.method).toBe('POST');
    expect(first?.url).toBe('https://workshop.example/api/workshop-data/step');
    expect(first?.body).toMatchObject({ workshopType: 'ia', stepId: 'ia-3-4', baseVersion: 0 });
    expect(first?.headers['Content-Type']).toBe('application/json');
    expect(first?.headers['Idempotency-Key']).toBe(first?.body?.requestId);
    // Then a merge patch on version 1.
    expect(second?.method).toBe('PATCH');
    expect(second?.url).toBe('https://workshop.example/api/workshop-data/step/ia/ia-3-4');
    expect(second?.headers['Content-Type']).toBe('application/merge-patch+json');
    expect(second?.headers['If-Match']).toBe('"1"');
    expect(second?.body).toEqual({ why: 'second' });
    for (const save of [first, second]) {
      expect(save?.credentials).toBe('same-origin');
      expect(save?.headers['Idempotency-Key']).toBeTruthy();
    }
    expect(first?.headers['Idempotency-Key']).not.toBe(second?.headers['Idempotency-Key']);
    expect(server.loads()[0]?.url).toBe('https://workshop.example/api/workshop-data/step/ia/ia-3-4');
  });
});

describe('retries', () => {
  it('retries network errors with exponential backoff, reusing the request id', async () => {
    const controller = await started({ retryBaseMs: 1000, retryMaxMs: 30_000, random: () => 0.5 });
    server.fail('POST', { kind: 'network' }, 4);
    controller.updateData({ why: 'flaky' });
    await advance(1000);
    expect(server.saves()).toHaveLength(1);
    expect(controller.getSnapshot()).toMatchObject({ status: 'offline', error: 'the network is unavailable' });
    // random 0.5: each delay is 75% of base * 2^attempt, so it doubles every time.
    for (const delay of [750, 1500, 3000, 6000]) {
      const count = server.saves().length;
      await advance(delay - 1);
      expect(server.saves()).toHaveLength(count);
      await advance(1);
      expect(server.saves()).toHaveLength(count + 1);
    }
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', error: null });
    const keys = new Set(server.saves().map((s) => s.headers['Idempotency-Key']));
    expect(keys.size).toBe(1);
  });

  it('keeps the jitter between half and all of the exponential delay, capped at retryMaxMs', async () => {
    let r = 0;
    const controller = make({ retryBaseMs: 1000, retryMaxMs: 20_000, random: () => r });
    const error = new TypeError('Failed to fetch');
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const exponential = Math.min(20_000, 1000 * 2 ** attempt);
      const delays = [0, 0.25, 0.5, 0.999].map((value) => {
        r = value;
        return controller.retryDelay(attempt, error);
      });
      for (const delay of delays) {
        expect(delay).toBeGreaterThanOrEqual(exponential / 2);
        expect(delay).toBeLessThanOrEqual(exponential);
      }
      expect(new Set(delays).size).toBe(4); // the random part is really used
    }
    r = 0.999;
    expect(controller.retryDelay(30, error)).toBeLessThanOrEqual(20_000);
    expect(controller.retryDelay(1, error)).toBeGreaterThan(controller.retryDelay(0, error));
  });

  it('the jitter shows in the real schedule', async () => {
    for (const [random, first] of [
      [0, 500],
      [0.999, 999],
    ] as const) {
      server = new FakeServer();
      const controller = await started({ retryBaseMs: 1000, random: () => random });
      server.fail('POST', { kind: 'network' });
      controller.updateData({ why: `r${random}` });
      await advance(1000);
      await advance(first - 1);
      expect(server.saves()).toHaveLength(1);
      await advance(1);
      expect(server.saves()).toHaveLength(2);
      controller.dispose();
    }
  });

  it('honours Retry-After in seconds', async () => {
    const controller = await started({ retryBaseMs: 100 });
    server.fail('POST', { kind: 'status', status: 429, headers: { 'Retry-After': '5' } });
    controller.updateData({ why: 'slow down' });
    await advance(1000);
    await advance(4999);
    expect(server.saves()).toHaveLength(1);
    await advance(1);
    expect(server.saves()).toHaveLength(2);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const controller = await started({ retryBaseMs: 100 });
    // The save goes out at 00:00:01; the server asks for 00:00:08.
    server.fail('POST', { kind: 'status', status: 503, headers: { 'Retry-After': 'Thu, 01 Jan 2026 00:00:08 GMT' } });
    controller.updateData({ why: 'later' });
    await advance(1000);
    await advance(6999);
    expect(server.saves()).toHaveLength(1);
    await advance(1);
    expect(server.saves()).toHaveLength(2);
  });

  it.each([500, 503, 408, 429])('retries a %s', async (status) => {
    const onSaveError = vi.fn();
    const controller = await started({ onSaveError });
    server.fail('POST', { kind: 'status', status });
    controller.updateData({ why: `after ${status}` });
    await advance(1000);
    expect(controller.getSnapshot().status).toBe('error');
    expect(onSaveError).toHaveBeenCalledWith(expect.any(HttpError));
    await advance(1000);
    expect(server.saves()).toHaveLength(2);
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', error: null });
  });

  it.each([400, 403, 413, 422])('does not retry a %s, and reports it', async (status) => {
    const onSaveError = vi.fn();
    const controller = await started({ onSaveError });
    server.fail('POST', { kind: 'status', status, body: { success: false, error: `Refused ${status}.`, code: 'x' } });
    controller.updateData({ why: 'refused' });
    await advance(1000);
    await advance(60_000);
    expect(server.saves()).toHaveLength(1);
    expect(controller.getSnapshot()).toMatchObject({ status: 'error', error: `Refused ${status}.`, hasPendingChanges: true });
    expect(onSaveError).toHaveBeenCalledTimes(1);
    expect((onSaveError.mock.calls[0]?.[0] as HttpError).status).toBe(status);
    expect(readJournal(storage, JOURNAL)?.data).toMatchObject({ why: 'refused' });
    // The next edit is tried again.
    controller.updateData({ why: 'fixed' });
    await advance(1000);
    expect(server.saves()).toHaveLength(2);
    expect(controller.getSnapshot().status).toBe('saved');
  });

  it('a 423 makes the controller read-only', async () => {
    const controller = await started();
    server.fail('POST', {
      kind: 'status',
      status: 423,
      body: { success: false, code: 'workshop_locked', error: 'The IA workshop was completed.' },
    });
    controller.updateData({ why: 'too late' });
    await advance(1000);
    expect(controller.getSnapshot()).toMatchObject({ status: 'locked', locked: true, error: 'The IA workshop was completed.' });
    expect(controller.getSnapshot().rejected?.data.why).toBe('too late');
    controller.updateData({ why: 'ignored' });
    controller.setData({ why: 'ignored too', how: '', next: '' });
    expect(controller.getSnapshot().data.why).toBe(''); // the server copy
    await controller.saveNow();
    await advance(60_000);
    controller.dispose();
    expect(server.saves()).toHaveLength(1);
  });

  it('which errors are retryable', () => {
    expect(isRetryable(new TypeError('Failed to fetch'))).toBe(true);
    for (const status of [500, 502, 503, 504, 408, 429]) expect(isRetryable(new HttpError('', status, null))).toBe(true);
    for (const status of [400, 401, 403, 404, 409, 413, 422, 423]) expect(isRetryable(new HttpError('', status, null))).toBe(false);
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 20_000)).toBe(0);
    expect(parseRetryAfter('soon', 0)).toBeNull();
    expect(parseRetryAfter(null, 0)).toBeNull();
  });
});

describe('one save in flight', () => {
  it('sends changes made during a save after it, on the new version', async () => {
    const controller = await started();
    const gate = held();
    server.gate = gate.promise;
    controller.updateData({ why: 'one' });
    await advance(1000);
    expect(controller.getSnapshot()).toMatchObject({ status: 'saving', saving: true });
    controller.updateData({ why: 'two' });
    controller.updateData({ how: 'three' });
    await advance(15_000);
    expect(server.saves()).toHaveLength(1); // still in flight: nothing else is sent
    server.gate = null;
    gate.release();
    await settle();
    await advance(1000);
    const saves = server.saves();
    expect(saves).toHaveLength(2);
    expect(saves[1]?.baseVersion).toBe(1);
    expect(saves[1]?.document).toEqual({ why: 'two', how: 'three', next: '' });
    expect(server.docs.get(KEY)?.version).toBe(2);
  });

  it('never has two saves in flight, however slow the server and fast the typing', async () => {
    let inFlight = 0;
    let most = 0;
    const slow: typeof fetch = async (input, init) => {
      const isSave = init?.method === 'POST';
      if (isSave) most = Math.max(most, ++inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 2500));
        return await server.fetch(input, init);
      } finally {
        if (isSave) inFlight -= 1;
      }
    };
    const controller = make({ fetch: slow, debounceMs: 300, maxWaitMs: 1000 });
    controller.start();
    await advance(2500);
    for (let i = 0; i < 150; i += 1) {
      controller.updateData({ why: `keystroke ${i}` });
      await advance(100);
    }
    await advance(10_000);
    expect(most).toBe(1);
    expect(server.saves().length).toBeGreaterThan(3);
    expect(server.docs.get(KEY)?.data).toMatchObject({ why: 'keystroke 149' });
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', hasPendingChanges: false });
  });

  it('ignores an answer older than what the page already knows', async () => {
    const hub = new ChannelHub();
    const controller = await started({ createChannel: hub.create });
    const answers = held();
    server.holdAnswers = answers.promise;
    controller.updateData({ why: 'mine' });
    await advance(1000); // stored as version 1 at once; its answer is held
    expect(server.docs.get(KEY)?.version).toBe(1);
    // Meanwhile another tab saved version 2 and said so.
    server.put(KEY, { why: 'mine', how: 'other tab', next: '' }, 2);
    hub.send('workshop-data:7', { workshopType: 'ia', stepId: 'ia-3-4', data: { why: 'mine', how: 'other tab', next: '' }, version: 2 });
    expect(controller.getSnapshot()).toMatchObject({ version: 2, data: { how: 'other tab' } });
    server.holdAnswers = null;
    answers.release();
    await advance(20_000);
    // The late answer (version 1) changed nothing: no step back, nothing re-sent.
    expect(controller.getSnapshot()).toMatchObject({ version: 2, data: { why: 'mine', how: 'other tab' }, hasPendingChanges: false });
    expect(server.saves()).toHaveLength(1);
  });

  it('an answer that arrives after reload() causes no second conflict', async () => {
    server.put(KEY, { why: 'server' }, 5);
    const onConflict = vi.fn();
    const controller = await started({ onConflict });
    const gate = held();
    server.gate = gate.promise;
    controller.updateData({ why: 'mine' });
    await advance(1000); // save A (base 5) is now in flight
    server.put(KEY, { why: 'other', how: 'other' }, 6);
    await controller.reload(); // sees version 6 and merges the unsaved change over it
    expect(controller.getSnapshot().data).toEqual({ why: 'mine', how: 'other', next: '' });
    expect(onConflict).toHaveBeenCalledTimes(1);
    expect(onConflict.mock.calls[0]?.[0]).toMatchObject({ fields: ['why'], theirs: { why: 'other' } });
    server.gate = null;
    gate.release();
    await advance(1000);
    // A's 409 was against a version the page had already merged: it is simply sent again on 6.
    expect(onConflict).toHaveBeenCalledTimes(1);
    expect(server.saves().map((s) => s.baseVersion)).toEqual([5, 6]);
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'mine', how: 'other' }, version: 7 });
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', version: 7 });
  });
});

describe('the journal', () => {
  it('keeps unsaved changes across a reload and saves them', async () => {
    server.put(KEY, { why: 'old' }, 1);
    const first = await started();
    server.fail('POST', { kind: 'network' }, 10);
    first.updateData({ why: 'typed offline' });
    await advance(1000);
    first.dispose();

    const loadHeld = held();
    const slowFetch: typeof fetch = async (input, init) => {
      if ((init?.method ?? 'GET') === 'GET') await loadHeld.promise;
      return server.fetch(input, init);
    };
    const second = make({ fetch: slowFetch });
    server.clearFailures();
    second.start();
    await settle();
    // The journal is shown before the server answers.
    expect(second.getSnapshot()).toMatchObject({
      data: { why: 'typed offline' },
      hasPendingChanges: true,
      status: 'loading',
    });
    loadHeld.release();
    await settle();
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'typed offline' }, version: 2 });
    expect(server.saves().at(-1)?.baseVersion).toBe(1);
    expect(storage.getItem(JOURNAL)).toBeNull();
    expect(second.getSnapshot()).toMatchObject({ status: 'saved', hasPendingChanges: false });
  });

  it('is written on every change and cleared only when the server confirms', async () => {
    const controller = await started();
    const gate = held();
    server.gate = gate.promise;
    controller.updateData({ next: 'p' });
    await settle();
    expect(readJournal(storage, JOURNAL)?.data).toMatchObject({ next: 'p' });
    controller.updateData({ next: 'pending' });
    await settle();
    expect(readJournal(storage, JOURNAL)).toMatchObject({ data: { next: 'pending' }, baseVersion: 0 });
    await advance(1000);
    expect(readJournal(storage, JOURNAL)?.data).toMatchObject({ next: 'pending' }); // sent, not confirmed
    server.gate = null;
    gate.release();
    await settle();
    expect(storage.getItem(JOURNAL)).toBeNull();
  });

  it('is replayed when the network returns (online)', async () => {
    const controller = await started({ retryBaseMs: 60_000 });
    server.fail('POST', { kind: 'network' });
    controller.updateData({ why: 'while offline' });
    await advance(1000);
    expect(controller.getSnapshot().status).toBe('offline');
    await advance(5000);
    expect(server.saves()).toHaveLength(1); // the next retry is far away
    events.fire('online');
    await settle();
    expect(server.saves()).toHaveLength(2);
    expect(server.docs.get(KEY)?.data).toMatchObject({ why: 'while offline' });
    expect(storage.getItem(JOURNAL)).toBeNull();
    expect(controller.getSnapshot().status).toBe('saved');
  });

  it('a load that failed offline is retried when the network returns, then the journal is saved', async () => {
    server.put(KEY, { how: 'server' }, 3);
    server.fail('GET', { kind: 'network' });
    const controller = await started({ retryBaseMs: 60_000 });
    controller.updateData({ why: 'typed offline' });
    events.fire('online');
    await settle();
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'typed offline', how: 'server' }, version: 4 });
    expect(controller.getSnapshot()).toMatchObject({ loaded: true, status: 'saved' });
  });

  it('merges a journal over a server copy that moved on, three-way', async () => {
    server.put(KEY, { why: 'base', how: 'base', next: 'base' }, 1);
    const first = await started();
    server.fail('POST', { kind: 'network' }, 5);
    first.updateData({ why: 'mine', next: 'mine' });
    first.dispose();
    server.clearFailures();
    server.put(KEY, { why: 'theirs', how: 'theirs', next: 'base' }, 2); // another device saved
    const onConflict = vi.fn();
    const second = await started({ onConflict });
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'mine', how: 'theirs', next: 'mine' }, version: 3 });
    expect(second.getSnapshot().version).toBe(3);
    expect(onConflict).toHaveBeenCalledTimes(1);
    expect(onConflict.mock.calls[0]?.[0].fields).toEqual(['why']);
  });

  it('a journal equal to the server copy is dropped and nothing is sent', async () => {
    server.put(KEY, { why: 'same' }, 3);
    storage.setItem(JOURNAL, JSON.stringify({ data: { why: 'same' }, base: null, baseVersion: 0, changedAt: 0 }));
    const controller = await started();
    await advance(20_000);
    expect(server.saves()).toHaveLength(0);
    expect(storage.getItem(JOURNAL)).toBeNull();
    expect(controller.getSnapshot()).toMatchObject({ status: 'idle', hasPendingChanges: false });
  });

  it('is keyed by user: another user on the same device does not see it', async () => {
    storage.setItem(JOURNAL, JSON.stringify({ data: { why: "user 7's" }, base: null, baseVersion: 0, changedAt: 0 }));
    const other = await started({ userId: 8 });
    expect(other.getSnapshot().data.why).toBe('');
    await advance(5000);
    expect(server.saves()).toHaveLength(0);
    expect(storage.getItem(JOURNAL)).not.toBeNull();
  });

  it('never leaves a stale entry behind when storage is full', async () => {
    const controller = await started();
    server.fail('POST', { kind: 'network' }, 100);
    controller.updateData({ why: 'short' });
    await settle();
    expect(readJournal(storage, JOURNAL)?.data).toMatchObject({ why: 'short' });
    storage.quotaBytes = 500;
    controller.updateData({ why: 'long '.repeat(200) });
    await settle();
    // The older entry would replay 'short' over newer work: it is gone.
    expect(storage.getItem(JOURNAL)).toBeNull();
    expect(controller.getSnapshot().data.why).toBe('long '.repeat(200));
  });

  it("clearJournal removes one user's entries only", async () => {
    storage.setItem(journalKey(7, 'ia', 'ia-3-4'), '{}');
    storage.setItem(journalKey(7, 'ast', '2-1'), '{}');
    storage.setItem(journalKey(70, 'ia', 'ia-3-4'), '{}');
    storage.setItem('unrelated', 'x');
    await clearJournal(7, storage);
    expect(storage.getItem(journalKey(7, 'ia', 'ia-3-4'))).toBeNull();
    expect(storage.getItem(journalKey(7, 'ast', '2-1'))).toBeNull();
    expect(storage.getItem(journalKey(70, 'ia', 'ia-3-4'))).toBe('{}');
    expect(storage.getItem('unrelated')).toBe('x');
  });

  it('clearJournal at sign-out also stops mounted steps of that user from keeping or sending anything', async () => {
    const mine = await started();
    const theirs = await started({ userId: 8 }, 'ia-3-3');
    mine.updateData({ why: 'unsaved at sign-out' });
    theirs.updateData({ why: 'user 8' });
    await clearJournal(7, storage);
    expect(storage.getItem(JOURNAL)).toBeNull();
    mine.updateData({ why: 'typed after' });
    mine.dispose(); // the page unmounts after sign-out
    await advance(5000);
    expect(storage.getItem(JOURNAL)).toBeNull();
    expect(server.saves().map((s) => s.body?.stepId)).toEqual(['ia-3-3']); // only user 8's step
  });
});

describe('conflicts', () => {
  it('merges field by field on 409 and saves again on the current version', async () => {
    server.put(KEY, { why: 'base', how: 'base', next: 'base' }, 1);
    const onConflict = vi.fn();
    const controller = await started({ onConflict });
    server.put(KEY, { why: 'base', how: 'theirs', next: 'theirs' }, 2); // another device saved
    controller.updateData({ why: 'mine', next: 'mine too' });
    await advance(1000);
    const saves = server.saves();
    expect(saves).toHaveLength(2);
    expect(saves[0]?.baseVersion).toBe(1);
    expect(saves[1]?.baseVersion).toBe(2);
    // why: only mine changed; how: only theirs; next: both (mine kept, reported).
    expect(saves[1]?.document).toEqual({ why: 'mine', how: 'theirs', next: 'mine too' });
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'mine', how: 'theirs', next: 'mine too' });
    expect(onConflict).toHaveBeenCalledTimes(1);
    expect(onConflict.mock.calls[0]?.[0]).toMatchObject({
      fields: ['next'],
      mine: { why: 'mine', how: 'base', next: 'mine too' },
      theirs: { why: 'base', how: 'theirs', next: 'theirs' },
      merged: { why: 'mine', how: 'theirs', next: 'mine too' },
    });
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', version: 3, data: { how: 'theirs' } });
  });

  it('shows conflict until the merge is saved', async () => {
    server.put(KEY, { why: 'base' }, 1);
    const controller = await started();
    server.put(KEY, { why: 'theirs' }, 2);
    const statuses: string[] = [];
    controller.subscribe(() => statuses.push(controller.getSnapshot().status));
    server.fail('POST', {
      kind: 'status',
      status: 409,
      body: { success: false, code: 'version_conflict', error: 'Changed.', current: { data: { why: 'theirs' }, version: 2 } },
    });
    const gate = held();
    controller.updateData({ why: 'mine' });
    await advance(999);
    server.gate = gate.promise;
    await advance(1);
    expect(controller.getSnapshot().status).toBe('conflict');
    server.gate = null;
    gate.release();
    await settle();
    expect(statuses).toContain('conflict');
    expect(controller.getSnapshot().status).toBe('saved');
  });

  it('a 409 for a row that no longer exists is re-sent with baseVersion 0', async () => {
    server.put(KEY, { why: 'old' }, 4);
    const controller = await started();
    server.docs.delete(KEY); // reset elsewhere: to the merge, every field went back to its default
    controller.updateData({ how: 'new' });
    await advance(1000);
    expect(server.saves().map((s) => s.baseVersion)).toEqual([4, 0]);
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: '', how: 'new', next: '' }, version: 1 });
  });

  it('its own earlier write (a keepalive on hide) is not a conflict', async () => {
    server.put(KEY, { why: 'base' }, 1);
    const onConflict = vi.fn();
    const page = { visibilityState: 'visible' };
    const keepaliveAnswer = held();
    const fetchFn: typeof fetch = async (input, init) => {
      const response = await server.fetch(input, init);
      if (init?.keepalive) await keepaliveAnswer.promise;
      return response;
    };
    const controller = await started({ onConflict, document: page, fetch: fetchFn });
    controller.updateData({ why: 'typed' });
    page.visibilityState = 'hidden';
    events.fire('visibilitychange'); // committed as version 2; the answer is slow
    page.visibilityState = 'visible';
    controller.updateData({ why: 'typed more' });
    await advance(1000); // a normal save on base 1 meets version 2: its own text
    keepaliveAnswer.release();
    await advance(1000);
    expect(onConflict).not.toHaveBeenCalled();
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'typed more' }, version: 3 });
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', version: 3 });
  });

  it('backs off when every save keeps meeting a newer version', async () => {
    const controller = await started({ maxConflictRetries: 5 });
    server.alwaysFailSaves = {
      kind: 'status',
      status: 409,
      body: { success: false, code: 'version_conflict', error: 'Changed.', current: { data: { why: 'x' }, version: 9 } },
    };
    controller.updateData({ why: 'mine' });
    await advance(1000);
    expect(server.saves()).toHaveLength(6); // one, then five merges sent at once
    expect(controller.getSnapshot().status).toBe('error');
    await advance(60_000);
    expect(server.saves().length).toBeLessThanOrEqual(13); // then exponential backoff
  });

  it('threeWayMerge, jsonEqual and fingerprints', () => {
    expect(threeWayMerge({ a: 1, b: 1, c: 1 }, { a: 2, b: 1, c: 3 }, { a: 1, b: 2, c: 4 })).toEqual({
      merged: { a: 2, b: 2, c: 3 },
      conflicts: ['c'],
    });
    expect(threeWayMerge({ a: 1 }, { a: 1 }, {})).toEqual({ merged: {}, conflicts: [] });
    expect(threeWayMerge({ a: 1 }, {}, { a: 1 })).toEqual({ merged: {}, conflicts: [] });
    expect(threeWayMerge({}, { list: [1] }, { list: [1] })).toEqual({ merged: { list: [1] }, conflicts: [] });
    expect(threeWayMerge({ t: 'x' }, { t: '' }, { t: 'y' })).toEqual({ merged: { t: '' }, conflicts: ['t'] });
    expect(jsonEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(jsonEqual({ a: '' }, { a: null })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: 'x' })).toBe('{"a":"x","b":[1,{"c":2,"d":1}]}');
    expect(fingerprint({ a: 1, b: 'é' })).toBe(fingerprint({ b: 'é', a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
  });
});

describe('leaving the page', () => {
  it('flushes on dispose with keepalive, and the confirmed answer clears the journal', async () => {
    const controller = await started();
    const answers = held();
    server.holdAnswers = answers.promise;
    controller.updateData({ why: 'closing' });
    controller.dispose();
    const saves = server.saves();
    expect(saves).toHaveLength(1);
    expect(saves[0]).toMatchObject({ keepalive: true, credentials: 'same-origin' });
    expect(saves[0]?.headers['Content-Type']).toBe('application/json');
    expect(saves[0]?.headers['Idempotency-Key']).toBe(saves[0]?.body?.requestId);
    expect(saves[0]?.body).toMatchObject({ data: { why: 'closing', how: '', next: '' }, baseVersion: 0 });
    await settle();
    expect(readJournal(storage, JOURNAL)?.data).toMatchObject({ why: 'closing' });
    server.holdAnswers = null;
    answers.release();
    await settle();
    expect(storage.getItem(JOURNAL)).toBeNull();
    expect(events.count('pagehide') + events.count('visibilitychange') + events.count('online')).toBe(0);
  });

  it('flushes on pagehide and on visibilitychange to hidden, and not when visible', async () => {
    const page = { visibilityState: 'visible' };
    const controller = await started({ document: page });
    controller.updateData({ why: 'hiding' });
    events.fire('visibilitychange');
    expect(server.saves()).toHaveLength(0);
    events.fire('pagehide');
    expect(server.saves().map((s) => s.keepalive)).toEqual([true]);
    await settle();
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', version: 1 });
    controller.updateData({ why: 'hidden tab' });
    page.visibilityState = 'hidden';
    events.fire('visibilitychange');
    events.fire('pagehide'); // the same snapshot is not sent twice
    expect(server.saves().map((s) => s.keepalive)).toEqual([true, true]);
    expect(server.saves()[1]).toMatchObject({ method: 'PATCH', body: { why: 'hidden tab' }, baseVersion: 1 });
    await advance(5000);
    expect(server.saves()).toHaveLength(2); // confirmed: the debounce had nothing left to send
  });

  it('does not use keepalive for bodies over 60 KiB: the journal keeps them', async () => {
    const controller = await started();
    const big = 'x'.repeat(KEEPALIVE_LIMIT_BYTES);
    controller.updateData({ why: big });
    controller.dispose();
    await settle();
    expect(server.saves()).toHaveLength(0);
    expect(readJournal<Reflection>(storage, JOURNAL)?.data.why).toBe(big);
    // The next visit sends it with a normal request.
    const next = await started();
    expect(next.getSnapshot().data.why).toBe(big);
    expect(server.saves()).toHaveLength(1);
    expect(server.saves()[0]?.keepalive).toBe(false);
    expect(server.docs.get(KEY)?.data).toMatchObject({ why: big });
  });

  it('a page that lives on after hiding still saves a big body normally', async () => {
    const page = { visibilityState: 'visible' };
    const controller = await started({ document: page });
    controller.updateData({ why: 'y'.repeat(70 * 1024) });
    page.visibilityState = 'hidden';
    events.fire('visibilitychange');
    expect(server.saves()).toHaveLength(0);
    await advance(1000);
    expect(server.saves()).toHaveLength(1);
    expect(server.saves()[0]?.keepalive).toBe(false);
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
    expect(hub.posted.at(-1)).toEqual({
      name: 'workshop-data:7',
      message: { workshopType: 'ia', stepId: 'ia-3-4', data: { why: 'first tab', how: '', next: '' }, version: 1 },
    });
    expect(second.getSnapshot().data).toEqual({ why: 'first tab', how: 'second tab, unsaved', next: '' });
    expect(second.getSnapshot().version).toBe(1);
    await advance(1000);
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'first tab', how: 'second tab, unsaved', next: '' });
    expect(server.saves().at(-1)?.baseVersion).toBe(1); // no 409 round trip
    expect(server.saves()).toHaveLength(2);
    // And the first tab adopts the second's save in turn.
    expect(first.getSnapshot()).toMatchObject({ version: 2, data: { how: 'second tab, unsaved' } });
  });

  it('ignores messages for other steps and older versions', async () => {
    const hub = new ChannelHub();
    server.put(KEY, { why: 'v3' }, 3);
    const controller = await started({ createChannel: hub.create });
    hub.send('workshop-data:7', { workshopType: 'ia', stepId: 'ia-3-3', data: { why: 'other step' }, version: 9 });
    hub.send('workshop-data:7', { workshopType: 'ast', stepId: 'ia-3-4', data: { why: 'other workshop' }, version: 9 });
    hub.send('workshop-data:7', { workshopType: 'ia', stepId: 'ia-3-4', data: { why: 'older' }, version: 2 });
    hub.send('workshop-data:7', 'garbage');
    expect(controller.getSnapshot()).toMatchObject({ version: 3, data: { why: 'v3' } });
  });

  it('saveAllNow saves every mounted step at once', async () => {
    const a = await started({}, 'ia-3-4');
    const b = await started({}, 'ia-3-3');
    a.updateData({ why: 'a' });
    b.updateData({ why: 'b' });
    expect(await saveAllNow()).toBe(true);
    expect(server.docs.get('ia:ia-3-4')?.data).toMatchObject({ why: 'a' });
    expect(server.docs.get('ia:ia-3-3')?.data).toMatchObject({ why: 'b' });
    server.fail('POST', { kind: 'network' });
    a.updateData({ why: 'a2' });
    expect(await saveAllNow()).toBe(false);
  });
});
