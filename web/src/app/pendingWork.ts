import { createContext, useContext } from 'react';

import { NOTHING_PENDING, type PendingSummary } from 'workshop-data-react';

/** Everything of the participant pending on this device (the package's summary), for every page. */
export const PendingWorkContext = createContext<PendingSummary>(NOTHING_PENDING);

export function usePendingHere(): PendingSummary {
  return useContext(PendingWorkContext);
}
