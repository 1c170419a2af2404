/** The controller: one save in flight at a time, and retries of failed loads and saves. */
import { describe, expect, it, vi } from 'vitest';

import { readJournal } from './journal.js';
import { HttpError, isRetryable, parseRetryAfter } from './transport.js';
import { ChannelHub } from './testing/fakeServer.js';
import { KEY, JOURNAL, server, storage, make, settle, advance, started, held, freshServer, useControllerHarness } from './testing/controllerHarness.js';

useControllerHarness();

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
    expect(controller.getSnapshot().data).toEqual({ why: 'other\n\nmine', how: 'other', next: '' });
    expect(onConflict).toHaveBeenCalledTimes(1);
    expect(onConflict.mock.calls[0]?.[0]).toMatchObject({ fields: ['why'], theirs: { why: 'other' } });
    server.gate = null;
    gate.release();
    await advance(1000);
    // A's 409 was against a version the page had already merged: it is simply sent again on 6.
    expect(onConflict).toHaveBeenCalledTimes(1);
    expect(server.saves().map((s) => s.baseVersion)).toEqual([5, 6]);
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'other\n\nmine', how: 'other' }, version: 7 });
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', version: 7 });
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
      freshServer();
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
