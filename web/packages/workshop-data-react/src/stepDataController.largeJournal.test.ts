/** The journal of a step holding megabytes of text: not copied into storage on every
 * keystroke, yet holding the newest text after a short while and before the page can be lost. */
import { describe, expect, it } from 'vitest';

import { readJournal, storageJournal, type JournalEntry, type JournalStore } from './journal.js';
import { LARGE_ENTRY_CHARS, LARGE_ENTRY_INTERVAL_MS } from './stepJournal.js';
import { JOURNAL, KEY, advance, events, make, server, settle, started, storage, useControllerHarness } from './testing/controllerHarness.js';
import type { Reflection } from './testing/controllerHarness.js';

useControllerHarness();

const BIG = 'x'.repeat(LARGE_ENTRY_CHARS);

/** The harness's storage journal, counting the writes. A write is applied when it starts (as
 * IndexedDB applies writes in the order they began); while `hold` is set, its answer waits. */
function countingJournal(): { journal: JournalStore; writes: () => number; hold: (gate: Promise<void> | null) => void } {
  const inner = storageJournal(storage);
  let writes = 0;
  let held: Promise<void> | null = null;
  const journal: JournalStore = {
    ...inner,
    set: async <T>(key: string, entry: JournalEntry<T>) => {
      writes += 1;
      await inner.set(key, entry);
      if (held) await held;
    },
  };
  return { journal, writes: () => writes, hold: (gate) => (held = gate) };
}

/** Open the step on a server copy holding BIG, offline (saves fail), and type into it once so
 * that the journal has written one large entry. */
async function bigStepOffline(journal: JournalStore) {
  server.put(KEY, { why: BIG }, 1);
  const controller = await started({ journal, retryBaseMs: 60_000, partialSaves: false });
  server.fail('POST', { kind: 'network' }, 1000);
  controller.updateData({ why: `${BIG}a` });
  await advance(LARGE_ENTRY_INTERVAL_MS);
  expect(readJournal<Reflection>(storage, JOURNAL)?.data.why).toBe(`${BIG}a`);
  return controller;
}

describe('the journal of a large document', () => {
  it('is written at most once per interval while typing, and then holds the newest text', async () => {
    const { journal, writes } = countingJournal();
    const controller = await bigStepOffline(journal);
    const before = writes();
    let typed = `${BIG}a`;
    for (const key of 'bcdefghij') {
      typed += key;
      controller.updateData({ why: typed });
      await advance(50); // ten keys a second
    }
    // 450 ms of typing: the write after the first one waits for the interval.
    expect(writes() - before).toBeLessThanOrEqual(1);
    await advance(LARGE_ENTRY_INTERVAL_MS);
    expect(readJournal<Reflection>(storage, JOURNAL)?.data.why).toBe(typed);
    await advance(1000); // the save fails: kept on this device
    expect(controller.getSnapshot().status).toBe('offline');
  });

  it('a keystroke does not write in its own task: the write comes in a task of its own', async () => {
    const { journal, writes } = countingJournal();
    const controller = await bigStepOffline(journal);
    await advance(LARGE_ENTRY_INTERVAL_MS);
    const before = writes();
    controller.updateData({ why: `${BIG}ab` });
    await Promise.resolve();
    await Promise.resolve();
    expect(writes()).toBe(before);
    expect(controller.getSnapshot().status).toBe('dirty'); // not "kept" before the write
    await advance(LARGE_ENTRY_INTERVAL_MS);
    expect(writes()).toBe(before + 1);
    expect(readJournal<Reflection>(storage, JOURNAL)?.data.why).toBe(`${BIG}ab`);
  });

  it.each(['pagehide', 'visibilitychange'])('is written at once on %s, without waiting for its turn', async (event) => {
    const { journal } = countingJournal();
    const page = { visibilityState: 'visible' };
    server.put(KEY, { why: BIG }, 1);
    const controller = await started({ journal, document: page, retryBaseMs: 60_000, partialSaves: false });
    server.fail('POST', { kind: 'network' }, 1000);
    controller.updateData({ why: `${BIG}a` });
    await settle(); // written at once: the journal did not know it was large
    controller.updateData({ why: `${BIG}ab` });
    await advance(1); // this write waits for its turn (a timer that may never run again)
    expect(readJournal<Reflection>(storage, JOURNAL)?.data.why).toBe(`${BIG}a`);
    page.visibilityState = 'hidden';
    events.fire(event);
    await Promise.resolve(); // microtasks of the same task only: no timer runs
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(readJournal<Reflection>(storage, JOURNAL)?.data.why).toBe(`${BIG}ab`);
  });

  it('a write still running when the page is hidden: the newest text is written beside it at once', async () => {
    const { journal, hold } = countingJournal();
    server.put(KEY, { why: BIG }, 1);
    const controller = await started({ journal, retryBaseMs: 60_000, partialSaves: false });
    let release!: () => void;
    hold(new Promise<void>((resolve) => (release = resolve)));
    controller.updateData({ why: `${BIG}a` });
    await settle(); // this write's answer is held: it is still running
    controller.updateData({ why: `${BIG}ab` });
    await advance(1);
    expect(readJournal<Reflection>(storage, JOURNAL)?.data.why).toBe(`${BIG}a`);
    events.fire('pagehide');
    for (let i = 0; i < 6; i += 1) await Promise.resolve();
    expect(readJournal<Reflection>(storage, JOURNAL)?.data.why).toBe(`${BIG}ab`);
    hold(null);
    release();
    await advance(LARGE_ENTRY_INTERVAL_MS);
    expect(readJournal<Reflection>(storage, JOURNAL)?.data.why).toBe(`${BIG}ab`);
  });

  it('is written at once when the step is closed (unmount, step change)', async () => {
    const { journal } = countingJournal();
    server.put(KEY, { why: BIG }, 1);
    const controller = await started({ journal, retryBaseMs: 60_000, partialSaves: false });
    controller.updateData({ why: `${BIG}a` });
    await settle();
    controller.updateData({ why: `${BIG}ab` });
    await advance(1); // this write waits for its turn
    expect(readJournal<Reflection>(storage, JOURNAL)?.data.why).toBe(`${BIG}a`);
    server.fail('POST', { kind: 'network' }, 1000);
    controller.dispose();
    for (let i = 0; i < 6; i += 1) await Promise.resolve();
    expect(readJournal<Reflection>(storage, JOURNAL)?.data.why).toBe(`${BIG}ab`);
    // The next visit finds it.
    const next = make({ journal });
    next.start();
    await settle();
    expect(next.getSnapshot().data.why).toBe(`${BIG}ab`);
  });

  it('a small document is still written after every change, in the change\'s own task', async () => {
    const { journal, writes } = countingJournal();
    const controller = await started({ journal });
    server.fail('POST', { kind: 'network' }, 1000);
    controller.updateData({ why: 'a' });
    for (let i = 0; i < 6; i += 1) await Promise.resolve();
    expect(writes()).toBe(1);
    expect(readJournal<Reflection>(storage, JOURNAL)?.data.why).toBe('a');
  });
});
