/**
 * The controller tests' common ground: a reflection step of user 7 on a fake server, with fake
 * timers, an in-memory journal and fake page events. Each test file calls
 * `useControllerHarness()` once; `server`, `storage` and `events` are fresh for every test.
 */
import { afterEach, beforeEach, vi } from 'vitest';

import { journalKey } from '../journal.js';
import { StepDataController } from '../stepDataController.js';
import type { StepDataOptions } from '../types.js';
import { FakeEvents, FakeServer, MemoryStorage } from './fakeServer.js';

export interface Reflection {
  why: string;
  how: string;
  next: string;
}

export const INITIAL: Reflection = { why: '', how: '', next: '' };
export const KEY = 'ia:ia-3-4';
export const JOURNAL = journalKey(7, 'ia', 'ia-3-4');

export let server: FakeServer;
export let storage: MemoryStorage;
export let events: FakeEvents;
let controllers: StepDataController<Reflection>[] = [];

export function useControllerHarness(): void {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    server = new FakeServer();
    storage = new MemoryStorage();
    events = new FakeEvents();
    controllers = [];
  });

  afterEach(() => {
    controllers.forEach((c) => c.dispose());
    vi.useRealTimers();
  });
}

export function make(options: Partial<StepDataOptions<Reflection>> = {}, stepId = 'ia-3-4'): StepDataController<Reflection> {
  const opts: StepDataOptions<Reflection> = {
    fetch: server.fetch,
    storage,
    events,
    document: { visibilityState: 'visible' },
    createChannel: null,
    random: () => 0.5,
    userId: 7,
    ...options,
  };
  const controller = new StepDataController<Reflection>('ia', stepId, INITIAL, () => opts);
  controllers.push(controller);
  return controller;
}

/** Let pending promises (fetches, their JSON) resolve without moving the clock. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 8; i += 1) await vi.advanceTimersByTimeAsync(0);
}

/** Move the clock, letting answers arrive on the way. */
export async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await settle();
}

export async function started(options: Partial<StepDataOptions<Reflection>> = {}, stepId = 'ia-3-4'): Promise<StepDataController<Reflection>> {
  const controller = make(options, stepId);
  controller.start();
  await settle();
  return controller;
}

export function held(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

/** A new fake server for the controllers made from now on (a test that runs several rounds). */
export function freshServer(): FakeServer {
  server = new FakeServer();
  return server;
}
