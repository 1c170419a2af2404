/**
 * The live events of `GET /api/events`, one stream per browser: the tab holding the Web Lock
 * `workshop-data-events` is the leader; it alone opens the EventSource and passes every event
 * (and whether the stream is open) to the other tabs of the origin on a BroadcastChannel. When
 * the leader closes, the next tab waiting for the lock takes over. Framework-free (no React).
 */

export type LiveEventKind = 'step' | 'progress' | 'participation' | 'presence' | 'resync';

export interface StepEvent { kind: 'step'; userId: number; workshopType: string; stepId: string; version: number; savedAt: string; deviceId: string | null }
export interface ProgressEvent { kind: 'progress'; userId: number; workshopType: string; at: string }
export interface ParticipationEvent { kind: 'participation'; userId: number; workshopType: string; completed: boolean; at: string }
export interface PresenceEvent { kind: 'presence'; userId: number; pending: number; seenAt: string }
export interface ResyncEvent { kind: 'resync'; reason: string }
export type LiveEvent = StepEvent | ProgressEvent | ParticipationEvent | PresenceEvent | ResyncEvent;

/** `open`: events arrive; `connecting`: (re)connecting; `unavailable`: no stream for now (the
 * server has none, refused it, or could not be reached) — show what polling finds; `offline`:
 * the browser is offline, no stream and nothing to show. */
export type StreamState = 'connecting' | 'open' | 'unavailable' | 'offline';

export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  addEventListener(type: string, listener: (ev: { data: string }) => void): void;
  close(): void;
}

export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  close(): void;
}

export interface LocksLike {
  request(name: string, callback: () => Promise<void>): Promise<unknown>;
}

export interface WindowLike {
  addEventListener(type: 'online' | 'offline', listener: () => void): void;
  removeEventListener(type: 'online' | 'offline', listener: () => void): void;
}

