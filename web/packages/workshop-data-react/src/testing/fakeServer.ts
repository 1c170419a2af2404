import { applyMergePatch } from '../merge.js';

/**
 * A scripted stand-in for the step data API, for the controller's tests: it stores one
 * document per step, enforces baseVersion and recognises retried request ids like the real
 * server, records every request, can hold requests or answers, and can be told to fail.
 */
export interface RecordedRequest {
  method: string;
  url: string;
  body: Record<string, unknown> | null;
  headers: Record<string, string>;
  keepalive: boolean;
  credentials: RequestCredentials | undefined;
  /** Date.now() when the request was sent (fake timers move it). */
  at: number;
  /** The status the fake answered with (undefined: a network failure, or not answered yet). */
  status?: number;
  /** For saves: the whole document it asked for (a PATCH applied to the stored copy) and its
   * base version (the body's baseVersion, or If-Match / X-Base-Version). */
  document?: Record<string, unknown>;
  baseVersion?: number;
  /** The body's size in UTF-8 bytes. */
  bytes: number;
}

export type Failure =
  | { kind: 'status'; status: number; body?: Record<string, unknown>; headers?: Record<string, string> }
  | { kind: 'network' };

/** A device copy the fake kept (POST …/history). */
export interface KeptCopy {
  stepKey: string;
  data: Record<string, unknown>;
  schemaVersion: number | null;
}

const isCopyRequest = (r: { method: string; url: string }) => r.method === 'POST' && /\/history$/.test(r.url);

type Doc = { data: Record<string, unknown>; version: number; lastRequestId: string | null; schemaVersion?: number | null };

