/** The controller: loading, the debounced save and what it sends. */
import { describe, expect, it } from 'vitest';

import { readJournal } from './journal.js';
import { KEY, JOURNAL, server, storage, events, make, settle, advance, started, held, useControllerHarness } from './testing/controllerHarness.js';

useControllerHarness();

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
