// The journal in IndexedDB (fake-indexeddb: the real IndexedDB API in memory), its failures,
// the localStorage fallback, partial saves and the keepalive byte budget.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { createDefaultJournal, indexedDbJournal, journalKey, storageJournal, type JournalEntry, type JournalStore } from './journal.js';
import { applyMergePatch, createMergePatch } from './merge.js';
import { KEEPALIVE_LIMIT_BYTES, byteLength } from './pageAdapters.js';
import { clearJournal } from './registry.js';
import { StepDataController } from './stepDataController.js';
import { FakeEvents, FakeServer, MemoryStorage } from './testing/fakeServer.js';
import type { StepDataOptions } from './types.js';

interface Doc {
  why: string;
  how: string;
  image: string | null;
  meta?: Record<string, unknown>;
}

const INITIAL: Doc = { why: '', how: '', image: null };
const KEY = 'ia:ia-3-3';
const JOURNAL = journalKey(7, 'ia', 'ia-3-3');

let server: FakeServer;
let events: FakeEvents;
let journal: JournalStore;
let controllers: StepDataController<Doc>[];
let dbCount = 0;
/** The real setTimeout (the fake clock does not drive IndexedDB's own tasks). */
const setTimeoutReal = globalThis.setTimeout.bind(globalThis);

function make(options: Partial<StepDataOptions<Doc>> = {}) {
  const opts: StepDataOptions<Doc> = {
    fetch: server.fetch,
    journal,
    events,
    document: { visibilityState: 'visible' },
    createChannel: null,
    random: () => 0.5,
    userId: 7,
    ...options,
  };
  const controller = new StepDataController<Doc>('ia', 'ia-3-3', INITIAL, () => opts);
  controllers.push(controller);
  return controller;
}

/** IndexedDB answers on real macrotasks; let them and the fake clock's tasks run. */
async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i += 1) {
    await vi.advanceTimersByTimeAsync(0);
    await new Promise((resolve) => setTimeoutReal(resolve, 0));
  }
}

async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await settle();
}

async function started(options: Partial<StepDataOptions<Doc>> = {}) {
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

/** A journal whose operations the test can hold or make fail. */
function controllable(inner: JournalStore) {
  const control = {
    failWrites: false as boolean | Error,
    holdGets: null as Promise<void> | null,
    holdSets: null as Promise<void> | null,
    sets: 0,
  };
  const store: JournalStore = {
    kind: inner.kind,
    get: async (key) => {
      if (control.holdGets) await control.holdGets;
      return inner.get(key);
    },
    set: async (key, entry) => {
      control.sets += 1;
      if (control.holdSets) await control.holdSets;
      if (control.failWrites) throw control.failWrites === true ? new DOMException('Quota exceeded', 'QuotaExceededError') : control.failWrites;
      return inner.set(key, entry);
    },
    delete: (key) => inner.delete(key),
    keys: (prefix) => inner.keys(prefix),
  };
  return { store, control };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  server = new FakeServer();
  events = new FakeEvents();
  dbCount += 1;
  journal = indexedDbJournal(`journal-test-${dbCount}`);
  controllers = [];
});

afterEach(() => {
  controllers.forEach((c) => c.dispose());
  vi.useRealTimers();
});

