import { createContext, createElement, type ReactNode } from 'react';

import type { StepDataOptions, UseWorkshopStepDataOptions } from './types.js';

/** Options every `useWorkshopStepData` below a `WorkshopDataProvider` starts from; `userId`
 * (the signed-in user's id) is required. */
export type WorkshopDataDefaults = StepDataOptions<object>;

export const WorkshopDataContext = createContext<UseWorkshopStepDataOptions<object>>({});

/**
 * Give every step below it the same options (`userId`, which keys the journal and the tabs'
 * channel, and app-wide ones such as `onSaveError`); a hook's own options override them.
 */
export function WorkshopDataProvider({ children, ...defaults }: WorkshopDataDefaults & { children?: ReactNode }) {
  return createElement(WorkshopDataContext.Provider, { value: defaults }, children);
}
