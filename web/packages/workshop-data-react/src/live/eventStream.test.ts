import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { backoffDelay, EventStream, parseLiveEvent, type BroadcastChannelLike, type LiveEvent, type LocksLike, type StreamState } from './eventStream';

class FakeEventSource {
  static made: FakeEventSource[] = [];
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closed = false;
  private readonly handlers = new Map<string, ((ev: { data: string }) => void)[]>();
  constructor(readonly url: string) {
    FakeEventSource.made.push(this);
  }
  addEventListener(type: string, listener: (ev: { data: string }) => void) {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  send(kind: string, data: unknown) {
    for (const h of this.handlers.get(kind) ?? []) h({ data: JSON.stringify(data) });
  }
  /** A refusal (401, 404, 503): the browser closes it and will not retry by itself. */
  refuse() {
    this.readyState = 2;
    this.onerror?.({});
  }
  /** A dropped connection: the browser reconnects by itself. */
  drop() {
    this.readyState = 0;
    this.onerror?.({});
  }
}

/** The tabs of one origin: a BroadcastChannel bus and one Web Lock, both in memory. */
function origin() {
  const channels = new Set<BroadcastChannelLike & { name: string }>();
  const createChannel = (name: string) => {
    const channel: BroadcastChannelLike & { name: string } = {
      name,
      onmessage: null,
      postMessage(message: unknown) {
        for (const other of channels) {
          if (other !== channel && other.name === name) queueMicrotask(() => other.onmessage?.({ data: structuredClone(message) }));
        }
      },
      close() {
        channels.delete(channel);
      },
    };
    channels.add(channel);
    return channel;
  };
  const queue: (() => void)[] = [];
  let held = false;
  const locks: LocksLike = {
    request(_name, callback) {
      return new Promise((resolve) => {
        const run = () => {
          held = true;
          void callback().then(() => {
            held = false;
            resolve(undefined);
            queue.shift()?.();
          });
        };
        if (held) queue.push(run);
        else run();
      });
    },
  };
  return { createChannel, locks };
}

const STEP = { userId: 7, workshopType: 'ia', stepId: 'ia-3-4', version: 4, savedAt: '2026-12-08T01:00:00Z', deviceId: 'tab-1' };

function tab(shared: ReturnType<typeof origin>, online = () => true) {
  const stream = new EventStream({
    createEventSource: (url) => new FakeEventSource(url),
    createChannel: shared.createChannel,
    locks: shared.locks,
    isOnline: online,
    window: null,
    random: () => 1,
  });
  const events: LiveEvent[] = [];
  const states: StreamState[] = [];
  stream.subscribe((e) => events.push(e));
  stream.onStateChange((s) => states.push(s));
  return { stream: stream.start(), events, states };
}

beforeEach(() => {
  FakeEventSource.made = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the event stream', () => {
  it('opens one stream per browser: the leader tab listens and passes events to the others', async () => {
    const shared = origin();
    const first = tab(shared);
    const second = tab(shared);
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.made).toHaveLength(1);
    expect([first.stream.isLeader, second.stream.isLeader]).toEqual([true, false]);
    FakeEventSource.made[0]!.open();
    FakeEventSource.made[0]!.send('step', STEP);
    await vi.advanceTimersByTimeAsync(0);
    expect(first.events).toEqual([{ kind: 'step', ...STEP }]);
    expect(second.events).toEqual([{ kind: 'step', ...STEP }]);
    expect(second.stream.state).toBe('open');
  });

  it('hands the stream to another tab when the leader closes, which asks for a resync', async () => {
    const shared = origin();
    const first = tab(shared);
    const second = tab(shared);
    await vi.advanceTimersByTimeAsync(0);
    FakeEventSource.made[0]!.open();
    first.stream.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.made[0]!.closed).toBe(true);
    expect(second.stream.isLeader).toBe(true);
    expect(FakeEventSource.made).toHaveLength(2);
    expect(second.events).toContainEqual({ kind: 'resync', reason: 'new_leader' });
  });

  it('reconnects after a refusal with a growing delay, and says "unavailable" meanwhile', async () => {
    const one = tab(origin());
    await vi.advanceTimersByTimeAsync(0);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      const before = FakeEventSource.made.length;
      FakeEventSource.made.at(-1)!.refuse();
      expect(one.stream.state).toBe('unavailable');
      let waited = 0;
      while (FakeEventSource.made.length === before) {
        await vi.advanceTimersByTimeAsync(100);
        waited += 100;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000]);
    FakeEventSource.made.at(-1)!.open();
    expect(one.stream.state).toBe('open');
  });

  it('lets the browser reconnect a dropped stream by itself, without an error', async () => {
    const one = tab(origin());
    await vi.advanceTimersByTimeAsync(0);
    FakeEventSource.made[0]!.open();
    FakeEventSource.made[0]!.drop();
    expect(one.stream.state).toBe('connecting');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeEventSource.made).toHaveLength(1);
  });

  it('opens no stream while offline', async () => {
    let online = false;
    const one = tab(origin(), () => online);
    await vi.advanceTimersByTimeAsync(5000);
    expect(FakeEventSource.made).toHaveLength(0);
    expect(one.stream.state).toBe('offline');
    online = true;
    (one.stream as unknown as { onOnline: () => void }).onOnline();
    expect(FakeEventSource.made).toHaveLength(1);
  });

  it('works alone without Web Locks or BroadcastChannel', async () => {
    const alone = new EventStream({ createEventSource: (url) => new FakeEventSource(url), createChannel: null, locks: null, window: null, isOnline: () => true });
    const events: LiveEvent[] = [];
    alone.subscribe((e) => events.push(e));
    alone.start();
    expect(alone.isLeader).toBe(true);
    FakeEventSource.made[0]!.send('resync', { reason: 'beyond_retention' });
    expect(events).toEqual([{ kind: 'resync', reason: 'beyond_retention' }]);
  });

  it('reads only well-formed events', () => {
    expect(parseLiveEvent('step', JSON.stringify(STEP))).toEqual({ kind: 'step', ...STEP });
    expect(parseLiveEvent('step', 'not json')).toBeNull();
    expect(parseLiveEvent('step', '{"version":1}')).toBeNull();
    expect(parseLiveEvent('other', JSON.stringify(STEP))).toBeNull();
  });

  it('spreads reconnections out (jitter) within a ceiling', () => {
    expect(backoffDelay(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffDelay(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(backoffDelay(30, 1000, 60_000, () => 1)).toBe(60_000);
  });
});
