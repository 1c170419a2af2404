/** The page's core: pending work in IndexedDB, the browser's fetch, `online`/`offline` of window. */
import { httpPerformers } from './http.js';
import { SyncLoop } from './loop.js';
import { indexedDbWorkStore, userPrefixes } from './store.js';

let shared: SyncLoop | null = null;

function indexedDbAvailable(): boolean {
  try {
    return typeof indexedDB !== 'undefined' && indexedDB !== null;
  } catch {
    return false;
  }
}

export function defaultSyncCore(): SyncLoop {
  shared ??= new SyncLoop({
    store: indexedDbAvailable() ? indexedDbWorkStore() : null,
    performers: httpPerformers(),
    events: typeof window === 'undefined' ? null : window,
    online: typeof navigator === 'undefined' || navigator.onLine !== false,
  });
  return shared;
}

/** Forget a user's pending work on this device (sign-out); without a user, everyone's. Clears
 * the device even where this page never started the core. */
export async function clearWork(userId?: string | number | null): Promise<void> {
  if (shared) await shared.clear(userId);
  else if (indexedDbAvailable()) {
    const store = indexedDbWorkStore();
    const keys = (await Promise.all(userPrefixes(userId).map((p) => store.keys(p)))).flat();
    await store.deleteMany(keys);
  }
}

/** The same user signed in again after a 401. */
export function resumeWork(): void {
  shared?.signedIn();
}
