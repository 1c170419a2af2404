// The pending work's IndexedDB store (fake-indexeddb: the real IndexedDB API in memory).
import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';

import { indexedDbWorkStore } from './store.js';

describe('the IndexedDB work store', () => {
  it('commits every transaction it opens at once (reads too): work queued just before the page is left waits for no read that needs the page', async () => {
    const store = indexedDbWorkStore('workshop-data-uploads-commit');
    expect(await store.keys('')).toEqual([]); // the database is created
    const opened = vi.spyOn(IDBDatabase.prototype, 'transaction');
    const commit = vi.spyOn(IDBTransaction.prototype, 'commit');
    await store.setMany([
      ['workshop-data:work:7:progress:ia', { id: 'workshop-data:work:7:progress:ia' }],
      ['workshop-data:work:8:progress:ia', { id: 'workshop-data:work:8:progress:ia' }],
    ]);
    expect(await store.get('workshop-data:work:7:progress:ia')).toEqual({ id: 'workshop-data:work:7:progress:ia' });
    expect(await store.keys('workshop-data:work:7:')).toEqual(['workshop-data:work:7:progress:ia']);
    expect(await store.entries('workshop-data:work:8:')).toEqual([
      ['workshop-data:work:8:progress:ia', { id: 'workshop-data:work:8:progress:ia' }],
    ]);
    await store.deleteMany(['workshop-data:work:7:progress:ia']);
    expect(await store.get('workshop-data:work:7:progress:ia')).toBeNull();
    expect(opened).toHaveBeenCalledTimes(6);
    expect(commit).toHaveBeenCalledTimes(6);
    opened.mockRestore();
    commit.mockRestore();
  });
});
