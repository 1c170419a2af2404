import { useEffect, useRef } from 'react';

import { closeSharedEventStream, followStepEvents, PresenceReporter, sharedEventStream } from 'workshop-data-react';

/** The participant's pages listen: the open step follows saves made on their other devices,
 * and the browser reports how many changes it holds that the server does not have yet (for
 * the facilitator's "not yet saved on their device"). */
export function useLiveSteps(userId: number, pendingTotal: number): void {
  const reporter = useRef<PresenceReporter | null>(null);
  useEffect(() => {
    const stop = followStepEvents(sharedEventStream(), userId);
    const presence = new PresenceReporter();
    reporter.current = presence;
    const wake = () => presence.wake();
    window.addEventListener('online', wake);
    return () => {
      stop();
      presence.stop();
      reporter.current = null;
      window.removeEventListener('online', wake);
      closeSharedEventStream();
    };
  }, [userId]);
  useEffect(() => {
    reporter.current?.report(pendingTotal);
  }, [pendingTotal]);
}
