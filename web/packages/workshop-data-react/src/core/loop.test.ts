// @vitest-environment node
// The one sync loop, with fake timers and a fake server: uploads, the step change that waits
// for an upload, and navigation progress all go through it, with the same retry rules.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { FakeEvents, FakeServer } from '../testing/fakeServer.js';
import { httpPerformers } from './http.js';
import { HttpError } from '../transport.js';
import { SyncLoop, classify } from './loop.js';
import { imageStepChange, memoryWorkStore, progressKey, type WorkStore } from './store.js';
import { mounted, stepMounted, type RegisteredStep } from './steps.js';
import type { ProgressWork, StepChangeWork, UploadWork } from './work.js';

const STEP = 'ia:ia-3-3';
const UPLOAD_KEY = 'workshop-data:upload:7:ia:ia-3-3:uploadedImage';

let server: FakeServer;
let events: FakeEvents;
let uploads: { status: number; headers?: Record<string, string> }[];
let uploadCount: number;
let progressPuts: Record<string, unknown>[];
let progressAnswer: { status: number; headers?: Record<string, string> } | null;
let offline: boolean;

/** The step API of FakeServer, plus /api/uploads and /api/navigation-progress. */
const fetchFn: typeof fetch = async (input, init = {}) => {
  const url = String(input);
  if (offline) throw new TypeError('Failed to fetch');
  if (url.endsWith('/api/uploads')) {
    const next = uploads.shift() ?? { status: 201 };
    if (next.status !== 201) return new Response(JSON.stringify({ success: false, error: `Upload ${next.status}` }), next);
    uploadCount += 1;
    return new Response(JSON.stringify({ success: true, upload: { url: `/api/uploads/u${uploadCount}` } }), { status: 201 });
  }
  if (url.includes('/api/navigation-progress/')) {
    const body = JSON.parse(String(init.body)) as Record<string, unknown>;
    progressPuts.push(body);
    if (progressAnswer) {
      const answer = progressAnswer;
      progressAnswer = null;
      return new Response(JSON.stringify({ success: false, error: `Progress ${answer.status}` }), answer);
    }
    return new Response(JSON.stringify({ workshopType: 'ia', version: progressPuts.length, ...body }), { status: 200 });
  }
  return server.fetch(input, init);
};

function loop(store: WorkStore | null = memoryWorkStore(), config = {}): SyncLoop {
  return new SyncLoop({
    performers: httpPerformers({ fetch: fetchFn, applyToOpenStep: () => false }),
    store,
    events,
    config: { retryBaseMs: 1000, retryMaxMs: 30_000, progressDebounceMs: 300, progressMaxWaitMs: 2000, ...config },
    random: () => 0.5,
    exclusive: null,
  });
}

const image = (): UploadWork => ({ kind: 'upload', id: UPLOAD_KEY, userId: '7', createdAt: 1, blob: new Blob(['png']), url: null });
const imageChange = () => imageStepChange(UPLOAD_KEY, '7', 'ia', 'ia-3-3', 'uploadedImage', { selectedImage: null }, 1, 'req');
const report = (completed: string[], current: string | null = null): ProgressWork => ({
  kind: 'progress',
  id: progressKey('7', 'ia'),
  userId: '7',
  createdAt: 2,
  workshopType: 'ia',
  currentStepId: current,
  completedSteps: completed,
  unlockedSteps: [],
});

async function settle(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  for (let i = 0; i < 10; i += 1) await vi.advanceTimersByTimeAsync(0);
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  server = new FakeServer();
  events = new FakeEvents();
  uploads = [];
  uploadCount = 0;
  progressPuts = [];
  progressAnswer = null;
  offline = false;
});

afterEach(() => {
  vi.useRealTimers();
  for (const step of [...mounted.keys()]) stepMounted(step, false);
});