describe('the IndexedDB journal store', () => {
  it('commits a write at once, so a write started as the page is left does not need the page to live on', async () => {
    const commit = vi.spyOn(IDBTransaction.prototype, 'commit');
    const store = indexedDbJournal('workshop-data-journal-commit');
    await store.set('k', { data: { why: 'x' }, base: null, baseVersion: 0, changedAt: 0 });
    expect(commit).toHaveBeenCalledTimes(1);
    expect((await store.get<{ why: string }>('k'))?.data.why).toBe('x');
    commit.mockRestore();
  });
  it('commits every transaction it opens at once (reads too): a write started as the page is left waits for the reads begun before it', async () => {
    const store = indexedDbJournal('workshop-data-journal-commit-all');
    await store.set('k', { data: { why: 'x' }, base: null, baseVersion: 0, changedAt: 0 });
    const opened = vi.spyOn(IDBDatabase.prototype, 'transaction');
    const commit = vi.spyOn(IDBTransaction.prototype, 'commit');
    expect(await store.keys('')).toEqual(['k']);
    expect((await store.get<{ why: string }>('k'))?.data.why).toBe('x');
    await store.set('k', { data: { why: 'y' }, base: null, baseVersion: 0, changedAt: 0 });
    await store.delete('k');
    expect(await store.get('k')).toBeNull();
    expect(opened).toHaveBeenCalledTimes(5);
    expect(commit).toHaveBeenCalledTimes(5);
    opened.mockRestore();
    commit.mockRestore();
  });
});

