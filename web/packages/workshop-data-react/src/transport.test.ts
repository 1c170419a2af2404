// The one request function: what it sends, and how it reads every kind of answer.
import { describe, expect, it } from 'vitest';

import { HttpError, requestJson } from './transport.js';

interface Sent {
  url: string;
  init: RequestInit;
}

function answering(status: number, body: string, headers: Record<string, string> = {}): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetchFn = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    sent.push({ url: String(input), init });
    return new Response(status === 204 ? null : body, { status, headers });
  };
  return { fetch: fetchFn, sent };
}

describe('requestJson', () => {
  it("sends the page's cookies, asks for JSON and resolves with a success's body", async () => {
    const server = answering(200, '{"success":true,"user":{"id":7}}');
    const body = await requestJson(server.fetch, '/api/auth/login', {
      method: 'POST',
      body: '{"username":"ada"}',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(body).toEqual({ success: true, user: { id: 7 } });
    expect(server.sent).toHaveLength(1);
    expect(server.sent[0]!.url).toBe('/api/auth/login');
    expect(server.sent[0]!.init).toMatchObject({
      method: 'POST',
      credentials: 'same-origin',
      body: '{"username":"ada"}',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    });
    expect(server.sent[0]!.init.keepalive).toBeUndefined();
  });

  it('asks for keepalive only when told to', async () => {
    const server = answering(200, '{"success":true}');
    await requestJson(server.fetch, '/api/workshop-data/step', { method: 'POST', body: '{}', keepalive: true });
    expect(server.sent[0]!.init.keepalive).toBe(true);
  });

  it("rejects any other answer with an HttpError: status, the server's error text, body and Retry-After", async () => {
    const server = answering(429, '{"success":false,"error":"Too many requests."}', { 'Retry-After': '7' });
    const failure = await requestJson(server.fetch, '/api/catalog', { method: 'GET' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HttpError);
    expect(failure).toMatchObject({
      message: 'Too many requests.',
      status: 429,
      body: { success: false, error: 'Too many requests.' },
      retryAfterMs: 7000,
    });
  });

  it('names the status when a failed answer is not JSON', async () => {
    const server = answering(502, '<html>Bad gateway</html>');
    const failure = await requestJson(server.fetch, '/api/catalog', { method: 'GET' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HttpError);
    expect(failure).toMatchObject({ message: 'The server answered 502.', status: 502, body: null, retryAfterMs: null });
  });

  it('takes a success that is not a JSON object as an unexpected answer', async () => {
    for (const server of [answering(200, 'not json'), answering(204, '')]) {
      const failure = await requestJson(server.fetch, '/api/catalog', { method: 'GET' }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(HttpError);
      expect(failure).toMatchObject({ message: 'The server sent an unexpected answer.', body: null });
    }
  });

  it('rejects as fetch does when the network fails', async () => {
    const offline: typeof fetch = async () => {
      throw new TypeError('Failed to fetch');
    };
    const failure = await requestJson(offline, '/api/catalog', { method: 'GET' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TypeError);
    expect(failure).not.toBeInstanceOf(HttpError);
  });
});
