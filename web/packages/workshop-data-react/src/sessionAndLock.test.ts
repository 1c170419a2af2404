// Whose data a step is (userId), a workshop that is locked, and a session that ended.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { journalKey, readJournal } from './journal.js';
import { resumeAfterSignIn, saveAllNow } from './registry.js';
import { StepDataController } from './stepDataController.js';
import { FakeEvents, FakeServer, MemoryStorage } from './testing/fakeServer.js';
import type { StepDataOptions } from './types.js';
import { uploadKey } from './uploads.js';

interface Reflection {
  why: string;
  how: string;
}

const INITIAL: Reflection = { why: '', how: '' };
const KEY = 'ia:ia-3-4';
const JOURNAL = journalKey(7, 'ia', 'ia-3-4');
const COMPLETED_AT = '2026-01-01T00:00:30.000000Z';

let server: FakeServer;
let storage: MemoryStorage;
let events: FakeEvents;
let controllers: StepDataController<Reflection>[];

function options(extra: Partial<StepDataOptions<Reflection>> = {}): StepDataOptions<Reflection> {
  return {
    fetch: server.fetch,
    storage,
    events,
    document: { visibilityState: 'visible' },
    createChannel: null,
    random: () => 0.5,
    userId: 7,
    ...extra,
  };
}

function make(extra: Partial<StepDataOptions<Reflection>> = {}): StepDataController<Reflection> {
  const opts = options(extra);
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

async function started(extra: Partial<StepDataOptions<Reflection>> = {}): Promise<StepDataController<Reflection>> {
  const controller = make(extra);
  controller.start();
  await settle();
  return controller;
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
  controllers.forEach((controller) => controller.dispose());
  vi.useRealTimers();
});