describe('the journal in IndexedDB', () => {
  it('keeps unsaved changes across a reload (asynchronous mount) and saves them on the base they started from', async () => {
    server.put(KEY, { why: 'old', how: 'old' }, 1);
    const first = await started();
    server.fail('POST', { kind: 'network' }, 10);
    first.updateData({ why: 'typed offline' });
    await advance(1000);
    expect(first.getSnapshot()).toMatchObject({ status: 'offline', journalError: null });
    first.dispose();
    expect((await journal.get<Doc>(JOURNAL))?.data.why).toBe('typed offline');
    expect((await journal.get<Doc>(JOURNAL))?.baseVersion).toBe(1);

    // Meanwhile another device changed another field.
    server.clearFailures();
    server.put(KEY, { why: 'old', how: 'theirs' }, 2);
    const second = make();
    expect(second.getSnapshot()).toMatchObject({ status: 'loading', data: INITIAL, hasPendingChanges: false });
    second.start();
    await settle();
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'typed offline', how: 'theirs' }, version: 3 });
    expect(second.getSnapshot()).toMatchObject({ status: 'saved', hasPendingChanges: false });
    expect(await journal.get(JOURNAL)).toBeNull();
  });

  it('a server answer that comes before the journal is read waits for it: nothing is saved over what the page has not seen', async () => {
    // An earlier visit cleared `why` (the server had 'A' at version 1) and could not save it.
    await journal.set<Doc>(JOURNAL, { data: { why: '', how: '', image: null }, base: { why: 'A', how: '', image: null }, baseVersion: 1, changedAt: 0 });
    server.put(KEY, { why: 'A', how: 'B' }, 2); // and another device changed `how` since
    const slow = controllable(journal);
    const gate = held();
    slow.control.holdGets = gate.promise;
    const controller = await started({ journal: slow.store });
    expect(server.loads()).toHaveLength(1); // the load answered...
    expect(controller.getSnapshot()).toMatchObject({ status: 'loading', loaded: false }); // ...but is not adopted yet
    await controller.saveNow();
    events.fire('pagehide');
    expect(server.saves()).toHaveLength(0);
    gate.release();
    await settle();
    // Three-way over the journal's base: the clear survives, the other device's change too.
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: '', how: 'B' }, version: 3 });
    expect(server.saves()[0]?.baseVersion).toBe(2);
  });

  it('edits made before the journal was read are merged with what it kept (both texts of a field kept)', async () => {
    await journal.set<Doc>(JOURNAL, { data: { why: 'kept', how: 'kept', image: null }, base: null, baseVersion: 0, changedAt: 0 });
    const slow = controllable(journal);
    const gate = held();
    slow.control.holdGets = gate.promise;
    const controller = make({ journal: slow.store });
    controller.start();
    controller.updateData({ how: 'typed at once' });
    gate.release();
    await settle();
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'kept', how: 'kept\n\ntyped at once', image: null });
  });

  it('says "kept" only after a write succeeded, and not-kept with journalError when it failed', async () => {
    const flaky = controllable(journal);
    const controller = await started({ journal: flaky.store, retryBaseMs: 60_000 });
    server.fail('POST', { kind: 'network' }, 100);
    const writing = held();
    flaky.control.holdSets = writing.promise;
    controller.updateData({ why: 'first' });
    await advance(1000); // the save failed: offline, but the journal write is still running
    expect(controller.getSnapshot()).toMatchObject({ status: 'dirty', journalError: null, hasPendingChanges: true });
    flaky.control.holdSets = null;
    writing.release();
    await settle();
    expect(controller.getSnapshot()).toMatchObject({ status: 'offline', journalError: null });

    flaky.control.failWrites = true; // the device is full
    controller.updateData({ why: 'second' });
    await settle();
    const state = controller.getSnapshot();
    expect(state.status).toBe('not-kept');
    expect(state.journalError).toMatch(/out of storage space/);
    // The older entry would replay 'first' over newer work: it is gone.
    expect(await journal.get(JOURNAL)).toBeNull();

    flaky.control.failWrites = false; // space again
    controller.updateData({ why: 'third' });
    await settle();
    expect(controller.getSnapshot()).toMatchObject({ status: 'offline', journalError: null });
    expect((await journal.get<Doc>(JOURNAL))?.data.why).toBe('third');
  });

  it('a failed write while online is not-kept until the server has the change', async () => {
    const flaky = controllable(journal);
    const controller = await started({ journal: flaky.store });
    flaky.control.failWrites = new Error('disabled');
    controller.updateData({ why: 'typed' });
    await settle();
    expect(controller.getSnapshot()).toMatchObject({ status: 'not-kept', journalError: 'This device could not keep a copy of your changes.' });
    await advance(1000);
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', hasPendingChanges: false });
  });

  it('without any storage every pending change is not-kept', async () => {
    const controller = await started({ journal: null });
    controller.updateData({ why: 'typed' });
    await settle();
    expect(controller.getSnapshot().status).toBe('not-kept');
    await advance(1000);
    expect(controller.getSnapshot().status).toBe('saved');
  });

  it('coalesces writes while typing fast: never overlapping, the last one wins', async () => {
    const counted = controllable(journal);
    const writing = held();
    counted.control.holdSets = writing.promise;
    const controller = await started({ journal: counted.store });
    controller.updateData({ why: 'v0' });
    await settle(); // the first write is running (held)
    for (let i = 1; i < 20; i += 1) controller.updateData({ why: `v${i}` });
    await settle();
    expect(counted.control.sets).toBe(1);
    counted.control.holdSets = null;
    writing.release();
    await settle();
    expect(counted.control.sets).toBe(2); // not 20: the newest state, once
    expect((await journal.get<Doc>(JOURNAL))?.data.why).toBe('v19');
  });

  it('clearJournal (async) removes the user\'s entries and stops mounted steps writing them back', async () => {
    await journal.set(journalKey(8, 'ia', 'ia-3-3'), { data: { why: 'user 8' }, base: null, baseVersion: 0, changedAt: 0 } as JournalEntry<object>);
    const controller = await started();
    server.fail('POST', { kind: 'network' }, 10);
    controller.updateData({ why: 'unsaved at sign-out' });
    await clearJournal(7, journal);
    controller.updateData({ why: 'after' });
    await advance(5000);
    expect(await journal.keys(journalKey(7, '', '').slice(0, -2))).toEqual([]);
    expect(await journal.get(journalKey(8, 'ia', 'ia-3-3'))).not.toBeNull();
  });
});