export class FakeServer {
  readonly requests: RecordedRequest[] = [];
  readonly docs = new Map<string, Doc>();
  /** Device copies kept, oldest first. */
  readonly deviceCopies: KeptCopy[] = [];
  /** Requests to keep a device copy wait for this before they are handled, when set. */
  holdCopies: Promise<void> | null = null;
  private failures: { match: (r: RecordedRequest) => boolean; failure: Failure }[] = [];
  /** Saves wait for this before the server handles them, when set. */
  gate: Promise<void> | null = null;
  /** Saves are handled at once but answered only when this resolves, when set. */
  holdAnswers: Promise<void> | null = null;
  /** Every save fails with this, when set (not used up). */
  alwaysFailSaves: Failure | null = null;
  /** The workshop was completed at this time, when set: loads say `locked`, saves get 423. */
  lockedSince: string | null = null;
  /** The session has ended, when set: every request gets 401. */
  signedOut = false;
  private inFlight = 0;
  maxConcurrentSaves = 0;

  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = String(input);
    const headers = (init.headers ?? {}) as Record<string, string>;
    const request: RecordedRequest = {
      method: init.method ?? 'GET',
      url,
      body: typeof init.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : null,
      headers,
      keepalive: Boolean(init.keepalive),
      credentials: init.credentials,
      at: Date.now(),
      bytes: typeof init.body === 'string' ? new TextEncoder().encode(init.body).length : 0,
    };
    this.requests.push(request);
    if (isCopyRequest(request)) return this.keepCopy(request);
    const isSave = request.method === 'POST' || request.method === 'PATCH';
    if (isSave) this.describeSave(request);
    if (isSave) {
      this.inFlight += 1;
      this.maxConcurrentSaves = Math.max(this.maxConcurrentSaves, this.inFlight);
    }
    try {
      if (this.signedOut) {
        request.status = 401;
        return json(401, { success: false, error: 'Sign in again.', code: 'not_authenticated' });
      }
      if (isSave && this.lockedSince) {
        request.status = 423;
        return json(423, {
          success: false,
          code: 'workshop_locked',
          error: 'The IA workshop was completed, so this step can no longer be changed.',
          lockedSince: this.lockedSince,
        });
      }
      const index = this.failures.findIndex((f) => f.match(request));
      const failure = index >= 0 ? this.failures.splice(index, 1)[0]!.failure : isSave ? this.alwaysFailSaves : null;
      if (failure) {
        if (failure.kind === 'network') throw new TypeError('Failed to fetch');
        request.status = failure.status;
        return json(failure.status, failure.body ?? { success: false, error: `Failure ${failure.status}`, code: 'x' }, failure.headers);
      }
      if (isSave && this.gate) await this.gate;
      const response = isSave ? this.save(request) : this.load(url);
      if (isSave && this.holdAnswers) await this.holdAnswers;
      request.status = response.status;
      return response;
    } finally {
      if (isSave) this.inFlight -= 1;
    }
  };

  /** The next `count` requests of `method` fail as given (device copies: `'copy'`). */
  fail(method: 'GET' | 'POST' | 'copy', failure: Failure, count = 1): void {
    const matches = (r: RecordedRequest) =>
      method === 'copy' ? isCopyRequest(r) : !isCopyRequest(r) && (method === 'POST' ? r.method === 'POST' || r.method === 'PATCH' : r.method === method);
    for (let i = 0; i < count; i += 1) this.failures.push({ match: matches, failure });
  }

  clearFailures(): void {
    this.failures = [];
    this.alwaysFailSaves = null;
  }

  /** Saves: full (POST) and partial (PATCH). */
  saves(): RecordedRequest[] {
    return this.requests.filter((r) => (r.method === 'POST' || r.method === 'PATCH') && !isCopyRequest(r));
  }

  /** Requests to keep a device copy (POST …/history), answered or not. */
  copyRequests(): RecordedRequest[] {
    return this.requests.filter(isCopyRequest);
  }

  private async keepCopy(request: RecordedRequest): Promise<Response> {
    await Promise.resolve();
    if (this.holdCopies) await this.holdCopies;
    if (this.signedOut) {
      request.status = 401;
      return json(401, { success: false, error: 'Sign in again.', code: 'not_authenticated' });
    }
    if (this.lockedSince) {
      request.status = 423;
      return json(423, { success: false, code: 'workshop_locked', error: 'Completed.', lockedSince: this.lockedSince });
    }
    const index = this.failures.findIndex((f) => f.match(request));
    if (index >= 0) {
      const failure = this.failures.splice(index, 1)[0]!.failure;
      if (failure.kind === 'network') throw new TypeError('Failed to fetch');
      request.status = failure.status;
      return json(failure.status, failure.body ?? { success: false, error: `Failure ${failure.status}`, code: 'x' }, failure.headers);
    }
    const match = /\/api\/workshop-data\/step\/([^/]+)\/([^/]+)\/history$/.exec(request.url);
    const stepKey = match ? `${decodeURIComponent(match[1] ?? '')}:${decodeURIComponent(match[2] ?? '')}` : '';
    const schemaVersion = typeof request.body?.schemaVersion === 'number' ? request.body.schemaVersion : null;
    this.deviceCopies.push({ stepKey, data: request.body?.data as Record<string, unknown>, schemaVersion });
    request.status = 200;
    return json(200, { success: true, kept: true, entry: { version: -this.deviceCopies.length, source: 'device' } });
  }

  patches(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'PATCH');
  }

  private stepKeyOf(request: RecordedRequest): string {
    if (request.method === 'POST') return `${String(request.body?.workshopType)}:${String(request.body?.stepId)}`;
    const match = /\/api\/workshop-data\/step\/([^/]+)\/([^/?]+)/.exec(request.url);
    return match ? `${decodeURIComponent(match[1] ?? '')}:${decodeURIComponent(match[2] ?? '')}` : '';
  }

  private describeSave(request: RecordedRequest): void {
    if (request.method === 'POST') {
      request.document = request.body?.data as Record<string, unknown>;
      request.baseVersion = request.body?.baseVersion as number | undefined;
      return;
    }
    const header = request.headers['If-Match'] ?? request.headers['X-Base-Version'];
    request.baseVersion = header === undefined ? undefined : Number(/\d+/.exec(header)?.[0]);
    const doc = this.docs.get(this.stepKeyOf(request));
    request.document = applyMergePatch(doc?.data ?? {}, request.body) as Record<string, unknown>;
  }

  loads(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'GET');
  }

  put(stepKey: string, data: Record<string, unknown>, version: number, schemaVersion: number | null = null): void {
    this.docs.set(stepKey, { data, version, lastRequestId: null, schemaVersion });
  }

  private load(url: string): Response {
    const match = /\/api\/workshop-data\/step\/([^/]+)\/([^/?]+)/.exec(url);
    const key = match ? `${decodeURIComponent(match[1] ?? '')}:${decodeURIComponent(match[2] ?? '')}` : '';
    const doc = this.docs.get(key);
    return json(200, {
      success: true,
      data: doc ? structuredClone(doc.data) : null,
      version: doc?.version ?? null,
      schemaVersion: doc?.schemaVersion ?? null,
      updatedAt: doc ? '2026-01-01T00:00:00.000000Z' : null,
      locked: this.lockedSince !== null,
      lockedSince: this.lockedSince,
    });
  }

  private save(request: RecordedRequest): Response {
    const body = request.body ?? {};
    const key = this.stepKeyOf(request);
    const doc = this.docs.get(key);
    const base = request.baseVersion;
    const requestId = (request.headers['Idempotency-Key'] ?? body.requestId ?? null) as string | null;
    const current = doc?.version ?? 0;
    if (base !== undefined && base !== current) {
      // A retry of a save that already committed gets its record, not a false conflict.
      if (doc && requestId && doc.lastRequestId === requestId) return this.record(key);
      return json(409, {
        success: false,
        code: 'version_conflict',
        error: 'This step was changed elsewhere since you loaded it.',
        current: { data: doc ? structuredClone(doc.data) : null, version: doc?.version ?? null, schemaVersion: doc?.schemaVersion ?? null, updatedAt: null },
      });
    }
    const data = structuredClone(
      request.method === 'PATCH' ? (applyMergePatch(doc?.data ?? {}, body) as Record<string, unknown>) : (body.data as Record<string, unknown>),
    );
    // As the real server: a POST stores the schema version it names (none: null), a PATCH the
    // one in X-Schema-Version, else keeps the stored one.
    const header = request.headers['X-Schema-Version'];
    const schemaVersion =
      request.method === 'PATCH'
        ? header !== undefined ? Number(header) : (doc?.schemaVersion ?? null)
        : typeof body.schemaVersion === 'number' ? body.schemaVersion : null;
    const changed = !doc || JSON.stringify(doc.data) !== JSON.stringify(data) || (doc.schemaVersion ?? null) !== schemaVersion;
    this.docs.set(key, { data, version: changed ? current + 1 : current, lastRequestId: requestId, schemaVersion });
    return this.record(key);
  }

  private record(key: string): Response {
    const doc = this.docs.get(key)!;
    const [workshopType, stepId] = key.split(':');
    return json(200, {
      success: true,
      saved: true,
      stepId,
      workshopType,
      data: {
        id: 1,
        userId: 1,
        workshopType,
        stepId,
        data: structuredClone(doc.data),
        version: doc.version,
        schemaVersion: doc.schemaVersion ?? null,
        createdAt: '2026-01-01T00:00:00.000000Z',
        updatedAt: `2026-01-01T00:00:${String(doc.version).padStart(2, '0')}.000000Z`,
      },
    });
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** A Storage in memory; `quotaBytes` makes setItem throw like a full localStorage. */
export class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  quotaBytes = Infinity;
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    if (value.length > this.quotaBytes) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    this.items.set(key, value);
  }
}

