/** The controller: before a merge replaces this page's own unsaved text, that text is kept in
 * the step's history (POST …/history), retried and journalled until the server has it; the
 * conflict report names fields by their labels. */
import { describe, expect, it, vi } from 'vitest';

import { removeJournalIfHolds, storageJournal } from './journal.js';

import { JOURNAL, KEY, server, storage, events, advance, held, settle, started, useControllerHarness } from './testing/controllerHarness.js';

useControllerHarness();

const BASE = 'I want to grow as a leader this year.';
const ONLINE = 'My team needs me to be more present.';
const OFFLINE = 'Honestly, I need a new job where I can learn.';

describe('device copies', () => {
  it('keeps this page’s own text in the history before a conflicting merge replaces it', async () => {
    server.put(KEY, { why: BASE, how: '', next: '' }, 1, 2);
    const onConflict = vi.fn();
    const controller = await started({ onConflict, schemaVersion: 2 });
    server.put(KEY, { why: ONLINE, how: '', next: '' }, 2, 2); // the other device saved
    controller.updateData({ why: OFFLINE });
    await advance(1000);
    expect(server.deviceCopies).toEqual([{ stepKey: KEY, data: { why: OFFLINE, how: '', next: '' }, schemaVersion: 2 }]);
    expect(server.docs.get(KEY)?.data).toMatchObject({ why: `${ONLINE}\n\n${OFFLINE}` });
    expect(controller.getSnapshot().status).toBe('saved');
  });

  it('saves the merge only after the copy has been answered, so the history reads in order', async () => {
    server.put(KEY, { why: BASE, how: '', next: '' }, 1);
    const controller = await started();
    server.put(KEY, { why: ONLINE, how: '', next: '' }, 2);
    const copyAnswered = held();
    server.holdCopies = copyAnswered.promise;
    controller.updateData({ why: OFFLINE });
    await advance(1000);
    expect(server.copyRequests()).toHaveLength(1);
    expect(server.saves()).toHaveLength(1); // the 409; the merge waits for the copy
    copyAnswered.release();
    await settle();
    expect(server.saves()).toHaveLength(2);
    expect(server.docs.get(KEY)?.data).toMatchObject({ why: `${ONLINE}\n\n${OFFLINE}` });
    expect(storage.getItem(JOURNAL)).toBeNull();
  });

  it('keeps nothing when the merge leaves this page’s text as it was', async () => {
    server.put(KEY, { why: 'The quick brwn fox', how: '', next: '' }, 1);
    const controller = await started();
    server.put(KEY, { why: 'The quick brwn fox', how: 'theirs', next: '' }, 2);
    controller.updateData({ why: 'The quick brown fox' });
    await advance(1000);
    server.put(KEY, { why: 'The quick brown fox jumps', how: 'theirs', next: '' }, 4);
    controller.updateData({ why: 'Today: the quick brown fox' });
    await advance(1000);
    expect(server.docs.get(KEY)?.data).toMatchObject({ why: 'Today: the quick brown fox jumps' });
    expect(server.copyRequests()).toEqual([]);
  });

  it('retries a copy the network lost, and keeps it in the journal until the server has it', async () => {
    server.put(KEY, { why: BASE, how: '', next: '' }, 1);
    const controller = await started({ retryBaseMs: 1000 });
    server.put(KEY, { why: ONLINE, how: '', next: '' }, 2);
    server.fail('copy', { kind: 'network' }, 2);
    controller.updateData({ why: OFFLINE });
    await advance(1000);
    expect(server.deviceCopies).toEqual([]);
    const entry = JSON.parse(storage.getItem(JOURNAL) ?? 'null') as { deviceCopies?: unknown[] } | null;
    expect(entry?.deviceCopies).toEqual([{ data: { why: OFFLINE, how: '', next: '' }, schemaVersion: null }]);
    await advance(5000);
    expect(server.copyRequests()).toHaveLength(3);
    expect(server.deviceCopies).toHaveLength(1);
    expect(storage.getItem(JOURNAL)).toBeNull();
  });

  it('sends a copy an earlier visit kept in the journal once the step loads', async () => {
    server.put(KEY, { why: BASE, how: '', next: '' }, 1);
    const first = await started();
    server.put(KEY, { why: ONLINE, how: '', next: '' }, 2);
    server.fail('copy', { kind: 'network' });
    first.updateData({ why: OFFLINE });
    await advance(1000);
    first.dispose(); // closed before the retry
    expect(server.deviceCopies).toEqual([]);
    await started();
    expect(server.deviceCopies).toEqual([{ stepKey: KEY, data: { why: OFFLINE, how: '', next: '' }, schemaVersion: null }]);
  });

  it('sends a copy made offline when the network returns', async () => {
    server.put(KEY, { why: BASE, how: '', next: '' }, 1);
    const controller = await started({ retryBaseMs: 60_000, retryMaxMs: 60_000 });
    server.put(KEY, { why: ONLINE, how: '', next: '' }, 2);
    server.fail('copy', { kind: 'network' });
    controller.updateData({ why: OFFLINE });
    await advance(1000);
    expect(server.deviceCopies).toHaveLength(0);
    events.fire('online');
    await advance(0);
    expect(server.deviceCopies).toHaveLength(1);
  });

  it('a journal entry holding unsent copies is not removed when its data reached the server', async () => {
    const journal = storageJournal(storage);
    const data = { why: ONLINE, how: '', next: '' };
    const copies = [{ data: { why: OFFLINE, how: '', next: '' }, schemaVersion: null }];
    await journal.set(JOURNAL, { data, base: null, baseVersion: 2, changedAt: 0, deviceCopies: copies });
    await removeJournalIfHolds(journal, JOURNAL, data, data);
    expect((await journal.get(JOURNAL))?.deviceCopies).toEqual(copies);
    await journal.set(JOURNAL, { data, base: null, baseVersion: 2, changedAt: 0 });
    await removeJournalIfHolds(journal, JOURNAL, data, data);
    expect(await journal.get(JOURNAL)).toBeNull();
  });

  it('drops a copy that can no longer be kept once the workshop is completed', async () => {
    server.put(KEY, { why: BASE, how: '', next: '' }, 1);
    const controller = await started({ retryBaseMs: 60_000, retryMaxMs: 60_000 });
    server.put(KEY, { why: ONLINE, how: '', next: '' }, 2);
    server.fail('copy', { kind: 'network' });
    controller.updateData({ why: OFFLINE });
    await advance(1000);
    expect(storage.getItem(JOURNAL)).not.toBeNull(); // the copy waits in the journal
    server.lockedSince = '2026-01-01T00:00:05Z';
    await controller.reload();
    await advance(0);
    expect(controller.getSnapshot().locked).toBe(true);
    expect(storage.getItem(JOURNAL)).toBeNull();
    await advance(120_000);
    expect(server.copyRequests()).toHaveLength(1);
  });

  it('names the fields of a conflict by their labels', async () => {
    server.put(KEY, { why: BASE, how: 'base', next: '' }, 1);
    const onConflict = vi.fn();
    const controller = await started({ onConflict, fieldLabels: { why: 'Why is this important to you?' } });
    server.put(KEY, { why: ONLINE, how: 'theirs', next: '' }, 2);
    controller.updateData({ why: OFFLINE, how: 'mine' });
    await advance(1000);
    expect(onConflict).toHaveBeenCalledTimes(1);
    expect(onConflict.mock.calls[0]?.[0]).toMatchObject({ fields: ['why', 'how'], labels: ['Why is this important to you?', 'how'] });
  });
});
