import { useEffect, useMemo, useRef, useSyncExternalStore } from 'react';

import { StepDataController } from './stepDataController';
import type { StepDataOptions, StepDataState, WorkshopType } from './types';

export interface UseWorkshopStepData<T extends object> extends StepDataState<T> {
  /** Change some fields; saved after `debounceMs` of quiet (at most `maxWaitMs` later). */
  updateData: (patch: Partial<T> | ((current: T) => Partial<T>)) => void;
  /** Replace the whole document. */
  setData: (next: T | ((current: T) => T)) => void;
  /** Save at once; resolves when the server has answered. */
  saveNow: () => Promise<void>;
  /** Load the server's copy again; unsaved local changes are merged over it. */
  reload: () => Promise<void>;
}

/**
 * Persist one workshop step's data for the signed-in participant: loads it, saves every
 * change (debounced, retried, journalled locally, merged on conflict) and keeps tabs in step.
 */
export function useWorkshopStepData<T extends object>(
  workshopType: WorkshopType,
  stepId: string,
  initialData: T,
  options: StepDataOptions<T> = {},
): UseWorkshopStepData<T> {
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const initialRef = useRef(initialData);
  const userId = options.userId ?? null;

  const controller = useMemo(
    () => new StepDataController<T>(workshopType, stepId, initialRef.current, () => optionsRef.current),
    [workshopType, stepId, userId],
  );

  useEffect(() => {
    controller.start();
    return () => controller.dispose();
  }, [controller]);

  const state = useSyncExternalStore(controller.subscribe, controller.getSnapshot, controller.getSnapshot);
  return {
    ...state,
    updateData: controller.updateData,
    setData: controller.setData,
    saveNow: controller.saveNow,
    reload: controller.reload,
  };
}
