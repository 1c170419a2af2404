// The app calls the server through the hook package's client: its failures are the package's
// HttpError, the type App, Shell and the pages test for.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HttpError } from 'workshop-data-react';

import { api, endSessionOnThisDevice } from './api';

afterEach(() => {
  vi.unstubAllGlobals();
});

function serve(status: number, body: unknown): RequestInit[] {
  const sent: RequestInit[] = [];
  vi.stubGlobal('fetch', async (_input: RequestInfo | URL, init: RequestInit = {}) => {
    sent.push(init);
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  });
  return sent;
}

describe('the app’s api', () => {
  it('sends JSON with the session cookie and reads the answer', async () => {
    const sent = serve(200, { success: true, user: { id: 7, username: 'ada' } });
    await expect(api.login('ada', 'secret')).resolves.toEqual({ id: 7, username: 'ada' });
    expect(sent[0]).toMatchObject({
      method: 'POST',
      credentials: 'same-origin',
      body: JSON.stringify({ username: 'ada', password: 'secret' }),
      headers: { 'Content-Type': 'application/json' },
    });
  });

  it("rejects a refused call with the hook package's HttpError", async () => {
    serve(409, { success: false, error: 'Complete the required steps first.', missingSteps: ['ia-1-1'] });
    const failure = await api.complete('ia').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HttpError);
    expect(failure).toMatchObject({
      status: 409,
      message: 'Complete the required steps first.',
      body: { missingSteps: ['ia-1-1'] },
    });
  });
});

describe('ending the session on this device', () => {
  afterEach(() => {
    for (const name of ['wd_session_device', 'other', 'wd_other_device']) {
      document.cookie = `${name}=; Max-Age=0; Path=/`;
    }
  });

  it('deletes the device cookie before it asks the server, and signs out offline too', async () => {
    document.cookie = 'wd_session_device=secret; Path=/; SameSite=Lax';
    document.cookie = 'other=kept; Path=/';
    const seen: string[] = [];
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init: RequestInit = {}) => {
      seen.push(`${init.method} ${String(input)} with cookies "${document.cookie}"`);
      throw new TypeError('Failed to fetch'); // offline
    });
    await expect(endSessionOnThisDevice()).resolves.toBeUndefined();
    expect(seen).toEqual(['POST /api/auth/logout with cookies "other=kept"']);
    expect(document.cookie).toBe('other=kept');
  });

  it('deletes the device cookie of a renamed session cookie too', async () => {
    document.cookie = 'wd_other_device=secret; Path=/';
    serve(200, { success: true });
    await endSessionOnThisDevice();
    expect(document.cookie).not.toContain('wd_other_device');
  });
});
