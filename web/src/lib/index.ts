export { useWorkshopStepData } from './useWorkshopStepData';
export type { UseWorkshopStepData } from './useWorkshopStepData';
export { StepDataController, HttpError, KEEPALIVE_LIMIT_BYTES } from './stepDataController';
export { clearJournal } from './journal';
export { threeWayMerge, jsonEqual } from './merge';
export type {
  ChannelLike,
  ConflictInfo,
  PageEvents,
  SaveStatus,
  StepDataOptions,
  StepDataState,
  StepDocument,
  StepRecord,
  WorkshopType,
} from './types';
