/**
 * HTTP and the retry policy: the one request function behind every call to the server (a
 * step's load, its saves and its exit send, and the app's own calls), the error it raises for
 * an answer that is not a success, and when a failed call is tried again.
 */

/** A Retry-After beyond this is taken as this. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/** An answer from the server that was not a success. */
export class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: Record<string, unknown> | null,
    /** The answer's Retry-After, in ms, when it had one. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Network errors, 5xx, 408 and 429 are worth retrying; other answers are final. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof HttpError)) return true;
  return error.status >= 500 || error.status === 408 || error.status === 429;
}

/** Retry-After as delta-seconds or an HTTP date, in ms from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  if (!value) return null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(MAX_RETRY_AFTER_MS, Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}

/** What a failed call tells the participant. */
export function describeFailure(error: unknown): string {
  if (error instanceof HttpError) return error.message;
  return 'the network is unavailable';
}

export interface JsonRequest {
  method: string;
  /** The body, already serialised. */
  body?: string;
  headers?: Record<string, string>;
  /** Let the request outlive the page (the send when the page is left). */
  keepalive?: boolean;
}

/**
 * Send one request (with the page's cookies) and read its JSON answer. Resolves with the body
 * of a success; rejects with an HttpError for any other answer (the server's `error` text and
 * Retry-After) or a success that is not a JSON object, and as fetch does when the network fails.
 */
export async function requestJson(
  fetchFn: typeof fetch,
  url: string,
  request: JsonRequest,
  now: () => number = Date.now,
): Promise<Record<string, unknown>> {
  const response = await fetchFn(url, {
    method: request.method,
    ...(request.keepalive ? { keepalive: true } : {}),
    credentials: 'same-origin',
    headers: { Accept: 'application/json', ...request.headers },
    body: request.body,
  });
  let body: Record<string, unknown> | null = null;
  try {
    body = (await response.json()) as Record<string, unknown>;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = typeof body?.error === 'string' ? body.error : `The server answered ${response.status}.`;
    const retryAfter = parseRetryAfter(response.headers?.get?.('Retry-After'), now());
    throw new HttpError(message, response.status, body, retryAfter);
  }
  if (body === null || typeof body !== 'object') {
    throw new HttpError('The server sent an unexpected answer.', response.status, null);
  }
  return body;
}

export interface RetryOptions {
  retryBaseMs?: number | undefined;
  retryMaxMs?: number | undefined;
}

/** Exponential backoff with jitter: between half and all of base·2^attempt (at most
 * retryMaxMs), or the server's Retry-After if that is longer. */
export function retryDelayMs(attempt: number, error: unknown, options: RetryOptions, random: () => number): number {
  const base = options.retryBaseMs ?? 1000;
  const max = options.retryMaxMs ?? 30000;
  const exponential = Math.min(max, base * 2 ** attempt);
  const delay = exponential / 2 + (random() * exponential) / 2;
  const retryAfter = error instanceof HttpError ? error.retryAfterMs : null;
  return retryAfter === null ? delay : Math.max(delay, retryAfter);
}

export type RetryKind = 'load' | 'save';

/** The one pending retry of a step (of its load or of its save), and how many came in a row
 * since the last success (the exponent of the next delay). */
export class RetryTimer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pendingKind: RetryKind | null = null;
  /** Retries scheduled in a row since the last success. */
  attempt = 0;

  get pending(): boolean {
    return this.timer !== null;
  }

  /** What the pending retry will do, if one is pending. */
  get kind(): RetryKind | null {
    return this.pendingKind;
  }

  /** Run `retry` after `delay` ms, counting one more attempt. */
  start(kind: RetryKind, delay: number, retry: () => void): void {
    this.attempt += 1;
    this.pendingKind = kind;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pendingKind = null;
      retry();
    }, delay);
  }

  /** Drop the pending retry (the count stays). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pendingKind = null;
  }
}
