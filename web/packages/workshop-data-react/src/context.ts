import { createContext, createElement, type ReactNode } from 'react';

import type { StepDataOptions } from './types.js';

/** Options every `useWorkshopStepData` below a `WorkshopDataProvider` starts from. */
export type WorkshopDataDefaults = StepDataOptions<object>;

export const WorkshopDataContext = createContext<WorkshopDataDefaults>({});

/**
 * Give every step below it the same options (typically `userId`, which keys the journal and
 * the tabs' channel, and app-wide `onSaveError`); a hook's own options override them.
 */
export function WorkshopDataProvider({ children, ...defaults }: WorkshopDataDefaults & { children?: ReactNode }) {
  return createElement(WorkshopDataContext.Provider, { value: defaults }, children);
}
