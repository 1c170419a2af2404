import { useCallback, useEffect, useRef, useState } from 'react';

import { HttpError, sharedEventStream, type LiveEvent, type StreamState, type WorkshopType } from 'workshop-data-react';
import { staffApi, type GridParticipant } from './staffApi';

export interface Presence {
  pending: number;
  seenAt: string;
}

/** Without a stream (the server has none, or it is down), the grid is read again this often. */
export const POLL_MS = 10_000;
/** Events about one participant within this time cost one request. */
const ROW_COALESCE_MS = 250;

/** The facilitator's grid of one workshop, kept live: an event about a participant refetches
 * that participant's row only; `resync` refetches everything; with no stream open the whole
 * grid is polled every 10 s. */
export function useLiveGrid(workshopType: WorkshopType, onError: (err: unknown) => void) {
  const [rows, setRows] = useState<GridParticipant[] | null>(null);
  const [presence, setPresence] = useState<Record<number, Presence>>({});
  const [streamState, setStreamState] = useState<StreamState>('connecting');
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const rowTimers = useRef(new Map<number, ReturnType<typeof setTimeout>>());
  const errorRef = useRef(onError);
  errorRef.current = onError;

  const refreshAll = useCallback(() => {
    staffApi.grid(workshopType).then(
      (all) => {
        setRows(all);
        setUpdatedAt(Date.now());
      },
      (err: unknown) => errorRef.current(err),
    );
  }, [workshopType]);

  const refreshRow = useCallback(
    (userId: number) => {
      const timers = rowTimers.current;
      if (timers.has(userId)) return;
      timers.set(
        userId,
        setTimeout(() => {
          timers.delete(userId);
          staffApi.gridRow(workshopType, userId).then(
            (row) => {
              setRows((current) => {
                if (!current) return current;
                const others = current.filter((r) => r.userId !== userId);
                // Not (or no longer) one of mine: the row goes; a new one joins in id order.
                return row ? [...others, row].sort((a, b) => a.userId - b.userId) : others;
              });
              setUpdatedAt(Date.now());
            },
            (err: unknown) => errorRef.current(err),
          );
        }, ROW_COALESCE_MS),
      );
    },
    [workshopType],
  );

  useEffect(() => {
    setRows(null);
    refreshAll();
    const timers = rowTimers.current;
    return () => {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    };
  }, [refreshAll]);

  useEffect(() => {
    const stream = sharedEventStream();
    setStreamState(stream.state);
    const offState = stream.onStateChange(setStreamState);
    const offEvents = stream.subscribe((event: LiveEvent) => {
      switch (event.kind) {
        case 'resync':
          refreshAll();
          break;
        case 'presence':
          setPresence((current) => ({ ...current, [event.userId]: { pending: event.pending, seenAt: event.seenAt } }));
          break;
        default:
          if (event.workshopType === workshopType) refreshRow(event.userId);
      }
    });
    return () => {
      offState();
      offEvents();
    };
  }, [workshopType, refreshAll, refreshRow]);

  // Polling only while there is no stream (offline: nothing to fetch either).
  const polling = streamState === 'unavailable' || streamState === 'connecting';
  useEffect(() => {
    if (!polling) return;
    const timer = setInterval(refreshAll, POLL_MS);
    return () => clearInterval(timer);
  }, [polling, refreshAll]);
  // Back from a gap without events: what changed meanwhile.
  const wasOpen = useRef(false);
  useEffect(() => {
    if (streamState === 'open' && !wasOpen.current && rows !== null) refreshAll();
    wasOpen.current = streamState === 'open';
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [streamState]);

  return { rows, presence, streamState, updatedAt, refreshAll };
}

export function isSessionEnd(err: unknown): boolean {
  return err instanceof HttpError && err.status === 401;
}
