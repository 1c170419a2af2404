import { useCallback, useContext, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';

import { WorkshopDataContext } from './context.js';
import { StepDataController } from './stepDataController.js';
import type { StepDataOptions, StepDataState, UseWorkshopStepDataOptions, WorkshopType } from './types.js';

export interface UseWorkshopStepData<T extends object> extends StepDataState<T> {
  /** Change some fields; saved after `debounceMs` of quiet (at most `maxWaitMs` after the first change). */
  updateData: (patch: Partial<T> | ((current: T) => Partial<T>)) => void;
  /** Replace the whole document. */
  setData: (next: T | ((current: T) => T)) => void;
  /** Save now; resolves when the server has answered, with the step's version then (the
   * base for a request made right after, such as a restore). */
  saveNow: () => Promise<number | null>;
  /** Load the server copy again; unsaved local edits are merged over it. */
  reload: () => Promise<void>;
}

/**
 * Persist one workshop step's data for the signed-in participant: loads it, saves every
 * change (debounced, retried, journalled locally, merged on conflict) and keeps tabs in step.
 *
 * `userId` (the signed-in user's id, here or from a `WorkshopDataProvider`) is required: the
 * hook throws without it rather than keep someone's unsaved text under no one's name.
 *
 * `initialData` gives every field its default and is read when the step is (re)opened; a new
 * `workshopType`, `stepId`, `userId` or `baseUrl` starts over (flushing the previous step).
 */
export function useWorkshopStepData<T extends object>(
  workshopType: WorkshopType,
  stepId: string,
  initialData: T,
  options: UseWorkshopStepDataOptions<T> = {},
): UseWorkshopStepData<T> {
  const defaults = useContext(WorkshopDataContext);
  const merged: UseWorkshopStepDataOptions<T> = { ...defaults, ...options };
  // Callbacks and timings are read when used, so they may change on every render.
  const optionsRef = useRef(merged);
  optionsRef.current = merged;
  const userId = merged.userId;
  const baseUrl = merged.baseUrl ?? '';

  const controller = useMemo(
    // The controller throws at once when neither the options nor a provider give a userId.
    () => new StepDataController<T>(workshopType, stepId, initialData, () => optionsRef.current as StepDataOptions<T>),
    // initialData is read once per step on purpose: callers often pass a new literal each render.
    [workshopType, stepId, userId, baseUrl],
  );

  useEffect(() => {
    controller.start();
    return () => controller.dispose();
  }, [controller]);

  const saveNow = useCallback(async () => {
    await controller.saveNow();
    return controller.getSnapshot().version;
  }, [controller]);

  const state = useSyncExternalStore(controller.subscribe, controller.getSnapshot, controller.getSnapshot);
  return {
    ...state,
    updateData: controller.updateData,
    setData: controller.setData,
    saveNow,
    reload: controller.reload,
  };
}
