// The core's reducer: every transition of the participant's pending work, without a clock or I/O.
import { describe, expect, it } from 'vitest';

import { dueItems, initialState, isPending, nextWakeAt, pendingCounts, reduce, retryDelay } from './reducer.js';
import { imageStepChange, progressKey } from './store.js';
import type { Action, ProgressWork, SyncState, UploadWork, WorkItem } from './work.js';

const blob = new Blob(['png'], { type: 'image/png' });
const upload = (id = 'u', url: string | null = null): UploadWork => ({ kind: 'upload', id, userId: '7', createdAt: 1, blob, url });
const change = (uploadId = 'u') => imageStepChange(uploadId, '7', 'ia', 'ia-3-3', 'uploadedImage', { selectedImage: null }, 2, 'r1');
const progress = (completed: string[], unlocked: string[] = [], current: string | null = null, createdAt = 3): ProgressWork => ({
  kind: 'progress',
  id: progressKey('7', 'ia'),
  userId: '7',
  createdAt,
  workshopType: 'ia',
  currentStepId: current,
  completedSteps: completed,
  unlockedSteps: unlocked,
});

function run(state: SyncState, ...actions: Action[]): SyncState {
  return actions.reduce(reduce, state);
}

function queued(work: WorkItem[], now = 0, state = initialState({ progressDebounceMs: 300, progressMaxWaitMs: 2000 })): SyncState {
  const next = reduce(state, { type: 'queued', work, now });
  const revisions = Object.fromEntries(work.map((w) => [w.id, next.entries[w.id]!.status.revision]));
  return reduce(next, { type: 'kept', ids: work.map((w) => w.id), revisions, kept: true, keepError: null });
}

const rev = (state: SyncState, id: string) => state.entries[id]!.status.revision;

describe('retryDelay', () => {
  const config = initialState({ retryBaseMs: 1000, retryMaxMs: 8000, retryAfterCapMs: 60_000 }).config;
  it('doubles from base, between half and all of it, capped at retryMaxMs', () => {
    expect(retryDelay(config, 0, 0, null)).toBe(500);
    expect(retryDelay(config, 0, 0.5, null)).toBe(750);
    expect(retryDelay(config, 0, 1, null)).toBe(1000);
    expect(retryDelay(config, 2, 0, null)).toBe(2000);
    expect(retryDelay(config, 3, 1, null)).toBe(8000);
    expect(retryDelay(config, 10, 1, null)).toBe(8000);
  });
  it("takes a longer Retry-After, but never more than the cap", () => {
    expect(retryDelay(config, 0, 0, 5000)).toBe(5000);
    expect(retryDelay(config, 0, 0, 100)).toBe(500);
    expect(retryDelay(config, 0, 0, 3_600_000)).toBe(60_000);
  });
});

