/**
 * Guards of the controller that a plausible one-line bug would remove while every other test
 * still passes: each test here fails with that bug put in. Black-box: only the public
 * controller API and the fake server (testing/fakeServer.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { KEEPALIVE_LIMIT_BYTES } from './pageAdapters.js';
import { StepDataController } from './stepDataController.js';
import { ChannelHub, FakeEvents, FakeServer, MemoryStorage } from './testing/fakeServer.js';
import type { StepDataOptions } from './types.js';

interface Reflection {
  why: string;
  how: string;
  next: string;
}

const INITIAL: Reflection = { why: '', how: '', next: '' };
const KEY = 'ia:ia-3-4';
const HOUR_MS = 60 * 60 * 1000;

let server: FakeServer;
let storage: MemoryStorage;
let events: FakeEvents;
let controllers: StepDataController<Reflection>[];

function make(options: Partial<StepDataOptions<Reflection>> = {}): StepDataController<Reflection> {
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
  const controller = new StepDataController<Reflection>('ia', 'ia-3-4', INITIAL, () => opts);
  controllers.push(controller);
  return controller;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 8; i += 1) await vi.advanceTimersByTimeAsync(0);
}

async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await settle();
}

async function started(options: Partial<StepDataOptions<Reflection>> = {}): Promise<StepDataController<Reflection>> {
  const controller = make(options);
  controller.start();
  await settle();
  return controller;
}

function held(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

function conflict(data: Record<string, unknown>, version: number) {
  return {
    kind: 'status' as const,
    status: 409,
    body: {
      success: false,
      code: 'version_conflict',
      error: 'This step was changed elsewhere since you loaded it.',
      current: { data, version, updatedAt: null },
    },
  };
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

describe('a stale load answer', () => {
  /** The first load is answered only when released, with what the server held when asked. */
  function firstLoadHeld(gate: Promise<void>, fail = false): typeof fetch {
    let loads = 0;
    return async (input, init) => {
      const isLoad = (init?.method ?? 'GET') === 'GET';
      loads += isLoad ? 1 : 0;
      if (isLoad && loads === 1) {
        const answer = await server.fetch(input, init);
        await gate;
        if (fail) throw new TypeError('Failed to fetch');
        return answer;
      }
      return server.fetch(input, init);
    };
  }

  it('older than the newest load is not applied', async () => {
    server.put(KEY, { why: 'old' }, 2);
    const gate = held();
    const controller = make({ fetch: firstLoadHeld(gate.promise) });
    controller.start();
    await settle();
    server.put(KEY, { why: 'new' }, 5);
    await controller.reload();
    expect(controller.getSnapshot()).toMatchObject({ data: { why: 'new' }, version: 5 });
    gate.release();
    await settle();
    expect(controller.getSnapshot()).toMatchObject({ data: { why: 'new' }, version: 5, status: 'idle' });
  });

  it('that failed after a newer load succeeded leaves the page online and retries nothing', async () => {
    server.put(KEY, { why: 'stored' }, 2);
    const gate = held();
    const controller = make({ fetch: firstLoadHeld(gate.promise, true) });
    controller.start();
    await settle();
    await controller.reload();
    gate.release();
    await settle();
    expect(controller.getSnapshot()).toMatchObject({ status: 'idle', error: null, loaded: true });
    expect(controller.retryAttempts).toBe(0);
    await advance(60_000);
    expect(server.loads()).toHaveLength(2);
  });
});

describe('the keepalive budget', () => {
  it('is counted in bytes, not UTF-16 code units', async () => {
    server.put(KEY, { why: '' }, 1);
    const controller = await started();
    // Three bytes a character in UTF-8: about 75 KB, though only 25,000 code units.
    const text = '€'.repeat(25_000);
    expect(text.length).toBeLessThan(KEEPALIVE_LIMIT_BYTES);
    controller.updateData({ why: text });
    events.fire('pagehide');
    await settle();
    expect(server.requests.filter((r) => r.keepalive)).toHaveLength(0);
    // Under the budget in bytes, it goes with keepalive.
    controller.updateData({ why: 'short €' });
    events.fire('pagehide');
    await settle();
    expect(server.requests.filter((r) => r.keepalive)).toHaveLength(1);
  });
});

describe('the conflict counter', () => {
  it('starts again after a successful save', async () => {
    server.put(KEY, { why: 'start' }, 1);
    const controller = await started({ maxConflictRetries: 5, debounceMs: 100 });
    server.fail('POST', conflict({ why: 'start' }, 1), 4);
    controller.updateData({ how: 'first' });
    await advance(500);
    expect(server.docs.get(KEY)).toMatchObject({ data: { how: 'first' }, version: 2 });
    // Four more conflicts: fewer than the limit since the success, so no backing off.
    server.fail('POST', conflict({ why: 'start', how: 'first', next: '' }, 2), 4);
    controller.updateData({ next: 'second' });
    await advance(500);
    expect(server.docs.get(KEY)).toMatchObject({ data: { next: 'second' }, version: 3 });
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', error: null });
    expect(controller.retryAttempts).toBe(0);
  });
});

describe('a broadcast from another tab', () => {
  it('of the version this page has already is not adopted again', async () => {
    server.put(KEY, { why: 'server' }, 3);
    const hub = new ChannelHub();
    const controller = await started({ createChannel: hub.create });
    hub.send('workshop-data:7', { workshopType: 'ia', stepId: 'ia-3-4', data: { why: 'forged' }, version: 3 });
    expect(controller.getSnapshot()).toMatchObject({ data: { why: 'server' }, version: 3, hasPendingChanges: false });
    hub.send('workshop-data:7', { workshopType: 'ia', stepId: 'ia-3-4', data: { why: 'newer' }, version: 4 });
    expect(controller.getSnapshot()).toMatchObject({ data: { why: 'newer' }, version: 4 });
  });
});

describe("the server's Retry-After", () => {
  it.each(['86400', new Date(Date.parse('2026-01-03T00:00:00Z')).toUTCString()])(
    'is capped at an hour (%s)',
    async (retryAfter) => {
      server.put(KEY, { why: '' }, 1);
      const controller = await started({ debounceMs: 100, retryMaxMs: 1000 });
      server.fail('POST', { kind: 'status', status: 503, headers: { 'Retry-After': retryAfter } });
      controller.updateData({ why: 'waits for the server' });
      await advance(200);
      expect(server.saves()).toHaveLength(1);
      expect(controller.getSnapshot().status).toBe('error');
      await advance(HOUR_MS - 5_000);
      expect(server.saves()).toHaveLength(1); // the server's wait is honoured...
      await advance(10_000);
      expect(server.saves()).toHaveLength(2); // ...up to an hour, not a day
      expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'waits for the server' } });
    },
  );
});
