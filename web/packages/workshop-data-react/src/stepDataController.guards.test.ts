/**
 * Guards of the controller that a plausible one-line bug would remove while every other test
 * still passes: each test here fails with that bug put in. Black-box: only the public
 * controller API and the fake server (testing/fakeServer.ts, through testing/controllerHarness.ts).
 */
import { describe, expect, it } from 'vitest';

import { KEEPALIVE_LIMIT_BYTES } from './pageAdapters.js';
import { ChannelHub } from './testing/fakeServer.js';
import { KEY, advance, events, held, make, server, settle, started, useControllerHarness } from './testing/controllerHarness.js';

const HOUR_MS = 60 * 60 * 1000;

useControllerHarness();

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
    await advance(60_000);
    expect(server.loads()).toHaveLength(2);
    // No retry was counted either: the next failed load waits the first delay (retryBaseMs
    // 1000, jitter 0.5: 750 ms), not the second's (1500 ms).
    server.fail('GET', { kind: 'network' });
    await controller.reload();
    await advance(749);
    expect(server.loads()).toHaveLength(3);
    await advance(1);
    expect(server.loads()).toHaveLength(4);
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
    // No retry is counted: the next failed save waits the first delay (750 ms), not a longer one.
    server.fail('POST', { kind: 'network' });
    controller.updateData({ next: 'third' });
    await advance(100);
    const failed = server.saves().length;
    await advance(749);
    expect(server.saves()).toHaveLength(failed);
    await advance(1);
    expect(server.saves()).toHaveLength(failed + 1);
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