describe('one loop for every kind of work', () => {
  it('uploads the image, then sets the step field to its URL with If-Match and an Idempotency-Key, and forgets both', async () => {
    server.put(STEP, { imageTitle: 'Mine', uploadedImage: null }, 3);
    const store = memoryWorkStore();
    const core = loop(store);
    const change = { ...imageChange(), fields: {} };
    await core.enqueue([image(), change]);
    expect([...store.items.keys()].sort()).toEqual([imageChange().id, UPLOAD_KEY].sort()); // journalled together
    await settle();
    expect(server.docs.get(STEP)).toMatchObject({ version: 4, data: { imageTitle: 'Mine', uploadedImage: '/api/uploads/u1' } });
    const patch = server.patches()[0]!;
    expect(patch.headers['If-Match']).toBe('"3"');
    expect(patch.headers['Idempotency-Key']).toBe('req@3');
    expect(patch.body).toEqual({ uploadedImage: '/api/uploads/u1' });
    expect(core.getState().entries).toEqual({});
    expect(store.items.size).toBe(0);
  });

  it('a field set to null (not a merge patch) goes as the whole document on the version read', async () => {
    server.put(STEP, { imageTitle: 'Mine', selectedImage: 'gallery' }, 3);
    const core = loop();
    await core.enqueue([image(), imageChange()]);
    await settle();
    expect(server.saves()[0]).toMatchObject({ method: 'POST', baseVersion: 3 });
    expect(server.saves()[0]!.headers['Idempotency-Key']).toBe('req@3');
    expect(server.docs.get(STEP)).toMatchObject({ version: 4, data: { imageTitle: 'Mine', selectedImage: null, uploadedImage: '/api/uploads/u1' } });
  });

  it('a step that already refers to the upload is not saved again', async () => {
    server.put(STEP, { uploadedImage: '/api/uploads/u1', selectedImage: null }, 3);
    const core = loop();
    await core.enqueue([image(), imageChange()]);
    await settle();
    expect(server.saves()).toEqual([]);
    expect(core.getState().entries).toEqual({});
  });

  it('a step that does not exist yet is created with the field (POST, base version 0)', async () => {
    const core = loop();
    await core.enqueue([image(), imageChange()]);
    await settle();
    expect(server.saves()[0]).toMatchObject({ method: 'POST', baseVersion: 0 });
    expect(server.docs.get(STEP)?.data).toEqual({ selectedImage: null, uploadedImage: '/api/uploads/u1' });
  });

  it('409: reads the step again and re-applies just that field on the new version', async () => {
    server.put(STEP, { reflection: 'old' }, 1);
    const core = loop();
    // Another device saves between this loop's read and its write.
    const original = server.fetch;
    let first = true;
    server.fetch = async (input, init) => {
      if (first && (init?.method === 'PATCH' || init?.method === 'POST')) {
        first = false;
        server.put(STEP, { reflection: 'from the other device' }, 2);
      }
      return original(input, init);
    };
    await core.enqueue([image(), imageChange()]);
    await settle();
    expect(server.saves().map((r) => r.status)).toEqual([409, 200]);
    expect(server.docs.get(STEP)).toMatchObject({
      version: 3,
      data: { reflection: 'from the other device', selectedImage: null, uploadedImage: '/api/uploads/u1' },
    });
  });

  it('the step change goes through the mounted step when that step is open (its screen updates)', async () => {
    const changes: Record<string, unknown>[] = [];
    const step: RegisteredStep = {
      userId: 7,
      journalKey: 'k',
      workshopType: 'ia',
      stepId: 'ia-3-3',
      saveNow: async () => undefined,
      resume: async () => undefined,
      getSnapshot: () => ({ hasPendingChanges: false, loaded: true }),
      usesJournal: () => true,
      discardLocal: () => undefined,
      journalIdle: async () => undefined,
      updateData: ((patch: Record<string, unknown>) => changes.push(patch)) as (patch: never) => void,
    };
    stepMounted(step, true);
    const core = new SyncLoop({ performers: httpPerformers({ fetch: fetchFn }), store: memoryWorkStore(), exclusive: null });
    await core.enqueue([image(), imageChange()]);
    await settle();
    expect(changes).toEqual([{ selectedImage: null, uploadedImage: '/api/uploads/u1' }]);
    expect(server.saves()).toEqual([]);
    expect(core.getState().entries).toEqual({});
  });

  it('offline: nothing is sent; the work survives a reload; online sends the upload, the step change and the progress', async () => {
    const store = memoryWorkStore();
    offline = true;
    const before = loop(store);
    await before.enqueue([image(), imageChange()]);
    await before.enqueue([report(['ia-1-1'], 'ia-1-1')]);
    await settle(5000);
    expect(before.getState().entries[UPLOAD_KEY]!.status.phase).toBe('waiting');
    before.dispose();

    const after = loop(store); // the reload
    await after.restoreUser(7);
    expect(Object.keys(after.getState().entries)).toHaveLength(3);
    offline = false;
    const results: string[] = [];
    after.onResult((work) => results.push(work.kind));
    events.fire('online');
    await settle(1000);
    expect(server.docs.get(STEP)?.data).toMatchObject({ uploadedImage: '/api/uploads/u1' });
    expect(progressPuts).toEqual([{ currentStepId: 'ia-1-1', completedSteps: ['ia-1-1'], unlockedSteps: [] }]);
    expect(results.sort()).toEqual(['progress', 'step-change', 'upload']);
    expect(store.items.size).toBe(0);
  });

  it('a report made after a reload, before the device was read, keeps what the device held', async () => {
    const store = memoryWorkStore();
    offline = true;
    const before = loop(store);
    await before.enqueue([report(['ia-1-1', 'ia-1-2'], 'ia-1-2')]);
    before.dispose();
    const after = loop(store);
    await after.enqueue([report(['ia-1-3'], 'ia-1-3')]); // the page reports before it restores
    await after.restoreUser(7);
    expect(store.items.get(progressKey('7', 'ia'))).toMatchObject({ completedSteps: ['ia-1-1', 'ia-1-2', 'ia-1-3'], currentStepId: 'ia-1-3' });
    offline = false;
    events.fire('online');
    await settle(300);
    expect(progressPuts).toEqual([{ currentStepId: 'ia-1-3', completedSteps: ['ia-1-1', 'ia-1-2', 'ia-1-3'], unlockedSteps: [] }]);
  });

  it('the browser saying offline stops sending; online resumes at once', async () => {
    const core = loop();
    events.fire('offline');
    await core.enqueue([image()]);
    await settle(60_000);
    expect(uploadCount).toBe(0);
    expect(core.get(UPLOAD_KEY)!.status.phase).toBe('queued');
    events.fire('online');
    await settle();
    expect(core.get(UPLOAD_KEY)!.work).toMatchObject({ url: '/api/uploads/u1' });
  });

  it('progress: reports within the debounce go as one, merged', async () => {
    const core = loop();
    await core.enqueue([report(['a'], 'a')]);
    await settle(200);
    await core.enqueue([report(['b'], 'b')]);
    await settle(299);
    expect(progressPuts).toEqual([]);
    await settle(1);
    expect(progressPuts).toEqual([{ currentStepId: 'b', completedSteps: ['a', 'b'], unlockedSteps: [] }]);
  });

  it('retries 5xx with backoff and jitter, and waits for a longer Retry-After (capped)', async () => {
    uploads = [{ status: 503 }, { status: 503, headers: { 'Retry-After': '20' } }, { status: 429, headers: { 'Retry-After': '99999' } }];
    const core = loop(memoryWorkStore(), { retryAfterCapMs: 40_000 });
    await core.enqueue([image()]);
    await settle();
    expect(core.get(UPLOAD_KEY)!.status).toMatchObject({ phase: 'waiting', attempt: 1, error: 'Upload 503' });
    await settle(749);
    expect(core.get(UPLOAD_KEY)!.status.attempt).toBe(1);
    await settle(1); // 750 ms: half of 1 s plus half the jitter
    expect(core.get(UPLOAD_KEY)!.status.attempt).toBe(2);
    await settle(19_999); // Retry-After: 20 s, longer than the backoff
    expect(core.get(UPLOAD_KEY)!.status.attempt).toBe(2);
    await settle(1);
    expect(core.get(UPLOAD_KEY)!.status.attempt).toBe(3);
    await settle(39_999); // Retry-After of a day, capped at 40 s
    expect(uploadCount).toBe(0);
    await settle(1);
    expect(core.get(UPLOAD_KEY)!.work).toMatchObject({ url: '/api/uploads/u1' });
  });

  it('401 pauses the loop (the work stays) until signedIn()', async () => {
    server.signedOut = true;
    server.put(STEP, {}, 1);
    const core = loop();
    await core.enqueue([image(), imageChange()]);
    await settle(60_000);
    expect(core.getState().signedOut).toBe(true);
    const loads = server.loads().length;
    expect(loads).toBe(1);
    server.signedOut = false;
    core.signedIn();
    await settle();
    expect(server.docs.get(STEP)?.data).toMatchObject({ uploadedImage: '/api/uploads/u1' });
  });

  it('423: the workshop is completed; the change is refused for good and reported', async () => {
    server.put(STEP, {}, 1);
    server.lockedSince = '2026-01-01T00:00:00Z';
    const core = loop();
    await core.enqueue([image(), imageChange()]);
    await settle(60_000);
    expect(core.get(imageChange().id)!.status).toMatchObject({ phase: 'failed' });
    expect(server.saves()).toHaveLength(1);
  });

  it('a refused progress report (4xx) is final; a 5xx one is retried', async () => {
    progressAnswer = { status: 500 };
    const core = loop();
    await core.enqueue([report(['a'])]);
    await settle(300);
    expect(core.get(progressKey('7', 'ia'))!.status.phase).toBe('waiting');
    await settle(1000);
    expect(core.get(progressKey('7', 'ia'))).toBeNull();
    expect(progressPuts).toHaveLength(2);
  });

  it('bounds the requests in flight', async () => {
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const slow = new SyncLoop({
      performers: {
        upload: async () => {
          calls += 1;
          inFlight += 1;
          most = Math.max(most, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 100));
          inFlight -= 1;
          return { url: '/x' };
        },
        stepChange: async () => undefined,
        progress: async () => null,
      },
      config: { concurrency: 2 },
      exclusive: null,
    });
    await Promise.all([1, 2, 3, 4, 5].map((n) => slow.enqueue([{ ...image(), id: `u${n}` }])));
    await settle(1000);
    expect(most).toBe(2);
    expect(calls).toBe(5); // each item sent once
    expect(Object.values(slow.getState().entries).every((e) => e.status.phase === 'uploaded')).toBe(true);
  });

  it('a device that refuses the write: not kept, still sent while the page lives', async () => {
    const store = memoryWorkStore();
    store.failWrites = true;
    const core = loop(store);
    await core.enqueue([image()]);
    expect(core.get(UPLOAD_KEY)!.status).toMatchObject({ kept: false });
    expect(core.get(UPLOAD_KEY)!.status.keepError).toMatch(/out of storage space/);
    await settle();
    expect(core.get(UPLOAD_KEY)!.work).toMatchObject({ url: '/api/uploads/u1' });
  });

  it('work another tab finished is taken from the device, not sent again', async () => {
    const store = memoryWorkStore();
    const core = loop(store);
    offline = true;
    await core.enqueue([image()]);
    await settle();
    // The other tab uploaded it meanwhile.
    await store.setMany([[UPLOAD_KEY, { ...image(), url: '/api/uploads/elsewhere' } as unknown as Record<string, unknown>]]);
    offline = false;
    events.fire('online');
    await settle();
    expect(uploadCount).toBe(0);
    expect(core.get(UPLOAD_KEY)!.work).toMatchObject({ url: '/api/uploads/elsewhere' });
  });

  it('clear(user) forgets that user\'s work only, on the device too', async () => {
    const store = memoryWorkStore();
    const core = loop(store);
    offline = true;
    await core.enqueue([image(), imageChange()]);
    await core.enqueue([{ ...image(), id: 'workshop-data:upload:8:ia:ia-3-3:uploadedImage', userId: '8' }]);
    await core.clear(7);
    expect([...store.items.keys()]).toEqual(['workshop-data:upload:8:ia:ia-3-3:uploadedImage']);
    expect(Object.keys(core.getState().entries)).toEqual(['workshop-data:upload:8:ia:ia-3-3:uploadedImage']);
  });

  it('removing an image removes the step change waiting for it', async () => {
    const store = memoryWorkStore();
    const core = loop(store);
    offline = true;
    await core.enqueue([image(), imageChange()]);
    await core.remove([UPLOAD_KEY]);
    expect(core.getState().entries).toEqual({});
    expect(store.items.size).toBe(0);
  });
});

