/**
 * A step's ties to the page around it: the page's events (back online, the page being left or
 * hidden), the keepalive limit of the send made as it is left, and the channel over which the
 * user's tabs tell each other what they saved.
 */
import type { ChannelLike, PageEvents, StepDataOptions } from './types.js';

/** Browsers cap keepalive request bodies at 64 KiB in total; stay under it. */
export const KEEPALIVE_LIMIT_BYTES = 60 * 1024;

/** UTF-8 bytes: what the keepalive limit counts (not UTF-16 units). */
export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** Can `body` go with keepalive? */
export function fitsKeepalive(body: string): boolean {
  return byteLength(body) <= KEEPALIVE_LIMIT_BYTES;
}

/** What a tab that saved tells the user's other tabs. */
export interface BroadcastMessage {
  workshopType: string;
  stepId: string;
  data: Record<string, unknown>;
  version: number;
  /** The schema version `data` is in (null: none declared; absent: an app before them). */
  schemaVersion?: number | null;
}

export interface PageHandlers {
  /** The network is back. */
  online(): void;
  /** The page is being left or hidden: it may be gone before a normal request completes. */
  leaving(): void;
}

/** Follow the page's events; returns what stops following them. */
export function listenToPage(
  events: PageEvents | null,
  page: { visibilityState: string } | null,
  handlers: PageHandlers,
): () => void {
  const onOnline = (): void => handlers.online();
  const onPageHide = (): void => handlers.leaving();
  const onVisibilityChange = (): void => {
    if (page?.visibilityState === 'hidden') handlers.leaving();
  };
  events?.addEventListener('online', onOnline);
  events?.addEventListener('pagehide', onPageHide);
  events?.addEventListener('visibilitychange', onVisibilityChange);
  return () => {
    events?.removeEventListener('online', onOnline);
    events?.removeEventListener('pagehide', onPageHide);
    events?.removeEventListener('visibilitychange', onVisibilityChange);
  };
}

/** The page's events, document and channel a step uses (the options', else the browser's). */
export function pageOf<T extends object>(
  options: StepDataOptions<T>,
): {
  events: PageEvents | null;
  page: { visibilityState: string } | null;
  createChannel: ((name: string) => ChannelLike) | null;
} {
  return {
    events: options.events === undefined ? (typeof window === 'undefined' ? null : window) : options.events,
    page: options.document === undefined ? (typeof document === 'undefined' ? null : document) : options.document,
    createChannel:
      options.createChannel === undefined
        ? typeof BroadcastChannel === 'undefined'
          ? null
          : (name) => new BroadcastChannel(name)
        : options.createChannel,
  };
}

/** The channel of one user's tabs. */
export class TabChannel {
  private constructor(private readonly channel: ChannelLike) {}

  /** Open the user's channel and pass on what the other tabs send; null where none opens. */
  static open(
    createChannel: ((name: string) => ChannelLike) | null,
    userId: string | number | null | undefined,
    onMessage: (raw: unknown) => void,
  ): TabChannel | null {
    if (!createChannel || userId == null) return null;
    try {
      const channel = createChannel(`workshop-data:${userId}`);
      channel.onmessage = (event) => onMessage(event.data);
      return new TabChannel(channel);
    } catch {
      return null;
    }
  }

  post(message: BroadcastMessage): void {
    try {
      this.channel.postMessage(message);
    } catch {
      // A closed channel: the other tabs will see the change on their next save or load.
    }
  }

  close(): void {
    this.channel.close();
  }
}

/** A message about this step from another tab, if `raw` is one. */
export function readBroadcast(raw: unknown, workshopType: string, stepId: string): BroadcastMessage | null {
  if (!raw || typeof raw !== 'object') return null;
  const message = raw as Partial<BroadcastMessage>;
  if (message.workshopType !== workshopType || message.stepId !== stepId) return null;
  if (typeof message.version !== 'number' || !message.data || typeof message.data !== 'object') return null;
  return message as BroadcastMessage;
}