describe('the reducer', () => {
  it('queues work as storing, then queued once kept (or refused by the device)', () => {
    const stored = reduce(initialState(), { type: 'queued', work: [upload()], now: 5 });
    expect(stored.entries.u!.status).toMatchObject({ phase: 'storing', revision: 1, kept: false, dueAt: null, firstAt: 5 });
    expect(dueItems(stored, 5)).toEqual([]);
    const refused = reduce(stored, { type: 'kept', ids: ['u'], revisions: { u: 1 }, kept: false, keepError: 'full' });
    expect(refused.entries.u!.status).toMatchObject({ phase: 'queued', kept: false, keepError: 'full' });
    expect(dueItems(refused, 5).map((e) => e.work.id)).toEqual(['u']);
    // A "kept" for an older revision changes nothing.
    expect(reduce(stored, { type: 'kept', ids: ['u'], revisions: { u: 0 }, kept: true, keepError: null })).toBe(stored);
  });

  it('an upload with a URL is uploaded from the start', () => {
    const state = reduce(initialState(), { type: 'restored', work: [upload('u', '/api/uploads/x')], now: 0 });
    expect(state.entries.u!.status).toMatchObject({ phase: 'uploaded', kept: true });
  });

  it('the step change waits for its upload, is sent once the upload has a URL, and then both are done', () => {
    let state = queued([upload(), change()]);
    const changeId = change().id;
    expect(dueItems(state, 0).map((e) => e.work.id)).toEqual(['u']);
    expect(pendingCounts(state, 7)).toEqual({ images: 1, stepChanges: 0, progress: 0, failed: [] });
    state = run(state, { type: 'sending', id: 'u', revision: 1 }, { type: 'succeeded', id: 'u', revision: 1, url: '/api/uploads/x' });
    expect(state.entries.u!.work).toMatchObject({ url: '/api/uploads/x' });
    expect(state.entries.u!.status.phase).toBe('uploaded');
    expect(isPending(state, state.entries.u!)).toBe(true); // the step does not refer to it yet
    expect(dueItems(state, 0).map((e) => e.work.id)).toEqual([changeId]);
    state = run(state, { type: 'sending', id: changeId, revision: 1 }, { type: 'succeeded', id: changeId, revision: 1 });
    expect(state.entries).toEqual({});
    expect(pendingCounts(state, 7)).toEqual({ images: 0, stepChanges: 0, progress: 0, failed: [] });
  });

  it('an upload alone is not pending once uploaded', () => {
    const state = run(queued([upload()]), { type: 'sending', id: 'u', revision: 1 }, { type: 'succeeded', id: 'u', revision: 1, url: '/x' });
    expect(isPending(state, state.entries.u!)).toBe(false);
    expect(pendingCounts(state).images).toBe(0);
  });

  it('a step change without an upload counts as a step change, and only for its user', () => {
    const plain = { ...change(), uploadId: null, uploadField: null };
    const state = queued([plain]);
    expect(pendingCounts(state, 7).stepChanges).toBe(1);
    expect(pendingCounts(state, 8).stepChanges).toBe(0);
    expect(pendingCounts(state).stepChanges).toBe(1);
    expect(dueItems(state, 0)).toHaveLength(1);
  });

  it('network failures and 5xx back off with jitter; "online" and "retry-now" try again at once', () => {
    let state = run(queued([upload()], 0), { type: 'sending', id: 'u', revision: 1 });
    state = reduce(state, { type: 'failed', id: 'u', revision: 1, failure: { kind: 'network', message: 'offline' }, now: 100, jitter: 0.5 });
    expect(state.entries.u!.status).toMatchObject({ phase: 'waiting', attempt: 1, retryAt: 850, error: 'offline' });
    expect(dueItems(state, 849)).toEqual([]);
    expect(nextWakeAt(state)).toBe(850);
    expect(dueItems(state, 850)).toHaveLength(1);
    state = run(state, { type: 'sending', id: 'u', revision: 1 });
    state = reduce(state, {
      type: 'failed',
      id: 'u',
      revision: 1,
      failure: { kind: 'retryable', message: 'busy', retryAfterMs: 10_000 },
      now: 1000,
      jitter: 0,
    });
    expect(state.entries.u!.status).toMatchObject({ phase: 'waiting', attempt: 2, retryAt: 11_000, error: 'busy' });
    const back = reduce(state, { type: 'online', online: true });
    expect(back.entries.u!.status).toMatchObject({ phase: 'queued', attempt: 0, retryAt: null, dueAt: null });
    expect(reduce(state, { type: 'retry-now' }).entries.u!.status.phase).toBe('queued');
  });

  it('offline sends nothing; online again does', () => {
    const state = reduce(queued([upload()]), { type: 'online', online: false });
    expect(state.online).toBe(false);
    expect(dueItems(state, 0)).toEqual([]);
    expect(reduce(state, { type: 'online', online: false })).toBe(state);
    expect(dueItems(reduce(state, { type: 'online', online: true }), 0)).toHaveLength(1);
  });

  it('401 pauses everything until the same user signs in again', () => {
    let state = run(queued([upload(), upload('v')]), { type: 'sending', id: 'u', revision: 1 });
    state = reduce(state, { type: 'failed', id: 'u', revision: 1, failure: { kind: 'unauthorized', message: 'Sign in.' }, now: 0, jitter: 0 });
    expect(state.signedOut).toBe(true);
    expect(state.entries.u!.status).toMatchObject({ phase: 'queued', attempt: 0, error: 'Sign in.' });
    expect(dueItems(state, 0)).toEqual([]);
    expect(nextWakeAt(state)).toBe(null);
    state = reduce(state, { type: 'signed-in' });
    expect(state.signedOut).toBe(false);
    expect(dueItems(state, 0)).toHaveLength(2);
    expect(reduce(state, { type: 'signed-in' })).toBe(state);
  });

  it('423 and other refusals are final; the item stays, counted as failed', () => {
    let state = run(queued([upload()]), { type: 'sending', id: 'u', revision: 1 });
    state = reduce(state, { type: 'failed', id: 'u', revision: 1, failure: { kind: 'locked', message: 'Completed.' }, now: 0, jitter: 0 });
    expect(state.entries.u!.status).toMatchObject({ phase: 'failed', error: 'Completed.', retryAt: null });
    expect(dueItems(state, 10 ** 9)).toEqual([]);
    expect(pendingCounts(state).failed).toEqual(['Completed.']);
    expect(reduce(state, { type: 'online', online: true }).entries.u!.status.phase).toBe('failed');
    const final = reduce(run(queued([upload()]), { type: 'sending', id: 'u', revision: 1 }), {
      type: 'failed', id: 'u', revision: 1, failure: { kind: 'final', message: 'Not an image.' }, now: 0, jitter: 0,
    });
    expect(final.entries.u!.status).toMatchObject({ phase: 'failed', error: 'Not an image.' });
  });

  it('409 is re-applied at once up to maxConflictRetries, then backs off', () => {
    const id = change().id;
    const plain = { ...change(), uploadId: null, uploadField: null };
    let state = queued([plain], 0, initialState({ maxConflictRetries: 2 }));
    const conflict = (s: SyncState): SyncState =>
      run(s, { type: 'sending', id, revision: 1 }, { type: 'failed', id, revision: 1, failure: { kind: 'conflict', message: '409' }, now: 50, jitter: 0 });
    state = conflict(state);
    expect(state.entries[id]!.status).toMatchObject({ phase: 'queued', conflicts: 1, attempt: 0, dueAt: null, error: null });
    state = conflict(state);
    expect(state.entries[id]!.status).toMatchObject({ phase: 'queued', conflicts: 2 });
    state = conflict(state);
    expect(state.entries[id]!.status).toMatchObject({ phase: 'waiting', conflicts: 0, attempt: 1, retryAt: 550 });
    expect(state.entries[id]!.status.error).toMatch(/keeps changing/);
  });

  it('a replaced item ignores answers for the older revision', () => {
    let state = run(queued([upload()]), { type: 'sending', id: 'u', revision: 1 });
    state = queued([upload()], 10, state);
    expect(rev(state, 'u')).toBe(2);
    expect(reduce(state, { type: 'succeeded', id: 'u', revision: 1, url: '/old' })).toBe(state);
    expect(reduce(state, { type: 'failed', id: 'u', revision: 1, failure: { kind: 'final', message: 'x' }, now: 0, jitter: 0 })).toBe(state);
    expect(reduce(state, { type: 'sending', id: 'u', revision: 1 })).toBe(state);
  });

  it('progress waits for a pause (debounce) but not longer than maxWait, and merges reports', () => {
    let state = queued([progress(['a'], ['a', 'b'], 'a')], 0);
    const id = progressKey('7', 'ia');
    expect(state.entries[id]!.status).toMatchObject({ phase: 'queued', dueAt: 300, firstAt: 0 });
    expect(dueItems(state, 299)).toEqual([]);
    expect(nextWakeAt(state)).toBe(300);
    state = queued([progress([], ['c'], null, 9)], 1900, state);
    expect(state.entries[id]!.work).toMatchObject({ completedSteps: ['a'], unlockedSteps: ['a', 'b', 'c'], currentStepId: 'a', createdAt: 3 });
    expect(state.entries[id]!.status).toMatchObject({ dueAt: 2000, revision: 2 });
    expect(dueItems(state, 2000)).toHaveLength(1);
    expect(pendingCounts(state, 7).progress).toBe(1);
  });

  it('a report merged while the previous one is sent survives its success', () => {
    const id = progressKey('7', 'ia');
    let state = run(queued([progress(['a'])], 0), { type: 'sending', id, revision: 1 });
    state = queued([progress(['b'], [], 'b')], 500, state);
    expect(state.entries[id]!.status).toMatchObject({ firstAt: 500, dueAt: 800 });
    state = reduce(state, { type: 'succeeded', id, revision: 1 });
    expect(state.entries[id]!.work).toMatchObject({ completedSteps: ['a', 'b'], currentStepId: 'b' });
    state = run(state, { type: 'sending', id, revision: 2 }, { type: 'succeeded', id, revision: 2 });
    expect(state.entries[id]).toBeUndefined();
  });

  it('restored work does not replace what this page knows, and is due at once', () => {
    let state = queued([upload()]);
    const before = state.entries.u;
    state = reduce(state, { type: 'restored', work: [upload('u', '/x'), progress(['a'])], now: 0 });
    expect(state.entries.u).toBe(before);
    expect(state.entries[progressKey('7', 'ia')]!.status).toMatchObject({ phase: 'queued', dueAt: null, kept: true });
  });

  it('progress read back from the device joins a report made before the read (grow-only)', () => {
    const id = progressKey('7', 'ia');
    let state = run(queued([progress(['c'], ['d'], 'c')], 0), { type: 'sending', id, revision: 1 });
    state = reduce(state, { type: 'restored', work: [progress(['a', 'b'], ['b'], 'b')], now: 0 });
    expect(state.entries[id]!.work).toMatchObject({ completedSteps: ['a', 'b', 'c'], unlockedSteps: ['b', 'd'], currentStepId: 'c' });
    // Changed while it was sent: sent again, not written off by the older answer.
    expect(state.entries[id]!.status).toMatchObject({ phase: 'queued', revision: 2, kept: false });
    expect(reduce(state, { type: 'restored', work: [progress(['a'])], now: 0 })).toBe(state);
  });

  it('a step change whose upload is gone waits and counts as a change; an upload referred to by another change is not pending', () => {
    let state = queued([change('gone')]);
    expect(dueItems(state, 0)).toEqual([]);
    expect(pendingCounts(state, 7)).toMatchObject({ images: 0, stepChanges: 1 });
    state = queued([upload('u')], 0, state);
    state = run(state, { type: 'sending', id: 'u', revision: 1 }, { type: 'succeeded', id: 'u', revision: 1, url: '/x' });
    expect(isPending(state, state.entries.u!)).toBe(false);
    expect(pendingCounts(state, 7)).toMatchObject({ images: 0, stepChanges: 1 });
  });

  it('wakes for the earliest of several debounces and retries, and not for what is sending, uploaded or failed', () => {
    let state = queued([upload('a'), upload('b')], 0);
    state = run(state, { type: 'sending', id: 'a', revision: 1 }, { type: 'sending', id: 'b', revision: 1 });
    expect(nextWakeAt(state)).toBe(null);
    state = reduce(state, { type: 'failed', id: 'a', revision: 1, failure: { kind: 'network', message: 'x' }, now: 1000, jitter: 1 });
    state = reduce(state, { type: 'failed', id: 'b', revision: 1, failure: { kind: 'network', message: 'x' }, now: 1000, jitter: 0 });
    expect(nextWakeAt(state)).toBe(1500);
    state = queued([progress(['a'])], 1100, state);
    expect(nextWakeAt(state)).toBe(1400);
    expect(dueItems(state, 1399)).toEqual([]);
    expect(dueItems(state, 1400).map((e) => e.work.kind)).toEqual(['progress']);
    const none = queued([upload('c')], 0, initialState({ concurrency: 0 }));
    expect(dueItems(none, 0)).toEqual([]);
  });

  it('a waiting item without a retry time is not due; only waiting items are tried again', () => {
    let state = queued([upload('a')], 0);
    state = { ...state, entries: { a: { ...state.entries.a!, status: { ...state.entries.a!.status, phase: 'waiting', retryAt: null } } } };
    expect(dueItems(state, 10 ** 9)).toEqual([]);
    const failed = reduce(run(queued([upload('b')]), { type: 'sending', id: 'b', revision: 1 }), {
      type: 'failed', id: 'b', revision: 1, failure: { kind: 'final', message: 'no' }, now: 0, jitter: 0,
    });
    expect(reduce(failed, { type: 'retry-now' }).entries.b!.status.phase).toBe('failed');
  });

  it('removes items; removing nothing changes nothing', () => {
    const state = queued([upload(), upload('v')]);
    expect(Object.keys(reduce(state, { type: 'removed', ids: ['u'] }).entries)).toEqual(['v']);
    expect(reduce(state, { type: 'removed', ids: ['w'] })).toBe(state);
  });

  it('sends at most `concurrency` at once, oldest first', () => {
    const items = [upload('c'), upload('a'), upload('b')].map((u, i) => ({ ...u, createdAt: [3, 1, 2][i]! }));
    let state = queued(items, 0, initialState({ concurrency: 2 }));
    expect(dueItems(state, 0).map((e) => e.work.id)).toEqual(['a', 'b']);
    state = reduce(state, { type: 'sending', id: 'a', revision: 1 });
    expect(dueItems(state, 0).map((e) => e.work.id)).toEqual(['b']);
    state = reduce(state, { type: 'sending', id: 'b', revision: 1 });
    expect(dueItems(state, 0)).toEqual([]);
  });
});