describe('the loop in detail', () => {
  it('classifies failures: network, 401, 423, 409, retryable (5xx, 408, 429, a success without the answer), final', () => {
    expect(classify(new TypeError('Failed to fetch'))).toEqual({ kind: 'network', message: 'the network is unavailable' });
    expect(classify(new HttpError('Sign in.', 401, null))).toEqual({ kind: 'unauthorized', message: 'Sign in.' });
    expect(classify(new HttpError('Done.', 423, null))).toEqual({ kind: 'locked', message: 'Done.' });
    expect(classify(new HttpError('Changed.', 409, null))).toEqual({ kind: 'conflict', message: 'Changed.' });
    expect(classify(new HttpError('Odd.', 200, null))).toEqual({ kind: 'retryable', message: 'Odd.', retryAfterMs: null });
    expect(classify(new HttpError('Busy.', 503, null, 2000))).toEqual({ kind: 'retryable', message: 'Busy.', retryAfterMs: 2000 });
    expect(classify(new HttpError('Slow.', 408, null))).toMatchObject({ kind: 'retryable' });
    expect(classify(new HttpError('Later.', 429, null))).toMatchObject({ kind: 'retryable' });
    expect(classify(new HttpError('Bad.', 400, null))).toEqual({ kind: 'final', message: 'Bad.' });
    expect(classify(new HttpError('Too big.', 413, null))).toEqual({ kind: 'final', message: 'Too big.' });
  });

  it('a device that cannot keep it for another reason says so plainly; without a store nothing is kept', async () => {
    const store = memoryWorkStore();
    store.setMany = async () => {
      throw new Error('broken');
    };
    const core = loop(store);
    offline = true;
    await core.enqueue([image()]);
    expect(core.get(UPLOAD_KEY)!.status).toMatchObject({ kept: false, keepError: 'This device could not keep a copy.' });
    const bare = loop(null);
    await bare.enqueue([image()]);
    expect(bare.get(UPLOAD_KEY)!.status).toMatchObject({ kept: false, keepError: 'This device could not keep a copy.' });
    await bare.enqueue([report(['a'])]); // progress merges with the device only where there is one
    await bare.restoreUser(7); // nothing to read back
    await bare.clear(7);
    expect(bare.getState().entries).toEqual({});
    offline = false;
    const online = loop(null);
    await online.enqueue([image()]);
    await settle();
    expect(online.get(UPLOAD_KEY)!.work).toMatchObject({ url: '/api/uploads/u1' });
    const odd = memoryWorkStore();
    odd.setMany = () => Promise.reject(null);
    const refused = loop(odd);
    await refused.enqueue([image()]);
    expect(refused.get(UPLOAD_KEY)!.status.keepError).toBe('This device could not keep a copy.');
  });

  it('starts offline when the browser says so, and settles at once then', async () => {
    const core = new SyncLoop({ performers: httpPerformers({ fetch: fetchFn }), store: memoryWorkStore(), online: false, exclusive: null, events });
    expect(core.getState().online).toBe(false);
    await core.enqueue([image()]);
    await core.settled(UPLOAD_KEY);
    expect(core.get(UPLOAD_KEY)!.status.phase).toBe('queued');
    expect(uploadCount).toBe(0);
    events.fire('online');
    await core.settled(UPLOAD_KEY);
    expect(core.get(UPLOAD_KEY)!.status.phase).toBe('uploaded');
  });

  it('settled() waits for the first attempt while online; resolves for a signed-out queue and for unknown items', async () => {
    const core = loop();
    await core.settled('nothing');
    let done = false;
    void core.enqueue([image()]);
    const waiting = core.settled(UPLOAD_KEY).then(() => (done = true));
    expect(done).toBe(false);
    await waiting;
    expect(core.get(UPLOAD_KEY)!.status.phase).toBe('uploaded');
    server.signedOut = true;
    const change = { ...imageChange() };
    await core.enqueue([change]);
    await settle();
    expect(core.getState().signedOut).toBe(true);
    await core.settled(change.id); // queued, and nothing can be sent
  });

  it('listeners: subscribe and onResult can be stopped; a dispatch that changes nothing notifies no one', async () => {
    const core = loop();
    let calls = 0;
    const results: string[] = [];
    const stop = core.subscribe(() => (calls += 1));
    const stopResults = core.onResult((work) => results.push(work.id));
    core.dispatch({ type: 'removed', ids: ['none'] });
    expect(calls).toBe(0);
    await core.enqueue([image()]);
    await settle();
    expect(calls).toBeGreaterThan(0);
    expect(results).toEqual([UPLOAD_KEY]);
    stop();
    stopResults();
    const before = calls;
    await core.enqueue([{ ...image(), id: 'workshop-data:upload:7:ia:ia-3-3:other' }]);
    await settle();
    expect(calls).toBe(before);
    expect(results).toEqual([UPLOAD_KEY]);
  });

  it('dispose stops listening and sending', async () => {
    const core = loop();
    offline = true;
    await core.enqueue([image()]);
    await settle();
    core.dispose();
    expect(events.count('online')).toBe(0);
    expect(events.count('offline')).toBe(0);
    offline = false;
    core.retryNow();
    await settle(60_000);
    expect(uploadCount).toBe(0);
  });

  it('an upload the server has is written back with its URL; the step change and the image leave the device together', async () => {
    const store = memoryWorkStore();
    const core = loop(store);
    server.put(STEP, {}, 1);
    server.signedOut = true; // the step change waits; the upload goes
    const original = server.fetch;
    server.fetch = async (input, init) => original(input, init);
    await core.enqueue([image(), imageChange()]);
    await settle();
    expect(store.items.get(UPLOAD_KEY)).toMatchObject({ url: '/api/uploads/u1' });
    expect(store.items.has(imageChange().id)).toBe(true);
    server.signedOut = false;
    core.signedIn();
    await settle();
    expect(store.items.size).toBe(0);
  });

  it('a replaced upload: the old answer is not written to the device', async () => {
    const store = memoryWorkStore();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let n = 0;
    const core = new SyncLoop({
      performers: {
        upload: async () => {
          n += 1;
          const mine = n;
          if (mine === 1) await gate;
          return { url: `/api/uploads/${mine}` };
        },
        stepChange: async () => undefined,
        progress: async () => null,
      },
      store,
      exclusive: null,
    });
    await core.enqueue([image()]);
    await settle();
    await core.enqueue([image()]); // replaced while the first is sent
    await settle();
    release();
    await settle();
    expect(core.get(UPLOAD_KEY)!.work).toMatchObject({ url: '/api/uploads/2' });
    expect(store.items.get(UPLOAD_KEY)).toMatchObject({ url: '/api/uploads/2' });
  });

  it('restore reads back only that user\'s work, once per call at a time, and not what this page finished', async () => {
    const store = memoryWorkStore();
    const core = loop(store);
    await core.enqueue([report(['a'])]);
    await settle(300);
    expect(progressPuts).toHaveLength(1);
    // A stale copy on the device (its removal lost): not brought back.
    await store.setMany([[progressKey('7', 'ia'), report(['a']) as unknown as Record<string, unknown>]]);
    await store.setMany([['workshop-data:work:8:progress:ia', { ...report(['z']), id: 'workshop-data:work:8:progress:ia', userId: '8' } as unknown as Record<string, unknown>]]);
    await Promise.all([core.restoreUser(7), core.restoreUser(7)]);
    expect(core.getState().entries).toEqual({});
    await core.restoreUser(8);
    expect(Object.keys(core.getState().entries)).toEqual(['workshop-data:work:8:progress:ia']);
  });

  it('a step change without an image is applied as it is', async () => {
    server.put(STEP, { imageTitle: 'Old' }, 2);
    const core = loop();
    await core.enqueue([{ ...(imageChange() as StepChangeWork), uploadId: null, uploadField: null, fields: { imageTitle: 'New' } }]);
    await settle();
    expect(server.docs.get(STEP)).toMatchObject({ version: 3, data: { imageTitle: 'New' } });
  });

  it('with Web Locks, a send another tab holds is tried again later; a free lock sends', async () => {
    const held = new Set<string>();
    const locks = {
      request: async (name: string, options: { ifAvailable?: boolean }, callback: (lock: unknown) => Promise<unknown>) => {
        if (options.ifAvailable !== true) throw new Error('this test does not wait for locks');
        if (held.has(name)) return callback(null);
        return callback({ name });
      },
    };
    vi.stubGlobal('navigator', { locks, onLine: true });
    try {
      held.add(`workshop-data:${UPLOAD_KEY}`);
      const core = new SyncLoop({ performers: httpPerformers({ fetch: fetchFn }), store: memoryWorkStore(), events, random: () => 0.5 });
      await core.enqueue([image()]);
      await settle();
      expect(uploadCount).toBe(0);
      expect(core.get(UPLOAD_KEY)!.status).toMatchObject({ phase: 'waiting', error: 'Another tab is sending this.' });
      held.clear();
      await settle(750);
      expect(core.get(UPLOAD_KEY)!.work).toMatchObject({ url: '/api/uploads/u1' });
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('without Web Locks (a browser without them) it sends anyway', async () => {
    vi.stubGlobal('navigator', { onLine: true });
    try {
      const core = new SyncLoop({ performers: httpPerformers({ fetch: fetchFn }), store: memoryWorkStore(), events });
      await core.enqueue([image()]);
      await settle();
      expect(core.get(UPLOAD_KEY)!.work).toMatchObject({ url: '/api/uploads/u1' });
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('a lock that fails counts as held elsewhere: tried again later', async () => {
    const core = new SyncLoop({
      performers: httpPerformers({ fetch: fetchFn }),
      store: memoryWorkStore(),
      exclusive: () => Promise.reject(new Error('locks broken')),
      random: () => 0,
    });
    await core.enqueue([image()]);
    await settle();
    expect(uploadCount).toBe(0);
    expect(core.get(UPLOAD_KEY)!.status).toMatchObject({ phase: 'waiting', error: 'Another tab is sending this.', attempt: 1 });
  });

  it('removing an image leaves other step changes alone', async () => {
    const store = memoryWorkStore();
    const core = loop(store);
    offline = true;
    const other = { ...(imageChange() as StepChangeWork), id: 'workshop-data:work:7:step:ia:ia-3-4:x', uploadId: null, uploadField: null, fields: { x: 1 } };
    const otherImage = { ...(imageChange() as StepChangeWork), id: 'workshop-data:work:7:step:ia:ia-3-5:y', uploadId: 'elsewhere' };
    await core.enqueue([image(), imageChange(), other, otherImage]);
    await core.remove([UPLOAD_KEY]);
    expect(Object.keys(core.getState().entries).sort()).toEqual([other.id, otherImage.id].sort());
    expect([...store.items.keys()].sort()).toEqual([other.id, otherImage.id].sort());
  });

  it('an item another tab finished (gone from the device) is dropped, not sent', async () => {
    const store = memoryWorkStore();
    const core = loop(store);
    offline = true;
    await core.enqueue([report(['a'])]);
    await settle(300);
    expect(core.get(progressKey('7', 'ia'))!.status.phase).toBe('waiting');
    await store.deleteMany([progressKey('7', 'ia')]);
    offline = false;
    events.fire('online');
    await settle();
    expect(progressPuts).toEqual([]);
    expect(core.get(progressKey('7', 'ia'))).toBeNull();
  });

  it('progress still on the device is sent (only an upload takes a URL from it)', async () => {
    const store = memoryWorkStore();
    const core = loop(store);
    offline = true;
    await core.enqueue([report(['a'])]);
    await settle(300);
    offline = false;
    events.fire('online');
    await settle();
    expect(progressPuts).toHaveLength(1);
    expect(store.items.size).toBe(0);
  });

  it('an image the device did not keep is not written there when uploaded', async () => {
    const store = memoryWorkStore();
    store.failWrites = true;
    const core = loop(store);
    offline = true;
    await core.enqueue([image()]);
    await settle();
    store.failWrites = false;
    offline = false;
    events.fire('online');
    await settle();
    expect(core.get(UPLOAD_KEY)!.work).toMatchObject({ url: '/api/uploads/u1' });
    expect(store.items.size).toBe(0);
  });

  it('back online, work another tab queued for the same user is read and sent too', async () => {
    const store = memoryWorkStore();
    const core = loop(store);
    offline = true;
    await core.enqueue([report(['a'])]);
    await settle(300);
    const otherTab = { ...image(), id: 'workshop-data:upload:7:ia:ia-3-3:otherField' };
    await store.setMany([[otherTab.id, otherTab as unknown as Record<string, unknown>]]);
    offline = false;
    events.fire('online');
    await settle();
    expect(core.get(otherTab.id)!.work).toMatchObject({ url: '/api/uploads/u1' });
  });

  it('a finished step change and its image do not come back from a stale copy on the device', async () => {
    const store = memoryWorkStore();
    const core = loop(store);
    server.put(STEP, {}, 1);
    const upload = image();
    const change = imageChange();
    await core.enqueue([upload, change]);
    await settle();
    expect(core.getState().entries).toEqual({});
    await store.setMany([
      [upload.id, { ...upload, url: '/api/uploads/u1' } as unknown as Record<string, unknown>],
      [change.id, change as unknown as Record<string, unknown>],
    ]);
    await core.restoreUser(7);
    expect(core.getState().entries).toEqual({});
  });
});