describe('where IndexedDB is unavailable', () => {
  const original = globalThis.indexedDB;
  afterEach(() => {
    globalThis.indexedDB = original;
  });

  it('falls back to localStorage', async () => {
    // @ts-expect-error: a browser without IndexedDB
    delete globalThis.indexedDB;
    localStorage.clear();
    const fallback = createDefaultJournal();
    expect(fallback?.kind).toBe('localstorage');
    await fallback!.set(JOURNAL, { data: { why: 'x' }, base: null, baseVersion: 0, changedAt: 0 });
    expect(JSON.parse(localStorage.getItem(JOURNAL)!).data).toEqual({ why: 'x' });
  });

  it('falls back to localStorage when IndexedDB cannot be opened', async () => {
    const broken = new IDBFactory();
    broken.open = () => {
      throw new DOMException('A mutation operation was attempted on a database that did not allow mutations.', 'InvalidStateError');
    };
    globalThis.indexedDB = broken;
    localStorage.clear();
    const fallback = createDefaultJournal()!;
    await fallback.set(JOURNAL, { data: { why: 'y' }, base: null, baseVersion: 0, changedAt: 0 });
    expect(JSON.parse(localStorage.getItem(JOURNAL)!).data).toEqual({ why: 'y' });
    expect((await fallback.get<{ why: string }>(JOURNAL))?.data.why).toBe('y');
  });

  it('reads entries an earlier version left in localStorage', async () => {
    const legacy = new MemoryStorage();
    legacy.setItem(JOURNAL, JSON.stringify({ data: { why: 'from localStorage' }, base: null, baseVersion: 0, changedAt: 0 }));
    journal = indexedDbJournal(`journal-legacy-${dbCount}`, legacy);
    await started();
    expect(server.docs.get(KEY)?.data).toMatchObject({ why: 'from localStorage' });
    expect(legacy.getItem(JOURNAL)).toBeNull();
  });
});

describe('partial saves', () => {
  it('createMergePatch: only what changed; null where a key went; none when a value becomes null', () => {
    expect(createMergePatch({ a: 1, b: 'x' }, { a: 1, b: 'y' })).toEqual({ b: 'y' });
    expect(createMergePatch({ a: 1, b: 2 }, { a: 1 })).toEqual({ b: null });
    expect(createMergePatch({ o: { x: 1, y: 2 } }, { o: { x: 1, y: 3, z: [null] } })).toEqual({ o: { y: 3, z: [null] } });
    expect(createMergePatch({ list: [1, 2, 3] }, { list: [1, 2] })).toEqual({ list: [1, 2] });
    expect(createMergePatch({ img: 'data:…' }, { img: null })).toBeNull();
    expect(createMergePatch({ o: { x: 1 } }, { o: { x: null } })).toBeNull();
    expect(createMergePatch({}, { o: { x: null } })).toBeNull();
    expect(createMergePatch({ o: 'text' }, { o: {} })).toEqual({ o: {} });
    for (const [base, target] of [
      [{ a: 1, o: { x: 1, y: { z: 1 } } }, { a: 2, o: { y: { w: 2 } }, n: { m: [1, { k: 2 }] } }],
      [{ keep: 'same', gone: 'x' }, { keep: 'same' }],
    ] as const) {
      expect(applyMergePatch(base, createMergePatch(base, target))).toEqual(target);
    }
  });

  it('a full save without an acknowledged base, then patches of only what changed', async () => {
    const controller = await started();
    controller.updateData({ why: 'first' });
    await advance(1000);
    controller.updateData({ how: 'second' });
    await advance(1000);
    expect(server.saves().map((s) => s.method)).toEqual(['POST', 'PATCH']);
    expect(server.saves()[1]?.body).toEqual({ how: 'second' });
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'first', how: 'second', image: null }, version: 2 });
  });

  it('partialSaves: false always sends the whole document', async () => {
    server.put(KEY, { why: 'w', how: '' }, 2);
    const controller = await started({ partialSaves: false });
    controller.updateData({ how: 'x' });
    await advance(1000);
    expect(server.saves()[0]).toMatchObject({ method: 'POST', baseVersion: 2, body: { data: { why: 'w', how: 'x', image: null } } });
  });

  it('a change that sets a value to null is a full save (merge patch would delete the key)', async () => {
    server.put(KEY, { why: 'w', how: '', image: '/api/uploads/abc' }, 4);
    const controller = await started();
    controller.updateData({ image: null });
    await advance(1000);
    expect(server.saves()).toHaveLength(1);
    expect(server.saves()[0]).toMatchObject({ method: 'POST', baseVersion: 4 });
    expect(server.saves()[0]?.body?.data).toEqual({ why: 'w', how: '', image: null });
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'w', how: '', image: null });
  });

  it('a keystroke save does not depend on the document size', async () => {
    const big = 'r'.repeat(200 * 1024);
    server.put(KEY, { why: big, how: '' }, 1);
    const controller = await started();
    controller.updateData({ how: 'a' });
    await advance(1000);
    controller.updateData({ how: 'ab' });
    await advance(1000);
    expect(server.saves().map((s) => s.bytes)).toEqual([11, 12]); // {"how":"a"}, {"how":"ab"}
    expect(server.docs.get(KEY)?.data).toEqual({ why: big, how: 'ab' });
  });

  it('after a 409 the merge is sent as a patch on the new base', async () => {
    server.put(KEY, { why: 'base', how: 'base' }, 1);
    const controller = await started();
    server.put(KEY, { why: 'base', how: 'theirs' }, 2);
    controller.updateData({ why: 'mine' });
    await advance(1000);
    const saves = server.saves();
    expect(saves.map((s) => [s.method, s.baseVersion, s.status])).toEqual([
      ['PATCH', 1, 409],
      ['PATCH', 2, 200],
    ]);
    expect(saves[1]?.body).toEqual({ why: 'mine' });
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'mine', how: 'theirs' }, version: 3 });
  });
});

