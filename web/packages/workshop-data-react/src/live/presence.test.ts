import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { PresenceReporter } from './presence';

let sent: number[];
let answer: { ok: boolean; status: number };
let online: boolean;

function reporter() {
  return new PresenceReporter({
    fetch: (_url, init) => {
      sent.push((JSON.parse(init.body as string) as { pending: number }).pending);
      return Promise.resolve(answer);
    },
    minIntervalMs: 5000,
    refreshMs: 60_000,
    isOnline: () => online,
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  sent = [];
  answer = { ok: true, status: 204 };
  online = true;
});
afterEach(() => vi.useRealTimers());

describe('presence reports', () => {
  it('sends a change at once, then at most every 5 s, the latest count', async () => {
    const r = reporter();
    r.report(1);
    await vi.advanceTimersByTimeAsync(0);
    r.report(2);
    r.report(3);
    await vi.advanceTimersByTimeAsync(4000);
    expect(sent).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toEqual([1, 3]);
    r.report(3);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sent).toEqual([1, 3]);
  });

  it('repeats a pending count now and then, so "last seen" stays true; stops at 0', async () => {
    const r = reporter();
    r.report(2);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent).toEqual([2, 2]);
    r.report(0);
    await vi.advanceTimersByTimeAsync(5000);
    await vi.advanceTimersByTimeAsync(300_000);
    expect(sent).toEqual([2, 2, 0]);
  });

  it('sends nothing offline, and what is due once back', async () => {
    online = false;
    const r = reporter();
    r.report(4);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(sent).toEqual([]);
    online = true;
    r.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([4]);
  });

  it('stops asking a server without the endpoint', async () => {
    answer = { ok: false, status: 404 };
    const r = reporter();
    r.report(1);
    await vi.advanceTimersByTimeAsync(0);
    r.report(2);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent).toEqual([1]);
  });
});