export interface EventStreamOptions {
  url?: string;
  createEventSource?: (url: string) => EventSourceLike;
  /** null: this tab works alone (no other tab can hear it). */
  createChannel?: ((name: string) => BroadcastChannelLike) | null;
  /** null: no Web Locks; every tab is its own leader. */
  locks?: LocksLike | null;
  isOnline?: () => boolean;
  window?: WindowLike | null;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  random?: () => number;
  /** The first reconnection's delay; each failure doubles it up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export const EVENT_KINDS: readonly LiveEventKind[] = ['step', 'progress', 'participation', 'presence', 'resync'];
const CLOSED = 2;
const LOCK_NAME = 'workshop-data-events';
const CHANNEL_NAME = 'workshop-data-events';

type ChannelMessage =
  | { type: 'event'; event: LiveEvent }
  | { type: 'state'; state: StreamState }
  | { type: 'hello' };

/** Reads one `data:` line into an event; null for anything malformed. */
export function parseLiveEvent(kind: string, data: string): LiveEvent | null {
  if (!(EVENT_KINDS as readonly string[]).includes(kind)) return null;
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const fields = body as Record<string, unknown>;
  if (kind === 'resync') return { kind, reason: typeof fields.reason === 'string' ? fields.reason : 'unknown' };
  if (typeof fields.userId !== 'number') return null;
  return { ...(fields as object), kind } as LiveEvent;
}

/** The delay before reconnection attempt `failures` (1, 2, …): exponential with full jitter
 * over its upper half, so that many browsers do not all come back at the same moment. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export class EventStream {
  private readonly listeners = new Set<(event: LiveEvent) => void>();
  private readonly stateListeners = new Set<(state: StreamState) => void>();
  private readonly options: Required<Omit<EventStreamOptions, 'createChannel' | 'locks' | 'window'>> &
    Pick<EventStreamOptions, 'createChannel' | 'locks' | 'window'>;
  private channel: BroadcastChannelLike | null = null;
  private source: EventSourceLike | null = null;
  private leader = false;
  private closed = false;
  private failures = 0;
  private retryTimer: unknown = null;
  private releaseLock: (() => void) | null = null;
  private currentState: StreamState = 'connecting';
  private ledBefore = false;
  private heardLeader = false;
  private readonly onOnline = () => this.connectIfLeader();
  private readonly onOffline = () => this.disconnect('offline');

  constructor(options: EventStreamOptions = {}) {
    const g = globalThis as unknown as {
      EventSource?: new (url: string, init?: { withCredentials?: boolean }) => EventSourceLike;
      BroadcastChannel?: new (name: string) => BroadcastChannelLike;
      navigator?: { locks?: LocksLike; onLine?: boolean };
      window?: WindowLike;
    };
    this.options = {
      url: options.url ?? '/api/events',
      createEventSource:
        options.createEventSource ??
        ((url) => {
          if (!g.EventSource) throw new Error('EventSource is not available');
          return new g.EventSource(url, { withCredentials: true });
        }),
      createChannel: options.createChannel !== undefined ? options.createChannel : g.BroadcastChannel ? (name) => new g.BroadcastChannel!(name) : null,
      locks: options.locks !== undefined ? options.locks : (g.navigator?.locks ?? null),
      isOnline: options.isOnline ?? (() => g.navigator?.onLine !== false),
      window: options.window !== undefined ? options.window : (g.window ?? null),
      setTimeout: options.setTimeout ?? ((fn, ms) => setTimeout(fn, ms)),
      clearTimeout: options.clearTimeout ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)),
      random: options.random ?? Math.random,
      baseDelayMs: options.baseDelayMs ?? 1000,
      maxDelayMs: options.maxDelayMs ?? 60_000,
    };
  }

  get state(): StreamState {
    return this.currentState;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** Starts listening (once): joins the other tabs, and becomes the leader when it can. */
  start(): this {
    if (this.closed || this.channel || this.leader || this.releaseLock) return this;
    this.options.window?.addEventListener('online', this.onOnline);
    this.options.window?.addEventListener('offline', this.onOffline);
    const { createChannel, locks } = this.options;
    if (createChannel) {
      this.channel = createChannel(CHANNEL_NAME);
      this.channel.onmessage = (message) => this.fromChannel(message.data as ChannelMessage);
    }
    if (!this.options.isOnline()) this.setState('offline');
    if (locks && this.channel) {
      this.channel.postMessage({ type: 'hello' } satisfies ChannelMessage);
      void locks
        .request(LOCK_NAME, () => {
          if (this.closed) return Promise.resolve();
          return new Promise<void>((release) => {
            this.releaseLock = release;
            this.becomeLeader();
          });
        })
        .catch(() => undefined);
    } else {
      this.becomeLeader();
    }
    return this;
  }

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStateChange(listener: (state: StreamState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Stops for good: closes the stream and lets another tab lead. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.disconnect('unavailable');
    this.options.window?.removeEventListener('online', this.onOnline);
    this.options.window?.removeEventListener('offline', this.onOffline);
    this.leader = false;
    this.releaseLock?.();
    this.releaseLock = null;
    this.channel?.close();
    this.channel = null;
    this.listeners.clear();
    this.stateListeners.clear();
  }

  private becomeLeader(): void {
    this.leader = true;
    // A tab taking over from a leader that closed may have missed events in between.
    if (this.ledBefore || this.heardLeader) this.emit({ kind: 'resync', reason: 'new_leader' }, true);
    this.ledBefore = true;
    this.connectIfLeader();
  }

  private connectIfLeader(): void {
    if (!this.leader || this.closed || this.source) return;
    if (!this.options.isOnline()) {
      this.setState('offline');
      return;
    }
    if (this.retryTimer !== null) {
      this.options.clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.setState(this.failures > 0 ? 'unavailable' : 'connecting');
    let source: EventSourceLike;
    try {
      source = this.options.createEventSource(this.options.url);
    } catch {
      this.setState('unavailable');
      return;
    }
    this.source = source;
    source.onopen = () => {
      this.failures = 0;
      this.setState('open');
    };
    source.onerror = () => {
      if (this.source !== source) return;
      if (source.readyState !== CLOSED) {
        // The browser reconnects by itself (with Last-Event-ID); say so, show no error.
        this.setState('connecting');
        return;
      }
      // Refused (401, 404, 503, …): the browser gives up; try again later, further apart.
      source.close();
      this.source = null;
      this.failures += 1;
      this.setState(this.options.isOnline() ? 'unavailable' : 'offline');
      this.scheduleRetry();
    };
    for (const kind of EVENT_KINDS) {
      source.addEventListener(kind, (message) => {
        const event = parseLiveEvent(kind, message.data);
        if (event) this.emit(event, true);
      });
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== null) return;
    const delay = backoffDelay(this.failures, this.options.baseDelayMs, this.options.maxDelayMs, this.options.random);
    this.retryTimer = this.options.setTimeout(() => {
      this.retryTimer = null;
      this.connectIfLeader();
    }, delay);
  }

  private disconnect(state: StreamState): void {
    if (this.retryTimer !== null) {
      this.options.clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.source?.close();
    this.source = null;
    this.setState(state);
  }

  private fromChannel(message: ChannelMessage): void {
    if (this.closed || typeof message !== 'object' || message === null) return;
    if (message.type === 'hello') {
      if (this.leader) this.channel?.postMessage({ type: 'state', state: this.currentState } satisfies ChannelMessage);
      return;
    }
    if (this.leader) return; // a leader hears only itself
    this.heardLeader = true;
    if (message.type === 'event') {
      this.emit(message.event, false);
    } else if (message.type === 'state') {
      this.setState(message.state, false);
    }
  }

  private emit(event: LiveEvent, share: boolean): void {
    if (share && this.leader) this.channel?.postMessage({ type: 'event', event } satisfies ChannelMessage);
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // One listener's failure is no reason to starve the others.
      }
    }
  }

  private setState(state: StreamState, share = true): void {
    if (share && this.leader) this.channel?.postMessage({ type: 'state', state } satisfies ChannelMessage);
    if (state === this.currentState) return;
    this.currentState = state;
    for (const listener of [...this.stateListeners]) listener(state);
  }
}

let shared: EventStream | null = null;

/** This page's one stream (started on first use); `closeSharedEventStream` ends it (sign-out). */
export function sharedEventStream(): EventStream {
  shared ??= new EventStream().start();
  return shared;
}

export function closeSharedEventStream(): void {
  shared?.close();
  shared = null;
}