describe('the keepalive budget', () => {
  it('a page-hide flush of a 200 KB document is a small patch that fits 64 KiB', async () => {
    server.put(KEY, { why: 'r'.repeat(200 * 1024), how: '' }, 1);
    const controller = await started();
    controller.updateData({ how: 'last words' });
    events.fire('pagehide');
    const [flush] = server.saves();
    expect(flush).toMatchObject({ keepalive: true, method: 'PATCH', body: { how: 'last words' } });
    expect(flush!.bytes).toBeLessThan(100);
  });

  it('counts bytes, not UTF-16 units: a change over the limit is not sent with keepalive; the journal keeps it for the next visit', async () => {
    server.put(KEY, { why: 'short', how: '' }, 1);
    const controller = await started();
    const euros = '€'.repeat(25 * 1024); // 25 K UTF-16 units, 75 KiB of UTF-8
    expect(euros.length).toBeLessThan(KEEPALIVE_LIMIT_BYTES);
    expect(byteLength(JSON.stringify({ how: euros }))).toBeGreaterThan(KEEPALIVE_LIMIT_BYTES);
    controller.updateData({ how: euros });
    events.fire('pagehide');
    controller.dispose();
    await settle();
    expect(server.saves()).toHaveLength(0);
    expect((await journal.get<Doc>(JOURNAL))?.data.how).toBe(euros);
    // The next visit sends it (a patch on the base the journal kept).
    await started();
    expect(server.saves()).toHaveLength(1);
    expect(server.saves()[0]).toMatchObject({ keepalive: false, method: 'PATCH', baseVersion: 1 });
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'short', how: euros });
  });

  it('a journal in localStorage keeps working through the same interface', async () => {
    const storage = new MemoryStorage();
    journal = storageJournal(storage);
    const controller = await started();
    server.fail('POST', { kind: 'network' }, 10);
    controller.updateData({ why: 'in localStorage' });
    await settle();
    expect(JSON.parse(storage.getItem(JOURNAL)!).data.why).toBe('in localStorage');
    expect(controller.getSnapshot().status).toBe('dirty');
    await advance(1000);
    expect(controller.getSnapshot().status).toBe('offline');
  });
});