/** Page events the test fires by hand. */
export class FakeEvents {
  private listeners = new Map<string, Set<() => void>>();
  addEventListener(type: string, listener: () => void): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener);
  }
  removeEventListener(type: string, listener: () => void): void {
    this.listeners.get(type)?.delete(listener);
  }
  fire(type: string): void {
    [...(this.listeners.get(type) ?? [])].forEach((listener) => listener());
  }
  count(type: string): number {
    return this.listeners.get(type)?.size ?? 0;
  }
}

/** BroadcastChannels that deliver to every other channel of the same name in this hub. */
export class ChannelHub {
  readonly posted: { name: string; message: unknown }[] = [];
  private channels: { name: string; channel: { onmessage: ((event: MessageEvent) => void) | null } }[] = [];
  create = (name: string) => {
    const entry = {
      name,
      channel: {
        onmessage: null as ((event: MessageEvent) => void) | null,
        postMessage: (message: unknown) => {
          this.posted.push({ name, message: structuredClone(message) });
          for (const other of this.channels) {
            if (other.name === name && other.channel !== entry.channel) {
              other.channel.onmessage?.({ data: structuredClone(message) } as MessageEvent);
            }
          }
        },
        close: () => {
          this.channels = this.channels.filter((c) => c !== entry);
        },
      },
    };
    this.channels.push(entry);
    return entry.channel;
  };
  /** Deliver a message as another tab would. */
  send(name: string, message: unknown): void {
    for (const other of this.channels) {
      if (other.name === name) other.channel.onmessage?.({ data: structuredClone(message) } as MessageEvent);
    }
  }
}
