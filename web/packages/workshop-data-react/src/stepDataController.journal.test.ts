/** The controller: the journal (what is kept on the device) and the send when the page is left. */
import { describe, expect, it, vi } from 'vitest';

import { journalKey, readJournal } from './journal.js';
import { KEEPALIVE_LIMIT_BYTES } from './pageAdapters.js';
import { clearJournal } from './registry.js';
import { KEY, JOURNAL, server, storage, events, make, settle, advance, started, held, useControllerHarness } from './testing/controllerHarness.js';
import type { Reflection } from './testing/controllerHarness.js';

useControllerHarness();

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
    // why: rewritten on both (both kept whole: the server's, a blank line, the journal's); how: theirs; next: the journal's.
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'theirs\n\nmine', how: 'theirs', next: 'mine' }, version: 3 });
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