describe('userId', () => {
  it.each([undefined, null, '', '   ', Number.NaN])('is required: %s throws a clear error and sends nothing', (userId) => {
    const fetch = vi.fn(server.fetch);
    const opts = { ...options({ fetch }), userId } as unknown as StepDataOptions<Reflection>;
    expect(() => new StepDataController<Reflection>('ia', 'ia-3-4', INITIAL, () => opts)).toThrow(
      /userId is required \(the signed-in user's id/,
    );
    expect(fetch).not.toHaveBeenCalled();
    expect(storage.length).toBe(0);
  });

  it('is required by the types too', () => {
    // @ts-expect-error userId is required
    const withoutUser: StepDataOptions<Reflection> = { fetch: server.fetch };
    expect(withoutUser.userId).toBeUndefined();
  });

  it('keys the journal and the waiting images: there is no "anonymous" entry', async () => {
    expect(() => journalKey(undefined as unknown as string, 'ia', 'ia-3-4')).toThrow(/userId is required/);
    expect(() => uploadKey(null as unknown as string, 'ia', 'ia-3-3', 'uploadedImage')).toThrow(/userId is required/);
    server.fail('POST', { kind: 'network' }, 10);
    const controller = await started({ userId: 'participant-7' });
    controller.updateData({ why: 'mine' });
    await advance(1000);
    const keys = Array.from({ length: storage.length }, (_, i) => storage.key(i));
    expect(keys).toEqual([journalKey('participant-7', 'ia', 'ia-3-4')]);
  });
});

describe('a locked workshop', () => {
  it('is read-only from the load on, before anything is typed, and nothing is ever sent', async () => {
    server.put(KEY, { why: 'final answer' }, 3);
    server.lockedSince = COMPLETED_AT;
    const controller = await started();
    expect(controller.getSnapshot()).toMatchObject({
      status: 'locked',
      locked: true,
      lockedSince: COMPLETED_AT,
      loaded: true,
      rejected: null,
      hasPendingChanges: false,
      data: { why: 'final answer', how: '' },
    });
    controller.updateData({ why: 'typed into a completed workshop' });
    expect(controller.getSnapshot().data.why).toBe('final answer');
    await controller.saveNow();
    events.fire('pagehide');
    await advance(60_000);
    controller.dispose();
    expect(server.saves()).toHaveLength(0);
    expect(readJournal(storage, JOURNAL)).toBeNull();
  });

  it('is not locked when the load says so', async () => {
    server.put(KEY, { why: 'open' }, 1);
    const controller = await started();
    expect(controller.getSnapshot()).toMatchObject({ status: 'idle', locked: false, lockedSince: null });
    controller.updateData({ why: 'still open' });
    await advance(1000);
    expect(server.docs.get(KEY)?.data).toMatchObject({ why: 'still open' });
  });

  it('drops what the journal kept from an earlier visit and hands it to the app as rejected', async () => {
    server.put(KEY, { why: 'saved', how: 'saved too' }, 1);
    const earlier = await started();
    server.fail('POST', { kind: 'network' }, 50);
    earlier.updateData({ why: 'typed offline, never saved' });
    await advance(1000);
    earlier.dispose();
    expect(readJournal(storage, JOURNAL)?.data).toMatchObject({ why: 'typed offline, never saved' });

    // The workshop was completed (on another device) before this visit.
    server.clearFailures();
    server.lockedSince = COMPLETED_AT;
    const savesBefore = server.saves().length;
    const controller = await started();
    expect(controller.getSnapshot()).toMatchObject({
      status: 'locked',
      data: { why: 'saved', how: 'saved too' },
      hasPendingChanges: false,
      rejected: {
        data: { why: 'typed offline, never saved', how: 'saved too' },
        fields: ['why'],
        lockedSince: COMPLETED_AT,
      },
    });
    expect(readJournal(storage, JOURNAL)).toBeNull(); // written by the earlier page, removed all the same
    await advance(60_000);
    expect(server.saves()).toHaveLength(savesBefore);
  });
});

describe('a 423', () => {
  it('restores the server copy, drops the journal entry, keeps the refused text as rejected and stops', async () => {
    server.put(KEY, { why: 'before completion', how: '' }, 2);
    const onSaveError = vi.fn();
    const controller = await started({ onSaveError });
    server.lockedSince = COMPLETED_AT;
    controller.updateData({ why: 'after completion' });
    await advance(1000);
    expect(controller.getSnapshot()).toMatchObject({
      status: 'locked',
      locked: true,
      lockedSince: COMPLETED_AT,
      data: { why: 'before completion', how: '' },
      hasPendingChanges: false,
      error: 'The IA workshop was completed, so this step can no longer be changed.',
      rejected: {
        data: { why: 'after completion', how: '' },
        fields: ['why'],
        message: 'The IA workshop was completed, so this step can no longer be changed.',
      },
    });
    expect(onSaveError).toHaveBeenCalledTimes(1);
    await settle();
    expect(readJournal(storage, JOURNAL)).toBeNull();
    await advance(120_000);
    events.fire('online');
    await settle();
    expect(server.saves()).toHaveLength(1); // not retried
    expect(await saveAllNow()).toBe(true); // signing out has nothing to warn about

    // The next visit replays nothing.
    controller.dispose();
    const next = await started();
    await advance(60_000);
    expect(server.saves()).toHaveLength(1);
    expect(next.getSnapshot()).toMatchObject({ status: 'locked', rejected: null, data: { why: 'before completion' } });
  });
});

describe('signed out (401)', () => {
  it('keeps the edits, sends nothing more, and sends them by itself once the user signed in again', async () => {
    const onSaveError = vi.fn();
    const controller = await started({ onSaveError });
    server.signedOut = true;
    controller.updateData({ why: 'typed before the session ended' });
    await advance(1000);
    expect(controller.getSnapshot()).toMatchObject({ status: 'signed-out', hasPendingChanges: true, error: 'Sign in again.' });
    expect(onSaveError).toHaveBeenCalledTimes(1);
    controller.updateData({ how: 'typed while signed out' });
    await advance(60_000);
    events.fire('online');
    events.fire('pagehide');
    await settle();
    expect(server.saves()).toHaveLength(1);
    expect(controller.getSnapshot().status).toBe('signed-out');
    expect(readJournal(storage, JOURNAL)?.data).toEqual({ why: 'typed before the session ended', how: 'typed while signed out' });

    server.signedOut = false;
    await resumeAfterSignIn(8); // someone else: not this step
    expect(server.saves()).toHaveLength(1);
    await resumeAfterSignIn(7);
    await settle();
    expect(server.saves()).toHaveLength(2);
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', hasPendingChanges: false, error: null });
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'typed before the session ended', how: 'typed while signed out' });
    await settle();
    expect(readJournal(storage, JOURNAL)).toBeNull();
  });

  it('a load refused with 401 loads and saves once the user signed in again', async () => {
    server.put(KEY, { why: 'on the server', how: '' }, 1);
    server.signedOut = true;
    const controller = await started();
    expect(controller.getSnapshot()).toMatchObject({ status: 'signed-out', loaded: false });
    controller.updateData({ how: 'typed meanwhile' });
    await advance(60_000);
    expect(server.loads()).toHaveLength(1);
    server.signedOut = false;
    await resumeAfterSignIn('7');
    await settle();
    expect(server.loads()).toHaveLength(2);
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'on the server', how: 'typed meanwhile' });
    expect(controller.getSnapshot().status).toBe('saved');
  });
});
