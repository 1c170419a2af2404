// @vitest-environment node
// The upload queue: images kept on the device (IndexedDB through fake-indexeddb, or a store
// that fails like a full disk) until POST /api/uploads has them. Node's environment, not
// jsdom's: fake-indexeddb stores Blobs with Node's structuredClone, which knows Node's Blob.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { clearJournal } from './registry.js';
import { FakeEvents } from './testing/fakeServer.js';
import { UploadQueue, clearUploads, indexedDbUploads, memoryUploads, uploadKey, type UploadStore } from './uploads.js';

const KEY = uploadKey(7, 'ia', 'ia-3-3', 'uploadedImage');
const setTimeoutReal = globalThis.setTimeout.bind(globalThis);

interface Sent {
  body: Blob;
  contentType: string | undefined;
}

let sent: Sent[];
let online: boolean;
let answer: { status: number; body: unknown };
let events: FakeEvents;
let dbCount = 0;

const fakeFetch: typeof fetch = async (_input, init = {}) => {
  if (!online) throw new TypeError('Failed to fetch');
  const headers = (init.headers ?? {}) as Record<string, string>;
  sent.push({ body: init.body as Blob, contentType: headers['Content-Type'] });
  return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'Content-Type': 'application/json' } });
};

function uploaded(id: string) {
  return { status: 201, body: { success: true, upload: { id, url: `/api/uploads/${id}`, contentType: 'image/png', size: 3 } } };
}

function queue(store: UploadStore | null) {
  return new UploadQueue({ fetch: fakeFetch, store, events, random: () => 0.5, retryBaseMs: 1000 });
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) {
    await vi.advanceTimersByTimeAsync(0);
    await new Promise((resolve) => setTimeoutReal(resolve, 0));
  }
}

const image = () => new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' });

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  sent = [];
  online = true;
  answer = uploaded('u1');
  events = new FakeEvents();
  dbCount += 1;
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the upload queue', () => {
  it('keeps the blob in IndexedDB, uploads the raw bytes with their type, and records the URL', async () => {
    const store = indexedDbUploads(`uploads-test-${dbCount}`);
    const q = queue(store);
    await q.add(KEY, image());
    expect(sent).toHaveLength(1);
    expect(sent[0]?.contentType).toBe('image/png');
    expect(sent[0]?.body).toBeInstanceOf(Blob);
    expect(q.get(KEY)).toMatchObject({ state: 'uploaded', kept: true, url: '/api/uploads/u1' });
    const stored = await store.get(KEY);
    expect(stored?.url).toBe('/api/uploads/u1');
    expect(await stored?.blob.arrayBuffer()).toEqual(await image().arrayBuffer());
  });

  it('offline: the image waits on the device, survives a reload, and is uploaded when the network returns', async () => {
    const store = indexedDbUploads(`uploads-test-${dbCount}`);
    online = false;
    const first = new UploadQueue({ fetch: fakeFetch, store, events: new FakeEvents() }); // the page before the reload
    await first.add(KEY, image());
    expect(first.get(KEY)).toMatchObject({ state: 'waiting', kept: true, url: null });
    expect(sent).toHaveLength(0);

    // A reload while offline: a new page, a new queue, the same device.
    const second = queue(store);
    await second.restore(KEY);
    expect(second.get(KEY)).toMatchObject({ state: 'waiting', kept: true });
    expect(await second.get(KEY)?.blob.arrayBuffer()).toEqual(await image().arrayBuffer());

    online = true;
    events.fire('online');
    await settle();
    expect(sent).toHaveLength(1);
    expect(second.get(KEY)).toMatchObject({ state: 'uploaded', url: '/api/uploads/u1' });
  });

  it('retries network failures and 5xx with backoff; a refusal (415) is final', async () => {
    const q = queue(memoryUploads());
    answer = { status: 503, body: { success: false, error: 'Busy.' } };
    await q.add(KEY, image());
    expect(q.get(KEY)).toMatchObject({ state: 'waiting', error: 'Busy.' });
    answer = uploaded('u2');
    await vi.advanceTimersByTimeAsync(749);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(sent).toHaveLength(2);
    expect(q.get(KEY)).toMatchObject({ state: 'uploaded', url: '/api/uploads/u2' });

    answer = { status: 415, body: { success: false, error: 'This file is not a PNG, JPEG, WebP or GIF image.', code: 'unsupported_image' } };
    await q.add(KEY, image());
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(sent).toHaveLength(3);
    expect(q.get(KEY)).toMatchObject({ state: 'failed', error: 'This file is not a PNG, JPEG, WebP or GIF image.' });
  });

  it('a device that refuses the blob says so (kept: false) and the upload still goes while the page lives', async () => {
    const store = memoryUploads();
    store.failWrites = true;
    online = false;
    const q = queue(store);
    await q.add(KEY, image());
    expect(q.get(KEY)).toMatchObject({ kept: false, state: 'waiting' });
    expect(q.get(KEY)?.keepError).toMatch(/out of storage space/);
    expect(store.items.size).toBe(0);
    online = true;
    events.fire('online');
    await settle();
    expect(q.get(KEY)).toMatchObject({ state: 'uploaded', kept: false });
  });

  it('a newer choice replaces the older one; a late answer for the older one changes nothing', async () => {
    const store = memoryUploads();
    const q = queue(store);
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const slowQueue = new UploadQueue({
      store,
      events,
      fetch: async (input, init) => {
        if (sent.length === 0) {
          sent.push({ body: init?.body as Blob, contentType: undefined });
          await slow;
          return new Response(JSON.stringify(uploaded('old').body), { status: 201 });
        }
        return fakeFetch(input, init);
      },
    });
    void q; // the plain queue is not used here
    const first = slowQueue.add(KEY, image());
    await settle();
    answer = uploaded('new');
    await slowQueue.add(KEY, new Blob(['second'], { type: 'image/gif' }));
    release();
    await first;
    await settle();
    expect(slowQueue.get(KEY)).toMatchObject({ url: '/api/uploads/new' });
    expect(await store.get(KEY)).toMatchObject({ url: '/api/uploads/new' });
  });

  it('clearUploads and clearJournal at sign-out remove only that user\'s images', async () => {
    const store = memoryUploads();
    const q = queue(store);
    online = false;
    await q.add(KEY, image());
    await q.add(uploadKey(8, 'ia', 'ia-3-3', 'uploadedImage'), image());
    await clearUploads(7, q);
    expect([...store.items.keys()]).toEqual([uploadKey(8, 'ia', 'ia-3-3', 'uploadedImage')]);
    expect(q.get(KEY)).toBeNull();
  });

  it('clearJournal() without a journal clears the page\'s waiting images too', async () => {
    const store = indexedDbUploads('workshop-data-uploads'); // the page's own queue uses this database
    await store.set(KEY, { blob: image(), createdAt: 0, url: null });
    await clearJournal(7);
    expect(await store.get(KEY)).toBeNull();
  });
});
